"""The spam and abuse filter: pure checks on what a member writes, no database."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

_LINK_RE = re.compile(r"(?:https?://|www\.)", re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")


def fingerprint(text: str) -> str:
    """The same words, whatever the case and spacing: what "posted again" compares."""
    normal = _SPACE_RE.sub(" ", text).strip().lower()
    return hashlib.sha256(normal.encode()).hexdigest()


def spam_reason(text: str, *, max_links: int, banned_words: Sequence[str]) -> str:
    """Why `text` should wait for a moderator ("" when it looks fine)."""
    links = len(_LINK_RE.findall(text))
    if links > max_links:
        return f"spam filter: {links} links"
    lowered = text.lower()
    for word in banned_words:
        word = word.strip().lower()
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", lowered):
            return f"spam filter: the word {word!r}"
    return ""
