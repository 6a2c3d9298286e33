"""Community fixtures: the knowledge base's help center, two signed-in customers and a way to sign in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from firstring.community.models import Member
from firstring.community.services.signin import member_for
from firstring.customers.identities import IdentityClaim
from firstring.customers.services import Sender, customers_find_or_create
from firstring.knowledge.models import HelpCenter
from tests.knowledge.conftest import category, help_center, publish, section  # noqa: F401 (fixtures)


def make_member(email: str, name: str = "") -> Member:
    found = customers_find_or_create(senders=[Sender(claims=[IdentityClaim("email", email)], name=name)])[0]
    return member_for(customer_id=found.customer.pk, name=found.customer.name)


@pytest.fixture
def alice(db: None) -> Member:
    return make_member("alice@example.com", "Alice Archer")


@pytest.fixture
def bob(db: None) -> Member:
    return make_member("bob@example.com", "Bob Baker")


@pytest.fixture
def sign_in(
    help_center: HelpCenter,  # noqa: F811
    run_tasks: Callable[[], int],
    django_capture_on_commit_callbacks: Any,
) -> Callable[[Client, str], Client]:
    """sign_in(client, email): ask for a link on the page, read it from the e-mail sent, use it."""

    def _sign_in(client: Client, email: str) -> Client:
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/help/en/signin/", {"email": email})
        assert response.status_code == 200
        run_tasks()
        link = next(line for line in mail.outbox[-1].body.splitlines() if "/signin/" in line)
        path = link.split("testserver", 1)[1]
        assert client.get(path).status_code == 200
        used = client.post(path)
        assert used.status_code == 302, used.content
        return client

    return _sign_in
