"""The words a set of texts uses most: what a spike of mentions or a cluster of messages is about."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD_RE = re.compile(r"[#@]?[^\W\d_][\w'\u2019-]{2,}", re.UNICODE)
_STOPWORDS = frozenset(
    re.split(
        r"\s+",
        """the and for you your are was were this that with have has had not but they them their our out
        what when where who why how can could would should will just get got been being from into about
        than then there here its it's i'm i've don't can't won't didn't doesn't isn't all any some one two
        very still even also more most much only over again now today yet http https www com amp
        cannot""".strip(),
    )
)


def top_terms(texts: Iterable[str], *, exclude: Iterable[str] = (), limit: int = 8) -> list[str]:
    """The words most texts use (no stop words, handles, or the `exclude`d words), most used first.

    Counted once per text, so one long rant does not dominate; ties go to the word seen first.
    """
    skip = {term.lower() for term in exclude}
    counts: Counter[str] = Counter()
    for text in texts:
        seen: dict[str, None] = {}
        for word in _WORD_RE.findall(text.lower()):
            if word[0] == "@" or word in _STOPWORDS or word in skip or word.lstrip("#") in skip:
                continue
            seen[word] = None
        counts.update(list(seen))
    return [word for word, _ in counts.most_common(limit)]
