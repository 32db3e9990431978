"""Execution facts: how a statement must be run, read from its text.

The one place that says which statements cannot run inside a transaction block (they
need autocommit), which ones end or nest the transaction the runner wraps a migration in,
and which ones may change a session setting the runner puts back. The runner asks these
questions before it runs anything. The first two are read from the classifier
(:mod:`switchy_guard.sql.classify`), whose answers the rules read (SG402, SG602), so the
runner and the rules cannot disagree; tests/unit/test_execution_facts.py holds them to
it over a corpus of statements.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from switchy_guard.sql.classify import TRANSACTION_WORDS, WORD, classify, first_word, tokenize

if TYPE_CHECKING:
    from switchy_guard.sql.split import Statement

#: What the classifier calls the statements that end or nest the transaction the runner
#: wraps a migration in. Savepoints do not (``savepoint``: SAVEPOINT, RELEASE, ROLLBACK
#: TO), so they stay allowed; rule SG602 reports these kinds.
CONTROLS_TRANSACTION = frozenset({"begin", "commit", "rollback"})

# The first words of the statements PostgreSQL or SQLite refuse inside a transaction
# block, and a word each of them holds: a cheap look that spares the tokenizer the
# statements that cannot be one (a run plans every statement of every migration).
_AUTOCOMMIT_FIRST = frozenset({"CREATE", "DROP", "REINDEX", "VACUUM", "ALTER", "PRAGMA"})
# (Substring tests of the lowercased text: an IGNORECASE regex alternation took 20 us on
# a 100-character CREATE TABLE, as long as the rest of planning it.)
_AUTOCOMMIT_WORDS = ("concurrently", "database", "system", "tablespace", "journal_mode")


def needs_autocommit(text: str, dialect: str | None = None) -> bool:
    """Whether the statement cannot run inside a transaction block, so the migration
    holding it runs statement by statement: CREATE/DROP INDEX CONCURRENTLY and REINDEX
    ... CONCURRENTLY (the classifier's ``concurrently``, which rule SG402 reads), VACUUM,
    CREATE/DROP DATABASE, ALTER SYSTEM, CREATE TABLESPACE and SQLite's ``PRAGMA
    journal_mode``. Read from the statement's tokens, so a word in a comment, a string
    or a quoted name does not count."""
    first = first_word(text)
    if first not in _AUTOCOMMIT_FIRST:
        return False
    if first == "VACUUM":
        return True
    lowered = text.lower()
    if not any(word in lowered for word in _AUTOCOMMIT_WORDS):
        return False
    info = classify(text, dialect)
    if info.concurrently:
        return True
    if info.kind in ("create_schema", "drop_schema"):
        return info.object_type == "database"
    words = [tok.up if tok.kind == WORD else tok.text for tok in tokenize(text, dialect)[:4]]
    if first == "PRAGMA":  # PRAGMA [schema.]journal_mode
        return (words[3:4] if words[2:3] == ["."] else words[1:2]) == ["JOURNAL_MODE"]
    return words[:2] in (["ALTER", "SYSTEM"], ["CREATE", "TABLESPACE"])


def controls_transaction(text: str, dialect: str | None = None) -> bool:
    """Whether the statement ends or nests the transaction it runs in: BEGIN, START
    TRANSACTION, COMMIT, END, ABORT, ROLLBACK (not ROLLBACK TO a savepoint), as the
    classifier reads them (:data:`CONTROLS_TRANSACTION`)."""
    return (first_word(text) in TRANSACTION_WORDS
            and classify(text, dialect).kind in CONTROLS_TRANSACTION)


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
