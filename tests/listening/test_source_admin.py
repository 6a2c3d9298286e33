"""Sources in the admin: tokens are write-only, as channels' secrets are."""

from __future__ import annotations

from django.urls import reverse

from firstring.listening.models import Source


def test_a_source_token_is_set_and_never_shown(admin_client):
    source = Source.objects.create(
        kind="mastodon", slug="masto", name="Mastodon", secrets={"access_token": "tok-very-secret"},
        config={"instance": "https://social.example", "timeline": "notifications"},
    )  # fmt: skip
    url = reverse("admin:listening_source_change", args=[source.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"tok-very-secret" not in page.content and b"access_token (15 characters)" in page.content
    form = {
        "name": "Mastodon", "slug": "masto", "kind": "mastodon", "enabled": "on",
        "config": '{"instance": "https://social.example", "timeline": "notifications"}',
        "new_secret_name": "access_token", "new_secret_value": "rotated-token",
    }  # fmt: skip
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content[:2000]
    source.refresh_from_db()
    assert source.secrets == {"access_token": "rotated-token"}
    assert b"rotated-token" not in admin_client.get(url).content
