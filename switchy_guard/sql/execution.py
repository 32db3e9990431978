"""Execution facts read from SQL text: which statements cannot run inside a transaction
block (the runner then runs their migration statement by statement, and the rules judge
what else that migration holds). No database, no SQLAlchemy."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .split import Statement

# Statements PostgreSQL or SQLite refuse inside a transaction block. Words may be
# separated by comments too (CREATE /* why */ INDEX CONCURRENTLY); the splitter has
# already taken off the comments before a statement.
_GAP = r"(?:\s|/\*.*?\*/|--[^\n]*(?:\n|$))+"
_NEEDS_AUTOCOMMIT = re.compile(
    r"""^(?:
        (?:create|drop)~(?:unique~)?index~concurrently
      | reindex\b.*\bconcurrently
      | vacuum\b
      | (?:create|drop)~database\b
      | alter~system\b
      | create~tablespace\b
      | pragma~(?:\w+\.)?journal_mode\b
    )""".replace("~", _GAP),
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)


def needs_autocommit(statements: Iterable[Statement]) -> bool:
    """Whether any statement cannot run inside a transaction."""
    return any(_NEEDS_AUTOCOMMIT.match(s.text) for s in statements)
