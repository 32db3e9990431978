"""The migration lock: one runner at a time per database and tracking table.

- PostgreSQL: a session advisory lock keyed by the tracking table's name.
- MySQL/MariaDB: ``GET_LOCK`` named after the database and the tracking table.
- SQLite: a file lock beside the database file (works across processes); an in-memory
  database needs none.

The lock is held on a connection of its own, so the migrations' transactions never
release it by accident.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from filelock import Timeout as FileLockTimeout
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .db import connect, connection_dialect
from .errors import LockTimeout

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL_SECONDS = 0.05


def advisory_key(table: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory lock functions."""
    digest = hashlib.sha256(f"switchy-guard:{table}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The lock file of a SQLite database file, or None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database).with_name(Path(database).name + ".switchy-lock")


@contextmanager
def migration_lock(
    engine: Engine, table: str, timeout: float = DEFAULT_LOCK_TIMEOUT
) -> Iterator[None]:
    """Hold the migration lock for the duration of the block.

    Raises LockTimeout (exit code 3) when it is not acquired within ``timeout`` seconds.
    """
    if engine.dialect.name == "sqlite":
        path = sqlite_lock_path(engine)
        if path is None:
            yield
            return
        lock = FileLock(str(path), timeout=timeout)
        try:
            lock.acquire()
        except FileLockTimeout:
            raise LockTimeout(
                f"another switchy-guard run holds the migration lock ({path}); "
                f"gave up after {timeout:g} s"
            ) from None
        try:
            yield
        finally:
            lock.release()
        return
    conn = connect(engine)
    try:
        _acquire_server_lock(conn, table, timeout)
        try:
            yield
        finally:
            _release_server_lock(conn, table)
    finally:
        conn.close()


def _lock_name(conn: Connection, table: str) -> str:
    database = conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""
    name = f"switchy_guard.{database}.{table}"
    # GET_LOCK names are limited to 64 characters.
    return (
        name
        if len(name) <= 64
        else "switchy_guard." + hashlib.sha256(name.encode()).hexdigest()[:48]
    )


def _acquire_server_lock(conn: Connection, table: str, timeout: float) -> None:
    dialect = connection_dialect(conn)
    deadline = time.monotonic() + timeout
    while True:
        if dialect == "postgres":
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": advisory_key(table)}
            ).scalar()
        else:
            got = conn.execute(
                text("SELECT GET_LOCK(:name, 0)"), {"name": _lock_name(conn, table)}
            ).scalar()
        conn.commit()
        if got:
            return
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"another switchy-guard run holds the migration lock of {table!r}; "
                f"gave up after {timeout:g} s"
            )
        time.sleep(_POLL_SECONDS)


def _release_server_lock(conn: Connection, table: str) -> None:
    if connection_dialect(conn) == "postgres":
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(table)})
    else:
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _lock_name(conn, table)})
    conn.commit()
