"""What a fleet target costs the fleet process (issue 20's benchmark goal): the lock record
is not reflected again when the run releases its lock, and the migrations and policies
are read once per fleet run, not once per target. Each saving keeps the behaviour: a
record table that vanished under the run still releases cleanly, and every target sees
the same history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from switchy_guard.config import resolve_settings
from switchy_guard.discovery import as_source
from switchy_guard.fleet.rollout import Wave
from switchy_guard.fleet.targets import Target
from switchy_guard.fleet.work import FleetJob, run_target
from switchy_guard.gates import policy
from switchy_guard.model.migration import Migration
from switchy_guard.model.plan import All
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.lockrecord import LockRecord
from tests.cli_helpers import write_migration

TABLE = "__switchy_migrations"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement ``engine`` sends while the block runs (reflection's included)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.strip() != "BEGIN":  # SQLite's own transactions (db.py)
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_releasing_the_lock_sends_one_delete_no_catalog_query(db_url: str) -> None:
    """The run's own record write made sure of the table's columns: the release deletes
    the row holding its token, without looking the table up again."""
    engine = create_database_engine(db_url)
    try:
        record = LockRecord(TABLE)
        with engine.connect() as conn:
            token = record.write(conn, "test", session=None)
            with statements(engine) as seen:
                assert record.clear(conn, token) is True
            assert LockRecord(TABLE).read(conn) is None
            conn.rollback()
        assert len(seen) == 1, seen
        assert seen[0].startswith("DELETE FROM") and "token" in seen[0], seen
    finally:
        engine.dispose()


def test_a_record_table_dropped_under_the_run_is_released_quietly(db_url: str) -> None:
    """As before: the table gone when the run ends means there is nothing to clear."""
    engine = create_database_engine(db_url)
    try:
        record = LockRecord(TABLE)
        with engine.connect() as conn:
            token = record.write(conn, "test", session=None)
            with engine.begin() as other:
                other.exec_driver_sql(f"DROP TABLE {TABLE}_lock")
            assert record.clear(conn, token) is False
            conn.exec_driver_sql("SELECT 1")  # the connection is usable afterwards
            conn.rollback()
    finally:
        engine.dispose()


class CountingSource:
    """A real folder source that counts its reads."""

    def __init__(self, folder: Path) -> None:
        self.inner = as_source(str(folder))
        self.reads: list[str | None] = []

    @property
    def label(self) -> str:
        return self.inner.label

    def load(self, dialect: str | None = None) -> list[Migration]:
        self.reads.append(dialect)
        return self.inner.load(dialect)


def test_a_fleet_reads_its_migrations_and_policies_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three targets: one read of the migrations, one of the policies, each target
    applied with the same history."""
    folder = tmp_path / "migrations"
    write_migration(folder, "2024-01-01-000000_first", "CREATE TABLE a (id INTEGER);\n")
    write_migration(folder, "2024-01-02-000000_second", "CREATE TABLE b (id INTEGER);\n")
    source = CountingSource(folder)
    loads: list[object] = []
    real = policy.policies_for

    def policies_for(settings: Any, **kwargs: Any) -> Any:
        loads.append(settings)
        return real(settings, **kwargs)

    monkeypatch.setattr(policy, "policies_for", policies_for)
    job = FleetJob("migrate", resolve_settings({"migrations_dir": str(folder)}), source, All())
    targets = [Target(f"t{n}", f"sqlite:///{tmp_path / f't{n}.db'}") for n in range(3)]
    wave = Wave("all", tuple(targets))
    results = [run_target(job, target, wave) for target in targets]
    assert [r.outcome for r in results] == ["applied"] * 3, [r.reason for r in results]
    assert all(r.done == ["2024-01-01-000000_first", "2024-01-02-000000_second"]
               for r in results)
    assert source.reads == ["sqlite"]
    assert len(loads) == 1


def test_a_failed_read_is_not_kept(tmp_path: Path) -> None:
    """A source that cannot be read fails each target with its own error (as when each
    target read it), and once readable again the next target reads it."""
    folder = tmp_path / "migrations"
    write_migration(folder, "2024-01-01-000000_first", "CREATE TABLE a (id INTEGER);\n")
    script = next(folder.rglob("up.sql"))
    script.write_bytes(b"CREATE TABLE a (id INTEGER);\0\n")
    job = FleetJob("migrate", resolve_settings({"migrations_dir": str(folder)}),
                   str(folder), All())
    targets = [Target(f"t{n}", f"sqlite:///{tmp_path / f't{n}.db'}") for n in range(3)]
    wave = Wave("all", tuple(targets))
    first, second = run_target(job, targets[0], wave), run_target(job, targets[1], wave)
    assert (first.outcome, second.outcome) == ("failed", "failed"), first.reason
    assert first.reason == second.reason and first.reason
    script.write_bytes(b"CREATE TABLE a (id INTEGER);\n")
    third = run_target(job, targets[2], wave)
    assert third.outcome == "applied", third.reason


def test_a_rerun_checks_its_tables_without_reflection(
        db_url: str, db_kind: str, tmp_path: Path) -> None:
    """A target whose tracking, lock record and audit tables exist: the second run checks
    them (PostgreSQL: one small catalog query each, not SQLAlchemy's reflection, whose
    queries call pg_table_is_visible and format_type) and applies the new migration."""
    folder = tmp_path / "migrations"
    write_migration(folder, "2024-01-01-000000_first", "CREATE TABLE a (id INTEGER);\n")
    settings = resolve_settings({"migrations_dir": str(folder)})
    target = Target("t", db_url)
    first = run_target(FleetJob("migrate", settings, str(folder), All()), target,
                       Wave("all", (target,)))
    assert first.outcome == "applied", first.reason
    write_migration(folder, "2024-01-02-000000_second", "CREATE TABLE b (id INTEGER);\n")
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        second = run_target(FleetJob("migrate", settings, str(folder), All()), target,
                            Wave("all", (target,)))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert second.outcome == "applied", second.reason
    assert second.done == ["2024-01-02-000000_second"]
    if db_kind == "postgres":
        reflected = [s for s in seen if "pg_table_is_visible" in s or "format_type" in s]
        assert not reflected, reflected
