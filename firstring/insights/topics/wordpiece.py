"""BERT's uncased WordPiece tokenizer in pure Python (what all-MiniLM-L6-v2 and the shipped vectors use).

Basic tokenising (lower case, accents stripped, punctuation split off, CJK characters apart), then the
greedy longest-match-first WordPiece split against the vocabulary, as `transformers.BertTokenizer` does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

UNKNOWN = "[UNK]"
_MAX_WORD_CHARS = 100
# ASCII text (most of it) takes a regular expression instead of the character loop: the same tokens.
_ASCII_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])
_ASCII_TOKEN = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def basic_tokens(text: str) -> list[str]:
    """Lower-cased words and punctuation marks, accents removed."""
    if text.isascii():
        return _ASCII_TOKEN.findall(text.translate(_ASCII_CONTROL).lower())
    spaced: list[str] = []
    for char in text:
        code = ord(char)
        if (
            code == 0
            or code == 0xFFFD
            or (unicodedata.category(char) in ("Cc", "Cf") and char not in "\t\n\r")
        ):
            continue
        if _is_cjk(code):
            spaced.append(f" {char} ")
        elif char.isspace():
            spaced.append(" ")
        else:
            spaced.append(char)
    tokens: list[str] = []
    for word in "".join(spaced).lower().split():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
        current = ""
        for char in word:
            if _is_punctuation(char):
                if current:
                    tokens.append(current)
                    current = ""
                tokens.append(char)
            else:
                current += char
        if current:
            tokens.append(current)
    return tokens


def wordpiece(word: str, vocab: Mapping[str, int]) -> list[str]:
    """One word as vocabulary pieces ("playing" -> "play", "##ing"); `[UNK]` if it cannot be split."""
    if len(word) > _MAX_WORD_CHARS:
        return [UNKNOWN]
    pieces: list[str] = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else "##" + word[start:end]
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return [UNKNOWN]
        pieces.append(found)
        start = end
    return pieces


# A word cut into pieces shorter than this on average is read letter by letter ("wqk" -> w, ##q, ##k).
_MIN_MEAN_PIECE = 2.5


def known_words(text: str, vocab: Mapping[str, int]) -> list[str]:
    """The words of a text the vocabulary reads as words: letters only, in pieces of a few letters
    ("refund" -> ref, ##und), not a random string spelt out letter by letter, whose vector is noise."""
    return [
        word
        for word in basic_tokens(text)
        if word.isalpha()
        and (pieces := wordpiece(word, vocab)) != [UNKNOWN]
        and len(word) / len(pieces) >= _MIN_MEAN_PIECE
    ]


def tokenize(text: str, vocab: Mapping[str, int]) -> list[str]:
    return [piece for word in basic_tokens(text) for piece in wordpiece(word, vocab)]
