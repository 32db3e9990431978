"""History integrity: the sources against the database, or against a git revision."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from switchy_guard.model.findings import Severity
from switchy_guard.model.migration import Migration
from switchy_guard.model.state import MigrationState
from switchy_guard.rules.base import ALL, Rule

CHECKSUM_MISMATCH = Rule(
    code="SG001", name="checksum-mismatch", severity=Severity.ERROR, dialects=ALL,
    summary="An applied migration's file changed since it ran.",
    why="The database holds what the old file did; the changed file will never run there, so "
        "databases created from scratch and databases migrated over time drift apart.",
    instead="Restore the file and put the change in a new migration.",
    example="editing migrations/2024-01-01-000000_a/up.sql after it was applied",
    fixed="a new migration 2024-02-01-000000_fix_a",
)

APPLIED_MISSING = Rule(
    code="SG002", name="applied-missing", severity=Severity.WARNING, dialects=ALL,
    summary="A migration recorded as applied is absent from the sources.",
    why="It was deleted or renamed after it ran, or the database was migrated from another "
        "branch; it can no longer be rolled back and the history no longer rebuilds the schema.",
    instead="Restore it, or make sure the sources and the database belong together.",
    example="deleting migrations/2024-01-01-000000_a/ after it ran",
    fixed="keep applied migrations in the tree",
)

OUT_OF_ORDER = Rule(
    code="SG003", name="out-of-order", severity=Severity.WARNING, dialects=ALL,
    summary="A pending migration sorts before the newest applied one.",
    why="It will run after migrations that were written later (typical of a merge), which may "
        "not be the order its author tested.",
    instead="Give it a newer timestamp (switchy-guard create), or confirm the order is harmless.",
    example="2024-01-05-000000_a pending while 2024-01-09-000000_b is applied",
    fixed="2024-01-10-000000_a",
)

DIRTY_STATE = Rule(
    code="SG005", name="dirty-state", severity=Severity.ERROR, dialects=ALL,
    summary="A row is in_progress (a run died) or failed.",
    why="The schema may be half changed; migrate refuses to go on until a person decides.",
    instead="Inspect the schema, then retry, mark-completed or mark-failed the migration.",
    example="status shows 2024-01-01-000000_a in_progress",
    fixed="switchy-guard mark-failed 2024-01-01-000000_a, fix, then migrate --retry-failed",
)

RULES = (CHECKSUM_MISMATCH, APPLIED_MISSING, OUT_OF_ORDER, DIRTY_STATE)

Hit = tuple[Rule, Migration | None, str, str]  # rule, migration, migration id, message


def database_hits(state: MigrationState) -> Iterator[Hit]:
    """Integrity problems between the sources and the database's tracking table."""
    for entry in state.drifted():
        yield (CHECKSUM_MISMATCH, entry.migration, entry.id,
               f"{' and '.join(entry.drift)} script changed since it was applied")
    for entry in state.missing():
        yield APPLIED_MISSING, None, entry.id, "applied in the database, absent from the sources"
    for migration in state.out_of_order():
        yield (OUT_OF_ORDER, migration, migration.id,
               "pending, but sorts before the newest applied migration")
    for entry in state.in_progress():
        yield DIRTY_STATE, entry.migration, entry.id, "in_progress: a run died while applying it"
    for entry in state.failed():
        reason = entry.row.failure_reason if entry.row else None
        yield DIRTY_STATE, entry.migration, entry.id, f"failed: {reason or 'no reason recorded'}"


def revision_hits(current: Sequence[Migration], base: Sequence[Migration], revision: str
                  ) -> Iterator[Hit]:
    """Integrity problems between the sources now and the sources at ``revision``."""
    now = {m.id: m for m in current}
    for old in base:
        new = now.get(old.id)
        if new is None:
            yield (APPLIED_MISSING, None, old.id,
                   f"present in {revision}, removed since")
            continue
        changed = [name for name, a, b in (("up", old.up_checksum, new.up_checksum),
                                             ("down", old.down_checksum, new.down_checksum))
                   if a != b]
        if changed:
            yield (CHECKSUM_MISMATCH, new, new.id,
                   f"{' and '.join(changed)} script differs from {revision}")
    if base:
        from switchy_guard.model.ordering import sort_key

        last = max(base, key=sort_key)
        newest = last.id
        known = {m.id for m in base}
        for migration in current:
            if migration.id not in known and sort_key(migration) < sort_key(last):
                yield (OUT_OF_ORDER, migration, migration.id,
                       f"new since {revision} but sorts before {newest}, the newest there")
