"""Write the tone evaluation files for `firstring bench tone`: `python -m ...export_eval --out DIR`.

The text stays in ../shared/data; this writes, for measuring on this machine only:
- `tweeteval_held_out.csv`: the 30% of TweetEval's test file the model never trained on (3,686);
- `twcs_hand_labelled.csv`: the 1,439 support tweets labelled by hand (the shipped model trained on
  distant labels of 273 of them; see train_tone.py for the clean two-fold figure);
- `twcs_hand_labelled_half_0.csv`, `..._half_1.csv`: the same split by customer.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Sequence
from pathlib import Path

from firstring.insights.training import data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = {
        "tweeteval_held_out.csv": data.tweeteval_split()[1],
        "twcs_hand_labelled.csv": data.twcs_hand_labelled(),
        "twcs_hand_labelled_half_0.csv": data.twcs_hand_labelled(half=0),
        "twcs_hand_labelled_half_1.csv": data.twcs_hand_labelled(half=1),
    }
    for name, rows in files.items():
        with (args.out / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        print(f"{args.out / name}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
