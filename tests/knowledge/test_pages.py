"""The staff pages (/kb/) and the public help center, through the test client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from firstring.knowledge.models import Article, ArticleFeedback, ArticleTranslation, SearchMiss, SynonymSet
from firstring.knowledge.services import translation_save


@pytest.fixture
def visitor() -> Client:
    return Client()


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_home_category_article_pages_in_the_visitors_language(visitor, help_center, publish):
    english = publish("Reset your password", "Choose **Forgot password**.")
    publish(
        "Passwort zurücksetzen", "Wählen Sie *Passwort vergessen*.", language="de", article=english.article
    )
    only_english = publish("Password rules", "Twelve characters at least.")

    response = visitor.get("/help/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert response.status_code == 302 and response["Location"] == "/help/de/"
    home = visitor.get("/help/de/")
    text = home.content.decode()
    assert home.status_code == 200 and '<html lang="de">' in text
    assert "Konto" in text and "Passwort zurücksetzen" in text and "Password rules" in text
    assert "Wie können wir helfen?" in text  # the interface speaks German too

    page = visitor.get(f"/help/de/articles/{english.article_id}-passwort-zurucksetzen/")
    assert page.status_code == 200
    assert "<em>Passwort vergessen</em>" in page.content.decode()
    assert (
        f'hreflang="en" href="http://testserver/help/en/articles/{english.article_id}-reset-your-password/"'
        in page.content.decode()
    )

    fallback = visitor.get(f"/help/de/articles/{only_english.article_id}/", follow=True)
    body = fallback.content.decode()
    assert fallback.status_code == 200 and "Twelve characters" in body and 'lang="en"' in body
    assert "nicht in Ihrer Sprache" in body
    # The canonical URL of a fallback is the original language's.
    assert (
        f'rel="canonical" href="http://testserver/help/en/articles/{only_english.article_id}-password-rules/"'
        in body
    )

    assert visitor.get("/help/de/categories/account/").status_code == 200
    assert visitor.get("/help/fr/").status_code == 404
    assert visitor.get("/nohelp/en/").status_code == 404


def test_wrong_slug_redirects_to_the_clean_url(visitor, publish):
    t = publish("Reset your password", "x")
    response = visitor.get(f"/help/en/articles/{t.article_id}-old-title/")
    assert response.status_code == 301
    assert response["Location"] == f"/help/en/articles/{t.article_id}-reset-your-password/"


def test_meta_tags_and_sitemap(visitor, publish, help_center):
    t = publish("Reset your password", "Open the sign-in page and choose Forgot password.")
    page = visitor.get(f"/help/en/articles/{t.article_id}-reset-your-password/").content.decode()
    assert '<meta name="description" content="Open the sign-in page and choose Forgot password.">' in page
    assert '<meta property="og:title" content="Reset your password">' in page
    sitemap = visitor.get("/help/sitemap.xml")
    assert sitemap["Content-Type"].startswith("application/xml")
    assert f"/help/en/articles/{t.article_id}-reset-your-password/</loc>" in sitemap.content.decode()


def test_drafts_and_internal_articles_are_never_shown_to_visitors(visitor, publish, manager, section):
    from firstring.knowledge.services import article_create

    draft = article_create(actor=manager, section=section, language="en", title="Secret launch", body="soon")
    internal = publish("Override codes", "code 1234", visibility=Article.Visibility.INTERNAL)
    changed = publish("Opening hours", "Weekdays.")
    translation_save(actor=manager, translation=changed, title="Opening hours", body="Draft: gift cards")
    for t in (draft, internal):
        for path in (f"/help/en/articles/{t.article_id}/", f"/help/en/articles/{t.article_id}-x/"):
            assert visitor.get(path).status_code == 404
        assert visitor.post(f"/help/en/articles/{t.article_id}/vote/", {"helpful": "yes"}).status_code == 404
    for query in ("secret", "launch", "override", "1234", "gift cards"):
        assert "0 articles found" in visitor.get("/help/en/search/", {"q": query}).content.decode()
    everything = "".join(
        visitor.get(p).content.decode()
        for p in ("/help/en/", "/help/en/categories/account/", "/help/sitemap.xml")
    )
    assert "Secret launch" not in everything and "Override codes" not in everything
    assert (
        "gift cards"
        not in visitor.get(f"/help/en/articles/{changed.article_id}/", follow=True).content.decode()
    )
    # Staff read both in the agents' app.
    staff = _client(manager)
    assert "code 1234" in staff.get(f"/kb/t/{internal.pk}/").content.decode()


def test_search_page_records_misses_and_votes_are_counted(visitor, publish, help_center):
    t = publish("Reset your password", "Forgot password link.")
    found = visitor.get("/help/en/search/", {"q": "pasword"}).content.decode()
    assert "Reset your password" in found and "1 article found" in found
    visitor.get("/help/en/search/", {"q": "cancel subscription"})
    assert SearchMiss.objects.get().query == "cancel subscription"
    response = visitor.post(f"/help/en/articles/{t.article_id}/vote/", {"helpful": "no"})
    assert response.status_code == 302 and "voted=no" in response["Location"]
    visitor.post(f"/help/en/articles/{t.article_id}/vote/", {"helpful": "yes"})
    assert list(ArticleFeedback.objects.values_list("helpful", flat=True)) == [True]
    Client().post(f"/help/en/articles/{t.article_id}/vote/", {"helpful": "yes"})
    assert ArticleFeedback.objects.count() == 2
    assert visitor.post(f"/help/en/articles/{t.article_id}/vote/", {"helpful": "maybe"}).status_code == 422


def test_contact_page_lists_the_phone_first(visitor, help_center, email_channel):
    email_channel.config = {"public_address": "support@acme.example"}
    email_channel.save()
    help_center.contact_channels.add(email_channel)
    text = visitor.get("/help/en/contact/").content.decode()
    positions = [text.index(s) for s in ("+1 555 0100", "help@acme.example", "support@acme.example")]
    assert positions == sorted(positions)
    assert 'href="tel:+15550100"' in text


def test_brand_css_picks_a_readable_text_colour(visitor, help_center):
    help_center.primary_color = "#ffe066"
    help_center.save()
    assert "--brand-fg: #000000" in visitor.get("/help/brand.css").content.decode()
    help_center.primary_color = "#0550ae"
    help_center.save()
    assert "--brand-fg: #ffffff" in visitor.get("/help/brand.css").content.decode()


def test_staff_write_review_publish_diff_restore(manager, agent, section, help_center):
    staff = _client(manager)
    response = staff.post(
        "/kb/new/",
        {
            "section": section.pk,
            "language": "en",
            "visibility": "public",
            "title": "Returns",
            "body": "Within 14 days.",
        },
    )
    assert response.status_code == 302
    t = ArticleTranslation.objects.get()
    assert (
        staff.post(
            f"/kb/t/{t.pk}/edit/", {"title": "Returns", "body": "Within 30 days.", "note": "longer"}
        ).status_code
        == 302
    )
    assert staff.post(f"/kb/t/{t.pk}/submit/").status_code == 302
    t.refresh_from_db()
    assert t.state == "review"
    staff.post(f"/kb/t/{t.pk}/publish/")
    t.refresh_from_db()
    assert t.is_live and t.published_version == 2 and "30 days" in t.body_html
    page = staff.get(f"/kb/t/{t.pk}/", {"old": 1, "new": 2}).content.decode()
    assert '<span class="diff-del">-Within 14 days.</span>' in page
    assert '<span class="diff-add">+Within 30 days.</span>' in page
    staff.post(f"/kb/t/{t.pk}/restore/1/")
    t.refresh_from_db()
    assert (t.draft_body, t.state, t.versions.count()) == ("Within 14 days.", "draft", 3)
    assert "30 days" in t.body_html  # the live copy waits for the next publish
    # A translation, and the list of what is missing.
    assert "de" in staff.get("/kb/missing/").content.decode()
    staff.post(
        f"/kb/a/{t.article_id}/translate/", {"language": "de", "title": "Rückgabe", "body": "30 Tage."}
    )
    assert ArticleTranslation.objects.filter(language="de").exists()
    # Agents read, but may not write.
    reader = _client(agent)
    assert reader.get(f"/kb/t/{t.pk}/").status_code == 200
    assert reader.post(f"/kb/t/{t.pk}/edit/", {"title": "x", "body": "y"}).status_code == 403
    assert reader.post(f"/kb/t/{t.pk}/publish/").status_code == 403
    assert reader.get("/kb/").status_code == 200


def test_staff_pages_refuse_bad_input_without_a_500(manager, section, help_center):
    staff = _client(manager)
    assert staff.post("/kb/new/", {"section": "x"}).status_code == 422
    assert (
        staff.post(
            "/kb/new/", {"section": 999, "language": "en", "visibility": "public", "title": "t"}
        ).status_code
        == 422
    )
    assert (
        staff.post(
            "/kb/new/", {"section": section.pk, "language": "english!", "visibility": "public", "title": "t"}
        ).status_code
        == 422
    )
    assert staff.get("/kb/t/999999/").status_code == 404
    assert staff.get("/kb/?center=99999999999999999999999").status_code == 422
    huge = "99999999999999999999999"
    assert staff.get(f"/kb/t/{huge}/").status_code == 404
    assert staff.get(f"/kb/t/1/?old=1&new={huge}").status_code in (404, 422)
    assert staff.post(f"/kb/t/{huge}/restore/{huge}/").status_code == 404
    assert staff.post(f"/kb/a/{huge}/translate/", {"language": "de", "title": "x"}).status_code == 404
    assert Client().get(f"/help/en/articles/{huge}/").status_code == 404
    assert Client().get(f"/help/files/{huge}/x.png").status_code == 404
    assert staff.get(f"/kb/suggest/{huge}/").status_code == 404
    assert staff.post("/kb/t/1/explode/").status_code == 404
    assert staff.post("/kb/insights/", {"words": "lonely"}).status_code == 422
    staff.post("/kb/insights/", {"words": "refund, money back"})
    assert SynonymSet.objects.get().words == ["refund", "money back"]
    assert staff.post("/kb/insights/", {"delete": "abc"}).status_code == 404
    assert staff.post("/kb/insights/", {"delete": "99999999999999999999999"}).status_code == 404
    assert staff.post("/kb/insights/", {"delete": SynonymSet.objects.get().pk}).status_code == 302
    assert not SynonymSet.objects.exists()
    assert (
        staff.post("/kb/structure/", {"kind": "section", "category": 12345, "name": "x"}).status_code == 422
    )


def test_suggestions_beside_a_conversation(agent, billing_agent, publish, receive, email_channel):
    publish("Track your parcel", "Use the tracking link in your shipping e-mail.")
    publish("Courier codes", "Internal parcel escalation", visibility=Article.Visibility.INTERNAL)
    result = receive(text="Where is my parcel? The tracking page says nothing.", channel=email_channel)
    conversation = result.conversation
    partial = _client(agent).get(f"/kb/suggest/{conversation.pk}/").content.decode()
    assert "Track your parcel" in partial and "Courier codes" in partial
    inserts = re.findall(r'data-insert="([^"]*)"', partial)
    # The public article's link and answer; an internal one offers neither, its text is not for customers.
    assert len(inserts) == 2 and "/help/en/articles/" in inserts[0]
    assert inserts[1] == "Use the tracking link in your shipping e-mail."
    page = _client(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert f'hx-get="/kb/suggest/{conversation.pk}/"' in page
    # Another team's conversation is a 404, as everywhere.
    assert _client(billing_agent).get(f"/kb/suggest/{conversation.pk}/").status_code == 404


def test_demo_data_brings_a_help_center_once(db, visitor):
    from firstring.demo.loader import demo_load

    assert "Help center: 8 demo articles at /help/" in demo_load(conversations=0, only_if_empty=False, seed=1)
    assert "already there" in demo_load(conversations=0, only_if_empty=False, seed=1)
    home = visitor.get("/help/de/").content.decode()
    assert "Sendung verfolgen" in home and "My parcel is late" in home and "Bestellungen und Versand" in home
    assert "Two-step" not in home and "Refund overrides" not in home
    contact = visitor.get("/help/en/contact/").content.decode()
    assert contact.index("+1 202-555-0100") < contact.index("SMS") < contact.index("Web chat")
    assert "Track your parcel" in visitor.get("/help/en/search/", {"q": "package"}).content.decode()


def test_a_help_center_cannot_take_a_path_of_the_application(db):
    from firstring.knowledge.admin import HelpCenterForm

    base = {"name": "X", "default_language": "en", "languages": "[]", "primary_color": "#000000"}
    for taken in ("kb", "api", "customers", "escalations", "accounts"):
        form = HelpCenterForm(data={**base, "prefix": taken})
        assert not form.is_valid() and "prefix" in form.errors, taken
    assert HelpCenterForm(data={**base, "prefix": "support"}).is_valid()
    assert not HelpCenterForm(data={**base, "prefix": "help2", "logo_url": "javascript:alert(1)"}).is_valid()
