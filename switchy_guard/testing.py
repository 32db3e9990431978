"""A pytest plugin for testing your own migrations (loaded through the ``pytest11`` entry point).

Fixtures:

- ``switchy_database_url``: a fresh temporary SQLite database per test, or the URL given with
  ``--switchy-db-url`` or ``SWITCHY_TEST_DATABASE_URL`` (that database is used as it is).
- ``switchy_migrator``: a factory ``switchy_migrator(source)`` returning a MigrationTester on
  that database: apply up to a migration, insert data, apply the next ones and check how the
  data was transformed (what switchy_schema's MigrationTestBuilder does).

Assertions: ``assert_table_exists``, ``assert_column_exists``, ``assert_index_exists``,
``assert_foreign_key_exists`` (each takes a URL, an Engine or a MigrationTester) and
``assert_round_trip(source)``, built on ``verify``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from switchy_guard.discovery import SourceSpec
from switchy_guard.model.plan import All, Steps, UpTo
from switchy_guard.model.records import DEFAULT_TABLE
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.runner import Migrator

ENVIRONMENT_VARIABLE = "SWITCHY_TEST_DATABASE_URL"


class MigrationTester:
    """Step through a source's migrations on a test database."""

    def __init__(self, source: SourceSpec, database_url: str, **options: Any) -> None:
        self.engine = create_database_engine(database_url)
        self.migrator = Migrator(source, self.engine, **options)

    def migrate_to(self, migration_id: str) -> list[str]:
        """Apply pending migrations up to and including ``migration_id``."""
        return self.migrator.migrate(UpTo(migration_id)).done

    def migrate_next(self, count: int = 1) -> list[str]:
        """Apply the next ``count`` pending migrations."""
        return self.migrator.migrate(Steps(count)).done

    def migrate_all(self) -> list[str]:
        """Apply every pending migration."""
        return self.migrator.migrate(All()).done

    def rollback(self, steps: int = 1) -> list[str]:
        """Roll back the last ``steps`` applied migrations."""
        return self.migrator.rollback(Steps(steps)).done

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run one statement (with ``:name`` parameters) in its own transaction."""
        with self.engine.begin() as conn:
            conn.execute(text(sql), dict(params or {}))

    def fetch_all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of a query, as tuples."""
        with self.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), dict(params or {}))]

    def applied(self) -> list[str]:
        """The ids applied so far, in order."""
        return [entry.id for entry in self.migrator.state().applied()]

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


Target = str | Engine | MigrationTester
"""What the schema assertions inspect: a database URL, an Engine or a MigrationTester."""


@contextmanager
def _inspector(target: Target) -> Iterator[Any]:
    if isinstance(target, MigrationTester):
        yield inspect(target.engine)
    elif isinstance(target, Engine):
        yield inspect(target)
    else:
        engine = create_database_engine(target)
        try:
            yield inspect(engine)
        finally:
            engine.dispose()


def _tables(inspector: Any, table: str) -> None:
    tables = sorted(inspector.get_table_names())
    assert table in tables, f"table {table!r} does not exist (tables: {tables})"


def assert_table_exists(target: Target, table: str) -> None:
    """Fail unless ``table`` exists."""
    with _inspector(target) as inspector:
        _tables(inspector, table)


def assert_column_exists(target: Target, table: str, column: str) -> None:
    """Fail unless ``table.column`` exists."""
    with _inspector(target) as inspector:
        _tables(inspector, table)
        columns = [c["name"] for c in inspector.get_columns(table)]
    assert column in columns, f"column {table}.{column} does not exist (columns: {columns})"


def assert_index_exists(
    target: Target, table: str, index: str | None = None, columns: Sequence[str] | None = None
) -> None:
    """Fail unless ``table`` has an index named ``index`` and/or on exactly ``columns``."""
    with _inspector(target) as inspector:
        _tables(inspector, table)
        indexes = inspector.get_indexes(table)
    found = [
        ix for ix in indexes
        if (index is None or ix["name"] == index)
        and (columns is None or list(ix["column_names"]) == list(columns))
    ]
    parts = ([repr(index)] if index else []) + ([f"on {list(columns)}"] if columns else [])
    wanted = " ".join(parts) or "at all"
    described = [(ix["name"], ix["column_names"]) for ix in indexes]
    assert found, f"no index {wanted} on table {table!r} (its indexes: {described})"


def assert_foreign_key_exists(target: Target, table: str, referred_table: str) -> None:
    """Fail unless ``table`` has a foreign key to ``referred_table``."""
    with _inspector(target) as inspector:
        _tables(inspector, table)
        referred = [fk["referred_table"] for fk in inspector.get_foreign_keys(table)]
    assert referred_table in referred, (
        f"no foreign key from {table} to {referred_table} (it refers to: {referred})"
    )


def assert_round_trip(
    source: SourceSpec, scratch_url: str | None = None, *, table: str = DEFAULT_TABLE
) -> None:
    """Fail when a down script does not restore the schema (see ``switchy-guard verify``).

    Runs :func:`switchy_guard.verify.roundtrip.verify` on ``scratch_url`` (an empty database) or a
    temporary SQLite file; the AssertionError lists every difference.
    """
    from switchy_guard.verify.roundtrip import verify

    report = verify(source, scratch_url, table=table)
    assert report.ok, "down scripts do not round-trip:\n" + "\n".join(
        f"  {difference}" for difference in report.differences
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--switchy-db-url``: the database the fixtures use instead of a temporary SQLite."""
    parser.addoption(
        "--switchy-db-url",
        default=None,
        help=f"database for switchy-guard's fixtures (env {ENVIRONMENT_VARIABLE})",
    )


@pytest.fixture
def switchy_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test database: the given URL, or a fresh temporary SQLite file."""
    given = request.config.getoption("--switchy-db-url") or os.environ.get(ENVIRONMENT_VARIABLE)
    return str(given) if given else f"sqlite:///{tmp_path / 'switchy-test.db'}"


@pytest.fixture
def switchy_migrator(
    switchy_database_url: str,
) -> Iterator[Callable[..., MigrationTester]]:
    """A factory: ``switchy_migrator(source, **Migrator options) -> MigrationTester``."""
    made: list[MigrationTester] = []

    def make(source: SourceSpec, **options: Any) -> MigrationTester:
        tester = MigrationTester(source, switchy_database_url, **options)
        made.append(tester)
        return tester

    yield make
    for tester in made:
        tester.close()
