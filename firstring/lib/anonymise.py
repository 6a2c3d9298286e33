"""Take a customer out of a text before it is shown to the public: names, addresses and numbers.

`anonymise` replaces the names and identifiers given (a customer's name, e-mail addresses, phone
numbers, handles), then anything that looks like an e-mail address, a phone number or an order-like
number (`#12345`, `order AB-1234`, five or more digits). `scrub` replaces only the names and
identifiers given: what must never be published whatever an editor kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NAME, EMAIL, PHONE, NUMBER = "[name]", "[email]", "[phone]", "[number]"

# Starts only where an address can start, so a long run with no "@" is read once, not once per letter.
_EMAIL = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
# A + or a digit, then at least seven more digits with spaces, dots, dashes or brackets between.
_PHONE = re.compile(r"(?<![\w#])(?:\+|00)?\(?\d(?:[\s().-]{0,2}\d){7,}(?!\w)")
_ORDER_WORDS = r"order|invoice|ticket|booking|reference|ref|case|account|tracking|parcel|bestellung|rechnung"
# A word like "order" keeps its place and loses the identifier after it (one with a digit in it).
_ORDER_AFTER_WORD = re.compile(
    rf"(?i)(\b(?:{_ORDER_WORDS})(?:\s*(?:no\.?|nr\.?|number|id|#|:))*\s*#?\s*)"
    r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{2,}\b"
)
_ORDER = re.compile(r"#\s?\d{3,}\b|\b[A-Z]{1,5}-?\d{4,}\b|\b\d{5,}\b")


def _literal(value: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(value)}(?!\w)", re.IGNORECASE if ignore_case else 0)


def scrub(text: str, *, names: Iterable[str] = (), identifiers: Iterable[str] = ()) -> str:
    """Replace the given identifiers, then the given names, and each word of them (two letters or more).

    A whole name matches in any case; a single word of it only as a name is written (Will, WILL), so
    a customer called Will Smith leaves "we will" alone.
    """
    for value in sorted({i.strip() for i in identifiers if i.strip()}, key=len, reverse=True):
        text = _literal(value).sub(EMAIL if "@" in value else PHONE if value[-1:].isdigit() else NAME, text)
    full: set[str] = set()
    words: set[str] = set()
    for name in names:
        name = " ".join(name.split())
        if name:
            full.add(name)
            for word in re.split(r"[\s,]+", name):
                if len(word) >= 2:
                    words.update((word, word[0].upper() + word[1:], word.upper()))
    for name in sorted(full, key=len, reverse=True):
        text = _literal(name).sub(NAME, text)
    for word in sorted(words, key=len, reverse=True):
        text = _literal(word, ignore_case=False).sub(NAME, text)
    return text


def anonymise(text: str, *, names: Iterable[str] = (), identifiers: Iterable[str] = ()) -> str:
    """`scrub`, then every e-mail address, phone number and order-like number in the text."""
    # Addresses before names: a name inside an address must not break the address apart.
    text = _EMAIL.sub(EMAIL, scrub(text, identifiers=identifiers))
    text = scrub(text, names=names)
    text = _ORDER_AFTER_WORD.sub(rf"\1{NUMBER}", text)
    text = _PHONE.sub(PHONE, text)
    return _ORDER.sub(NUMBER, text)
