"""Two date expressions written natively for each database.

Django's own TruncDate and date subtraction call Python functions row by row on SQLite (time
zone conversion included), which costs seconds over 20,000 participants; these use SQLite's
built-in date functions (its timestamps are stored as UTC text) and PostgreSQL's casts, so the
database does the work in both. Days are UTC days, as engagement's health rule counts them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import DateField, Func, IntegerField


class UtcDate(Func):
    """The UTC calendar day of a timestamp."""

    output_field = DateField()
    arity = 1

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="date(%(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="((%(expressions)s) AT TIME ZONE 'UTC')::date", **extra
        )


class DaysBetween(Func):
    """Whole UTC days from the second timestamp to the first (negative if it is later)."""

    output_field = IntegerField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        later, earlier = (compiler.compile(expression) for expression in self.source_expressions)
        sql = f"CAST(julianday(date({later[0]})) - julianday(date({earlier[0]})) AS INTEGER)"
        return sql, (*later[1], *earlier[1])

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        later, earlier = (compiler.compile(expression) for expression in self.source_expressions)
        sql = f"(({later[0]}) AT TIME ZONE 'UTC')::date - (({earlier[0]}) AT TIME ZONE 'UTC')::date"
        return f"({sql})", (*later[1], *earlier[1])
