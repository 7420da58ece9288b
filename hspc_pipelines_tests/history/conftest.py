"""The sync history on both databases it runs on: SQLite (a temporary file) and PostgreSQL (a
temporary database on 127.0.0.1:5432, created for the test session and dropped after it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hspc_pipelines.history import SyncHistory
from hspc_pipelines.history.schema import METADATA
from hspc_pipelines_tests.support.postgres import admin_connection, temporary_database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    import psycopg2

    try:
        admin = admin_connection()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    with temporary_database(admin, "hspc_history_test") as env:
        yield (
            f"postgresql+psycopg2://{env['DAGSTER_PG_USER']}@{env['DAGSTER_PG_HOST']}:"
            f"{env['DAGSTER_PG_PORT']}/{env['DAGSTER_PG_DB']}"
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def history(database_url: str) -> Iterator[SyncHistory]:
    log = SyncHistory.from_url(database_url)
    try:
        yield log
    finally:
        # The PostgreSQL database lives for the session: leave it empty for the next test.
        METADATA.drop_all(log.engine)
        log.dispose()
