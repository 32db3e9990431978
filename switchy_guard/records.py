"""Tracking-table records and constants, free of database imports.

Kept apart from :mod:`switchy_guard.tracking` so that ``check`` and the state model can
use them without importing SQLAlchemy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from .errors import ConfigError

DEFAULT_TABLE = "__switchy_migrations"

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
STATUSES = (IN_PROGRESS, COMPLETED, FAILED)

# Leaves room for the suffix of the tables kept beside it within PostgreSQL's 63 bytes.
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,47}")


def validate_table_name(name: str) -> str:
    """Return ``name`` if it is a plain identifier, else raise ConfigError.

    The name is never interpolated into SQL unless it passed this check.
    """
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise ConfigError(
            f"invalid migration table name {name!r}: use letters, digits and underscores, "
            "not starting with a digit, at most 48 characters"
        )
    return name


@dataclass(frozen=True)
class TrackingRow:
    """One row of the tracking table."""

    id: str
    run_on: datetime | str | None
    finished_on: datetime | str | None
    up_checksum: str
    down_checksum: str
    status: str
    failure_reason: str | None


@dataclass(frozen=True)
class StatementProgress:
    """How far a migration that runs outside a transaction got; ``direction`` says which
    script ran: ``up``, or ``down`` for a rollback."""

    migration_id: str
    statements_applied: int
    statements_total: int
    direction: str = "up"


def format_time(value: datetime | str | None) -> str | None:
    """A tracking-table time as ISO-8601 text (SQLite keeps it as text already)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
