"""Search text goes into full-text engines with their own syntax; none of it may break a request."""

from __future__ import annotations

from urllib.parse import quote

import pytest

pytestmark = pytest.mark.django_db

NASTY = [
    '"',
    "*",
    "AND",
    "a OR",
    "-x",
    "(",
    ")",
    "NEAR(a b)",
    "^",
    "a:b",
    "'",
    "\\",
    "%",
    "_",
    "é ü",
    "🙂",
    "a" * 200,
]


@pytest.mark.parametrize("q", NASTY)
def test_any_search_text_answers_200(api, receive, q):
    receive(text="parcel late again")
    for path in ("/conversations", "/customers"):
        response = api("get", f"{path}?q={quote(q)}")
        assert response.status_code == 200, (path, q, response.content)


def test_search_finds_message_text(api, receive):
    hit = receive(email="s1@example.com", text="the blender arrived broken").conversation
    receive(email="s2@example.com", text="thanks for the quick help")
    assert [c["id"] for c in api("get", "/conversations?q=blender").json()["items"]] == [hit.pk]
