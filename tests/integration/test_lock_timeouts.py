"""Lock and statement timeouts with retries, against real servers (issue 19 §1 and §5).

Another session holds a conflicting lock in an open transaction; ``migrate`` under a 1 s
statement lock timeout and 2 retries gives up cleanly after 3 attempts, naming that
session, with nothing half-applied and every attempt in the journal, and while it waits a
third session's SELECT on the table is not held up for long. Released during a retry, the
migration then succeeds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.retry import Timeouts
from switchy_guard.runtime.runner import Hooks, Migrator
from tests.cli_helpers import Result, run_cli, write_migration
from tests.db_helpers import journal_entries

CREATE = "CREATE TABLE items (id INTEGER PRIMARY KEY, v INTEGER);\n" \
         "INSERT INTO items (id, v) VALUES (1, 1), (2, 2);\n"
ALTER = "ALTER TABLE items ADD COLUMN note VARCHAR(20);\n"


def _setup(tmp_path: Path, url: str) -> Path:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_items", CREATE)
    assert run_cli("-d", url, "-m", root, "migrate").code == 0
    write_migration(root, "2024-01-02-000000_note", ALTER)
    return root


@contextmanager
def _holder(url: str, db_kind: str) -> Iterator[tuple[Connection, int]]:
    """A session with an open transaction that read ``items`` (and, on MySQL, locked a
    row): it holds a lock an ALTER of the table must wait for."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            pid_sql = "SELECT pg_backend_pid()" if db_kind == "postgres" \
                else "SELECT CONNECTION_ID()"
            pid = int(conn.execute(text(pid_sql)).scalar_one())
            conn.commit()
            conn.execute(text("SELECT count(*) FROM items")).scalar()
            if db_kind == "mysql":
                conn.execute(text("UPDATE items SET v = v WHERE id = 1"))
            yield conn, pid
            if conn.in_transaction():
                conn.rollback()
    finally:
        engine.dispose()


def _columns(url: str) -> set[str]:
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("items")}
    finally:
        engine.dispose()


class _Run(threading.Thread):
    def __init__(self, *args: str | Path) -> None:
        super().__init__(daemon=True)
        self.args = args
        self.result: Result | None = None
        self.ended = 0.0

    def run(self) -> None:
        self.result = run_cli(*self.args)
        self.ended = time.monotonic()


def _select_meanwhile(url: str, after: float) -> dict[str, float]:
    """A third session's SELECT on the table, started ``after`` seconds from now; the
    dict gets when it ended."""
    done: dict[str, float] = {}

    def select() -> None:
        time.sleep(after)
        engine = create_database_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM items")).scalar()
                done["ended"] = time.monotonic()
        finally:
            engine.dispose()

    threading.Thread(target=select, daemon=True).start()
    return done


@pytest.mark.only_on("postgres", "mysql")
def test_gives_up_after_the_retries_naming_the_holder(tmp_path: Path, db_url: str,
                                                      db_kind: str) -> None:
    root = _setup(tmp_path, db_url)
    with _holder(db_url, db_kind) as (_conn, pid):
        started = time.monotonic()
        run = _Run("-d", db_url, "-m", root, "migrate", "--statement-lock-timeout", "1",
                   "--lock-retries", "2")
        run.start()
        select = _select_meanwhile(db_url, 0.3)
        run.join(20)
        assert run.result is not None, "migrate did not end"
    result = run.result
    assert result.code == 1, result.err
    error = result.error_lines[-1]
    assert "attempt 3 of 3" in error and f"pid {pid} " in error, error
    # 3 attempts of 1 s each, and two pauses: bounded, not the server's default wait.
    assert 3 <= run.ended - started < 12
    # The queue behind the waiting ALTER was released: the SELECT did not wait for the end.
    assert "ended" in select and select["ended"] < run.ended - 1
    assert "note" not in _columns(db_url)  # nothing half-applied
    entries = [e for e in journal_entries(db_url) if e.outcome in ("retrying", "failed")]
    assert [e.outcome for e in entries] == ["retrying", "retrying", "failed"]
    assert "attempt 1 of 3" in (entries[0].detail or "")
    assert "attempt 2 of 3" in (entries[1].detail or "")
    assert f"pid {pid} " in (entries[2].detail or "")


@pytest.mark.only_on("postgres", "mysql")
def test_succeeds_when_the_holder_commits_during_a_retry(tmp_path: Path, db_url: str,
                                                         db_kind: str) -> None:
    root = _setup(tmp_path, db_url)
    with _holder(db_url, db_kind) as (conn, _pid):
        run = _Run("-d", db_url, "-m", root, "migrate", "--statement-lock-timeout", "1",
                   "--lock-retries", "4")
        run.start()
        time.sleep(1.6)  # the first attempt has given up
        conn.commit()
        run.join(20)
    assert run.result is not None and run.result.code == 0, run.result
    assert "note" in _columns(db_url)
    outcomes = [e.outcome for e in journal_entries(db_url)]
    assert "retrying" in outcomes and outcomes[-1] == "ok"


@pytest.mark.only_on("postgres", "mysql")
def test_statement_timeout_stops_a_long_statement(tmp_path: Path, db_url: str,
                                                  db_kind: str) -> None:
    root = tmp_path / "migrations"
    sleep = "SELECT pg_sleep(10);\n" if db_kind == "postgres" else "SELECT SLEEP(10);\n"
    write_migration(root, "2024-01-01-000000_slow", sleep)
    started = time.monotonic()
    result = run_cli("-d", db_url, "-m", root, "migrate", "--statement-timeout", "1",
                     "--lock-retries", "2")
    took = time.monotonic() - started
    engine = create_database_engine(db_url)
    with engine.connect():  # the dialect knows MariaDB once connected
        mariadb = getattr(engine.dialect, "is_mariadb", False)
    engine.dispose()
    if db_kind == "mysql" and not mariadb:
        pytest.skip("MySQL cannot bound a statement's time (documented)")
    assert result.code == 1, result.err
    assert took < 6  # not retried: a statement timeout is no lock failure
    assert "attempt" not in result.error_lines[-1]


@pytest.mark.only_on("sqlite")
def test_sqlite_busy_timeout_and_retries(tmp_path: Path, db_url: str) -> None:
    """Another connection takes the write lock as the migration starts (SQLite's lock
    covers the whole database, tracking included) and lets it go after two attempts."""
    root = _setup(tmp_path, db_url)
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    retried: list[tuple[int, str]] = []

    def on_retry(_planned: object, attempt: int, reason: str, _pause: float) -> None:
        retried.append((attempt, reason))
        if attempt == 2:
            holder.execute("ROLLBACK")

    migrator = Migrator(root, db_url, timeouts=Timeouts(0.5, None, 2),
                        hooks=Hooks(before_each=lambda _p: holder.execute("BEGIN IMMEDIATE"),
                                    on_retry=on_retry))
    started = time.monotonic()
    try:
        migrator.migrate()
    finally:
        holder.close()
        migrator.engine.dispose()
    assert [n for n, _ in retried] == [1, 2]
    assert all(reason.startswith("database busy") for _, reason in retried)
    assert time.monotonic() - started < 8  # 0.5 s waits, not the 30 s default
    assert "note" in _columns(db_url)


@pytest.mark.only_on("postgres")
def test_a_failed_concurrent_index_is_dropped_before_the_retry(tmp_path: Path,
                                                               db_url: str) -> None:
    root = tmp_path / "migrations"
    write_migration(root, "2024-01-01-000000_items",
                    CREATE + "INSERT INTO items (id, v) VALUES (3, 1);\n")
    write_migration(root, "2024-01-02-000000_index",
                    "CREATE UNIQUE INDEX CONCURRENTLY items_v ON items (v);\n")
    first = run_cli("-d", db_url, "-m", root, "migrate")
    assert first.code == 1 and "items_v" in first.err, first.err
    engine = create_database_engine(db_url)
    invalid = ("SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
               "WHERE c.relname = 'items_v' AND NOT i.indisvalid")
    try:
        with engine.connect() as conn:
            assert conn.execute(text(invalid)).scalar() == 1  # what PostgreSQL leaves
            conn.execute(text("DELETE FROM items WHERE id = 3"))
            conn.commit()
        status = run_cli("-d", db_url, "-m", root, "status")
        assert "items_v" in status.out + status.err and "INVALID" in status.out + status.err
        second = run_cli("-d", db_url, "-m", root, "migrate", "--retry-failed")
        assert second.code == 0, second.err
        with engine.connect() as conn:
            assert conn.execute(text(invalid)).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM pg_indexes WHERE indexname = "
                                     "'items_v'")).scalar() == 1
    finally:
        engine.dispose()
