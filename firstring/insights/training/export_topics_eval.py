"""Write the topic evaluation files for `firstring bench topics`: `python -m ...export_topics_eval --out DIR`.

The text stays in ../shared/data; this writes, for measuring on this machine only:
- `banking77_topics.csv`: BANKING77's 3,080 test questions, the 77 intents' names as the topics;
- `twcs_topics.csv`: 225 support tweets labelled by hand, each with its company kind's topic names.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

from firstring.insights.training import topics_data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {
        "banking77_topics.csv": topics_data.banking77_rows(),
        "twcs_topics.csv": topics_data.twcs_topic_rows(),
    }
    for name, rows in files.items():
        with (args.out / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label", "label_set"])
            writer.writerows((text, "|".join(gold), "|".join(names)) for text, gold, names in rows)
        print(f"{args.out / name}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
