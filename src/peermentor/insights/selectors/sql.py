"""A histogram over a grouped query, in one statement.

Some figures are a distribution of a per-person (or per-connection) value that is itself an
aggregate, such as the days from enrolling to one's first connection. Django cannot group the
result of a grouped query again, and a correlated subquery per person is slow (PostgreSQL runs
it as a loop). So the grouped query is written with the ORM (filters and joins stay Django's)
and wrapped here in a common table expression that both SQLite and PostgreSQL run:

    WITH per_row AS (<grouped query>)
    SELECT 0, value_a, COUNT(*) FROM per_row WHERE value_a IS NOT NULL GROUP BY value_a
    UNION ALL SELECT 1, value_b, ...

One row comes back per distinct value: a few hundred at most, whatever the number of people.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import connections
from django.db.models import QuerySet


def histograms(per_row: QuerySet[Any], columns: Sequence[str]) -> dict[str, list[tuple[Any, int]]]:
    """{column: [(value, rows with that value)]} for each annotated column of `per_row` (a
    `.values(...).annotate(...)` queryset), NULL values left out."""
    query = per_row.order_by().query
    connection = connections[per_row.db]
    sql, params = query.sql_with_params()
    quote = connection.ops.quote_name
    parts = [
        f"SELECT {index} AS measure, {quote(column)} AS value, COUNT(*) AS n FROM per_row "
        f"WHERE {quote(column)} IS NOT NULL GROUP BY {quote(column)}"
        for index, column in enumerate(columns)
    ]
    statement = f"WITH per_row AS ({sql}) " + " UNION ALL ".join(parts)
    result: dict[str, list[tuple[Any, int]]] = {column: [] for column in columns}
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        for measure, value, count in cursor.fetchall():
            result[columns[measure]].append((_value(value), count))
    return result


def _value(value: Any) -> Any:
    # SQLite returns a date() as text; PostgreSQL returns a date.
    if isinstance(value, str):
        return date.fromisoformat(value)
    return value
