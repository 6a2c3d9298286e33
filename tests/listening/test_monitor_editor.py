"""The monitor editor in the web app: managers create, edit, pause and preview monitors."""

from __future__ import annotations

from django.test import Client

from firstring.listening.models import Monitor, MonitorMatch
from firstring.listening.pipeline import mentions_ingest
from tests.listening.conftest import make_post


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fields(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {
        "name": "Acme",
        "query": "acme OR @acme",
        "languages": "",
        "enabled": "on",
        "alert_webhook_url": "",
        "alert_emails": "",
    }
    fields.update(overrides)
    return fields


def test_a_manager_creates_a_monitor_that_the_pipeline_then_uses(manager, bluesky_source):
    client = _client(manager)
    assert client.get("/listening/monitors/new/").status_code == 200
    response = client.post(
        "/listening/monitors/new/",
        _fields(
            name="Acme refunds",
            query='(acme OR #acmefail) AND (refund OR "money back") -careers',
            languages="en, DE",
            source_kinds=["bluesky"],
            alert_emails="brand@example.com\nteam@example.com",
        ),
    )
    monitor = Monitor.objects.get(name="Acme refunds")
    assert response.status_code == 302 and response["Location"] == f"/listening/monitors/{monitor.pk}/"
    assert monitor.languages == ["de", "en"] and monitor.source_kinds == ["bluesky"]
    assert monitor.alert_emails == ["brand@example.com", "team@example.com"] and monitor.enabled
    assert monitor.created_by == manager
    result = mentions_ingest(
        posts=[
            make_post("acme still owes me a refund", n=1),
            make_post("#acmefail money back please", n=2),
            make_post("acme careers: refund desk hiring", n=3),
            make_post("acme is fine", n=4),
        ],
        source=bluesky_source,
    )
    assert result.stored == 2
    listed = client.get("/listening/monitors/")
    assert listed.status_code == 200 and "Acme refunds" in listed.content.decode()


def test_bad_input_is_shown_by_its_field_with_a_422(manager):
    client = _client(manager)
    response = client.post(
        "/listening/monitors/new/",
        _fields(query='acme AND "money back', languages="english", alert_emails="not-an-address"),
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "unclosed quote at position 10" in form.errors["query"][0]
    assert "not a language code" in form.errors["languages"][0]
    assert "alert_emails" in form.errors
    assert Monitor.objects.count() == 0
    for query in ("-acme", "acme AND", "(acme", "x" * 2001):
        assert client.post("/listening/monitors/new/", _fields(query=query)).status_code == 422
    bad_kind = client.post("/listening/monitors/new/", _fields(source_kinds=["myspace"]))
    assert bad_kind.status_code == 422 and "source_kinds" in bad_kind.context["form"].errors
    assert client.get("/listening/monitors/999999/").status_code == 404
    assert client.post("/listening/monitors/999999/pause/", {"enabled": "0"}).status_code == 404


def test_editing_applies_from_then_on_and_pausing_stops_matching(manager, monitor, bluesky_source):
    acme = monitor("acme", name="Acme")
    mentions_ingest(posts=[make_post("acme broke my phone", n=1)], source=bluesky_source)
    client = _client(manager)
    page = client.get(f"/listening/monitors/{acme.pk}/")
    assert page.status_code == 200 and 'value="Acme"' in page.content.decode()
    response = client.post(f"/listening/monitors/{acme.pk}/", _fields(query="acme -phone"))
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.query == "acme -phone" and acme.version == 2
    # Saving the form unchanged is no edit.
    assert client.post(f"/listening/monitors/{acme.pk}/", _fields(query="acme -phone")).status_code == 302
    acme.refresh_from_db()
    assert acme.version == 2
    # The stored match keeps the version it was made with; new posts meet the edited query.
    assert list(MonitorMatch.objects.values_list("monitor_version", flat=True)) == [1]
    mentions_ingest(
        posts=[make_post("acme phone died again", n=2), make_post("acme laptop died", n=3)],
        source=bluesky_source,
    )
    assert sorted(MonitorMatch.objects.values_list("monitor_version", flat=True)) == [1, 2]

    assert client.post(f"/listening/monitors/{acme.pk}/pause/", {"enabled": "0"}).status_code == 302
    acme.refresh_from_db()
    assert not acme.enabled and acme.version == 3
    assert mentions_ingest(posts=[make_post("acme tablet", n=4)], source=bluesky_source).stored == 0
    assert "Resume" in client.get("/listening/monitors/").content.decode()
    assert client.post(f"/listening/monitors/{acme.pk}/pause/", {"enabled": "maybe"}).status_code == 422


def test_the_preview_shows_what_the_edited_query_would_have_matched(manager, monitor, bluesky_source):
    acme = monitor("acme", name="Acme")
    monitor("globex", name="Globex")
    mentions_ingest(
        posts=[
            make_post("acme lost my parcel <b>again</b>", n=1),
            make_post("acme refund came through", n=2),
            make_post("globex refund never came", n=3),
        ],
        source=bluesky_source,
    )
    client = _client(manager)
    response = client.post(f"/listening/monitors/{acme.pk}/preview/", {"query": "refund", "name": ""})
    assert response.status_code == 200 and response.context["form"]["query"].value() == "refund"
    preview = response.context["preview"]
    assert preview.scanned == 3 and preview.terms == preview.required == ["refund"]
    assert sorted(m.text for m in preview.matched) == ["acme refund came through", "globex refund never came"]
    assert [m.text for m in preview.added] == ["globex refund never came"]
    assert [m.text for m in preview.dropped] == ["acme lost my parcel <b>again</b>"]
    fragment = client.post(
        f"/listening/monitors/{acme.pk}/preview/", {"query": "refund"}, HTTP_HX_REQUEST="true"
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html and 'id="preview"' in html
    assert "would have matched <strong>2</strong> of the last 3" in html
    assert "&lt;b&gt;again&lt;/b&gt;" in html and "<b>again</b>" not in html
    # Nothing is stored by a preview.
    acme.refresh_from_db()
    assert acme.query == "acme" and acme.version == 1

    # Without HTMX the editor comes back whole with the preview under it; a new monitor has no diff.
    page = client.post(
        "/listening/monitors/new/preview/",
        {"query": "(globex OR #globexfail) -@globex", "source_kinds": ["rss"]},
    )
    assert page.status_code == 200 and page.context["preview"].matched == []
    assert "Looks for #globexfail, @globex, globex; a post must contain one of #globexfail, globex." in (
        page.content.decode()
    )
    bad = client.post("/listening/monitors/new/preview/", {"query": "acme OR"}, HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and bad["HX-Retarget"] == "#alerts"
    assert "the query ends where a term was expected" in bad.content.decode()


def test_only_managers_edit_monitors_and_csrf_is_checked(agent, manager, monitor):
    acme = monitor("acme", name="Acme")
    client = _client(agent)
    assert client.get("/listening/monitors/").status_code == 403
    assert client.post("/listening/monitors/new/", _fields()).status_code == 403
    assert client.post(f"/listening/monitors/{acme.pk}/", _fields(query="evil")).status_code == 403
    assert client.post(f"/listening/monitors/{acme.pk}/pause/", {"enabled": "0"}).status_code == 403
    assert client.post(f"/listening/monitors/{acme.pk}/preview/", {"query": "x"}).status_code == 403
    assert "listening/monitors/" not in client.get("/listening/").content.decode()
    acme.refresh_from_db()
    assert acme.query == "acme" and acme.enabled
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(manager)
    assert strict.post(f"/listening/monitors/{acme.pk}/pause/", {"enabled": "0"}).status_code == 403
    assert Client().get("/listening/monitors/").status_code == 302
