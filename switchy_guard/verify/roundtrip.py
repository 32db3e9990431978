"""``verify``: prove the down scripts on a scratch database.

For each migration in order: snapshot the schema, apply up, snapshot, apply down, compare
with the snapshot before up, apply up again and compare with the snapshot after the first
up. What a snapshot holds is in :mod:`switchy_guard.verify.snapshot`, how two are
compared in :mod:`switchy_guard.verify.compare`.

Only the scratch database is touched (:mod:`switchy_guard.verify.scratch`): a temporary
SQLite file by default, the URL given (which must hold an empty database), or a fresh
database created beside the ``-d`` database on its server and dropped afterwards.
Migrations are applied with :class:`~switchy_guard.runtime.runner.Migrator` (``Steps(1)`` up,
``Steps(1)`` down), so verify runs the same runner code as ``migrate`` and ``rollback``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from switchy_guard.discovery import SourceSpec
from switchy_guard.errors import ConfigError, MigrationFailed
from switchy_guard.model.migration import Migration
from switchy_guard.model.plan import Steps, UpTo
from switchy_guard.model.records import COMPLETED, DEFAULT_TABLE
from switchy_guard.runtime.db import (
    connect,
    create_database_engine,
    dialect_of,
    mask_url,
)
from switchy_guard.runtime.reasons import database_reason
from switchy_guard.runtime.runner import Migrator
from switchy_guard.runtime.unknown_types import collect_unknown_types
from switchy_guard.sql.split import Statement, split_statements
from switchy_guard.verify.compare import STEP_DOWN, STEP_REUP, STEP_UP, Difference, compare
from switchy_guard.verify.scratch import check_scratch_inputs, require_empty, scratch_database
from switchy_guard.verify.snapshot import Snapshot, snapshot

#: Outcomes of one migration in a :class:`VerifyReport` (each migration has exactly one).
PASSED = "passed"  # up, down and up again applied, nothing differs
WITH_DIFFERENCES = "with_differences"  # the round trip ran, the schema differs
FAILED = "failed"  # an up, down or re-up script errored
IRREVERSIBLE = "irreversible"  # no down script: applied up, not verified
NOT_REACHED = "not_reached"  # an earlier up failed
APPLIED_UP_ONLY = "applied_up_only"  # not asked for (--only, --against): applied up only
OUTCOMES = (PASSED, WITH_DIFFERENCES, FAILED, IRREVERSIBLE, NOT_REACHED, APPLIED_UP_ONLY)


@dataclass
class VerifyReport:
    """What verify found.

    ``order`` lists every migration looked at, in run order; ``outcomes`` gives each one
    exactly one outcome (:data:`OUTCOMES`): ``passed``, ``with_differences``, ``failed``
    (a script errored), ``irreversible`` (no down script, applied but not verified),
    ``not_reached`` (an earlier up failed) or ``applied_up_only`` (left out by ``only``
    or ``against``, applied up without a round trip). ``verified`` lists the passed ones,
    ``skipped`` the irreversible ones. ``unknown_types`` are the column types SQLAlchemy
    does not know (compared by their name).
    """

    scratch: str = ""
    order: list[str] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    unknown_types: list[str] = field(default_factory=list)
    #: What chose the migrations verified (``--against main``, ``--only``), or "".
    selection: str = ""

    def _with(self, outcome: str) -> list[str]:
        return [i for i in self.order if self.outcomes.get(i) == outcome]

    @property
    def verified(self) -> list[str]:
        """The migrations that passed: up, down and up again, nothing differs."""
        return self._with(PASSED)

    @property
    def with_differences(self) -> list[str]:
        """The migrations whose round trip ran and left the schema different."""
        return self._with(WITH_DIFFERENCES)

    @property
    def failed(self) -> list[str]:
        """The migrations an up, down or re-up script of which errored."""
        return self._with(FAILED)

    @property
    def skipped(self) -> list[str]:
        """The irreversible migrations (no down script): applied, not verified."""
        return self._with(IRREVERSIBLE)

    @property
    def not_reached(self) -> list[str]:
        """The migrations after an up that failed."""
        return self._with(NOT_REACHED)

    @property
    def applied_up_only(self) -> list[str]:
        """The migrations left out by ``only``/``against``: applied up, no round trip."""
        return self._with(APPLIED_UP_ONLY)

    @property
    def counts(self) -> dict[str, int]:
        """How many migrations have each outcome, and ``total`` (their sum)."""
        counted = {outcome: len(self._with(outcome)) for outcome in OUTCOMES}
        return {**counted, "total": len(self.order)}

    @property
    def ok(self) -> bool:
        """True when no difference was found (irreversible migrations do not count)."""
        return not self.differences

    @property
    def failing(self) -> list[str]:
        """The ids of the migrations with at least one difference or failure, in run order."""
        ids = {d.migration for d in self.differences}
        return [migration_id for migration_id in self.order if migration_id in ids]

    def differences_of(self, migration_id: str) -> list[Difference]:
        """The differences found for one migration."""
        return [d for d in self.differences if d.migration == migration_id]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the ``verify --format json`` document)."""
        return {
            "ok": self.ok,
            "scratch": self.scratch,
            "verified": self.verified,
            "with_differences": self.with_differences,
            "failed": self.failed,
            "skipped": self.skipped,
            "not_reached": self.not_reached,
            "applied_up_only": self.applied_up_only,
            "failing": self.failing,
            "counts": self.counts,
            "selection": self.selection,
            "unknown_types": self.unknown_types,
            "differences": [d.to_dict() for d in self.differences],
        }



# -- verify -----------------------------------------------------------------------------


def verify(
    source: SourceSpec,
    scratch_url: str | None = None,
    *,
    database_url: str | None = None,
    dialect: str | None = None,
    table: str = DEFAULT_TABLE,
    checksum_mode: str = "file",
    only: Collection[str] | None = None,
    against: str | None = None,
    migrations_dir: str | Path | None = None,
    setup: str | Path | None = None,
) -> VerifyReport:
    """Apply up, down and up again for each migration on a scratch database; compare.

    ``scratch_url`` names an empty database verify may change (refused when it is not
    empty, or when it is ``database_url``). Without it: a fresh database beside
    ``database_url`` on its PostgreSQL/MySQL server (dropped afterwards), else a
    temporary SQLite file. ``dialect`` (``sqlite``, ``postgres``, ``mysql``) says which
    database the migrations are written for; a scratch database of another kind is
    refused. ``table`` is the tracking table (it and ``<table>_*`` are not compared).

    ``only`` (ids) or ``against`` (a git revision; ``migrations_dir`` is then the folder
    to read there) verify fewer: only the named migrations, or those new or changed since
    that revision; the others are applied up only, without a round trip
    (``applied_up_only``). ``setup`` is an SQL file run on the scratch database before
    the first up (tables of the host application the migrations refer to).

    Differences are reported by migration and object; a down script or a second up that
    fails is a failure, and verification goes on with the next migration. A first up
    that fails ends it (the rest are ``not_reached``). Migrations without a down script
    are applied and counted ``irreversible``; they are not a failure.

    Raises :class:`~switchy_guard.errors.ConfigError` (exit 2) for bad input: an unknown
    id in ``only``, a setup script that fails (naming its file and line).
    """
    check_scratch_inputs(scratch_url, database_url, dialect)
    if only is not None and against is not None:
        raise ConfigError("verify takes --only or --against, not both")
    if only is not None and not only:
        raise ConfigError("--only needs at least one migration id")
    where = scratch_url or database_url
    setup_statements = (_read_setup(setup, dialect_of(where) if where else "sqlite")
                         if setup is not None else None)
    report = VerifyReport()
    unknown: set[str] = set()
    with scratch_database(database_url, scratch_url) as url, collect_unknown_types(unknown):
        report.scratch = mask_url(url)
        # No pool: up, down and up again each get a session of their own, as separate
        # migrate and rollback commands would (a temporary table dies with its session).
        engine = create_database_engine(url, poolclass=NullPool)
        try:
            require_empty(engine, url)
            migrator = Migrator(source, engine, table=table, checksum_mode=checksum_mode)
            chosen = _chosen(migrator, only, against, migrations_dir, checksum_mode, report)
            if setup is not None and setup_statements is not None:
                _run_setup(engine, setup, setup_statements)
            _verify_each(migrator, engine, table, report, chosen)
        finally:
            engine.dispose()
    report.unknown_types = sorted(unknown)
    return report


def _read_setup(setup: str | Path, dialect: str) -> list[Statement]:
    """The statements of the ``--setup`` script (read before any database is touched)."""
    path = Path(setup)
    try:
        sql = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read the --setup script: {reason}", path=path) from None
    return split_statements(sql, dialect)


def _run_setup(engine: Engine, setup: str | Path, statements: list[Statement]) -> None:
    """Run the setup script's statements in order, each committed; the first that fails
    is a ConfigError naming the file and its line."""
    with connect(engine) as conn:
        for statement in statements:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(statement.text)
                conn.connection.commit()
            except conn.dialect.loaded_dbapi.Error as exc:
                raise ConfigError(
                    f"line {statement.line}: the --setup script failed on the scratch "
                    f"database: {database_reason(exc)}", path=setup) from None
            finally:
                cursor.close()


def _chosen(migrator: Migrator, only: Collection[str] | None, against: str | None,
            migrations_dir: str | Path | None, checksum_mode: str,
            report: VerifyReport) -> set[str] | None:
    """The ids to verify with a round trip (None: all of them)."""
    migrations = migrator.migrations()
    if only is not None:
        known = {m.id for m in migrations}
        unknown = [i for i in dict.fromkeys(only) if i not in known]
        if unknown:
            raise ConfigError(f"--only names unknown migration(s): {', '.join(unknown)}")
        report.selection = f"--only {' '.join(dict.fromkeys(only))}"
        return set(only)
    if against is None:
        return None
    from switchy_guard.discovery.git import migrations_at_revision

    if migrations_dir is None:
        raise ConfigError("--against needs a migrations folder (-m DIR)")
    base = {m.id: m for m in migrations_at_revision(migrations_dir, against,
                                                    migrator.dialect, checksum_mode)}
    report.selection = f"--against {against}"
    # New since the base, or changed there: a down script fixed in the pull request is
    # what needs verifying most.
    return {m.id for m in migrations
            if m.id not in base or (base[m.id].up_checksum, base[m.id].down_checksum)
            != (m.up_checksum, m.down_checksum)}


def _record(report: VerifyReport, migration_id: str, outcome: str) -> None:
    report.order.append(migration_id)
    report.outcomes[migration_id] = outcome


def _verify_each(migrator: Migrator, engine: Engine, table: str, report: VerifyReport,
                 chosen: set[str] | None = None) -> None:
    migrations = migrator.migrations()
    # Migrations whose re-up failed, recorded as applied on a schema their up did not
    # build: a later up that fails may be failing because of them.
    not_rebuilt: list[str] = []
    # The schema a migration's up starts from is the one the previous step left, when
    # that step ended with a snapshot (a full snapshot is a few dozen catalog queries).
    current: Snapshot | None = None
    position = 0
    while position < len(migrations):
        if chosen is not None and migrations[position].id not in chosen:
            # A run of migrations not chosen: applied up in one go, no snapshot.
            end = position
            while end < len(migrations) and migrations[end].id not in chosen:
                end += 1
            run = migrations[position:end]
            try:
                migrator.migrate(UpTo(run[-1].id))
            except MigrationFailed as error:
                done = next((i for i, m in enumerate(run) if m.id == error.migration_id), 0)
                for migration in run[:done]:
                    _record(report, migration.id, APPLIED_UP_ONLY)
                _up_failed(report, migrations, position + done, error, not_rebuilt)
                return
            for migration in run:
                _record(report, migration.id, APPLIED_UP_ONLY)
            current, position = None, end
            continue
        migration = migrations[position]
        before = current if current is not None else snapshot(engine, table)
        try:
            migrator.migrate(Steps(1))
        except MigrationFailed as error:
            _up_failed(report, migrations, position, error, not_rebuilt)
            return
        current = _round_trip(migrator, engine, table, report, migration, before, not_rebuilt)
        position += 1


def _record_applied(migrator: Migrator, engine: Engine, migration: Migration) -> None:
    """Record ``migration`` completed (a failed step left it so, or half so), and forget
    the statement progress a statement-by-statement run kept, so the next up runs."""
    with engine.begin() as conn:
        migrator.tracking.record(
            conn, migration.id, COMPLETED, migration.up_checksum,
            migration.down_checksum, replace=True)
        migrator.tracking.ensure_progress(conn)
        migrator.tracking.clear_progress(conn, migration.id)


def _up_failed(report: VerifyReport, migrations: list[Migration], position: int,
               error: MigrationFailed, not_rebuilt: list[str]) -> None:
    """The up of ``migrations[position]`` failed: it failed, the rest are not reached."""
    migration = migrations[position]
    suspects = (f" (the re-up of {', '.join(not_rebuilt)} failed earlier, so this "
                "up ran on a schema it did not build: look there first)"
                if not_rebuilt else "")
    report.differences.append(Difference(
        migration.id, STEP_UP, "migration", migration.id,
        f"up failed, the migrations after it were not verified: {error.reason}{suspects}"))
    _record(report, migration.id, FAILED)
    for later in migrations[position + 1:]:
        _record(report, later.id, NOT_REACHED)


def _round_trip(migrator: Migrator, engine: Engine, table: str, report: VerifyReport,
                migration: Migration, before: Snapshot, not_rebuilt: list[str]
                ) -> Snapshot | None:
    """Down and up again for ``migration`` (its up just applied); its outcome recorded.
    Returns the schema snapshot it ends with, when it took one."""
    after_up = snapshot(engine, table)
    if not migration.reversible:
        _record(report, migration.id, IRREVERSIBLE)
        return after_up
    try:
        migrator.rollback(Steps(1))
    except MigrationFailed as error:
        report.differences.append(Difference(
            migration.id, STEP_DOWN, "migration", migration.id,
            f"the down script failed: {error.reason}"))
        _record(report, migration.id, FAILED)
        # Still applied (as far as a failed down goes): the next migration builds on it.
        # A down run statement by statement (MySQL DDL) left its row in_progress, which
        # the next up would refuse.
        _record_applied(migrator, engine, migration)
        return None
    found = compare(before, snapshot(engine, table), migration.id, STEP_DOWN)
    report.differences += found
    try:
        migrator.migrate(Steps(1))
    except MigrationFailed as error:
        report.differences.append(Difference(
            migration.id, STEP_REUP, "migration", migration.id,
            f"up failed after down (down left something behind): {error.reason}"))
        _record(report, migration.id, FAILED)
        # Record it applied so the next migrations can be verified on top of it.
        not_rebuilt.append(migration.id)
        _record_applied(migrator, engine, migration)
        return None
    current = snapshot(engine, table)
    again = compare(after_up, current, migration.id, STEP_REUP)
    report.differences += again
    _record(report, migration.id, WITH_DIFFERENCES if found or again else PASSED)
    return current
