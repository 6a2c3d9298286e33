"""Users, teams, the caller and their API tokens through the API."""

from __future__ import annotations

import pytest
from django.test import Client

from firstring.accounts.models import ApiToken, Team, User

pytestmark = pytest.mark.django_db


def test_me(as_agent, agent):
    me = as_agent("get", "/me").json()
    assert me["email"] == agent.email and me["role"] == "agent"
    assert [t["slug"] for t in me["teams"]] == ["support"]


def test_tokens_are_shown_once_listed_without_secret_and_revocable(as_agent, agent, admin_user):
    created = as_agent("post", "/me/tokens", json={"name": "zapier"})
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("fr_") and created.json()["prefix"] == raw[:10]
    listed = as_agent("get", "/me/tokens").json()
    assert {t["name"] for t in listed} == {"tests", "zapier"}
    assert all("token" not in t for t in listed)

    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/me").json()["email"] == agent.email
    token_id = created.json()["id"]
    assert as_agent("delete", f"/me/tokens/{token_id}").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert ApiToken.objects.get(pk=token_id).revoked_at is not None

    # Somebody else's token is not found, not revoked.
    other, _ = ApiToken.objects.get_or_create(
        user=admin_user, name="admin's", prefix="fr_x", key_hash="h" * 64
    )
    assert as_agent("delete", f"/me/tokens/{other.pk}").status_code == 404
    assert ApiToken.objects.get(pk=other.pk).revoked_at is None


def test_staff_list_users_and_teams(as_agent, agent, manager, billing_agent, support_team):
    users = as_agent("get", "/users").json()
    assert {u["email"] for u in users["items"]} == {agent.email, manager.email, billing_agent.email}
    page = as_agent("get", "/users?limit=2").json()
    rest = as_agent("get", f"/users?limit=2&cursor={page['next_cursor']}").json()
    assert len(page["items"] + rest["items"]) == 3
    assert as_agent("get", f"/users/{manager.pk}").json()["role"] == "manager"
    assert as_agent("get", "/users/987654").status_code == 404
    team = as_agent("get", f"/teams/{support_team.pk}").json()
    assert {m["email"] for m in team["members"]} == {agent.email, manager.email}
    assert {t["slug"] for t in as_agent("get", "/teams").json()["items"]} == {"support", "billing"}


def test_only_admins_create_users_and_teams(api, as_manager, as_agent, support_team):
    body = {"email": "New@Example.com", "name": "Nia", "role": "agent", "team_ids": [support_team.pk]}
    assert as_agent("post", "/users", json=body).status_code == 403
    assert as_manager("post", "/users", json=body).status_code == 403
    created = api("post", "/users", json=body)
    assert created.status_code == 201, created.content
    assert created.json()["email"] == "new@example.com"
    assert [t["slug"] for t in created.json()["teams"]] == ["support"]
    assert not User.objects.get(email="new@example.com").has_usable_password()
    assert api("post", "/users", json=body).status_code == 409
    assert (
        api("post", "/users", json={**body, "email": "x@example.com", "team_ids": [10**9]}).status_code == 404
    )
    assert api("post", "/users", json={"email": "nope"}).status_code == 422
    assert api("post", "/users", json={"email": "p@example.com", "password": "123"}).status_code == 422
    assert api("post", "/users", json={"email": "p@example.com", "role": "root"}).status_code == 422

    team_body = {"name": "Returns Desk"}
    assert as_manager("post", "/teams", json=team_body).status_code == 403
    team = api("post", "/teams", json={**team_body, "member_ids": [created.json()["id"]]})
    assert team.status_code == 201 and team.json()["slug"] == "returns-desk"
    assert [m["email"] for m in team.json()["members"]] == ["new@example.com"]
    assert api("post", "/teams", json=team_body).status_code == 409
    assert api("post", "/teams", json={"name": "!!!"}).status_code == 422
    assert api("post", "/teams", json={"name": "日本 サポート"}).json()["slug"] == "日本-サポート"
    assert Team.objects.filter(slug="returns-desk").count() == 1
