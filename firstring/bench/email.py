"""`firstring bench email`: import a mailbox from a real IMAP server, in messages per second.

Starts Dovecot (Debian's dovecot-imapd) on loopback with a mailbox of its own, appends `--messages`
varied e-mails to it (charsets and transfer encodings, HTML and plain, inline images, attachments,
threads of replies with quotes and signatures, auto-replies and bounces, redeliveries), then times
one `mailbox_poll` importing all of it into a database of its own: fetching over IMAP, parsing,
threading, storing messages, attachments and the originals. Appending and migrating are not timed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from django.test import override_settings
from imapclient import IMAPClient

from firstring.bench._corpus import support_texts
from firstring.bench._database import bench_database
from firstring.channels.email.testing import dovecot_server

_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "000001e221bc330000000049454e44ae426082"
)
_NAMES = ["Jörg Müller", "Søren Ødegård", "Zoë Martín", "山田 太郎", "Carla Customer", "Ana", "Dmitri Иванов"]
_EXTRA = ["Grüße", "“Quoted” \N{EM DASH} dashes", "5 € only", "Ñandú"]


def _mail(rng: random.Random, number: int, text: str, thread: list[str], customer: int) -> bytes:
    """One e-mail of a varied stream; `thread` is the Message-IDs of its thread so far."""
    mail = EmailMessage()
    name = rng.choice(_NAMES)
    mail["From"] = f"{name} <customer{customer}@example.com>"
    mail["To"] = "support@firstring.example"
    mail["Date"] = formatdate(1795000000 + number * 60)
    message_id = f"bench-{number}@mail.example.com"
    mail["Message-ID"] = f"<{message_id}>"
    kind = rng.random()
    subject = f"Order {customer}: {' '.join(text.split()[:5])}"
    if thread:
        mail["Subject"] = f"Re: {subject}"
        mail["In-Reply-To"] = f"<{thread[-1]}>"
        mail["References"] = " ".join(f"<{ref}>" for ref in thread[-5:])
        quoted = f"On Mon, 23 Nov 2026 at 10:00, Support wrote:\n> {text[:80]}\n"
        text = f"{text}\n\nBest regards,\n{name}\n\n{quoted}"
    else:
        mail["Subject"] = subject
    if kind < 0.04:
        mail["Auto-Submitted"] = "auto-replied"
        text = "I am out of the office until Monday."
    charset = rng.choice(["utf-8", "utf-8", "iso-8859-1", "windows-1252"])
    body = text + (" " + rng.choice(_EXTRA) if charset != "utf-8" else " ✓")
    try:
        body.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    if kind < 0.5:
        mail.set_content(body, charset=charset, cte=rng.choice(["quoted-printable", "base64", "8bit"]))
    elif kind < 0.7:
        mail.set_content(f"<html><body><p>{body}</p><div>{name}</div></body></html>", subtype="html")
    else:
        mail.set_content(body, charset=charset)
        mail.add_alternative(f"<p>{body}</p><p><img src='cid:logo{number}@x'></p>", subtype="html")
        if kind < 0.85:
            html = mail.get_body(("html",))
            assert html is not None
            html.add_related(_PNG, "image", "png", cid=f"<logo{number}@x>")
    if rng.random() < 0.1:
        mail.add_attachment(
            (text * 20).encode(), maintype="application", subtype="pdf", filename=f"invoice-{number}.pdf"
        )
    return mail.as_bytes()


def _bounce(number: int, original: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.com\r\nTo: support@firstring.example\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nDate: {formatdate(1795000000)}\r\n"
        f"Message-ID: <bounce-{number}@mx.example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{original}>\r\n\r\n--B--\r\n"
    ).encode()


def build_mailbox(messages: int, seed: int, texts: list[str]) -> list[bytes]:
    """A stream like a support mailbox's: new questions, replies in threads, 2% redeliveries."""
    rng = random.Random(seed)
    raws: list[bytes] = []
    threads: dict[int, list[str]] = {}
    customers = 0
    while len(raws) < messages:
        number = len(raws)
        if raws and rng.random() < 0.02:
            raws.append(rng.choice(raws[-100:]))
            continue
        if number and rng.random() < 0.01:
            raws.append(_bounce(number, f"reply-{number}@firstring.example"))
            continue
        if customers == 0 or rng.random() < 0.4:
            customers += 1
            customer = customers
        else:
            customer = max(1, customers - int(rng.expovariate(1 / 30)))
        thread = threads.setdefault(customer, [])
        if rng.random() < 0.2:
            thread.clear()  # a new question from a known customer
        raws.append(_mail(rng, number, rng.choice(texts), list(thread), customer))
        thread.append(f"bench-{number}@mail.example.com")
    return raws


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench email", description=__doc__)
    parser.add_argument("--messages", type=int, default=5000, help="E-mails in the mailbox.")
    parser.add_argument("--batch", type=int, default=100, help="Messages fetched and stored per transaction.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.messages < 1 or args.batch < 1:
        parser.error("--messages and --batch must be at least 1")

    texts, source = support_texts(args.seed)
    raws = build_mailbox(args.messages, args.seed, texts)
    media = tempfile.mkdtemp(prefix="firstring-bench-media-")
    try:
        with (
            dovecot_server() as server,
            bench_database("email") as vendor,
            override_settings(MEDIA_ROOT=media),
        ):
            client = IMAPClient(server.host, port=server.port, ssl=False, timeout=60)
            client.login(server.username, server.password)
            for raw in raws:
                client.append("INBOX", raw)
            client.logout()

            from firstring.accounts.models import Team
            from firstring.channels.email.imap import mailbox_poll
            from firstring.channels.models import Channel
            from firstring.conversations.models import Attachment, Conversation, Message

            team = Team.objects.create(name="Support", slug="support")
            channel = Channel.objects.create(
                kind="email",
                slug="bench-mailbox",
                name="Support mailbox",
                team=team,
                config={
                    "address": "support@firstring.example",
                    "imap_host": server.host,
                    "imap_port": server.port,
                    "imap_ssl": False,
                    "imap_username": server.username,
                },
                secrets={"imap_password": server.password},
            )
            began = time.perf_counter()
            report = mailbox_poll(channel=channel, batch=args.batch)
            seconds = time.perf_counter() - began
            stored = Message.objects.count()
            conversations = Conversation.objects.count()
            attachments = Attachment.objects.count()
            auto = Message.objects.filter(metadata__auto_submitted=True).count()
    finally:
        shutil.rmtree(media, ignore_errors=True)
    return {
        "benchmark": "email",
        "database": vendor,
        "messages": len(raws),
        "messages_per_second": round(report.fetched / seconds, 1),
        "seconds": round(seconds, 3),
        "batch": args.batch,
        "fetched": report.fetched,
        "created": report.created,
        "redelivered": report.redelivered,
        "rejected": len(report.rejected),
        "stored_messages": stored,
        "conversations": conversations,
        "attachments": attachments,
        "auto_submitted": auto,
        "text_source": source,
    }
