"""Search by meaning: a query's vector against the vectors of the live articles, in memory.

Each search entry has an `EntryVector` made by the configured sentence encoder (the topics' encoders,
`firstring.insights.topics`, chosen by FIRSTRING_TOPIC_BACKEND). A process keeps the vectors of that
encoder in one NumPy matrix, with each row's help center, language and internal flag, and reloads it
when the table's row count or latest `updated_at` changes (two index look-ups per search): scoring
10,000 articles is one matrix product, where reading their vectors from the database is not.

The matrix only ranks. Whatever it proposes is read back through the same filters as full text
(`search._entries`), so a copy that is a moment stale can rank badly but never show a draft, an
internal article to a visitor or another help center's article.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from firstring.insights.topics import Encoder, get_encoder
from firstring.knowledge.models import EntryVector

# A title says more about an article than any one sentence of its body.
TITLE_WEIGHT = 1.0
# Below this cosine a query and an article are not about the same thing. Set per encoder, since
# their cosines spread differently: with the shipped vectors, queries scored 0.55-0.75 against the
# articles they were about and 0.1-0.45 against others (the tests' articles; the benchmark's support
# texts, where half of all articles score under 0.37 against any query). MiniLM's is not measured.
FLOORS = {"default": 0.55, "minilm": 0.45}
DEFAULT_FLOOR = 0.5


def vectors_of(encoder: Encoder, items: list[tuple[str, str]]) -> Any:
    """Unit vectors for (title, text) pairs: the title's vector and the text's, added."""
    import numpy as np

    if not items:
        return np.zeros((0, 0), dtype=np.float32)
    titles = encoder.encode([title for title, _ in items])
    texts = encoder.encode([text or title for title, text in items])
    mixed = TITLE_WEIGHT * titles + texts
    norms = np.linalg.norm(mixed, axis=1, keepdims=True)
    return (mixed / np.maximum(norms, 1e-9)).astype("<f4")


@dataclass(frozen=True)
class _Library:
    stamp: tuple[int, Any]
    encoder: str
    ids: Any  # translation ids
    centers: Any
    languages: dict[str, int]  # language → its code in `language_codes`
    language_codes: Any
    internal: Any
    matrix: Any


_library: _Library | None = None
_lock = threading.Lock()


def _current(encoder: str) -> _Library:
    """This process's copy of the vectors, reloaded when the table changed."""
    global _library
    # Two queries: apart, each is answered from the index on updated_at; together they read every row.
    stamp = (EntryVector.objects.count(), EntryVector.objects.aggregate(last=Max("updated_at"))["last"])
    library = _library
    if library is not None and library.stamp == stamp and library.encoder == encoder:
        return library
    with _lock:
        library = _library
        if library is None or library.stamp != stamp or library.encoder != encoder:
            library = _library = _load(stamp, encoder)
    return library


def _load(stamp: tuple[int, Any], encoder: str) -> _Library:
    import numpy as np

    rows = list(
        EntryVector.objects.filter(encoder=encoder).values_list(
            "entry_id", "entry__help_center_id", "entry__language", "entry__internal", "vector"
        )
    )
    width = len(rows[0][4]) // 4 if rows else 0
    # Rows of another width (a half-finished switch between encoders of one name) are left out.
    rows = [row for row in rows if len(row[4]) == width * 4]
    matrix = np.frombuffer(b"".join(bytes(row[4]) for row in rows), dtype="<f4").reshape(len(rows), width)
    languages: dict[str, int] = {}
    return _Library(
        stamp=stamp,
        encoder=encoder,
        ids=np.array([row[0] for row in rows], dtype=np.int64),
        centers=np.array([row[1] for row in rows], dtype=np.int64),
        languages=languages,
        language_codes=np.array(
            [languages.setdefault(row[2], len(languages)) for row in rows], dtype=np.int32
        ),
        internal=np.array([row[3] for row in rows], dtype=bool),
        matrix=matrix,
    )


def meaning_ranked(
    *, query: str, help_center_id: int | None, languages: list[str] | None, include_internal: bool, limit: int
) -> list[tuple[int, float]]:
    """(translation id, cosine) of the entries closest to `query` in meaning, above the floor, best first.

    Candidates only: the caller reads them back through the visitor's filters.
    """
    import numpy as np

    encoder = get_encoder()
    # Only words the encoder reads as words: a random string spelt out in letters means nothing, yet
    # its vector lands near articles with random strings of their own (links, codes).
    words = encoder.known_words(query)
    if not words:
        return []
    library = _current(encoder.name)
    if not len(library.ids):
        return []
    vector = encoder.encode([" ".join(words)])[0].astype(np.float32)
    if vector.shape[0] != library.matrix.shape[1] or not vector.any():
        return []
    # Not `@`: OpenBLAS spreads a product this small over threads, which costs 8 ms instead of 0.5
    # when another process keeps a core busy; einsum stays on one.
    scores = np.einsum("ij,j->i", library.matrix, vector)
    keep = scores >= FLOORS.get(encoder.name, DEFAULT_FLOOR)
    if help_center_id is not None:
        keep &= library.centers == help_center_id
    if languages:
        keep &= np.isin(library.language_codes, [library.languages.get(code, -1) for code in languages])
    if not include_internal:
        keep &= ~library.internal
    found = np.flatnonzero(keep)
    if len(found) > limit:
        found = found[np.argpartition(-scores[found], limit - 1)[:limit]]
    found = found[np.argsort(-scores[found], kind="stable")]
    return [(int(library.ids[i]), float(scores[i])) for i in found]
