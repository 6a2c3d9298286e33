"""Files that come with messages: checked for size before anything is stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile

from firstring.conversations.models import Attachment, Message
from firstring.lib.errors import TooLarge


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    inline: bool = False


def check_attachment_sizes(attachments: Sequence[InboundAttachment]) -> None:
    limit = settings.FIRSTRING_MAX_ATTACHMENT_BYTES
    for attachment in attachments:
        if len(attachment.content) > limit:
            raise TooLarge(f"attachment {attachment.filename[:80]!r} is larger than {limit} bytes")


def store_attachment(message: Message, attachment: InboundAttachment) -> Attachment:
    return store_attachments([(message, attachment)])[0]


def store_attachments(pairs: Sequence[tuple[Message, InboundAttachment]]) -> list[Attachment]:
    """Write the files, then insert their rows at once (a mailbox poll brings thousands)."""
    rows = []
    for message, attachment in pairs:
        name = safe_filename(attachment.filename)
        stored = Attachment(
            message=message,
            filename=name,
            content_type=attachment.content_type[:127] or "application/octet-stream",
            size=len(attachment.content),
            inline=attachment.inline,
        )
        stored.file.save(name, ContentFile(attachment.content), save=False)
        rows.append(stored)
    return Attachment.objects.bulk_create(rows)


def safe_filename(filename: str) -> str:
    """A file name without directories, leading dots or characters a file system might mind."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".")
    cleaned = "".join(ch for ch in base if ch.isalnum() or ch in "-_. ")[:120]
    return cleaned or "attachment"
