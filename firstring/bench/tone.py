"""`firstring bench tone --data FILE.csv [--train N] [--seed S] [--backend NAME]`: tone accuracy and speed.

FILE.csv has the columns `text,label` (negative, neutral, positive). Without --train the backend
classifies every row as it ships. With --train N it first learns from N rows drawn at random with the
seed (as if they were a company's corrections) and is scored on the other rows. Speed is the CPU time of
this one process classifying the scored rows one call for all (`messages_per_second`, one core);
learning is timed apart (`train_seconds`). No database is needed.
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firstring.insights.classifiers import LABELS, default_classifier, get_classifier
from firstring.insights.classifiers.base import ToneClassifier
from firstring.insights.classifiers.learning import LearningToneClassifier


def read_rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise SystemExit(f"{path}: expected the columns text,label")
        rows = []
        for number, row in enumerate(reader, start=2):
            label = (row["label"] or "").strip().lower()
            if label not in LABELS:
                raise SystemExit(f"{path}:{number}: label {row['label']!r} is not one of {', '.join(LABELS)}")
            rows.append((row["text"] or "", label))
    return rows


def score(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    per_class: dict[str, dict[str, float]] = {}
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label != g for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label != p for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    return {
        "accuracy": round(correct / len(gold), 4) if gold else 0.0,
        "macro_f1": round(sum(c["f1"] for c in per_class.values()) / len(LABELS), 4),
        "per_class": per_class,
    }


def main(argv: Sequence[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench tone", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="CSV with the columns text,label.")
    parser.add_argument("--train", type=int, default=0, help="Learn from this many rows first.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", default="default", help="Backend to score (without --train).")
    args = parser.parse_args(argv)

    rows = read_rows(args.data)
    if args.train < 0 or args.train >= len(rows):
        raise SystemExit(f"--train must be between 0 and {len(rows) - 1} for {len(rows)} rows")
    order = list(range(len(rows)))
    random.Random(args.seed).shuffle(order)
    learn = [rows[i] for i in order[: args.train]]
    evaluate = [rows[i] for i in order[args.train :]] if args.train else rows

    classifier: ToneClassifier
    train_seconds = 0.0
    if args.train:
        started = time.process_time()
        classifier = LearningToneClassifier.fit(
            default_classifier().model, [t for t, _ in learn], [y for _, y in learn], seed=args.seed
        )
        train_seconds = time.process_time() - started
    else:
        classifier = get_classifier(args.backend)
        classifier.classify(["warm up"])

    texts = [t for t, _ in evaluate]
    started = time.process_time()
    results = classifier.classify(texts)
    elapsed = time.process_time() - started
    baseline = {}
    if args.train:
        # What the default scores on the same rows, to show what learning added.
        plain = default_classifier().classify(texts)
        baseline = {"default_macro_f1": score([y for _, y in evaluate], [r.label for r in plain])["macro_f1"]}
    return {
        "benchmark": "tone",
        "data": args.data.name,
        "backend": classifier.name,
        "n": len(evaluate),
        "trained_on": len(learn),
        "seed": args.seed,
        **score([y for _, y in evaluate], [r.label for r in results]),
        "messages_per_second": round(len(texts) / elapsed) if elapsed > 0 else None,
        "train_seconds": round(train_seconds, 2),
        **baseline,
    }
