"""Inbound e-mail: raw MIME to the receive service's `Inbound`, threaded, with auto-replies flagged.

`parse_email` is pure (bytes in, `ParsedEmail` out). `inbounds_for` resolves threads for a batch with a
few queries and builds the `Inbound`s; `email_receive` is the whole path for one message (the webhook),
`emails_receive` for a batch (a mailbox poll).
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

from django.conf import settings

from firstring.channels.email.text import html_to_lines, latest_reply
from firstring.channels.models import Channel
from firstring.conversations.attachments import InboundAttachment
from firstring.conversations.models import Conversation
from firstring.conversations.models import Message as StoredMessage
from firstring.conversations.services import (
    Inbound,
    ReceiveResult,
    message_mark_delivery,
    receive_messages,
)
from firstring.conversations.services.receive import MAX_TEXT_CHARS
from firstring.customers.identities import IdentityClaim, InvalidIdentity, normalize_email
from firstring.customers.models import Identity
from firstring.lib.errors import DomainError, InvalidInput
from firstring.lib.sanitize import text_to_html

logger = logging.getLogger(__name__)

_MSGID_RE = re.compile(r"<([^<>\s]{1,998})>")
# "[#123]": the conversation token our replies put in the subject.
TOKEN_RE = re.compile(r"\[#(\d{1,18})\]")
_BOUNCE_SENDERS = {"mailer-daemon", "mail-delivery-subsystem"}
_BULK_PRECEDENCE = {"bulk", "auto_reply", "junk", "list"}
# Charsets that mail labels as Latin-1 or ASCII but writes in Windows-1252 (as browsers assume too).
_CHARSET_ALIASES = {"iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252"}
_MAX_REFERENCES = 50
# "Re:", "Fwd:", "AW:", "SV:", "Re[2]:" … in front of a subject, as mail clients in many languages write them.
_REPLY_PREFIX_RE = re.compile(r"^\s*(?:re|fwd?|aw|wg|sv|vs|antw|rif|r)(?:\[\d+\])?\s*:\s*", re.IGNORECASE)


@dataclass
class ParsedEmail:
    """What one e-mail says, decoded; no database involved."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    text: str
    html: str
    # The text and HTML as sent, before quotes and signatures were removed.
    full_text: str
    quote_removed: bool
    references: list[str]
    in_reply_to: str
    date: Any
    auto: str  # "", "auto_reply", "bulk" or "bounce"
    attachments: list[InboundAttachment]
    skipped_attachments: list[str]
    inline_images: dict[str, str]
    bounce: dict[str, Any] = field(default_factory=dict)
    raw: bytes = b""

    @property
    def token(self) -> int | None:
        found = TOKEN_RE.search(self.subject)
        return int(found.group(1)) if found else None


def conversation_subject(subject: str) -> str:
    """A mail's subject as its conversation's: without reply and forward prefixes or our [#id] token."""
    subject = TOKEN_RE.sub("", subject)
    while (stripped := _REPLY_PREFIX_RE.sub("", subject, count=1)) != subject:
        subject = stripped
    return " ".join(subject.split())


def normalize_message_id(value: str) -> str:
    """A Message-ID without its angle brackets, hashed when it would not fit the 255-character columns."""
    value = value.strip().strip("<>").strip()
    if len(value) > 255:
        return "sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()
    return value


def _message_ids(value: str) -> list[str]:
    return [normalize_message_id(found) for found in _MSGID_RE.findall(value or "")]


def _raw(message: Message, name: str) -> str:
    """A header's text as sent, undecoded: enough for ids, dates and flags, and much cheaper to read."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return str(value)
    return ""


def _decoded(value: str) -> str:
    """An RFC 2047 header text (=?charset?q?…?=) decoded; what cannot be decoded stays as sent."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError, HeaderParseError):
        return value


def _content_type(part: Message) -> tuple[str, dict[str, str]]:
    """The part's content type and parameters from one parse of its header (each get_* parses again)."""
    try:
        header = part.get("Content-Type")
        if header is None:
            return part.get_default_type(), {}
        content_type = str(getattr(header, "content_type", "")).lower()
        params = {str(k).lower(): str(v) for k, v in (getattr(header, "params", None) or {}).items()}
    except Exception:  # malformed parameters: read it as the email package would, as text/plain
        return "text/plain", {}
    if content_type.count("/") != 1:
        content_type = "text/plain"
    return content_type, params


def _clean(text: str) -> str:
    # NUL cannot be stored in PostgreSQL text and means nothing in a mail body.
    return text.replace("\x00", "")


def _decode(part: Message, params: dict[str, str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = (params.get("charset") or "us-ascii").lower()
    charset = _CHARSET_ALIASES.get(charset, charset)
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    return _clean(payload.decode(charset, errors="replace"))


def _filename(part: Message, fallback: str) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return _clean(str(name or fallback))[:200]


class _Walk:
    """Collects the body parts and attachments of one message, without descending into attached mails."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[InboundAttachment] = []
        self.skipped: list[str] = []
        self.inline_images: dict[str, str] = {}
        self.report_parts: list[Message] = []

    def visit(self, part: Message, *, in_report: bool = False) -> None:
        content_type, params = _content_type(part)
        if content_type.startswith("multipart/"):
            report = content_type == "multipart/report"
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else []:  # a multipart without parts: nothing
                if isinstance(child, Message):
                    self.visit(child, in_report=in_report or report)
            return
        if in_report and content_type in ("message/delivery-status", "message/rfc822", "text/rfc822-headers"):
            self.report_parts.append(part)
        disposition = (part.get_content_disposition() or "").lower()
        if content_type in ("text/plain", "text/html") and disposition != "attachment":
            (self.html if content_type == "text/html" else self.plain).append(_decode(part, params))
            return
        self._attach(part, content_type, disposition)

    def _attach(self, part: Message, content_type: str, disposition: str) -> None:
        if content_type == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            content = inner.as_bytes(policy=policy.SMTP) if isinstance(inner, Message) else b""
            name = _filename(part, "attached-message.eml")
        elif isinstance(part.get_payload(), list):  # message/delivery-status and the like: header blocks
            blocks = [block for block in part.get_payload() if isinstance(block, Message)]
            content = b"\n".join(block.as_bytes(policy=policy.SMTP) for block in blocks)
            name = _filename(part, f"part-{len(self.attachments) + 1}.txt")
        else:
            decoded = part.get_payload(decode=True)
            content = decoded if isinstance(decoded, bytes) else b""
            extension = mimetypes.guess_extension(content_type) or ""
            name = _filename(part, f"part-{len(self.attachments) + 1}{extension}")
        if not content:
            return
        if len(content) > self.limit:
            self.skipped.append(f"{name} ({len(content)} bytes)")
            return
        content_id = _raw(part, "Content-ID").strip().strip("<>")
        inline = bool(content_id) and content_type.startswith("image/") and disposition != "attachment"
        if inline:
            self.inline_images[content_id] = name
        self.attachments.append(
            InboundAttachment(filename=name, content=content, content_type=content_type, inline=inline)
        )


def _auto_kind(message: Message, sender: str) -> str:
    content_type, params = _content_type(message)
    if content_type == "multipart/report" and "delivery-status" in params.get("report-type", ""):
        return "bounce"
    if sender.split("@", 1)[0] in _BOUNCE_SENDERS or _raw(message, "X-Failed-Recipients"):
        return "bounce"
    auto_submitted = _raw(message, "Auto-Submitted").strip().lower()
    if (auto_submitted and auto_submitted != "no") or _raw(message, "X-Autoreply"):
        return "auto_reply"
    if _raw(message, "X-Autorespond") or _raw(message, "X-Auto-Response-Suppress").lower() == "all":
        return "auto_reply"
    precedence = _raw(message, "Precedence").strip().lower()
    if precedence == "auto_reply":
        return "auto_reply"
    if precedence in _BULK_PRECEDENCE:
        return "bulk"
    return ""


def _bounce_details(parts: Sequence[Message]) -> dict[str, Any]:
    """The failed recipient, status and the bounced message's Message-ID from a delivery report."""
    details: dict[str, Any] = {}
    for part in parts:
        content_type = part.get_content_type()
        payload = part.get_payload()
        if content_type == "message/delivery-status" and isinstance(payload, list):
            for block in payload:
                if not isinstance(block, Message):
                    continue
                for key, name in (
                    ("Final-Recipient", "recipient"),
                    ("Status", "status"),
                    ("Diagnostic-Code", "diagnostic"),
                ):
                    value = _raw(block, key)
                    if value and name not in details:
                        details[name] = _clean(value.split(";", 1)[-1].strip())[:500]
        elif (
            content_type == "message/rfc822"
            and isinstance(payload, list)
            and payload
            and isinstance(payload[0], Message)
        ):
            ids = _message_ids(_raw(payload[0], "Message-ID"))
            if ids:
                details["original_message_id"] = ids[0]
        elif content_type == "text/rfc822-headers":
            decoded = part.get_payload(decode=True)
            headers = BytesParser(policy=policy.default).parsebytes(
                decoded if isinstance(decoded, bytes) else b"", headersonly=True
            )
            ids = _message_ids(_raw(headers, "Message-ID"))
            if ids:
                details["original_message_id"] = ids[0]
    return details


def _sender(message: Message) -> tuple[str, str]:
    # From the raw header (the email package's address parser is slow), decoding the name only.
    for name in ("From", "Sender", "Reply-To"):
        for display, address in getaddresses([_raw(message, name)]):
            if address and "@" in address:
                try:
                    return normalize_email(address), _clean(" ".join(_decoded(display).split()))[:200]
                except InvalidIdentity:
                    continue
    raise InvalidInput("the e-mail has no valid sender address (From)")


def parse_email(raw: bytes, *, languages: tuple[str, ...] = ("en", "de")) -> ParsedEmail:
    """Decode one e-mail. Raises InvalidInput when it has no sender or no content at all."""
    if not raw.strip():
        raise InvalidInput("the e-mail is empty")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as error:  # the parser is lenient; anything it raises means garbage
        raise InvalidInput(f"the e-mail cannot be parsed: {type(error).__name__}") from None
    sender, sender_name = _sender(message)
    limit = settings.FIRSTRING_MAX_ATTACHMENT_BYTES
    walk = _Walk(limit)
    try:
        walk.visit(message)
    except Exception:  # the email package on a structure nobody foresaw: refuse the mail, loudly
        logger.exception("cannot take apart the parts of an e-mail from %s", sender)
        raise InvalidInput("the e-mail's parts cannot be read") from None
    auto = _auto_kind(message, sender)

    html = "\n".join(part.strip() for part in walk.html if part.strip())
    plain = "\n\n".join(part.strip() for part in walk.plain if part.strip())
    full_text = plain or (html_to_lines(html) if html else "")
    text, quote_removed = latest_reply(full_text, languages) if full_text else ("", False)
    if quote_removed:
        # The shown HTML follows the shown text; the whole message stays in original.eml.
        html = text_to_html(text)
    if not text and not html and not walk.attachments:
        raise InvalidInput("the e-mail has no text, HTML or attachment")

    message_ids = _message_ids(_raw(message, "Message-ID"))
    own_id = message_ids[0] if message_ids else "sha256:" + hashlib.sha256(raw).hexdigest()
    in_reply_to = next(iter(_message_ids(_raw(message, "In-Reply-To"))), "")
    references = _message_ids(_raw(message, "References"))
    if in_reply_to and in_reply_to not in references:
        references.append(in_reply_to)
    bounce = _bounce_details(walk.report_parts) if auto == "bounce" else {}
    if bounce.get("original_message_id") and bounce["original_message_id"] not in references:
        references.append(bounce["original_message_id"])
    if len(references) > _MAX_REFERENCES:
        references = references[:1] + references[-(_MAX_REFERENCES - 1) :]
    try:
        date = parsedate_to_datetime(_raw(message, "Date")) if _raw(message, "Date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    return ParsedEmail(
        message_id=own_id,
        sender=sender,
        sender_name=sender_name,
        subject=_clean(" ".join(_decoded(_raw(message, "Subject")).split()))[:255],
        text=text[:MAX_TEXT_CHARS],
        html=html[: MAX_TEXT_CHARS * 2],
        full_text=full_text,
        quote_removed=quote_removed,
        references=[ref for ref in references if ref != own_id],
        in_reply_to=in_reply_to,
        date=date,
        auto=auto,
        attachments=walk.attachments,
        skipped_attachments=walk.skipped,
        inline_images=walk.inline_images,
        bounce=bounce,
        raw=raw,
    )


def _threads(channel: Channel, emails: Sequence[ParsedEmail]) -> list[str]:
    """Each e-mail's thread key: the root Message-ID of its thread, in two queries for the batch.

    A subject token "[#id]" of a conversation on this channel whose customer has the sender's address
    wins; then the conversation of the latest referenced message we stored (inbound or our reply); then
    a message earlier in the batch; then the first reference; then the message's own id.
    """
    referenced = {ref for email in emails for ref in email.references}
    known: dict[str, str] = {}
    if referenced:
        known = {
            external_id: thread
            for external_id, thread in StoredMessage.objects.filter(
                channel=channel, external_id__in=referenced
            ).values_list("external_id", "conversation__external_thread")
            if thread and external_id
        }
    tokens = {email.token for email in emails if email.token is not None}
    by_token: dict[tuple[int, str], str] = {}
    if tokens:
        for pk, thread, address in Conversation.objects.filter(
            pk__in=tokens,
            channel=channel,
            customer__identities__kind=Identity.Kind.EMAIL,
            customer__identities__value__in={email.sender for email in emails},
        ).values_list("pk", "external_thread", "customer__identities__value"):
            if thread:
                by_token[(pk, address)] = thread
    threads: list[str] = []
    in_batch: dict[str, str] = {}
    for email in emails:
        thread = by_token.get((email.token, email.sender), "") if email.token is not None else ""
        for ref in reversed(email.references):
            if thread:
                break
            thread = known.get(ref) or in_batch.get(ref, "")
        if not thread:
            thread = email.references[0] if email.references else email.message_id
        in_batch.setdefault(email.message_id, thread)
        threads.append(thread)
    return threads


def _metadata(email: ParsedEmail) -> dict[str, Any]:
    data: dict[str, Any] = {
        "message_id": email.message_id,
        "references": email.references[-20:],
        "in_reply_to": email.in_reply_to,
    }
    if email.date is not None:
        # As the sender's clock says; the message is stored as received now, so a wrong or forged
        # Date cannot reorder a conversation or its waiting times.
        data["date"] = email.date.isoformat()
    if email.quote_removed:
        data["quote_removed"] = True
    if email.auto:
        data["auto"] = email.auto
    if email.bounce:
        data["bounce"] = email.bounce
    if email.inline_images:
        data["inline_images"] = email.inline_images
    if email.skipped_attachments:
        data["skipped_attachments"] = email.skipped_attachments[:20]
    metadata: dict[str, Any] = {"email": data}
    if email.auto:
        # Channel-neutral: automations (acknowledgements, rules) must never answer such a message.
        metadata["auto_submitted"] = True
    return metadata


def inbounds_for(channel: Channel, emails: Sequence[ParsedEmail]) -> list[Inbound]:
    """The receive service's view of parsed e-mails, threaded; the raw message kept as original.eml."""
    limit = settings.FIRSTRING_MAX_ATTACHMENT_BYTES
    inbounds = []
    for email, thread in zip(emails, _threads(channel, emails), strict=True):
        attachments = list(email.attachments)
        metadata = _metadata(email)
        if len(email.raw) <= limit:
            attachments.append(InboundAttachment("original.eml", email.raw, "message/rfc822"))
        else:
            metadata["email"]["original_kept"] = False
        inbounds.append(
            Inbound(
                channel=channel,
                claims=[IdentityClaim(Identity.Kind.EMAIL, email.sender)],
                text=email.text,
                html=email.html,
                external_id=email.message_id,
                thread=thread,
                subject=conversation_subject(email.subject),
                name=email.sender_name,
                metadata=metadata,
                attachments=attachments,
            )
        )
    return inbounds


def _mark_bounced(channel: Channel, emails: Sequence[ParsedEmail]) -> None:
    """A bounce of one of our replies marks that reply failed, with the server's reason."""
    for email in emails:
        original = email.bounce.get("original_message_id")
        if email.auto == "bounce" and original:
            reason = email.bounce.get("diagnostic") or email.bounce.get("status") or "bounced"
            message_mark_delivery(
                channel=channel, external_id=original, status=StoredMessage.Delivery.FAILED, error=reason
            )


def channel_languages(channel: Channel) -> tuple[str, ...]:
    languages = channel.config.get("reply_languages") or ["en", "de"]
    return tuple(str(language) for language in languages)


def email_receive(*, channel: Channel, raw: bytes) -> ReceiveResult:
    """Parse, thread and store one e-mail. Raises InvalidInput or TooLarge and stores nothing on bad input."""
    email = parse_email(raw, languages=channel_languages(channel))
    result = receive_messages(inbounds_for(channel, [email]))[0]
    if result.created:
        _mark_bounced(channel, [email])
    return result


@dataclass
class BatchOutcome:
    created: int = 0
    redelivered: int = 0
    rejected: list[str] = field(default_factory=list)


def emails_receive(*, channel: Channel, raws: Sequence[bytes]) -> BatchOutcome:
    """Store a batch of e-mails in one transaction; a message that cannot be stored is logged and skipped.

    Mailboxes hold whatever anybody sent: one bad message must not hold up the others. When the batch
    fails as a whole, its messages are tried one at a time so that only the bad one is left out.
    """
    outcome = BatchOutcome()
    languages = channel_languages(channel)
    emails: list[ParsedEmail] = []
    for raw in raws:
        try:
            emails.append(parse_email(raw, languages=languages))
        except DomainError as error:
            outcome.rejected.append(str(error))
    stored: list[tuple[ParsedEmail, ReceiveResult]] = []
    try:
        if emails:
            stored = list(zip(emails, receive_messages(inbounds_for(channel, emails)), strict=True))
    except DomainError:
        for email in emails:
            try:
                stored.append((email, receive_messages(inbounds_for(channel, [email]))[0]))
            except DomainError as error:
                logger.warning("e-mail %s on %s not stored: %s", email.message_id, channel.slug, error)
                outcome.rejected.append(f"{email.message_id}: {error}")
    for _, result in stored:
        if result.created:
            outcome.created += 1
        else:
            outcome.redelivered += 1
    _mark_bounced(channel, [email for email, result in stored if result.created])
    return outcome
