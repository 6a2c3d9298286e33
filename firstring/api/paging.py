"""Cursor checks for the API: a cursor a client made up is a 422, never a database error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection
from django.db.models import Field as ModelField
from django.db.models import Model, QuerySet

from firstring.lib.cursor import SortKey, decode_cursor, paginate
from firstring.lib.errors import InvalidInput

M = TypeVar("M", bound=Model)


def check_cursor(cursor: str | None, model: type[Model], keys: list[SortKey]) -> None:
    """Refuse a cursor whose values do not fit the columns they are compared with.

    lib.cursor checks the shape (a list of scalars); the values go into SQL as they are, so a string
    where a date belongs or an id beyond 64 bits would otherwise fail in the database driver.
    """
    if not cursor:
        return
    for key, value in zip(keys, decode_cursor(cursor, keys), strict=True):
        if value is None:
            if not key.nullable:
                raise InvalidInput("the cursor is not valid")
            continue
        try:
            field = model._meta.get_field(key.field)
            assert isinstance(field, ModelField)
            parsed = field.to_python(value)
        except (FieldDoesNotExist, ValidationError, TypeError, ValueError):
            raise InvalidInput("the cursor is not valid") from None
        if isinstance(parsed, datetime):
            if parsed.tzinfo is None:
                raise InvalidInput("the cursor is not valid")
            try:
                parsed.astimezone(UTC)
            except (OverflowError, ValueError):
                raise InvalidInput("the cursor is not valid") from None
        elif isinstance(parsed, int):
            low, high = connection.ops.integer_field_range(field.get_internal_type())
            if not max(low or -(2**63), -(2**63)) <= parsed <= min(high or 2**63 - 1, 2**63 - 1):
                raise InvalidInput("the cursor is not valid")


def page(
    queryset: QuerySet[M], keys: list[SortKey], cursor: str | None, limit: int
) -> tuple[list[M], str | None]:
    """lib.cursor.paginate, after checking the cursor's values."""
    check_cursor(cursor, queryset.model, keys)
    return paginate(queryset, keys, cursor, limit)
