"""Files that come with messages: checked for size before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from firstring.conversations.models import Attachment, Message
from firstring.lib.errors import InvalidInput, TooLarge


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    inline: bool = False


# Files an agent may attach to one reply.
MAX_REPLY_FILES = 10
_CONTENT_TYPE_RE = re.compile(r"^[\w.+-]{1,60}/[\w.+-]{1,60}$")


def attachments_from_uploads(uploads: Sequence[UploadedFile]) -> list[InboundAttachment]:
    """Files uploaded with a reply (API or reply form), each checked for size before it is read."""
    if len(uploads) > MAX_REPLY_FILES:
        raise InvalidInput(f"at most {MAX_REPLY_FILES} files per reply")
    limit = settings.FIRSTRING_MAX_ATTACHMENT_BYTES
    attachments = []
    for upload in uploads:
        # The declared size first, so an oversized file is never loaded into memory.
        if upload.size is None or upload.size > limit:
            raise TooLarge(f"attachment {str(upload.name)[:80]!r} is larger than {limit} bytes")
        content_type = upload.content_type or ""
        attachments.append(
            InboundAttachment(
                filename=(upload.name or "attachment").replace("\x00", ""),
                content=upload.read(),
                content_type=content_type
                if _CONTENT_TYPE_RE.match(content_type)
                else "application/octet-stream",
            )
        )
    return attachments


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
