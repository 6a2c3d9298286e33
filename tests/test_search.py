"""Full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL, through the inbox selectors."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firstring.conversations.models import Conversation, Message
from firstring.conversations.search import (
    conversation_ids_matching,
    customer_ids_matching,
    fts5_query,
    search_terms,
    tsquery,
)
from firstring.conversations.selectors import InboxFilter, inbox_page
from firstring.conversations.services import note_add
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Customer
from firstring.customers.services import customer_update, identity_add

pytestmark = pytest.mark.django_db


def _found(query: str) -> set[int]:
    return set(conversation_ids_matching(query).values_list("pk", flat=True))


def _inbox(user, query: str) -> list[int]:
    rows, _ = inbox_page(user=user, filters=InboxFilter(q=query))
    return [c.pk for c in rows]


def test_the_database_specific_index_is_the_one_used():
    sql = str(conversation_ids_matching("refund").query)
    if connection.vendor == "sqlite":
        assert "search_message_fts" in sql and "MATCH" in sql
    else:
        assert "to_tsvector('simple'::regconfig" in sql and "@@" in sql
    assert "LIKE" not in sql.upper()


def test_finds_message_words_anywhere_and_in_any_case(receive):
    refund = receive(email="a@example.com", text="I want a REFUND for the broken kettle.").conversation
    receive(email="b@example.com", text="Thanks, all good now")
    assert _found("refund") == {refund.pk}
    assert _found("Broken  kettle") == {refund.pk}
    assert _found("kettle toaster") == set()  # every term must match


def test_last_term_matches_as_a_prefix(receive):
    conversation = receive(email="a@example.com", text="My subscription renewal failed").conversation
    assert _found("subscr") == {conversation.pk}
    assert _found("renewal fail") == {conversation.pk}
    assert _found("subscr renewal") == set()  # only the last term is a prefix


def test_accents_are_folded_on_sqlite_and_words_match_whole_on_both(receive):
    conversation = receive(
        email="a@example.com", text="Die Lieferung nach München ist verspätet"
    ).conversation
    assert _found("münchen") == {conversation.pk}
    if connection.vendor == "sqlite":
        assert _found("munchen") == {conversation.pk}


def test_customer_name_and_identities_are_searchable(receive, agent):
    gina = receive(email="gina.rossi@example.com", text="Hello", name="Gina Rossi").conversation
    phoned = receive(phone="+1 415 555 0100", text="Call me back").conversation
    assert _found("gina") == {gina.pk}
    assert _found("rossi") == {gina.pk}
    assert _found("gina.rossi@example.com") == {gina.pk}
    assert _found("+14155550100") == {phoned.pk}
    assert set(customer_ids_matching("Rossi").values_list("pk", flat=True)) == {gina.customer_id}
    assert _inbox(agent, "gina") == [gina.pk]


def test_subject_is_searchable(receive):
    conversation = receive(email="a@example.com", text="see subject", subject="Damaged parcel").conversation
    assert _found("damaged") == {conversation.pk}


def test_index_follows_inserts_updates_and_deletes(receive, agent):
    result = receive(email="a@example.com", text="first words", name="Alma")
    conversation = result.conversation
    note_add(conversation=conversation, author=agent, text="escalate to logistics")
    assert _found("logistics") == {conversation.pk}

    Message.objects.filter(pk=result.message.pk).update(text="rewritten entirely")
    assert _found("first") == set()
    assert _found("rewritten") == {conversation.pk}

    customer_update(customer=result.customer, changes={"name": "Beatriz"})
    assert _found("alma") == set()
    assert _found("beatriz") == {conversation.pk}

    identity_add(customer=result.customer, claim=IdentityClaim("email", "bea@example.org"))
    assert _found("bea@example.org") == {conversation.pk}

    Conversation.objects.filter(pk=conversation.pk).update(subject="Late delivery")
    assert _found("late delivery") == {conversation.pk}

    Message.objects.filter(conversation=conversation).delete()
    assert _found("logistics") == set()


def test_merged_customers_conversations_are_found_by_either_name(receive):
    from firstring.conversations.services import customer_merge

    a = receive(email="x@example.com", text="one", name="Xavier").conversation
    b = receive(email="y@example.com", text="two", name="Yolanda").conversation
    customer_merge(source=b.customer, target=a.customer, actor=None)
    assert _found("xavier") == {a.pk, b.pk}


@pytest.mark.parametrize(
    "query",
    ['"', '""', "AND OR (", "NOT", "a*", "*", ")", "NEAR(a b)", "col:term", "'", "\\", "!", "&|!", "-x", "^"],
)
def test_query_syntax_is_never_interpreted(receive, agent, query):
    receive(email="a@example.com", text="AND OR NOT near col term x a")
    # Either finds the plain words or nothing; it never raises.
    _found(query)
    _inbox(agent, query)


def test_operators_are_searched_as_words(receive):
    conversation = receive(email="a@example.com", text="this AND that OR those").conversation
    receive(email="b@example.com", text="this one and that one")
    assert conversation.pk in _found("AND OR")


def test_queries_without_words_match_nothing(receive):
    receive(email="a@example.com", text="anything")
    assert _found("") == set()
    assert _found("   ") == set()
    assert _found("!!! ???") == set()
    assert set(customer_ids_matching("...").values_list("pk", flat=True)) == set()


def test_query_building_quotes_every_term():
    terms = search_terms('say "hi" AND (x) * ' + "w " * 100)
    assert len(terms) == 12
    assert fts5_query(['"hi"', "AND"]) == '"""hi""" "AND"*'
    assert tsquery(["o'neil", "a\\b"]) == "'o''neil' & 'a\\\\b':*"
    assert tsquery(["x", "y"]) == "'x' & 'y'"  # a one-letter last term is not a prefix


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=40))
def test_any_text_is_a_safe_query(api_channel, query):
    # No fixture data needed: what matters is that the database accepts the query.
    list(conversation_ids_matching(query))
    list(customer_ids_matching(query))


def test_searching_customers_ignores_merged_pointers(receive):
    a = receive(email="zed@example.com", text="x", name="Zed").customer
    assert set(customer_ids_matching("zed").values_list("pk", flat=True)) == {a.pk}
    assert Customer.objects.count() == 1
