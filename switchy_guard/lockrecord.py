"""The lock record: who holds the migration lock, in ``<table>_lock`` beside the tracking
table (the tracking table itself is never changed).

One row while a run holds the lock: OS user, host, pid, command (password masked), since
(UTC, ISO-8601) and the database session holding the lock (PostgreSQL backend pid,
MySQL/MariaDB connection id; none for SQLite, whose lock is a file lock).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .audit import os_user
from .db import access_refused, database_reason
from .errors import ConfigError

_CREATE = """CREATE TABLE IF NOT EXISTS {t} (
    os_user VARCHAR(255) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    command VARCHAR(255) NOT NULL,
    since VARCHAR(40) NOT NULL,
    session VARCHAR(64) NULL
)"""


@dataclass(frozen=True)
class LockHolder:
    """A lock record's content."""

    os_user: str
    host: str
    pid: int
    command: str
    since: str
    session: str | None

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
        self.name = f"{tracking_table}_lock"

    def _quoted(self, conn: Connection) -> str:
        return conn.dialect.identifier_preparer.quote(self.name)

    def write(self, conn: Connection, command: str, *, session: str | None) -> None:
        """Replace any record (a stale one included) by this process's, and commit.

        It is a writing run's first write: a database that refuses it (a user without
        the privilege to create or write tables there, a read-only database) is a
        ConfigError (exit 2) saying so, not an unexplained database error.
        """
        try:
            # Not CREATE TABLE IF NOT EXISTS alone: PostgreSQL refuses that to a user
            # without CREATE on the schema even when the table exists (made by an admin).
            if not inspect(conn).has_table(self.name):
                conn.exec_driver_sql(_CREATE.format(t=self._quoted(conn)))
            conn.exec_driver_sql(f"DELETE FROM {self._quoted(conn)}")
            conn.execute(
                text(f"INSERT INTO {self._quoted(conn)} (os_user, host, pid, command, since, "
                     "session) VALUES (:user, :host, :pid, :command, :since, :session)"),
                {"user": os_user(), "host": socket.gethostname(), "pid": os.getpid(),
                 "command": command[:255],
                 "since": datetime.now(UTC).isoformat(timespec="seconds"),
                 "session": session},
            )
            conn.commit()
        except DBAPIError as exc:
            if not access_refused(exc):
                raise
            conn.rollback()
            raise ConfigError(
                f"the database refused switchy-guard's first write (its lock record "
                f"{self.name}): {database_reason(exc)}; the user must be able to create and "
                "write tables beside the tracking table, in a database that is not read-only"
            ) from None

    def read(self, conn: Connection) -> LockHolder | None:
        """The current record, or None."""
        if not inspect(conn).has_table(self.name):
            return None
        row = conn.exec_driver_sql(
            f"SELECT os_user, host, pid, command, since, session FROM {self._quoted(conn)}"
        ).first()
        return LockHolder(*row) if row else None

    def clear(self, conn: Connection) -> bool:
        """Delete the record (if any), and commit; whether there was one."""
        if not inspect(conn).has_table(self.name):
            conn.rollback()
            return False
        deleted = conn.exec_driver_sql(f"DELETE FROM {self._quoted(conn)}").rowcount
        conn.commit()
        return bool(deleted)
