"""The state of a database's migrations, separate from the runner.

Built from the ordered migrations of a source and one read of the tracking table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from switchy_guard.model.checksum import UNKNOWN_CHECKSUM
from switchy_guard.model.migration import Migration
from switchy_guard.model.records import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    StatementProgress,
    TrackingRow,
)

PENDING = "pending"


@dataclass(frozen=True)
class MigrationStatus:
    """One migration as the database sees it.

    ``migration`` is None for a row whose migration is missing from the sources.
    ``drift`` lists which checksums (``up``, ``down``) changed since it was applied;
    ``unknown_checksum`` is True when the row holds 64 zeros (written without one).
    """

    id: str
    state: str
    migration: Migration | None
    row: TrackingRow | None
    drift: tuple[str, ...] = ()
    unknown_checksum: bool = False
    progress: StatementProgress | None = None

    @property
    def applied(self) -> bool:
        """True when the migration completed."""
        return self.state == COMPLETED


def dirty_cause(entry: MigrationStatus) -> str:
    """Why ``entry`` is ``in_progress``: a run that died applying it, or a rollback that
    stopped part way (its down script's failure, when it failed rather than died)."""
    if entry.progress is None or entry.progress.direction != "down":
        return "a run died while applying it"
    reason = entry.row.failure_reason if entry.row else None
    why = f"failed: {reason}" if reason else "died"
    return f"its rollback ({why}) stopped part way, neither applied nor rolled back"


def progress_note(entry: MigrationStatus, dialect: str | None = None) -> str:
    """What a dirty migration's statement journal says ran, naming the statements, so the
    person knows what to undo: `` (2 of 3 statements had been applied: 1. `...` (up.sql:1);
    2. `...` (up.sql:3); may have been applied when the run died: 3. `...`)``. Empty
    without a journal entry.

    Progress is recorded after each statement commits, so the statement after the last
    recorded one may have run (a DDL statement commits on its own on MySQL) before the
    run died: it is named as uncertain, never as not applied."""
    progress = entry.progress
    if progress is None:
        return ""
    if not progress.statements_total:  # Python code: no statements to count
        return " (its code ran outside a transaction: what it did may have stayed applied)"
    down = progress.direction == "down"
    note = (f" ({progress.statements_applied} of {progress.statements_total} "
            f"{'down.sql ' if down else ''}statements had been applied")
    migration = entry.migration
    script = None if migration is None else migration.down if down else migration.up
    if migration is None or not isinstance(script, str):
        return note + ")"
    from switchy_guard.sql import split_statements
    from switchy_guard.sql.excerpt import excerpt

    statements = split_statements(script, dialect)
    where = (migration.down_path or "down.sql") if down else (migration.up_path or "up.sql")

    def named(number: int) -> str:
        statement = statements[number - 1]
        return f"{number}. `{excerpt(statement.text, 80)}` ({where}:{statement.line})"

    ran = [named(n) for n in range(1, min(progress.statements_applied, len(statements)) + 1)]
    if ran:
        note += ": " + "; ".join(ran)
    if progress.statements_applied < len(statements):
        # A rollback that failed (not died) names the statement that failed.
        failed = down and entry.row is not None and entry.row.failure_reason
        note += ("; failed, not applied: " if failed
                 else "; may have been applied when the run died: ") \
            + named(progress.statements_applied + 1)
        if progress.statements_applied + 1 < len(statements):
            note += f"; not run: {len(statements) - progress.statements_applied - 1} more"
    return note + ")"


def _drift(migration: Migration, row: TrackingRow) -> tuple[tuple[str, ...], bool]:
    if migration.repeatable:  # a change means "run it again", not drift
        return (), False
    if row.up_checksum == UNKNOWN_CHECKSUM and row.down_checksum == UNKNOWN_CHECKSUM:
        return (), True
    drift = []
    if row.up_checksum != UNKNOWN_CHECKSUM and row.up_checksum != migration.up_checksum:
        drift.append("up")
    if row.down_checksum != UNKNOWN_CHECKSUM and row.down_checksum != migration.down_checksum:
        drift.append("down")
    return tuple(drift), False


def _rerun(migration: Migration, row: TrackingRow) -> bool:
    """A repeatable migration completed with another up script: it runs again."""
    return (migration.repeatable and row.status == COMPLETED
            and row.up_checksum != migration.up_checksum)


class MigrationState:
    """What is applied, pending, failed or dirty, in run order."""

    def __init__(
        self,
        migrations: list[Migration],
        rows: dict[str, TrackingRow],
        progress: dict[str, StatementProgress] | None = None,
    ) -> None:
        self.migrations = migrations
        self.rows = rows
        self.progress = progress or {}

    @cached_property
    def entries(self) -> list[MigrationStatus]:
        """Every known migration in run order, then rows missing from the sources."""
        known = {m.id for m in self.migrations}
        result = []
        for migration in self.migrations:
            row = self.rows.get(migration.id)
            if row is None:
                result.append(MigrationStatus(migration.id, PENDING, migration, None))
                continue
            drift, unknown = _drift(migration, row)
            result.append(
                MigrationStatus(
                    migration.id,
                    PENDING if _rerun(migration, row) else row.status,
                    migration,
                    row,
                    drift,
                    unknown,
                    self.progress.get(migration.id),
                )
            )
        for migration_id in sorted(set(self.rows) - known):
            row = self.rows[migration_id]
            result.append(
                MigrationStatus(
                    migration_id,
                    row.status,
                    None,
                    row,
                    progress=self.progress.get(migration_id),
                )
            )
        return result

    def get(self, migration_id: str) -> MigrationStatus | None:
        """The status of one migration id, or None when neither known nor recorded."""
        return next((e for e in self.entries if e.id == migration_id), None)

    def is_applied(self, migration_id: str) -> bool:
        """True when ``migration_id`` completed."""
        row = self.rows.get(migration_id)
        return row is not None and row.status == COMPLETED

    def pending(self) -> list[Migration]:
        """Migrations with no row, in run order; and repeatable ones (Flyway's) whose
        up script changed since it last ran."""
        return [m for m in self.migrations
                if m.id not in self.rows or _rerun(m, self.rows[m.id])]

    def applied(self) -> list[MigrationStatus]:
        """Completed migrations, in run order (missing ones last)."""
        return [e for e in self.entries if e.state == COMPLETED]

    def in_progress(self) -> list[MigrationStatus]:
        """Rows left ``in_progress`` by a run that died."""
        return [e for e in self.entries if e.state == IN_PROGRESS]

    def failed(self) -> list[MigrationStatus]:
        """Rows whose migration failed."""
        return [e for e in self.entries if e.state == FAILED]

    def drifted(self) -> list[MigrationStatus]:
        """Applied migrations whose files changed since they ran."""
        return [e for e in self.entries if e.drift and e.state == COMPLETED]

    def missing(self) -> list[MigrationStatus]:
        """Rows whose migration is absent from the sources."""
        return [e for e in self.entries if e.migration is None]

    def out_of_order(self) -> list[Migration]:
        """Pending migrations that sort before the newest applied one."""
        position = {m.id: i for i, m in enumerate(self.migrations)}
        applied = [position[e.id] for e in self.applied() if e.id in position]
        if not applied:
            return []
        newest = max(applied)
        return [m for m in self.pending() if position[m.id] < newest and not m.repeatable]

    def history(self) -> list[TrackingRow]:
        """Every recorded row, oldest first."""
        return sorted(self.rows.values(), key=lambda r: (str(r.run_on or ""), r.id))
