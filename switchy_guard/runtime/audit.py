"""The audit journal: ``<table>_audit`` beside the tracking table (never a change to it).

One row per recorded operation: when, OS user, host, pid, environment, policy, command,
what it touched (target), the plan's digest, the outcome, how long it took and the error
or detail. Recovery verbs write it in the same transaction as the change they record;
``migrate`` and ``rollback`` write it when they end (applied, failed or refused).
A journal made by an older version gains the newer columns on first write.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from switchy_guard.masking import mask_text
from switchy_guard.runtime.db import connection_dialect, table_columns

_CREATE = """CREATE TABLE {t} (
    happened_at {time} NOT NULL,
    os_user VARCHAR(255) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    environment VARCHAR(64) NOT NULL,
    command VARCHAR(255) NOT NULL,
    target TEXT NULL,
    outcome VARCHAR(32) NOT NULL,
    detail TEXT NULL,
    policy VARCHAR(64) NULL,
    plan_digest VARCHAR(64) NULL,
    duration_ms INTEGER NULL
)"""
#: Columns added after the first release, with their types (added when missing).
_LATER_COLUMNS = {"policy": "VARCHAR(64) NULL", "plan_digest": "VARCHAR(64) NULL",
                  "duration_ms": "INTEGER NULL"}
_COLUMNS = ("happened_at, os_user, host, pid, environment, command, target, outcome, "
            "detail, policy, plan_digest, duration_ms")
_TIME = {"sqlite": "TEXT", "postgres": "TIMESTAMP WITH TIME ZONE", "mysql": "DATETIME(6)"}
_NOW = {
    "sqlite": "strftime('%Y-%m-%dT%H:%M:%f', 'now')",
    "postgres": "clock_timestamp()",
    "mysql": "NOW(6)",
}


@dataclass(frozen=True)
class AuditEntry:
    """One journal row."""

    happened_at: datetime | str
    os_user: str
    host: str
    pid: int
    environment: str
    command: str
    target: str | None
    outcome: str
    detail: str | None
    policy: str | None = None
    plan_digest: str | None = None
    duration_ms: int | None = None


def os_user() -> str:
    """The OS user running this process (the uid when it has no name)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no passwd entry
        return str(os.getuid())


class AuditJournal:
    """Reads and writes ``<tracking table>_audit``."""

    def __init__(self, tracking_table: str) -> None:
        self.name = f"{tracking_table}_audit"

    def _quoted(self, conn: Connection) -> str:
        return conn.dialect.identifier_preparer.quote(self.name)

    def record(
        self,
        conn: Connection,
        command: str,
        *,
        environment: str,
        target: str | None = None,
        outcome: str = "ok",
        detail: str | None = None,
        policy: str | None = None,
        plan_digest: str | None = None,
        duration: float | None = None,
    ) -> None:
        """Append an entry (creating the table, or its newer columns, when absent).

        ``command`` and ``detail`` are stored with any URL password masked.
        """
        self._ensure(conn)
        conn.execute(
            text(
                f"INSERT INTO {self._quoted(conn)} ({_COLUMNS}) VALUES "
                f"({_NOW[connection_dialect(conn)]}, :user, :host, :pid, :env, :command, "
                ":target, :outcome, :detail, :policy, :digest, :duration)"
            ),
            {
                "user": os_user(), "host": socket.gethostname(), "pid": os.getpid(),
                "env": environment[:64], "command": mask_text(command)[:255],
                "target": target, "outcome": outcome[:32],
                "detail": mask_text(detail) if detail else None,
                "policy": policy[:64] if policy else None, "digest": plan_digest,
                "duration": round(duration * 1000) if duration is not None else None,
            },
        )

    def check_writable(self, conn: Connection) -> None:
        """Raise the database's error unless an entry can be written: the table is made
        (or completed) for good, a trial entry is written and rolled back."""
        self._ensure(conn)
        conn.commit()
        try:
            self.record(conn, "switchy-guard (trial entry)", environment="-",
                        outcome="trial")
        finally:
            conn.rollback()

    def _ensure(self, conn: Connection) -> None:
        present = table_columns(conn, self.name, self._quoted(conn))
        if present is None:
            conn.exec_driver_sql(
                _CREATE.format(t=self._quoted(conn), time=_TIME[connection_dialect(conn)])
            )
            return
        for column, kind in _LATER_COLUMNS.items():
            if column not in present:
                conn.exec_driver_sql(f"ALTER TABLE {self._quoted(conn)} ADD COLUMN {column} {kind}")

    def entries(self, conn: Connection) -> list[AuditEntry]:
        """Every entry, oldest first."""
        if not inspect(conn).has_table(self.name):
            return []
        present = {c["name"] for c in inspect(conn).get_columns(self.name)}
        columns = ", ".join(
            c if c in present or c not in _LATER_COLUMNS else f"NULL AS {c}"
            for c in _COLUMNS.split(", ")
        )
        result = conn.exec_driver_sql(
            f"SELECT {columns} FROM {self._quoted(conn)} ORDER BY happened_at"
        )
        return [AuditEntry(*row) for row in result]
