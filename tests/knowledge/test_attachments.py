"""Files and images of articles: checked by content and size, served only to who may read the article."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from firstring.knowledge.models import Article, ArticleAttachment
from firstring.knowledge.services import article_create, attachment_add
from firstring.lib.errors import InvalidInput, TooLarge


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(min(height, 4)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_images_are_stored_with_their_size_and_served_to_visitors_of_public_articles(manager, publish):
    t = publish("With a picture", "text")
    row = attachment_add(
        actor=manager,
        article=t.article,
        upload=SimpleUploadedFile("shot.svg.png", png(3, 2), "image/svg+xml"),
    )
    assert (row.content_type, row.width, row.height, row.filename) == ("image/png", 3, 2, "shotsvg.png")
    response = Client().get(f"/help/files/{row.pk}/{row.filename}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert (
        response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    )
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


def test_files_of_drafts_and_internal_articles_are_staff_only(manager, agent, section, publish):
    draft = article_create(actor=manager, section=section, language="en", title="Draft", body="")
    internal = publish("Internal", "x", visibility=Article.Visibility.INTERNAL)
    for article in (draft.article, internal.article):
        row = attachment_add(actor=manager, article=article, upload=SimpleUploadedFile("a.png", png()))
        assert Client().get(f"/help/files/{row.pk}/a.png").status_code == 404
        staff = Client()
        staff.force_login(agent)
        assert staff.get(f"/help/files/{row.pk}/a.png").status_code == 200


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>',
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00 an executable",
        b"\xff\xd8\xff\xe0 broken jpeg",
    ],
)
def test_anything_but_images_and_pdf_is_refused(manager, publish, content):
    t = publish("x", "y")
    with pytest.raises(InvalidInput):
        attachment_add(
            actor=manager, article=t.article, upload=SimpleUploadedFile("x.png", content, "image/png")
        )
    assert not ArticleAttachment.objects.exists()


def test_oversized_files_and_images_are_refused(manager, publish, settings):
    t = publish("x", "y")
    with pytest.raises(TooLarge):
        attachment_add(actor=manager, article=t.article, upload=SimpleUploadedFile("big.png", png(9000, 10)))
    settings.FIRSTRING_KB_MAX_ATTACHMENT_BYTES = 100
    with pytest.raises(TooLarge):
        attachment_add(
            actor=manager, article=t.article, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4" + b"x" * 200)
        )
    assert not ArticleAttachment.objects.exists()


def test_upload_through_the_staff_page(manager, agent, publish):
    t = publish("x", "y")
    staff = Client()
    staff.force_login(manager)
    ok = staff.post(f"/kb/a/{t.article_id}/attach/", {"file": SimpleUploadedFile("a.png", png())})
    assert ok.status_code == 302 and ArticleAttachment.objects.count() == 1
    bad = staff.post(f"/kb/a/{t.article_id}/attach/", {"file": SimpleUploadedFile("a.svg", b"<svg/>")})
    assert bad.status_code == 422
    assert staff.post(f"/kb/a/{t.article_id}/attach/", {}).status_code == 422
    reader = Client()
    reader.force_login(agent)
    assert (
        reader.post(f"/kb/a/{t.article_id}/attach/", {"file": SimpleUploadedFile("a.png", png())}).status_code
        == 403
    )
