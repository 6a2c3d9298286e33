"""Writing many rows in one statement where the ORM's bulk_update is too slow for a hot path."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model


def update_rows(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of each object to its row in one statement, as QuerySet.bulk_update does.

    bulk_update builds a CASE expression per field and row; for a batch of a hundred rows that costs
    more to compile than the statement takes to run. This sends the values as a VALUES list joined on
    the primary key, a form PostgreSQL and SQLite (3.33+) both take. The caller holds the rows' locks.
    """
    if not objs:
        return
    meta = objs[0]._meta
    pk = cast(Field[Any, Any], meta.pk)
    columns = [cast(Field[Any, Any], meta.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # VALUES columns carry no type on PostgreSQL (a column of NULLs would be text): cast each one.
        row = "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in [pk, *columns]) + ")"
    else:
        row = "(" + ", ".join("%s" for _ in [pk, *columns]) + ")"
    params: list[Any] = []
    for obj in objs:
        params.append(pk.get_db_prep_value(obj.pk, connection))
        params.extend(field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns)
    # Only names quoted by the backend go into the statement; every value is a parameter.
    table = quote(meta.db_table)
    columns_sql = [quote(_column(f)) for f in [pk, *columns]]
    values_sql = [quote(f"new_{_column(f)}") for f in [pk, *columns]]
    assignments = ", ".join(f"{c} = new.{v}" for c, v in zip(columns_sql[1:], values_sql[1:], strict=True))
    rows = ", ".join([row] * len(objs))
    key = f"{table}.{columns_sql[0]} = new.{values_sql[0]}"
    sql = f"WITH new ({', '.join(values_sql)}) AS (VALUES {rows}) UPDATE {table} SET {assignments} FROM new WHERE {key}"  # noqa: S608, E501
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None, f"{field} has no column"
    return field.column
