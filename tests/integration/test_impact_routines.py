"""The plan's impact report counts what routines, triggers, rules and DO blocks the same
migration creates and runs: their DROP TABLE is in "drops", their DELETE in the rows."""

from __future__ import annotations

from pathlib import Path

import switchy_guard.gates.reports as impact
from switchy_guard.runtime.runner import Migrator
from tests.cli_helpers import write_migration

ROWS = 4

RUNS = {
    "sqlite": [
        "CREATE TABLE log (id INTEGER);\n"
        "CREATE TRIGGER wipe AFTER INSERT ON log BEGIN DELETE FROM users; "
        "DROP TABLE audit; END;\n"
        "INSERT INTO log (id) VALUES (1);\n",
    ],
    "postgres": [
        "CREATE FUNCTION wipe() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM users; DROP TABLE audit; END $$;\nSELECT wipe();\n",
        "CREATE TABLE log (id INTEGER);\n"
        "CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "DELETE FROM users; DROP TABLE audit; RETURN NEW; END $$;\n"
        "CREATE TRIGGER wipe AFTER INSERT ON log FOR EACH ROW EXECUTE FUNCTION wipe();\n"
        "INSERT INTO log (id) VALUES (1);\n",
        "CREATE TABLE log (id INTEGER);\n"
        "CREATE RULE wipe AS ON INSERT TO log DO ALSO DELETE FROM users;\n"
        "INSERT INTO log (id) VALUES (1);\nDO $$ BEGIN EXECUTE 'DROP TABLE audit'; END $$;\n",
    ],
    "mysql": [
        "CREATE PROCEDURE wipe() BEGIN DELETE FROM users; DROP TABLE audit; END;\n"
        "CALL wipe();\n",
        "CREATE TABLE log (id INTEGER);\n"
        "CREATE TRIGGER wipe AFTER INSERT ON log FOR EACH ROW DELETE FROM users;\n"
        "INSERT INTO log (id) VALUES (1);\n"
        "BEGIN NOT ATOMIC EXECUTE IMMEDIATE 'DROP TABLE audit'; END;\n",
    ],
}


def test_what_a_routine_trigger_rule_or_block_runs_is_in_the_impact(
        tmp_path: Path, make_db_url: object, db_kind: str) -> None:
    for number, script in enumerate(RUNS[db_kind]):
        db_url = make_db_url()  # type: ignore[operator]
        root = tmp_path / f"m{number}"
        values = ", ".join(f"({n})" for n in range(1, ROWS + 1))
        write_migration(root, "2024-01-01-000000_users",
                        "CREATE TABLE users (id INTEGER);\nCREATE TABLE audit (id INTEGER);\n"
                        f"INSERT INTO users (id) VALUES {values};\n"
                        "INSERT INTO audit (id) VALUES (1), (2);\n")
        Migrator(root, db_url).migrate()
        write_migration(root, "2024-01-02-000000_wipe", script)
        (step,) = impact.impact_report(Migrator(root, db_url)).migrations
        assert "table audit" in step.drops, (script, step.drops)
        rows = {(r.table, r.what, r.rows) for r in step.rows}
        assert ("users", "delete every row", ROWS) in rows, (script, rows)
        assert ("audit", "drop table", 2) in rows, (script, rows)
