"""On real databases: rollback refuses a down that undoes nothing, rollback --plan says
what a down leaves behind, and mark-completed checks that what the up creates exists."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import inspect

from switchy_guard.runtime.db import create_database_engine
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import run_cli, write_migration
from tests.db_helpers import run_sql

USERS = "2024-01-01-000000_users"
MANAGE = "2024-01-02-000000_add_manage"
PARTIAL = "2024-01-03-000000_partial"
DIESEL = "-- This file should undo anything in `up.sql`\n"


def columns(url: str, table: str) -> set[str]:
    engine = create_database_engine(url)
    try:
        inspector = inspect(engine)
        if table not in inspector.get_table_names():
            return set()
        return {c["name"] for c in inspector.get_columns(table)}
    finally:
        engine.dispose()


def project(root: Path, manage_down: str | None = DIESEL) -> None:
    write_migration(root, USERS, "CREATE TABLE users (id INTEGER);\n", "DROP TABLE users;\n")
    write_migration(root, MANAGE, "ALTER TABLE users ADD COLUMN manage INTEGER;\n",
                    manage_down)


def states(root: Path, url: str) -> dict[str, str]:
    return {i: r.status for i, r in Migrator(root, url).state().rows.items()}


def test_rollback_refuses_an_empty_down_by_name_as_a_missing_one(tmp_path: Path,
                                                                  db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    refused = run_cli("rollback", "--steps", "1", *common)
    assert refused.code == 1, refused.out
    assert MANAGE in refused.err and "the down script is empty" in refused.err
    assert "column users.manage" in refused.err and 'down = "noop"' in refused.err
    assert "nothing was rolled back" in refused.err
    # Nothing ran: the column is there, the row still completed, and a second migrate
    # has nothing to do (it used to fail on a duplicate column).
    assert "manage" in columns(db_url, "users")
    assert states(root, db_url) == {USERS: "completed", MANAGE: "completed"}
    assert run_cli("migrate", *common).code == 0
    # --all stops before the first step too, naming the empty down.
    everything = run_cli("rollback", "--all", *common)
    assert everything.code == 1 and MANAGE in everything.err
    assert columns(db_url, "users") == {"id", "manage"}
    planned = run_cli("rollback", "--steps", "1", "--plan", *common)
    assert planned.code == refused.code and MANAGE in planned.err
    assert "the down script is empty" in planned.err
    # The same exit code as a migration without any down script.
    (root / MANAGE / "down.sql").unlink()
    missing = run_cli("rollback", "--steps", "1", *common)
    assert missing.code == refused.code and f"no down script for {MANAGE}" in missing.err


def test_a_declared_no_op_down_rolls_back(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root)
    (root / MANAGE / "metadata.toml").write_text('down = "noop"\n')
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    done = run_cli("rollback", "--steps", "1", *common)
    assert done.code == 0, done.err
    assert states(root, db_url) == {USERS: "completed"}
    (root / MANAGE / "metadata.toml").unlink()
    (root / MANAGE / "down.sql").write_text("-- switchy-guard: noop-down -- v1 readers need it\n")
    assert run_cli("mark-completed", MANAGE, "--confirm", "development", *common).code == 0
    assert run_cli("rollback", "--steps", "1", *common).code == 0


def test_rollback_plan_says_what_a_partial_down_leaves_behind(tmp_path: Path,
                                                               db_url: str) -> None:
    root = tmp_path / "m"
    project(root, "ALTER TABLE users DROP COLUMN manage;\n")
    write_migration(root, PARTIAL,
                    "ALTER TABLE users ADD COLUMN a INTEGER;\n"
                    "ALTER TABLE users ADD COLUMN b INTEGER;\n"
                    "CREATE INDEX users_b ON users (b);\n",
                    "ALTER TABLE users DROP COLUMN a;\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    text = run_cli("rollback", "--steps", "2", "--plan", *common)
    assert text.code == 0, text.err
    assert "warning: up adds column users.b; down does not drop it" in text.out
    assert "warning: up adds index users_b on users; down does not drop it" in text.out
    assert "users.manage; down does not drop" not in text.out  # its down drops it
    assert f"{PARTIAL} (in a transaction; reversible)" in text.out \
        or f"{PARTIAL} (statement by statement; reversible)" in text.out
    as_json = run_cli("rollback", "--steps", "2", "--plan", "--format", "json", *common)
    data = json.loads(as_json.out)
    by_id = {m["id"]: m for m in data["migrations"]}
    assert by_id[MANAGE]["leaves_behind"] == []
    assert [(o["kind"], o["name"], o["table"]) for o in by_id[PARTIAL]["leaves_behind"]] == [
        ("column", "b", "users"), ("index", "users_b", "users")]
    assert by_id[PARTIAL]["leaves_behind"][0]["message"] == (
        "up adds column users.b; down does not drop it")
    assert columns(db_url, "users") == {"id", "manage", "a", "b"}  # a plan changes nothing


def test_mark_completed_checks_what_the_up_creates(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root, "ALTER TABLE users DROP COLUMN manage;\n")
    common = ["-m", root, "-d", db_url, "--confirm", "development"]
    no_table = run_cli("mark-completed", USERS, *common)
    assert no_table.code == 1
    assert f"cannot mark {USERS} completed" in no_table.err and "table users" in no_table.err
    run_sql(db_url, "CREATE TABLE users (id INTEGER)")  # applied by hand
    no_column = run_cli("mark-completed", MANAGE, *common)
    assert no_column.code == 1 and "missing from the database: column users.manage" in \
        no_column.err
    assert states(root, db_url) == {}
    # Where the objects exist, it passes; with --force it passes anyway, journaled.
    assert run_cli("mark-completed", USERS, *common).code == 0
    forced = run_cli("mark-completed", MANAGE, "--force", *common)
    assert forced.code == 0, forced.err
    assert states(root, db_url) == {USERS: "completed", MANAGE: "completed"}
    history = run_cli("status", "--history", "-m", root, "-d", db_url)
    assert "--force: missing column users.manage" in history.out
    assert history.out.count("--force: missing") == 1  # USERS was checked and found


def test_mark_completed_passes_when_the_objects_exist(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    project(root, "ALTER TABLE users DROP COLUMN manage;\n")
    write_migration(root, PARTIAL, "CREATE INDEX users_manage ON users (manage);\n"
                    "CREATE VIEW managers AS SELECT id FROM users;\n",
                    "DROP VIEW managers;\nDROP INDEX users_manage;\n")
    run_sql(db_url, "CREATE TABLE Users (id INTEGER, manage INTEGER)"
            if db_url.startswith("sqlite") else "CREATE TABLE users (id INTEGER, manage INTEGER)")
    common = ["-m", root, "-d", db_url, "--confirm", "development"]
    assert run_cli("mark-completed", USERS, *common).code == 0
    assert run_cli("mark-completed", MANAGE, *common).code == 0
    no_index = run_cli("mark-completed", PARTIAL, *common)
    assert no_index.code == 1
    assert "index users_manage on users, view managers" in no_index.err
    run_sql(db_url, "CREATE INDEX users_manage ON users (manage)",
            "CREATE VIEW managers AS SELECT id FROM users")
    done = run_cli("mark-completed", PARTIAL, *common)
    assert done.code == 0, done.err
    assert f"{PARTIAL} recorded as completed (was pending)" in done.out
