from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from firstring.accounts.models import User

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client_for(db: None) -> Callable[[User], Client]:
    """A test client signed in as the given user (Client(enforce_csrf_checks) where CSRF matters)."""

    def make(user: User, *, csrf: bool = False) -> Client:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        return client

    return make
