"""The runner on real SQLite, PostgreSQL and MariaDB databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text

from switchy_guard import (
    All,
    CodeMigrations,
    ConfigError,
    Hooks,
    MigrationFailed,
    Migrator,
    Refused,
    Steps,
    UpTo,
)
from switchy_guard.model.checksum import file_checksum
from switchy_guard.runtime.tracking import TrackingTable
from tests.cli_helpers import write_migration as write

A = "2024-01-01-000000_create_items"
B = "2024-01-02-000000_add_price"
C = "2024-01-03-000000_seed_items"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    write(
        root,
        A,
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);\n",
        "DROP TABLE items;\n",
    )
    write(
        root,
        B,
        "ALTER TABLE items ADD COLUMN price INTEGER;\n",
        "ALTER TABLE items DROP COLUMN price;\n",
    )
    write(
        root,
        C,
        "INSERT INTO items (id, name, price) VALUES (1, 'semi;colon', 3);\n"
        "INSERT INTO items (id, name, price) VALUES (2, 'it''s 100%', 4);\n",
        "DELETE FROM items WHERE id IN (1, 2);\n",
    )
    return root


def rows(migrator: Migrator) -> list[tuple[str, str]]:
    with migrator.engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT id, status FROM {TrackingTable().name} ORDER BY id")
        return [(r[0], r[1]) for r in result]


def tables(migrator: Migrator) -> set[str]:
    with migrator.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_migrate_all_then_nothing_to_do(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    result = migrator.migrate()
    assert result.done == [A, B, C]
    assert rows(migrator) == [(A, "completed"), (B, "completed"), (C, "completed")]
    with migrator.engine.connect() as conn:
        names = [r[0] for r in conn.exec_driver_sql("SELECT name FROM items ORDER BY id")]
    assert names == ["semi;colon", "it's 100%"]
    assert Migrator(project, db_url).migrate().done == []


def test_tracking_rows_hold_checksums_and_times(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    migrator.migrate(Steps(1))
    state = migrator.state()
    row = state.rows[A]
    assert row.up_checksum == file_checksum((project / A / "up.sql").read_bytes())
    assert row.down_checksum == file_checksum((project / A / "down.sql").read_bytes())
    assert row.status == "completed" and row.failure_reason is None
    assert row.run_on is not None and row.finished_on is not None
    assert state.is_applied(A) and not state.is_applied(B)
    assert [m.id for m in state.pending()] == [B, C]
    assert [r.id for r in state.history()] == [A]


def test_tracking_table_columns_match_switchy_schema(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    migrator.migrate(Steps(1))
    with migrator.engine.connect() as conn:
        columns = inspect(conn).get_columns("__switchy_migrations")
    assert [c["name"] for c in columns] == [
        "id",
        "run_on",
        "finished_on",
        "up_checksum",
        "down_checksum",
        "status",
        "failure_reason",
    ]
    nullable = {c["name"]: c["nullable"] for c in columns}
    assert nullable == {
        "id": False,
        "run_on": False,
        "finished_on": True,
        "up_checksum": False,
        "down_checksum": False,
        "status": False,
        "failure_reason": True,
    }


def test_up_to_is_inclusive_and_steps_count_pending(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    assert migrator.migrate(UpTo(B)).done == [A, B]
    assert migrator.migrate(Steps(1)).done == [C]
    assert migrator.migrate(Steps(5)).done == []


def test_steps_counts_from_the_next_pending(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    migrator.migrate(Steps(1))
    # switchy_schema's fault: Steps(n) counting from the first migration would do nothing.
    assert migrator.migrate(Steps(1)).done == [B]


def test_unknown_up_to_id_is_an_error_and_nothing_runs(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    with pytest.raises(ConfigError, match="unknown migration id 'nope'"):
        migrator.migrate(UpTo("nope"))
    assert "items" not in tables(migrator)


def test_dry_run_writes_nothing(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    result = migrator.migrate(dry_run=True)
    assert result.dry_run and result.done == []
    assert result.plan.ids == [A, B, C]
    assert result.plan.steps[2].statements[0].text.startswith("INSERT INTO items")
    assert tables(migrator) == set()


def test_state_is_read_with_one_query(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    migrator.migrate()
    selects: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "__switchy_migrations" in statement:
            selects.append(statement)

    event.listen(migrator.engine, "before_cursor_execute", count)
    migrator.state()
    assert len(selects) == 1


def test_failure_is_recorded_with_context(tmp_path: Path, db_url: str, db_kind: str) -> None:
    root = tmp_path / "m"
    write(
        root,
        A,
        "CREATE TABLE items (id INTEGER PRIMARY KEY);\n"
        "INSERT INTO items (id) VALUES (1);\n"
        "\n"
        "INSERT INTO no_such_table (id) VALUES (1);\n",
    )
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    error = info.value
    assert error.migration_id == A
    assert error.line == 4
    assert f"{root}/{A}/up.sql:4" in error.one_line()
    assert "no_such_table" in error.reason
    state = migrator.state()
    assert state.rows[A].status == "failed"
    assert "no_such_table" in (state.rows[A].failure_reason or "")
    if db_kind == "mysql":
        # DDL commits implicitly: the report names what was applied.
        assert (error.applied_statements, error.total_statements) == (2, 3)
        assert "2 of 3 statements were applied" in error.one_line()
        assert "items" in tables(migrator)
    else:
        assert error.applied_statements is None
        assert "items" not in tables(migrator)


def test_failed_migration_needs_retry_failed_and_is_replaced(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    root = tmp_path / "m"
    write(root, A, "CREATE TABLE t1 (id INTEGER);\nINSERT INTO missing VALUES (1);\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed):
        migrator.migrate()
    with pytest.raises(Refused, match=r"failed earlier.*--retry-failed"):
        Migrator(root, db_url).migrate()
    if db_kind == "mysql":
        # Statement by statement: CREATE TABLE stayed. A re-run waits for the person's
        # word (from_start) that it was undone.
        with pytest.raises(Refused, match=r"1 of 2 statements were applied.*--from-start"):
            Migrator(root, db_url).migrate(retry_failed=True)
        with migrator.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE t1")
    write(root, A, "CREATE TABLE t1 (id INTEGER);\nINSERT INTO t1 VALUES (1);\n")
    fixed = Migrator(root, db_url)
    assert fixed.migrate(retry_failed=True, from_start=db_kind == "mysql").done == [A]
    assert rows(fixed) == [(A, "completed")]


def test_in_progress_row_blocks_until_forced(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    migrator.migrate(Steps(1))
    with migrator.engine.begin() as conn:
        TrackingTable().record(conn, B, "in_progress", "x" * 64, "y" * 64)
    with pytest.raises(Refused, match=f"{B} is in_progress"):
        migrator.migrate()
    assert rows(migrator) == [(A, "completed"), (B, "in_progress")]
    # --force re-runs it and replaces the row.
    result = Migrator(project, db_url).migrate(force=True)
    assert result.done == [B, C]
    assert rows(migrator) == [(A, "completed"), (B, "completed"), (C, "completed")]


def test_checksum_drift_is_refused_unless_forced(project: Path, db_url: str) -> None:
    Migrator(project, db_url).migrate(Steps(1))
    (project / A / "up.sql").write_text("CREATE TABLE items (id INTEGER);\n", encoding="utf-8")
    migrator = Migrator(project, db_url)
    assert [e.id for e in migrator.state().drifted()] == [A]
    with pytest.raises(Refused, match=f"checksum mismatch.*{A} \\(up\\)"):
        migrator.migrate()
    assert "price" not in {c["name"] for c in inspect(migrator.engine).get_columns("items")}
    result = Migrator(project, db_url).migrate(force=True)
    assert result.done == [B, C]
    assert any("checksum mismatch" in w for w in result.plan.warnings)


def test_rollback_steps_to_and_all(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url)
    migrator.migrate()
    assert migrator.rollback(Steps(1)).done == [C]
    assert migrator.rollback(UpTo(A)).done == [B]
    assert rows(migrator) == [(A, "completed")]
    migrator.migrate()
    assert migrator.rollback(All()).done == [C, B, A]
    assert rows(migrator) == []
    assert "items" not in tables(migrator)


def test_rollback_without_down_script_stops_before_anything_runs(
    project: Path, db_url: str
) -> None:
    (project / A / "down.sql").unlink()
    migrator = Migrator(project, db_url)
    migrator.migrate()
    with pytest.raises(Refused, match=f"no down script for {A}"):
        Migrator(project, db_url).rollback(All())
    assert len(rows(migrator)) == 3
    with migrator.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM items").scalar() == 2


def test_rollback_of_a_migration_missing_from_sources_is_refused(
    project: Path, db_url: str
) -> None:
    Migrator(project, db_url).migrate()
    for name in ("up.sql", "down.sql"):
        (project / C / name).unlink()
    (project / C).rmdir()
    migrator = Migrator(project, db_url)
    assert [e.id for e in migrator.state().missing()] == [C]
    with pytest.raises(Refused, match=f"missing from the sources: {C}"):
        migrator.rollback(Steps(1))


def test_a_missing_migration_blocks_only_the_rollbacks_that_would_undo_it(
    tmp_path: Path, db_url: str
) -> None:
    root = tmp_path / "m"
    for migration_id, table in ((A, "a"), (B, "b"), (C, "c")):
        write(root, migration_id, f"CREATE TABLE {table} (id INT);\n", f"DROP TABLE {table};\n")
    Migrator(root, db_url).migrate()
    for name in ("up.sql", "down.sql"):
        (root / B / name).unlink()
    (root / B).rmdir()  # B's files are gone; C was applied after it
    migrator = Migrator(root, db_url)
    with pytest.raises(Refused, match=f"missing from the sources: {B}"):
        migrator.rollback(UpTo(A))
    assert migrator.rollback(Steps(1)).done == [C]
    with pytest.raises(Refused, match=f"missing from the sources: {B}"):
        migrator.rollback(Steps(1))
    assert [e.id for e in migrator.state().applied()] == [A, B]


def test_non_transactional_migration_records_progress(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write(
        root,
        A,
        "CREATE TABLE t (id INTEGER);\nINSERT INTO t VALUES (1);\nINSERT INTO x VALUES (1);\n",
        metadata="transactional = false\n",
    )
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    assert (info.value.applied_statements, info.value.total_statements) == (2, 3)
    state = migrator.state()
    entry = state.get(A)
    assert entry is not None and entry.state == "failed"
    assert entry.progress is not None and entry.progress.statements_applied == 2
    with migrator.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM t").scalar() == 1


def test_hooks_run_in_order(project: Path, db_url: str) -> None:
    calls: list[str] = []
    hooks = Hooks(
        before_all=lambda plan: calls.append(f"before_all:{len(plan.steps)}"),
        before_each=lambda p: calls.append(f"before:{p.migration.id}"),
        after_each=lambda p, s: calls.append(f"after:{p.migration.id}"),
        after_all=lambda r: calls.append(f"after_all:{len(r.done)}"),
    )
    Migrator(project, db_url, hooks=hooks).migrate(Steps(2))
    assert calls == [
        "before_all:2",
        f"before:{A}",
        f"after:{A}",
        f"before:{B}",
        f"after:{B}",
        "after_all:2",
    ]


def test_on_error_hook_sees_the_failure(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write(root, A, "SELECT * FROM nowhere;\n")
    seen: list[str] = []
    hooks = Hooks(on_error=lambda p, e: seen.append(e.migration_id))
    with pytest.raises(MigrationFailed):
        Migrator(root, db_url, hooks=hooks).migrate()
    assert seen == [A]


def test_python_code_migrations(db_url: str) -> None:
    registry = CodeMigrations()

    def drop(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("DROP TABLE notes")

    @registry.migration("2024-01-01-000000_notes", down=drop)
    def create(conn) -> None:  # type: ignore[no-untyped-def]
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(20))")
        conn.execute(text("INSERT INTO notes (id, body) VALUES (:i, :b)"), {"i": 1, "b": "hi"})

    registry.add_sql(
        "2024-01-02-000000_more",
        "INSERT INTO notes (id, body) VALUES (2, 'x');",
        "DELETE FROM notes WHERE id = 2;",
    )
    migrator = Migrator(registry, db_url)
    assert migrator.migrate().done == ["2024-01-01-000000_notes", "2024-01-02-000000_more"]
    with migrator.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM notes").scalar() == 2
    assert migrator.rollback(All()).done == ["2024-01-02-000000_more", "2024-01-01-000000_notes"]
    assert "notes" not in tables(migrator)


def test_custom_table_name(project: Path, db_url: str) -> None:
    migrator = Migrator(project, db_url, table="__moosicbox_schema_migrations")
    migrator.migrate()
    assert "__moosicbox_schema_migrations" in tables(migrator)
    assert "__switchy_migrations" not in tables(migrator)


@pytest.mark.parametrize("name", ["bad-name", "x; DROP TABLE users", "1abc", "", "a" * 49])
def test_invalid_table_name_is_refused(project: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="invalid migration table name"):
        Migrator(project, "sqlite://", table=name)


def test_legacy_table_is_upgraded_in_place(project: Path, db_url: str, db_kind: str) -> None:
    migrator = Migrator(project, db_url)
    datetime_type = {"sqlite": "TEXT", "postgres": "TIMESTAMP", "mysql": "DATETIME"}[db_kind]
    with migrator.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE __switchy_migrations "
            f"(name TEXT NOT NULL, run_on {datetime_type} NOT NULL)"
        )
        conn.exec_driver_sql(
            f"INSERT INTO __switchy_migrations (name, run_on) VALUES ('{A}', '2023-05-01 10:00:00')"
        )
        conn.exec_driver_sql("CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50))")
    result = migrator.migrate()
    assert result.done == [B, C]
    state = migrator.state()
    assert state.rows[A].up_checksum == "0" * 64
    assert state.get(A) is not None and state.get(A).unknown_checksum  # type: ignore[union-attr]
    assert state.rows[A].status == "completed"
