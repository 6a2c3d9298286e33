"""The generic API channel: any system pushes messages in with POST /api/v1/inbound.

Replies are delivered by POSTing JSON to the channel's `callback_url`, signed with HMAC-SHA256 of the
body under the channel's `signing_secret` (header X-Firstring-Signature: sha256=<hex>).
"""

from firstring.channels.api.transport import send
from firstring.channels.registry import ChannelKind, register

register(ChannelKind(kind="api", label="API", icon="⚙", sender=send))
