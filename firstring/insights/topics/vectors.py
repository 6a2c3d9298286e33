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
from functools import cache
from pathlib import Path
from typing import Any

from firstring.insights.topics.wordpiece import tokenize

VECTORS_FILE = Path(__file__).with_name("models") / "topic-vectors.npz"


class StaticEncoder:
    name = "default"

    def __init__(self, path: Path) -> None:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            pieces = bytes(data["pieces"]).decode("utf-8").split("\n")
            self.vectors = data["vectors"].astype(np.float32) * data["scales"][:, None]
        self.vocab = {piece: index for index, piece in enumerate(pieces)}

    def encode(self, texts: Sequence[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = [self.vocab[p] for p in tokenize(text, self.vocab) if p in self.vocab]
            if ids:
                vector = self.vectors[ids].sum(axis=0)
                norm = float(np.linalg.norm(vector))
                if norm > 0:
                    out[row] = vector / norm
        return out


@cache
def static_encoder() -> StaticEncoder:
    return StaticEncoder(VECTORS_FILE)
