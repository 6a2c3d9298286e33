"""Search by meaning beside full text: what it finds with no shared word, how it ranks against exact
matches, and that drafts, internal articles and other help centers never come through it."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from firstring.channels.models import Channel
from firstring.insights.topics import get_encoder
from firstring.knowledge.models import Article, EntryVector, HelpCenter, SearchMiss
from firstring.knowledge.search import search_articles
from firstring.knowledge.services import (
    article_create,
    article_set_visibility,
    translation_publish,
    translation_save,
    translation_unpublish,
)
from firstring.knowledge.services.index import words_of
from firstring.knowledge.suggest import article_suggestions
from tests.knowledge.conftest import titles

REFUND = ("Refunds", "Ask for a refund within thirty days; we pay the amount to the card you used.")


def _search(help_center, query, languages=("en",), internal=False, **kw):
    return search_articles(
        query=query, help_center=help_center, languages=list(languages), include_internal=internal, **kw
    )


@pytest.fixture
def library(publish):
    """A few articles on different things, the refund one among them."""
    refund = publish(*REFUND)
    publish("Reset your password", "Open the sign-in page and choose Forgot password.")
    publish("Shipping times", "Parcels leave our warehouse within two days.")
    return refund


def test_meaning_finds_an_article_that_shares_no_word_with_the_query(help_center, library, api):
    # No word of the query is in the article, so full text alone cannot find it.
    assert not words_of("money back") & words_of(" ".join(REFUND))
    assert titles(_search(help_center, "money back")) == ["Refunds"]
    assert titles(_search(help_center, "where is my package"))[:1] == ["Shipping times"]
    # The help center's search page shows it, and it is not a search that found nothing.
    page = Client().get("/help/en/search/", {"q": "money back"}).content.decode()
    assert "Refunds" in page and "1 article found" in page
    assert not SearchMiss.objects.exists()
    # So does the API's search (for staff).
    found = api("get", "/articles/search", data={"q": "money back"}).json()["items"]
    assert [item["title"] for item in found] == ["Refunds"]


def test_nonsense_finds_nothing_by_meaning(help_center, library, publish):
    # An article of random strings (links shortened to codes) is near any other random string in
    # meaning, unless meaning leaves out the words an encoder can only spell out letter by letter.
    publish("Links igqf", "See https t.co igqf and https t.co lxqn")
    assert _search(help_center, "zqxv wqk").hits == []
    assert _search(help_center, "xylophone").hits == []
    page = Client().get("/help/en/search/", {"q": "zqxv wqk"}).content.decode()
    assert "0 articles found" in page
    assert SearchMiss.objects.filter(query="zqxv wqk").exists()


def test_exact_word_matches_outrank_articles_that_only_mean_the_same(help_center, library, publish):
    publish("Money back guarantee", "Every gift card comes with our money back guarantee.")
    found = titles(_search(help_center, "money back"))
    assert found[:2] == ["Money back guarantee", "Refunds"]
    # Among word matches, the one closer in meaning comes first.
    publish("Card payments", "We take every card; refund requests go to the card too.")
    assert titles(_search(help_center, "refund card"))[:2] == ["Refunds", "Card payments"]


def test_drafts_and_unpublished_articles_never_come_through_meaning(help_center, manager, section, publish):
    publish("Reset your password", "Open the sign-in page and choose Forgot password.")
    article_create(actor=manager, section=section, language="en", title=REFUND[0], body=REFUND[1])
    assert _search(help_center, "money back").hits == []
    live = publish(*REFUND)
    assert titles(_search(help_center, "money back")) == ["Refunds"]
    translation_unpublish(actor=manager, translation=live)
    assert _search(help_center, "money back").hits == []
    assert not EntryVector.objects.filter(entry_id=live.pk).exists()


def test_internal_articles_come_through_meaning_for_staff_only(help_center, manager, publish):
    internal = publish(*REFUND, visibility=Article.Visibility.INTERNAL)
    assert _search(help_center, "money back").hits == []
    assert titles(_search(help_center, "money back", internal=True)) == ["Refunds"]
    page = Client().get("/help/en/search/", {"q": "money back"}).content.decode()
    assert "Refunds" not in page
    # Turning it public shows it at once, and back to internal hides it again.
    article_set_visibility(actor=manager, article=internal.article, visibility=Article.Visibility.PUBLIC)
    assert titles(_search(help_center, "money back")) == ["Refunds"]
    article_set_visibility(actor=manager, article=internal.article, visibility=Article.Visibility.INTERNAL)
    assert _search(help_center, "money back").hits == []


def test_other_help_centers_and_languages_never_come_through_meaning(help_center, manager, publish):
    from firstring.knowledge.models import Category, Section

    other = HelpCenter.objects.create(name="Other", prefix="other", default_language="en")
    section = Section.objects.create(
        category=Category.objects.create(help_center=other, slug="billing", name="Billing"),
        slug="refunds",
        name="Refunds",
    )
    theirs = article_create(actor=manager, section=section, language="en", title=REFUND[0], body=REFUND[1])
    translation_publish(actor=manager, translation=theirs)
    publish("Reset your password", "Open the sign-in page and choose Forgot password.")
    assert _search(help_center, "money back").hits == []
    assert titles(_search(other, "money back")) == ["Refunds"]
    assert "Refunds" not in Client().get("/help/en/search/", {"q": "money back"}).content.decode()
    # A translation in a language the visitor did not ask for is not found either.
    publish(*REFUND, language="de")
    assert _search(help_center, "money back", languages=["en"]).hits == []
    assert titles(_search(help_center, "money back", languages=["de"])) == ["Refunds"]


def test_an_edit_embeds_the_article_again(help_center, manager, publish):
    live = publish("Shipping times", "Parcels leave our warehouse within two days.")
    before = bytes(EntryVector.objects.get(entry_id=live.pk).vector)
    assert _search(help_center, "money back").hits == []
    translation_save(actor=manager, translation=live, title=REFUND[0], body=REFUND[1])
    assert _search(help_center, "money back").hits == []  # a draft change is not live
    translation_publish(actor=manager, translation=live)
    stored = EntryVector.objects.get(entry_id=live.pk)
    assert bytes(stored.vector) != before and stored.encoder == get_encoder().name
    vector = np.frombuffer(bytes(stored.vector), dtype="<f4")
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4
    assert titles(_search(help_center, "money back")) == ["Refunds"]
    assert _search(help_center, "where is my package").hits == []


def test_reindex_embeds_what_another_encoder_made(help_center, library):
    # As after FIRSTRING_TOPIC_BACKEND changed: vectors of another encoder are not compared.
    EntryVector.objects.update(encoder="retired")
    assert _search(help_center, "money back").hits == []
    call_command("knowledge_reindex")
    assert set(EntryVector.objects.values_list("encoder", flat=True)) == {get_encoder().name}
    assert titles(_search(help_center, "money back")) == ["Refunds"]


def test_agents_suggestions_find_by_meaning_internal_ones_too(library, publish):
    publish(
        "Goodwill payouts", "Agents may pay back up to ten euros.", visibility=Article.Visibility.INTERNAL
    )
    found = [s.hit.title for s in article_suggestions(text="Hello, I want my money returned for the order.")]
    assert "Refunds" in found


def test_the_chat_widget_suggests_by_meaning(help_center, support_team, library, publish):
    cache.clear()  # the suggestions' rate limit counts in the cache; start from none
    channel = Channel.objects.create(
        kind="chat",
        slug="shop-chat",
        name="Shop chat",
        team=support_team,
        config={"allowed_origins": ["https://shop.example.test"]},
    )
    help_center.contact_channels.add(channel)
    publish(
        "Goodwill payouts", "Agents may pay back up to ten euros.", visibility=Article.Visibility.INTERNAL
    )
    response = Client().post(
        "/channels/webchat/shop-chat/suggest",
        {"q": "how do I get my money returned"},
        HTTP_ORIGIN="https://shop.example.test",
    )
    assert response.status_code == 200
    found = [item["title"] for item in response.json()["items"] if item["kind"] == "article"]
    assert found[:1] == ["Refunds"] and "Goodwill payouts" not in found


def test_setup_embeds_the_articles_that_lack_vectors(help_center, library, settings, tmp_path, capsys):
    from firstring import cli

    # As after the upgrade that added vectors: live articles, none embedded.
    EntryVector.objects.all().delete()
    assert _search(help_center, "money back").hits == []
    settings.STATIC_ROOT = str(tmp_path)
    assert cli.cmd_setup(argparse.Namespace()) == 0
    assert "Embedded 3 knowledge base articles" in capsys.readouterr().out
    assert titles(_search(help_center, "money back")) == ["Refunds"]
    cli.cmd_setup(argparse.Namespace())
    assert "Embedded" not in capsys.readouterr().out
