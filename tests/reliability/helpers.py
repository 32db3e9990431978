"""Shared helpers of the reliability tests: reading a real database from outside the runner."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from switchy_guard.runtime.db import parse_url

TABLE = "__switchy_migrations"
PROGRESS_TABLE = f"{TABLE}_statements"
REPO = Path(__file__).resolve().parents[2]


def engine_for(url: str) -> Engine:
    """A plain SQLAlchemy engine on ``url`` (no pooling, so nothing lingers)."""
    return create_engine(parse_url(url), poolclass=NullPool)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: this interpreter's, the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO), env.get("PYTHONPATH", "")) if part
    )
    env.update(extra)
    return env


def cli(*args: str | Path) -> list[str]:
    """The command line of ``python -m switchy_guard ARGS``."""
    return [sys.executable, "-m", "switchy_guard", *(str(a) for a in args)]


@dataclass(frozen=True)
class Row:
    """One tracking-table row, as stored."""

    id: str
    status: str


def tracking_rows(conn: Connection) -> list[Row]:
    """Every row of the tracking table (duplicates included), ordered by id."""
    if not inspect(conn).has_table(TABLE):
        return []
    result = conn.exec_driver_sql(f"SELECT id, status FROM {TABLE} ORDER BY id")
    return [Row(str(r[0]), str(r[1])) for r in result]


def progress_rows(conn: Connection) -> dict[str, tuple[int, int]]:
    """``migration_id -> (statements_applied, statements_total)`` of the progress table."""
    if not inspect(conn).has_table(PROGRESS_TABLE):
        return {}
    result = conn.exec_driver_sql(
        f"SELECT migration_id, statements_applied, statements_total FROM {PROGRESS_TABLE}"
    )
    return {str(r[0]): (int(r[1]), int(r[2])) for r in result}


def table_names(conn: Connection) -> set[str]:
    """The tables that exist now (lower case)."""
    return {name.lower() for name in inspect(conn).get_table_names()}


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` every 20 ms until it holds; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def other_sessions(conn: Connection, kind: str) -> list[int]:
    """Server sessions on this connection's database other than this one."""
    if kind == "postgres":
        result = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    elif kind == "mysql":
        result = conn.exec_driver_sql(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() "
            "AND ID <> CONNECTION_ID()"
        )
    else:
        return []
    return [int(r[0]) for r in result]


def end_orphan_sessions(url: str, kind: str) -> None:
    """End the server sessions a killed client left behind, and wait until they are gone.

    A server only notices a dead client when it next talks to it: a statement that was
    running (a sleep) runs on, its transaction still open, until it finishes. This does
    what the server would do then — the session ends and its transaction rolls back,
    since the client that could have committed it is dead — without waiting.
    """
    if kind == "sqlite":
        return
    engine = engine_for(url)
    try:
        with engine.connect() as conn:
            conn.commit()
            for pid in other_sessions(conn, kind):
                if kind == "postgres":
                    conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
                else:
                    with contextlib.suppress(DBAPIError):  # it may have ended in between
                        conn.exec_driver_sql(f"KILL {pid}")
                conn.commit()

            def gone() -> bool:
                conn.commit()
                return not other_sessions(conn, kind)

            wait_until(gone, 20, "the killed client's sessions to end")
    finally:
        engine.dispose()
