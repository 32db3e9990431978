"""The runner on SQL that only one database speaks, as a new user would write it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text

from switchy_guard import InputError, MigrationFailed, Migrator, Steps, UpTo
from switchy_guard.runtime.db import create_database_engine
from tests.cli_helpers import write_migration as write

A = "2024-01-01-000000_first"


def tables(migrator: Migrator) -> set[str]:
    with migrator.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


@pytest.mark.only_on("mysql")
def test_a_procedure_failing_after_a_select_fails_its_own_call(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A CALL returns the procedure's SELECT results first and its error after them: the
    error belongs to the CALL, not to the statement after it (nor to closing the cursor,
    which left the migration in_progress and exited as if the database were down)."""
    root = tmp_path / "m"
    write(root, A,
          "CREATE TABLE users (id INT PRIMARY KEY, n INT);\n"
          "DELIMITER //\n"
          "CREATE PROCEDURE boom()\n"
          "BEGIN\n"
          "  SELECT COUNT(*) FROM users;\n"
          "  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom inside';\n"
          "END//\n"
          "DELIMITER ;\n"
          "CALL boom();\n"
          "CREATE TABLE after_call (id INT);\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    error = info.value
    assert "boom inside" in error.reason
    assert error.line == 9 and error.statement == "CALL boom()"
    assert (error.applied_statements, error.total_statements) == (2, 4)
    assert migrator.state().rows[A].status == "failed"
    assert "after_call" not in tables(migrator)


SQLITE_PARENTS = (
    "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n"
    "CREATE TABLE posts (id INTEGER PRIMARY KEY,\n"
    "  user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);\n"
    "INSERT INTO users VALUES (1, 'a@b'), (2, 'c@d');\n"
    "INSERT INTO posts VALUES (1, 1, 'hi'), (2, 2, 'yo');\n"
)


def post_ids(migrator: Migrator) -> list[int]:
    with migrator.engine.connect() as conn:
        return [row[0] for row in conn.exec_driver_sql("SELECT id FROM posts ORDER BY id")]


@pytest.mark.only_on("sqlite")
def test_sqlite_foreign_keys_pragma_takes_effect_for_its_migration_only(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """Inside the runner's transaction SQLite ignored PRAGMA foreign_keys silently: the
    cascade the author asked for did not happen."""
    root = tmp_path / "m"
    write(root, A, SQLITE_PARENTS)
    write(root, "2024-01-02-000000_cascade",
          "PRAGMA foreign_keys = ON;\nDELETE FROM users WHERE id = 2;\n")
    # Runs after the one above in the same run: it must not inherit its pragma, or the
    # DROP TABLE of this rebuild would delete every post through the cascade.
    write(root, "2024-01-03-000000_rebuild",
          "CREATE TABLE new_users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
          "INSERT INTO new_users (id, email) SELECT id, email FROM users;\n"
          "DROP TABLE users;\n"
          "ALTER TABLE new_users RENAME TO users;\n")
    migrator = Migrator(root, db_url)
    plan = migrator.plan()
    assert all(step.transactional for step in plan.steps)
    migrator.migrate()
    assert post_ids(migrator) == [1]


@pytest.mark.only_on("sqlite")
def test_sqlite_twelve_step_rebuild_keeps_its_transaction(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """PRAGMA foreign_keys = OFF / ON around a rebuild run outside its transaction, and
    the rebuild stays atomic: a failure leaves the old table and its rows."""
    root = tmp_path / "m"
    write(root, A, SQLITE_PARENTS)
    rebuild = "2024-01-02-000000_rebuild"
    write(root, rebuild,
          "PRAGMA foreign_keys = OFF;\n"
          "CREATE TABLE new_users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
          "INSERT INTO new_users (id, email) SELECT id, email FROM users;\n"
          "DROP TABLE users;\n"
          "ALTER TABLE new_users RENAME TO no_such_table.users;\n"
          "PRAGMA foreign_keys = ON;\n")
    # An application's engine, enforcing foreign keys on every connection: the rebuild's
    # DROP TABLE users would delete every post through the cascade if the OFF were
    # ignored (as it was inside the transaction).
    engine = create_database_engine(db_url)
    event.listen(engine, "connect",
                 lambda dbapi, _record: dbapi.execute("PRAGMA foreign_keys = ON"))
    migrator = Migrator(root, engine)
    migrator.migrate(UpTo(A))
    assert [step.transactional for step in migrator.plan().steps] == [True]
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    assert info.value.line == 5
    assert {"users", "posts"} <= tables(migrator) and "new_users" not in tables(migrator)
    assert post_ids(migrator) == [1, 2]
    write(root, rebuild,
          "PRAGMA foreign_keys = OFF;\n"
          "CREATE TABLE new_users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n"
          "INSERT INTO new_users (id, email) SELECT id, email FROM users;\n"
          "DROP TABLE users;\n"
          "ALTER TABLE new_users RENAME TO users;\n"
          "PRAGMA foreign_keys = ON;\n")
    fixed = Migrator(root, engine)
    assert fixed.migrate(retry_failed=True).done == [rebuild]
    assert post_ids(fixed) == [1, 2]
    with engine.connect() as conn:  # the setting the engine gave its connections is kept
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.only_on("sqlite")
def test_sqlite_foreign_keys_pragma_between_statements_runs_statement_by_statement(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    root = tmp_path / "m"
    write(root, A, SQLITE_PARENTS + "PRAGMA foreign_keys = ON;\nDELETE FROM users WHERE id = 1;\n")
    migrator = Migrator(root, db_url)
    assert [step.transactional for step in migrator.plan().steps] == [False]
    migrator.migrate()
    assert post_ids(migrator) == [2]


@pytest.mark.only_on("sqlite", "postgres")
def test_transaction_control_in_a_transactional_migration_is_refused_before_running(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """On PostgreSQL the COMMIT made the first table permanent: a later failure left it
    behind while the migration was recorded as failed with nothing applied."""
    root = tmp_path / "m"
    write(root, A,
          "BEGIN;\nCREATE TABLE a (id INTEGER);\nCOMMIT;\n"
          "INSERT INTO nowhere VALUES (1);\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(InputError, match=r"up\.sql:1: `BEGIN` would end or nest") as info:
        migrator.migrate()
    assert "transactional = false" in info.value.one_line()
    assert "a" not in tables(migrator)
    assert A not in migrator.state().rows
    # Savepoints live inside the transaction: allowed.
    write(root, A,
          "CREATE TABLE a (id INTEGER);\nSAVEPOINT s;\nINSERT INTO a VALUES (1);\n"
          "ROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;\nINSERT INTO a VALUES (2);\n")
    fixed = Migrator(root, db_url)
    assert fixed.migrate().done == [A]
    with fixed.engine.connect() as conn:
        assert [r[0] for r in conn.exec_driver_sql("SELECT id FROM a")] == [2]


@pytest.mark.only_on("sqlite", "postgres")
def test_a_migration_controlling_its_transactions_runs_with_transactional_false(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    root = tmp_path / "m"
    write(root, A,
          "BEGIN;\nCREATE TABLE a (id INTEGER);\nCOMMIT;\n"
          "BEGIN;\nCREATE TABLE b (id INTEGER);\nINSERT INTO nowhere VALUES (1);\nCOMMIT;\n",
          metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    assert info.value.line == 6
    assert "a" in tables(migrator) and "b" not in tables(migrator)


def test_a_transaction_left_open_fails_the_migration(
    tmp_path: Path, db_url: str, db_kind: str
) -> None:
    """A BEGIN without its COMMIT: PostgreSQL dropped the transaction with the connection
    and the migration was recorded as completed with nothing of it applied."""
    root = tmp_path / "m"
    write(root, A, "CREATE TABLE k (id INTEGER);\nBEGIN;\nINSERT INTO k VALUES (1);\n",
          metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed, match="BEGIN without its COMMIT"):
        migrator.migrate()
    state = migrator.state()
    assert state.rows[A].status == "failed"
    progress = state.progress[A]
    assert (progress.statements_applied, progress.statements_total) == (1, 3)
    with migrator.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM k").scalar() == 0


@pytest.mark.only_on("postgres")
def test_a_failure_keeps_postgres_hint(tmp_path: Path, db_url: str) -> None:
    """PostgreSQL's HINT is often the fix: here, that the enum value needs a commit."""
    root = tmp_path / "m"
    write(root, A,
          "CREATE TYPE mood AS ENUM ('sad');\n"
          "ALTER TYPE mood ADD VALUE 'happy';\n"
          "CREATE TABLE moods (m mood DEFAULT 'happy');\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    assert 'unsafe use of new value "happy" of enum type mood' in info.value.reason
    assert "(hint: New enum values must be committed before they can be used.)" \
        in info.value.reason


@pytest.mark.only_on("mysql")
def test_a_mysql_error_reads_as_a_sentence(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write(root, A, "CREATE TABLE twice (id INT);\nCREATE TABLE twice (id INT);\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    assert info.value.reason.startswith("Table 'twice' already exists (MySQL error 1050)")


def test_status_text_says_what_a_failed_statement_by_statement_run_left(
    tmp_path: Path, db_url: str
) -> None:
    from tests.cli_helpers import run_cli

    root = tmp_path / "m"
    write(root, A, "CREATE TABLE kept (id INT);\nINSERT INTO nowhere VALUES (1);\n"
                   "CREATE TABLE never (id INT);\n",
          metadata="transactional = false\n")
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 1
    status = run_cli("status", "-m", root, "-d", db_url)
    assert (f"warning: {A} failed: " in status.out
            and "(1 of 3 statements were applied before the failure and stay applied)"
            in status.out), status.out


def test_migrate_json_says_what_ran_and_what_failed(tmp_path: Path, db_url: str) -> None:
    import json

    from tests.cli_helpers import run_cli

    root = tmp_path / "m"
    write(root, A, "CREATE TABLE first_one (id INT);\n")
    write(root, "2024-01-02-000000_second", "CREATE TABLE second_one (id INT);\n"
          "INSERT INTO nowhere VALUES (1);\n", metadata="transactional = false\n")
    result = run_cli("migrate", "-m", root, "-d", db_url, "--format", "json")
    assert result.code == 1
    assert result.error_lines[0].startswith("error: migration 2024-01-02-000000_second failed")
    data = json.loads(result.out)
    assert data["direction"] == "up" and data["done"] == [A]
    failed = data["failed"]
    assert (failed["id"], failed["line"], failed["statement"]) == (
        "2024-01-02-000000_second", 2, "INSERT INTO nowhere VALUES (1)")
    assert failed["file"].endswith("2024-01-02-000000_second/up.sql")
    assert (failed["statements_applied"], failed["statements_total"]) == (1, 2)


@pytest.mark.only_on("postgres")
@pytest.mark.parametrize("transactional", [True, False])
def test_a_search_path_set_by_a_migration_ends_with_it(
    tmp_path: Path, db_url: str, transactional: bool
) -> None:
    """pg_dump output sets the search_path for the session (``set_config(..., false)``):
    the runner's own tracking writes and the next migration must not run under it (they
    failed with 'relation "__switchy_migrations" does not exist' and a traceback, or
    created the next migration's tables nowhere)."""
    root = tmp_path / "m"
    meta = "" if transactional else "transactional = false\n"
    write(root, A,
          "SELECT pg_catalog.set_config('search_path', '', false);\n"
          "CREATE TABLE public.widgets (id int);\n", metadata=meta or None)
    write(root, "2024-01-02-000000_second",
          "SET search_path TO pg_catalog;\n"
          "CREATE TABLE public.gadgets (id int);\n", metadata=meta or None)
    write(root, "2024-01-03-000000_third", "CREATE TABLE plain (id int);\n")
    write(root, "2024-01-04-000000_fourth",
          "DO $$ BEGIN EXECUTE 'SET search_path TO pg_catalog'; END $$;\n",
          metadata=meta or None)
    write(root, "2024-01-05-000000_fifth", "CREATE TABLE plain2 (id int);\n")
    migrator = Migrator(root, db_url)
    migrator.migrate()
    assert {"widgets", "gadgets", "plain", "plain2"} <= tables(migrator)
    assert all(row.status == "completed" for row in migrator.state().rows.values())
    assert len(migrator.state().rows) == 5


@pytest.mark.only_on("postgres")
def test_a_search_path_a_function_sets_does_not_hide_the_tracking_table(
    tmp_path: Path, db_url: str
) -> None:
    """A SET the migration's text does not show (inside a function it calls) is not
    undone by RESET ALL; the runner's own tables stay found because they are named by
    schema during a run (without that: relation "__switchy_migrations" does not exist)."""
    root = tmp_path / "m"
    write(root, A,
          "CREATE FUNCTION empty_path() RETURNS void LANGUAGE sql AS "
          "$$ SELECT set_config('search_path', '', false) $$;\n")
    write(root, "2024-01-02-000000_call", "SELECT public.empty_path();\n")
    write(root, "2024-01-03-000000_after", "CREATE TABLE public.after_call (id int);\n")
    migrator = Migrator(root, db_url)
    assert len(migrator.migrate().done) == 3
    assert {row.status for row in migrator.state().rows.values()} == {"completed"}


@pytest.mark.only_on("mysql")
def test_lock_tables_in_a_migration_does_not_break_its_progress_record(
    tmp_path: Path, db_url: str
) -> None:
    """mysqldump output wraps its INSERTs in LOCK TABLES ... UNLOCK TABLES. The runner
    recorded each statement's progress on the migration's own session, where every table
    not locked is refused: the migration was left in_progress, half-applied, with exit 3
    ("was not locked with LOCK TABLES")."""
    root = tmp_path / "m"
    write(root, A,
          "CREATE TABLE users (id INT PRIMARY KEY);\n"
          "LOCK TABLES users WRITE;\n"
          "INSERT INTO users VALUES (1), (2);\n"
          "UNLOCK TABLES;\n"
          "CREATE TABLE after_unlock (id INT);\n")
    migrator = Migrator(root, db_url)
    migrator.migrate()
    assert migrator.state().rows[A].status == "completed"
    assert {"users", "after_unlock"} <= tables(migrator)


@pytest.mark.only_on("postgres")
def test_concurrently_runs_outside_a_transaction_even_with_comments_inside(
    tmp_path: Path, db_url: str
) -> None:
    """PostgreSQL refuses CREATE INDEX CONCURRENTLY in a transaction block: the runner
    must see it however the statement is written."""
    root = tmp_path / "m"
    write(root, A, "CREATE TABLE t (a int);\n")
    write(root, "2024-01-02-000000_index",
          "-- online, so writes go on\n"
          "CREATE /* no write lock */ INDEX\n  -- by a\n  CONCURRENTLY ix_t_a ON t (a);\n",
          "DROP INDEX CONCURRENTLY ix_t_a;\n")
    migrator = Migrator(root, db_url)
    migrator.migrate()
    with migrator.engine.connect() as conn:
        assert [i["name"] for i in inspect(conn).get_indexes("t")] == ["ix_t_a"]
    migrator.rollback(Steps(1))
    with migrator.engine.connect() as conn:
        assert inspect(conn).get_indexes("t") == []


def test_a_rollback_failing_part_way_leaves_the_migration_dirty(
    tmp_path: Path, db_url: str
) -> None:
    """A down script run statement by statement (here ``transactional = false``; every one
    on MySQL) that fails after its first statement leaves the migration neither applied
    nor rolled back. It was recorded ``failed`` with its down progress read as up
    statements: ``migrate`` offered ``--retry-failed`` (re-running the up over a half-
    dropped schema) and ``rollback`` skipped it to roll back the one before. Now it is
    ``in_progress``, both refuse, and status names the down statements that ran."""
    from tests.cli_helpers import run_cli

    root = tmp_path / "m"
    b = "2024-01-02-000000_second"
    write(root, A, "CREATE TABLE first_one (id INT);\n", "DROP TABLE first_one;\n")
    write(root, b, "CREATE TABLE t1 (id INT);\nCREATE TABLE t2 (id INT);\n",
          "DROP TABLE t2;\nDROP TABLE nowhere;\nDROP TABLE t1;\n",
          metadata="transactional = false\n")
    args = ("-m", root, "-d", db_url)
    assert run_cli("migrate", *args).code == 0
    failed = run_cli("rollback", "--steps", "1", *args)
    assert failed.code == 1 and "down.sql:2" in failed.err, failed.err
    migrator = Migrator(root, db_url)
    try:
        assert {"first_one", "t1"} <= tables(migrator) and "t2" not in tables(migrator)
        entry = migrator.state().get(b)
        assert entry is not None and entry.state == "in_progress", entry
    finally:
        migrator.engine.dispose()
    status = run_cli("status", *args)
    assert (f"{b} is in_progress: its rollback (failed: " in status.out
            and "1 of 3 down.sql statements had been applied: 1. `DROP TABLE t2`" in status.out
            and "failed, not applied: 2. `DROP TABLE nowhere`" in status.out), status.out
    again = run_cli("migrate", *args)
    assert again.code == 1 and f"migration {b} is in_progress" in again.err, again.err
    past = run_cli("rollback", "--steps", "1", *args)
    assert past.code == 1 and f"migration {b} is in_progress" in past.err, past.err
    migrator = Migrator(root, db_url)
    try:
        assert "first_one" in tables(migrator)  # the one before it was not rolled back
    finally:
        migrator.engine.dispose()


def test_a_progress_table_from_an_earlier_release_gains_its_direction(
    tmp_path: Path, db_url: str
) -> None:
    """The statement-progress table written before rollbacks were recorded has no
    ``direction`` column: its rows read as ``up``, and the next run adds the column."""
    root = tmp_path / "m"
    write(root, A, "CREATE TABLE first_one (id INT);\n", "DROP TABLE first_one;\n",
          metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    try:
        with migrator.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE TABLE __switchy_migrations_statements (migration_id VARCHAR(255) NOT "
                "NULL PRIMARY KEY, statements_applied INTEGER NOT NULL, statements_total "
                "INTEGER NOT NULL)")
            conn.exec_driver_sql(
                "INSERT INTO __switchy_migrations_statements VALUES ('old', 1, 2)")
        with migrator.engine.connect() as conn:
            old = migrator.tracking.read_progress(conn)["old"]
            assert (old.statements_applied, old.direction) == (1, "up")
        migrator.migrate()
        migrator.rollback(Steps(1))
        with migrator.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns(
                "__switchy_migrations_statements")}
            assert "direction" in columns
            assert migrator.tracking.read_progress(conn)["old"].direction == "up"
    finally:
        migrator.engine.dispose()


@pytest.mark.only_on("mysql")
def test_a_connection_the_server_drops_mid_run_is_one_error_line(
    tmp_path: Path, db_url: str
) -> None:
    """SQLAlchemy's pool printed a traceback ('Exception during reset or similar') when
    it could not roll back the connection the server had dropped."""
    import subprocess
    import sys
    import threading
    import time

    root = tmp_path / "m"
    write(root, A, "SELECT SLEEP(5);\n")
    admin = create_database_engine(db_url)

    def kill_the_run() -> None:
        deadline = time.monotonic() + 20
        with admin.connect() as conn:
            while time.monotonic() < deadline:
                ids = conn.execute(text(
                    "SELECT id FROM information_schema.processlist WHERE info = :query"),
                    {"query": "SELECT SLEEP(5)"}).scalars().all()
                if ids:
                    conn.exec_driver_sql(f"KILL {ids[0]}")
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=kill_the_run)
    killer.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "switchy_guard", "migrate", "-m", str(root), "-d", db_url],
            capture_output=True, text=True, timeout=60, check=False)
    finally:
        killer.join()
        admin.dispose()
    assert done.returncode in (1, 3), done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr and "s3cret-pw" not in done.stderr


def test_statements_a_failed_transaction_rolled_back_are_not_reported_applied(
    tmp_path: Path, db_url: str
) -> None:
    """Run statement by statement, a migration's own BEGIN ... COMMIT that fails inside
    is rolled back: the error said the statements before the failure stayed applied
    (2 of 4), while the progress record and the data said none did."""
    root = tmp_path / "m"
    write(root, A, "CREATE TABLE t (id INTEGER);\n")
    write(root, "2024-01-02-000000_move",
          "BEGIN;\nINSERT INTO t VALUES (1);\nINSERT INTO missing VALUES (1);\nCOMMIT;\n",
          metadata="transactional = false\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(MigrationFailed) as info:
        migrator.migrate()
    assert "(0 of 4 statements were applied before the failure" in info.value.one_line()
    with migrator.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM t").scalar() == 0
    entry = migrator.state().get("2024-01-02-000000_move")
    assert entry is not None and entry.progress is not None
    assert entry.progress.statements_applied == 0
