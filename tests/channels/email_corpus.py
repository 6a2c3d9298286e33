"""Test e-mails built the way real mail clients and servers write them: charsets, encodings, parts."""

from __future__ import annotations

import base64
import quopri
from email.message import EmailMessage
from email.utils import formatdate

# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def headers(
    *,
    sender: str = "Carla Customer <carla@example.com>",
    subject: str = "My order",
    message_id: str = "m1@mail.example.com",
    extra: str = "",
) -> str:
    return (
        f"From: {sender}\r\nTo: support@firstring.example\r\nSubject: {subject}\r\n"
        f"Date: {formatdate(1795500000)}\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n{extra}"
    )


def plain(
    text: str = "Hello, my order has not arrived.",
    *,
    charset: str = "utf-8",
    encoding: str = "8bit",
    **kwargs: str,
) -> bytes:
    """A single text/plain body in the given charset and transfer encoding, as raw bytes."""
    body = text.encode(charset)
    if encoding == "base64":
        body = base64.encodebytes(body)
    elif encoding == "quoted-printable":
        body = quopri.encodestring(body)
    head = headers(**kwargs) + (
        f"Content-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode("ascii") + body.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def message(
    *,
    text: str | None = "Hello, my order has not arrived.",
    html: str | None = None,
    sender: str = "Carla Customer <carla@example.com>",
    subject: str = "My order",
    message_id: str = "m1@mail.example.com",
    in_reply_to: str = "",
    references: str = "",
    extra_headers: dict[str, str] | None = None,
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    inline_images: dict[str, bytes] | None = None,
) -> bytes:
    """A message as a modern client writes it: multipart/alternative, related images, attachments."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "support@firstring.example"
    mail["Subject"] = subject
    mail["Date"] = formatdate(1795500000)
    mail["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        mail["References"] = references
    for name, value in (extra_headers or {}).items():
        mail[name] = value
    if text is not None:
        mail.set_content(text)
    if html is not None:
        if text is None:
            mail.set_content(html, subtype="html")
        else:
            mail.add_alternative(html, subtype="html")
        if inline_images:
            html_part = mail.get_body(("html",))
            assert html_part is not None
            for cid, content in inline_images.items():
                html_part.add_related(content, "image", "png", cid=f"<{cid}>")
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()


def bounce(*, original_message_id: str, recipient: str = "carla@example.com") -> bytes:
    """A delivery status notification (RFC 3464) as Postfix writes it."""
    return (
        "From: MAILER-DAEMON@mx.firstring.example (Mail Delivery System)\r\n"
        "To: support@firstring.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {formatdate(1795500000)}\r\nMessage-ID: <bounce-1@mx.firstring.example>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\r\n\r\n'
        "--BOUNDARY\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.firstring.example\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n\r\n"
        "--BOUNDARY\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: Support <support@firstring.example>\r\nTo: {recipient}\r\n"
        f"Subject: Re: My order\r\nMessage-ID: <{original_message_id}>\r\n\r\n"
        "--BOUNDARY--\r\n"
    ).encode()
