"""Managers edit the routing rules in the app; agents may not."""

from __future__ import annotations

import pytest

from firstring.routing.models import RoutingRule

pytestmark = pytest.mark.django_db


def test_managers_edit_rules_in_the_app(client_for, manager, agent, billing_team):
    assert client_for(agent).get("/routing/rules/").status_code == 403
    client = client_for(manager)
    response = client.post(
        "/routing/rules/",
        {
            "name": "Spanish",
            "position": "5",
            "active": "on",
            "languages": "ES, es",
            "team": billing_team.pk,
            "skill_level": "3",
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert rule.languages == ["es"] and rule.team == billing_team
    page = client.get("/routing/rules/").content.decode()
    assert "language es" in page and "team Billing" in page
    bad = client.post(f"/routing/rules/{rule.pk}/", {"name": "Spanish", "position": "-1", "skill_level": "3"})
    assert bad.status_code == 422
    assert (
        client.post(
            f"/routing/rules/{rule.pk}/", {"name": "Español", "position": "5", "skill_level": "3"}
        ).status_code
        == 302
    )
    rule.refresh_from_db()
    assert rule.name == "Español" and rule.active is False and rule.team is None
    assert client_for(agent).post(f"/routing/rules/{rule.pk}/delete/").status_code == 403
    assert client.post(f"/routing/rules/{rule.pk}/delete/").status_code == 302
    assert not RoutingRule.objects.exists()
    assert client.get("/routing/rules/999/").status_code == 404
