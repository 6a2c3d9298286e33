"""The customer page: edit the profile, merge another customer in, split an identity off."""

from __future__ import annotations

import pytest

from firstring.conversations.models import ConversationEvent
from firstring.customers.models import Customer

pytestmark = pytest.mark.django_db


def test_profile_edit(client_for, agent, receive):
    customer = receive(email="dora@example.com").customer
    response = client_for(agent).post(
        f"/customers/{customer.pk}/",
        {"name": "Dora Maar", "company": "Atelier", "language": "fr", "notes": "VIP"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.company, customer.language, customer.notes) == (
        "Dora Maar",
        "Atelier",
        "fr",
        "VIP",
    )


def test_profile_edit_rejects_bad_input(client_for, agent, receive):
    customer = receive(email="dora@example.com", name="Dora").customer
    response = client_for(agent).post(f"/customers/{customer.pk}/", {"name": "x" * 500, "language": "y" * 40})
    assert response.status_code == 422
    assert "Ensure this value has at most 200 characters" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name == "Dora"


def test_merge_moves_conversations_and_records_events(client_for, agent, receive):
    keep = receive(email="eve@example.com", name="Eve").conversation
    other = receive(email="eve.work@example.com", text="from work").conversation
    client = client_for(agent)
    response = client.post(f"/customers/{keep.customer_id}/merge/", {"other": other.customer_id})
    assert response.status_code == 302
    assert response["Location"] == f"/customers/{keep.customer_id}/"
    other.refresh_from_db()
    assert other.customer_id == keep.customer_id
    assert ConversationEvent.objects.filter(conversation=other, kind="merged").exists()
    # The merged-away customer's page leads to the survivor.
    old = client.get(f"/customers/{Customer.objects.get(merged_into=keep.customer_id).pk}/")
    assert old.status_code == 302 and old["Location"] == f"/customers/{keep.customer_id}/"
    html = client.get(f"/customers/{keep.customer_id}/").content.decode()
    assert "eve.work@example.com" in html and f'href="/conversations/{other.pk}/"' in html


@pytest.mark.parametrize(("other", "status"), [("abc", 422), ("", 422), ("999999", 404)])
def test_merge_rejects_bad_input(client_for, agent, receive, other, status):
    customer = receive(email="fay@example.com").customer
    response = client_for(agent).post(f"/customers/{customer.pk}/merge/", {"other": other})
    assert response.status_code == status
    assert 'class="alert alert-error"' in response.content.decode()


def test_merge_into_itself_is_refused(client_for, agent, receive):
    customer = receive(email="fay@example.com").customer
    response = client_for(agent).post(f"/customers/{customer.pk}/merge/", {"other": customer.pk})
    assert response.status_code == 422
    assert "cannot be merged into itself" in response.content.decode()


def test_split_an_identity_off(client_for, agent, receive, email_channel):
    first = receive(email="gus@example.com", phone="+14155550123", text="hi").conversation
    phone = first.customer.identities.get(kind="phone")
    client = client_for(agent)
    response = client.post(
        f"/customers/{first.customer_id}/identities/{phone.pk}/split/", {"name": "Gus Two"}
    )
    assert response.status_code == 302
    new = Customer.objects.get(name="Gus Two")
    assert response["Location"] == f"/customers/{new.pk}/"
    assert list(new.identities.values_list("value", flat=True)) == ["+14155550123"]


def test_split_the_only_identity_is_refused(client_for, agent, receive):
    conversation = receive(email="hal@example.com").conversation
    identity = conversation.customer.identities.get()
    response = client_for(agent).post(
        f"/customers/{conversation.customer_id}/identities/{identity.pk}/split/"
    )
    assert response.status_code == 422
    assert "only identity" in response.content.decode()


def test_split_someone_elses_identity_is_404(client_for, agent, receive):
    mine = receive(email="ida@example.com").customer
    theirs = receive(email="jon@example.com").customer
    identity = theirs.identities.get()
    response = client_for(agent).post(f"/customers/{mine.pk}/identities/{identity.pk}/split/")
    assert response.status_code == 404
