"""Topic evaluation rows read from ../shared/data (never shipped): `(text, true topics, topic names)`.

- BANKING77's test file (3,080 questions to a bank, 77 intents): the intents' names, made readable
  ("card_arrival" -> "card arrival"), are the company's topics; one true topic per row.
- Support tweets (twcs_threads_dev.csv): the opening customer tweet of 225 threads, labelled by hand
  (`twcs_topic_labels.tsv`: ids and labels only). Each company kind (food, tech, telecom, travel,
  retail) names 5 to 8 topics of its own, as a company would; a tweet may have several true topics.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from firstring.insights.training.data import shared_data

TopicRow = tuple[str, list[str], list[str]]

LABELS_FILE = Path(__file__).with_name("twcs_topic_labels.tsv")


def readable(intent: str) -> str:
    return intent.replace("_", " ").replace("  ", " ").strip()


def banking77_rows(split: str = "test") -> list[TopicRow]:
    folder = shared_data() / "banking77"
    names = [readable(c) for c in json.loads((folder / "categories.json").read_text(encoding="utf-8"))]
    with (folder / f"{split}.csv").open(encoding="utf-8", newline="") as handle:
        return [(row["text"], [readable(row["category"])], names) for row in csv.DictReader(handle)]


def twcs_topic_rows() -> list[TopicRow]:
    sets: dict[str, list[str]] = {}
    labelled: list[tuple[str, str, list[str]]] = []
    for line in LABELS_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("# set\t"):
            _, name, topics = line.split("\t")
            sets[name] = topics.split("|")
        elif line and not line.startswith(("#", "tweet_id")):
            tweet_id, kind, labels = line.split("\t")
            labelled.append((tweet_id, kind, labels.split("|")))
    with (shared_data() / "twcs_threads_dev.csv").open(encoding="utf-8", newline="") as handle:
        texts = {row["tweet_id"]: row["text"] for row in csv.DictReader(handle)}
    return [(texts[tweet_id], labels, sets[kind]) for tweet_id, kind, labels in labelled]
