"""Tracking-table records and constants, free of database imports.

Kept apart from :mod:`switchy_guard.runtime.tracking` so that ``check`` and the state model can
use them without importing SQLAlchemy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from switchy_guard.errors import ConfigError

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


def row_problem(row: TrackingRow) -> str | None:
    """What makes a tracking row unusable as read (None when nothing): a hand edit that
    the runner would otherwise misread (an unknown status skipped, a NULL id re-run)."""
    if not isinstance(row.id, str):
        return "its id is NULL" if row.id is None else f"its id is not text ({row.id!r})"
    if not row.id.strip():
        return "its id is empty"
    if row.status not in STATUSES:
        if not isinstance(row.status, str):
            found = "NULL" if row.status is None else f"not text ({row.status!r})"
        else:
            found = repr(row.status)
        hint = row.status.strip().lower() if isinstance(row.status, str) else ""
        guess = f": did you mean {hint!r}?" if hint in STATUSES else ""
        return (f"status {found} is not one of {', '.join(STATUSES)} (exactly, in lower "
                f"case, as switchy_schema writes them{guess})")
    for column in ("up_checksum", "down_checksum"):
        value = getattr(row, column)
        if not isinstance(value, str):
            return f"{column} is {'NULL' if value is None else f'not text ({value!r})'}"
    return None


def progress_problem(progress: StatementProgress) -> str | None:
    """What makes a statement-progress row unusable as read (None when nothing)."""
    for column in ("statements_applied", "statements_total"):
        value = getattr(progress, column)
        if isinstance(value, bool) or not isinstance(value, int):
            return (f"{column} is {'NULL' if value is None else repr(value)}, "
                    "not a whole number")
        if value < 0:
            return f"{column} is negative ({value})"
    if progress.statements_applied > progress.statements_total:
        return (f"statements_applied ({progress.statements_applied}) is more than "
                f"statements_total ({progress.statements_total})")
    if progress.direction not in ("up", "down"):
        return f"direction {progress.direction!r} is neither 'up' nor 'down'"
    return None
