"""The e-mail channel: mailboxes polled over IMAP or fed by a raw-MIME webhook; replies by SMTP.

One `Channel` with kind "email" is one mailbox, tied to the team that answers it.

`config` (plain settings, edited in the admin as JSON):
  address        the mailbox's address; replies come from it (required to send)
  from_name      the name replies come from (default: the channel's name)
  smtp_host, smtp_port, smtp_security ("starttls" (default, port 587), "ssl" (465) or "none" (25)),
  smtp_username  where and how replies are sent
  imap_host, imap_port, imap_ssl (default true; port 993, or 143 without), imap_starttls,
  imap_username, imap_folder (default INBOX)
                 the mailbox to poll; channels without imap_host are not polled
  poll_seconds   how often the worker polls the mailbox (default 60)
  reply_languages  languages of "On … wrote:" lines to strip from replies (default ["en", "de"])

`secrets` (write-only in the admin):
  imap_password  the mailbox's password
  smtp_password  the SMTP login's password
  webhook_token  the token a mail server sends in X-Firstring-Token to
                 POST /channels/email/<slug>/inbound (raw message/rfc822 body)

`state` (kept by the poller): imap.uidvalidity, imap.last_uid, imap.polled_at, imap.error.

Threading: the conversation's thread key is the thread's root Message-ID; replies carry In-Reply-To,
References and "[#<conversation id>]" in the subject, and a mail naming either joins its conversation.
Auto-replies and bounces are stored with `metadata["auto_submitted"]` and never answered.
"""

from firstring.channels.email.transport import send
from firstring.channels.registry import ChannelKind, register

SETUP_HELP = """\
Connect a mailbox:
1. Kind "email", a team, and config such as
   {"address": "support@example.com", "imap_host": "imap.example.com", "imap_username": "support@example.com",
    "smtp_host": "smtp.example.com", "smtp_username": "support@example.com"}
2. Secrets: imap_password and smtp_password (an app password where the provider asks for one).
3. A worker (`firstring worker`) polls the mailbox every poll_seconds (60); `firstring mail poll` polls now,
   `firstring mail watch --channel <slug>` waits in IMAP IDLE.
Or, instead of IMAP, let your mail server pipe each message to the webhook: set the secret webhook_token and
POST the raw message to /channels/email/<slug>/inbound with header X-Firstring-Token: <webhook_token>
(e.g. curl --data-binary @- -H "X-Firstring-Token: …" -H "Content-Type: message/rfc822" <url>).
"""


def _poll() -> object:
    from firstring.channels.email.imap import mailboxes_poll_due

    return mailboxes_poll_due()


register(
    ChannelKind(
        kind="email",
        label="E-mail",
        icon="✉",
        sender=send,
        poll=_poll,
        setup_help=SETUP_HELP,
        survey_way="link",
    )
)
