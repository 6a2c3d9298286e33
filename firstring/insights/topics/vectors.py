"""The default topic encoder: one vector per word piece, averaged; NumPy only, shipped in the package.

`models/topic-vectors.npz` holds BERT's uncased word-piece vocabulary and, for each piece, a vector
distilled from all-MiniLM-L6-v2 (Apache-2.0) by `training/distill_vectors.py`: the encoder's output for
the piece averaged over the contexts it appears in, in TweetEval and BANKING77 (whose licences let a
derived model ship), reduced by PCA, weighted down for frequent pieces (SIF) and stored as int8. A
text's vector is the mean of its pieces' vectors at unit length, which approximates what the sentence
encoder's mean pooling gives, at a fraction of the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from firstring.insights.topics.wordpiece import basic_tokens, known_words, wordpiece

VECTORS_FILE = Path(__file__).with_name("models") / "topic-vectors.npz"
WORD_CACHE_SIZE = 100_000
# A batch's texts are split into words twice (its vectors, then its words against topic names).
_tokens = lru_cache(maxsize=4096)(basic_tokens)


class StaticEncoder:
    name = "default"

    def __init__(self, path: Path) -> None:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            pieces = bytes(data["pieces"]).decode("utf-8").split("\n")
            self.vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
        self.vocab = {piece: index for index, piece in enumerate(pieces)}
        self._words: dict[str, tuple[list[int], Any]] = {}

    def _word(self, word: str) -> tuple[list[int], Any]:
        """A word's pieces and, for a word with a letter, their summed vector at unit length."""
        found = self._words.get(word)
        if found is None:
            ids = [self.vocab[p] for p in wordpiece(word, self.vocab) if p in self.vocab]
            unit = None
            if ids and any(c.isalpha() for c in word):
                vector = self.vectors[ids].sum(axis=0)
                norm = float(vector @ vector) ** 0.5
                unit = vector / norm if norm > 0 else None
            if len(self._words) >= WORD_CACHE_SIZE:
                self._words.clear()
            found = self._words[word] = (ids, unit)
        return found

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [i for word_ids, _ in map(self._word, _tokens(text)) for i in word_ids]
            if ids:
                vector = self.vectors[ids].sum(axis=0)
                norm = float(np.linalg.norm(vector))
                if norm > 0:
                    out[row] = vector / norm
        return out

    def known_words(self, text: str) -> list[str]:
        return known_words(text, self.vocab)

    def word_vectors(self, text: str) -> Any:
        """One unit-length row per word of the text; punctuation and numbers left out."""
        import numpy as np

        rows = [u for _, u in map(self._word, _tokens(text)) if u is not None]
        return np.array(rows, dtype=np.float32).reshape(len(rows), self.vectors.shape[1])


@cache
def static_encoder() -> StaticEncoder:
    return StaticEncoder(VECTORS_FILE)
