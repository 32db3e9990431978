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
``lock break`` (see :mod:`switchy_guard.runtime.lockstatus`).

A lock can also be lost while held: ``lock break --force`` terminates the holder's
database session, and a SQLite lock file deleted by hand lets another run lock a new one.
:meth:`HeldLock.verify` says so before each migration, and a lost lock's record (which
may be the next holder's) is left alone on release. Since the migrations run on another
connection than the lock's, a migration under way when the lock is broken would still
commit: :meth:`HeldLock.fence` checks the run's fencing token (see
:mod:`switchy_guard.runtime.lockrecord`) inside each transaction that records a migration, so
it rolls back instead, and a migration run statement by statement stops before its next
statement.
"""

from __future__ import annotations

import hashlib
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import ConfigError, LockTimeout, Refused
from switchy_guard.masking import mask_command
from switchy_guard.runtime.db import (
    connect,
    connect_for_write,
    connection_dialect,
    refuse_missing_sqlite_folder,
    sqlite_file,
)
from switchy_guard.runtime.lockrecord import LockRecord, holder_text

DEFAULT_LOCK_TIMEOUT = 60.0
_POLL_SECONDS = 0.05


class LockLost(Refused):
    """The migration lock was lost while this run held it (exit code 1)."""


class HeldLock:
    """The migration lock while it is held (see :func:`migration_lock`).

    ``record`` and ``token``: the lock record and this run's fencing token in it, which
    :meth:`fence` checks inside each transaction that records what the run did.
    """

    def __init__(self, where: str, still_held: Callable[[], bool] | None = None, *,
                 record: LockRecord | None = None, token: str | None = None) -> None:
        self.where = where
        self._still_held = still_held
        self._lost = False
        self._record = record
        self._token = token

    def held(self) -> bool:
        """Whether this process still holds the lock (always, where none is needed);
        once lost, it stays lost."""
        if not self._lost and self._still_held is not None:
            self._lost = not self._still_held()
        return not self._lost

    def verify(self, before: str = "anything was applied") -> None:
        """Raise LockLost unless the lock is still held: another run may have it now."""
        if not self.held():
            raise LockLost(
                f"the migration lock{self.where} was lost while this run held it (broken "
                f"with lock break --force, or its database session or lock file went "
                f"away): stopped before {before}, since another run may hold it now"
            )

    def fence(self, conn: Connection, consequence: str) -> None:
        """Raise LockLost unless the lock record still holds this run's token.

        Called inside the transaction that writes a tracking row (or statement progress),
        before its commit: the record's row stays locked until then, so a run whose lock
        was broken (``lock break`` deletes the record; the next run writes its own token)
        commits nothing more, and its transaction (a migration's changes with it) rolls
        back. ``consequence`` says what that means for the migration under way.
        """
        if self._record is None or self._token is None:
            return  # no lock (lock=False, an in-memory database): nothing to fence
        try:
            holds = self._record.holds(conn, self._token)
        except DBAPIError:
            # A stricter isolation level than the default read committed reports a record
            # changed under it as a serialization failure: ask again, outside.
            if self._token_held(conn.engine):
                raise
            holds = False
        if not holds:
            self._lost = True
            raise LockLost(
                f"the migration lock{self.where} was broken while this run held it"
                f"{self._broken_by(conn.engine)}: {consequence}; another run may hold the "
                "lock now"
            )

    def _token_held(self, engine: Engine) -> bool:
        assert self._record is not None and self._token is not None
        with connect(engine) as conn:
            holder = self._record.read(conn)
            conn.rollback()
        return holder is not None and holder.token == self._token

    def _broken_by(self, engine: Engine) -> str:
        """`` (by lock break of USER@HOST pid N at T)`` from the audit journal's newest
        lock break of this process's record; empty when none is found (yet)."""
        from switchy_guard.runtime.audit import AuditJournal, os_user

        assert self._record is not None
        mine = f"{os_user()}@{socket.gethostname()} pid {os.getpid()}"
        try:
            with connect(engine) as conn:
                entries = AuditJournal(self._record.tracking_table).entries(conn)
                conn.rollback()
        except Exception:  # the message must not hide the lost lock behind a second failure
            return ""
        for entry in reversed(entries):
            if "lock break" in entry.command and entry.outcome == "ok" and entry.target == mine:
                return (f" (by lock break of {entry.os_user}@{entry.host} pid {entry.pid} at "
                        f"{entry.happened_at})")
        return " (by lock break, or its lock file was deleted)"


def advisory_key(table: str, schema: str | None = None) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory lock functions.

    PostgreSQL scopes advisory locks to the database already; the key adds the schema
    the tracking table lives in, so tenants in one database (a schema each) do not wait
    on one lock. In ``public`` (or with no schema) the key is the one of earlier
    versions, so a run of an older version and one of this version still exclude each
    other there.
    """
    name = table if schema in (None, "public") else f"{schema}.{table}"
    digest = hashlib.sha256(f"switchy-guard:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def postgres_lock_key(conn: Connection, table: str) -> int:
    """The advisory-lock key of ``table``'s migration lock in the schema ``conn``'s
    tables are created in (``current_schema()``: the first of its ``search_path``)."""
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    conn.commit()
    return advisory_key(table, str(schema) if schema is not None else None)


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The lock file of a SQLite database file, or None for an in-memory database.

    With ``uri=true`` the database may be a SQLite URI filename (``file:app.db``,
    ``file:///srv/app.db?mode=ro``): its lock is the one of the file it names, so every
    spelling of one database shares one lock (and no ``file:`` folder is created).
    """
    database = sqlite_file(engine.url)
    if database is None:
        return None
    # Symlinks resolved: two paths to one file (a deploy folder's link to a shared
    # database) must share one lock.
    path = Path(database).resolve()
    return path.with_name(path.name + ".switchy-lock")


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
    ``timeout`` seconds. :func:`hold_migration_lock` is the same lock, for a block that
    checks it still holds it before each step.
    """
    with hold_migration_lock(engine, table, timeout, command):
        yield


@contextmanager
def hold_migration_lock(
    engine: Engine,
    table: str,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    command: str | None = None,
) -> Iterator[HeldLock]:
    """:func:`migration_lock`, giving the block a :class:`HeldLock` whose ``verify()``
    refuses to go on once the lock was lost."""
    if not 0 <= timeout < float("inf"):  # nan would wait forever on a server and crash filelock
        raise ConfigError(f"the lock timeout must be a number of seconds, 0 or more, "
                          f"not {timeout!r}")
    record = LockRecord(table)
    command = command or current_command()
    if engine.dialect.name == "sqlite":
        path = sqlite_lock_path(engine)
        if path is None:
            yield HeldLock("")
            return
        from filelock import FileLock
        from filelock import Timeout as FileLockTimeout

        refuse_missing_sqlite_folder(engine.url)

        lock = FileLock(str(path), timeout=timeout)
        try:
            lock.acquire()
        except FileLockTimeout:
            raise _timeout_error(engine, table, timeout, f" ({path})") from None
        except OSError as exc:  # a folder this user may not write in, a read-only disk
            raise ConfigError(
                f"cannot create the lock file {path}: {exc.strerror or exc}; a SQLite "
                "database is migrated by a user who may write in its folder") from None
        try:
            with connect_for_write(engine) as conn:
                token = record.write(conn, command, session=None)
            held = HeldLock(f" ({path})", _same_file(path), record=record, token=token)
            try:
                yield held
            finally:
                if held.held():
                    with connect_for_write(engine) as conn:
                        record.clear(conn, token)
        finally:
            lock.release()
        return
    conn = connect(engine)
    try:
        try:
            attempt, params = _server_lock_query(conn, table)
            _acquire_server_lock(conn, table, timeout, attempt, params)
        except LockTimeout:
            raise _timeout_error(engine, table, timeout, f" of {table!r}") from None
        try:
            token = record.write(conn, command, session=str(session_id(conn)))
            record.pin_schema(conn)
        except BaseException:
            # Not ours to clear (the record is not written; clearing may be refused too
            # and hide why): release the lock and report the write's own failure. A
            # failed statement leaves PostgreSQL's transaction aborted: roll it back first.
            conn.rollback()
            _release_server_lock(conn, params)
            raise
        held = HeldLock(f" of {table!r}", lambda: _session_alive(conn), record=record,
                        token=token)
        try:
            yield held
        finally:
            # A lost lock's session is gone, and the record may be the next holder's.
            if held.held():
                try:
                    record.clear(conn, token)
                finally:
                    _release_server_lock(conn, params)
    finally:
        conn.close()


def _same_file(path: Path) -> Callable[[], bool]:
    """Whether ``path`` is still the lock file locked now (deleting it frees the lock
    for the next run, which locks a new file)."""
    locked = os.stat(path).st_ino

    def check() -> bool:
        try:
            return os.stat(path).st_ino == locked
        except OSError:
            return False

    return check


def _session_alive(conn: Connection) -> bool:
    """Whether the lock's session still holds the lock: whether it is alive.

    A session-level lock (``pg_advisory_lock``, ``GET_LOCK``) is released only by its own
    session, which this run never does before the end, or when the session ends, which
    is what ``lock break`` does. So a session that answers holds the lock. It is asked
    before every migration, with the driver's ping (SQLAlchemy's ``do_ping``: one round
    trip outside any transaction): 0.07 s per 1,000 migrations on PostgreSQL here, where
    reading ``pg_locks`` in a transaction cost 0.17 s.
    """
    if conn.in_transaction():
        conn.commit()
    driver_connection = conn.connection.dbapi_connection
    if driver_connection is None:  # already invalidated
        return False
    try:
        conn.dialect.do_ping(driver_connection)
    except conn.dialect.loaded_dbapi.Error:
        conn.invalidate()  # the session was terminated: never reuse its connection
        return False
    return True


def session_id(conn: Connection) -> int:
    """The database session (backend pid / connection id) of ``conn``."""
    query = ("SELECT pg_backend_pid()" if connection_dialect(conn) == "postgres"
             else "SELECT CONNECTION_ID()")
    value = int(conn.exec_driver_sql(query).scalar_one())
    conn.commit()
    return value


def lock_name(conn: Connection, table: str) -> str:
    """The ``GET_LOCK`` name of ``table``'s migration lock (MySQL/MariaDB)."""
    database, folding = conn.exec_driver_sql(
        "SELECT DATABASE(), @@lower_case_table_names").one()
    name = f"switchy_guard.{database or ''}.{table}"
    if folding in (1, 2, "1", "2"):
        # The server compares table (and database) names ignoring case: so does the lock,
        # or __SWITCHY_MIGRATIONS and __switchy_migrations, one table, had two locks
        # (GET_LOCK ignores case itself, but the hash of a long name did not).
        name = name.lower()
    # GET_LOCK names are limited to 64 characters.
    return (
        name
        if len(name) <= 64
        else "switchy_guard." + hashlib.sha256(name.encode()).hexdigest()[:48]
    )


def _server_lock_query(conn: Connection, table: str) -> tuple[TextClause, dict[str, object]]:
    """The lock attempt and its parameters, fixed for the whole hold: the MySQL name
    costs a query, so it is not recomputed at every poll."""
    if connection_dialect(conn) == "postgres":
        return text("SELECT pg_try_advisory_lock(:key)"), {"key": postgres_lock_key(conn, table)}
    return text("SELECT GET_LOCK(:name, 0)"), {"name": lock_name(conn, table)}


def _acquire_server_lock(conn: Connection, table: str, timeout: float, attempt: TextClause,
                         params: dict[str, object]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        got = conn.execute(attempt, params).scalar()
        conn.commit()
        if got:
            return
        if time.monotonic() >= deadline:
            raise LockTimeout(f"the migration lock of {table!r} is held")
        time.sleep(_POLL_SECONDS)


def _release_server_lock(conn: Connection, params: dict[str, object]) -> None:
    if connection_dialect(conn) == "postgres":
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), params)
    else:
        conn.execute(text("SELECT RELEASE_LOCK(:name)"), params)
    conn.commit()
