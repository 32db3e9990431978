"""An empty or comment-only down for an up that changes the schema is irreversible (SG203
at warning), unless a no-op is declared; what an up creates and a down leaves behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.discovery import DirectoryMigrations
from switchy_guard.errors import InputError
from switchy_guard.gates.evaluate import finding_refusals
from switchy_guard.gates.policy import load_policies
from switchy_guard.model.findings import Finding, Severity
from switchy_guard.model.migration import Migration, parse_metadata
from switchy_guard.sql.objects import (
    changes_schema,
    created_objects,
    dropped_objects,
    is_empty_script,
    left_behind,
    leftover_line,
    parse_script,
)
from tests.cli_helpers import run_cli, write_migration

ADD = "ALTER TABLE users ADD COLUMN manage boolean;\n"
DIESEL = "-- This file should undo anything in `up.sql`\n"


def mig(up: str, down: str | None, **kw: object) -> Migration:
    return Migration("2024-01-01-000000_a", up, down, "a", "b",  # type: ignore[arg-type]
                     up_path="m/a/up.sql", down_path="m/a/down.sql", **kw)


def findings(migration: Migration) -> list[Finding]:
    """The findings about its down script (SG203, SG900), not the SQL rules'."""
    return [f for f in validate([migration], None).findings if f.code in ("SG203", "SG900")]


@pytest.mark.parametrize("down", [
    "", "   \n\t\n", DIESEL, "-- can't migrate down\n", "/* nothing to undo */\n",
    "# can't migrate down\n", ";\n", "-- a\n\n-- b\n",
])
def test_an_empty_down_for_a_schema_change_is_irreversible(down: str) -> None:
    migration = mig(ADD, down)
    assert not migration.reversible and migration.irreversible == "empty"
    (finding,) = findings(migration)
    assert (finding.code, finding.severity) == ("SG203", Severity.WARNING)
    assert finding.message.startswith("the down script is empty: rolling back would leave "
                                      "column users.manage in place")
    assert 'down = "noop"' in finding.message and "noop-down" in finding.message
    assert finding.file == "m/a/down.sql"


def test_a_missing_down_stays_info() -> None:
    (finding,) = findings(mig(ADD, None))
    assert (finding.code, finding.severity) == ("SG203", Severity.INFO)
    assert finding.message == "no down script: it cannot be rolled back"


@pytest.mark.parametrize("up", [
    "", "UPDATE users SET manage = true;\n", "INSERT INTO t VALUES (1);\nDELETE FROM t;\n",
    "DO $$ BEGIN UPDATE t SET a = 1; END $$;\n", "SELECT 1;\n",
])
def test_a_data_only_up_with_an_empty_down_stays_a_no_op(up: str) -> None:
    migration = mig(up, DIESEL)
    assert migration.reversible
    assert findings(migration) == []


def test_a_block_that_may_change_the_schema_counts() -> None:
    assert changes_schema("DO $$ BEGIN EXECUTE 'ALTER TABLE t ADD c int'; END $$;", None)
    assert changes_schema("CREATE INDEX i ON t (a);", "postgres")
    assert not changes_schema("UPDATE t SET a = 1;", "postgres")


def test_a_down_with_statements_is_not_empty_even_if_partial() -> None:
    migration = mig(ADD + "ALTER TABLE users ADD COLUMN b int;\n",
                    "ALTER TABLE users DROP COLUMN manage;\n")
    assert migration.reversible and findings(migration) == []


def test_a_noop_down_comment_with_a_reason_declares_it() -> None:
    migration = mig(ADD, "-- switchy-guard: noop-down -- the column stays for v1 readers\n")
    assert migration.reversible and findings(migration) == []
    spaced = mig(ADD, DIESEL + "  --  Switchy-Guard:  noop-down  --  kept on purpose \n")
    assert spaced.reversible


def test_a_noop_down_comment_without_a_reason_declares_nothing() -> None:
    migration = mig(ADD, DIESEL + "-- switchy-guard: noop-down\n")
    assert not migration.reversible
    found = {f.code: f for f in findings(migration)}
    assert set(found) == {"SG203", "SG900"}
    assert found["SG900"].severity is Severity.ERROR
    assert (found["SG900"].file, found["SG900"].line) == ("m/a/down.sql", 2)
    assert "noop-down has no reason" in found["SG900"].message
    assert not mig(ADD, "-- switchy-guard: noop-down --   \n").reversible


def test_metadata_down_noop() -> None:
    assert parse_metadata('down = "noop"', "m/metadata.toml").noop_down is True
    assert parse_metadata("", "m/metadata.toml").noop_down is False
    for bad in ('down = "none"', "down = true", 'down = ["noop"]'):
        with pytest.raises(InputError, match="'down' must be \"noop\"") as raised:
            parse_metadata(bad, "m/metadata.toml")
        assert "m/metadata.toml" in str(raised.value)
    assert mig(ADD, DIESEL, noop_down=True).reversible
    assert mig(ADD, None, noop_down=True).reversible  # no down.sql at all: a no-op too


def test_metadata_down_noop_read_from_a_folder(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", ADD, DIESEL, metadata='down = "noop"\n')
    write_migration(root, "2024-01-02-000000_b", ADD.replace("manage", "b"), DIESEL)
    declared, empty = DirectoryMigrations(root).load()
    assert declared.reversible and declared.noop_down
    assert empty.irreversible == "empty"
    # The checksum of an empty or comment-only down is the file's, as switchy_schema has it.
    assert len(empty.down_checksum) == 64


def test_check_reports_an_empty_down_and_the_declaration_silences_it(tmp_path: Path) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, "2024-01-01-000000_manage", ADD, DIESEL)
    checked = run_cli("check", "-m", root, "--dialect", "postgres")
    assert "warning SG203 irreversible" in checked.out
    assert "rolling back would leave column users.manage in place" in checked.out
    assert run_cli("check", "-m", root, "--dialect", "postgres", "--fail-on",
                   "warning").code == 1
    (folder / "metadata.toml").write_text('down = "noop"\n')
    assert "SG203" not in run_cli("check", "-m", root, "--dialect", "postgres").out


def test_the_production_gate_says_how_to_declare_a_no_op() -> None:
    (finding,) = findings(mig(ADD, DIESEL))
    production = load_policies(None).get("production")
    (check,) = finding_refusals([finding], production)
    assert check.outcome == "refused"
    assert 'down = "noop"' in check.reason and "empty" in check.reason
    (missing,) = findings(mig(ADD, None))
    assert finding_refusals([missing], production)[0].reason.startswith("no down script")


# -- objects -------------------------------------------------------------------------


def left(up: str, down: str, dialect: str | None = None) -> list[str]:
    return [str(o) for o in left_behind(created_objects(parse_script(up, dialect)),
                                        dropped_objects(parse_script(down, dialect)))]


def test_what_an_up_creates() -> None:
    up = ("CREATE TABLE t (id int, name text);\nCREATE INDEX t_name ON t (name);\n"
          "ALTER TABLE users ADD COLUMN manage boolean, ADD COLUMN b int;\n"
          "CREATE UNIQUE INDEX users_b ON users (b);\nCREATE VIEW v AS SELECT 1;\n"
          "CREATE TYPE mood AS ENUM ('a');\nCREATE MATERIALIZED VIEW mv AS SELECT 1;\n"
          "CREATE TEMP TABLE scratch (a int);\nCREATE FUNCTION f() RETURNS int AS $$ "
          "SELECT 1 $$ LANGUAGE sql;\n")
    made = [str(o) for o in created_objects(parse_script(up, "postgres"))]
    assert made == ["table t", "column t.id", "column t.name", "index t_name on t",
                    "column users.manage", "column users.b", "index users_b on users",
                    "view v", "type mood", "materialized view mv", "function f"]
    # Columns and indexes of a table the up made are named through the table.
    assert left(up, "", "postgres") == [
        "table t", "column users.manage", "column users.b", "index users_b on users",
        "view v", "type mood", "materialized view mv", "function f"]


def test_what_a_down_leaves_behind() -> None:
    up = ADD + "ALTER TABLE users ADD COLUMN b int;\nCREATE INDEX users_b ON users (b);\n"
    assert left(up, "ALTER TABLE users DROP COLUMN manage;\n") == [
        "column users.b", "index users_b on users"]
    assert left(up, "DROP INDEX users_b;\nALTER TABLE users DROP COLUMN b, "
                    "DROP COLUMN manage;\n") == []
    # MySQL's DROP INDEX ... ON and ALTER TABLE ... DROP INDEX
    assert left(up, "DROP INDEX users_b ON users;\nALTER TABLE users DROP manage, DROP b;",
                "mysql") == []
    assert left(up, "ALTER TABLE users DROP INDEX users_b, DROP COLUMN manage, "
                    "DROP COLUMN b;", "mysql") == []
    # Dropping the table takes its columns and indexes with it (SQLite rebuilds so).
    rebuild = ("CREATE TABLE users_new (id int);\nINSERT INTO users_new SELECT id FROM users;\n"
               "DROP TABLE users;\nALTER TABLE users_new RENAME TO users;\n")
    assert left(up, rebuild, "sqlite") == []
    assert leftover_line(created_objects(parse_script(ADD, None))[0]) == (
        "up adds column users.manage; down does not drop it")


def test_what_the_up_made_and_removed_again_is_not_left() -> None:
    up = ("CREATE TABLE tmp_copy (id int);\nDROP TABLE tmp_copy;\n"
          "CREATE TABLE a (id int);\nALTER TABLE a RENAME TO b;\n"
          "ALTER TABLE users ADD COLUMN x int;\nALTER TABLE users RENAME COLUMN x TO y;\n")
    assert left(up, "") == ["table b", "column users.y"]
    assert left(up, "DROP TABLE b;\nALTER TABLE users DROP COLUMN y;") == []


def test_a_rebuild_in_the_up_creates_nothing() -> None:
    """A table dropped and replaced (rows copied, copy renamed) was there before: a down
    that does not drop it leaves nothing behind."""
    up = ("CREATE TABLE users_new (id int, manage boolean);\n"
          "INSERT INTO users_new SELECT id, false FROM users;\nDROP TABLE users;\n"
          "ALTER TABLE users_new RENAME TO users;\n")
    assert left(up, "UPDATE users SET manage = false;") == []
    assert left("DROP VIEW v;\nCREATE VIEW v AS SELECT 2;", "SELECT 1;") == []


def test_or_replace_is_undone_by_replacing_again_and_schemas_drop_everything() -> None:
    up = "CREATE OR REPLACE VIEW v AS SELECT 2;\nCREATE TABLE s.t (id int);"
    assert left(up, "CREATE OR REPLACE VIEW v AS SELECT 1;\nDROP TABLE s.t;") == []
    assert left(up, "SELECT 1;") == ["view v", "table s.t"]
    assert left("CREATE TABLE s.t (id int);\nCREATE VIEW s.v AS SELECT 1;",
                "DROP SCHEMA s CASCADE;") == []


def test_names_compare_as_loosely_as_a_database_may() -> None:
    assert left('ALTER TABLE "Users" ADD COLUMN manage int;',
                "ALTER TABLE users DROP COLUMN MANAGE;") == []
    assert left("CREATE TABLE public.t (id int);", "DROP TABLE t;") == []


def test_empty_script_reading() -> None:
    assert is_empty_script("") and is_empty_script("\ufeff\n") and is_empty_script(DIESEL)
    assert not is_empty_script("SELECT 1;") and not is_empty_script("-- x\nDROP TABLE t;")
    assert not is_empty_script("/* x */ DROP TABLE t")
