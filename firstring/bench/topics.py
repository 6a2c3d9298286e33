"""`firstring bench topics --data FILE.csv [--backend NAME]`: topics from their names alone.

FILE.csv has the columns `text,label,label_set`: the true topics of the text and the company's topic
names, each separated by `|`. The classifier gets nothing but the names of each row's set (no
descriptions, no examples, no training) and its best topic counts as correct when it is one of the
true ones. `macro_f1` averages the F1 of every true topic name (per set); `misses` lists a few wrong
answers to read. No database is needed.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from firstring.insights.topics import TopicSpec, get_encoder, topic_classifier


def read_rows(path: Path) -> list[tuple[str, list[str], list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "label", "label_set"} <= set(reader.fieldnames):
            raise SystemExit(f"{path}: expected the columns text,label,label_set")
        rows = []
        for number, row in enumerate(reader, start=2):
            labels = [x.strip() for x in (row["label"] or "").split("|") if x.strip()]
            names = [x.strip() for x in (row["label_set"] or "").split("|") if x.strip()]
            if not labels or not names or not set(labels) <= set(names):
                raise SystemExit(f"{path}:{number}: every label must be one of the row's label_set")
            rows.append((row["text"] or "", labels, names))
    return rows


def score(rows: Sequence[tuple[str, list[str], list[str]]], predicted: Sequence[str]) -> dict[str, Any]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    correct = 0
    for (_text, gold, names), guess in zip(rows, predicted, strict=True):
        group = "|".join(names)
        if guess in gold:
            correct += 1
            counts[(group, guess)][0] += 1
        else:
            counts[(group, guess)][1] += 1
            counts[(group, gold[0])][2] += 1
    f1s = []
    for tp, fp, fn in counts.values():
        if tp + fn == 0:
            continue  # a name nobody's text was about has no F1 to average
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn)
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return {
        "accuracy": round(correct / len(rows), 4) if rows else 0.0,
        "macro_f1": round(sum(f1s) / len(f1s), 4) if f1s else 0.0,
    }


def main(argv: Sequence[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench topics", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="CSV with the columns text,label,label_set.")
    parser.add_argument("--backend", default="default", help="Topic encoder: default or minilm.")
    parser.add_argument("--misses", type=int, default=5, help="How many wrong answers to show.")
    args = parser.parse_args(argv)

    rows = read_rows(args.data)
    encoder = get_encoder(args.backend)
    by_set: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, (_text, _gold, names) in enumerate(rows):
        by_set[tuple(names)].append(index)
    predicted = [""] * len(rows)
    started = time.process_time()
    for topic_set, indexes in by_set.items():
        classifier = topic_classifier([TopicSpec(name, name) for name in topic_set], backend=args.backend)
        for index, ranked in zip(indexes, classifier.classify([rows[i][0] for i in indexes]), strict=True):
            predicted[index] = str(ranked[0].key)
    elapsed = time.process_time() - started
    misses = [
        {"text": text[:160], "true": gold, "predicted": guess}
        for (text, gold, _names), guess in zip(rows, predicted, strict=True)
        if guess not in gold
    ]
    return {
        "benchmark": "topics",
        "data": args.data.name,
        "backend": encoder.name,
        "n": len(rows),
        "topic_sets": len(by_set),
        **score(rows, predicted),
        "messages_per_second": round(len(rows) / elapsed) if elapsed > 0 else None,
        "misses": misses[: args.misses],
    }
