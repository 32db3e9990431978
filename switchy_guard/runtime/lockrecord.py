"""The lock record: who holds the migration lock, in ``<table>_lock`` beside the tracking
table (the tracking table itself is never changed).

One row while a run holds the lock: OS user, host, pid, command (password masked), since
(UTC, ISO-8601), the database session holding the lock (PostgreSQL backend pid,
MySQL/MariaDB connection id; none for SQLite, whose lock is a file lock) and the run's
fencing token.

The token fences a run's writes: each run that takes the lock writes a fresh random one,
and the runner checks, in the same transaction as each tracking-row write, that the row
still holds its token (:meth:`LockRecord.holds`, which also locks the row until that
transaction ends). ``lock break`` deletes the row (only the row holding the token it
saw), and the next run replaces it with its own token, so a run whose lock was broken
can no longer commit anything it records: two runs never both hold a valid token.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import ConfigError
from switchy_guard.runtime.audit import os_user
from switchy_guard.runtime.db import access_refused, table_columns
from switchy_guard.runtime.reasons import database_reason

_CREATE = """CREATE TABLE IF NOT EXISTS {t} (
    os_user VARCHAR(255) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    command VARCHAR(255) NOT NULL,
    since VARCHAR(40) NOT NULL,
    session VARCHAR(64) NULL,
    token VARCHAR(64) NULL
)"""
_COLUMNS = "os_user, host, pid, command, since, session"
#: The columns of a record table this release wrote (made, or brought up to date) itself.
_CURRENT = frozenset(("os_user", "host", "pid", "command", "since", "session", "token"))


@dataclass(frozen=True)
class LockHolder:
    """A lock record's content."""

    os_user: str
    host: str
    pid: int
    command: str
    since: str
    session: str | None
    token: str | None = None  # None: a record written by an older release (or absent)

    @property
    def on_this_host(self) -> bool:
        """Whether the holder ran on this machine (so its pid can be checked)."""
        return self.host == socket.gethostname()

    def process_alive(self) -> bool | None:
        """Whether the holder's pid still runs here (None: another host, cannot tell)."""
        if not self.on_this_host:
            return None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # it exists, as another user
            return True
        return True


def holder_text(holder: LockHolder) -> str:
    """``user@host pid N since T (command)``, for messages."""
    return (f"{holder.os_user}@{holder.host} pid {holder.pid} since {holder.since} "
            f"({holder.command})")


class LockRecord:
    """Reads and writes ``<tracking table>_lock``."""

    def __init__(self, tracking_table: str) -> None:
        self.tracking_table = tracking_table
        self.name = f"{tracking_table}_lock"
        # PostgreSQL: the schema the record was written in, so the runner's checks find it
        # whatever search_path a migration left (see pin_schema).
        self.schema: str | None = None
        # The columns once write() made sure of them: the run's release (clear) then
        # needs no second look at the catalog (reflection was about a quarter of the
        # fleet process's CPU time per PostgreSQL target).
        self._written: frozenset[str] | None = None

    def _quoted(self, conn: Connection) -> str:
        preparer = conn.dialect.identifier_preparer
        quoted = preparer.quote(self.name)
        return quoted if self.schema is None else f"{preparer.quote_schema(self.schema)}.{quoted}"

    def _columns(self, conn: Connection) -> set[str] | None:
        """The table's column names (lower case), None when it does not exist."""
        return table_columns(conn, self.name, self._quoted(conn))

    def write(self, conn: Connection, command: str, *, session: str | None) -> str:
        """Replace any record (a stale one included) by this process's, with a fresh
        fencing token, and commit; returns the token.

        It is a writing run's first write: a database that refuses it (a user without
        the privilege to create or write tables there, a read-only database) is a
        ConfigError (exit 2) saying so, not an unexplained database error.
        """
        token = secrets.token_hex(16)
        try:
            # Not CREATE TABLE IF NOT EXISTS alone: PostgreSQL refuses that to a user
            # without CREATE on the schema even when the table exists (made by an admin).
            columns = self._columns(conn)
            if columns is None:
                conn.exec_driver_sql(_CREATE.format(t=self._quoted(conn)))
            elif "token" not in columns and "os_user" in columns:  # an older release's
                conn.exec_driver_sql(f"ALTER TABLE {self._quoted(conn)} "
                                     "ADD COLUMN token VARCHAR(64) NULL")
            conn.exec_driver_sql(f"DELETE FROM {self._quoted(conn)}")
            conn.execute(
                text(f"INSERT INTO {self._quoted(conn)} ({_COLUMNS}, token) VALUES "
                     "(:user, :host, :pid, :command, :since, :session, :token)"),
                {"user": os_user(), "host": socket.gethostname(), "pid": os.getpid(),
                 "command": command[:255],
                 "since": datetime.now(UTC).isoformat(timespec="seconds"),
                 "session": session, "token": token},
            )
            conn.commit()
            self._written = _CURRENT if columns is None or "os_user" in columns else None
        except DBAPIError as exc:
            if not access_refused(exc):
                raise
            conn.rollback()
            raise ConfigError(
                f"the database refused switchy-guard's first write (its lock record "
                f"{self.name}): {database_reason(exc)}; the user must be able to create and "
                "write tables beside the tracking table, in a database that is not read-only"
            ) from None
        return token

    def pin_schema(self, conn: Connection) -> None:
        """PostgreSQL: name the table by the schema it is in now (found by this session's
        search_path), for the checks made on the run's other connection."""
        if conn.dialect.name != "postgresql":
            return
        self.schema = conn.execute(
            text("SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                 "ON n.oid = c.relnamespace WHERE c.oid = to_regclass(:t)"),
            {"t": self._quoted(conn)},
        ).scalar()
        conn.commit()

    def read(self, conn: Connection) -> LockHolder | None:
        """The current record, or None."""
        columns = self._columns(conn)
        if columns is None:
            return None
        token = "token" if "token" in columns else "NULL"
        row = conn.exec_driver_sql(
            f"SELECT {_COLUMNS}, {token} FROM {self._quoted(conn)}"
        ).first()
        return LockHolder(*row) if row else None

    def holds(self, conn: Connection, token: str) -> bool:
        """Whether the record still holds ``token``, asked inside ``conn``'s transaction.

        The row is locked until that transaction ends (``FOR UPDATE`` on the servers, a
        write on SQLite, whose one writer at a time does the same), so a ``lock break`` or
        the next run's record write waits for the transaction instead of slipping in
        between this check and its commit.
        """
        table = self._quoted(conn)
        if conn.dialect.name == "sqlite":
            return conn.execute(text(f"UPDATE {table} SET token = :token WHERE token = :token"),
                                {"token": token}).rowcount == 1
        return conn.execute(text(f"SELECT 1 FROM {table} WHERE token = :token FOR UPDATE"),
                            {"token": token}).first() is not None

    def clear(self, conn: Connection, token: str | None) -> bool:
        """Delete the record holding ``token`` (None: one an older release wrote, with
        no token), and commit; whether there was one. A record another run wrote since
        (with its own token) is left alone. After :meth:`write` (this run's own token),
        the columns it made sure of are not looked up again."""
        if token is not None and self._written is not None:
            try:
                return self._delete(conn, self._written, token)
            except DBAPIError:  # the table went away under the run: look, as below
                conn.rollback()
                self._written = None
        columns = self._columns(conn)
        if columns is None:
            conn.rollback()
            return False
        return self._delete(conn, columns, token)

    def _delete(self, conn: Connection, columns: set[str] | frozenset[str],
                token: str | None) -> bool:
        table = self._quoted(conn)
        if "token" not in columns:
            deleted = conn.exec_driver_sql(f"DELETE FROM {table}").rowcount
        elif token is None:
            deleted = conn.exec_driver_sql(f"DELETE FROM {table} WHERE token IS NULL").rowcount
        else:
            deleted = conn.execute(text(f"DELETE FROM {table} WHERE token = :token"),
                                   {"token": token}).rowcount
        conn.commit()
        return bool(deleted)
