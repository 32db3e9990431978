"""Execution facts: how a statement must be run, read from its text.

The one place that says which statements cannot run inside a transaction block (they
need autocommit), which ones end or nest the transaction the runner wraps a migration in,
and which ones may change a session setting the runner puts back. The runner asks these
questions before it runs anything; the rules read the same answers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from switchy_guard.sql.split import Statement

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


def needs_autocommit(statements: tuple[Statement, ...]) -> bool:
    """Whether any statement cannot run inside a transaction."""
    return any(_NEEDS_AUTOCOMMIT.match(s.text) for s in statements)


# BEGIN, COMMIT and the like end or nest the transaction the runner wraps a migration in
# (savepoints do not, so ROLLBACK TO stays allowed).
_CONTROLS_TRANSACTION = re.compile(
    r"""^\s*(?:begin|start\s+transaction|commit|end|abort
              |rollback(?!\s+(?:work\s+|transaction\s+)?to\b))\b""",
    re.IGNORECASE | re.VERBOSE,
)


def controls_transaction(text: str) -> bool:
    """Whether the statement ends or nests the transaction it runs in."""
    return _CONTROLS_TRANSACTION.match(text) is not None


# SQLite ignores this one inside a transaction ("a no-op"), without an error.
_SETS_FOREIGN_KEYS = re.compile(r"^\s*pragma\s+(?:\w+\.)?foreign_keys\s*[=(]", re.IGNORECASE)
# PostgreSQL: a SET or RESET statement, set_config() anywhere (pg_dump empties the
# search_path), or a DO block mentioning SET or RESET. UPDATE ... SET and ALTER ... SET
# do not count: matching them cost a RESET ALL (and psycopg's DEALLOCATE ALL) for every
# migration with an UPDATE, 250 round trips in the 1,000-migration bench corpus.
_MAY_SET_SESSION = re.compile(r"^\s*(?:set|reset)\b|set_config|^\s*do\b.*\b(?:set|reset)\b",
                              re.IGNORECASE | re.DOTALL)


def sets_foreign_keys(text: str) -> bool:
    """SQLite: whether the statement is a ``PRAGMA foreign_keys = ...``."""
    return _SETS_FOREIGN_KEYS.match(text) is not None


def may_set_session(dialect: str, text: str) -> bool:
    """Whether the statement may change a session setting (``PRAGMA foreign_keys`` on
    SQLite; a SET, RESET or set_config() on PostgreSQL; never on MySQL)."""
    pattern = {"sqlite": _SETS_FOREIGN_KEYS, "postgres": _MAY_SET_SESSION}.get(dialect)
    return pattern is not None and pattern.search(text) is not None


def outside_transaction(statements: tuple[Statement, ...]) -> tuple[int, int] | None:
    """SQLite: the leading and trailing ``PRAGMA foreign_keys = ...`` statements, counted.

    SQLite's table rebuild is ``PRAGMA foreign_keys = OFF``, then the rebuild in a
    transaction, then ``PRAGMA foreign_keys = ON``; inside the transaction the pragmas
    would silently do nothing. So the leading ones run before BEGIN and the trailing ones
    after COMMIT. None when one sits between other statements: the migration then runs
    statement by statement, where it takes effect where it is written."""
    sets = [bool(_SETS_FOREIGN_KEYS.match(s.text)) for s in statements]
    first = next((i for i, is_pragma in enumerate(sets) if not is_pragma), len(sets))
    last = next((i for i, is_pragma in enumerate(reversed(sets)) if not is_pragma), 0)
    if any(sets[first:len(sets) - last]):
        return None
    return first, last
