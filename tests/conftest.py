"""Shared fixtures: named actors (an admin, a manager, two agents in different teams, a customer)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from firstring.accounts.models import Team, User
from firstring.accounts.services import api_token_create
from firstring.channels.models import Channel
from firstring.conversations.services import Inbound, ReceiveResult, receive_message
from firstring.customers.identities import IdentityClaim, normalize_claim

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_service(name: str, host: str, port: int) -> None:
    """Skip with a reason when a local service is absent; in CI its absence is a failure."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        message = f"{name} is not reachable on {host}:{port}"
        if IN_CI:
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Among transactional tests, those with serialized rollback first, whatever order files are given in.

    pytest-django runs transactional tests after the others. A transactional test without serialized
    rollback ends with a flush that runs post_migrate, which creates the content types and permissions
    again; a serialized-rollback test after it then inserts the same rows from its snapshot and fails
    on their unique keys. The sort is stable and keeps pytest-django's groups.
    """

    def group(item: pytest.Item) -> int:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", [])
        transactional = bool(
            marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))
        )
        transactional = transactional or "transactional_db" in fixtures or "live_server" in fixtures
        if not transactional:
            return 0 if marker or "db" in fixtures else 3
        return 1 if marker and marker.kwargs.get("serialized_rollback") else 2

    items.sort(key=group)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2's deliberate slowness is for production, not for creating fixture users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_weekly_digest(settings: Any) -> None:
    # The worker's periodic jobs would send last week's digest in any test that runs them with a manager;
    # the digest's own tests turn it on.
    settings.FIRSTRING_DIGEST_ENABLED = False


@pytest.fixture
def support_team(db: None) -> Team:
    return Team.objects.create(name="Support", slug="support")


@pytest.fixture
def billing_team(db: None) -> Team:
    return Team.objects.create(name="Billing", slug="billing")


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser(email="ada@example.com", password="pw-admin-123", name="Ada Admin")


@pytest.fixture
def manager(db: None, support_team: Team) -> User:
    user = User.objects.create_user(
        email="mo@example.com", password="pw-manager-123", name="Mo Manager", role=User.Role.MANAGER
    )
    support_team.members.add(user)
    return user


@pytest.fixture
def agent(db: None, support_team: Team) -> User:
    user = User.objects.create_user(email="ana@example.com", password="pw-agent-123", name="Ana Agent")
    support_team.members.add(user)
    return user


@pytest.fixture
def billing_agent(db: None, billing_team: Team) -> User:
    user = User.objects.create_user(email="bo@example.com", password="pw-agent-456", name="Bo Billing")
    billing_team.members.add(user)
    return user


@pytest.fixture
def api_channel(db: None) -> Channel:
    # get_or_create: a transactional test's flush removes the row the data migration made.
    return Channel.objects.get_or_create(slug="api", defaults={"kind": "api", "name": "API"})[0]


@pytest.fixture
def email_channel(db: None, support_team: Team) -> Channel:
    return Channel.objects.create(
        kind="email", slug="support-email", name="Support e-mail", team=support_team
    )


@pytest.fixture
def receive(api_channel: Channel) -> Callable[..., ReceiveResult]:
    """Receive a message as a channel would: receive(email="…", text="…", channel=…, external_id=…)."""

    def _receive(
        *,
        text: str = "Hello, my order has not arrived.",
        channel: Channel | None = None,
        email: str | None = None,
        phone: str | None = None,
        handle: tuple[str, str] | None = None,
        **fields: Any,
    ) -> ReceiveResult:
        claims = []
        if email:
            claims.append(IdentityClaim("email", email))
        if phone:
            claims.append(IdentityClaim("phone", phone))
        if handle:
            claims.append(IdentityClaim("handle", handle[1], handle[0]))
        if not claims:
            claims.append(IdentityClaim("email", "carla@example.com"))
        return receive_message(
            Inbound(
                channel=channel or api_channel,
                claims=[normalize_claim(c) for c in claims],
                text=text,
                **fields,
            )
        )

    return _receive


@pytest.fixture
def api(admin_user: User) -> Callable[..., Any]:
    """Call the REST API with an admin's bearer token: api("post", "/inbound", json={...})."""
    return make_api_caller(admin_user)


def make_api_caller(user: User) -> Callable[..., Any]:
    _, raw = api_token_create(user=user, name="tests")
    client = Client()

    def call(method: str, path: str, json: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {raw}", **extra}
        if json is not None:
            import json as jsonlib

            kwargs["data"] = jsonlib.dumps(json)
            kwargs["content_type"] = "application/json"
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


@pytest.fixture
def run_tasks() -> Callable[[], int]:
    """Run every ready background task with django-tasks-db's own worker until the queue is empty.

    The worker's loop closes connections between tasks, which would end a test's transaction, so this
    drives the same Worker.run_task on each claimed row instead.
    """
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="pytest",
        excluded_queue_names=[],
    )

    def _run() -> int:
        ran = 0
        while True:
            # Claimed in a transaction of its own, as the worker does: this also runs outside a test's
            # transaction (in a live server's thread), where the row lock needs one.
            with transaction.atomic():
                result = DBTaskResult.objects.ready().get_locked()
                if result is None:
                    return ran
                result.claim(worker.worker_id)
            worker.run_task(result)
            ran += 1

    return _run
