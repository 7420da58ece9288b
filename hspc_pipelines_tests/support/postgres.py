"""Throwaway databases on the machine's PostgreSQL (127.0.0.1:5432, trust auth), for Dagster's instance."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


@dataclass(frozen=True)
class Postgres:
    """A PostgreSQL server the tests started, and the database Dagster's instance uses on it."""

    host: str
    port: int
    user: str
    db: str

    def env(self) -> dict[str, str]:
        return dagster_pg_env(self.host, self.port, self.user, self.db)


def dagster_pg_env(host: str, port: int, user: str, db: str) -> dict[str, str]:
    """The DAGSTER_PG_* variables deploy/dagster*.yaml read."""
    return {
        "DAGSTER_PG_HOST": host,
        "DAGSTER_PG_PORT": str(port),
        "DAGSTER_PG_USER": user,
        "DAGSTER_PG_PASSWORD": "unused-trust-auth",
        "DAGSTER_PG_DB": db,
    }


def admin_connection() -> Any:
    """An autocommit connection to the server's `postgres` database; raises if there is no server."""
    import psycopg2

    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=5)
    admin.autocommit = True
    return admin


@contextmanager
def temporary_database(admin: Any, prefix: str) -> Iterator[dict[str, str]]:
    """A fresh database named `<prefix>_<random>`, dropped (and `admin` closed) at the end; yields
    its DAGSTER_PG_* variables."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield dagster_pg_env(PG_HOST, PG_PORT, PG_USER, name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
