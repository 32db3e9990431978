"""The gates on real databases: policy verdicts, confirmation, backups, journaling."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from switchy_guard.errors import Refused
from switchy_guard.gates.policy import PolicyChoice, load_policies, policy_from_mapping
from switchy_guard.gates.run import GateOptions, gated_run
from switchy_guard.model.plan import All
from switchy_guard.runtime.db import create_database_engine, parse_url
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration
from tests.db_helpers import journal, run_sql, tables

A, B, C = "2024-01-01-000000_create_users", "2024-01-02-000000_drop_nick", "2024-01-03-000000_c"
ALLOW_DROP = '[[allow]]\nrule = "drop-column"\nreason = "nick is unused since v2"\n'


def project(root: Path, *, allow: bool = True) -> None:
    """A table with data, then a migration dropping one of its columns."""
    write_migration(root, A, "CREATE TABLE users (id INTEGER PRIMARY KEY, nick VARCHAR(20));\n"
                             "INSERT INTO users (id, nick) VALUES (1, 'a'), (2, NULL);\n",
                    "-- switchy-guard: allow drop-table -- rolling back the first "
                    "migration empties the database\nDROP TABLE users;\n",
                    metadata='[[allow]]\nrule = "non-transactional-ddl"\n'
                             'reason = "MySQL: a half-applied seed is re-run by hand"\n')
    write_migration(root, B, "ALTER TABLE users DROP COLUMN nick;\n",
                    "ALTER TABLE users ADD COLUMN nick VARCHAR(20);\n",
                    metadata=ALLOW_DROP if allow else None)


def made_by_hand(url: str, sql: str) -> None:
    """Run ``sql`` as a person applying a migration by hand before marking it completed
    (mark-completed checks that what the up creates exists)."""
    run_sql(url, sql)


def test_production_without_confirmation_applies_nothing(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    result = run_cli("migrate", "-m", root, "-d", db_url, "--env", "production",
                     "--ack-backup")
    assert result.code == 1
    assert result.error_lines[-1].startswith("error: policy production requires confirmation"
                                             " and there is no terminal")
    assert "--confirm production" in result.err
    assert "Gate: policy production" in result.out  # the impact summary came first
    assert "users" not in tables(db_url) and "__switchy_migrations" not in tables(db_url)
    (entry,) = journal(db_url)
    assert (entry["outcome"], entry["policy"], entry["environment"]) == (
        "refused", "production", "production")
    assert "confirmation" in str(entry["detail"]) and entry["plan_digest"]
    wrong = run_cli("migrate", "-m", root, "-d", db_url, "--env", "production",
                    "--ack-backup", "--confirm", "staging")
    assert wrong.code == 1 and "does not match the environment 'production'" in wrong.err
    assert "users" not in tables(db_url)


def test_production_with_confirmation_allow_and_backup_applies(tmp_path: Path,
                                                               db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    result = run_cli("migrate", "-m", root, "-d", db_url, "--env", "production",
                     "--confirm", "production", "--ack-backup")
    assert result.code == 0, result.err
    assert "Applied 2 migration(s)" in result.out
    (entry,) = journal(db_url)
    assert entry["outcome"] == "ok" and entry["target"] == f"{A}, {B}"
    assert entry["policy"] == "production" and isinstance(entry["duration_ms"], int)
    assert "s3cret" not in str(entry["command"]) and "--confirm production" in str(
        entry["command"])


def test_a_destructive_step_without_an_allow_is_refused_in_production(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root, allow=False)
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", "--to", A, *common).code == 0  # development: no gate on A
    result = run_cli("migrate", *common, "--env", "production", "--confirm", "production",
                     "--ack-backup")
    assert result.code == 1
    assert "SG302 drop-column" in result.err and "only with an allow and a reason" in result.err
    engine = create_database_engine(db_url)
    columns = {c["name"] for c in inspect(engine).get_columns("users")}
    engine.dispose()
    assert "nick" in columns  # nothing was applied
    # Under development the same plan only shows the finding.
    plan = run_cli("plan", *common, "--format", "json")
    gate = json.loads(plan.out)["gate"]
    assert gate["policy"] == "development" and not gate["refused"]
    assert gate["destructive"] is True


def test_the_gate_verdict_is_in_the_plan(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    common = ["-m", root, "-d", db_url, "--env", "production"]
    run_cli("migrate", "--to", A, "-m", root, "-d", db_url)
    data = json.loads(run_cli("plan", *common, "--format", "json").out)
    gate = data["gate"]
    assert gate["policy"] == "production" and gate["chosen_by"] == "--env production"
    checks = {(c["check"], c["outcome"]) for c in gate["checks"]}
    assert ("SG302 drop-column", "allowed") in checks
    assert ("backup", "refused") in checks and ("confirmation", "required") in checks
    allowed = next(c for c in gate["checks"] if c["outcome"] == "allowed")
    assert allowed["reason"] == "allowed by the migration: nick is unused since v2"
    assert data["migrations"][0]["allowed"][0]["reason"] == "nick is unused since v2"
    assert data["migrations"][0]["rows"][0]["non_null"] == 1  # the live figure is there too
    text = run_cli("plan", *common).out
    assert "Gate: policy production (chosen by --env production): REFUSED" in text
    assert "refused  backup:" in text
    markdown = run_cli("plan", *common, "--format", "markdown").out
    assert "**Gate: policy production" in markdown
    dry = run_cli("migrate", "--dry-run", *common, "--ack-backup")
    assert dry.code == 0 and "Gate: policy production (chosen by --env production): allowed" \
        in dry.out
    assert "required confirmation: type 'production'" in dry.out
    confirmed = run_cli("plan", *common, "--ack-backup", "--confirm", "production").out
    assert "passed   confirmation: --confirm production" in confirmed


def test_match_urls_wins_over_env(tmp_path: Path, db_url: str) -> None:
    from switchy_guard.gates.policy import database_target

    root = tmp_path / "m"
    project(root)
    policies = tmp_path / "policies"
    policies.mkdir()
    target = database_target(parse_url(db_url))
    (policies / "production.toml").write_text(
        (Path(load_policies(None).get("production").path or "")).read_text()
        .replace("match_urls = []", f"match_urls = [{json.dumps(target.upper())}]"))
    result = run_cli("migrate", "-m", root, "-d", db_url, "--env", "development",
                     "--policy-dir", policies, "--ack-backup")
    assert result.code == 1 and "policy production requires confirmation" in result.err
    assert "chosen by match_urls pattern" in result.out
    assert "users" not in tables(db_url)


def test_backup_command_runs_before_destructive_steps(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    run_cli("migrate", "--to", A, "-m", root, "-d", db_url)
    policies = tmp_path / "policies"
    policies.mkdir()
    marker = tmp_path / "backup.txt"
    (policies / "staging.toml").write_text(
        'backup = "command"\n'
        f'backup_command = "echo $SWITCHY_ENV > {marker}; exit 3"\n')
    common = ["-m", root, "-d", db_url, "--env", "staging", "--policy-dir", policies]
    failed = run_cli("migrate", *common)
    assert failed.code == 1 and "exited with 3" in failed.err
    assert marker.read_text().strip() == "staging"
    assert journal(db_url)[-1]["outcome"] == "refused"
    (policies / "staging.toml").write_text(
        'backup = "command"\nbackup_command = "test -n \\"$SWITCHY_DATABASE_URL\\""\n')
    assert run_cli("migrate", *common).code == 0
    assert journal(db_url)[-1]["outcome"] == "ok"


def test_the_backup_command_gets_a_url_its_tools_understand(tmp_path: Path, db_url: str,
                                                            db_kind: str) -> None:
    """SWITCHY_DATABASE_URL was SQLAlchemy's ``postgresql+psycopg://``, which pg_dump
    (libpq) reads as a database name: no backup command could use it."""
    root = tmp_path / "m"
    project(root)
    run_cli("migrate", "--to", A, "-m", root, "-d", db_url)
    policies = tmp_path / "policies"
    policies.mkdir()
    seen = tmp_path / "url.txt"
    (policies / "staging.toml").write_text(
        f'backup = "command"\nbackup_command = "printf %s \\"$SWITCHY_DATABASE_URL\\" > {seen}"\n')
    result = run_cli("migrate", "-m", root, "-d", db_url, "--env", "staging",
                     "--policy-dir", policies)
    assert result.code == 0, result.err
    url = seen.read_text()
    parsed = parse_url(db_url)
    assert url == parsed.set(drivername=parsed.get_backend_name()).render_as_string(
        hide_password=False)
    assert url.split("://")[0] in {"sqlite", "postgresql", "mysql", "mariadb"}
    if db_kind == "postgres":  # libpq itself takes it, as pg_dump would
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_failing_backup_command_never_shows_the_password(tmp_path: Path,
                                                            db_url: str) -> None:
    """A backup script that prints the password outside a URL (a libpq keyword string,
    PGPASSWORD=...): the refusal line and the journal had it in clear."""
    root = tmp_path / "m"
    project(root)
    run_cli("migrate", "--to", A, "-m", root, "-d", db_url)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "staging.toml").write_text(
        'backup = "command"\n'
        r'backup_command = "pw=${SWITCHY_DATABASE_URL#*://*:}; echo \"pg_dump: connecting '
        r'with PGPASSWORD=${pw%%@*} failed\" >&2; exit 2"' "\n")
    result = run_cli("migrate", "-m", root, "-d", db_url, "--env", "staging",
                     "--policy-dir", policies)
    assert result.code == 1 and "exited with 2: pg_dump: connecting with" in result.err
    password = parse_url(db_url).password
    entry = journal(db_url)[-1]
    assert entry["outcome"] == "refused"
    if password:  # SQLite has none to leak
        assert "PGPASSWORD=*** failed" in result.err
        assert password not in result.err + result.out + str(entry["detail"])


def test_a_confirm_naming_another_environment_is_refused_whatever_the_policy(
        tmp_path: Path, db_url: str) -> None:
    """``--confirm production`` with ``--env`` forgotten: the person believes the run goes
    to production, the development policy gates nothing. It used to run."""
    root = tmp_path / "m"
    project(root)
    common = ["-m", root, "-d", db_url]
    planned = run_cli("plan", *common, "--confirm", "production", "--format", "json")
    gate = json.loads(planned.out)["gate"]
    assert gate["refused"] is True and {"check": "confirmation", "outcome": "refused",
                                        "reason": "--confirm 'production' does not match "
                                                  "the environment 'development' "
                                                  "(--env development)",
                                        "migration": None} in gate["checks"]
    refused = run_cli("migrate", *common, "--confirm", "production")
    assert refused.code == 1, refused.err
    assert "--confirm 'production' does not match the environment 'development'" in (
        refused.err)
    assert "users" not in tables(db_url)
    assert journal(db_url)[-1]["outcome"] == "refused"
    assert run_cli("migrate", *common, "--to", A, "--confirm", "development").code == 0
    for verb in (["mark-completed", B, "--force"], ["lock", "break", "--force"]):
        wrong = run_cli(*verb, *common, "--confirm", "production")
        assert wrong.code == 1 and "does not match the environment" in wrong.err, verb
    migrator = Migrator(root, db_url)
    assert migrator.state().rows.keys() == {A}  # B was not marked
    migrator.engine.dispose()


@pytest.mark.parametrize("typed", ["production\n", "prod\n"])
def test_confirmation_typed_at_a_terminal(tmp_path: Path, db_url: str, typed: str) -> None:
    root = tmp_path / "m"
    project(root)
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        return typed

    migrator = Migrator(root, db_url)
    choice = load_policies(None).choose("production", None)
    options = GateOptions(choice, ask=ask, ack_backup=True)
    if typed.strip() == "production":
        assert gated_run(migrator, "up", All(), options).done == [A, B]
    else:
        with pytest.raises(Refused, match="not confirmed"):
            gated_run(migrator, "up", All(), options)
        assert "users" not in tables(db_url)
    assert "Type the environment's name (production)" in questions[0]
    migrator.engine.dispose()


def test_policy_refusals_over_state(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\n")  # no down script
    common = ["-m", root, "-d", db_url]
    strict = policy_from_mapping("strict", {"refuse_out_of_order": True,
                                            "refuse_irreversible": True})
    migrator = Migrator(root, db_url)
    with pytest.raises(Refused, match="refuses irreversible migrations"):
        gated_run(migrator, "up", All(), GateOptions(PolicyChoice(strict, "strict", "test")))
    assert run_cli("migrate", "--to", C, *common).code == 0
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n", "DROP TABLE b;\n")
    migrator = Migrator(root, db_url)
    with pytest.raises(Refused, match=f"pending {B} sort.* before the newest applied {C}"):
        gated_run(migrator, "up", All(), GateOptions(PolicyChoice(strict, "strict", "test")))
    migrator.engine.dispose()


def test_recovery_verbs_need_the_typed_confirmation_in_production(tmp_path: Path,
                                                                  db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    common = ["-m", root, "-d", db_url, "--env", "production"]
    refused = run_cli("mark-completed", A, "--force", *common)
    assert refused.code == 1 and "--confirm production" in refused.err
    assert "__switchy_migrations" not in tables(db_url) or not Migrator(
        root, db_url).state().rows
    made_by_hand(db_url, "CREATE TABLE a (id INTEGER)")
    done = run_cli("mark-completed", A, "--confirm", "production", *common)
    assert done.code == 0, done.err
    entry = journal(db_url)[-1]
    assert entry["policy"] == "production" and entry["target"] == A


def test_rollback_goes_through_the_same_gates(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    prod = [*common, "--env", "production"]
    # Rolling back B re-adds a column: nothing can be lost, so no backup is asked for.
    first = run_cli("rollback", "--steps", "1", *prod, "--confirm", "production")
    assert first.code == 0, first.err
    # Rolling back A drops users and its 2 rows: a backup is required first.
    refused = run_cli("rollback", "--all", *prod, "--confirm", "production")
    assert refused.code == 1 and "needs a backup" in refused.err
    assert "Gate: policy production" in refused.out and "drop table" in refused.out
    no_confirm = run_cli("rollback", "--all", *prod, "--ack-backup")
    assert no_confirm.code == 1 and "--confirm production" in no_confirm.err
    assert "users" in tables(db_url)  # nothing was rolled back
    done = run_cli("rollback", "--all", *prod, "--ack-backup", "--confirm", "production")
    assert done.code == 0, done.err
    assert "users" not in tables(db_url)
    outcomes = [e["outcome"] for e in journal(db_url)
                if str(e["command"]).startswith("switchy-guard rollback")]
    assert outcomes == ["ok", "refused", "refused", "ok"]


def test_a_plan_that_changed_under_the_lock_runs_nothing(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\n", "DROP TABLE c;\n")
    migrator = Migrator(root, db_url)
    # The gate approved only A; by the time the lock is taken the plan is A and C.
    with pytest.raises(Refused, match=f"plan changed while waiting for the lock: {C} was not"):
        migrator.migrate(approved=[A])
    assert not ({"a", "c"} & tables(db_url))
    assert migrator.migrate(approved=[A, C]).done == [A, C]
    migrator.engine.dispose()


def test_force_cannot_pass_dirty_state_where_the_policy_refuses_it(
        tmp_path: Path, db_url: str) -> None:
    from switchy_guard.runtime.tracking import TrackingTable

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    migrator = Migrator(root, db_url)
    table = TrackingTable()
    with migrator.engine.begin() as conn:
        table.ensure(conn)
        table.record(conn, A, "in_progress", "x", "y")
    migrator.engine.dispose()
    common = ["-m", root, "-d", db_url, "--force"]
    staging = run_cli("migrate", *common, "--env", "staging")
    assert staging.code == 1
    assert "dirty-state: --force over in_progress rows" in staging.err
    assert "a" not in tables(db_url)
    forced = run_cli("migrate", *common)  # development lets --force through, journaled
    assert forced.code == 0, forced.err
    entries = journal(db_url)
    assert [e["outcome"] for e in entries] == ["refused", "forced override", "ok"]
    assert "re-running" in str(entries[1]["detail"])


def test_force_cannot_pass_drift_where_the_policy_refuses_it(tmp_path: Path,
                                                             db_url: str) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    (folder / "down.sql").write_text("DROP TABLE a; -- edited after it ran\n")
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\n", "DROP TABLE c;\n")
    refused = run_cli("migrate", *common, "--force", "--env", "staging")
    assert refused.code == 1
    assert "checksum-drift: --force over changed applied migrations" in refused.err
    assert "c" not in tables(db_url)
    assert run_cli("migrate", *common, "--force").code == 0  # development allows it
    assert "c" in tables(db_url)


def _at_a_terminal(args: list[str], typed: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m switchy_guard ARGS`` with a pseudo-terminal as stdin, typing ``typed``."""
    import os
    import pty

    master, slave = pty.openpty()
    try:
        os.write(master, typed.encode())
        return subprocess.run([sys.executable, "-m", "switchy_guard", *args], stdin=slave,
                              capture_output=True, text=True, timeout=120, check=False)
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(("typed", "code"), [("production\n", 0), ("yes\n", 1)])
def test_the_environment_name_typed_at_a_real_terminal(tmp_path: Path, db_url: str,
                                                      typed: str, code: int) -> None:
    root = tmp_path / "m"
    project(root)
    result = _at_a_terminal(["migrate", "-m", str(root), "-d", db_url, "--env", "production",
                             "--ack-backup"], typed)
    assert result.returncode == code, result.stderr
    assert "Type the environment's name (production) to go on:" in result.stderr
    assert "Gate: policy production" in result.stdout  # the report came before the question
    assert ("users" in tables(db_url)) == (code == 0)


def test_recovery_yes_prompt_at_a_real_terminal(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    made_by_hand(db_url, "CREATE TABLE a (id INTEGER)")
    result = _at_a_terminal(["mark-completed", A, "-m", str(root), "-d", db_url], "yes\n")
    assert result.returncode == 0, result.stderr
    assert "Type 'yes' to go on:" in result.stderr
    assert Migrator(root, db_url).state().rows[A].status == "completed"


def test_a_refusal_in_json_mode_prints_the_verdict(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    result = run_cli("migrate", "-m", root, "-d", db_url, "--env", "production",
                     "--format", "json")
    assert result.code == 1 and result.error_lines[0].startswith("error: policy production")
    data = json.loads(result.out)
    assert data["refused"] is True and data["gate"]["refused"] is True
    assert {c["check"] for c in data["gate"]["checks"] if c["outcome"] == "refused"} == {
        "backup"}
    assert "users" not in tables(db_url)


def test_retry_goes_through_the_gates(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", "--to", A, *common).code == 0
    drop = root / B / "up.sql"
    good = drop.read_text()
    drop.write_text("ALTER TABLE nowhere DROP COLUMN nick;\n")
    assert run_cli("migrate", *common).code == 1  # B failed
    drop.write_text(good)
    prod = [*common, "--env", "production", "--confirm", "production"]
    refused = run_cli("retry", B, *prod)
    assert refused.code == 1 and "needs a backup" in refused.err  # dropping a column
    assert Migrator(root, db_url).state().rows[B].status == "failed"
    done = run_cli("retry", B, *prod, "--ack-backup")
    assert done.code == 0, done.err
    assert Migrator(root, db_url).state().rows[B].status == "completed"
    retries = [e["outcome"] for e in journal(db_url)
               if str(e["command"]).startswith("switchy-guard retry")]
    assert retries == ["refused", "ok"]


def test_ctrl_c_at_the_confirmation_prompt_is_journaled(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)

    def ask(question: str) -> str:
        raise KeyboardInterrupt

    migrator = Migrator(root, db_url)
    choice = load_policies(None).choose("production", None)
    with pytest.raises(KeyboardInterrupt):
        gated_run(migrator, "up", All(), GateOptions(choice, ask=ask, ack_backup=True))
    migrator.engine.dispose()
    assert "users" not in tables(db_url)
    (entry,) = journal(db_url)
    assert entry["outcome"] == "interrupted" and entry["policy"] == "production"
    from switchy_guard.runtime.lockstatus import lock_status

    engine = create_database_engine(db_url)
    assert not lock_status(engine, "__switchy_migrations").held  # released on the way out
    engine.dispose()


def test_a_policy_without_the_lock_runs_beside_a_holder(tmp_path: Path, db_url: str) -> None:
    from switchy_guard.runtime.lock import migration_lock

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "scratch.toml").write_text("require_lock = false\nlock_timeout = 0.2\n")
    (policies / "locked.toml").write_text("lock_timeout = 0.2\n")
    common = ["-m", root, "-d", db_url, "--policy-dir", policies]
    engine = create_database_engine(db_url)
    try:
        with migration_lock(engine, "__switchy_migrations", 5):
            waited = run_cli("migrate", *common, "--env", "locked")
            assert waited.code == 3 and "gave up after 0.2 s" in waited.err
            free = run_cli("migrate", *common, "--env", "scratch")
            assert free.code == 0, free.err
    finally:
        engine.dispose()
    assert "a" in tables(db_url)


def test_a_journal_that_cannot_be_written_warns_but_the_run_stands(tmp_path: Path,
                                                                  db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    engine = create_database_engine(db_url)
    with engine.begin() as conn:  # a view where the journal table should be: no INSERT
        conn.exec_driver_sql("CREATE VIEW __switchy_migrations_audit AS SELECT 1 AS x")
    engine.dispose()
    migrator = Migrator(root, db_url)
    choice = load_policies(None).choose("development", None)
    with pytest.warns(UserWarning, match="the audit journal could not be written"):
        done = gated_run(migrator, "up", All(), GateOptions(choice)).done
    migrator.engine.dispose()
    assert done == [A] and "a" in tables(db_url)
