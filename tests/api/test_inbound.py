"""POST /api/v1/inbound: the generic API channel, over real HTTP requests through Django."""

from __future__ import annotations

import pytest

from firstring.conversations.models import Message
from firstring.customers.models import Customer
from tests.conftest import make_api_caller

pytestmark = pytest.mark.django_db

BODY = {
    "channel": "api",
    "external_id": "m-1",
    "from": {"email": "ann@example.com", "name": "Ann"},
    "text": "Hi",
}


def test_inbound_creates_then_redelivery_answers_200_with_same_ids(api):
    first = api("post", "/inbound", json=BODY)
    assert first.status_code == 201, first.content
    again = api("post", "/inbound", json=BODY)
    assert again.status_code == 200
    ids = {k: v for k, v in first.json().items() if k != "created"}
    assert {k: v for k, v in again.json().items() if k != "created"} == ids
    assert again.json()["created"] is False
    assert Message.objects.count() == 1


def test_inbound_with_every_identity_kind(api):
    body = {
        "from": {
            "email": "b@example.com",
            "phone": "+12025550199",
            "handle": "@Bob",
            "network": "bluesky",
            "name": "Bob",
        },
        "text": "hello",
        "thread": "thread-9",
    }
    response = api("post", "/inbound", json=body)
    assert response.status_code == 201
    customer = Customer.objects.get(pk=response.json()["customer_id"])
    assert sorted(customer.identities.values_list("kind", "network", "value")) == [
        ("email", "", "b@example.com"),
        ("handle", "bluesky", "bob"),
        ("phone", "", "+12025550199"),
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "no sender"}, 422),
        ({"from": {}, "text": "empty sender"}, 422),
        ({"from": {"email": "not-an-address"}, "text": "x"}, 422),
        ({"from": {"email": "a@example.com"}, "text": ""}, 422),
        ({"from": {"email": "a@example.com"}, "text": 5}, 422),
        ({"from": {"email": "a@example.com"}, "text": "x", "channel": "nope"}, 422),
        ({"from": {"email": "a@example.com"}, "text": "x", "external_id": "x" * 300}, 422),
        ({"from": "a@example.com", "text": "x"}, 422),
        ([1, 2, 3], 422),
    ],
)
def test_bad_bodies_get_a_clear_error_and_store_nothing(api, body, status):
    response = api("post", "/inbound", json=body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert Customer.objects.count() == 0


def test_malformed_json_is_400(api):
    response = api("post", "/inbound", data="{bad", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_oversized_body_is_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api("post", "/inbound", json={**BODY, "text": "x" * 5000})
    assert response.status_code == 413
    assert Message.objects.count() == 0


def test_missing_or_bad_token_is_401(client):
    assert client.post("/api/v1/inbound", data=BODY, content_type="application/json").status_code == 401
    response = client.post(
        "/api/v1/inbound", data=BODY, content_type="application/json", HTTP_AUTHORIZATION="Bearer fr_wrong"
    )
    assert response.status_code == 401


def test_agents_may_not_push_inbound_messages(agent):
    response = make_api_caller(agent)("post", "/inbound", json=BODY)
    assert response.status_code == 403


def test_revoked_token_stops_working(admin_user):
    from firstring.accounts.models import ApiToken
    from firstring.accounts.services import api_token_revoke

    call = make_api_caller(admin_user)
    assert call("post", "/inbound", json=BODY).status_code == 201
    api_token_revoke(token=ApiToken.objects.get(user=admin_user))
    assert call("post", "/inbound", json=BODY).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "text": "nul \x00 byte"},
        {**BODY, "from": {"email": "ann@example.com", "name": "A\x00nn"}},
        {**BODY, "metadata": {"nested": {"k": ["\x00"]}}},
        {**BODY, "text": "\udc80"},
    ],
)
def test_text_the_database_cannot_store_is_422(api, body):
    response = api("post", "/inbound", json=body)
    assert response.status_code == 422, response.content
    assert Message.objects.count() == 0


def test_the_documentation_pages_answer_without_a_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


def test_a_batch_is_stored_in_order_with_a_result_each(api):
    messages = [
        {"external_id": f"b-{n}", "from": {"email": f"b{n % 2}@example.com"}, "text": f"n{n}"}
        for n in range(6)
    ]
    response = api("post", "/inbound/batch", json={"messages": [*messages, messages[0]]})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["created"] for r in results] == [True] * 6 + [False]
    assert results[6] == {**results[0], "created": False}
    assert len({r["conversation_id"] for r in results}) == 2
    assert list(Message.objects.order_by("pk").values_list("text", flat=True)) == [f"n{n}" for n in range(6)]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        ({"from": {"email": "a@example.com"}, "text": "  "}, "message 1: the message is empty"),
        ({"from": {"email": "nope"}, "text": "x"}, "message 1: not a valid e-mail address"),
        (
            {"from": {"email": "a@example.com"}, "text": "x", "channel": "nope"},
            "message 1: no enabled channel",
        ),
    ],
)
def test_one_bad_message_fails_its_batch_with_422_and_stores_nothing(api, bad, error):
    response = api("post", "/inbound/batch", json={"messages": [BODY, bad]})
    assert response.status_code == 422
    assert error in response.json()["detail"]
    assert Message.objects.count() == 0 and Customer.objects.count() == 0


@pytest.mark.parametrize("body", [{"messages": []}, {"messages": [BODY] * 501}, {"messages": "x"}, [BODY]])
def test_empty_oversized_or_malformed_batches_are_422(api, body):
    response = api("post", "/inbound/batch", json=body)
    assert response.status_code == 422, response.content
    assert Message.objects.count() == 0


def test_agents_may_not_push_batches(agent):
    response = make_api_caller(agent)("post", "/inbound/batch", json={"messages": [BODY]})
    assert response.status_code == 403
