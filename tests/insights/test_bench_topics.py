"""`firstring bench topics` at a tiny size: names only, several topic sets, the misses, bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from firstring.bench import topics as topics_bench


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "label_set"])
        writer.writerows(rows)
    return path


def test_bench_scores_topics_from_their_names(tmp_path):
    shop = "delivery|billing|app not working"
    airline = "baggage|delay or cancellation|praise"
    rows = [
        ("My parcel never arrived, where is my package?", "delivery", shop),
        ("The app keeps crashing when I log in", "app not working|billing", shop),
        ("You lost my suitcase at the airport", "baggage", airline),
        ("Thank you, wonderful crew and great service!", "praise", airline),
        ("The app keeps crashing when I log in", "delivery", shop),
    ]
    result = topics_bench.main(["--data", str(_write(tmp_path / "t.csv", rows))])
    assert (result["n"], result["topic_sets"], result["backend"]) == (5, 2, "default")
    assert result["accuracy"] == 0.8
    assert 0 < result["macro_f1"] < 1
    assert result["misses"] == [
        {"text": "The app keeps crashing when I log in", "true": ["delivery"], "predicted": "app not working"}
    ]


def test_bench_refuses_bad_files(tmp_path):
    with pytest.raises(SystemExit, match="columns"):
        bad = tmp_path / "b.csv"
        bad.write_text("text,label\nhello,delivery\n", encoding="utf-8")
        topics_bench.main(["--data", str(bad)])
    with pytest.raises(SystemExit, match="label_set"):
        topics_bench.main(
            ["--data", str(_write(tmp_path / "c.csv", [("hello", "refund", "delivery|billing")]))]
        )
