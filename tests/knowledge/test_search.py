"""Search that forgives: full text on the database in use, typos, synonyms, languages, visibility."""

from __future__ import annotations

import pytest

from firstring.knowledge.models import Article, SearchMiss
from firstring.knowledge.search import edit_distance, search_articles, top_words
from firstring.knowledge.selectors import article_short_answer
from firstring.knowledge.services import (
    article_create,
    article_set_visibility,
    search_miss_record,
    synonym_set_save,
    translation_save,
    translation_unpublish,
)
from firstring.lib.errors import NotFound
from tests.knowledge.conftest import titles


def _search(help_center, query, languages=("en",), internal=False, **kw):
    return search_articles(
        query=query, help_center=help_center, languages=list(languages), include_internal=internal, **kw
    )


def test_finds_published_articles_by_title_and_body_best_first(help_center, publish):
    publish("Reset your password", "Open the sign-in page and choose *Forgot password*.")
    publish("Change your e-mail address", "Your password stays the same when the address changes.")
    publish("Delete your account", "We keep invoices for ten years.")
    result = _search(help_center, "password")
    assert titles(result) == ["Reset your password", "Change your e-mail address"]
    assert titles(_search(help_center, "invoices years")) == ["Delete your account"]
    # The last term is a prefix while the visitor types.
    assert titles(_search(help_center, "acco")) == ["Delete your account"]


def test_forgives_typos_through_the_vocabulary(help_center, publish):
    publish("Reset your password", "Choose Forgot password on the sign-in page.")
    publish("Shipping times", "Parcels arrive within three days.")
    result = _search(help_center, "pasword")
    assert titles(result) == ["Reset your password"]
    assert result.corrections == {"pasword": ["password"]}
    # A swap of two letters is one edit; long words allow two.
    assert titles(_search(help_center, "shpiping")) == ["Shipping times"]
    assert titles(_search(help_center, "parcells arive")) == ["Shipping times"]
    assert _search(help_center, "xylophone").hits == []


def test_synonyms_are_editable_per_help_center(help_center, publish, manager):
    publish("Getting your money back", "A refund reaches your card within five days.")
    assert _search(help_center, "reimbursement").hits == []
    synonym_set_save(actor=manager, help_center=help_center, words="refund, reimbursement, money back")
    assert titles(_search(help_center, "reimbursement")) == ["Getting your money back"]


def test_any_term_when_all_terms_find_nothing(help_center, publish):
    publish("Reset your password", "Choose Forgot password.")
    result = _search(help_center, "password unicorn")
    assert titles(result) == ["Reset your password"] and result.any_term


def test_drafts_and_unpublished_changes_are_never_searched(help_center, publish, manager, section):
    article_create(actor=manager, section=section, language="en", title="Secret roadmap", body="launch plans")
    live = publish("Opening hours", "We are open on weekdays.")
    # The change is about something else, so neither its words nor its meaning may find the article.
    translation_save(actor=manager, translation=live, title="Opening hours", body="Gift cards on sale now.")
    assert _search(help_center, "roadmap").hits == []
    assert _search(help_center, "launch plans").hits == []
    assert _search(help_center, "gift cards").hits == []
    assert titles(_search(help_center, "weekdays")) == ["Opening hours"]
    translation_unpublish(actor=manager, translation=live)
    assert _search(help_center, "weekdays").hits == []


def test_internal_articles_are_found_by_staff_only(help_center, publish, manager):
    internal = publish(
        "Refund override codes", "Supervisor code steps", visibility=Article.Visibility.INTERNAL
    )
    assert _search(help_center, "override").hits == []
    assert titles(_search(help_center, "override", internal=True)) == ["Refund override codes"]
    article_set_visibility(actor=manager, article=internal.article, visibility=Article.Visibility.PUBLIC)
    assert titles(_search(help_center, "override")) == ["Refund override codes"]


def test_one_translation_per_article_in_the_visitors_language_with_fallback(help_center, publish):
    english = publish("Reset your password", "Forgot password link.")
    publish("Passwort zurücksetzen", "Passwort vergessen.", language="de", article=english.article)
    only_english = publish("Password rules", "At least twelve characters.")
    result = _search(help_center, "password passwort", languages=["de", "en"], any_term=True)
    assert {(h.article_id, h.language) for h in result.hits} == {
        (english.article_id, "de"),
        (only_english.article_id, "en"),
    }


def test_query_syntax_is_plain_text(help_center, publish):
    publish('Quotes "and" parentheses', "AND OR NOT ( ) * : ' \\ are words here")
    for query in ['"', "AND", "(", "*", "a:b", "'", "\\", "NEAR(", "\x00", "-x", "title:quotes", "'; DROP"]:
        _search(help_center, query)  # never an error
    assert titles(_search(help_center, '"parentheses')) == ['Quotes "and" parentheses']


def test_zero_result_searches_are_counted(help_center):
    search_miss_record(help_center=help_center, language="en", query="  Cancel   ORDER ")
    search_miss_record(help_center=help_center, language="en", query="cancel order")
    miss = SearchMiss.objects.get()
    assert (miss.query, miss.count) == ("cancel order", 2)


def test_edit_distance_and_top_words():
    assert edit_distance("password", "pasword", 2) == 1
    assert edit_distance("teh", "the", 1) == 1
    assert edit_distance("abc", "xyz", 1) == 2
    assert top_words(
        "My parcel, the parcel from Monday, never arrived. Parcel tracking says nothing."
    ).startswith("parcel")


def test_two_of_three_terms_before_any_one(help_center, publish):
    publish("Reset your password", "Choose Forgot password.")
    publish("Password rules", "Twelve characters at least.")
    result = _search(help_center, "reset password unicorn")
    assert titles(result) == ["Reset your password"] and result.any_term
    assert set(titles(_search(help_center, "twelve reset unicorn"))) == {
        "Reset your password",
        "Password rules",
    }


def test_an_articles_short_answer_is_its_opening_sentences(help_center, publish, manager, section):
    body = "Open **Settings**, then *Password*. Choose a new one. " + "More detail follows here. " * 30
    english = publish("Reset your password", body)
    publish("Passwort zurücksetzen", "Öffnen Sie die Einstellungen.", language="de", article=english.article)
    answer = article_short_answer(article_id=english.article_id, language="en")
    assert answer.startswith("Open Settings, then Password. Choose a new one.") and len(answer) <= 300
    assert answer.endswith(".")  # whole sentences, not a cut word
    assert (
        article_short_answer(article_id=english.article_id, language="de") == "Öffnen Sie die Einstellungen."
    )
    assert article_short_answer(article_id=english.article_id, language="fr").startswith("Open Settings")
    internal = publish(
        "Refund limits", "Up to 50 euros without approval.", visibility=Article.Visibility.INTERNAL
    )
    draft = article_create(actor=manager, section=section, language="en", title="Soon", body="Not yet.")
    for article_id in (internal.article_id, draft.article_id, 999999):
        with pytest.raises(NotFound):
            article_short_answer(article_id=article_id)
