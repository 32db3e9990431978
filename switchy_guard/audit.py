"""The audit journal: ``<table>_audit`` beside the tracking table (never a change to it).

One row per recorded operation: when, OS user, host, pid, environment, command, what it
touched, and the outcome. Written in the same transaction as the change it records.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from .db import connection_dialect, mask_text

_CREATE = """CREATE TABLE {t} (
    happened_at {time} NOT NULL,
    os_user VARCHAR(255) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INTEGER NOT NULL,
    environment VARCHAR(64) NOT NULL,
    command VARCHAR(255) NOT NULL,
    target TEXT NULL,
    outcome VARCHAR(32) NOT NULL,
    detail TEXT NULL
)"""
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


def _os_user() -> str:
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
    ) -> None:
        """Append an entry (creating the table when absent)."""
        dialect = connection_dialect(conn)
        if not inspect(conn).has_table(self.name):
            conn.exec_driver_sql(_CREATE.format(t=self._quoted(conn), time=_TIME[dialect]))
        conn.execute(
            text(
                f"INSERT INTO {self._quoted(conn)} (happened_at, os_user, host, pid, "
                "environment, command, target, outcome, detail) VALUES "
                f"({_NOW[dialect]}, :user, :host, :pid, :env, :command, :target, :outcome, "
                ":detail)"
            ),
            {
                "user": _os_user(), "host": socket.gethostname(), "pid": os.getpid(),
                "env": environment, "command": mask_text(command)[:255], "target": target,
                "outcome": outcome, "detail": mask_text(detail) if detail else None,
            },
        )

    def entries(self, conn: Connection) -> list[AuditEntry]:
        """Every entry, oldest first."""
        if not inspect(conn).has_table(self.name):
            return []
        result = conn.exec_driver_sql(
            "SELECT happened_at, os_user, host, pid, environment, command, target, outcome, "
            f"detail FROM {self._quoted(conn)} ORDER BY happened_at"
        )
        return [AuditEntry(*row) for row in result]
