"""The migration lock: one runner at a time per database and tracking table.

- PostgreSQL: a session advisory lock keyed by the tracking table's name.
- MySQL/MariaDB: ``GET_LOCK`` named after the database and the tracking table.
- SQLite: a file lock beside the database file (works across processes); an in-memory
  database needs none.

The lock is held on a connection of its own, so the migrations' transactions never
release it by accident.

While it holds the lock, a run keeps a record of itself in ``<table>_lock`` beside the
tracking table (OS user, host, pid, command, since, database session), so ``status``,
``lock status`` and a run that times out waiting can name the holder. The database lock
itself dies with its session (or, for SQLite, with the holding process): a record left
behind by a killed run is *stale* and is replaced by the next run or cleared by
``lock break`` (see :mod:`switchy_guard.lockstatus`).
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from .db import connect, connect_for_write, connection_dialect, mask_command
from .errors import LockTimeout
from .lockrecord import LockRecord, holder_text

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


def current_command() -> str:
    """This process's command line, as recorded (passwords masked, 255 characters)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return mask_command([name, *sys.argv[1:]])[:255]


def _timeout_error(engine: Engine, table: str, timeout: float, where: str) -> LockTimeout:
    record = LockRecord(table)
    try:
        with connect(engine) as conn:
            holder = record.read(conn)
            conn.rollback()
    except Exception:  # the message must not hide the timeout behind a second failure
        holder = None
    who = f"held by {holder_text(holder)}" if holder else "holder unknown (no lock record)"
    return LockTimeout(
        f"the migration lock{where} is {who}; gave up after {timeout:g} s "
        "(see: switchy-guard lock status)"
    )


@contextmanager
def migration_lock(
    engine: Engine,
    table: str,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    command: str | None = None,
) -> Iterator[None]:
    """Hold the migration lock for the duration of the block, with a holder record.

    Raises LockTimeout (exit code 3), naming the holder, when it is not acquired within
    ``timeout`` seconds.
    """
    record = LockRecord(table)
    command = command or current_command()
    if engine.dialect.name == "sqlite":
        path = sqlite_lock_path(engine)
        if path is None:
            yield
            return
        from filelock import FileLock
        from filelock import Timeout as FileLockTimeout

        lock = FileLock(str(path), timeout=timeout)
        try:
            lock.acquire()
        except FileLockTimeout:
            raise _timeout_error(engine, table, timeout, f" ({path})") from None
        try:
            with connect_for_write(engine) as conn:
                record.write(conn, command, session=None)
            try:
                yield
            finally:
                with connect_for_write(engine) as conn:
                    record.clear(conn)
        finally:
            lock.release()
        return
    conn = connect(engine)
    try:
        try:
            _acquire_server_lock(conn, table, timeout)
        except LockTimeout:
            raise _timeout_error(engine, table, timeout, f" of {table!r}") from None
        try:
            record.write(conn, command, session=str(session_id(conn)))
            yield
        finally:
            try:
                record.clear(conn)
            finally:
                _release_server_lock(conn, table)
    finally:
        conn.close()


def session_id(conn: Connection) -> int:
    """The database session (backend pid / connection id) of ``conn``."""
    query = ("SELECT pg_backend_pid()" if connection_dialect(conn) == "postgres"
             else "SELECT CONNECTION_ID()")
    value = int(conn.exec_driver_sql(query).scalar_one())
    conn.commit()
    return value


def lock_name(conn: Connection, table: str) -> str:
    """The ``GET_LOCK`` name of ``table``'s migration lock (MySQL/MariaDB)."""
    database = conn.exec_driver_sql("SELECT DATABASE()").scalar() or ""
    name = f"switchy_guard.{database}.{table}"
    # GET_LOCK names are limited to 64 characters.
    return (
        name
        if len(name) <= 64
        else "switchy_guard." + hashlib.sha256(name.encode()).hexdigest()[:48]
    )


def _acquire_server_lock(conn: Connection, table: str, timeout: float) -> None:
    # The statement and its key are fixed for the whole wait: the MySQL name costs a
    # query, so it is not recomputed at every poll.
    if connection_dialect(conn) == "postgres":
        attempt = text("SELECT pg_try_advisory_lock(:key)")
        params: dict[str, object] = {"key": advisory_key(table)}
    else:
        attempt = text("SELECT GET_LOCK(:name, 0)")
        params = {"name": lock_name(conn, table)}
    deadline = time.monotonic() + timeout
    while True:
        got = conn.execute(attempt, params).scalar()
        conn.commit()
        if got:
            return
        if time.monotonic() >= deadline:
            raise LockTimeout(f"the migration lock of {table!r} is held")
        time.sleep(_POLL_SECONDS)


def _release_server_lock(conn: Connection, table: str) -> None:
    if connection_dialect(conn) == "postgres":
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": advisory_key(table)})
    else:
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": lock_name(conn, table)})
    conn.commit()
