"""The monitor query language: terms, phrases, hashtags, handles and AND / OR / NOT with parentheses.

    acme OR "acme bank" OR #acmefail OR @acme
    (acme OR @acme) AND (refund OR "money back") NOT careers
    acme -jobs                      # "-" is NOT; terms side by side are AND

A term matches a whole word (case-insensitive; "acme" does not match "acmeville", but matches "#acme"
and "@acme"); a phrase matches its words in order with single spaces between them; `#tag` matches that
hashtag and `@handle` that handle written in the post (and the post's author). Every query needs at
least one positive term: a post is first found by its terms (Aho-Corasick over every monitor's terms at
once), then the boolean expression decides. Bad queries raise `QueryError` (an `InvalidInput`, so
422) naming the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from firstring.lib.errors import InvalidInput

MAX_QUERY_CHARS = 2000
MAX_TERMS = 200
MAX_TERM_CHARS = 100


class QueryError(InvalidInput):
    """The query cannot be parsed; the message says where and why."""


@dataclass(frozen=True)
class Term:
    text: str  # normalised: lower case, single spaces; "#tag" and "@handle" keep their sign


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Term | Not | And | Or

_OPERATORS = {"AND", "OR", "NOT"}
_WORD_RE = re.compile(r"[^\s()\"]+")
_SPACE_RE = re.compile(r"\s+")
# What a bare word may be made of once normalised (letters, digits, and inner ' . - _ & +).
_TERM_RE = re.compile(r"^[#@]?[\w][\w'.\-&+]*$", re.UNICODE)


@dataclass(frozen=True)
class _Token:
    kind: str  # "term", "and", "or", "not", "(", ")"
    value: str
    position: int


def normalise_term(text: str) -> str:
    return _SPACE_RE.sub(" ", text.strip().lower())


def _tokenise(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(query):
        char = query[position]
        if char.isspace():
            position += 1
        elif char in "()":
            tokens.append(_Token(char, char, position))
            position += 1
        elif char == '"':
            end = query.find('"', position + 1)
            if end < 0:
                raise QueryError(f"unclosed quote at position {position + 1}")
            phrase = normalise_term(query[position + 1 : end])
            if not phrase:
                raise QueryError(f"empty phrase at position {position + 1}")
            tokens.append(_Token("term", phrase, position))
            position = end + 1
        elif char == "-" and position + 1 < len(query) and not query[position + 1].isspace():
            tokens.append(_Token("not", "-", position))
            position += 1
        else:
            match = _WORD_RE.match(query, position)
            assert match is not None
            word = match.group()
            if word in _OPERATORS:
                tokens.append(_Token(word.lower(), word, position))
            else:
                term = normalise_term(word).rstrip(".,;:!?")
                if not _TERM_RE.match(term):
                    raise QueryError(
                        f"{word!r} at position {position + 1} is not a word, #hashtag or @handle"
                    )
                tokens.append(_Token("term", term, position))
            position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token], length: int) -> None:
        self.tokens = tokens
        self.index = 0
        self.length = length

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def where(self) -> str:
        token = self.peek()
        return f"at position {token.position + 1}" if token else "at the end"

    def parse(self) -> Node:
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            raise QueryError(f"unexpected {token.value!r} at position {token.position + 1}")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while (token := self.peek()) is not None and token.kind in ("and", "not", "term", "("):
            if token.kind == "and":
                self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "not":
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        token = self.peek()
        if token is None:
            raise QueryError("the query ends where a term was expected")
        if token.kind == "term":
            self.take()
            if len(token.value) > MAX_TERM_CHARS:
                raise QueryError(f"the term at position {token.position + 1} is longer than {MAX_TERM_CHARS}")
            return Term(token.value)
        if token.kind == "(":
            self.take()
            node = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise QueryError(f"the parenthesis at position {token.position + 1} is never closed")
            self.take()
            return node
        raise QueryError(f"a term was expected {self.where()}, not {token.value!r}")


def terms(node: Node) -> set[str]:
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, Not):
        return terms(node.operand)
    found: set[str] = set()
    for operand in node.operands:
        found |= terms(operand)
    return found


def required_any(node: Node) -> set[str] | None:
    """Terms of which a matching post must contain at least one, or None when no such set exists.

    A post that contains none of these cannot match, so the matcher only evaluates a monitor for posts
    in which the automaton found one of them.
    """
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, Not):
        return None
    if isinstance(node, Or):
        found: set[str] = set()
        for operand in node.operands:
            part = required_any(operand)
            if part is None:
                return None
            found |= part
        return found
    # And: any operand's set will do; the smallest gives the fewest candidates.
    options = [part for operand in node.operands if (part := required_any(operand)) is not None]
    return min(options, key=len) if options else None


def evaluate(node: Node, found: set[str] | frozenset[str]) -> bool:
    if isinstance(node, Term):
        return node.text in found
    if isinstance(node, Not):
        return not evaluate(node.operand, found)
    if isinstance(node, And):
        return all(evaluate(operand, found) for operand in node.operands)
    return any(evaluate(operand, found) for operand in node.operands)


@dataclass(frozen=True)
class Query:
    source: str
    root: Node
    terms: frozenset[str]
    required: frozenset[str]


def parse_query(query: str) -> Query:
    """Parse a monitor query or raise QueryError (422) saying what is wrong and where."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    tokens = _tokenise(query)
    if not tokens:
        raise QueryError("the query is empty")
    root = _Parser(tokens, len(query)).parse()
    all_terms = terms(root)
    if len(all_terms) > MAX_TERMS:
        raise QueryError(f"the query has more than {MAX_TERMS} terms")
    required = required_any(root)
    if not required:
        raise QueryError("the query needs a term that a post must contain (NOT alone matches everything)")
    return Query(source=query, root=root, terms=frozenset(all_terms), required=frozenset(required))
