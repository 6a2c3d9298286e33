"""The live web chat: a widget any site embeds with one script tag, talking to Firstring over a websocket.

One `Channel` with kind "chat" is one widget (one site or product), tied to the team that answers it.

Embed it with (the exact tag, with this installation's address, is on the channel's admin page):

    <script src="https://firstring.example.com/channels/webchat/widget.js" data-channel="SLUG" async>
    </script>

`config` (plain settings, edited in the admin as JSON):
  allowed_origins   the sites that may embed the widget, e.g. ["https://www.example.com"]; a page on any
                    other origin is refused (close code 4403). ["*"] allows every origin.
  title             the widget's heading (default: the channel's name)
  greeting          the first line a visitor reads (default "Hi! How can we help?")
  color             the launcher's and header's colour, "#rrggbb" (default "#2563eb")
  prechat           ask before the first message, e.g. {"name": "required", "email": "optional"};
                    the address a visitor types is shown to agents but never links them to a customer
  offline_channel   the slug of an e-mail channel: when no agent of the team is available, the widget asks
                    for an e-mail address and the message becomes a conversation on that channel, answered
                    by e-mail (without it the chat stays open and is answered when an agent is back)
  identity_namespace  the namespace of verified user ids (default: the channel's slug); channels of one site
                    that share it share their users' histories

`secrets` (write-only in the admin):
  identity_secret   the key a site signs its signed-in users with: the page passes data-user-id (or
                    data-email) and data-user-hash = hex(HMAC-SHA256(identity_secret, that value)); the chat
                    then joins that customer's history. A wrong hash is refused (close code 4403) and a
                    claim without a hash never joins anybody's history.

`state`: nothing; what a visitor has seen lives in their browser.

Files: the widget POSTs them to /channels/webchat/<slug>/upload (multipart, from an allowed origin, with
the visitor's token; at most FIRSTRING_MAX_ATTACHMENT_BYTES); they are stored as the visitor's message
through the receive service and offered back as download links (/channels/webchat/files/<signed id>).

Visitors are identified by a token signed with the server's SECRET_KEY, kept in a first-party cookie of the
embedding site. The wire protocol and close codes are described in `consumers.py`.
"""

from firstring.channels.registry import ChannelKind, register
from firstring.channels.webchat.transport import send

SETUP_HELP = """\
Embed the chat on a site:
1. Kind "chat", a team, and config such as
   {"allowed_origins": ["https://www.example.com"], "greeting": "Hi! How can we help?",
    "offline_channel": "<slug of an e-mail channel>"}
2. Paste this tag into every page, before </body> (the address is where this Firstring is served):
   <script src="https://<firstring host>/channels/webchat/widget.js" data-channel="<slug>" async></script>
   The page /channels/webchat/<slug>/ (signed in as staff) shows the tag with this installation's
   address and tries the widget out.
3. Signed-in users of your site (optional): set the secret identity_secret, and add to the tag
   data-user-id="<your user id>" (or data-email="<their address>") and
   data-user-hash="<hex HMAC-SHA256 of that value under identity_secret, computed on your server>".
   Their chats then join their customer history; without a valid hash they stay anonymous visitors.
"""

register(
    ChannelKind(
        kind="chat",
        label="Web chat",
        icon="💬",
        sender=send,
        setup_help=SETUP_HELP,
        live=True,
        survey_way="card",
    )
)
