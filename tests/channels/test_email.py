"""The e-mail channel's inbound side through the real webhook and receive path: parsing, threading, loops."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from firstring.channels.email.inbound import email_receive, parse_email
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, Message
from firstring.lib.errors import InvalidInput
from tests.channels import email_corpus as corpus

TOKEN = "hook-token-0123456789"


@pytest.fixture
def mailbox(email_channel: Channel) -> Channel:
    email_channel.config = {"address": "support@firstring.example"}
    email_channel.secrets = {"webhook_token": TOKEN}
    email_channel.save()
    return email_channel


def post(raw: bytes, *, slug: str = "support-email", token: str | None = TOKEN, **extra: Any) -> Any:
    headers = {"HTTP_X_FIRSTRING_TOKEN": token} if token is not None else {}
    return Client().post(
        f"/channels/email/{slug}/inbound", data=raw, content_type="message/rfc822", **headers, **extra
    )


def stored(response: Any) -> Message:
    assert response.status_code in (200, 201), response.content
    return Message.objects.select_related("conversation").get(pk=response.json()["message_id"])


@pytest.mark.parametrize(
    ("charset", "encoding", "text"),
    [
        ("utf-8", "8bit", "Grüße aus Köln, the parcel is late 📦"),
        ("utf-8", "base64", "Ça ne marche pas: ünïcödé in base64"),
        ("iso-8859-1", "quoted-printable", "Bonjour, la commande n'est pas arrivée. Merci, Søren"),
        ("windows-1252", "quoted-printable", "It “still” costs 5 € \N{EN DASH} why?"),
        ("iso-2022-jp", "7bit", "注文した商品がまだ届きません。"),
    ],
)
def test_every_charset_and_transfer_encoding_is_decoded(mailbox, charset, encoding, text):
    raw = corpus.plain(
        text, charset=charset, encoding=encoding, subject="=?utf-8?q?Bestellung_f=C3=BCr_K=C3=B6ln?="
    )
    message = stored(post(raw))
    assert message.text == text
    assert message.conversation.subject == "Bestellung für Köln"
    assert message.external_id == "m1@mail.example.com"
    assert message.author_customer.identities.get().value == "carla@example.com"


def test_latin1_label_with_windows_1252_bytes_is_read_as_windows_1252(mailbox):
    raw = corpus.plain("x", charset="iso-8859-1").replace(b"\r\n\r\nx", b"\r\n\r\n\x93quoted\x94 \x80 5")
    assert stored(post(raw)).text == "“quoted” € 5"


def test_encoded_sender_name_becomes_the_customer_name(mailbox):
    raw = corpus.plain(sender="=?iso-8859-1?q?J=F6rg_M=FCller?= <Joerg@Example.COM>")
    message = stored(post(raw))
    assert message.author_customer.name == "Jörg Müller"
    assert message.author_customer.identities.get().value == "joerg@example.com"


def test_multipart_alternative_prefers_the_html_part_and_keeps_the_plain_text(mailbox):
    raw = corpus.message(text="Plain: order 42 is late.", html="<p>HTML: order <b>42</b> is late.</p>")
    message = stored(post(raw))
    assert message.text == "Plain: order 42 is late."
    assert message.html == "<p>HTML: order <b>42</b> is late.</p>"


def test_html_only_mail_gets_its_text_derived_with_its_lines(mailbox):
    raw = corpus.message(
        text=None, html="<html><body><p>First line</p><div>Second<br>third</div></body></html>"
    )
    message = stored(post(raw))
    assert message.text == "First line\n\nSecond\nthird"
    assert "<p>First line</p>" in message.html


def test_malicious_html_is_stored_inert(mailbox):
    html = (
        '<p onclick="steal()">Hi</p><script>alert(1)</script><img src="x" onerror="alert(2)">'
        '<a href="javascript:alert(3)">click</a><iframe src="https://evil.example"></iframe>'
        '<style>body{display:none}</style><form action="https://evil.example"><input></form>'
    )
    message = stored(post(corpus.message(text=None, html=html)))
    lowered = message.html.lower()
    for bad in ("<script", "onclick", "onerror", "javascript:", "<iframe", "<style", "<form", "<input"):
        assert bad not in lowered
    assert "Hi" in message.html and "click" in message.html
    assert "alert" not in message.text


def test_inline_images_and_attachments_are_stored_with_the_original(mailbox):
    raw = corpus.message(
        text="See the photo and the invoice.",
        html='<p>See <img src="cid:photo1@client"> and the invoice.</p>',
        inline_images={"photo1@client": corpus.PNG},
        attachments=[("invoice.pdf", b"%PDF-1.4 fake", "application/pdf")],
    )
    message = stored(post(raw))
    files = {a.filename: a for a in message.attachments.all()}
    assert set(files) == {"part-1.png", "invoice.pdf", "original.eml"}
    invoice = files["invoice.pdf"]
    assert (invoice.content_type, invoice.inline, invoice.file.read()) == (
        "application/pdf",
        False,
        b"%PDF-1.4 fake",
    )
    inline = [a for a in files.values() if a.inline]
    assert len(inline) == 1 and inline[0].content_type == "image/png" and inline[0].file.read() == corpus.PNG
    assert message.metadata["email"]["inline_images"] == {"photo1@client": inline[0].filename}
    assert 'src="cid:photo1@client"' in message.html
    with files["original.eml"].file.open("rb") as handle:
        assert handle.read() == raw


def test_attachments_over_the_limit_are_left_out_and_named(mailbox, settings):
    settings.FIRSTRING_MAX_ATTACHMENT_BYTES = 1000
    raw = corpus.message(attachments=[("big.bin", b"x" * 5000, "application/octet-stream")])
    message = stored(post(raw))
    assert not message.attachments.filter(filename="big.bin").exists()
    assert message.metadata["email"]["skipped_attachments"] == ["big.bin (5000 bytes)"]
    # The raw message is larger than the limit too, so it is not kept either, and that is said.
    assert message.metadata["email"]["original_kept"] is False


def test_quoted_reply_and_signature_are_stripped_from_the_shown_text(mailbox):
    text = (
        "Thanks, that fixed it!\n\nWill the refund come this week?\n\n"
        "-- \nCarla Customer\nACME Ltd, +1 555 0100\n\n"
        "On Mon, 23 Nov 2026 at 10:00, Support <support@firstring.example> wrote:\n"
        "> Hello Carla,\n> please restart the router.\n"
    )
    raw = corpus.message(text=text, html=None)
    message = stored(post(raw))
    assert message.text == "Thanks, that fixed it!\n\nWill the refund come this week?"
    assert "restart the router" not in message.html and "ACME" not in message.html
    assert message.metadata["email"]["quote_removed"] is True
    with message.attachments.get(filename="original.eml").file.open("rb") as handle:
        assert b"please restart the router" in handle.read()


def test_html_reply_with_a_gmail_quote_shows_only_the_new_text(mailbox):
    html = (
        '<div dir="ltr">Yes, please cancel it.</div><br><div class="gmail_quote">'
        "<div>On Mon, 23 Nov 2026 at 10:00, Support &lt;support@firstring.example&gt; wrote:<br></div>"
        "<blockquote>Shall we cancel the order?</blockquote></div>"
    )
    message = stored(post(corpus.message(text=None, html=html)))
    assert message.text == "Yes, please cancel it."
    assert "Shall we cancel" not in message.html


def test_replies_thread_by_in_reply_to_and_references_even_out_of_order(mailbox):
    # The second reply arrives before the message it answers, and before the first message.
    late = stored(
        post(
            corpus.message(
                message_id="c@x",
                in_reply_to="b@x",
                references="<a@x> <b@x>",
                subject="Re: My order",
            )
        )
    )
    first = stored(post(corpus.message(message_id="a@x")))
    middle = stored(post(corpus.message(message_id="b@x", in_reply_to="a@x", references="<a@x>")))
    assert first.conversation_id == middle.conversation_id == late.conversation_id
    assert first.conversation.external_thread == "a@x"


def test_a_reply_to_an_old_message_joins_its_conversation_whatever_the_references_root(mailbox):
    root = stored(post(corpus.message(message_id="root@x")))
    # A client that sends only In-Reply-To, naming the first message.
    reply = stored(post(corpus.message(message_id="r1@x", in_reply_to="root@x")))
    assert reply.conversation_id == root.conversation_id
    # A brand-new mail from the same customer is a new conversation.
    fresh = stored(post(corpus.message(message_id="new@x", subject="Another question")))
    assert fresh.conversation_id != root.conversation_id


def test_the_subject_token_routes_to_the_senders_conversation_only(mailbox):
    first = stored(post(corpus.message(message_id="t1@x")))
    token = f"[#{first.conversation_id}]"
    # No threading headers at all (a client that drops them), only the token in the subject.
    again = stored(post(corpus.message(message_id="t2@x", subject=f"Re: My order {token}")))
    assert again.conversation_id == first.conversation_id
    # Somebody else guessing the token starts a conversation of their own.
    stranger = stored(
        post(corpus.message(message_id="t3@x", sender="mallory@evil.example", subject=f"Re: {token}"))
    )
    assert stranger.conversation_id != first.conversation_id


def test_a_redelivered_mail_is_stored_once(mailbox):
    raw = corpus.message(message_id="dup@x")
    first, second = post(raw), post(raw)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["message_id"] == second.json()["message_id"]
    assert Message.objects.filter(external_id="dup@x").count() == 1


def test_a_mail_without_message_id_is_deduplicated_by_its_content(mailbox):
    raw = corpus.message().replace(b"Message-ID: <m1@mail.example.com>\n", b"")
    assert b"Message-ID" not in raw
    first, second = post(raw), post(raw)
    assert (first.status_code, second.status_code) == (201, 200)
    assert stored(first).external_id.startswith("sha256:")


@pytest.mark.parametrize(
    "extra",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"Precedence": "auto_reply"},
    ],
)
def test_auto_replies_are_stored_and_flagged(mailbox, extra):
    message = stored(post(corpus.message(text="I am out of the office until Monday.", extra_headers=extra)))
    assert message.metadata["auto_submitted"] is True
    assert message.metadata["email"]["auto"] == "auto_reply"


def test_bulk_mail_is_flagged(mailbox):
    message = stored(post(corpus.message(extra_headers={"Precedence": "bulk"})))
    assert message.metadata["email"]["auto"] == "bulk"


def test_a_bounce_is_recognised_with_its_details(mailbox):
    message = stored(post(corpus.bounce(original_message_id="never-sent@firstring.example")))
    assert message.metadata["auto_submitted"] is True
    email = message.metadata["email"]
    assert email["auto"] == "bounce"
    assert email["bounce"]["recipient"] == "carla@example.com"
    assert email["bounce"]["status"] == "5.1.1"
    assert "User unknown" in email["bounce"]["diagnostic"]
    assert email["bounce"]["original_message_id"] == "never-sent@firstring.example"


def test_email_receive_is_the_same_path_for_code(mailbox):
    result = email_receive(channel=mailbox, raw=corpus.message(message_id="direct@x"))
    assert result.created and result.conversation.channel == mailbox
    assert result.conversation.team == mailbox.team


# --- the webhook's answers to bad requests


def test_webhook_refuses_without_the_right_token(mailbox):
    raw = corpus.message()
    assert post(raw, token=None).status_code == 403
    assert post(raw, token="wrong").status_code == 403
    assert post(raw, slug="no-such-channel").status_code == 403
    mailbox.secrets = {}
    mailbox.save()
    assert post(raw, token="").status_code == 403
    assert not Message.objects.exists()


def test_webhook_refuses_other_kinds_of_channel(mailbox, api_channel):
    api_channel.secrets = {"webhook_token": TOKEN}
    api_channel.save()
    assert post(corpus.message(), slug="api").status_code == 403


def test_webhook_answers_413_over_the_size_limit(mailbox, settings):
    settings.FIRSTRING_MAX_EMAIL_BYTES = 2000
    raw = corpus.message(text="x" * 3000)
    response = post(raw)
    assert response.status_code == 413
    assert not Message.objects.exists()


def test_webhook_takes_mails_larger_than_the_form_body_limit(mailbox, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    raw = corpus.message(attachments=[("photo.png", corpus.PNG * 100, "image/png")])
    assert post(raw).status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02 garbage \xff\xfe",
        b"Subject: no sender\r\n\r\nHello",
        b"From: not an address\r\n\r\nHello",
        b"From: carla@example.com\r\nSubject: empty\r\n\r\n   ",
        b"From: =?bogus-charset?q?x?= <carla@example.com>\r\nContent-Type: multipart/mixed\r\n\r\n",
    ],
)
def test_webhook_answers_422_to_garbage_and_stores_nothing(mailbox, raw):
    response = post(raw)
    assert response.status_code == 422, response.content
    assert "detail" in response.json()
    assert not Conversation.objects.exists()


def test_webhook_survives_malformed_headers_and_unknown_charsets(mailbox):
    raw = (
        b"From: Carla <carla@example.com>\r\nMessage-ID: <<broken@@>\r\nDate: yesterday-ish\r\n"
        b"References: garbage <ok@x\r\nSubject: =?x-unknown?b?!!!?=\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nStill readable \x00 text\r\n"
    )
    message = stored(post(raw))
    assert message.text == "Still readable  text"


def test_webhook_only_accepts_post(mailbox):
    assert Client().get("/channels/email/support-email/inbound").status_code == 405


def test_the_senders_date_is_kept_but_the_message_is_stored_as_received_now(mailbox):
    message = stored(post(corpus.message()))
    assert message.metadata["email"]["date"].startswith("2026-11-24")  # formatdate(1795500000)
    assert (timezone.now() - message.created_at).total_seconds() < 60


def test_the_admin_page_says_how_to_connect_and_never_shows_secrets(mailbox, admin_user):
    mailbox.secrets = {"webhook_token": TOKEN, "imap_password": "imap-secret-value"}
    mailbox.state = {"imap": {"last_uid": 7, "error": ""}}
    mailbox.save()
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/firstring_channels/channel/{mailbox.pk}/change/").content.decode()
    assert "How to connect" in page and "/channels/email/&lt;slug&gt;/inbound" in page
    assert "imap_password" in page and "X-Firstring-Token" in page
    assert "last_uid" in page
    assert TOKEN not in page and "imap-secret-value" not in page


_HEADER_NAMES = st.sampled_from(
    ["From", "Subject", "Message-ID", "References", "In-Reply-To", "Content-Type", "Date", "Auto-Submitted",
     "Content-Transfer-Encoding", "Content-Disposition", "Precedence", "Sender"]
)  # fmt: skip
_HEADER_VALUES = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        [
            "multipart/mixed; boundary=x", "multipart/report; report-type=delivery-status", "text/html",
            "text/plain; charset=x-bogus", "base64", "quoted-printable", "=?utf-8?b?!!?=", "<a@b> <<c",
            "carla@example.com", '"=?iso-8859-1?q?J=F6rg?=" <j@example.com>', "attachment; filename*=x''%ff",
        ]
    ),
)  # fmt: skip


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=8),
    body=st.binary(max_size=300)
    | st.sampled_from([b"--x\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--x--"]),
)
def test_any_bytes_parse_or_fail_with_invalid_input(headers, body):
    raw = b"".join(
        f"{name}: {value}".encode("utf-8", "surrogateescape").replace(b"\r", b"").replace(b"\n", b"")
        + b"\r\n"
        for name, value in headers
    )
    try:
        email = parse_email(raw + b"\r\n" + body)
    except InvalidInput:
        return
    assert email.sender and len(email.message_id) <= 255
    assert "\x00" not in email.text + email.html + email.subject


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: My order", "My order"),
        ("RE: Fwd: AW:  My   order [#12]", "My order"),
        ("Re[2]: SV: Bestellung für Köln", "Bestellung für Köln"),
        ("Reorder of my parcel", "Reorder of my parcel"),
        ("Re:", ""),
    ],
)
def test_a_conversation_takes_the_subject_without_reply_prefixes_or_token(mailbox, subject, expected):
    message = stored(post(corpus.message(subject=subject)))
    assert message.conversation.subject == expected


def test_a_mail_made_to_slow_the_reply_parser_is_stored_quickly(mailbox):
    # One 150 kB line the parser's "On … wrote:" patterns would take minutes over.
    began = time.monotonic()
    message = stored(post(corpus.message(text="On Mon wrote " * 12000)))
    assert time.monotonic() - began < 5
    assert message.text.startswith("On Mon wrote On Mon wrote")


def test_a_long_reply_still_loses_its_quote(mailbox):
    text = (
        "Para " * 3000 + "\n\nSecond para\n\nOn Mon, 23 Nov 2026 at 10:00, Support <s@x.com> wrote:\n> old\n"
    )
    message = stored(post(corpus.message(text=text)))
    assert message.text.endswith("Para\n\nSecond para")
    assert message.metadata["email"]["quote_removed"] is True
