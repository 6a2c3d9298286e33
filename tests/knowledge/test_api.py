"""The articles API: staff read everything, managers and admins write; bad input is a 4xx."""

from __future__ import annotations

from firstring.knowledge.models import Article
from tests.conftest import make_api_caller


def test_write_publish_search_and_restore_through_the_api(api, section, help_center):
    created = api(
        "post",
        "/articles",
        json={"section_id": section.pk, "language": "en", "title": "Returns", "body": "Within **14** days."},
    )
    assert created.status_code == 201, created.content
    article = created.json()
    assert (article["state"], article["live"], article["body_html"]) == ("draft", False, "")
    tid = article["id"]
    assert api("get", "/articles/search?q=returns").json()["items"] == []
    assert api("post", f"/articles/{tid}/submit").json()["state"] == "review"
    live = api("post", f"/articles/{tid}/publish").json()
    assert live["live"] and "<strong>14</strong>" in live["body_html"]
    saved = api("put", f"/articles/{tid}", json={"title": "Returns", "body": "Within 30 days.", "note": "x"})
    assert saved.json()["state"] == "draft" and "14" in saved.json()["body_html"]
    hits = api("get", "/articles/search?q=retrns").json()
    assert [h["id"] for h in hits["items"]] == [tid] and hits["corrections"] == {"retrns": ["returns"]}
    versions = api("get", f"/articles/{tid}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    restored = api("post", f"/articles/{tid}/versions/1/restore").json()
    assert restored["draft_body"] == "Within **14** days."
    assert api("post", f"/articles/{tid}/versions/9/restore").status_code == 404
    german = api("post", f"/articles/{tid}/translations", json={"language": "de", "title": "Rückgabe"})
    assert german.status_code == 201 and german.json()["article_id"] == article["article_id"]
    assert (
        api("post", f"/articles/{tid}/translations", json={"language": "de", "title": "x"}).status_code == 409
    )
    assert (
        api("post", f"/articles/{tid}/translations", json={"language": "fr", "title": "x"}).status_code == 422
    )
    internal = api("put", f"/articles/{tid}/visibility", json={"visibility": "internal"}).json()
    assert internal["visibility"] == "internal"
    hit = api("get", "/articles/search?q=returns").json()["items"][0]
    assert hit["internal"] is True
    listed = api("get", f"/articles?help_center_id={help_center.pk}&state=live").json()
    assert [a["id"] for a in listed["items"]] == [tid]


def test_agents_read_but_do_not_write(agent, manager, section, publish):
    t = publish("Override codes", "1234", visibility=Article.Visibility.INTERNAL)
    as_agent = make_api_caller(agent)
    assert as_agent("get", f"/articles/{t.pk}").json()["draft_body"] == "1234"
    assert (
        as_agent(
            "post", "/articles", json={"section_id": section.pk, "language": "en", "title": "x"}
        ).status_code
        == 403
    )
    assert as_agent("post", f"/articles/{t.pk}/unpublish").status_code == 403
    assert as_agent("put", f"/articles/{t.pk}", json={"title": "x", "body": ""}).status_code == 403


def test_visitors_without_a_token_get_nothing(client, publish):
    t = publish("Reset your password", "x")
    assert client.get(f"/api/v1/articles/{t.pk}").status_code == 401
    assert client.get("/api/v1/articles/search?q=password").status_code == 401


def test_bad_input_is_a_4xx(api, section):
    assert (
        api("post", "/articles", json={"section_id": 999, "language": "en", "title": "x"}).status_code == 422
    )
    assert (
        api("post", "/articles", json={"section_id": section.pk, "language": "EN!", "title": "x"}).status_code
        == 422
    )
    assert (
        api("post", "/articles", json={"section_id": section.pk, "language": "en", "title": ""}).status_code
        == 422
    )
    assert (
        api(
            "post", "/articles", json={"section_id": section.pk, "language": "en", "title": "a\x00"}
        ).status_code
        == 422
    )
    assert api("get", "/articles/0").status_code == 422
    assert api("get", "/articles/123456").status_code == 404
    assert api("get", "/articles/search?q=").status_code == 422
    assert api("get", "/articles?cursor=garbage").status_code == 422
