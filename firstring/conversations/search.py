"""Full-text search over messages, conversation subjects and customers (names and identities).

SQLite searches FTS5 tables that triggers keep in sync; PostgreSQL searches GIN indexes on
`to_tsvector('simple', column)`. Both are created by migration conversations/0002_full_text_search,
and the expressions below must stay exactly the ones indexed there.

A user's query is never handed to a query parser as it is: it is cut into whitespace-separated
terms, each term quoted (so `"`, `AND`, `(` or `*` are plain text), all terms must match, and the
last one also matches as a prefix, so results come while the user is still typing.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Func, Q, QuerySet

from firstring.conversations.models import Conversation, Message
from firstring.customers.models import Customer, Identity

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
# A one-letter prefix would match half the index; it is searched as a whole word instead.
MIN_PREFIX_CHARS = 2
_WORD_RE = re.compile(r"[^\W_]", re.UNICODE)


def search_terms(query: str) -> list[str]:
    """The terms of a user's query: whitespace-separated, each holding at least one letter or digit."""
    # NUL ends a C string: FTS5 would see an unterminated quote, and PostgreSQL refuses it outright.
    cleaned = query[:MAX_QUERY_CHARS].replace("\x00", " ")
    terms = [term for term in cleaned.split() if _WORD_RE.search(term)]
    return terms[:MAX_TERMS]


def _prefix_ok(term: str) -> bool:
    return len(_WORD_RE.findall(term)) >= MIN_PREFIX_CHARS


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: each term a quoted string (quotes doubled), implicitly ANDed."""
    parts = ['"' + term.replace('"', '""') + '"' for term in terms]
    if parts and _prefix_ok(terms[-1]):
        parts[-1] += "*"
    return " ".join(parts)


def tsquery(terms: list[str]) -> str:
    """A to_tsquery() expression: each term a quoted lexeme (the parser splits it into a phrase)."""
    parts = ["'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms]
    if parts and _prefix_ok(terms[-1]):
        parts[-1] += ":*"
    return " & ".join(parts)


class _Matches(Func):
    """True for rows whose `column` matches every term, through this database's full-text index.

    An expression rather than raw SQL so that Django's table aliases (in subqueries) stay right.
    """

    output_field = BooleanField()

    def __init__(self, column: str, terms: list[str]) -> None:
        super().__init__(F("pk"), F(column))
        self.column = column
        self.terms = terms

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        pk, column = self.get_source_expressions()
        if connection.vendor == "postgresql":
            column_sql, params = compiler.compile(column)
            sql = f"to_tsvector('simple'::regconfig, {column_sql}) @@ to_tsquery('simple'::regconfig, %s)"
            return sql, [*params, tsquery(self.terms)]
        if connection.vendor == "sqlite":
            pk_sql, params = compiler.compile(pk)
            fts = _FTS_TABLES[(column.target.model._meta.db_table, self.column)]
            # fts comes from _FTS_TABLES, never from input; the user's query travels as a parameter.
            return f"{pk_sql} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)", [  # noqa: S608
                *params,
                fts5_query(self.terms),
            ]
        raise NotImplementedError(f"full-text search is not available on {connection.vendor}")


_FTS_TABLES = {
    (Message._meta.db_table, "text"): "search_message_fts",
    (Conversation._meta.db_table, "subject"): "search_conversation_fts",
    (Customer._meta.db_table, "name"): "search_customer_fts",
    (Identity._meta.db_table, "value"): "search_identity_fts",
}


def _customers_matching(terms: list[str], field: str) -> Q:
    """`field` (a customer id) is a customer whose name or one of whose identities matches."""
    by_name = Customer.objects.filter(_Matches("name", terms)).values("pk")
    by_identity = Identity.objects.filter(_Matches("value", terms)).values("customer_id")
    return Q(**{f"{field}__in": by_name}) | Q(**{f"{field}__in": by_identity})


def customer_ids_matching(query: str) -> QuerySet[Customer, Any]:
    """Ids of customers whose name or one of whose identities (address, number, handle) matches."""
    terms = search_terms(query)
    if not terms:
        return Customer.objects.none().values("pk")
    return Customer.objects.filter(_customers_matching(terms, "pk")).values("pk")


def conversations_matching(query: str) -> Q:
    """A filter on conversations whose messages, subject or customer match the query.

    Each branch is a set the database finds through its own full-text index, so that the inbox can
    walk its index in page order and test each conversation against the sets: a `pk IN (…)` over
    conversations with the subject test inside (as before) read and tokenised every subject instead.
    """
    terms = search_terms(query)
    if not terms:
        return Q(pk__in=[])
    by_text = Message.objects.filter(_Matches("text", terms))
    by_subject = Conversation.objects.filter(_Matches("subject", terms))
    return (
        Q(pk__in=by_text.values("conversation_id"))
        | Q(pk__in=by_subject.values("pk"))
        | _customers_matching(terms, "customer_id")
    )


def conversation_ids_matching(query: str) -> QuerySet[Conversation, Any]:
    """Ids of conversations whose messages, subject or customer match the query (for `pk__in`)."""
    return Conversation.objects.filter(conversations_matching(query)).values("pk")
