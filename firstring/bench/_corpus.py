"""Real support text for benchmarks: customer tweets from the Customer Support on Twitter sample.

The file lives outside the repository (../shared/data/twcs_threads_dev.csv, or FIRSTRING_BENCH_TEXTS);
when it is absent, generated sentences stand in and the result says so.
"""

from __future__ import annotations

import csv
import os
import random
from pathlib import Path

from django.conf import settings

_FALLBACK_WORDS = [
    "order", "parcel", "refund", "invoice", "account", "password", "login", "delivery", "late", "broken",
    "charge", "card", "subscription", "cancel", "upgrade", "phone", "internet", "outage", "support", "help",
    "please", "thanks", "still", "waiting", "again", "why", "when", "today",
]  # fmt: skip


def corpus_path() -> Path:
    default = Path(settings.PROJECT_DIR).parent / "shared" / "data" / "twcs_threads_dev.csv"
    return Path(os.environ.get("FIRSTRING_BENCH_TEXTS", str(default)))


def support_texts(seed: int = 1) -> tuple[list[str], str]:
    """Customer-written texts and where they came from ("twcs:<path>" or "generated")."""
    path = corpus_path()
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            texts = [row["text"] for row in csv.DictReader(handle) if row.get("inbound") == "True"]
        if texts:
            return texts, f"twcs:{path.name}"
    rng = random.Random(seed)
    generated = [
        " ".join(rng.choice(_FALLBACK_WORDS) for _ in range(rng.randint(6, 30))).capitalize() + "."
        for _ in range(2000)
    ]
    return generated, "generated (twcs_threads_dev.csv not found)"
