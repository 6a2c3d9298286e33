"""Twilio's incoming-message webhook through real HTTP requests signed as Twilio signs them.

SMS, MMS media fetched from a local server that speaks Twilio's media URLs, WhatsApp, signatures,
redeliveries, malformed payloads and opt-out keywords, all through the receive service.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from firstring.accounts.models import Team
from firstring.channels.models import Channel
from firstring.channels.twilio import inbound as twilio_inbound
from firstring.channels.twilio.inbound import parse_message
from firstring.conversations.models import Message
from firstring.conversations.services import reply_send
from firstring.customers.models import Customer
from firstring.lib.errors import InvalidInput
from tests.channels.twilio_peer import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TwilioPeer,
    sid,
    sign,
    signed_post,
)

CUSTOMER = "+14155550123"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture
def whatsapp(support_team: Team, peer: TwilioPeer) -> Channel:
    return Channel.objects.create(
        kind="whatsapp",
        slug="whatsapp",
        name="WhatsApp Business",
        team=support_team,
        config={"number": "+12025550102", "api_base_url": peer.url},
        secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )


def hook(channel: Channel | str, name: str = "inbound") -> str:
    slug = channel if isinstance(channel, str) else channel.slug
    return f"{settings.SITE_URL}/channels/twilio/{slug}/{name}"


def incoming(body: str = "Where is my parcel?", **extra: str) -> dict[str, str]:
    """An incoming SMS as Twilio posts it (the documented parameters of the message webhook)."""
    message_sid = extra.pop("MessageSid", None) or sid("SM")
    params = {
        "ToCountry": "US",
        "ToState": "DC",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "WASHINGTON",
        "FromZip": "94105",
        "SmsSid": message_sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": "+12025550101",
        "ToZip": "20001",
        "NumSegments": "1",
        "MessageSid": message_sid,
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def post(params: dict[str, str], channel: Channel | str = "sms-main", token: str = AUTH_TOKEN) -> Any:
    return signed_post(Client(), hook(channel), params, token)


def stored(params: dict[str, str]) -> Message:
    return Message.objects.select_related("conversation", "author_customer").get(
        external_id=params["MessageSid"]
    )


def test_an_sms_is_stored_and_answered_with_empty_twiml(sms):
    params = incoming("Where is my parcel? Order 1042")
    response = post(params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().replace(" ", "").endswith("<Response/>")
    message = stored(params)
    assert message.text == "Where is my parcel? Order 1042"
    assert message.direction == "inbound"
    assert message.metadata["twilio"]["to"] == "+12025550101"
    assert message.metadata["twilio"]["num_segments"] == "1"
    assert [(i.kind, i.value) for i in message.author_customer.identities.all()] == [("phone", CUSTOMER)]
    conversation = message.conversation
    assert (conversation.channel_id, conversation.team_id) == (sms.pk, sms.team_id)
    assert conversation.identity.value == CUSTOMER


def test_a_second_sms_joins_the_open_conversation(sms):
    first, second = incoming("Hi"), incoming("Order 1042, still not here")
    assert post(first).status_code == 200
    assert post(second).status_code == 200
    assert stored(first).conversation_id == stored(second).conversation_id
    assert stored(second).conversation.message_count == 2


def test_a_redelivered_message_sid_is_stored_once(sms):
    params = incoming("Twice?")
    assert post(params).status_code == 200
    assert post(params).status_code == 200
    assert Message.objects.filter(external_id=params["MessageSid"]).count() == 1
    assert stored(params).conversation.message_count == 1


@pytest.mark.parametrize(
    "tamper",
    [
        "wrong token",
        "no header",
        "another URL",
        "changed body",
        "unknown channel",
        "disabled channel",
        "no token",
    ],
)
def test_a_bad_signature_gets_403_and_stores_nothing(sms, tamper):
    params = incoming("Forged")
    client = Client()
    path = "/channels/twilio/sms-main/inbound"
    headers = {"HTTP_X_TWILIO_SIGNATURE": sign(hook(sms), params)}
    if tamper == "wrong token":
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign(hook(sms), params, "not-the-token")
    elif tamper == "no header":
        headers = {}
    elif tamper == "another URL":
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign(hook("other"), params)
    elif tamper == "changed body":
        params = {**params, "Body": "Forged, changed after signing"}
    elif tamper == "unknown channel":
        path = "/channels/twilio/nope/inbound"
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign(hook("nope"), params)
    elif tamper == "disabled channel":
        Channel.objects.filter(pk=sms.pk).update(enabled=False)
    elif tamper == "no token":
        Channel.objects.filter(pk=sms.pk).update(secrets={"account_sid": ACCOUNT_SID})
    response = client.post(
        path, data=urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json()["detail"]
    assert not Message.objects.exists()
    assert not Customer.objects.exists()


def test_the_url_the_request_reached_is_accepted_too(sms):
    # Twilio may be pointed at another public name than SITE_URL; it signs the URL it was given.
    params = incoming("Via the other host name")
    response = signed_post(Client(), "http://testserver/channels/twilio/sms-main/inbound", params)
    assert response.status_code == 200
    assert stored(params).text == "Via the other host name"


def test_a_rotated_auth_token_keeps_accepting_the_previous_one_until_removed(sms):
    sms.secrets = {
        "account_sid": ACCOUNT_SID,
        "auth_token": "the-new-token",
        "previous_auth_token": AUTH_TOKEN,
    }
    sms.save()
    assert post(incoming("old token"), token=AUTH_TOKEN).status_code == 200
    assert post(incoming("new token"), token="the-new-token").status_code == 200
    sms.secrets = {"account_sid": ACCOUNT_SID, "auth_token": "the-new-token"}
    sms.save()
    assert post(incoming("old token again"), token=AUTH_TOKEN).status_code == 403
    assert Message.objects.count() == 2


def test_mms_media_are_fetched_with_the_account_credentials_and_stored(sms, peer):
    message_sid = sid("MM")
    png_url = peer.add_media(PNG, "image/png", message_sid)
    card_url = peer.add_media(b"BEGIN:VCARD\r\nFN:Carla\r\nEND:VCARD\r\n", "text/vcard", message_sid)
    params = incoming(
        "The box arrived like this",
        MessageSid=message_sid,
        NumMedia="2",
        MediaUrl0=png_url,
        MediaContentType0="image/png",
        MediaUrl1=card_url,
        MediaContentType1="text/vcard",
    )
    assert post(params).status_code == 200
    message = stored(params)
    files = {a.filename: a for a in message.attachments.all()}
    assert set(files) == {"media-1.png", "media-2.vcf"}
    assert files["media-1.png"].content_type == "image/png"
    assert files["media-1.png"].size == len(PNG)
    with files["media-1.png"].file.open("rb") as handle:
        assert handle.read() == PNG
    assert "skipped_media" not in message.metadata["twilio"]
    # The API host got the account's credentials; the media store it redirected to got none.
    api_calls = [auth for path, auth in peer.media_requests if "/Media/" in path]
    store_calls = [auth for path, auth in peer.media_requests if path.startswith("/media-store/")]
    assert len(api_calls) == 2 and all(auth.startswith("Basic ") for auth in api_calls)
    assert len(store_calls) == 2 and not any(store_calls)


def test_media_over_the_size_limit_or_off_the_api_host_are_listed_not_stored(sms, peer):
    sms.config = {**sms.config, "max_media_bytes": 100}
    sms.save()
    message_sid = sid("MM")
    params = incoming(
        "",
        MessageSid=message_sid,
        NumMedia="2",
        MediaUrl0=peer.add_media(PNG, "image/png", message_sid),
        MediaContentType0="image/png",
        MediaUrl1="http://169.254.169.254/latest/meta-data/",
        MediaContentType1="image/jpeg",
    )
    assert post(params).status_code == 200
    message = stored(params)
    assert not message.attachments.exists()
    assert message.text == "(2 media files could not be stored)"
    skipped = message.metadata["twilio"]["skipped_media"]
    assert "larger than 100 bytes" in skipped[0]["reason"]
    assert skipped[1] == {
        "url": "http://169.254.169.254/latest/meta-data/",
        "content_type": "image/jpeg",
        "reason": "not on the channel's Twilio API host",
    }
    assert not any("169.254" in path for path, _ in peer.media_requests)


def test_media_the_api_refuses_are_listed_with_its_answer(sms, peer):
    sms.secrets = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "api_key_sid": "SKx",
        "api_key_secret": "y",
    }
    sms.save()
    message_sid = sid("MM")
    params = incoming(
        "photo",
        MessageSid=message_sid,
        NumMedia="1",
        MediaUrl0=peer.add_media(PNG, "image/png", message_sid),
        MediaContentType0="image/png",
    )
    assert post(params).status_code == 200
    message = stored(params)
    assert message.text == "photo"
    assert message.metadata["twilio"]["skipped_media"][0]["reason"] == "Twilio answered 401"


def test_media_that_would_keep_twilio_waiting_too_long_are_listed(sms, peer, monkeypatch):
    monkeypatch.setattr(twilio_inbound, "MEDIA_SECONDS", 1.5)
    peer.media_delay = 2.0
    message_sid = sid("MM")
    media = {}
    for index in range(2):
        media[f"MediaUrl{index}"] = peer.add_media(PNG, "image/png", message_sid)
        media[f"MediaContentType{index}"] = "image/png"
    params = incoming("two photos", MessageSid=message_sid, NumMedia="2", **media)
    assert post(params).status_code == 200
    message = stored(params)
    reasons = [item["reason"] for item in message.metadata["twilio"]["skipped_media"]]
    assert reasons == ["download failed: ReadTimeout", "no time left to download it while Twilio waited"]
    assert message.text == "two photos" and not message.attachments.exists()


def test_a_whatsapp_message_names_the_customer_and_keeps_the_number(whatsapp):
    params = incoming(
        "Hallo, wo bleibt mein Paket?",
        From="whatsapp:+4915112345678",
        To="whatsapp:+12025550102",
        ProfileName="Jörg Müller",
        WaId="4915112345678",
        MessageType="text",
    )
    assert post(params, channel=whatsapp).status_code == 200
    message = stored(params)
    assert message.author_customer.name == "Jörg Müller"
    assert [(i.kind, i.value) for i in message.author_customer.identities.all()] == [
        ("phone", "+4915112345678")
    ]
    assert message.metadata["twilio"]["wa_id"] == "4915112345678"
    assert message.conversation.channel_id == whatsapp.pk


def test_a_whatsapp_location_becomes_text(whatsapp):
    params = incoming(
        "",
        From="whatsapp:+4915112345678",
        Latitude="52.5200",
        Longitude="13.4050",
        Label="Packstation 123",
        MessageType="location",
    )
    assert post(params, channel=whatsapp).status_code == 200
    message = stored(params)
    assert message.text == "📍 Location: 52.5200, 13.4050 (Packstation 123)"
    assert message.metadata["twilio"]["location"]["label"] == "Packstation 123"


@pytest.mark.parametrize(
    ("channel", "changes", "detail"),
    [
        ("sms-main", {"MessageSid": "", "SmsMessageSid": "", "SmsSid": ""}, "MessageSid"),
        ("sms-main", {"MessageSid": "SM123"}, "MessageSid"),
        ("sms-main", {"From": ""}, "From"),
        ("sms-main", {"From": "not a number"}, "E.164"),
        ("sms-main", {"From": "+1"}, "phone number"),
        ("sms-main", {"From": "whatsapp:+4915112345678"}, "SMS channel"),
        ("whatsapp", {"From": "+4915112345678"}, "whatsapp:"),
        ("sms-main", {"Body": "", "NumMedia": "0"}, "no Body and no media"),
        ("sms-main", {"NumMedia": "many"}, "NumMedia"),
        ("sms-main", {"NumMedia": "11"}, "NumMedia"),
        ("sms-main", {"NumMedia": "²"}, "NumMedia"),
        ("sms-main", {"NumMedia": "1"}, "MediaUrl0"),
        ("sms-main", {"NumMedia": "1", "MediaUrl0": "file:///etc/passwd"}, "MediaUrl0"),
    ],
)
def test_a_malformed_payload_gets_a_clear_422_and_stores_nothing(
    sms, whatsapp, channel, changes, detail, caplog
):
    params = {**incoming("Hello"), **changes}
    response = post(params, channel=channel)
    assert response.status_code == 422, response.content
    assert detail in response.json()["detail"]
    assert not Message.objects.exists()
    assert "refused" in caplog.text


def test_a_body_too_large_gets_413(sms):
    params = incoming("x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    response = post(params)
    assert response.status_code == 413
    assert not Message.objects.exists()


def test_only_post_is_allowed(sms):
    assert Client().get("/channels/twilio/sms-main/inbound").status_code == 405


@pytest.mark.parametrize(
    "word", ["STOP", "stop", " Stop. ", "STOPALL", "Unsubscribe", "cancel", "END", "quit"]
)
def test_an_opt_out_keyword_is_recorded_and_refuses_replies(sms, agent, word):
    params = incoming(word)
    assert post(params).status_code == 200
    message = stored(params)
    assert message.metadata["twilio"]["opt_out"] == word.strip(" .").upper()
    assert message.metadata["auto_submitted"] is True
    sms.refresh_from_db()
    assert sms.state["opted_out"][CUSTOMER]["keyword"] == word.strip(" .").upper()
    with pytest.raises(InvalidInput, match=r"\+14155550123 opted out of messages from SMS \+1 202-555-0101"):
        reply_send(conversation=message.conversation, author=agent, text="Sorry to see you go")
    assert not Message.objects.filter(direction="outbound").exists()


def test_a_sentence_with_stop_in_it_is_no_opt_out(sms):
    params = incoming("Please stop sending me the wrong size")
    assert post(params).status_code == 200
    sms.refresh_from_db()
    assert not sms.state.get("opted_out")
    assert "opt_out" not in stored(params).metadata["twilio"]


def test_twilios_advanced_opt_out_decision_counts(sms):
    assert post(incoming("ARRET", OptOutType="STOP")).status_code == 200
    sms.refresh_from_db()
    assert sms.state["opted_out"][CUSTOMER]["keyword"] == "ARRET"


def test_start_opts_back_in_and_a_late_redelivery_of_stop_changes_nothing(sms, agent):
    stop, start = incoming("STOP"), incoming("START")
    assert post(stop).status_code == 200
    assert post(start).status_code == 200
    sms.refresh_from_db()
    assert sms.state["opted_out"] == {}
    assert post(stop).status_code == 200  # Twilio delivering the old STOP again
    sms.refresh_from_db()
    assert sms.state["opted_out"] == {}
    reply = reply_send(conversation=stored(start).conversation, author=agent, text="Welcome back")
    assert reply.delivery_status == "queued"


def test_the_agent_sees_that_the_number_opted_out(sms, agent):
    params = incoming("STOP")
    assert post(params).status_code == 200
    conversation = stored(params).conversation
    client = Client()
    client.force_login(agent)
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "⛔ SMS +1 202-555-0101: +14155550123 opted out of messages from SMS +1 202-555-0101" in page
    response = client.post(
        f"/conversations/{conversation.pk}/reply/", {"text": "Still there?"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "opted out" in response.content.decode()
    assert not Message.objects.filter(direction="outbound").exists()


def test_the_admin_page_gives_the_webhook_urls_and_never_the_credentials(sms, admin_user):
    assert post(incoming("STOP")).status_code == 200
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/firstring_channels/channel/{sms.pk}/change/").content.decode()
    assert (
        f"Incoming messages webhook (HTTP POST): {settings.SITE_URL}/channels/twilio/sms-main/inbound" in page
    )
    assert (
        f"Status callback URL (HTTP POST):       {settings.SITE_URL}/channels/twilio/sms-main/status" in page
    )
    assert "A message comes in" in page and "previous_auth_token" in page
    assert "Account: AC…cdef" in page and "Numbers opted out (texted STOP): 1" in page
    assert "auth_token (32 characters)" in page
    assert AUTH_TOKEN not in page and ACCOUNT_SID not in page


def test_credentials_are_rotated_in_the_admin_without_showing_them(sms, admin_user):
    client = Client()
    client.force_login(admin_user)
    url = f"/admin/firstring_channels/channel/{sms.pk}/change/"
    form = {
        "name": sms.name,
        "slug": sms.slug,
        "kind": "sms",
        "team": sms.team_id,
        "enabled": "on",
        "config": json.dumps(sms.config),
        "new_secret_name": "auth_token",
        "new_secret_value": "the-rotated-token",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    sms.refresh_from_db()
    assert sms.secrets == {"account_sid": ACCOUNT_SID, "auth_token": "the-rotated-token"}
    assert "the-rotated-token" not in client.get(url).content.decode()
    assert post(incoming("old token"), token=AUTH_TOKEN).status_code == 403
    assert post(incoming("new token"), token="the-rotated-token").status_code == 200


def test_the_api_refuses_a_reply_to_an_opted_out_number_with_the_reason(sms, api):
    params = incoming("STOP")
    assert post(params).status_code == 200
    conversation = stored(params).conversation
    response = api("post", f"/conversations/{conversation.pk}/replies", json={"text": "Are you sure?"})
    assert response.status_code == 422
    assert "opted out" in response.json()["detail"]
    assert not Message.objects.filter(direction="outbound").exists()


_PARAM_NAMES = st.sampled_from(
    ["MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "MediaUrl1",
     "ProfileName", "Latitude", "Longitude", "Label", "ButtonText", "OptOutType", "WaId", "NumSegments"]
)  # fmt: skip
_PARAM_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["SM" + "a" * 32, "+14155550123", "whatsapp:+14155550123", "+1", "1", "2", "11", "-1", "²", "٣", "http://x/y",
         "https://api.twilio.com/m", "STOP", " start ", "\x00", "image/png", "52.5", "ftp://x"]
    ),
)  # fmt: skip


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    params=st.dictionaries(_PARAM_NAMES, _PARAM_VALUES, max_size=10),
    kind=st.sampled_from(["sms", "whatsapp"]),
)
def test_any_parameters_parse_or_fail_with_invalid_input(params, kind):
    channel = Channel(kind=kind, slug="x", name="x", config={}, secrets={})
    try:
        parsed = parse_message(channel, params)
    except InvalidInput:
        return
    assert parsed.phone.startswith("+") and len(parsed.sid) == 34
    assert parsed.body.strip() or parsed.media
    assert "\x00" not in parsed.body + parsed.name
