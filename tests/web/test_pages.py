"""Every page renders for a signed-in agent; the inbox filters, sorts, searches and pages through HTMX."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_assign
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


def _row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="row-link" href="/conversations/(\d+)/"', html)]


def test_pages_ask_to_sign_in(receive):
    conversation = receive().conversation
    for url in [
        "/",
        f"/conversations/{conversation.pk}/",
        "/customers/",
        f"/customers/{conversation.customer_id}/",
    ]:
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_pages_send_a_content_security_policy_with_no_inline_script():
    policy = Client().get("/accounts/login/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    # A nonce is added only to pages that use one; none of ours runs inline script.
    assert directives["script-src"] == "'self'" and "'nonce'" not in policy
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"


def test_every_page_renders(client_for, agent, receive, email_channel):
    result = receive(email="zoe@example.com", text="Where is my parcel?", channel=email_channel)
    client = client_for(agent)
    pages = {
        "/": "Where is my parcel?",
        f"/conversations/{result.conversation.pk}/": "Where is my parcel?",
        "/customers/": "zoe@example.com",
        f"/customers/{result.customer.pk}/": "zoe@example.com",
        "/accounts/password_change/": "Change your password",
    }
    for url, expected in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert expected in response.content.decode(), url
    page = client.get("/").content.decode()
    assert "vendor/htmx.min.js" in page and "web/app.js" in page
    assert 'action="/accounts/logout/"' in page


def test_inbox_views_counts_and_filters(client_for, agent, receive, email_channel):
    mine = receive(email="a@example.com", text="first").conversation
    conversation_assign(conversation=mine, assignee=agent, actor=agent)
    mail = receive(email="b@example.com", text="second", channel=email_channel, language="de").conversation
    urgent = receive(email="c@example.com", text="third").conversation
    Conversation.objects.filter(pk=urgent.pk).update(priority=Conversation.Priority.URGENT)
    client = client_for(agent)

    page = client.get("/").content.decode()
    assert set(_row_ids(page)) == {mine.pk, mail.pk, urgent.pk}
    assert re.search(r'id="count-mine">1<', page)
    assert re.search(r'id="count-all_open">3<', page)

    assert _row_ids(client.get("/?view=mine").content.decode()) == [mine.pk]
    assert _row_ids(client.get("/?channel=email").content.decode()) == [mail.pk]
    assert _row_ids(client.get("/?language=de").content.decode()) == [mail.pk]
    assert _row_ids(client.get("/?priority=4").content.decode()) == [urgent.pk]
    assert _row_ids(client.get("/?sort=priority").content.decode())[0] == urgent.pk
    assert _row_ids(client.get("/?q=second").content.decode()) == [mail.pk]


def test_inbox_htmx_returns_the_list_and_counts_only(client_for, agent, receive):
    receive(email="a@example.com")
    response = client_for(agent).get("/?view=unassigned", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="inbox-list"')
    assert "<html" not in html
    assert 'id="count-unassigned" hx-swap-oob="true">1<' in html


def test_inbox_load_more_pages_with_a_cursor(client_for, agent, receive, monkeypatch):
    from firstring.web.views import inbox as inbox_view

    monkeypatch.setattr(inbox_view, "PAGE_SIZE", 2)
    ids = [receive(email=f"p{i}@example.com", text=f"m{i}").conversation.pk for i in range(5)]
    client = client_for(agent)
    first = client.get("/").content.decode()
    assert len(_row_ids(first)) == 2
    more = re.search(r'hx-get="([^"]+cursor=[^"]+)"', first)
    assert more is not None
    seen = _row_ids(first)
    url = more.group(1).replace("&amp;", "&")
    while url:
        response = client.get(url, **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith("<li")
        seen += _row_ids(html)
        found = re.search(r'hx-get="([^"]+cursor=[^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize(
    "query",
    ["view=nope", "sort=sideways", "status=lost", "priority=9", "team=x", "cursor=%%%", "q=" + "x" * 300],
)
def test_inbox_bad_filters_are_422_with_a_message(client_for, agent, query):
    client = client_for(agent)
    response = client.get(f"/?{query}")
    assert response.status_code == 422
    assert 'class="alert alert-error"' in response.content.decode()
    fragment = client.get(f"/?{query}", **HTMX)
    assert fragment.status_code == 422
    assert fragment["HX-Retarget"] == "#alerts"


def test_customer_search(client_for, agent, receive):
    receive(email="hannah@example.com", name="Hannah Arendt")
    receive(email="karl@example.com", name="Karl Popper")
    client = client_for(agent)
    html = client.get("/customers/?q=hannah").content.decode()
    assert "Hannah Arendt" in html and "Karl Popper" not in html
    fragment = client.get("/customers/?q=popper", **HTMX).content.decode()
    assert fragment.lstrip().startswith('<section id="results"')
    assert "Karl Popper" in fragment


def test_conversation_page_shows_customer_history_across_channels(client_for, agent, receive, email_channel):
    first = receive(email="liz@example.com", text="by api").conversation
    second = receive(email="liz@example.com", text="by mail", channel=email_channel).conversation
    html = client_for(agent).get(f"/conversations/{second.pk}/").content.decode()
    assert f'href="/conversations/{first.pk}/"' in html
    assert f'href="/customers/{second.customer_id}/"' in html
    # Two channels reach this e-mail address: the agent chooses.
    assert 'name="target"' in html
    assert "Support e-mail → E-mail liz@example.com" in html


def test_inbox_shows_a_name_or_else_an_identity_in_a_fixed_number_of_queries(client_for, agent, receive):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    receive(email="named@example.com", name="Nora Named")
    receive(email="nameless@example.com")
    client = client_for(agent)
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        page = client.get("/").content.decode()
    assert "Nora Named" in page and "named@example.com" not in page
    assert "nameless@example.com" in page
    for n in range(4):
        receive(email=f"more{n}@example.com", name="" if n % 2 else f"Named {n}")
    with CaptureQueriesContext(connection) as more:
        page = client.get("/").content.decode()
    assert "more1@example.com" in page and "Named 2" in page
    assert len(more) == len(few)
