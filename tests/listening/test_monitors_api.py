"""Monitors through the API: managers create and edit them; bad queries are clear 422s."""

from __future__ import annotations

from firstring.insights.topic_services import topic_create
from firstring.listening.models import Monitor
from firstring.listening.pipeline import mentions_ingest
from tests.conftest import make_api_caller
from tests.listening.conftest import make_post


def test_create_edit_and_list_monitors(api):
    response = api(
        "post",
        "/listening/monitors",
        json={
            "name": "Acme",
            "query": 'acme OR "acme bank" -jobs',
            "languages": ["EN"],
            "source_kinds": ["bluesky"],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["languages"] == ["en"] and body["version"] == 1
    response = api("patch", f"/listening/monitors/{body['id']}", json={"query": "acme OR #acme"})
    assert response.status_code == 200
    assert response.json()["version"] == 2 and response.json()["query"] == "acme OR #acme"
    listed = api("get", "/listening/monitors").json()
    assert [m["name"] for m in listed["items"]] == ["Acme"]


def test_bad_queries_and_fields_are_422(api):
    cases = [
        ({"name": "A", "query": "(acme"}, "the parenthesis at position 1 is never closed"),
        ({"name": "A", "query": "NOT acme"}, "needs a term that a post must contain"),
        ({"name": "A", "query": "acme", "languages": ["english"]}, "not a language code"),
        ({"name": "A", "query": "acme", "source_kinds": ["myspace"]}, "unknown source kind"),
        ({"name": "A", "query": "acme", "alert_webhook_url": "ftp://x"}, "must be an http(s) URL"),
        ({"name": "A", "query": "acme", "alert_emails": ["nope"]}, "not a valid e-mail address"),
        ({"name": "A", "query": "acme", "extra": 1}, "the request does not match the schema"),
    ]
    for payload, message in cases:
        response = api("post", "/listening/monitors", json=payload)
        assert response.status_code == 422, (payload, response.content)
        assert message in response.json()["detail"]
    assert not Monitor.objects.exists()
    response = api("patch", "/listening/monitors/999", json={"query": "acme"})
    assert response.status_code == 404


def test_agents_read_but_do_not_change_monitors(agent, monitor):
    acme = monitor("acme")
    call = make_api_caller(agent)
    assert call("get", "/listening/monitors").status_code == 200
    assert call("post", "/listening/monitors", json={"name": "B", "query": "b"}).status_code == 403
    assert call("patch", f"/listening/monitors/{acme.pk}", json={"query": "b"}).status_code == 403
    # The preview is part of editing, as in the web editor.
    assert call("post", "/listening/preview", json={"query": "acme"}).status_code == 403


def test_preview_shows_what_a_query_would_have_matched(api, monitor, bluesky_source):
    monitor("acme OR globex")
    mentions_ingest(
        posts=[
            make_post("acme broke", n=1),
            make_post("globex broke", n=2),
            make_post("acme and globex", n=3),
        ],
        source=bluesky_source,
    )
    response = api("post", "/listening/preview", json={"query": "globex -acme"})
    assert response.status_code == 200
    assert [m["text"] for m in response.json()["items"]] == ["globex broke"]
    assert api("post", "/listening/preview", json={"query": "-acme"}).status_code == 422


def test_mentions_filter_by_monitor_tone_and_status(api, monitor, bluesky_source):
    acme = monitor("acme")
    mentions_ingest(
        posts=[make_post("acme is terrible, I hate it", n=1), make_post("acme is wonderful, thanks!", n=2)],
        source=bluesky_source,
    )
    items = api("get", f"/listening/mentions?monitor={acme.pk}&tone=negative").json()["items"]
    assert [m["text"] for m in items] == ["acme is terrible, I hate it"]
    assert items[0]["monitor_ids"] == [acme.pk]
    assert api("get", "/listening/mentions?tone=angry").status_code == 422
    assert api("get", "/listening/mentions?status=lost").status_code == 422


def test_mentions_carry_and_filter_by_topic_and_urgency(api, manager, monitor, bluesky_source):
    delivery = topic_create(user=manager, name="delivery", examples=["where is my parcel"])
    topic_create(user=manager, name="billing", examples=["I was charged twice"])
    monitor("acme")
    mentions_ingest(
        posts=[
            make_post("acme lost my parcel and I am calling my lawyer", n=1),
            make_post("acme charged me twice this month", n=2),
        ],
        source=bluesky_source,
    )
    [urgent] = api("get", "/listening/mentions?urgent=true").json()["items"]
    assert urgent["urgency"] == ["legal"] and urgent["topic_id"] == delivery.pk
    [calm] = api("get", "/listening/mentions?urgent=false").json()["items"]
    assert calm["urgency"] == [] and calm["text"] == "acme charged me twice this month"
    by_topic = api("get", f"/listening/mentions?topic={delivery.pk}").json()["items"]
    assert [m["id"] for m in by_topic] == [urgent["id"]]
    assert api("get", "/listening/mentions?topic=0").status_code == 422
    assert api("get", "/listening/mentions?urgent=perhaps").status_code == 422


def test_the_admin_checks_queries_and_bumps_the_version(admin_user):
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    form = {
        "name": "Acme",
        "query": "(acme",
        "languages": "[]",
        "source_kinds": "[]",
        "enabled": "on",
        "alert_webhook_url": "",
        "alert_emails": "[]",
    }
    response = client.post("/admin/listening/monitor/add/", form)
    assert response.status_code == 200 and "never closed" in response.content.decode()
    response = client.post(
        "/admin/listening/monitor/add/", {**form, "query": "acme", "source_kinds": '["myspace"]'}
    )
    assert response.status_code == 200 and "source kinds among" in response.content.decode()
    response = client.post(
        "/admin/listening/monitor/add/", {**form, "query": "acme", "alert_webhook_url": "ftp://hooks.example"}
    )
    assert response.status_code == 200 and "must be an http(s) URL" in response.content.decode()
    response = client.post("/admin/listening/monitor/add/", {**form, "query": "acme"})
    assert response.status_code == 302
    monitor = Monitor.objects.get()
    client.post(f"/admin/listening/monitor/{monitor.pk}/change/", {**form, "query": "acme OR globex"})
    monitor.refresh_from_db()
    assert (monitor.query, monitor.version) == ("acme OR globex", 2)
    # Saved again unchanged: no edit, so the listeners' matcher stays.
    client.post(f"/admin/listening/monitor/{monitor.pk}/change/", {**form, "query": "acme OR globex"})
    monitor.refresh_from_db()
    assert monitor.version == 2
    assert client.get("/admin/listening/source/add/").status_code == 200


def test_analytics_give_volume_tone_share_of_voice_terms_and_authors(api, monitor, bluesky_source):
    monitor("acme", name="Acme")
    globex = monitor("globex", name="Globex")
    mentions_ingest(
        posts=[
            make_post("acme refund never came, awful", n=1, seconds=0, followers=900),
            make_post("acme refund still missing, terrible", n=2, seconds=3600, followers=50),
            make_post("acme is lovely, thanks", n=3, seconds=7200),
            make_post("globex works fine", n=4, seconds=60),
        ],
        source=bluesky_source,
    )
    response = api(
        "get", "/listening/analytics?since=2026-11-24T00:00:00Z&until=2026-11-25T00:00:00Z&bucket=hour"
    )
    assert response.status_code == 200, response.content
    body = {m["name"]: m for m in response.json()["monitors"]}
    assert body["Acme"]["mentions"] == 3 and body["Globex"]["mentions"] == 1
    assert body["Acme"]["share_of_voice"] == 0.75 and body["Globex"]["share_of_voice"] == 0.25
    assert body["Acme"]["tones"]["negative"] == 2
    assert [(p["mentions"], p["negative"]) for p in body["Acme"]["series"]] == [(1, 1), (1, 1), (1, 0)]
    assert "refund" in body["Acme"]["top_terms"] and "acme" not in body["Acme"]["top_terms"]
    assert body["Acme"]["top_authors"][0] == {"handle": "author1.bsky.social", "reach": 900}
    only = api(
        "get",
        f"/listening/analytics?monitor={globex.pk}&since=2026-11-24T00:00:00Z&until=2026-11-25T00:00:00Z",
    )
    assert [m["share_of_voice"] for m in only.json()["monitors"]] == [1.0]
    assert api("get", "/listening/analytics?bucket=week").status_code == 422
    assert api("get", "/listening/analytics?monitor=999").status_code == 422
    assert api("get", "/listening/analytics?since=9999-01-01T00:00:00Z").status_code == 422
