"""Statements that destroy without the words DROP/DELETE/TRUNCATE, and routines or triggers
a migration creates and then runs: each is reported as what it does."""

from __future__ import annotations

import time

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.findings import Finding
from switchy_guard.model.migration import Migration

P, M, S = "postgres", "mysql", "sqlite"
SETUP = ("CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(255));\n"
         "CREATE TABLE orders (id INT, user_id INT);\n")


def found(sql: str, dialect: str | None, setup: str = SETUP) -> list[Finding]:
    existing = Migration("2024-01-01-000000_base", setup, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    return [f for f in validate([existing, migration], dialect, plan_ids={migration.id}).findings
            if f.code != "SG601"]


def codes(sql: str, dialect: str | None) -> list[str]:
    return [f.code for f in found(sql, dialect)]


# (dialects, statement, the rule it must fire, a look-alike that must stay quiet)
HIDDEN = [
    # MariaDB: CREATE OR REPLACE TABLE drops the table first.
    ((M, None), "CREATE OR REPLACE TABLE users (id INT)", "SG301",
     "CREATE TABLE IF NOT EXISTS users (id INT)"),
    ((M,), "CREATE OR REPLACE TABLE users AS SELECT 1 AS id", "SG301",
     "CREATE TABLE fresh (id INT);\nCREATE OR REPLACE TABLE fresh AS SELECT 1 AS id"),
    ((M,), "CREATE OR REPLACE TABLE `users` LIKE orders", "SG301",
     "CREATE OR REPLACE VIEW users_v AS SELECT 1"),
    # MySQL/MariaDB: DISCARD TABLESPACE deletes the data file.
    ((M,), "ALTER TABLE users DISCARD TABLESPACE", "SG301",
     "ALTER TABLE users IMPORT TABLESPACE"),
    ((M,), "ALTER TABLE users DISCARD PARTITION p1, p2 TABLESPACE", "SG301",
     "ALTER TABLE users REORGANIZE PARTITION p1 INTO (PARTITION p3 VALUES LESS THAN (9))"),
    # EXCHANGE PARTITION moves the partition's rows out of the table.
    ((M,), "ALTER TABLE users EXCHANGE PARTITION p1 WITH TABLE orders", "SG304",
     "ALTER TABLE users COALESCE PARTITION 2"),
    # PostgreSQL: DROP OWNED drops every object of the role; ALTER EXTENSION ... DROP
    # only unlinks the object from the extension.
    ((P,), "DROP OWNED BY app_owner CASCADE", "SG303",
     "ALTER EXTENSION hstore DROP FUNCTION f(int)"),
    ((P,), "DROP OWNED BY a, b", "SG303", "ALTER SCHEMA s OWNER TO a"),
    # A WHERE that names no column limits nothing.
    ((P, M, S), "DELETE FROM users WHERE 1 = 1", "SG305", "DELETE FROM users WHERE id = 1"),
    ((P, M, S), "DELETE FROM users WHERE true", "SG305", "DELETE FROM users WHERE active"),
    ((P, M, S), "UPDATE users SET email = '' WHERE 1", "SG306",
     "UPDATE users SET email = '' WHERE 'x' = email"),
    # Multi-table DELETE (MySQL) and DELETE ... USING / UPDATE ... FROM (PostgreSQL).
    ((M,), "DELETE u, o FROM users u JOIN orders o ON o.user_id = u.id", "SG305",
     "DELETE u FROM users u JOIN orders o ON o.user_id = u.id WHERE o.id = 1"),
    ((P,), "DELETE FROM users USING orders", "SG305",
     "DELETE FROM users USING orders WHERE orders.user_id = users.id"),
    ((P,), "UPDATE users SET email = o.id::text FROM orders o", "SG306",
     "UPDATE users SET email = o.id::text FROM orders o WHERE o.user_id = users.id"),
    # Statements run inside another one: writable CTEs, EXPLAIN ANALYZE, MariaDB's
    # ANALYZE stmt, PostgreSQL's COPY (query).
    ((P,), "WITH gone AS (DELETE FROM users RETURNING *) SELECT count(*) FROM gone", "SG305",
     "WITH kept AS (SELECT * FROM users) SELECT count(*) FROM kept"),
    ((P,), "EXPLAIN ANALYZE DELETE FROM users", "SG305", "EXPLAIN DELETE FROM users"),
    ((P,), "EXPLAIN (ANALYZE, BUFFERS) UPDATE users SET email = ''", "SG306",
     "EXPLAIN (ANALYZE false) UPDATE users SET email = ''"),
    ((M,), "ANALYZE FORMAT=JSON DELETE FROM users", "SG305", "ANALYZE TABLE users"),
    ((P,), "COPY (DELETE FROM users RETURNING id) TO STDOUT", "SG305",
     "COPY (SELECT id FROM users) TO STDOUT"),
    # REPLACE deletes each row whose key it repeats, then inserts.
    ((M, S), "REPLACE INTO users (id) VALUES (1)", "SG306",
     "INSERT INTO users (id) VALUES (1)"),
    ((S,), "INSERT OR REPLACE INTO users (id) VALUES (1)", "SG306",
     "INSERT OR IGNORE INTO users (id) VALUES (1)"),
    ((M,), "REPLACE users SELECT * FROM users_archive", "SG306",
     "CREATE TABLE t (id INT);\nREPLACE INTO t VALUES (1)"),
]


@pytest.mark.parametrize(
    ("dialect", "sql", "code", "quiet"),
    [pytest.param(d, sql, code, quiet, id=f"{code}-{d}-{n}")
     for n, (dialects, sql, code, quiet) in enumerate(HIDDEN) for d in dialects],
)
def test_hidden_destroyers_are_reported(dialect: str | None, sql: str, code: str,
                                        quiet: str) -> None:
    assert code in codes(sql, dialect), sql
    assert codes(quiet, dialect) == [], quiet


def test_hidden_destroyers_name_what_they_destroy() -> None:
    (replace,) = found("CREATE OR REPLACE TABLE users (id INT)", M)
    assert "drops the existing table users" in replace.message
    (discard,) = found("ALTER TABLE users DISCARD TABLESPACE", M)
    assert "data file of users" in discard.message
    (exchange,) = found("ALTER TABLE users EXCHANGE PARTITION p1 WITH TABLE orders", M)
    assert "partition p1 of users out to table orders" in exchange.message
    (owned,) = found("DROP OWNED BY app_owner", P)
    assert "every object app_owner owns" in owned.message
    # A table created in the same migration is new and empty: replacing it loses nothing.
    assert codes("CREATE TABLE t (id INT);\nCREATE OR REPLACE TABLE t (id BIGINT)", M) == []


# -- routines and triggers created and then run in the same migration ------------------

PG_FUNCTION = ("CREATE FUNCTION purge() RETURNS void AS $$\n"
               "  DELETE FROM users;\n"
               "$$ LANGUAGE sql;\n")


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        # PostgreSQL: SQL and PL/pgSQL functions, procedures, BEGIN ATOMIC bodies.
        (P, PG_FUNCTION + "SELECT purge();", [("SG305", 4, "function purge()")]),
        (P, PG_FUNCTION + "INSERT INTO orders (id) SELECT 1 FROM (SELECT purge()) x;",
         [("SG305", 4, "function purge()")]),
        (P, "CREATE OR REPLACE FUNCTION wipe() RETURNS void LANGUAGE plpgsql AS $body$\n"
            "BEGIN\n  IF true THEN\n    DROP TABLE users;\n  END IF;\nEND\n$body$;\n"
            "DO $$ BEGIN PERFORM wipe(); END $$;",
         [("SG301", 8, "function wipe()")]),
        (P, "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC\n"
            "  UPDATE users SET email = NULL;\n  DELETE FROM orders;\nEND;\nCALL p();",
         [("SG306", 5, "procedure p()"), ("SG305", 5, "procedure p()")]),
        (P, "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'TRUNCATE users; SELECT 1';\n"
            "ALTER TABLE orders ADD COLUMN n int DEFAULT f();",
         # f() is VOLATILE (undeclared) and not inlined: the default rewrites orders.
         [("SG408", 2, None), ("SG304", 2, "function f()")]),
        # A trigger runs its function when the migration writes to its table.
        (P, "CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN DELETE FROM users; RETURN NEW; END $$;\n"
            "CREATE TRIGGER t AFTER INSERT OR UPDATE ON orders\n"
            "  FOR EACH ROW EXECUTE FUNCTION trg();\n"
            "INSERT INTO orders VALUES (1, 1);",
         [("SG305", 5, "function trg() of trigger t on orders")]),
        # MariaDB: procedures, functions and triggers with BEGIN ... END or one statement.
        (M, "CREATE PROCEDURE p()\nBEGIN\n  DELETE FROM users;\nEND;\nCALL p();",
         [("SG305", 5, "procedure p()")]),
        (M, "CREATE DEFINER=`root`@`%` PROCEDURE p() MODIFIES SQL DATA DROP TABLE users;\n"
            "CALL p;", [("SG301", 2, "procedure p()")]),
        (M, "CREATE FUNCTION f() RETURNS INT DETERMINISTIC\nBEGIN\n  DELETE FROM users;\n"
            "  RETURN 1;\nEND;\nUPDATE orders SET id = f() WHERE id = 0;",
         [("SG305", 6, "function f()")]),
        (M, "CREATE TRIGGER t BEFORE DELETE ON orders FOR EACH ROW\n"
            "BEGIN\n  UPDATE users SET email = '';\nEND;\nDELETE FROM orders WHERE id = 1;",
         [("SG306", 5, "trigger t on orders")]),
        (M, "CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW DELETE FROM users;\n"
            "REPLACE INTO orders VALUES (1, 1);",
         [("SG306", 2, None), ("SG305", 2, "trigger t on orders")]),
        # SQLite: a trigger fired by a later statement.
        (S, "CREATE TRIGGER t AFTER INSERT ON orders\nBEGIN\n  DELETE FROM users;\nEND;\n"
            "INSERT INTO orders VALUES (1, 1);", [("SG305", 5, "trigger t on orders")]),
        (S, "CREATE TEMP TRIGGER IF NOT EXISTS t AFTER UPDATE OF id ON orders "
            "WHEN new.id > 0 BEGIN DROP TABLE users; END;\n"
            "UPDATE orders SET id = 2 WHERE id = 1;", [("SG301", 2, "trigger t on orders")]),
        # A trigger fired by a statement a routine runs.
        (S, "CREATE TRIGGER a AFTER DELETE ON orders BEGIN INSERT INTO orders_log VALUES (1); "
            "END;\nCREATE TRIGGER b AFTER INSERT ON orders_log BEGIN DELETE FROM users; END;\n"
            "DELETE FROM orders WHERE id = 1;",
         [("SG305", 3, "trigger b on orders_log, trigger a on orders")]),
    ],
)
def test_a_body_run_in_the_migration_is_checked_at_the_statement_that_runs_it(
        dialect: str, sql: str, expected: list[tuple[str, int, str | None]]) -> None:
    findings = found(sql, dialect)
    assert [(f.code, f.line) for f in findings] == [(c, line) for c, line, _ in expected]
    for finding, (_, _, via) in zip(findings, expected, strict=True):
        if via is not None:
            assert finding.message.endswith(f"(run here by {via})"), finding.message


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        # Created, never run: its body does not run when the migration runs.
        (P, PG_FUNCTION),
        (M, "CREATE PROCEDURE p() BEGIN DELETE FROM users; END"),
        (S, "CREATE TRIGGER t AFTER INSERT ON orders BEGIN DELETE FROM users; END"),
        # Named in DDL about it, not called.
        (P, PG_FUNCTION + "COMMENT ON FUNCTION purge() IS 'x';\n"
            "GRANT EXECUTE ON FUNCTION purge() TO app;\nALTER FUNCTION purge() OWNER TO app;"),
        # The trigger's event or table is not the one written.
        (S, "CREATE TRIGGER t AFTER DELETE ON orders BEGIN DELETE FROM users; END;\n"
            "INSERT INTO orders VALUES (1, 1);\nUPDATE users SET email = '' WHERE id = 1;"),
        (M, "CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW DELETE FROM users;\n"
            "INSERT INTO users VALUES (1, 'a');"),
        # A function whose body is harmless.
        (P, "CREATE FUNCTION one() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n"
            "SELECT one();"),
    ],
)
def test_bodies_that_do_not_run_or_do_no_harm_stay_quiet(dialect: str, sql: str) -> None:
    assert codes(sql, dialect) == []


def test_a_dropped_routine_is_forgotten() -> None:
    # (Dropping what the same migration created is no SG307: nothing depends on it yet.)
    sql = PG_FUNCTION + "DROP FUNCTION purge();\nSELECT purge();"
    assert codes(sql, P) == []
    sql = ("CREATE TRIGGER t AFTER INSERT ON orders BEGIN DELETE FROM users; END;\n"
           "DROP TRIGGER t;\nINSERT INTO orders VALUES (1, 1);")
    assert codes(sql, S) == []


def test_a_body_that_cannot_be_read_is_sg603_where_it_runs() -> None:
    sql = ("CREATE FUNCTION f() RETURNS void LANGUAGE plpython3u AS $$\n"
           "plpy.execute('DROP TABLE users')\n$$;\nSELECT f();")
    (finding,) = found(sql, P)
    assert (finding.code, finding.line) == ("SG603", 4)
    assert "function f()" in finding.message and "plpython3u" in finding.message
    dynamic = ("CREATE PROCEDURE p(t text) LANGUAGE plpgsql AS $$ BEGIN\n"
               "  EXECUTE format('DROP TABLE %I', t);\nEND $$;\nCALL p('users');")
    assert [(f.code, f.line) for f in found(dynamic, P)] == [("SG603", 4)]
    mariadb = "CREATE PROCEDURE p() BEGIN PREPARE s FROM @ddl; EXECUTE s; END;\nCALL p();"
    assert [(f.code, f.line) for f in found(mariadb, M)] == [("SG603", 2)]
    literal = "CREATE PROCEDURE p() BEGIN EXECUTE IMMEDIATE 'DROP TABLE users'; END;\nCALL p();"
    assert [(f.code, f.line) for f in found(literal, M)] == [("SG301", 2)]


def test_an_allow_at_the_call_or_in_the_body_covers_what_the_body_runs() -> None:
    at_call = PG_FUNCTION + "-- switchy-guard: allow delete-without-where -- test data only\n" \
        "SELECT purge();"
    assert codes(at_call, P) == []
    in_body = ("CREATE FUNCTION purge() RETURNS void AS $$\n"
               "  -- switchy-guard: allow SG305 -- sessions are disposable\n"
               "  DELETE FROM users;\n$$ LANGUAGE sql;\nSELECT purge();")
    assert codes(in_body, P) == []
    unused = PG_FUNCTION + "-- switchy-guard: allow drop-table -- wrong rule\nSELECT purge();"
    assert codes(unused, P) == ["SG305", "SG901"]


def test_a_recursive_routine_is_read_once_per_call() -> None:
    sql = ("CREATE PROCEDURE p() BEGIN DELETE FROM users; CALL p(); END;\n"
           "CALL p();\nCALL p();")
    assert [(f.code, f.line) for f in found(sql, M)] == [("SG305", 2), ("SG305", 3)]


def test_a_routine_from_an_earlier_migration_is_not_known() -> None:
    # Its body is in the database, not in this migration: calling it is not analysed.
    setup = SETUP + PG_FUNCTION
    assert [f.code for f in found("SELECT purge();", P, setup)] == []


def test_long_explain_options_are_read_in_linear_time() -> None:
    sql = "EXPLAIN (" + "costs, " * 20_000 + "x"
    started = time.perf_counter()
    codes(sql, P)
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE RULE r AS ON INSERT TO orders DO ALSO DELETE FROM users;\n"
         "INSERT INTO orders VALUES (9, 1);", [("SG305", 2, "rule r on orders")]),
        ("CREATE OR REPLACE RULE r AS ON UPDATE TO orders WHERE new.id > 0 DO INSTEAD\n"
         "  (UPDATE users SET email = NULL; DELETE FROM users);\n"
         "UPDATE orders SET user_id = 1 WHERE id = 1;",
         [("SG306", 3, "rule r on orders"), ("SG305", 3, "rule r on orders")]),
        # Created and never fired, fired by another event, or doing nothing.
        ("CREATE RULE r AS ON INSERT TO orders DO ALSO DELETE FROM users;", []),
        ("CREATE RULE r AS ON DELETE TO orders DO ALSO DELETE FROM users;\n"
         "INSERT INTO orders VALUES (9, 1);", []),
        ("CREATE RULE r AS ON INSERT TO orders DO INSTEAD NOTHING;\n"
         "INSERT INTO orders VALUES (9, 1);", []),
        ("CREATE RULE r AS ON INSERT TO orders DO ALSO DELETE FROM users;\n"
         "DROP RULE r ON orders;\nINSERT INTO orders VALUES (9, 1);", []),
    ],
)
def test_a_postgres_rule_runs_its_commands_when_its_event_happens(
        sql: str, expected: list[tuple[str, int, str]]) -> None:
    findings = found(sql, P)
    assert [(f.code, f.line) for f in findings] == [(c, line) for c, line, _ in expected]
    for finding, (_, _, via) in zip(findings, expected, strict=True):
        assert finding.message.endswith(f"(run here by {via})"), finding.message


@pytest.mark.parametrize(
    ("dialect", "sql", "lost"),
    [
        # Replaced without its rows: every row of users is gone.
        (P, "CREATE TABLE users_new (id INT);\nDROP TABLE users;\n"
            "ALTER TABLE users_new RENAME TO users;", True),
        (M, "CREATE TABLE users_new (id INT);\nDROP TABLE users;\n"
            "RENAME TABLE users_new TO users;", True),
        (S, "CREATE TABLE users_new (id INT);\nDROP TABLE users;\n"
            "ALTER TABLE users_new RENAME TO users;", True),
        # Rows copied from another table, or after the drop: still lost.
        (S, "CREATE TABLE users_new (id INT);\nINSERT INTO users_new SELECT id FROM orders;\n"
            "DROP TABLE users;\nALTER TABLE users_new RENAME TO users;", True),
        (P, "CREATE TABLE users_new (id INT);\nDROP TABLE users;\n"
            "INSERT INTO users_new SELECT id FROM users;\nALTER TABLE users_new RENAME TO users;",
         True),
        # Copied into one table, another renamed in its place.
        (P, "CREATE TABLE a (id INT);\nCREATE TABLE b (id INT);\n"
            "INSERT INTO a SELECT id FROM users;\nDROP TABLE users;\n"
            "ALTER TABLE b RENAME TO users;", True),
        # A real rebuild: the rows copied first.
        (P, "CREATE TABLE users_new (id INT);\nINSERT INTO users_new (id) SELECT id FROM users;\n"
            "DROP TABLE users;\nALTER TABLE users_new RENAME TO users;", False),
        (M, "CREATE TABLE users_new LIKE users;\nINSERT INTO users_new SELECT * FROM users;\n"
            "DROP TABLE users;\nRENAME TABLE users_new TO users;", False),
        (S, "CREATE TABLE users_new AS SELECT * FROM users;\nDROP TABLE users;\n"
            "ALTER TABLE users_new RENAME TO users;", False),
    ],
)
def test_a_table_counts_as_rebuilt_only_when_its_rows_were_copied_first(
        dialect: str, sql: str, lost: bool) -> None:
    assert ("SG301" in codes(sql, dialect)) is lost
