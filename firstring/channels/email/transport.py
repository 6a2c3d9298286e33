"""Replies by SMTP, threaded under the customer's last e-mail and carrying the conversation token."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import TYPE_CHECKING

from firstring.channels.email.inbound import TOKEN_RE
from firstring.channels.registry import DeliveryError, SendResult

if TYPE_CHECKING:
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message

TIMEOUT_SECONDS = 10.0
_BOUNCE_LOCAL_PARTS = {"mailer-daemon", "mail-delivery-subsystem"}


def reply_subject(subject: str, conversation_id: int) -> str:
    """ "Re: <subject> [#id]", without piling up "Re:"s or tokens."""
    subject = " ".join(subject.split()) or "Your message"
    if not subject.lower().startswith(("re:", "aw:")):
        subject = f"Re: {subject}"
    if not TOKEN_RE.search(subject):
        subject = f"{subject} [#{conversation_id}]"
    return subject


def _last_inbound(message: Message) -> Message | None:
    from firstring.conversations.models import Message as StoredMessage

    return (
        StoredMessage.objects.filter(
            conversation_id=message.conversation_id,
            direction=StoredMessage.Direction.INBOUND,
            channel_id=message.channel_id,
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _refuse_loops(message: Message, last: Message | None, to: str) -> None:
    """Never answer a bounce: that is how mail loops start."""
    if to.split("@", 1)[0].lower() in _BOUNCE_LOCAL_PARTS:
        raise DeliveryError(
            f"{to} is a mail system's bounce address; replies to it are not sent", permanent=True
        )
    email = (last.metadata or {}).get("email", {}) if last is not None else {}
    if (
        email.get("auto") == "bounce"
        and last is not None
        and last.author_customer_id == (message.recipient.customer_id if message.recipient else None)
    ):
        raise DeliveryError(
            "the customer's last e-mail is a bounce; replies to it are not sent", permanent=True
        )


def build_email(*, channel: Channel, message: Message) -> EmailMessage:
    """The reply as MIME: text and HTML alternatives, attachments, threading headers and a new Message-ID."""
    address = str(channel.config.get("address") or "")
    if "@" not in address:
        raise DeliveryError(
            f"channel {channel.slug} has no sending address (config 'address')", permanent=True
        )
    if message.recipient is None or message.recipient.kind != "email":
        raise DeliveryError("the reply has no e-mail recipient", permanent=True)
    to = message.recipient.value
    conversation = message.conversation
    last = _last_inbound(message)
    _refuse_loops(message, last, to)

    mail = EmailMessage()
    from_name = str(channel.config.get("from_name") or channel.name)
    mail["From"] = formataddr((from_name, address))
    mail["To"] = to
    mail["Subject"] = reply_subject(conversation.subject, conversation.pk)
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=address.rsplit("@", 1)[1])
    if last is not None and last.external_id:
        meta = (last.metadata or {}).get("email", {})
        references = [str(ref) for ref in meta.get("references") or []]
        if (
            not references
            and conversation.external_thread
            and conversation.external_thread != last.external_id
        ):
            references = [conversation.external_thread]
        references = [*references[-10:], last.external_id]
        if not last.external_id.startswith("sha256:"):
            mail["In-Reply-To"] = f"<{last.external_id}>"
        mail["References"] = " ".join(f"<{ref}>" for ref in references if not ref.startswith("sha256:"))
    mail.set_content(message.text or " ")
    if message.html:
        mail.add_alternative(f"<!DOCTYPE html><html><body>{message.html}</body></html>", subtype="html")
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            content = handle.read()
        maintype, _, subtype = (attachment.content_type or "application/octet-stream").partition("/")
        if maintype in ("multipart", "message") or not subtype:
            maintype, subtype = "application", "octet-stream"
        mail.add_attachment(
            content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    return mail


def _connect(channel: Channel) -> smtplib.SMTP:
    config = channel.config
    host = str(config.get("smtp_host") or "")
    if not host:
        raise DeliveryError(f"channel {channel.slug} has no smtp_host", permanent=True)
    security = str(config.get("smtp_security") or "starttls").lower()
    port = int(config.get("smtp_port") or {"ssl": 465, "starttls": 587}.get(security, 25))
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if security == "ssl":
        client = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
        if security == "starttls":
            client.starttls(context=context)
    username = str(config.get("smtp_username") or "")
    password = str(channel.secrets.get("smtp_password") or "")
    if username and password:
        client.login(username, password)
    return client


def send(*, channel: Channel, message: Message) -> SendResult:
    mail = build_email(channel=channel, message=message)
    try:
        client = _connect(channel)
        try:
            client.send_message(mail)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(
            f"{code} {text.decode(errors='replace')}" for code, text in error.recipients.values()
        )
        raise DeliveryError(f"recipient refused: {detail}", permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPResponseException as error:
        text = (
            error.smtp_error.decode(errors="replace")
            if isinstance(error.smtp_error, bytes)
            else error.smtp_error
        )
        raise DeliveryError(
            f"SMTP server answered {error.smtp_code} {text}", permanent=error.smtp_code >= 500
        ) from None
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryError(f"SMTP server unreachable: {type(error).__name__}: {error}") from None
    return SendResult(external_id=str(mail["Message-ID"]).strip().strip("<>"), delivered=False)
