"""Whatever a client sends, the answer is JSON with a clear status, never a 500, and nothing half-stored."""

from __future__ import annotations

import base64
import json

import pytest

from firstring.customers.models import Customer

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"


def _cursor(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "path",
    [
        f"/customers/{HUGE}",
        f"/conversations/{HUGE}",
        f"/conversations/{HUGE}/messages",
        f"/conversations/{HUGE}/events",
        f"/users/{HUGE}",
        f"/teams/{HUGE}",
        "/conversations?team=" + HUGE,
        "/conversations?customer=" + HUGE,
    ],
)
def test_ids_beyond_64_bits_are_422(api, path):
    response = api("get", path)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/conversations?limit=-1",
        "/conversations?limit=0",
        "/conversations?limit=100000",
        "/conversations?limit=abc",
        "/conversations?view=nope",
        "/conversations?sort=nope",
        "/conversations?priority=9",
        "/conversations?status=closed",
        "/conversations?cursor=%%%",
        "/conversations?cursor=" + _cursor(["not a date", 1]),
        "/conversations?cursor=" + _cursor(["2024-01-01T00:00:00+00:00", "x"]),
        "/conversations?cursor=" + _cursor(["2024-01-01T00:00:00+00:00", 10**30]),
        "/conversations?cursor=" + _cursor(["2024-01-01T00:00:00", 1]),
        "/conversations?cursor=" + _cursor(["0001-01-01T00:00:00+14:00", 1]),
        "/conversations?cursor=" + _cursor([None, 1]),
        "/conversations?sort=priority&cursor=" + _cursor([10**20, "2024-01-01T00:00:00+00:00", 1]),
        "/conversations?q=a%00b",
        "/customers?cursor=" + _cursor([[1], 1]),
        "/customers?q=%00",
        "/users?cursor=" + _cursor([-(2**70)]),
    ],
)
def test_bad_query_parameters_are_422(api, path):
    response = api("get", path)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]


def test_invalid_utf8_in_the_query_string_is_harmless(api):
    response = api("get", "/customers?q=%FF%FE")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"name": "a\x00b"},
        {"name": "ok", "custom_attributes": {"k\x00": 1}},
        {"name": "ok", "custom_attributes": {"deep": ["\x00"]}},
        {"name": "\ud800"},
        {"name": 5},
        {"name": "ok", "surprise": True},
        {"identities": [{"kind": "email", "value": "not an address"}]},
        {"identities": [{"kind": "fax", "value": "123"}]},
        {"identities": [{"kind": "handle", "value": "bob"}]},
        {"language": "x" * 17},
    ],
)
def test_bad_bodies_are_422_and_store_nothing(api, body):
    response = api("post", "/customers", json=body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"]
    assert Customer.objects.count() == 0


def test_non_finite_numbers_are_422(api):
    response = api(
        "post", "/customers", data='{"custom_attributes": {"x": Infinity}}', content_type="application/json"
    )
    assert response.status_code == 422, response.content


@pytest.mark.parametrize(
    "raw",
    [b"{bad", b'{"name": "\xff\xfe"}', b"[" * 100_000, b'"just a string"'],
)
def test_unparseable_bodies_are_400_or_422(api, raw):
    response = api("post", "/customers", data=raw, content_type="application/json")
    assert response.status_code in (400, 422), response.content
    assert response.json()["detail"]
    assert Customer.objects.count() == 0


def test_malformed_json_is_400(api):
    response = api("post", "/customers", data="{bad", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body"}


def test_missing_and_bad_tokens_are_401(client):
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer fr_nope"}, {"HTTP_AUTHORIZATION": "Basic x"}):
        response = client.get("/api/v1/conversations", **headers)
        assert response.status_code == 401
        assert response.json()["detail"]


def test_every_documented_operation_documents_401_and_422(api):
    schema = api("get", "/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert {"401", "422"} <= set(operation["responses"]), (method, path)
            if method in ("post", "put", "patch"):
                assert {"400", "413"} <= set(operation["responses"]), (method, path)


def test_too_many_query_fields_is_a_clear_4xx(api, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = api("get", "/customers?" + "&".join(f"f{n}=1" for n in range(20)))
    assert response.status_code == 400
    assert response.json()["detail"] == "the request has too many fields"


def test_a_forged_host_header_is_a_json_400(client):
    response = client.post(
        "/api/v1/inbound", data={"text": "x"}, content_type="application/json", HTTP_HOST="evil.example"
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "bad request"}
    page = client.get("/", HTTP_HOST="evil.example")
    assert page.status_code == 400 and "Bad request" in page.content.decode()
