"""A help center on its own domain: served at the root there, links without the prefix, forms with
CSRF, and nothing else of the installation on that host."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from firstring.community.services import thread_create
from firstring.knowledge.admin import HelpCenterForm
from firstring.knowledge.models import HelpCenter
from tests.community.conftest import make_member

HOST = "help.acme.test"


@pytest.fixture
def on_domain(help_center, settings) -> HelpCenter:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]
    help_center.domain = HOST
    help_center.save(update_fields=["domain"])
    return help_center


def _get(path: str, client: Client | None = None):
    return (client or Client()).get(path, HTTP_HOST=HOST)


def test_the_help_center_is_served_at_the_root_of_its_domain(on_domain, publish):
    article = publish("Reset your password", "Open the sign-in page.")
    thread = thread_create(
        help_center=on_domain,
        author=make_member("alice@example.com", "Alice"),
        title="Password reset mail never came",
        body="Nothing arrived.",
        language="en",
    )
    root = _get("/", Client(headers={"Accept-Language": "de"}))
    assert root.status_code == 302 and root["Location"] == "/de/"
    home = _get("/en/").content.decode()
    link = f"/en/articles/{article.article_id}-reset-your-password/"
    assert f'href="{link}"' in home and "/help/en/" not in home
    assert "Open the sign-in page." in _get(link).content.decode()
    community = _get("/en/community/").content.decode()
    assert f'href="/en/community/t/{thread.pk}/"' in community
    assert "Nothing arrived." in _get(f"/en/community/t/{thread.pk}/").content.decode()
    sitemap = _get("/sitemap.xml").content.decode()
    assert f"<loc>http://{HOST}{link}</loc>" in sitemap
    assert f"<loc>http://{HOST}/en/community/t/{thread.pk}/</loc>" in sitemap
    assert _get("/brand.css").status_code == 200
    # The installation's own address still serves it under its prefix.
    assert Client().get(f"/help{link}").status_code == 200


def test_nothing_else_is_served_on_a_help_centers_domain(on_domain):
    for path in ("/api/v1/community/threads", "/accounts/login/", "/admin/", "/help/en/", "/community/"):
        assert _get(path).status_code == 404, path
    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    assert _get(f"/{other.prefix}/").status_code == 404
    assert Client().get("/", HTTP_HOST="unknown.example").status_code == 400


def test_forms_on_the_domain_pass_csrf_and_other_origins_do_not(on_domain):
    client = Client(enforce_csrf_checks=True)
    page = _get("/en/signin/", client).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"email": "carla@example.com", "csrfmiddlewaretoken": token}
    sent = client.post("/en/signin/", form, HTTP_HOST=HOST, HTTP_ORIGIN=f"http://{HOST}")
    assert sent.status_code == 200 and "carla@example.com" in sent.content.decode()
    forged = client.post("/en/signin/", form, HTTP_HOST=HOST, HTTP_ORIGIN="http://evil.example")
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("https://help.acme.test", "host name"),
        ("help.acme.test:8443", "host name"),
        ("help.acme.test/en", "host name"),
        ("not-listed.example", "ALLOWED_HOSTS"),
        ("support.acme.test", "own address"),
        ("127.0.0.1", "host name"),
    ],
)
def test_the_admin_takes_only_a_plain_allowed_host_name(help_center, settings, value, problem):
    settings.ALLOWED_HOSTS = ["testserver", ".acme.test", "127.0.0.1"]
    settings.SITE_URL = "https://support.acme.test"
    data = {
        "name": "Acme",
        "prefix": "acme",
        "default_language": "en",
        "languages": "[]",
        "primary_color": "#0550ae",
        "domain": value,
    }
    form = HelpCenterForm(data=data)
    assert not form.is_valid() and problem in str(form.errors["domain"])
    form = HelpCenterForm(data={**data, "domain": " Help.ACME.test. "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["domain"] == "help.acme.test"
    help_center.domain = "help.acme.test"
    help_center.save(update_fields=["domain"])
    taken = HelpCenterForm(data={**data, "domain": "help.acme.test"})
    assert not taken.is_valid() and "Another help center has this domain." in str(taken.errors)


def _canonical(page: str) -> str:
    return re.search(r'<link rel="canonical" href="([^"]+)"', page).group(1)


def test_canonical_addresses_are_on_the_domain_from_either_host(on_domain, publish, category):
    english = publish("Reset your password", "Open the sign-in page.")
    publish("Passwort zurücksetzen", "Öffnen Sie die Anmeldeseite.", language="de", article=english.article)
    article = f"/en/articles/{english.article_id}-reset-your-password/"
    for path in ("/en/", "/en/categories/account/", article):
        on_its_domain = _get(path).content.decode()
        on_the_main_host = Client().get(f"/help{path}").content.decode()
        # One address for search engines: the domain's, without the prefix its URLconf drops.
        assert _canonical(on_its_domain) == _canonical(on_the_main_host) == f"http://{HOST}{path}"
        assert "http://testserver/" not in on_the_main_host.split("</head>")[0]
    alternate = f'hreflang="de" href="http://{HOST}/de/articles/{english.article_id}-'
    assert alternate in Client().get(f"/help{article}").content.decode()
    assert f'hreflang="de" href="http://{HOST}/de/"' in Client().get("/help/en/").content.decode()
    # The main host's sitemap sends crawlers to the domain's, which lists the domain's addresses.
    moved = Client().get("/help/sitemap.xml")
    assert moved.status_code == 301 and moved["Location"] == f"http://{HOST}/sitemap.xml"
    assert f"<loc>http://{HOST}{article}</loc>" in _get("/sitemap.xml").content.decode()


def test_without_a_domain_the_canonical_address_is_the_prefix_on_this_host(help_center, publish, category):
    english = publish("Reset your password", "Open the sign-in page.")
    article = f"/help/en/articles/{english.article_id}-reset-your-password/"
    for path in ("/help/en/", "/help/en/categories/account/", article):
        assert _canonical(Client().get(path).content.decode()) == f"http://testserver{path}"
