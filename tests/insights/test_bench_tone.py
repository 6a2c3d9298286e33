"""`firstring bench tone` at a tiny size: the numbers it reports, the fixed sample, bad input."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from firstring.bench import tone as tone_bench
from tests.insights.test_classifier import OBVIOUS


def _write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def test_bench_scores_a_small_file(tmp_path):
    rows = [(text, label) for label, texts in OBVIOUS.items() for text in texts] * 3
    data = _write_csv(tmp_path / "tone.csv", rows)

    result = tone_bench.main(["--data", str(data)])
    assert (result["n"], result["trained_on"], result["backend"]) == (len(rows), 0, "default")
    assert result["macro_f1"] == result["accuracy"] == 1.0
    assert set(result["per_class"]) == {"negative", "neutral", "positive"}
    assert result["per_class"]["neutral"]["support"] == 9
    assert result["messages_per_second"] > 0

    learned = tone_bench.main(["--data", str(data), "--train", "12", "--seed", "3"])
    assert (learned["n"], learned["trained_on"], learned["backend"]) == (len(rows) - 12, 12, "learning")
    assert 0 <= learned["macro_f1"] <= 1 and "default_macro_f1" in learned
    # The sample is fixed by the seed.
    assert tone_bench.main(["--data", str(data), "--train", "12", "--seed", "3"])["n"] == learned["n"]


def test_bench_refuses_bad_files(tmp_path):
    bad = _write_csv(tmp_path / "bad.csv", [("fine", "happy")])
    with pytest.raises(SystemExit, match="not one of"):
        tone_bench.main(["--data", str(bad)])
    small = _write_csv(tmp_path / "small.csv", [("fine", "neutral")])
    with pytest.raises(SystemExit, match="--train"):
        tone_bench.main(["--data", str(small), "--train", "5"])
