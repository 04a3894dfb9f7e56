"""The PostgreSQL server the app benchmarks create their scratch databases on."""

from __future__ import annotations

import os

# The local server (trust auth) when DATABASE_URL does not name a PostgreSQL one.
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith("postgres") else POSTGRES_SERVER


def with_database(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


def postgres(statement: str) -> None:
    """Run one statement on the server outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as connection:
        connection.execute(statement)
