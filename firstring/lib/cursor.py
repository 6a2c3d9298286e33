"""Keyset (cursor) pagination over an ordering of (field, descending, nulls-last) keys ending in "id"."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db.models import F, Model, Q, QuerySet

from firstring.lib.errors import InvalidInput

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    nullable: bool = False

    def order(self) -> Any:
        expression = F(self.field)
        if self.descending:
            return expression.desc(nulls_last=True) if self.nullable else expression.desc()
        return expression.asc(nulls_last=True) if self.nullable else expression.asc()


def encode_cursor(obj: Model, keys: list[SortKey]) -> str:
    values = []
    for key in keys:
        value = getattr(obj, key.field)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keys: list[SortKey]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError):
        raise InvalidInput("the cursor is not valid") from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidInput("the cursor is not valid for this ordering")
    for value in values:
        if value is not None and not isinstance(value, str | int | float):
            raise InvalidInput("the cursor is not valid")
    return values


def _after(key: SortKey, value: Any) -> Q:
    """Rows strictly after value on this one key, nulls sorting last."""
    if value is None:
        return Q(pk__in=[])  # nothing sorts after null on this key
    strictly = Q(**{f"{key.field}__lt" if key.descending else f"{key.field}__gt": value})
    if key.nullable:
        strictly |= Q(**{f"{key.field}__isnull": True})
    return strictly


def _equal(key: SortKey, value: Any) -> Q:
    return Q(**{f"{key.field}__isnull": True}) if value is None else Q(**{key.field: value})


def paginate(
    queryset: QuerySet[M], keys: list[SortKey], cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """One page and the cursor of the next page (None at the end)."""
    ordered = queryset.order_by(*(key.order() for key in keys))
    if cursor:
        values = decode_cursor(cursor, keys)
        condition = Q(pk__in=[])
        prefix = Q()
        for key, value in zip(keys, values, strict=True):
            condition |= prefix & _after(key, value)
            prefix &= _equal(key, value)
        ordered = ordered.filter(condition)
    rows = list(ordered[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1], keys) if has_more and rows else None)
