"""Replies to conversations started from mentions go back through the source's API.

A mention turned into a conversation lands in the channel `listening-<network>` of kind "social";
this plug-in (listed in FIRSTRING_CHANNEL_PLUGINS) registers that kind's sender. The outbox calls it
like any channel's: it answers the conversation's latest mention through its source kind's `reply`
(a public reply, or a private one when the message's metadata says `private`), and the reply is the
conversation's outbound message, recorded with the network's id of what was posted.
"""

from firstring.channels.registry import ChannelKind, register
from firstring.listening.replies.transport import send

register(
    ChannelKind(
        kind="social",
        label="Social",
        icon="#",
        sender=send,
        setup_help=(
            "Made when an agent turns a mention into a conversation. Replies go back through the "
            "mention's source (Mastodon, X) with the source's tokens; sources without a reply API "
            "(Bluesky, feeds, Reddit) refuse them with the reason."
        ),
    )
)
