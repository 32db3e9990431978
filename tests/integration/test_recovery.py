"""mark-completed, mark-failed and retry: found first, locked, audited, confirmed."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from switchy_guard.runtime.db import create_database_engine, parse_url
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration

A = "2024-01-01-000000_a"
B = "2024-01-02-000000_b"


def audit(url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(parse_url(url))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT target, outcome, detail FROM __switchy_migrations_audit ORDER BY happened_at"
        ).fetchall()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_mark_completed_and_failed(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    common = ["-m", root, "-d", db_url]
    refused = run_cli("mark-completed", A, *common)
    assert refused.code == 1 and "pass --force" in refused.err
    assert run_cli("mark-completed", A, "--force", *common).code == 0
    failed = run_cli("mark-failed", B, "--reason", "half applied by hand", "--force", *common)
    assert failed.code == 0, failed.err
    state = Migrator(root, db_url).state()
    assert state.rows[A].status == "completed" and state.rows[B].status == "failed"
    assert state.rows[B].failure_reason == "half applied by hand"
    fixed = run_cli("mark-completed", B, "--force", *common)
    assert fixed.code == 0 and f"{B} recorded as completed (was failed)" in fixed.out
    assert Migrator(root, db_url).state().rows[B].status == "completed"
    again = run_cli("mark-completed", B, "--force", *common)
    assert again.code == 0 and f"{B} was already completed: unchanged" in again.out
    assert [(t, o) for t, o, _ in audit(db_url)] == [(A, "ok"), (B, "ok"), (B, "ok"), (B, "ok")]
    # --force marked B completed though its table b is missing: the journal says so.
    assert audit(db_url)[2][2] == "failed -> completed (--force: missing table b)"
    unknown = run_cli("mark-completed", "2099-01-01-000000_nope", "--force", *common)
    assert unknown.code == 2 and "unknown migration id" in unknown.err


def test_retry_reruns_only_a_failed_migration(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    folder = write_migration(root, B, "INSERT INTO missing VALUES (1);\n", "SELECT 1;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 1
    unconfirmed = run_cli("retry", B, *common)  # no terminal, no --force
    assert unconfirmed.code == 1 and "pass --force" in unconfirmed.err
    completed = run_cli("retry", A, "--force", *common)
    assert completed.code == 1 and "only a failed migration can be retried" in completed.err
    still = run_cli("retry", B, "--force", *common)
    assert still.code == 1 and "missing" in still.err
    (folder / "up.sql").write_text("CREATE TABLE b (id INTEGER);\n")
    fixed = run_cli("retry", B, "--force", *common)
    assert fixed.code == 0, fixed.err
    assert "retried 2024-01-02-000000_b" in fixed.out
    state = Migrator(root, db_url).state()
    assert state.rows[B].status == "completed"
    # The failed migrate is journaled too (target: its whole plan), then each retry,
    # the refused ones included (README: every retry, applied, failed or refused).
    assert [(t, o) for t, o, _ in audit(db_url)] == [
        (f"{A}, {B}", "failed"), (B, "refused"), (A, "refused"), (B, "failed"), (B, "ok")]
    gone = run_cli("retry", "2099-01-01-000000_nope", "--force", *common)
    assert gone.code == 2


def test_retry_refuses_while_a_migration_before_it_is_pending(tmp_path: Path,
                                                              db_url: str) -> None:
    """retry runs up to its migration: an earlier pending one (added out of order)
    would have been applied by a command that says it re-runs one failed migration."""
    root = tmp_path / "m"
    write_migration(root, B, "INSERT INTO missing VALUES (1);\n", "SELECT 1;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 1
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    refused = run_cli("retry", B, "--force", *common)
    assert refused.code == 1, refused
    assert (f"pending migrations sort before {B} ({A}), and a retry would apply them too; "
            f"apply them first (migrate --to {A})") in refused.err
    state = Migrator(root, db_url).state()
    assert A not in state.rows and state.rows[B].status == "failed"


def test_status_history_shows_runs_and_the_audit_journal(tmp_path: Path, db_url: str) -> None:
    import json

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, "SELECT * FROM nowhere;\n", "SELECT 1;\n")
    common = ["-m", root, "-d", db_url]
    empty = run_cli("status", "--history", *common)
    assert "Audit journal: empty" in empty.out
    run_cli("migrate", *common)
    run_cli("mark-completed", B, "--force", "--env", "staging", *common)
    text = run_cli("status", "--history", *common).out
    assert "Runs (oldest first):" in text and f"completed   {A}" in text
    assert "[staging/staging] switchy-guard mark-completed" in text
    assert "failed -> completed" in text
    data = json.loads(run_cli("status", "--history", "--format", "json", *common).out)
    assert [r["id"] for r in data["history"]] == [A, B]
    migrate, entry = data["audit"]
    assert migrate["command"].startswith("switchy-guard migrate")
    assert migrate["outcome"] == "failed" and migrate["policy"] == "development"
    assert migrate["plan_digest"] and migrate["duration_ms"] is not None
    assert entry["environment"] == "staging" and entry["target"] == B
    assert entry["policy"] == "staging"
    assert entry["happened_at"] and entry["os_user"] and entry["host"]


def test_an_audit_journal_from_the_first_release_gains_the_new_columns(
        tmp_path: Path, db_url: str) -> None:
    from switchy_guard.runtime.audit import AuditJournal
    from switchy_guard.runtime.db import create_database_engine

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    engine = create_database_engine(db_url)
    when = "TEXT" if engine.dialect.name == "sqlite" else "TIMESTAMP" if (
        engine.dialect.name == "postgresql") else "DATETIME(6)"
    with engine.begin() as conn:  # the table as the first release made it
        conn.exec_driver_sql(
            f"CREATE TABLE __switchy_migrations_audit (happened_at {when} NOT NULL, "
            "os_user VARCHAR(255) NOT NULL, host VARCHAR(255) NOT NULL, pid INTEGER NOT NULL, "
            "environment VARCHAR(64) NOT NULL, command VARCHAR(255) NOT NULL, target TEXT NULL,"
            " outcome VARCHAR(32) NOT NULL, detail TEXT NULL)")
        conn.exec_driver_sql(
            "INSERT INTO __switchy_migrations_audit VALUES ('2024-01-01 00:00:00', 'old', "
            "'h', 1, 'development', 'switchy-guard mark-completed', 'x', 'ok', NULL)")
    with engine.connect() as conn:
        (old,) = AuditJournal("__switchy_migrations").entries(conn)
    assert old.policy is None and old.duration_ms is None  # readable before the upgrade
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 0
    with engine.connect() as conn:
        entries = AuditJournal("__switchy_migrations").entries(conn)
    engine.dispose()
    assert entries[0].os_user == "old" and len(entries) == 2
    assert entries[1].policy == "development" and entries[1].outcome == "ok"
    assert entries[1].plan_digest and entries[1].duration_ms is not None


def test_mark_completed_keeps_the_row_it_updates(tmp_path: Path, db_url: str) -> None:
    """switchy_schema's mark_migration_completed (runner.rs) leaves a completed row alone
    and updates a failed or in-progress row in place, keeping run_on and the checksums it
    ran with: re-recording the current checksums would hide drift that switchy-migrate
    validate still reports."""
    from switchy_guard.runtime.tracking import TrackingTable

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    migrator = Migrator(root, db_url)
    tracking = TrackingTable()
    with migrator.engine.begin() as conn:
        tracking.ensure(conn)
        tracking.record(conn, A, "completed", "a" * 64, "b" * 64)
        tracking.record(conn, B, "failed", "c" * 64, "d" * 64, "boom")
        conn.exec_driver_sql("CREATE TABLE b (id INTEGER)")  # B finished by hand
    before = migrator.state().rows
    common = ["-m", root, "-d", db_url, "--force"]
    assert run_cli("mark-completed", A, *common).code == 0
    assert run_cli("mark-completed", B, *common).code == 0
    rows = Migrator(root, db_url).state().rows
    assert rows[A] == before[A]  # completed already: nothing changed, drift still shows
    assert rows[B].status == "completed" and rows[B].failure_reason is None
    assert (rows[B].up_checksum, rows[B].down_checksum) == ("c" * 64, "d" * 64)
    assert rows[B].run_on == before[B].run_on and rows[B].finished_on is not None
    assert [e.id for e in Migrator(root, db_url).state().drifted()] == [A, B]
    assert [d for _, _, d in audit(db_url)] == [
        "completed -> completed (already completed: unchanged)", "failed -> completed"]
    engine = create_engine(parse_url(db_url))
    with engine.connect() as conn:
        ids = sorted(r[0] for r in conn.exec_driver_sql("SELECT id FROM __switchy_migrations"))
    engine.dispose()
    assert ids == [A, B]


def test_a_partly_applied_failure_says_a_retry_starts_over(tmp_path: Path, db_url: str) -> None:
    """statements 1-2 applied, 3 failed (statement by statement, as every migration on
    MySQL): the refusal said only 'fix it and re-run with --retry-failed', which re-runs
    statements 1-2 (CREATE TABLE fails, an INSERT runs twice). It now says what stayed
    applied and that the retry starts from the first statement."""
    from tests.cli_helpers import run_cli, write_migration

    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_three",
                    "CREATE TABLE t1 (id INT);\nINSERT INTO t1 VALUES (1);\n"
                    "INSERT INTO nowhere VALUES (1);\n",
                    metadata="transactional = false\n")
    assert run_cli("migrate", "-m", root, "-d", db_url).code == 1
    refused = run_cli("migrate", "-m", root, "-d", db_url)
    assert refused.code == 1
    assert "after 2 of 3 statements were applied, which stay applied" in refused.err, refused.err
    assert "a re-run starts from its first statement" in refused.err, refused.err
    assert "--retry-failed --from-start" in refused.err, refused.err
    # Re-running it is refused until the person says the applied statements were undone:
    # the INSERT would otherwise run twice.
    for verb in (["migrate", "--retry-failed"], ["retry", "2024-01-01-000000_three"]):
        again = run_cli(*verb, "--force", "-m", root, "-d", db_url)
        assert again.code == 1, (verb, again)
        assert ("failed after 2 of 3 statements were applied, which stay applied; a re-run "
                "starts from its first statement and would run them again: undo them by hand "
                "and re-run with --from-start") in again.err, again.err
    engine = create_database_engine(db_url)
    with engine.begin() as conn:  # undone by hand, and the failing statement fixed
        conn.exec_driver_sql("DROP TABLE t1")
    engine.dispose()
    (root / "2024-01-01-000000_three" / "up.sql").write_text(
        "CREATE TABLE t1 (id INT);\nINSERT INTO t1 VALUES (1);\nINSERT INTO t1 VALUES (2);\n")
    done = run_cli("retry", "2024-01-01-000000_three", "--from-start", "--force",
                   "-m", root, "-d", db_url)
    assert done.code == 0, done.err
    engine = create_database_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM t1").scalar() == 2
    engine.dispose()


def test_recovery_verbs_print_json_when_asked(tmp_path: Path) -> None:
    # --format json is a global option, but mark-completed, mark-failed, retry and lock
    # break printed their text line, which a script reading JSON cannot parse.
    import json

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    common = ["-m", root, "-d", f"sqlite:///{tmp_path / 'app.db'}", "--format", "json",
              "--force"]
    first = run_cli("mark-completed", A, *common)  # may start a new database
    assert first.code == 0, first.err
    assert json.loads(first.out) == {"id": A, "status": "completed", "previous": "pending"}
    marked = run_cli("mark-failed", A, *common)
    assert marked.code == 0, marked.err
    assert json.loads(marked.out) == {"id": A, "status": "failed", "previous": "completed"}
    retried = run_cli("retry", A, *common)
    assert retried.code == 0, retried.err
    assert json.loads(retried.out) == {"retried": [A]}
    again = run_cli("mark-completed", A, *common)
    assert json.loads(again.out) == {"id": A, "status": "completed", "previous": "completed"}
    broken = run_cli("lock", "break", *common)
    assert broken.code == 0, broken.err
    assert "the migration lock is free" in json.loads(broken.out)["message"]
