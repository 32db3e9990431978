"""Statements that destroy without saying DROP/DELETE/TRUNCATE, and routines or triggers a
migration creates and then runs, on the real servers.

Each case documents the hazard: under production, without an allow, the gate refuses the
migration (exit 1) and the table keeps its rows; with a reasoned allow and --ack-backup
it runs, and the server really destroys the rows (or the table).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from switchy_guard.runtime.db import create_database_engine
from tests.cli_helpers import run_cli, write_migration

BASE = "2024-01-01-000000_users"
HAZARD = "2024-01-02-000000_hazard"
SEED = ("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(50));\n"
        "INSERT INTO users (id, email) VALUES (1, 'a'), (2, 'b');\n")
MYSQL_ALLOW = ('[[allow]]\nrule = "non-transactional-ddl"\n'
               'reason = "MySQL: a half-applied step is re-run by hand"\n')

# (database kind, up script with {allow} before the destroying statement, rule, why)
CASES = [
    ("sqlite", "CREATE TABLE audit (id INTEGER);\n"
               "CREATE TRIGGER wipe AFTER INSERT ON audit BEGIN DELETE FROM users; END;\n"
               "{allow}INSERT INTO audit VALUES (1);\n",
     "delete-without-where", "a trigger created and fired in the migration"),
    ("sqlite", "{allow}DELETE FROM users WHERE 1 = 1;\n", "delete-without-where",
     "a constant WHERE"),
    ("sqlite", "{allow}REPLACE INTO users (id) VALUES (1);\n", "update-without-where",
     "REPLACE deletes the row it repeats: its email is gone"),
    ("postgres", "CREATE FUNCTION purge() RETURNS void AS $$ DELETE FROM users $$ "
                 "LANGUAGE sql;\n{allow}SELECT purge();\n",
     "delete-without-where", "a SQL function created and called"),
    ("postgres", "CREATE PROCEDURE purge() LANGUAGE sql BEGIN ATOMIC DELETE FROM users; "
                 "END;\n{allow}CALL purge();\n",
     "delete-without-where", "a BEGIN ATOMIC procedure created and called"),
    ("postgres", "CREATE TABLE audit (id int);\n"
                 "CREATE FUNCTION wipe() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                 "BEGIN DELETE FROM users; RETURN NEW; END $$;\n"
                 "CREATE TRIGGER wipe AFTER INSERT ON audit FOR EACH ROW "
                 "EXECUTE FUNCTION wipe();\n{allow}INSERT INTO audit VALUES (1);\n",
     "delete-without-where", "a trigger's PL/pgSQL function fired by an INSERT"),
    ("postgres", "{allow}EXPLAIN ANALYZE DELETE FROM users;\n", "delete-without-where",
     "EXPLAIN ANALYZE runs the DELETE"),
    # SQL built at run time in a body cannot be read: SG603, which production refuses.
    ("postgres", "CREATE PROCEDURE purge(t text) LANGUAGE plpgsql AS $$\n"
                 "BEGIN EXECUTE format('DELETE FROM %I', t); END $$;\n"
                 "{allow}CALL purge('users');\n",
     "unparseable-statement", "dynamic SQL in a procedure created and called"),
    ("mysql", "CREATE PROCEDURE purge_any()\nBEGIN\n  SET @s = 'DELETE FROM users';\n"
              "  PREPARE s FROM @s;\n  EXECUTE s;\nEND;\n{allow}CALL purge_any();\n",
     "unparseable-statement", "PREPARE FROM a variable in a procedure created and called"),
    ("mysql", "{allow}CREATE OR REPLACE TABLE users (id INTEGER PRIMARY KEY);\n",
     "drop-table", "MariaDB's CREATE OR REPLACE TABLE drops the old table"),
    ("mysql", "{allow}ALTER TABLE users DISCARD TABLESPACE;\n", "drop-table",
     "DISCARD TABLESPACE deletes the data file"),
    ("mysql", "CREATE PROCEDURE purge_users()\nBEGIN\n  DELETE FROM users;\nEND;\n"
              "{allow}CALL purge_users();\n", "delete-without-where",
     "a MariaDB procedure created and called"),
    ("mysql", "CREATE TABLE audit (id INT);\n"
              "CREATE TRIGGER wipe AFTER INSERT ON audit FOR EACH ROW DELETE FROM users;\n"
              "{allow}INSERT INTO audit VALUES (1);\n",
     "delete-without-where", "a MariaDB trigger fired by an INSERT"),
]


def intact_rows(url: str) -> int | None:
    """Rows of ``users`` with their email, or None when the table cannot be read."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(
                text("SELECT COUNT(*) FROM users WHERE email IS NOT NULL")).scalar_one())
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("up", "rule"),
    [pytest.param(up, rule, id=f"{kind}-{n}", marks=pytest.mark.only_on(kind))
     for n, (kind, up, rule, _) in enumerate(CASES)],
)
def test_production_refuses_a_hidden_destroyer_until_it_is_allowed(
        tmp_path: Path, db_url: str, db_kind: str, up: str, rule: str) -> None:
    root = tmp_path / "m"
    metadata = MYSQL_ALLOW if db_kind == "mysql" else None
    write_migration(root, BASE, SEED, "DROP TABLE users;\n", metadata=metadata)
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    assert intact_rows(db_url) == 2
    write_migration(root, HAZARD, up.format(allow=""), "SELECT 1;\n", metadata=metadata)
    production = [*common, "--env", "production", "--confirm", "production", "--ack-backup"]
    refused = run_cli("migrate", *production)
    assert refused.code == 1, refused.out + refused.err
    assert rule in refused.err
    assert intact_rows(db_url) == 2
    allow = f"-- switchy-guard: allow {rule} -- reviewed: the rows are disposable\n"
    write_migration(root, HAZARD, up.format(allow=allow), "SELECT 1;\n", metadata=metadata)
    applied = run_cli("migrate", *production)
    assert applied.code == 0, applied.out + applied.err
    # The server destroyed rows (REPLACE: the replaced row's email), or the whole table.
    assert (intact_rows(db_url) or 0) < 2
