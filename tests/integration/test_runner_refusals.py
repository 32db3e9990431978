"""Every way the runner refuses to run, on real databases: dirty state, checksum drift,
failed rows, migrations missing from the sources or without a down script, a plan that
changed under the gate, a migration ending its own transaction, and a lost lock (its
fence). Each refusal names the migration and says what to do; nothing runs.

The history is written through the tracking table (as a run that died or failed left
it); the runner reads it back like any other run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from switchy_guard.discovery import CodeMigrations
from switchy_guard.errors import BadMigrationId, ConfigError, InputError, Refused
from switchy_guard.model.plan import All, Steps, UpTo
from switchy_guard.runtime.lock import HeldLock, LockLost
from switchy_guard.runtime.lockrecord import LockRecord
from switchy_guard.runtime.runner import Migrator, irreversible_refusal
from switchy_guard.runtime.tracking import COMPLETED, FAILED, IN_PROGRESS, TrackingTable
from tests.cli_helpers import write_migration

A, B, C = "2024-01-01-000000_a", "2024-01-02-000000_b", "2024-01-03-000000_c"
TABLE = "__switchy_migrations"
OTHER = "f" * 64  # a checksum no file has


def exact(message: str) -> str:
    """``message`` as the whole of an error (for pytest.raises(match=...))."""
    return f"^{re.escape(message)}$"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    for migration_id, table in ((A, "a"), (B, "b"), (C, "c")):
        write_migration(folder, migration_id, f"CREATE TABLE {table} (id INTEGER);\n",
                        f"DROP TABLE {table};\n")
    return folder


@pytest.fixture
def migrator(root: Path, db_url: str) -> Iterator[Migrator]:
    runner = Migrator(root, db_url)
    try:
        yield runner
    finally:
        runner.engine.dispose()


def history(migrator: Migrator, *rows: tuple[str, str], up: dict[str, str] | None = None,
            down: dict[str, str] | None = None, reasons: dict[str, str] | None = None,
            progress: dict[str, tuple[int, int, str]] | None = None) -> None:
    """Tracking rows (id, status) as runs left them, with the files' checksums unless
    ``up``/``down`` give others; ``progress``: statement progress (applied, total,
    direction)."""
    known = {m.id: m for m in migrator.migrations()}
    table = TrackingTable()
    with migrator.engine.connect() as conn, conn.begin():
        table.ensure(conn)
        for migration_id, status in rows:
            migration = known.get(migration_id)
            table.record(conn, migration_id, status,
                         (up or {}).get(migration_id, migration.up_checksum if migration
                                        else OTHER),
                         (down or {}).get(migration_id, migration.down_checksum if migration
                                          else OTHER),
                         (reasons or {}).get(migration_id))
        if progress:
            table.ensure_progress(conn)
            for migration_id, (applied, total, direction) in progress.items():
                table.set_progress(conn, migration_id, applied, total, direction)


def applied(migrator: Migrator) -> dict[str, str]:
    return {i: e.status for i, e in migrator.state().rows.items()}


def tables(migrator: Migrator) -> set[str]:
    with migrator.engine.connect() as conn:
        return {t.lower() for t in inspect(conn).get_table_names()} - {
            TABLE, f"{TABLE}_statements", f"{TABLE}_lock", f"{TABLE}_journal"}


# --- dirty state ----------------------------------------------------------------------


def test_a_row_left_in_progress_refuses_migrate(migrator: Migrator) -> None:
    history(migrator, (A, IN_PROGRESS))
    refusal = exact(f"migration {A} is in_progress: a run died while applying it; check the "
                    "schema, then mark it completed or failed, or re-run with --force")
    with pytest.raises(Refused, match=refusal):
        migrator.migrate()
    with pytest.raises(Refused, match=refusal):
        migrator.plan()
    assert applied(migrator) == {A: IN_PROGRESS} and tables(migrator) == set()


@pytest.mark.only_on("sqlite")
def test_a_dirty_migration_names_its_statements_as_this_database_splits_them(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, A, "CREATE TABLE [x;y] (id INTEGER);\nCREATE TABLE b (id "
                             "INTEGER);\nCREATE TABLE c (id INTEGER);\n", "DROP TABLE b;\n",
                             metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    try:
        history(migrator, (A, IN_PROGRESS), progress={A: (1, 3, "up")})
        up = folder / "up.sql"
        with pytest.raises(Refused, match=exact(
                f"migration {A} is in_progress: a run died while applying it (1 of 3 "
                f"statements had been applied: 1. `CREATE TABLE [x;y] (id INTEGER)` ({up}:1); "
                f"may have been applied when the run died: 2. `CREATE TABLE b (id INTEGER)` "
                f"({up}:2); not run: 1 more); check the schema, then mark it completed or "
                "failed, or re-run with --force")):
            migrator.plan()
    finally:
        migrator.engine.dispose()


@pytest.mark.only_on("sqlite")
def test_a_rollback_stopped_part_way_names_the_down_statements_as_this_database_splits_them(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, A, "CREATE TABLE b (id INTEGER);\n",
                             "DROP TABLE [x;y];\nDROP TABLE b;\n",
                             metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    try:
        history(migrator, (A, IN_PROGRESS), progress={A: (1, 2, "down")})
        down = folder / "down.sql"
        with pytest.raises(Refused, match=exact(
                f"migration {A} is in_progress: its rollback (died) stopped part way, neither "
                "applied nor rolled back (1 of 2 down.sql statements had been applied: 1. "
                f"`DROP TABLE [x;y]` ({down}:1); may have been applied when the run died: 2. "
                f"`DROP TABLE b` ({down}:2)); resolve it before rolling back, or use --force")):
            migrator.plan_rollback(Steps(1))
    finally:
        migrator.engine.dispose()


def test_force_re_runs_the_dirty_migration_and_says_so(migrator: Migrator) -> None:
    history(migrator, (A, IN_PROGRESS))
    plan = migrator.plan(force=True)
    assert plan.ids == [A, B, C]
    assert plan.warnings == (f"--force: re-running {A}, left in_progress",)
    assert [s.replaces_row for s in plan.steps] == [True, False, False]


def test_a_row_left_in_progress_refuses_a_rollback(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, IN_PROGRESS))
    with pytest.raises(Refused, match=exact(
            f"migration {B} is in_progress: a run died while applying it; resolve it "
            "before rolling back, or use --force")):
        migrator.rollback(Steps(1))
    with pytest.raises(Refused, match=f"^migration {B} is in_progress: "):
        migrator.plan_rollback(Steps(1))
    plan = migrator.plan_rollback(Steps(1), force=True)
    assert plan.ids == [A]
    assert plan.warnings == (f"--force: rolling back past {B}, left in_progress",)


# --- checksum drift -------------------------------------------------------------------


def test_an_applied_migration_changed_since_it_ran_refuses_migrate(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, COMPLETED), up={A: OTHER}, down={B: OTHER})
    with pytest.raises(Refused, match=exact(
            f"applied migrations changed since they ran (checksum mismatch): {A} (up), "
            f"{B} (down); restore the files, or re-run with --force")):
        migrator.migrate()
    assert tables(migrator) == set()


def test_force_goes_past_drift_with_a_warning(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), up={A: OTHER}, down={A: OTHER})
    plan = migrator.plan(force=True)
    assert plan.ids == [B, C]
    assert plan.warnings == (f"--force: ignoring checksum mismatch of {A} (up+down)",)


def test_checksum_validation_refuses_drift_and_unknown_checksums_even_with_force(
        migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, COMPLETED), up={A: OTHER, B: "0" * 64},
            down={B: "0" * 64})
    with pytest.raises(Refused, match=exact(
            f"checksum validation failed: changed since applied: {A}; unknown checksums "
            f"(adopt them with adopt-checksums): {B}")):
        migrator.plan(force=True, require_checksum_validation=True)


def test_checksum_validation_names_every_migration_it_refuses(root: Path, db_url: str) -> None:
    d = "2024-01-04-000000_d"
    write_migration(root, d, "CREATE TABLE d (id INTEGER);\n", "DROP TABLE d;\n")
    migrator = Migrator(root, db_url)
    try:
        zeros = "0" * 64
        history(migrator, (A, COMPLETED), (B, COMPLETED), (C, COMPLETED), (d, COMPLETED),
                up={A: OTHER, B: OTHER, C: zeros, d: zeros}, down={C: zeros, d: zeros})
        with pytest.raises(Refused, match=exact(
                f"checksum validation failed: changed since applied: {A}, {B}; unknown "
                f"checksums (adopt them with adopt-checksums): {C}, {d}")):
            migrator.plan(require_checksum_validation=True)
    finally:
        migrator.engine.dispose()


def test_checksum_validation_names_only_what_is_wrong(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), up={A: OTHER})
    with pytest.raises(Refused, match=exact(
            f"checksum validation failed: changed since applied: {A}")):
        migrator.plan(force=True, require_checksum_validation=True)


def test_checksum_validation_refuses_unknown_checksums_alone(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), up={A: "0" * 64}, down={A: "0" * 64})
    with pytest.raises(Refused, match=exact(
            f"checksum validation failed: unknown checksums (adopt them with "
            f"adopt-checksums): {A}")):
        migrator.migrate(require_checksum_validation=True)
    history(migrator, (B, COMPLETED))
    assert migrator.plan().ids == [C]  # without the option unknown checksums pass


def test_checksum_validation_passes_a_clean_history(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED))
    assert migrator.plan(require_checksum_validation=True).ids == [B, C]


def test_a_rollback_refuses_drift_only_of_what_it_rolls_back(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, COMPLETED), up={A: OTHER})
    assert migrator.plan_rollback(Steps(1)).ids == [B]
    with pytest.raises(Refused, match=exact(
            f"applied migrations changed since they ran (checksum mismatch): {A} (up); "
            "restore the files, or re-run with --force")):
        migrator.rollback(Steps(2))
    assert applied(migrator) == {A: COMPLETED, B: COMPLETED}
    forced = migrator.plan_rollback(Steps(2), force=True)
    assert forced.warnings == (f"--force: ignoring checksum mismatch of {A} (up)",)


# --- failed migrations --------------------------------------------------------------------


def test_a_failed_migration_refuses_migrate_with_its_first_line(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, FAILED),
            reasons={B: "\n  no such table: x\nat statement 2"})
    with pytest.raises(Refused, match=exact(
            f"migration {B} failed earlier (no such table: x); fix it and re-run with "
            "--retry-failed")):
        migrator.migrate()
    plan = migrator.plan(retry_failed=True)
    assert plan.ids == [B, C] and plan.steps[0].replaces_row and not plan.steps[1].replaces_row


def test_a_failed_migration_without_a_reason_says_so(migrator: Migrator) -> None:
    history(migrator, (A, FAILED))
    with pytest.raises(Refused, match=exact(
            f"migration {A} failed earlier (no reason recorded); fix it and re-run with "
            "--retry-failed")):
        migrator.plan()


def test_a_failed_row_of_a_migration_missing_from_the_sources_does_not_block(
        migrator: Migrator) -> None:
    history(migrator, ("2023-12-31-000000_gone", FAILED))
    plan = migrator.plan()
    assert plan.ids == [A, B, C]
    assert plan.warnings == ("2023-12-31-000000_gone is recorded in the database but "
                             "missing from the sources",)


PARTIAL = (f"migration {B} failed earlier (duplicate column) after 2 of 3 statements were "
           "applied, which stay applied; a re-run starts from its first statement: undo "
           "those by hand, fix it and re-run with --retry-failed --from-start, or finish it "
           "by hand and mark it completed")


def test_a_failure_that_left_statements_applied_says_how_many(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, FAILED), reasons={B: "duplicate column"},
            progress={B: (2, 3, "up")})
    with pytest.raises(Refused, match=exact(PARTIAL)):
        migrator.plan()


def test_retrying_it_needs_from_start(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, FAILED), reasons={B: "duplicate column"},
            progress={B: (2, 3, "up")})
    with pytest.raises(Refused, match=exact(
            f"migration {B} failed after 2 of 3 statements were applied, which stay "
            "applied; a re-run starts from its first statement and would run them again: "
            "undo them by hand and re-run with --from-start, or finish it by hand and mark "
            "it completed")):
        migrator.plan(retry_failed=True)
    assert migrator.plan(retry_failed=True, from_start=True).ids == [B, C]


def test_a_failure_before_any_statement_or_of_a_rollback_retries_plainly(
        migrator: Migrator) -> None:
    history(migrator, (A, FAILED), (B, FAILED), progress={A: (0, 3, "up"), B: (1, 2, "down")})
    with pytest.raises(Refused, match=exact(
            f"migration {A} failed earlier (no reason recorded); fix it and re-run with "
            "--retry-failed")):
        migrator.plan()
    assert migrator.plan(retry_failed=True).ids == [A, B, C]


def test_a_partial_failure_not_selected_does_not_refuse_the_retry(migrator: Migrator) -> None:
    history(migrator, (A, FAILED), (B, FAILED), progress={B: (1, 2, "up")})
    assert migrator.plan(Steps(1), retry_failed=True).ids == [A]


# --- choosing what runs -------------------------------------------------------------------


def test_steps_and_to_choose_the_first_pending_migrations(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED))
    assert migrator.plan(Steps(1)).ids == [B]
    assert migrator.plan(UpTo(B)).ids == [B]
    assert migrator.plan(UpTo(C)).ids == [B, C]
    assert migrator.plan(All()).ids == migrator.plan().ids == [B, C]
    plan = migrator.plan()
    assert (plan.direction, plan.dialect) == ("up", migrator.dialect)


def test_zero_steps_is_refused_as_it_would_run_nothing(migrator: Migrator) -> None:
    with pytest.raises(ConfigError, match=r"^--steps: must be 1 or more \(got 0\): 0 would "
                                          r"run nothing$"):
        migrator.plan(Steps(0))
    with pytest.raises(ConfigError, match=r"^--steps: must be 1 or more \(got -1\): 0 would "
                                          r"run nothing$"):
        migrator.plan_rollback(Steps(-1))
    assert migrator.plan(Steps(1)).ids == [A]


def test_an_unknown_to_is_refused_before_the_database_is_touched(migrator: Migrator) -> None:
    with pytest.raises(BadMigrationId, match=exact(
            "--to: unknown migration id '2024-09-09' (no migration of that id in the "
            "sources)")):
        migrator.plan(UpTo("2024-09-09"))
    with pytest.raises(BadMigrationId, match=exact(
            "--to: no migration ' ': an empty id names none (give a migration id)")):
        migrator.plan_rollback(UpTo(" "))
    assert tables(migrator) == set()


def test_rollback_to_a_migration_that_is_not_applied_is_refused(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, FAILED))
    with pytest.raises(BadMigrationId, match=exact(
            f"--to: migration '{C}' is pending, not applied: rollback --to keeps an applied "
            "migration")):
        migrator.plan_rollback(UpTo(C))
    with pytest.raises(BadMigrationId, match=exact(
            f"--to: migration '{B}' is failed, not applied: rollback --to keeps an applied "
            "migration")) as refused:
        migrator.plan_rollback(UpTo(B))
    assert (refused.value.argument, refused.value.migration_id) == ("--to", B)


def test_rollbacks_run_newest_first(migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, COMPLETED), (C, COMPLETED))
    assert migrator.plan_rollback(Steps(2)).ids == [C, B]
    assert migrator.plan_rollback(Steps(5)).ids == [C, B, A]
    assert migrator.plan_rollback(UpTo(A)).ids == [C, B]
    assert migrator.plan_rollback(UpTo(C)).ids == []
    assert migrator.plan_rollback(All()).ids == [C, B, A]
    assert [s.direction for s in migrator.plan_rollback(All()).steps] == ["down"] * 3
    plan = migrator.plan_rollback(All())
    assert (plan.direction, plan.dialect) == ("down", migrator.dialect)


# --- missing and irreversible migrations ------------------------------------------------


GONE = "2024-01-02-120000_gone"  # sorts between B and C


def test_a_rollback_past_a_migration_missing_from_the_sources_is_refused(
        migrator: Migrator) -> None:
    history(migrator, (A, COMPLETED), (B, COMPLETED), (GONE, COMPLETED), (C, COMPLETED))
    assert migrator.plan_rollback(Steps(1)).ids == [C]  # placed by its id, not last
    with pytest.raises(Refused, match=exact(
            f"cannot roll back migrations missing from the sources: {GONE}")):
        migrator.rollback(Steps(2))
    with pytest.raises(Refused, match=exact(
            f"cannot roll back migrations missing from the sources: {GONE}")):
        migrator.plan_rollback(UpTo(A))
    with pytest.raises(Refused, match=exact(
            f"cannot roll back migrations missing from the sources: {GONE}")):
        migrator.plan_rollback(UpTo(B))


def test_a_missing_migration_newer_than_every_other_is_the_first_rolled_back(
        migrator: Migrator) -> None:
    newest = "2024-12-31-000000_gone"
    history(migrator, (A, COMPLETED), (newest, COMPLETED), (B, COMPLETED))
    with pytest.raises(Refused, match=exact(
            f"cannot roll back migrations missing from the sources: {newest}")):
        migrator.plan_rollback(Steps(1))


def test_every_missing_migration_in_the_way_is_named(migrator: Migrator) -> None:
    late = "2024-01-02-130000_gone"
    history(migrator, (A, COMPLETED), (B, COMPLETED), (GONE, COMPLETED), (late, COMPLETED),
            (C, COMPLETED))
    with pytest.raises(Refused, match=exact(
            f"cannot roll back migrations missing from the sources: {GONE}, {late}")):
        migrator.plan_rollback(UpTo(B))


def test_to_keeps_a_missing_migration_that_sorts_before_it(migrator: Migrator) -> None:
    early = "2024-01-01-120000_gone"
    history(migrator, (A, COMPLETED), (early, COMPLETED), (B, COMPLETED), (C, COMPLETED))
    assert migrator.plan_rollback(UpTo(B)).ids == [C]
    with pytest.raises(Refused, match=exact(
            f"cannot roll back migrations missing from the sources: {early}")):
        migrator.plan_rollback(UpTo(A))


def test_a_rollback_past_a_migration_without_a_down_script_is_refused(tmp_path: Path,
                                                                       db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n", "")
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\n", "DROP TABLE c;\n")
    migrator = Migrator(root, db_url)
    try:
        history(migrator, (A, COMPLETED), (B, COMPLETED), (C, COMPLETED))
        assert migrator.plan_rollback(Steps(1)).ids == [C]
        with pytest.raises(Refused, match=exact(
                f"cannot roll back: {B}: the down script is empty: rolling back would leave "
                "table b in place (write the down, or declare a deliberate no-op: down = "
                "\"noop\" in metadata.toml, or a `-- switchy-guard: noop-down -- reason` line "
                "in down.sql) (nothing was rolled back)")):
            migrator.rollback(Steps(2))
        with pytest.raises(Refused, match=exact(
                f"cannot roll back: no down script for {A}; {B}: the down script is empty: "
                "rolling back would leave table b in place (write the down, or declare a "
                "deliberate no-op: down = \"noop\" in metadata.toml, or a `-- switchy-guard: "
                "noop-down -- reason` line in down.sql) (nothing was rolled back)")):
            migrator.rollback(All())
        assert applied(migrator) == {A: COMPLETED, B: COMPLETED, C: COMPLETED}
    finally:
        migrator.engine.dispose()


@pytest.mark.only_on("sqlite")
def test_an_empty_down_names_what_the_up_made_as_this_database_reads_it(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE [a;b] (id INTEGER);\n", "")
    migrator = Migrator(root, db_url)
    try:
        history(migrator, (A, COMPLETED))
        with pytest.raises(Refused, match=exact(
                f"cannot roll back: {A}: the down script is empty: rolling back would leave "
                "table a;b in place (write the down, or declare a deliberate no-op: down = "
                "\"noop\" in metadata.toml, or a `-- switchy-guard: noop-down -- reason` line "
                "in down.sql) (nothing was rolled back)")):
            migrator.plan_rollback(Steps(1))
    finally:
        migrator.engine.dispose()


def test_the_irreversible_refusal_lists_each_missing_down(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n")
    migrations = Migrator(root, f"sqlite:///{tmp_path / 'x.db'}").migrations()
    assert irreversible_refusal(migrations) == (
        f"cannot roll back: no down script for {A}, {B} (nothing was rolled back)")


# --- the plan the gate approved -----------------------------------------------------------


def test_a_plan_holding_a_migration_the_gate_did_not_approve_runs_nothing(
        migrator: Migrator) -> None:
    with pytest.raises(Refused, match=exact(
            f"the plan changed while waiting for the lock: {B}, {C} was not in the plan the "
            "gate approved; nothing was run, plan and run again")):
        migrator.migrate(approved=[A])
    assert tables(migrator) == set() and applied(migrator) == {}
    assert migrator.migrate(approved=[A, B, C]).done == [A, B, C]
    with pytest.raises(Refused, match=exact(
            f"the plan changed while waiting for the lock: {C} was not in the plan the gate "
            "approved; nothing was run, plan and run again")):
        migrator.rollback(Steps(1), approved=[B])
    assert migrator.rollback(Steps(1), approved=[C]).done == [C]


# --- a migration that ends its own transaction --------------------------------------------


# MySQL/MariaDB commit each DDL statement: no migration there runs in one transaction.
@pytest.mark.only_on("sqlite", "postgres")
@pytest.mark.parametrize("control", ["COMMIT", "BEGIN", "ROLLBACK"])
def test_a_migration_ending_the_runners_transaction_is_refused_naming_the_line(
        tmp_path: Path, db_url: str, control: str) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, A, f"CREATE TABLE a (id INTEGER);\n{control};\n",
                             "DROP TABLE a;\n")
    migrator = Migrator(root, db_url)
    try:
        with pytest.raises(InputError, match=exact(
                f"{folder / 'up.sql'}:2: `{control}` would end or nest the transaction "
                f"migration {A} runs in; remove it, or set transactional = false in its "
                "metadata.toml to run it statement by statement (nothing was run)")):
            migrator.migrate()
        assert tables(migrator) == set()
    finally:
        migrator.engine.dispose()


@pytest.mark.only_on("sqlite", "postgres")
def test_a_long_transaction_statement_is_quoted_to_forty_characters(tmp_path: Path,
                                                                     db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\nBEGIN TRANSACTION -- and a long "
                             "comment after it\n;\n", "DROP TABLE a;\n")
    migrator = Migrator(root, db_url)
    try:
        with pytest.raises(InputError, match="`BEGIN TRANSACTION -- and a long comment ` "
                                             "would end or nest"):
            migrator.plan()
    finally:
        migrator.engine.dispose()


@pytest.mark.only_on("sqlite", "postgres")
def test_a_down_script_ending_the_transaction_is_refused_naming_the_down(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, A, "CREATE TABLE a (id INTEGER);\n",
                             "-- undo\n\nDROP TABLE a;\nCOMMIT;\n")
    migrator = Migrator(root, db_url)
    try:
        migrator.migrate()
        with pytest.raises(InputError, match=exact(
                f"{folder / 'down.sql'}:4: `COMMIT` would end or nest the transaction "
                f"migration {A} runs in; remove it, or set transactional = false in its "
                "metadata.toml to run it statement by statement (nothing was run)")):
            migrator.rollback(Steps(1))
        assert tables(migrator) == {"a"}
    finally:
        migrator.engine.dispose()


# --- the lock's fence -----------------------------------------------------------------------


BREAK = f"UPDATE {TABLE}_lock SET token = 'taken-over'"


def held_lock(migrator: Migrator) -> HeldLock:
    """The lock as a run holds it: a record with this run's token."""
    record = LockRecord(TABLE)
    with migrator.engine.connect() as conn:
        token = record.write(conn, "migrate", session=None)
    return HeldLock("", record=record, token=token)


def fenced(consequence: str) -> str:
    # Where the audit journal knows who broke it, that is named in parentheses.
    return (r"^the migration lock was broken while this run held it(?: \(by [^)]*\))?: "
            f"{re.escape(consequence)}; another run may hold the lock now$")


# DDL commits on MySQL: no migration there runs in a transaction.
@pytest.mark.only_on("sqlite", "postgres")
def test_a_lock_broken_during_a_migration_undoes_it_with_its_transaction(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, f"CREATE TABLE b (id INTEGER);\n{BREAK};\n", "DROP TABLE b;\n")
    migrator = Migrator(root, db_url)
    try:
        with pytest.raises(LockLost, match=fenced(
                f"{B} was undone with its transaction: nothing of it was applied or "
                "recorded")):
            migrator.migrate(lock=held_lock(migrator))
        assert tables(migrator) == {"a"} and applied(migrator) == {A: COMPLETED}
    finally:
        migrator.engine.dispose()


# DDL commits on MySQL: no migration there runs in a transaction.
@pytest.mark.only_on("sqlite", "postgres")
def test_a_lock_broken_during_a_rollback_undoes_the_rollback(tmp_path: Path,
                                                              db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", f"DROP TABLE a;\n{BREAK};\n")
    migrator = Migrator(root, db_url)
    try:
        migrator.migrate()
        with pytest.raises(LockLost, match=fenced(
                f"{A} was undone with its transaction: nothing of its rollback was applied "
                "or recorded")):
            migrator.rollback(Steps(1), lock=held_lock(migrator))
        assert tables(migrator) == {"a"} and applied(migrator) == {A: COMPLETED}
    finally:
        migrator.engine.dispose()


def test_a_lock_broken_during_a_statement_by_statement_run_leaves_it_in_progress(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, f"CREATE TABLE a (id INTEGER);\n{BREAK};\nCREATE TABLE z (id "
                             "INTEGER);\n", "DROP TABLE a;\n",
                    metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    try:
        with pytest.raises(LockLost, match=fenced(
                f"stopped {A} after 2 of 3 statements, which stay applied; its row stays "
                "in_progress (check the schema, then mark it completed or failed)")):
            migrator.migrate(lock=held_lock(migrator))
        assert tables(migrator) == {"a"} and applied(migrator) == {A: IN_PROGRESS}
    finally:
        migrator.engine.dispose()


def test_a_migration_run_statement_by_statement_completes_and_forgets_its_progress(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\nCREATE TABLE z (id INTEGER);\n",
                    "DROP TABLE z;\nDROP TABLE a;\n", metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    try:
        assert migrator.migrate(lock=held_lock(migrator)).done == [A]
        assert applied(migrator) == {A: COMPLETED} and tables(migrator) == {"a", "z"}
        with migrator.engine.connect() as conn:
            assert TrackingTable().read_progress(conn) == {}
        assert migrator.rollback(Steps(1), lock=held_lock(migrator)).done == [A]
        assert applied(migrator) == {} and tables(migrator) == set()
    finally:
        migrator.engine.dispose()


def test_a_failed_migration_run_again_leaves_one_row(root: Path, db_url: str) -> None:
    migrator = Migrator(root, db_url)
    try:
        history(migrator, (A, FAILED), reasons={A: "boom"})
        assert migrator.migrate(Steps(1), retry_failed=True).done == [A]
        with migrator.engine.connect() as conn:
            rows = [tuple(r) for r in conn.exec_driver_sql(f"SELECT id, status FROM {TABLE}")]
        assert rows == [(A, COMPLETED)]
    finally:
        migrator.engine.dispose()


def test_a_lock_broken_by_code_run_outside_a_transaction_leaves_it_in_progress(
        db_url: str) -> None:
    registry = CodeMigrations()

    @registry.migration(A, transactional=False)
    def takes_the_lock(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE a (id INTEGER)")
        conn.exec_driver_sql(BREAK)

    migrator = Migrator(registry, db_url)
    try:
        with pytest.raises(LockLost, match=fenced(
                f"{A} ran outside a transaction and stays applied; its row stays in_progress "
                "(check the schema, then mark it completed or failed)")):
            migrator.migrate(lock=held_lock(migrator))
        assert tables(migrator) == {"a"} and applied(migrator) == {A: IN_PROGRESS}
    finally:
        migrator.engine.dispose()


def test_a_held_lock_lets_every_write_through(migrator: Migrator) -> None:
    assert migrator.migrate(lock=held_lock(migrator)).done == [A, B, C]
    assert migrator.rollback(All(), lock=held_lock(migrator)).done == [C, B, A]
    assert tables(migrator) == set() and applied(migrator) == {}
