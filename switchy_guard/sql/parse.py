"""Split statements classified, with what DO blocks, prepared statements and the
routines a migration creates run, in the order they run."""

from __future__ import annotations

from collections.abc import Iterable

from switchy_guard.sql.classify import StatementInfo, classify
from switchy_guard.sql.split import Statement

#: A migration's statements, each with what the classifier made of it.
Parsed = tuple[tuple[Statement, StatementInfo], ...]


def parse_statements(statements: Iterable[Statement], dialect: str | None) -> Parsed:
    """Classify split ``statements``: an EXECUTE of a prepared statement as what it runs
    (see :mod:`switchy_guard.sql.prepared`); after a DO block (or MariaDB's BEGIN NOT ATOMIC)
    come the statements it runs (see :mod:`switchy_guard.sql.blocks`), and after a
    statement that calls a routine (or fires a trigger) the migration created, the
    statements its body runs (see :mod:`switchy_guard.sql.routines`)."""
    parsed = [(s, classify(s.text, dialect)) for s in statements]
    has_blocks = has_routines = has_prepared = False
    for _, info in parsed:  # a loop, not any(): this runs for every migration
        if info.kind == "prepare" or info.kind == "dynamic":
            has_prepared = True
        elif info.kind == "do" and info.object_type:
            has_blocks = True
        elif info.kind == "create_other" and info.object_type in ("function", "procedure",
                                                                  "trigger", "rule"):
            has_routines = True
    # Imported only when needed, so a check without blocks or routines does not load them.
    if has_prepared:  # EXECUTE of a prepared statement: what it runs (sql/prepared.py)
        from switchy_guard.sql.prepared import with_prepared

        parsed = with_prepared(parsed, dialect)
    if has_blocks:
        from switchy_guard.sql.blocks import with_blocks

        parsed = with_blocks(parsed, dialect)
    if has_routines:
        from switchy_guard.sql.routines import with_routines

        parsed = with_routines(parsed, dialect)
    return tuple(parsed)
