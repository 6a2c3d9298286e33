"""Files and images of an article: checked by their content, not by the name or type they claim."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from firstring.accounts.models import User
from firstring.knowledge.models import Article, ArticleAttachment
from firstring.knowledge.services._checks import require_editor
from firstring.lib.errors import InvalidInput, TooLarge

MAX_IMAGE_SIDE = 8000


@dataclass(frozen=True)
class Sniffed:
    content_type: str
    extension: str
    width: int | None = None
    height: int | None = None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def sniff(data: bytes) -> Sniffed:
    """What a file is, from its first bytes; InvalidInput for anything we do not serve."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return Sniffed("image/png", "png", width, height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return Sniffed("image/gif", "gif", width, height)
    if data.startswith(b"\xff\xd8\xff"):
        size = _jpeg_size(data)
        if size is None:
            raise InvalidInput("the JPEG image is damaged")
        return Sniffed("image/jpeg", "jpg", *size)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Sniffed("image/webp", "webp")
    if data.startswith(b"%PDF-"):
        return Sniffed("application/pdf", "pdf")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml", b"<!doctype", b"<html")):
        raise InvalidInput("SVG and HTML files are not accepted: they can carry scripts")
    raise InvalidInput("only PNG, JPEG, GIF and WebP images and PDF files are accepted")


def attachment_add(*, actor: User, article: Article, upload: UploadedFile) -> ArticleAttachment:
    """Store an uploaded file for `article` after checking its size and what it really is."""
    require_editor(actor)
    limit = settings.FIRSTRING_KB_MAX_ATTACHMENT_BYTES
    if upload.size is None or upload.size > limit:
        raise TooLarge(f"a knowledge base file may be at most {limit // 1024} kB")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"a knowledge base file may be at most {limit // 1024} kB")
    kind = sniff(data)
    if (kind.width is not None and kind.height is not None) and not (
        0 < kind.width <= MAX_IMAGE_SIDE and 0 < kind.height <= MAX_IMAGE_SIDE
    ):
        raise TooLarge(f"an image may be at most {MAX_IMAGE_SIDE} pixels on each side")
    stem = "".join(c for c in (upload.name or "file").rsplit(".", 1)[0] if c.isalnum() or c in "-_")[:80]
    filename = f"{stem or 'file'}.{kind.extension}"
    with transaction.atomic():
        row = ArticleAttachment(
            article=article,
            filename=filename,
            content_type=kind.content_type,
            size=len(data),
            width=kind.width,
            height=kind.height,
            uploaded_by=actor,
        )
        row.file.save(filename, ContentFile(data), save=False)
        row.save()
    return row
