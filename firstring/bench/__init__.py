"""Benchmarks: `firstring bench NAME [options]`. Each prints one JSON object as its last line.

A benchmark is a module `firstring.bench.<name>` with `main(argv) -> dict`.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from collections.abc import Sequence


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def run_benchmark(name: str, argv: Sequence[str]) -> int:
    if name not in available():
        print(f"unknown benchmark {name!r}; available: {', '.join(available())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"{__name__}.{name}")
    result = module.main(list(argv))
    print(json.dumps(result, sort_keys=True))
    return 0
