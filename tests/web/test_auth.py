"""Signing in and out, and resetting a forgotten password by e-mail."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db


def test_sign_in_page_and_sign_in(agent):
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and "Sign in" in page.content.decode()
    response = client.post("/accounts/login/", {"username": "ana@example.com", "password": "pw-agent-123"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_with_a_message(agent):
    response = Client().post("/accounts/login/", {"username": "ana@example.com", "password": "nope"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_sign_out_is_post_only(client_for, agent):
    client = client_for(agent)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_password_reset_by_email(agent):
    client = Client()
    assert "Reset your password" in client.get("/accounts/password_reset/").content.decode()
    response = client.post("/accounts/password_reset/", {"email": "ana@example.com"})
    assert response.status_code == 302
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "a-new-Pass-2024!", "new_password2": "a-new-Pass-2024!"}
    )
    assert done.status_code == 302
    assert "Password set" in client.get(done["Location"]).content.decode()
    agent.refresh_from_db()
    assert agent.check_password("a-new-Pass-2024!")


def test_password_reset_for_unknown_address_says_the_same(db):
    response = Client().post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []
