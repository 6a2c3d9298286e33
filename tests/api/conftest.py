"""Callers for the API tests: one bearer-token client per named actor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from firstring.accounts.models import User
from tests.conftest import make_api_caller


@pytest.fixture
def as_agent(agent: User) -> Callable[..., Any]:
    return make_api_caller(agent)


@pytest.fixture
def as_billing(billing_agent: User) -> Callable[..., Any]:
    return make_api_caller(billing_agent)


@pytest.fixture
def as_manager(manager: User) -> Callable[..., Any]:
    return make_api_caller(manager)
