"""/healthz, and the Django admin for customers, conversations and channels."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.lib.net import free_port
from firstring.ops.models import WorkerHeartbeat
from firstring.ops.services import worker_heartbeat

# ---- /healthz


@pytest.mark.django_db
def test_healthz_reports_database_and_a_live_worker():
    worker_heartbeat(worker_id="w-1", started_at=timezone.now())
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["worker"]["ok"] is True
    assert body["worker"]["alive"] == 1


@pytest.mark.django_db
def test_healthz_is_degraded_without_a_recent_worker():
    assert Client().get("/healthz").json()["worker"] == {
        "ok": False,
        "backend": "db",
        "alive": 0,
        "alive_backends": [],
        "last_seen": None,
    }
    worker_heartbeat(worker_id="w-old", started_at=timezone.now())
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))
    response = Client().get("/healthz")
    assert response.status_code == 200, "the web app itself works; only background work is behind"
    body = response.json()
    assert body["status"] == "degraded"
    assert body["worker"]["ok"] is False and body["worker"]["last_seen"] is not None


def test_a_server_whose_database_is_down_answers_503_not_500(tmp_path):
    """A real server whose PostgreSQL is unreachable (nothing listens on the port): /healthz says why."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/firstring",
        "FIRSTRING_VAR_DIR": str(tmp_path),
    }
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "firstring", "serve", "--no-worker", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the server did not start:\n" + (tmp_path / "serve.log").read_text())
                time.sleep(0.2)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "error"
        assert body["database"]["ok"] is False
        assert "connect" in body["database"]["error"].lower()
        assert body["worker"] == {"ok": False, "error": "database unavailable"}

        # Every other request is answered 503 with Retry-After too, never Django's 500: a Twilio
        # webhook (Twilio then uses the number's fallback URL), the API (JSON) and a page.
        base = f"http://127.0.0.1:{port}"
        webhook = httpx.post(
            f"{base}/channels/phone/twilio/main/incoming", data={"CallSid": "CA1"}, timeout=15
        )
        api = httpx.get(f"{base}/api/v1/me", headers={"Authorization": "Bearer fr_unknown"}, timeout=15)
        page = httpx.get(f"{base}/help/", timeout=15)  # a help center, looked up by its prefix
        for answer in (webhook, api, page):
            assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "5"), answer.text
        assert api.json() == {"detail": "the database is busy; try again"}
        assert "busy" in page.text
    finally:
        server.terminate()
        server.wait(20)
        log.close()


# ---- the admin


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.django_db
def test_channel_admin_never_shows_secrets_and_rotates_them_write_only(admin_client, api_channel):
    api_channel.secrets = {"signing_secret": "very-secret-value-123"}
    api_channel.save()
    url = reverse("admin:firstring_channels_channel_change", args=[api_channel.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"very-secret-value-123" not in page.content
    assert b"signing_secret (21 characters)" in page.content

    form = {
        "name": "API",
        "slug": "api",
        "kind": "api",
        "team": "",
        "enabled": "on",
        "config": '{"callback_url": "https://hooks.example.com/in"}',
        "new_secret_name": "signing_secret",
        "new_secret_value": "rotated-value-456",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    api_channel.refresh_from_db()
    assert api_channel.secrets == {"signing_secret": "rotated-value-456"}
    assert api_channel.config == {"callback_url": "https://hooks.example.com/in"}
    assert b"rotated-value-456" not in admin_client.get(url).content

    # Saving without touching the secrets keeps them; a value without a name is refused.
    admin_client.post(url, form | {"new_secret_name": "", "new_secret_value": ""})
    api_channel.refresh_from_db()
    assert api_channel.secrets == {"signing_secret": "rotated-value-456"}
    refused = admin_client.post(url, form | {"new_secret_name": ""})
    assert refused.status_code == 200 and b"Name the secret" in refused.content

    admin_client.post(
        url, form | {"new_secret_name": "", "new_secret_value": "", "remove_secrets": ["signing_secret"]}
    )
    api_channel.refresh_from_db()
    assert api_channel.secrets == {}


@pytest.mark.django_db
def test_conversation_admin_lists_searches_and_is_read_only(admin_client, receive, email_channel):
    receive(email="zed@example.com", text="Parcel lost", subject="Lost parcel", channel=email_channel)
    conversation = Conversation.objects.get()
    listing = admin_client.get(
        reverse("admin:conversations_conversation_changelist"), {"q": "zed@example.com"}
    )
    assert listing.status_code == 200 and b"Lost parcel" in listing.content
    filtered = admin_client.get(
        reverse("admin:conversations_conversation_changelist"), {"status__exact": "resolved"}
    )
    assert b"Lost parcel" not in filtered.content
    change = admin_client.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    posted = admin_client.post(
        reverse("admin:conversations_conversation_change", args=[conversation.pk]), {"status": "resolved"}
    )
    assert posted.status_code == 403
    assert Conversation.objects.get().status == "open"
    assert (
        admin_client.get(reverse("admin:conversations_message_changelist"), {"q": "Parcel"}).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:conversations_conversation_add")).status_code == 403


@pytest.mark.django_db
def test_customer_admin_finds_customers_by_identity(admin_client, receive):
    customer = receive(phone="+44 7700 900123", text="Hi").customer
    receive(email="other@example.com", text="Hello")
    listing = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "+447700900123"})
    assert listing.status_code == 200
    assert f"Customer #{customer.pk}<".encode() in listing.content
    assert b"1 result" in listing.content
    assert (
        admin_client.get(reverse("admin:customers_identity_changelist"), {"kind__exact": "phone"}).status_code
        == 200
    )


def test_an_overloaded_database_is_told_from_a_broken_query():
    from django.db import OperationalError
    from psycopg_pool import PoolTimeout

    from firstring.lib.database import database_busy

    waited = OperationalError("couldn't get a connection after 5.00 sec")
    waited.__cause__ = PoolTimeout("couldn't get a connection after 5.00 sec")
    assert database_busy(waited)
    assert database_busy(OperationalError("database is locked"))
    assert database_busy(OperationalError("deadlock detected\nDETAIL:  Process 1 waits for ShareLock"))
    assert database_busy(OperationalError("FATAL:  sorry, too many clients already"))
    # A bug, not load: SQLite names a missing table in an OperationalError too.
    assert not database_busy(OperationalError("no such table: voice_call"))
    assert not database_busy(ValueError("connection refused"))
    assert not database_busy(None)
