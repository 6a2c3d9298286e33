"""Customers through the API: list, search, create, edit, identities, tags, merge and split."""

from __future__ import annotations

import pytest

from firstring.conversations.models import Conversation
from firstring.customers.models import Customer

pytestmark = pytest.mark.django_db


def _create(api, **body):
    response = api("post", "/customers", json=body)
    assert response.status_code == 201, response.content
    return response.json()


def test_create_get_and_edit_a_customer(api, as_agent):
    created = _create(
        api,
        name="Dana",
        company="Acme",
        custom_attributes={"plan": "gold"},
        identities=[
            {"kind": "email", "value": "Dana@Example.com"},
            {"kind": "phone", "value": "+1 202 555 0199"},
        ],
    )
    assert created["name"] == "Dana" and created["merged_into_id"] is None
    assert sorted((i["kind"], i["value"]) for i in created["identities"]) == [
        ("email", "dana@example.com"),
        ("phone", "+12025550199"),
    ]
    # Every staff user sees customers, agents included.
    fetched = as_agent("get", f"/customers/{created['id']}")
    assert fetched.status_code == 200 and fetched.json()["company"] == "Acme"

    patched = as_agent("patch", f"/customers/{created['id']}", json={"notes": "VIP", "language": "de"})
    assert patched.status_code == 200, patched.content
    assert patched.json()["notes"] == "VIP" and patched.json()["name"] == "Dana", "unsent fields stay"
    assert as_agent("patch", f"/customers/{created['id']}", json={"name": None}).status_code == 422
    assert Customer.objects.get(pk=created["id"]).name == "Dana"


def test_creating_with_an_identity_of_another_customer_is_409_and_stores_nothing(api, receive):
    receive(email="taken@example.com")
    response = api(
        "post",
        "/customers",
        json={"name": "X", "identities": [{"kind": "email", "value": "taken@example.com"}]},
    )
    assert response.status_code == 409
    assert Customer.objects.count() == 1


def test_list_search_and_cursor_pages(api, receive):
    for n in range(5):
        receive(email=f"p{n}@example.com", name=f"Person {n}")
    receive(phone="+442079460009", name="Zed")
    first = api("get", "/customers?limit=4").json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    second = api("get", f"/customers?limit=4&cursor={first['next_cursor']}").json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    ids = [c["id"] for c in first["items"] + second["items"]]
    assert len(set(ids)) == 6
    assert [c["name"] for c in api("get", "/customers?q=zed").json()["items"]] == ["Zed"]
    assert [c["name"] for c in api("get", "/customers?q=p3@exa").json()["items"]] == ["Person 3"]
    assert api("get", "/customers/999999").status_code == 404


def test_identities_add_and_remove_but_never_the_last(api, receive):
    customer = receive(email="ida@example.com").customer
    added = api(
        "post",
        f"/customers/{customer.pk}/identities",
        json={"kind": "handle", "value": "@Ida", "network": "x"},
    )
    assert added.status_code == 201, added.content
    assert added.json()["value"] == "ida" and added.json()["network"] == "x"
    again = api(
        "post",
        f"/customers/{customer.pk}/identities",
        json={"kind": "handle", "value": "ida", "network": "x"},
    )
    assert again.status_code == 409
    assert (
        api("post", f"/customers/{customer.pk}/identities", json={"kind": "phone", "value": "12"}).status_code
        == 422
    )

    email = customer.identities.get(kind="email")
    assert api("delete", f"/customers/{customer.pk}/identities/{email.pk}").status_code == 204
    last = customer.identities.get()
    refused = api("delete", f"/customers/{customer.pk}/identities/{last.pk}")
    assert refused.status_code == 409 and "only identity" in refused.json()["detail"]
    assert customer.identities.count() == 1
    assert api("delete", f"/customers/{customer.pk}/identities/{last.pk + 100}").status_code == 404


def test_tags_replace(api, receive):
    customer = receive().customer
    response = api("put", f"/customers/{customer.pk}/tags", json={"tags": ["VIP", "churn-risk", "vip"]})
    assert response.status_code == 200
    assert response.json()["tags"] == ["churn-risk", "vip"]
    assert api("put", f"/customers/{customer.pk}/tags", json={"tags": []}).json()["tags"] == []
    assert api("put", f"/customers/{customer.pk}/tags", json={"tags": ["x" * 65]}).status_code == 422


def test_merge_then_split(api, receive, email_channel, admin_user):
    a = receive(email="m1@example.com", name="Mia")
    b = receive(phone="+442079460010", channel=email_channel)
    merged = api("post", f"/customers/{a.customer.pk}/merge", json={"source_id": b.customer.pk})
    assert merged.status_code == 200, merged.content
    assert {i["value"] for i in merged.json()["identities"]} == {"m1@example.com", "+442079460010"}
    old = api("get", f"/customers/{b.customer.pk}").json()
    assert old["merged_into_id"] == a.customer.pk
    # The merged-away customer keeps resolving but takes no more edits.
    assert api("patch", f"/customers/{b.customer.pk}", json={"name": "x"}).status_code == 409
    assert (
        api("post", f"/customers/{a.customer.pk}/merge", json={"source_id": a.customer.pk}).status_code == 422
    )
    assert api("post", f"/customers/{a.customer.pk}/merge", json={"source_id": 10**9}).status_code == 404

    phone = a.customer.identities.get(kind="phone")
    split = api("post", f"/customers/{a.customer.pk}/identities/{phone.pk}/split", json={"name": "Not Mia"})
    assert split.status_code == 201, split.content
    assert split.json()["name"] == "Not Mia"
    assert Conversation.objects.get(pk=b.conversation.pk).customer_id == split.json()["id"]
    only = a.customer.identities.get()
    assert api("post", f"/customers/{a.customer.pk}/identities/{only.pk}/split", json={}).status_code == 422
