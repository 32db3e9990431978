"""The tracking table on real databases: what it records, what it reads back, and the
tables and rows it refuses to read (naming the table and the row, nothing run).

These drive switchy_guard.runtime.tracking.TrackingTable directly on each server (no command
line): what the runner writes and reads of its history, row by row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import ConfigError, InputError
from switchy_guard.model.checksum import UNKNOWN_CHECKSUM
from switchy_guard.model.records import StatementProgress, TrackingRow
from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.tracking import COMPLETED, FAILED, IN_PROGRESS, TrackingTable

A, B, C = "2024-01-01-000000_a", "2024-01-02-000000_b", "2024-01-03-000000_c"
TABLE = "__switchy_migrations"
PROGRESS = "__switchy_migrations_statements"
UP, DOWN = "1" * 64, "2" * 64
COLUMNS = {"id", "run_on", "finished_on", "up_checksum", "down_checksum", "status",
           "failure_reason"}


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def execute(conn: Connection, *statements: str) -> None:
    with conn.begin():
        for statement in statements:
            conn.exec_driver_sql(statement)


def columns(conn: Connection, table: str = TABLE) -> set[str]:
    return {c["name"].lower() for c in inspect(conn).get_columns(table)}


def stored(conn: Connection, sql: str) -> list[tuple[object, ...]]:
    rows = [tuple(r) for r in conn.exec_driver_sql(sql)]
    conn.commit()
    return rows


def read(table: TrackingTable, conn: Connection) -> dict[str, TrackingRow]:
    """The rows, the read's implicit transaction ended (as the runner does)."""
    rows = table.read(conn)
    conn.commit()
    return rows


def progress(table: TrackingTable, conn: Connection) -> dict[str, StatementProgress]:
    found = table.read_progress(conn)
    conn.commit()
    return found


def naive(value: object) -> object:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def created(conn: Connection, name: str = TABLE) -> TrackingTable:
    table = TrackingTable(name)
    with conn.begin():
        table.ensure(conn)
    return table


# --- creating and upgrading -----------------------------------------------------------


def test_a_new_tracking_table_has_exactly_switchy_schemas_columns(conn: Connection) -> None:
    table = TrackingTable()
    assert not table.exists(conn)
    conn.commit()
    with conn.begin():
        table.ensure(conn)
        table.ensure(conn)  # already there: left as it is
    assert table.exists(conn)
    assert columns(conn) == COLUMNS
    assert read(table, conn) == {}


def test_another_table_name_keeps_its_progress_table_beside_it(conn: Connection) -> None:
    table = created(conn, "Deploy_Runs")
    assert table.progress_name == "Deploy_Runs_statements"
    with conn.begin():
        table.record(conn, A, COMPLETED, UP, DOWN)
        table.ensure_progress(conn)
        table.set_progress(conn, A, 1, 2)
    assert inspect(conn).has_table("Deploy_Runs_statements")
    assert set(read(table, conn)) == {A}
    assert progress(table, conn) == {A: StatementProgress(A, 1, 2, "up")}
    assert not TrackingTable().exists(conn)


def test_an_invalid_table_name_is_refused_before_any_sql() -> None:
    with pytest.raises(ConfigError, match=r"^invalid migration table name 'runs; DROP "
                       r"TABLE users': use letters, digits and underscores, not starting "
                       r"with a digit, at most 48 characters$"):
        TrackingTable("runs; DROP TABLE users")


LEGACY_RUN_ON = "2023-05-01 10:00:00"


def test_a_legacy_table_is_read_as_its_upgrade_will_leave_it_without_changing_it(
        conn: Connection) -> None:
    execute(conn, f"CREATE TABLE {TABLE} (name VARCHAR(255) NOT NULL, run_on "
                  f"{'TEXT' if conn.dialect.name == 'sqlite' else 'TIMESTAMP'} NOT NULL)",
            f"INSERT INTO {TABLE} (name, run_on) VALUES ('{A}', '{LEGACY_RUN_ON}')")
    rows = read(TrackingTable(), conn)
    conn.commit()
    assert set(rows) == {A}
    row = rows[A]
    assert (row.id, row.status, row.up_checksum, row.down_checksum, row.failure_reason) == (
        A, COMPLETED, UNKNOWN_CHECKSUM, UNKNOWN_CHECKSUM, None)
    assert row.run_on is not None and row.finished_on == row.run_on
    assert columns(conn) == {"name", "run_on"}  # reading never writes


def test_ensure_upgrades_a_legacy_table_keeping_its_rows_completed(conn: Connection) -> None:
    execute(conn, f"CREATE TABLE {TABLE} (name VARCHAR(255) NOT NULL, run_on "
                  f"{'TEXT' if conn.dialect.name == 'sqlite' else 'TIMESTAMP'} NOT NULL)",
            f"INSERT INTO {TABLE} (name, run_on) VALUES ('{A}', '{LEGACY_RUN_ON}')")
    table = created(conn)
    assert columns(conn) == COLUMNS
    row = read(table, conn)[A]
    assert (row.status, row.up_checksum, row.down_checksum, row.failure_reason) == (
        COMPLETED, UNKNOWN_CHECKSUM, UNKNOWN_CHECKSUM, None)
    # The same time; PostgreSQL's new column has a time zone the legacy run_on lacks.
    assert naive(row.finished_on) == naive(row.run_on) is not None
    with conn.begin():  # the upgraded table takes the runner's rows
        table.record(conn, B, IN_PROGRESS, UP, DOWN)
    assert read(table, conn)[B].status == IN_PROGRESS


def test_a_half_upgraded_table_is_read_and_finished(conn: Connection) -> None:
    execute(conn, f"CREATE TABLE {TABLE} (id VARCHAR(255) NOT NULL, run_on "
                  f"{'TEXT' if conn.dialect.name == 'sqlite' else 'TIMESTAMP'} NOT NULL, "
                  "finished_on TIMESTAMP NULL, up_checksum VARCHAR(64) NOT NULL, "
                  "down_checksum VARCHAR(64) NOT NULL)",
            f"INSERT INTO {TABLE} (id, run_on, finished_on, up_checksum, down_checksum) "
            f"VALUES ('{A}', '{LEGACY_RUN_ON}', NULL, '{UP}', '{DOWN}')")
    row = read(TrackingTable(), conn)[A]
    conn.commit()
    assert (row.status, row.up_checksum, row.down_checksum, row.failure_reason,
            row.finished_on) == (COMPLETED, UP, DOWN, None, None)
    table = created(conn)
    assert columns(conn) == COLUMNS
    row = read(table, conn)[A]
    assert (row.status, row.up_checksum, row.down_checksum, row.finished_on) == (
        COMPLETED, UP, DOWN, None)


INCOMPATIBLE = (f"^migration tracking table '{TABLE}' has an incompatible schema \\(it needs "
                "run_on and id, or the legacy name\\): is --migration-table right\\?$")


@pytest.mark.parametrize("definition", ["(ident VARCHAR(255), run_on VARCHAR(40))",
                                        "(id VARCHAR(255), status VARCHAR(40))"])
def test_a_table_of_another_shape_is_refused_by_reading_and_by_ensure(
        conn: Connection, definition: str) -> None:
    execute(conn, f"CREATE TABLE {TABLE} {definition}")
    with pytest.raises(ConfigError, match=INCOMPATIBLE):
        TrackingTable().read(conn)
    conn.rollback()
    with pytest.raises(ConfigError, match=INCOMPATIBLE), conn.begin():
        TrackingTable().ensure(conn)


# --- writing and reading rows ---------------------------------------------------------


def test_rows_are_read_back_as_recorded(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.record(conn, A, COMPLETED, UP, DOWN)
        table.record(conn, B, IN_PROGRESS, DOWN, UP)
        table.record(conn, C, FAILED, UP, UP, "syntax error at DROP")
    rows = read(table, conn)
    assert [(r.id, r.status, r.up_checksum, r.down_checksum, r.failure_reason)
            for r in rows.values()] == [
        (A, COMPLETED, UP, DOWN, None), (B, IN_PROGRESS, DOWN, UP, None),
        (C, FAILED, UP, UP, "syntax error at DROP")]
    assert all(r.run_on is not None for r in rows.values())
    assert rows[A].finished_on is not None and rows[C].finished_on is not None
    assert rows[B].finished_on is None  # still running


def test_an_unknown_status_is_never_written() -> None:
    table = TrackingTable()
    with pytest.raises(ValueError, match=r"^unknown status 'done'$"):
        table.record(None, A, "done", UP, DOWN)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^unknown status 'Completed'$"):
        table.set_status(None, A, "Completed")  # type: ignore[arg-type]


def test_replace_leaves_one_row_and_remove_deletes_every_row_of_an_id(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.record(conn, A, FAILED, UP, DOWN, "boom")
        table.record(conn, A, COMPLETED, UP, DOWN, replace=True)
        table.record(conn, B, FAILED, UP, DOWN, "boom")
        table.record(conn, B, FAILED, UP, DOWN, "again")
    assert sorted(stored(conn, f"SELECT id, status FROM {TABLE}")) == [
        (A, COMPLETED), (B, FAILED), (B, FAILED)]
    with conn.begin():
        table.remove(conn, B)
    assert stored(conn, f"SELECT id, status FROM {TABLE}") == [(A, COMPLETED)]


def test_a_failure_reason_is_stored_with_its_password_masked(conn: Connection) -> None:
    table = created(conn)
    reason = "could not reach postgresql://app:hunter2pw@db.internal/app"
    with conn.begin():
        table.record(conn, A, FAILED, UP, DOWN, reason)
        table.record(conn, B, IN_PROGRESS, UP, DOWN)
        table.set_status(conn, B, FAILED, reason)
    reasons = [str(r) for (r,) in stored(conn, f"SELECT failure_reason FROM {TABLE}")]
    assert len(reasons) == 2
    assert all("hunter2pw" not in r and "db.internal/app" in r for r in reasons)


def test_set_status_moves_a_row_and_sets_finished_on_only_when_final(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.record(conn, A, IN_PROGRESS, UP, DOWN)
        table.record(conn, B, IN_PROGRESS, UP, DOWN)
        table.set_status(conn, A, COMPLETED)
        table.set_status(conn, B, FAILED, "it broke")
    rows = read(table, conn)
    assert (rows[A].status, rows[A].failure_reason) == (COMPLETED, None)
    assert (rows[B].status, rows[B].failure_reason) == (FAILED, "it broke")
    assert rows[A].finished_on is not None and rows[B].finished_on is not None
    with conn.begin():
        table.set_status(conn, A, IN_PROGRESS)
    again = read(table, conn)
    assert (again[A].status, again[A].finished_on) == (IN_PROGRESS, None)
    assert again[B].status == FAILED


def test_set_checksums_adopts_new_checksums_for_one_id(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.record(conn, A, COMPLETED, UP, DOWN)
        table.record(conn, B, COMPLETED, UP, DOWN)
        table.set_checksums(conn, A, "3" * 64, "4" * 64)
    rows = read(table, conn)
    assert (rows[A].up_checksum, rows[A].down_checksum) == ("3" * 64, "4" * 64)
    assert (rows[B].up_checksum, rows[B].down_checksum) == (UP, DOWN)


def test_of_several_rows_of_one_id_the_newest_is_read(conn: Connection) -> None:
    table = created(conn)
    execute(conn,
            f"INSERT INTO {TABLE} (id, run_on, up_checksum, down_checksum, status) VALUES "
            f"('{A}', '2024-03-01 00:00:00', '{UP}', '{DOWN}', 'completed')",
            f"INSERT INTO {TABLE} (id, run_on, up_checksum, down_checksum, status) VALUES "
            f"('{A}', '2024-01-01 00:00:00', '{UP}', '{DOWN}', 'failed')")
    assert read(table, conn)[A].status == COMPLETED


def test_a_missing_table_reads_as_no_rows_and_leaves_the_connection_usable(
        conn: Connection) -> None:
    table = TrackingTable()
    assert read(table, conn) == {}
    assert progress(table, conn) == {}
    assert stored(conn, "SELECT 1") == [(1,)]


# --- rows and tables refused ------------------------------------------------------------


def test_a_row_with_an_unknown_status_refuses_the_read_naming_it(conn: Connection) -> None:
    table = created(conn)
    execute(conn, f"INSERT INTO {TABLE} (id, run_on, up_checksum, down_checksum, status) "
                  f"VALUES ('{A}', '2024-01-01 00:00:00', '{UP}', '{DOWN}', 'Completed ')")
    with pytest.raises(InputError, match=(
            f"^migration tracking table '{TABLE}', row '{A}': status 'Completed ' is not one "
            "of in_progress, completed, failed \\(exactly, in lower case, as switchy_schema "
            "writes them: did you mean 'completed'\\?\\); nothing was run \\(fix or delete "
            "the row\\)$")):
        table.read(conn)


@pytest.mark.only_on("sqlite")
def test_a_row_with_a_blank_id_is_named_by_its_place_and_run_on(conn: Connection) -> None:
    table = created(conn)
    execute(conn,
            f"INSERT INTO {TABLE} (id, run_on, up_checksum, down_checksum, status) VALUES "
            f"('{A}', '2024-01-01T00:00:00', '{UP}', '{DOWN}', 'completed')",
            f"INSERT INTO {TABLE} (id, run_on, up_checksum, down_checksum, status) VALUES "
            f"('  ', '2024-02-01T00:00:00', '{UP}', '{DOWN}', 'completed')")
    with pytest.raises(InputError, match=(
            f"^migration tracking table '{TABLE}', row 2 \\(in run_on order, run_on "
            "2024-02-01T00:00:00\\): its id is empty; nothing was run \\(fix or delete the "
            "row\\)$")):
        table.read(conn)


def test_a_view_in_place_of_the_table_is_refused(conn: Connection) -> None:
    created(conn, "real_runs")
    execute(conn, f"CREATE VIEW {TABLE} AS SELECT * FROM real_runs")
    with pytest.raises(InputError, match=(
            f"^migration tracking table '{TABLE}' is a view, not a table: nothing was run "
            "\\(is --migration-table right\\?\\)$")):
        TrackingTable().read(conn)


def test_a_view_under_a_name_that_needs_quoting_is_refused(conn: Connection) -> None:
    name = "Deploy_Runs"
    created(conn, "real_runs")
    quoted = conn.dialect.identifier_preparer.quote(name)
    execute(conn, f"CREATE VIEW {quoted} AS SELECT * FROM real_runs")
    with pytest.raises(InputError, match=f"^migration tracking table '{name}' is a view"):
        TrackingTable(name).read(conn)


def test_a_view_of_a_legacy_table_is_refused_too(conn: Connection) -> None:
    execute(conn, "CREATE TABLE old_runs (name VARCHAR(255) NOT NULL, run_on VARCHAR(40))",
            f"CREATE VIEW {TABLE} AS SELECT * FROM old_runs")
    with pytest.raises(InputError, match=f"^migration tracking table '{TABLE}' is a view"):
        TrackingTable().read(conn)


# --- statement progress -----------------------------------------------------------------


def test_statement_progress_is_recorded_updated_and_cleared(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.ensure_progress(conn)
        table.ensure_progress(conn)
        table.set_progress(conn, A, 0, 3, "down")
        table.set_progress(conn, B, 1, 2)
    with conn.begin():
        table.set_progress(conn, A, 2, 3)  # a later count keeps the direction
        table.set_progress(conn, B, 2, 4, "up")
    assert progress(table, conn) == {A: StatementProgress(A, 2, 3, "down"),
                                         B: StatementProgress(B, 2, 4, "up")}
    with conn.begin():
        table.clear_progress(conn, A)
    assert progress(table, conn) == {B: StatementProgress(B, 2, 4, "up")}
    with conn.begin():  # the next run finds the table as it left it
        TrackingTable().ensure_progress(conn)
    assert progress(table, conn) == {B: StatementProgress(B, 2, 4, "up")}


def test_a_progress_table_from_before_rollbacks_reads_as_up_and_gets_its_direction(
        conn: Connection) -> None:
    table = created(conn)
    execute(conn, f"CREATE TABLE {PROGRESS} (migration_id VARCHAR(255) NOT NULL PRIMARY KEY, "
                  "statements_applied INTEGER NOT NULL, statements_total INTEGER NOT NULL)",
            f"INSERT INTO {PROGRESS} VALUES ('{A}', 1, 3)")
    assert progress(table, conn) == {A: StatementProgress(A, 1, 3, "up")}
    conn.commit()
    with conn.begin():
        table.ensure_progress(conn)
        table.set_progress(conn, B, 0, 1, "down")
    assert "direction" in columns(conn, PROGRESS)
    assert progress(table, conn) == {A: StatementProgress(A, 1, 3, "up"),
                                         B: StatementProgress(B, 0, 1, "down")}


def test_a_hand_edited_progress_row_refuses_the_read_naming_it(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.ensure_progress(conn)
    execute(conn, f"INSERT INTO {PROGRESS} VALUES ('{A}', 5, 3, 'up')")
    with pytest.raises(InputError, match="^" + re.escape(
            f"statement progress table '{PROGRESS}', row '{A}': statements_applied (5) is "
            "more than statements_total (3); nothing was run (fix or delete the row)") + "$"):
        progress(table, conn)


def test_a_half_upgraded_table_with_a_status_is_read_with_it(conn: Connection) -> None:
    execute(conn, f"CREATE TABLE {TABLE} (id VARCHAR(255) NOT NULL, run_on "
                  f"{'TEXT' if conn.dialect.name == 'sqlite' else 'TIMESTAMP'} NOT NULL, "
                  "status VARCHAR(20) NOT NULL, failure_reason TEXT NULL)",
            f"INSERT INTO {TABLE} (id, run_on, status, failure_reason) VALUES ('{A}', "
            f"'{LEGACY_RUN_ON}', 'failed', 'disk full')")
    row = read(TrackingTable(), conn)[A]
    assert (row.status, row.up_checksum, row.failure_reason) == (FAILED, UNKNOWN_CHECKSUM,
                                                                  "disk full")


def test_each_run_looks_at_the_progress_table_again(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.pin_schema(conn)
        table.ensure_progress(conn)
        table.set_progress(conn, A, 1, 2)
    table.unpin_schema()
    execute(conn, f"DROP TABLE {PROGRESS}")  # between runs, by hand
    with conn.begin():
        table.pin_schema(conn)  # the next run
        table.ensure_progress(conn)
        table.set_progress(conn, B, 0, 1)
    assert progress(table, conn) == {B: StatementProgress(B, 0, 1, "up")}


@pytest.mark.only_on("postgres")
def test_a_pinned_run_finds_its_tables_after_a_migration_emptied_the_search_path(
        conn: Connection) -> None:
    execute(conn, "CREATE SCHEMA app", "SET search_path TO app")
    table = created(conn)
    with conn.begin():
        table.ensure_progress(conn)  # left by an earlier run
        table.pin_schema(conn)
    assert table.quoted(conn) == f"app.{TABLE}"
    execute(conn, "SET search_path TO ''")  # what pg_dump output does
    with conn.begin():
        table.record(conn, A, IN_PROGRESS, UP, DOWN)
        table.ensure_progress(conn)
        table.set_progress(conn, A, 1, 2)
        table.set_status(conn, A, COMPLETED)
    assert [r.status for r in read(table, conn).values()] == [COMPLETED]
    table.unpin_schema()
    assert table.quoted(conn) == TABLE
    execute(conn, "SET search_path TO app")  # the next run starts where the first did
    assert progress(table, conn) == {A: StatementProgress(A, 1, 2, "up")}


def test_pinning_elsewhere_than_postgres_leaves_the_names_plain(conn: Connection) -> None:
    table = created(conn)
    with conn.begin():
        table.pin_schema(conn)
    if conn.dialect.name != "postgresql":
        assert table.schema is None
    assert table.quoted(conn).endswith(conn.dialect.identifier_preparer.quote(TABLE))


@pytest.mark.only_on("postgres")
def test_a_table_the_user_may_not_read_is_a_configuration_error(conn: Connection,
                                                                 db_url: str) -> None:
    created(conn)
    role = f"r_{uuid.uuid4().hex[:12]}"
    execute(conn, f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
    url = make_url(db_url).set(username=role, password="pw")
    engine = create_database_engine(url)
    try:
        with engine.connect() as other, pytest.raises(ConfigError, match=(
                f"^cannot read the migration tracking table '{TABLE}': permission denied for "
                f"table {TABLE}$")):
            TrackingTable().read(other)
    finally:
        engine.dispose()
        execute(conn, f"DROP ROLE {role}")


@pytest.mark.only_on("postgres")
def test_a_read_failing_for_another_reason_passes_the_databases_error_on(
        conn: Connection, db_url: str) -> None:
    created(conn)
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as holder:
            holder.exec_driver_sql(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
            conn.exec_driver_sql("SET lock_timeout = '50ms'")
            conn.commit()
            with pytest.raises(DBAPIError, match="lock timeout"):
                TrackingTable().read(conn)
            holder.rollback()
    finally:
        engine.dispose()
