"""CSV cells that a spreadsheet will not run: text starting with = + - @ (CSV injection) is quoted."""

from __future__ import annotations

from typing import Any


def safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula in a spreadsheet (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
