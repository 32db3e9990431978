"""The gate-bypass suite: destructive migrations that must never pass the production gate.

Each case is a migration (or a rollback) that destroys rows, columns or tables of a seeded
database on a real server. For every case and every database it applies to:

The policy is the shipped production policy with ``refuse_irreversible`` off: the hazards
have no down script, and the refusal asked for here is the one for the data they destroy.

1. ``check --gate --env production`` must refuse it (exit 1 or 2) without a database;
2. ``migrate`` (or ``rollback``) with ``--env production --confirm production`` and no
   allow or ``--ack-backup`` must refuse it, leaving every seeded row as it was;
3. the control: the same run under ``--env development`` really does destroy data, so the
   case is a true destroyer and (1) and (2) could fail.

The cases are grouped by how they once got through: ordinary spellings, tables taken for
new ones, comments and strings the server reads differently, statements that destroy
without the usual words, routines and triggers run in the same migration, checks without
a dialect, and rollbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

import switchy_guard
from switchy_guard.runtime.db import create_database_engine
from tests.cli_helpers import run_cli, write_migration

PMS = ("sqlite", "postgres", "mysql")
PM = ("postgres", "mysql")
P = ("postgres",)
M = ("mysql",)
S = ("sqlite",)
PS = ("postgres", "sqlite")
MS = ("mysql", "sqlite")

SEED = (
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50), email VARCHAR(100))",
    "INSERT INTO users VALUES (1, 'ann', 'a@x.org'), (2, 'bob', 'b@x.org'), (3, 'cy', 'c@x.org')",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total INTEGER)",
    "INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20), (3, 3, 30)",
)
#: A table an earlier migration of the history creates and fills.
ACCOUNTS = ("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner VARCHAR(50));\n"
            "INSERT INTO accounts VALUES (1, 'ann'), (2, 'bob');\n")

SHIPPED_POLICIES = Path(switchy_guard.__file__).parent / "policies"
HAZARD_ID = "2024-02-01-000000_hazard"


@dataclass(frozen=True)
class Case:
    """One destructive migration, the databases it destroys on, and how it is run."""

    name: str
    dialects: tuple[str, ...]
    up: str
    #: Migrations applied (under development) before the hazard, as (up, down).
    history: tuple[tuple[str, str | None], ...] = ()
    #: "migrate": the hazard is a pending up; "rollback": the last history migration's
    #: down is the hazard, rolled back with --steps 1.
    run: str = "migrate"
    #: Whether ``check`` is told the dialect (a CI job may not say it).
    with_dialect: bool = True


CASES: list[Case] = []


def case(name: str, dialects: tuple[str, ...], up: str, **kwargs: Any) -> None:
    CASES.append(Case(name, dialects, up, **kwargs))


# --- Ordinary spellings: the rules' own words, in every form the servers accept ---------
case("drop-table", PMS, "DROP TABLE users;")
case("drop-table-if-exists", PMS, "DROP TABLE IF EXISTS users;")
case("drop-table-upper-case", PS, "DROP TABLE USERS;")
case("drop-table-double-quoted", PS, 'DROP TABLE "users";')
case("drop-table-backticks", MS, "DROP TABLE `users`;")
case("drop-table-cascade", PM, "DROP TABLE users CASCADE;")
case("drop-table-restrict", PM, "DROP TABLE users RESTRICT;")
case("drop-two-tables-second", PM, "DROP TABLE orders, users;")
case("drop-missing-then-real", PM, "DROP TABLE IF EXISTS nothere, users;")
case("drop-table-schema-public", P, "DROP TABLE public.users;")
case("drop-table-schema-main", S, "DROP TABLE main.users;")
case("drop-table-comment-between", PMS, "DROP /* x */ TABLE /* y */ users;")
case("drop-table-newlines", PMS, "DROP\nTABLE\n\n  users\n;")
case("drop-table-no-semicolon", PMS, "DROP TABLE users")
case("drop-table-after-select", PMS, "SELECT 1;\nDROP TABLE users;")
case("drop-table-tabs", PMS, "DROP\tTABLE\tusers;")
case("truncate", PM, "TRUNCATE users;")
case("truncate-table", PM, "TRUNCATE TABLE users;")
case("truncate-two-tables", P, "TRUNCATE orders, users;")
case("truncate-only", P, "TRUNCATE ONLY users;")
case("truncate-restart-identity", P, "TRUNCATE users RESTART IDENTITY CASCADE;")
case("delete-all", PMS, "DELETE FROM users;")
case("delete-lower-case", PMS, "delete from users;")
case("delete-where-1-eq-1", PMS, "DELETE FROM users WHERE 1=1;")
case("delete-where-true", PMS, "DELETE FROM users WHERE TRUE;")
case("delete-where-1", MS, "DELETE FROM users WHERE 1;")
case("delete-where-string-eq", PMS, "DELETE FROM users WHERE 'a' = 'a';")
case("delete-where-or-true", PMS, "DELETE FROM users WHERE id = 0 OR 1 = 1;")
case("delete-where-not-false", PMS, "DELETE FROM users WHERE NOT FALSE;")
case("delete-only", P, "DELETE FROM ONLY users;")
case("delete-alias", P, "DELETE FROM users AS u;")
case("delete-schema-public", P, "DELETE FROM public.users;")
case("delete-schema-main", S, "DELETE FROM main.users;")
case("delete-ignore", M, "DELETE IGNORE FROM users;")
case("delete-low-priority-quick", M, "DELETE LOW_PRIORITY QUICK FROM users;")
case("delete-order-limit", M, "DELETE FROM users ORDER BY id LIMIT 1000;")
case("delete-returning", PS, "DELETE FROM users RETURNING id;")
case("update-all", PMS, "UPDATE users SET name = NULL;")
case("update-all-two-columns", PMS, "UPDATE users SET name = NULL, email = NULL;")
case("update-where-true", PMS, "UPDATE users SET email = 'x' WHERE TRUE;")
case("update-only", P, "UPDATE ONLY users SET name = NULL;")
case("update-ignore", M, "UPDATE IGNORE users SET name = NULL;")
case("drop-column", PMS, "ALTER TABLE users DROP COLUMN email;")
case("drop-column-no-keyword", PM, "ALTER TABLE users DROP email;")
case("drop-column-if-exists", P, "ALTER TABLE users DROP COLUMN IF EXISTS email;")
case("drop-two-columns-second", PM, "ALTER TABLE users DROP COLUMN name, DROP COLUMN email;")
case("add-then-drop-column", PM, "ALTER TABLE users ADD COLUMN age INTEGER, DROP COLUMN email;")
case("drop-column-quoted", PS, 'ALTER TABLE "users" DROP COLUMN "email";')
case("drop-schema-cascade", P, "DROP SCHEMA archive CASCADE;")
case("drop-schema-if-exists", P, "DROP SCHEMA IF EXISTS archive CASCADE;")
case("alter-type-using", P, "ALTER TABLE users ALTER COLUMN email TYPE integer USING 0;")
case("alter-type-using-left", P,
     "ALTER TABLE users ALTER COLUMN name SET DATA TYPE varchar(1) USING left(name, 1);")
case("alter-ignore-modify", M, "ALTER IGNORE TABLE users MODIFY name CHAR(1);")
case("sql-mode-then-modify", M,
     "SET SESSION sql_mode = '';\nALTER TABLE users MODIFY name VARCHAR(1);")

# --- Existing tables taken for new ones -------------------------------------------------
case("if-not-exists-delete", PMS,
     "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);\nDELETE FROM users;")
case("if-not-exists-drop", PMS,
     "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);\nDROP TABLE users;")
case("if-not-exists-truncate", PM,
     "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY);\nTRUNCATE users;")
case("if-not-exists-update", PMS,
     "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name VARCHAR(50));\n"
     "UPDATE users SET name = NULL;")
case("if-not-exists-drop-column", PMS,
     "CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, email VARCHAR(100));\n"
     "ALTER TABLE users DROP COLUMN email;")
case("temp-shadow-delete-main", S,
     "CREATE TEMP TABLE users (id INTEGER);\nDELETE FROM main.users;")
case("temp-shadow-drop-main", S,
     "CREATE TEMP TABLE users (id INTEGER);\nDROP TABLE main.users;")
case("temp-shadow-delete-public", P,
     "CREATE TEMPORARY TABLE users (id INTEGER);\nDELETE FROM public.users;")
case("temp-shadow-drop-public", P,
     "CREATE TEMPORARY TABLE users (id INTEGER);\nDROP TABLE public.users;")
case("temp-dropped-then-real-delete", PMS,
     "CREATE TEMPORARY TABLE users (id INTEGER);\nDROP TABLE users;\nDELETE FROM users;")
case("other-schema-drop-public", P,
     "CREATE TABLE archive.users (id INTEGER);\nDROP TABLE public.users;")
case("other-schema-delete-unqualified", P,
     "CREATE TABLE archive.users (id INTEGER);\nDELETE FROM users;")
case("other-schema-truncate-public", P,
     "CREATE TABLE archive.users (id INTEGER);\nTRUNCATE public.users;")
case("new-schema-then-public", P,
     "CREATE SCHEMA fresh;\nCREATE TABLE fresh.users (id INTEGER);\nDROP TABLE public.users;")
case("drop-then-recreate", PMS,
     "DROP TABLE users;\nCREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(50), "
     "email VARCHAR(100));")
case("rebuild-without-copy", PMS,
     "CREATE TABLE users_new (id INTEGER PRIMARY KEY, name VARCHAR(50), email VARCHAR(100));\n"
     "DROP TABLE users;\nALTER TABLE users_new RENAME TO users;")
case("earlier-migration-delete", PMS, "DELETE FROM accounts;", history=((ACCOUNTS, None),))
case("earlier-migration-drop", PMS, "DROP TABLE accounts;", history=((ACCOUNTS, None),))
case("earlier-migration-truncate", PM, "TRUNCATE accounts;", history=((ACCOUNTS, None),))
case("earlier-migration-update", PMS, "UPDATE accounts SET owner = NULL;",
     history=((ACCOUNTS, None),))
case("earlier-migration-drop-column", PMS, "ALTER TABLE accounts DROP COLUMN owner;",
     history=((ACCOUNTS, None),))
case("earlier-if-not-exists-delete", PMS,
     "CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY);\nDELETE FROM accounts;",
     history=((ACCOUNTS, None),))

# --- Comments and strings the server reads differently ----------------------------------
case("hash-comment-hides-where", M, "DELETE FROM users # WHERE id = 1\n;")
case("dash-comment-hides-where", PMS, "DELETE FROM users -- WHERE id = 1\n;")
case("block-comment-hides-where", PMS, "DELETE FROM users /* WHERE id = 1 */;")
case("lone-cr-ends-comment", P, "SELECT 1 -- harmless\r; DROP TABLE users;\n")
case("lone-cr-not-a-comment-end", MS, "DELETE FROM users -- c\rWHERE id = 1\n;")
case("crlf-comment", PMS, "DELETE FROM users -- c\r\n;")
case("scs-off-hides-drop", P,
     "SET standard_conforming_strings = off;\nSELECT 'x\\''; DROP TABLE users; --';\n")
case("scs-off-session-to", P,
     "SET SESSION standard_conforming_strings TO off;\nSELECT 'x\\''; DROP TABLE users; --';\n")
case("scs-off-quoted-value", P,
     "SET standard_conforming_strings = 'off';\nSELECT 'x\\''; DROP TABLE users; --';\n")
case("scs-off-set-config", P,
     "SELECT set_config('standard_conforming_strings', 'off', false);\n"
     "SELECT 'x\\''; DROP TABLE users; --';\n")
case("e-string-backslash", P, "SELECT E'x\\''; DROP TABLE users; --';\n")
case("mysql-backslash-quote", M, "SELECT 'x\\''; DROP TABLE users; -- ';\n")
case("no-backslash-escapes", M,
     "SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nSELECT 'x\\'; DROP TABLE users; -- ';\n")
case("ansi-quotes", M,
     "SET sql_mode = 'ANSI_QUOTES';\nSELECT 1 AS \"x\\\"; DROP TABLE users; -- \";\n")
case("executable-comment", M, "/*! DROP TABLE users */;")
case("versioned-executable-comment", M, "/*!50000 DROP TABLE users */;")
case("mariadb-executable-comment", M, "/*M! DROP TABLE users */;")
case("mysql-double-dash-arithmetic", M, "SELECT 1--1; DROP TABLE users;")
case("unnested-comment", MS, "/* x /* y */ DROP TABLE users;")
case("sqlite-brackets", S, "DROP TABLE [users];")

# --- Destroyers without the usual words -------------------------------------------------
case("create-or-replace-table", M, "CREATE OR REPLACE TABLE users (id INTEGER PRIMARY KEY);")
case("create-or-replace-table-as", M, "CREATE OR REPLACE TABLE users AS SELECT 1 AS id;")
case("discard-tablespace", M, "ALTER TABLE users DISCARD TABLESPACE;")
case("writable-cte-delete", P, "WITH d AS (DELETE FROM users RETURNING *) SELECT count(*) FROM d;")
case("writable-cte-update", P, "WITH u AS (UPDATE users SET name = NULL RETURNING *) SELECT 1;")
case("delete-using", P, "DELETE FROM users USING orders;")
case("update-from", P, "UPDATE users SET name = NULL FROM orders;")
case("multi-table-delete", M, "DELETE users FROM users, orders;")
case("multi-table-delete-join", M, "DELETE users FROM users JOIN orders ON 1 = 1;")
case("multi-table-update", M, "UPDATE users, orders SET users.name = NULL;")
case("explain-analyze-delete", P, "EXPLAIN ANALYZE DELETE FROM users;")
case("mariadb-analyze-delete", M, "ANALYZE DELETE FROM users;")
case("prepare-execute-pg", P, "PREPARE d AS DELETE FROM users;\nEXECUTE d;")
case("prepare-execute-literal", M, "PREPARE s FROM 'DELETE FROM users';\nEXECUTE s;")
case("prepare-execute-variable", M,
     "SET @q = 'DROP TABLE users';\nPREPARE s FROM @q;\nEXECUTE s;")
case("execute-immediate-literal", M, "EXECUTE IMMEDIATE 'DROP TABLE users';")
case("execute-immediate-concat", M, "EXECUTE IMMEDIATE CONCAT('DROP TABLE ', 'users');")
case("do-execute-literal", P, "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$;")
case("do-execute-concat", P, "DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE users'; END $$;")
case("do-execute-format", P, "DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'users'); END $$;")
case("do-delete", P, "DO $$ BEGIN DELETE FROM users; END $$;")
case("do-tagged-truncate", P, "DO LANGUAGE plpgsql $x$ BEGIN TRUNCATE users; END $x$;")
case("begin-not-atomic", M, "BEGIN NOT ATOMIC DELETE FROM users; END;")

# --- Routines and triggers created and run in the same migration ------------------------
case("sql-function-called", P,
     "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM users $$;\n"
     "SELECT wipe();")
case("plpgsql-function-called", P,
     "CREATE OR REPLACE FUNCTION wipe() RETURNS void LANGUAGE plpgsql AS $$\n"
     "BEGIN DROP TABLE users; END $$;\nSELECT wipe();")
case("function-in-expression", P,
     "CREATE FUNCTION wipe() RETURNS integer LANGUAGE plpgsql AS $$\n"
     "BEGIN DELETE FROM users; RETURN 1; END $$;\n"
     "INSERT INTO orders VALUES (99, wipe(), 0);")
case("function-schema-qualified-call", P,
     "CREATE FUNCTION public.wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM users $$;\n"
     "SELECT public.wipe();")
case("function-performed-in-do", P,
     "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM users $$;\n"
     "DO $$ BEGIN PERFORM wipe(); END $$;")
case("procedure-called", P,
     "CREATE PROCEDURE wipe() LANGUAGE sql AS $$ DELETE FROM users $$;\nCALL wipe();")
case("procedure-begin-atomic", P,
     "CREATE PROCEDURE wipe() LANGUAGE sql BEGIN ATOMIC DELETE FROM users; END;\nCALL wipe();")
case("function-begin-atomic", P,
     "CREATE FUNCTION wipe() RETURNS integer LANGUAGE sql BEGIN ATOMIC DELETE FROM users; "
     "SELECT 1; END;\nSELECT wipe();")
case("pg-trigger-on-insert", P,
     "CREATE FUNCTION t() RETURNS trigger LANGUAGE plpgsql AS $$\n"
     "BEGIN DELETE FROM users; RETURN NEW; END $$;\n"
     "CREATE TRIGGER tr AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION t();\n"
     "INSERT INTO orders VALUES (9, 1, 1);")
case("pg-trigger-execute-procedure", P,
     "CREATE FUNCTION t() RETURNS trigger LANGUAGE plpgsql AS $$\n"
     "BEGIN UPDATE users SET name = NULL; RETURN NEW; END $$;\n"
     "CREATE TRIGGER tr BEFORE UPDATE ON orders FOR EACH ROW EXECUTE PROCEDURE t();\n"
     "UPDATE orders SET total = 0 WHERE id = 1;")
case("pg-rule-on-insert", P,
     "CREATE RULE r AS ON INSERT TO orders DO ALSO DELETE FROM users;\n"
     "INSERT INTO orders VALUES (9, 1, 1);")
case("mysql-procedure-block", M,
     "CREATE PROCEDURE wipe() BEGIN DELETE FROM users; END;\nCALL wipe();")
case("mysql-procedure-single", M, "CREATE PROCEDURE wipe() DELETE FROM users;\nCALL wipe();")
case("mysql-trigger-single", M,
     "CREATE TRIGGER tr AFTER INSERT ON orders FOR EACH ROW DELETE FROM users;\n"
     "INSERT INTO orders VALUES (9, 1, 1);")
case("mysql-trigger-block", M,
     "CREATE TRIGGER tr BEFORE UPDATE ON orders FOR EACH ROW BEGIN UPDATE users SET "
     "name = NULL; END;\nUPDATE orders SET total = 0 WHERE id = 1;")
case("sqlite-trigger-on-insert", S,
     "CREATE TRIGGER tr AFTER INSERT ON orders BEGIN DELETE FROM users; END;\n"
     "INSERT INTO orders VALUES (9, 1, 1);")
case("sqlite-temp-trigger-on-update", S,
     "CREATE TEMP TRIGGER tr BEFORE UPDATE ON orders BEGIN UPDATE users SET name = NULL; END;\n"
     "UPDATE orders SET total = 1 WHERE id = 1;")
case("sqlite-trigger-on-delete", S,
     "CREATE TRIGGER tr AFTER DELETE ON orders BEGIN DELETE FROM users; END;\n"
     "DELETE FROM orders WHERE id = 1;")

# --- A check that is not told the dialect -----------------------------------------------
case("no-dialect-executable-comment", M, "/*! DROP TABLE users */;", with_dialect=False)
case("no-dialect-mariadb-comment", M, "/*M! DROP TABLE users */;", with_dialect=False)
case("no-dialect-double-dash", M, "SELECT 1--1; DROP TABLE users;", with_dialect=False)
case("no-dialect-brackets", S, "DROP TABLE [users];", with_dialect=False)
case("no-dialect-backslash-quote", M, "SELECT 'x\\''; DROP TABLE users; -- ';\n",
     with_dialect=False)
case("no-dialect-standard-backslash", PS, "SELECT 'a\\'; DROP TABLE users; --';\n",
     with_dialect=False)
case("no-dialect-hash-comment", M, "DELETE FROM users # WHERE id = 1\n;", with_dialect=False)
case("no-dialect-unnested-comment", MS, "/* x /* y */ DROP TABLE users;", with_dialect=False)
case("no-dialect-lone-cr", P, "SELECT 1 -- harmless\r; DROP TABLE users;\n",
     with_dialect=False)
case("no-dialect-cr-in-comment", MS, "DELETE FROM users -- c\rWHERE id = 1\n;",
     with_dialect=False)
case("no-dialect-plain-drop", PMS, "DROP TABLE users;", with_dialect=False)
case("no-dialect-do-block", P, "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$;",
     with_dialect=False)
case("no-dialect-create-or-replace", M,
     "CREATE OR REPLACE TABLE users (id INTEGER PRIMARY KEY);", with_dialect=False)

# --- Rollbacks: the down script is what runs ---------------------------------------------
ADD_AGE = "ALTER TABLE orders ADD COLUMN note VARCHAR(10);\n"


def rollback_case(name: str, dialects: tuple[str, ...], down: str) -> None:
    case(name, dialects, "", history=((ADD_AGE, down),), run="rollback")


rollback_case("down-drop-table", PMS, "DROP TABLE users;")
rollback_case("down-delete", PMS, "DELETE FROM users;")
rollback_case("down-update", PMS, "UPDATE users SET name = NULL;")
rollback_case("down-truncate", PM, "TRUNCATE users;")
rollback_case("down-drop-column", PMS, "ALTER TABLE users DROP COLUMN email;")
rollback_case("down-drop-two", PMS, "ALTER TABLE orders DROP COLUMN note;\nDROP TABLE users;")
rollback_case("down-do-execute", P, "DO $$ BEGIN EXECUTE 'DROP TABLE users'; END $$;")
rollback_case("down-do-delete", P, "DO $$ BEGIN DELETE FROM users; END $$;")
rollback_case("down-writable-cte", P, "WITH d AS (DELETE FROM users RETURNING *) SELECT 1;")
rollback_case("down-create-or-replace", M, "CREATE OR REPLACE TABLE users (id INTEGER);")
rollback_case("down-begin-not-atomic", M, "BEGIN NOT ATOMIC DELETE FROM users; END;")
rollback_case("down-if-not-exists-delete", PMS,
              "CREATE TABLE IF NOT EXISTS users (id INTEGER);\nDELETE FROM users;")
rollback_case("down-executable-comment", M, "/*! DROP TABLE users */;")
rollback_case("down-sqlite-trigger", S,
              "CREATE TRIGGER tr AFTER DELETE ON orders BEGIN DELETE FROM users; END;\n"
              "DELETE FROM orders WHERE id = 1;")
rollback_case("down-lone-cr", P, "SELECT 1 -- x\r; DROP TABLE users;\n")


def _params() -> list[Any]:
    return [pytest.param(c, id=c.name, marks=pytest.mark.only_on(*c.dialects)) for c in CASES]


def _seed(url: str, kind: str) -> None:
    engine = create_database_engine(url)
    try:
        with engine.begin() as conn:
            for statement in SEED:
                conn.execute(text(statement))
            if kind == "postgres":
                conn.execute(text("CREATE SCHEMA archive"))
                conn.execute(text("CREATE TABLE archive.keep (id INTEGER PRIMARY KEY)"))
                conn.execute(text("INSERT INTO archive.keep VALUES (1), (2)"))
    finally:
        engine.dispose()


Snapshot = dict[str, Any]


def snapshot(url: str) -> Snapshot:
    """Every table's columns and rows (switchy-guard's own tables left out)."""
    engine = create_database_engine(url)
    found: Snapshot = {}
    try:
        inspector = inspect(engine)
        names = [n for n in inspector.get_table_names() if not n.startswith("__switchy")]
        if engine.dialect.name == "postgresql" and "archive" in inspector.get_schema_names():
            names += [f"archive.{n}" for n in inspector.get_table_names(schema="archive")]
        with engine.connect() as conn:
            for name in sorted(names):
                try:
                    rows = conn.execute(text(f"SELECT * FROM {name} ORDER BY id")).all()
                    found[name] = sorted(tuple(str(v) for v in row) for row in rows)
                except Exception as error:  # a discarded tablespace cannot be read
                    conn.rollback()
                    found[name] = f"unreadable: {type(error).__name__}"
    finally:
        engine.dispose()
    return found


def _write(root: Path, bypass: Case) -> None:
    for number, (up, down) in enumerate(bypass.history):
        write_migration(root, f"2024-01-0{number + 1}-000000_history", up, down)


def _policies(folder: Path) -> Path:
    """The shipped policies, production's refuse_irreversible switched off."""
    folder.mkdir()
    for path in SHIPPED_POLICIES.glob("*.toml"):
        content = path.read_text(encoding="utf-8")
        if path.stem == "production":
            content = content.replace("refuse_irreversible = true", "refuse_irreversible = false")
            assert "refuse_irreversible = false" in content
        (folder / path.name).write_text(content, encoding="utf-8")
    return folder


def _run(bypass: Case, root: Path, url: str, env: str) -> Any:
    gate = ["--policy-dir", root.parent / "policies", "--env", env]
    gate += ["--confirm", env] if env == "production" else []
    if bypass.run == "rollback":
        return run_cli("rollback", "--steps", "1", "-m", root, "-d", url, *gate)
    return run_cli("migrate", "-m", root, "-d", url, *gate)


@pytest.mark.parametrize("bypass", _params())
def test_destroyed_data_never_passes_the_production_gate(
    bypass: Case, db_kind: str, make_db_url: Callable[[], str], tmp_path: Path,
) -> None:
    root = tmp_path / "migrations"
    root.mkdir()
    policies = _policies(tmp_path / "policies")
    url = make_db_url()
    _seed(url, db_kind)
    _write(root, bypass)
    if bypass.history:
        applied = run_cli("migrate", "-m", root, "-d", url)
        assert applied.code == 0, applied.err
    if bypass.run == "migrate":
        write_migration(root, HAZARD_ID, bypass.up)
        check = ["check", "--gate", "--policy-dir", policies, "--env", "production", "-m", root,
                 "--no-cache"]
        if bypass.with_dialect:
            check += ["--dialect", db_kind]
        checked = run_cli(*check)
        assert checked.code in (1, 2), f"check --gate let it through:\n{checked.out}{checked.err}"

    before = snapshot(url)
    gated = _run(bypass, root, url, "production")
    assert snapshot(url) == before, f"production destroyed data:\n{gated.out}{gated.err}"
    assert gated.code != 0, gated.out + gated.err

    control = _run(bypass, root, url, "development")
    assert snapshot(url) != before, (
        f"the case destroys nothing on {db_kind}:\n{control.out}{control.err}")


def test_the_suite_holds_enough_cases() -> None:
    assert len(CASES) >= 150
    assert len({c.name for c in CASES}) == len(CASES)
