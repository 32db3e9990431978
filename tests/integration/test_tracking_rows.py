"""Hand-edited tracking rows: every verb that reads them stops with exit 2 and one line
naming the table and the row, and nothing runs.

Before this was checked, an unknown status (``COMPLETED``, ``applied``, empty, NULL)
crashed ``status`` with a traceback and made ``migrate`` skip the migration silently, a
NULL id made ``migrate`` run an applied migration again, and a tracking table replaced by
a view failed half-way through a run."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection

from switchy_guard.runtime.db import parse_url
from tests.cli_helpers import run_cli, write_migration
from tests.db_helpers import run_sql

A = "2024-01-01-000000_a"
B = "2024-01-02-000000_b"
TABLE = "__switchy_migrations"
PROGRESS = "__switchy_migrations_statements"


def _applied_a(tmp_path: Path, db_url: str) -> Path:
    """Migrations a and b; a applied, b pending."""
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    done = run_cli("migrate", "-m", root, "-d", db_url, "--steps", "1")
    assert done.code == 0, done.err
    return root


def _nullable(db_kind: str, column: str) -> list[str]:
    """Statements that let ``column`` of the tracking table hold NULL (a table an admin
    made by hand, without switchy_schema's NOT NULL)."""
    if db_kind == "postgres":
        return [f"ALTER TABLE {TABLE} ALTER COLUMN {column} DROP NOT NULL"]
    if db_kind == "mysql":
        return [f"ALTER TABLE {TABLE} MODIFY {column} TEXT NULL"]
    return [  # SQLite cannot drop a NOT NULL: the table is rebuilt without it
        f"CREATE TABLE copied AS SELECT * FROM {TABLE}",
        f"DROP TABLE {TABLE}",
        f"ALTER TABLE copied RENAME TO {TABLE}",
    ]


def _snapshot(db_url: str) -> tuple[list[str], list[tuple[object, ...]]]:
    engine = create_engine(parse_url(db_url))
    try:
        with engine.connect() as conn:
            tables = sorted(t.lower() for t in inspect(conn).get_table_names())
            rows = _rows(conn)
    finally:
        engine.dispose()
    return tables, rows


def _rows(conn: Connection) -> list[tuple[object, ...]]:
    result = conn.exec_driver_sql(f"SELECT id, status, up_checksum FROM {TABLE}")
    return sorted((tuple(row) for row in result), key=repr)


def _assert_refused(root: Path, db_url: str, *fragments: str) -> None:
    """status, migrate and check -d: exit 2, one line naming the problem, nothing run."""
    before = _snapshot(db_url)
    for verb in (["status"], ["migrate"], ["check", "--no-cache"]):
        result = run_cli(*verb, "-m", root, "-d", db_url)
        assert result.code == 2, (verb, result.code, result.out, result.err)
        assert len(result.error_lines) == 1, (verb, result.err)
        line = result.error_lines[0]
        assert line.startswith("error: ") and "Traceback" not in result.err
        for fragment in fragments:
            assert fragment in line, (verb, line)
    assert _snapshot(db_url) == before  # b not created, no row written or changed


@pytest.mark.parametrize("status", ["COMPLETED", "applied", "", " completed"])
def test_an_unknown_status_names_the_row(tmp_path: Path, db_url: str, status: str) -> None:
    root = _applied_a(tmp_path, db_url)
    run_sql(db_url, f"UPDATE {TABLE} SET status = '{status}'")
    _assert_refused(root, db_url, f"'{TABLE}', row '{A}'", f"status {status!r} is not one of")


def test_a_null_status_names_the_row(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = _applied_a(tmp_path, db_url)
    run_sql(db_url, *_nullable(db_kind, "status"), f"UPDATE {TABLE} SET status = NULL")
    _assert_refused(root, db_url, f"row '{A}'", "status NULL is not one of")


def test_a_null_id_names_the_row_by_number(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = _applied_a(tmp_path, db_url)
    # Without the check, migrate ran a (applied) again: "table a already exists".
    run_sql(db_url, *_nullable(db_kind, "id"), f"UPDATE {TABLE} SET id = NULL")
    _assert_refused(root, db_url, f"'{TABLE}', row 1 (in run_on order", "its id is NULL")


def test_an_empty_id_names_the_row(tmp_path: Path, db_url: str) -> None:
    root = _applied_a(tmp_path, db_url)
    run_sql(db_url, f"UPDATE {TABLE} SET id = ''")
    _assert_refused(root, db_url, "row 1 (in run_on order", "its id is empty")


@pytest.mark.parametrize(("kind", "applied", "problem"), [
    ("INTEGER", "-1", "statements_applied is negative (-1)"),
    ("VARCHAR(20)", "'two'", "statements_applied is 'two', not a whole number"),
])
def test_a_bad_statement_count_names_the_row(
    tmp_path: Path, db_url: str, kind: str, applied: str, problem: str
) -> None:
    root = _applied_a(tmp_path, db_url)
    # A run that died part way (in_progress) is what makes migrate read the counts.
    run_sql(
        db_url,
        f"DROP TABLE IF EXISTS {PROGRESS}",  # MySQL runs keep one already
        f"CREATE TABLE {PROGRESS} (migration_id VARCHAR(255) NOT NULL PRIMARY KEY, "
        f"statements_applied {kind} NOT NULL, statements_total INTEGER NOT NULL, "
        "direction VARCHAR(4) NOT NULL DEFAULT 'up')",
        f"INSERT INTO {PROGRESS} (migration_id, statements_applied, statements_total) "
        f"VALUES ('{A}', {applied}, 1)",
        f"UPDATE {TABLE} SET status = 'in_progress'",
    )
    _assert_refused(root, db_url, f"statement progress table '{PROGRESS}', row '{A}'", problem)


def test_a_tracking_table_replaced_by_a_view(tmp_path: Path, db_url: str) -> None:
    root = _applied_a(tmp_path, db_url)
    run_sql(
        db_url,
        f"CREATE TABLE kept AS SELECT * FROM {TABLE}",
        f"DROP TABLE {TABLE}",
        f"CREATE VIEW {TABLE} AS SELECT * FROM kept",
    )
    _assert_refused(root, db_url, f"migration tracking table '{TABLE}' is a view")
