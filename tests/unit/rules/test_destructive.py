"""The data-loss rules (SG301-SG308, rules/destructive.py) by what they report: each
message exactly, with its rule, severity and line; every table of a multi-table statement
and every action of a multi-action ALTER (the interesting one second); the exemption of
tables created earlier in the plan, per rule; and, in a down script, the exemption of
exactly what the up created. CASES: per rule and dialect, a statement that fires and a
look-alike that must not."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.check.run import run_check
from switchy_guard.model.migration import Migration
from tests.cli_helpers import write_migration
from tests.unit.rules.helpers import (
    Cases,
    assert_fires_and_quiet,
    findings_for,
    fire_params,
    messages_for,
)

P, M, S = "postgres", "mysql", "sqlite"
SETUP = ("CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(255), bio TEXT);\n"
         "CREATE TABLE orders (id INT, user_id INT);\n")
#: A table created earlier in the same migration: empty, nothing outside depends on it.
FRESH = "CREATE TABLE fresh (id INT, email TEXT);\n"

Found = list[tuple[str, str, int | None, str]]


def data_loss(sql: str, dialect: str) -> Found:
    """(code, severity, line, message) of the SG3xx findings of ``sql`` as the one planned
    migration after one that made ``users`` and ``orders``."""
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    result = validate([existing, migration], dialect, plan_ids={migration.id})
    return [(f.code, f.severity.value, f.line, f.message) for f in result.findings
            if f.code.startswith("SG3")]


def e301(line: int, message: str) -> tuple[str, str, int, str]:
    return ("SG301", "error", line, message)


REPLACE_MESSAGE = (
    "REPLACE deletes each row of users whose key a new row repeats, then inserts the new "
    "row: columns it leaves out lose their values, and rows referencing the old one "
    "through ON DELETE CASCADE are deleted")

# (dialect, statements, every SG3xx finding expected, in order)
MESSAGES: list[tuple[str, str, Found]] = [
    # SG301: DROP TABLE, each table of the list; tables created earlier are skipped
    # wherever they stand in it.
    (P, "DROP TABLE orders, users",
     [e301(1, "drops table orders and every row in it"),
      e301(1, "drops table users and every row in it")]),
    (P, FRESH + "DROP TABLE fresh, users", [e301(2, "drops table users and every row in it")]),
    (P, FRESH + "DROP TABLE users, fresh, orders",
     [e301(2, "drops table users and every row in it"),
      e301(2, "drops table orders and every row in it")]),
    (M, "CREATE OR REPLACE TABLE users (id INT)",
     [e301(1, "CREATE OR REPLACE TABLE drops the existing table users and every row in it "
              "before creating the new one")]),
    (M, "ALTER TABLE users DISCARD TABLESPACE",
     [e301(1, "DISCARD TABLESPACE deletes the data file of users: every row in it is gone")]),
    (M, "ALTER TABLE users ENGINE=InnoDB, DISCARD PARTITION p1, p2 TABLESPACE",
     [e301(1, "DISCARD TABLESPACE deletes the data file of partitions p1, p2 of users: "
              "every row in it is gone")]),
    (M, "ALTER TABLE users COALESCE PARTITION 2, DROP PARTITION p1",
     [e301(1, "drops partition p1 of users and every row in it")]),
    (M, "ALTER TABLE users DROP PARTITION p2019, p2020",
     [e301(1, "drops partition p2019, p2020 of users and every row in it")]),
    # SG302: the dropped column second, after an action that destroys nothing.
    (P, "ALTER TABLE users ADD COLUMN x INT, DROP COLUMN email",
     [("SG302", "error", 1, "drops column users.email and its data")]),
    (S, "SELECT 1;\nALTER TABLE users DROP COLUMN bio",
     [("SG302", "error", 2, "drops column users.bio and its data")]),
    # SG303: each schema, database or role named.
    (P, "DROP SCHEMA reporting, archive CASCADE",
     [("SG303", "error", 1, "drops schema reporting and everything in it"),
      ("SG303", "error", 1, "drops schema archive and everything in it")]),
    (M, "DROP DATABASE app", [("SG303", "error", 1, "drops database app and everything in it")]),
    (P, "DROP SCHEMA IF EXISTS", [("SG303", "error", 1, "drops schema and everything in it")]),
    (P, "DROP OWNED BY app_owner, reporter",
     [("SG303", "error", 1, "drops every object app_owner owns in this database, tables and "
                            "their rows"),
      ("SG303", "error", 1, "drops every object reporter owns in this database, tables and "
                            "their rows")]),
    # SG304: TRUNCATE of each table, CASCADE said once per table; partitions.
    (P, "TRUNCATE orders, users",
     [("SG304", "error", 1, "empties table orders"), ("SG304", "error", 1, "empties table users")]),
    (P, FRESH + "TRUNCATE fresh, users CASCADE",
     [("SG304", "error", 2, "empties table users and, with CASCADE, every table referencing it")]),
    (M, "TRUNCATE users", [("SG304", "error", 1, "empties table users")]),
    (S, "DELETE FROM users WHERE 1", [("SG305", "error", 1,
                                        "deletes every row of users (no WHERE clause)")]),
    (M, "ALTER TABLE users ENGINE=InnoDB, TRUNCATE PARTITION p1, p2",
     [("SG304", "error", 1, "empties partition p1, p2 of users")]),
    (M, "ALTER TABLE users TRUNCATE PARTITION ALL",
     [("SG304", "error", 1, "empties every partition of users")]),
    (M, "ALTER TABLE users ENGINE=InnoDB, EXCHANGE PARTITION p1 WITH TABLE orders",
     [("SG304", "error", 1, "EXCHANGE PARTITION moves every row of partition p1 of users out "
                            "to table orders (and that table's rows in)")]),
    # SG305: each table a multi-table DELETE empties.
    (M, "DELETE u, o FROM users u JOIN orders o ON o.user_id = u.id",
     [("SG305", "error", 1, "deletes every row of users (no WHERE clause)"),
      ("SG305", "error", 1, "deletes every row of orders (no WHERE clause)")]),
    (P, "DELETE FROM orders", [("SG305", "error", 1,
                                "deletes every row of orders (no WHERE clause)")]),
    # SG306 is a warning: UPDATE without WHERE, REPLACE.
    (P, "UPDATE users SET email = ''",
     [("SG306", "warning", 1, "updates every row of users (no WHERE clause)")]),
    (M, "REPLACE INTO users (id) VALUES (1)", [("SG306", "warning", 1, REPLACE_MESSAGE)]),
    (S, "INSERT OR REPLACE INTO users (id) VALUES (1)", [("SG306", "warning", 1, REPLACE_MESSAGE)]),
    # SG307 is a warning: each object of the list; a nameless one (a MySQL account).
    (P, "DROP VIEW active_users, stale_users",
     [("SG307", "warning", 1, "drops view active_users"),
      ("SG307", "warning", 1, "drops view stale_users")]),
    (P, "CREATE VIEW v1 AS SELECT 1;\nDROP VIEW v1, v2",
     [("SG307", "warning", 2, "drops view v2")]),
    (P, "CREATE VIEW v2 AS SELECT 1;\nDROP VIEW v1, v2",
     [("SG307", "warning", 2, "drops view v1")]),
    (M, "DROP USER 'app'@'%'", [("SG307", "warning", 1, "drops user")]),
    # SG308: the lossy change second, after a widening one.
    (P, "ALTER TABLE users ALTER COLUMN email TYPE text, ALTER COLUMN bio TYPE varchar(5)",
     [("SG308", "error", 1, "changes users.bio from text to varchar(5): values that do not "
                            "fit are rejected, cut or rounded")]),
    (M, "ALTER TABLE users MODIFY COLUMN id SMALLINT",
     [("SG308", "error", 1, "changes users.id from int to smallint: values that do not fit "
                            "are rejected, cut or rounded")]),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), MESSAGES,
                         ids=[f"{d}-{n}" for n, (d, _, _) in enumerate(MESSAGES)])
def test_each_data_loss_finding_says_what_it_destroys(dialect: str, sql: str,
                                                       expected: Found) -> None:
    assert data_loss(sql, dialect) == expected


# Each rule, each of its forms, on a table created earlier in the same migration: the
# table is empty and nothing else uses it yet, so no rule fires. (MESSAGES has each form
# on an existing table.)
ON_NEW_TABLES = [
    (M, "CREATE OR REPLACE TABLE fresh (id INT)"),
    (M, "ALTER TABLE fresh DISCARD TABLESPACE"),
    (M, "ALTER TABLE fresh DROP PARTITION p1"),
    (P, "DROP TABLE fresh"),
    (P, "ALTER TABLE fresh DROP COLUMN email"),
    (M, "ALTER TABLE fresh EXCHANGE PARTITION p1 WITH TABLE orders"),
    (M, "ALTER TABLE fresh TRUNCATE PARTITION p1"),
    (P, "TRUNCATE fresh CASCADE"),
    (P, "DELETE FROM fresh"),
    (P, "UPDATE fresh SET email = ''"),
    (M, "REPLACE INTO fresh (id) VALUES (1)"),
    (P, "ALTER TABLE fresh ALTER COLUMN email TYPE varchar(10)"),
    (P, "CREATE FUNCTION g() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n"
        "CREATE VIEW v AS SELECT 1;\nDROP FUNCTION g;\nDROP VIEW v"),
]


@pytest.mark.parametrize(("dialect", "sql"), ON_NEW_TABLES)
def test_no_data_loss_rule_fires_on_what_the_migration_created(dialect: str, sql: str) -> None:
    assert data_loss(FRESH + sql, dialect) == []


def test_only_an_object_created_before_the_drop_and_of_that_type_is_spared() -> None:
    created_after = ("DROP FUNCTION f;\n"
                     "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql")
    assert data_loss(created_after, P) == [("SG307", "warning", 1, "drops function f")]
    other_type = "CREATE VIEW f AS SELECT 1;\nDROP FUNCTION f"
    assert data_loss(other_type, P) == [("SG307", "warning", 2, "drops function f")]


def test_a_truncate_naming_no_table_reports_none() -> None:
    assert data_loss("TRUNCATE", P) == []


def test_a_column_of_unknown_type_is_no_lossy_change() -> None:
    # No earlier migration says what users.nosuch was: SG405's concern, not SG308's.
    assert data_loss("ALTER TABLE users ALTER COLUMN nosuch TYPE varchar(10)", P) == []


# -- down scripts: the up's own objects are the ordinary reversal -----------------------


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))


def down_findings(root: Path, up: str, down: str) -> list[tuple[str, str]]:
    write_migration(root / "m", "2024-01-01-000000_a", up, down)
    found = run_check(str(root / "m"), P, use_cache=False, jobs=1).findings
    return [(f.code, f.message) for f in found if f.rollback_time]


DOWNS = [
    # The column the up added is the reversal; the one after it is not.
    ("ALTER TABLE users ADD COLUMN email TEXT;\n",
     "ALTER TABLE users DROP COLUMN email, DROP COLUMN name;\n",
     [("SG302", "drops column users.name and its data")]),
    ("CREATE SCHEMA reporting;\n", "DROP SCHEMA reporting, archive;\n",
     [("SG303", "drops schema archive and everything in it")]),
    ("CREATE VIEW active AS SELECT 1 AS one;\n", "DROP VIEW active, legacy;\n",
     [("SG307", "drops view legacy")]),
    # A view of the same name is not the schema.
    ("CREATE VIEW reporting AS SELECT 1 AS one;\n", "DROP SCHEMA reporting;\n",
     [("SG303", "drops schema reporting and everything in it")]),
    ("CREATE SCHEMA active;\n", "DROP VIEW active;\n", [("SG307", "drops view active")]),
]


@pytest.mark.parametrize(("up", "down", "expected"), DOWNS)
def test_a_down_may_drop_exactly_what_its_up_created(tmp_path: Path, up: str, down: str,
                                                      expected: list[tuple[str, str]]) -> None:
    assert down_findings(tmp_path, up, down) == expected


def test_a_lossy_type_change_after_another_action_is_found() -> None:
    assert data_loss("ALTER TABLE users ADD COLUMN x INT, ALTER COLUMN bio TYPE varchar(5)",
                     P) == [("SG308", "error", 1, "changes users.bio from text to varchar(5): "
                                                  "values that do not fit are rejected, cut or "
                                                  "rounded")]


def test_lossiness_is_judged_on_the_dialect_and_the_known_enums() -> None:
    # MySQL's TEXT holds at most 65,535 bytes: VARCHAR(65535) keeps every value.
    assert data_loss("ALTER TABLE users MODIFY COLUMN bio VARCHAR(65535)", M) == []
    assert [f[0] for f in data_loss("ALTER TABLE users ALTER COLUMN bio TYPE varchar(65535)",
                                    P)] == ["SG308"]
    # An enum's longest label fits: its labels come from the history's CREATE TYPE.
    base = Migration("2024-01-01-000000_base", "CREATE TYPE mood AS ENUM ('a', 'b');\n"
                     "CREATE TABLE people (id INT, feeling mood);\n", "", "a", "b",
                     noop_down=True)
    for new, codes in (("varchar(1)", []), ("varchar(0)", ["SG308"])):
        change = Migration("2024-01-02-000000_case",
                           f"ALTER TABLE people ALTER COLUMN feeling TYPE {new}", "", "a", "b",
                           noop_down=True)
        found = validate([base, change], P, plan_ids={change.id}).findings
        assert [f.code for f in found if f.code == "SG308"] == codes, new


# code: [(dialects, fires, look-alike that must not fire)]
CASES: Cases = {
    "SG301": [((P, M, S), "DROP TABLE users", "DROP VIEW users_view"),
              ((M,), "ALTER TABLE users DROP PARTITION p2019, p2020",
               "ALTER TABLE users ADD PARTITION (PARTITION p3 VALUES LESS THAN (2025))")],
    "SG302": [((P, M, S), "ALTER TABLE users DROP COLUMN email",
               "ALTER TABLE users ADD COLUMN email_2 TEXT")],
    "SG303": [((P, M), "DROP SCHEMA reporting", "CREATE SCHEMA reporting"),
              ((M,), "DROP DATABASE app", "CREATE DATABASE app")],
    "SG304": [((P, M, S), "TRUNCATE TABLE users", "DELETE FROM users WHERE id = 1"),
              ((P,), "TRUNCATE users CASCADE", "SELECT 1"),
              ((M,), "ALTER TABLE users TRUNCATE PARTITION ALL",
               "ALTER TABLE users ANALYZE PARTITION p2020")],
    "SG305": [((P, M, S), "DELETE FROM users", "DELETE FROM users WHERE id = 1")],
    "SG306": [((P, M, S), "UPDATE users SET email = lower(email)",
               "UPDATE users SET email = lower(email) WHERE id > 10")],
    "SG307": [((P, M, S), "DROP VIEW active_users", "CREATE VIEW active_users AS SELECT 1"),
              ((P,), "DROP FUNCTION f", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ "
                                        "LANGUAGE sql")],
    "SG308": [((P, S), "ALTER TABLE users ALTER COLUMN email TYPE varchar(10)",
               "ALTER TABLE users ALTER COLUMN email TYPE varchar(500)"),
              ((M,), "ALTER TABLE users MODIFY COLUMN id SMALLINT",
               "ALTER TABLE users MODIFY COLUMN id BIGINT"),
              # An int has up to 10 digits: numeric(12, 2) keeps them, numeric(9) does not.
              ((P,), "ALTER TABLE users ALTER COLUMN id TYPE numeric(9)",
               "ALTER TABLE users ALTER COLUMN id TYPE numeric(12, 2)"),
              ((M,), "ALTER TABLE users MODIFY COLUMN id DECIMAL(9)",
               "ALTER TABLE users MODIFY COLUMN id DECIMAL(10)")],
}


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), fire_params(CASES))
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert_fires_and_quiet(code, dialect, fires, quiet)


def test_a_delete_inside_a_cte_is_checked_like_a_plain_one() -> None:
    unbounded = "WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone"
    bounded = "WITH gone AS (DELETE FROM users WHERE id = 1 RETURNING id) SELECT 1 FROM gone"
    for dialect in (P, S):
        assert "SG305" in findings_for(unbounded, dialect)
        assert "SG305" not in findings_for(bounded, dialect)


def test_narrowing_a_column_of_a_table_created_in_the_plan_loses_nothing() -> None:
    narrowing = "ALTER TABLE users ALTER COLUMN email TYPE varchar(10)"
    assert "SG308" in findings_for(narrowing, P)
    created_here = "CREATE TABLE fresh (email varchar(255));\n" + narrowing.replace(
        "users", "fresh")
    assert "SG308" not in findings_for(created_here, P)


@pytest.mark.parametrize(
    ("fires", "quiet", "code", "message"),
    [
        ("DROP TABLE IF EXISTS [users]", "DROP VIEW [users]", "SG301",
         "drops table users and every row in it"),
        ("DELETE FROM [users]", "DELETE FROM [users] WHERE [id] = 1", "SG305",
         "deletes every row of users (no WHERE clause)"),
        ("ALTER TABLE [users] DROP COLUMN [email]", "ALTER TABLE [users] ADD COLUMN [bio] TEXT",
         "SG302", "drops column users.email and its data"),
    ],
)
def test_sqlite_bracket_quoted_names(fires: str, quiet: str, code: str, message: str) -> None:
    """SQLite quotes names in [brackets]: DROP TABLE [users] drops users."""
    assert messages_for(fires, S).get(code) == [message]
    assert code not in messages_for(quiet, S)


def test_mysql_partition_maintenance_names_the_partitions() -> None:
    assert messages_for("ALTER TABLE users DROP PARTITION p2019, p2020", M) == {
        "SG301": ["drops partition p2019, p2020 of users and every row in it"]}
    assert messages_for("ALTER TABLE users TRUNCATE PARTITION p2020", M) == {
        "SG304": ["empties partition p2020 of users"]}


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("DELETE LOW_PRIORITY QUICK IGNORE FROM users", ["users"]),
        ("DELETE u FROM users u JOIN orgs o ON o.id = u.org_id", ["users"]),
        # Every target of a multi-table DELETE loses its rows, aliases resolved.
        ("DELETE u, o FROM users u JOIN orgs o ON o.id = u.org_id", ["users", "orgs"]),
        ("DELETE o FROM users AS u INNER JOIN orgs AS o ON o.id = u.org_id", ["orgs"]),
        ("DELETE FROM o, u USING users u LEFT JOIN orgs o ON o.id = u.org_id",
         ["orgs", "users"]),
    ],
)
def test_mysql_delete_forms_name_the_table(sql: str, tables: list[str]) -> None:
    assert messages_for(sql, M) == {
        "SG305": [f"deletes every row of {t} (no WHERE clause)" for t in tables]}
    assert messages_for(sql + " WHERE u.id = 1", M) == {}


def test_every_object_of_a_drop_list_is_named() -> None:
    assert messages_for("DROP VIEW IF EXISTS a, s.b CASCADE", P) == {
        "SG307": ["drops view a", "drops view s.b"]}
    assert messages_for("DROP FUNCTION f(int), g(text, int)", P) == {
        "SG307": ["drops function f", "drops function g"]}
    assert messages_for("DROP SCHEMA a, b CASCADE", P) == {
        "SG303": ["drops schema a and everything in it", "drops schema b and everything in it"]}
    assert messages_for("DROP USER 'app'@'%'", M) == {"SG307": ["drops user"]}


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("postgres", "CREATE FUNCTION tmp_fill() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n"
                     "SELECT tmp_fill();\nDROP FUNCTION tmp_fill();", []),
        ("mysql", "CREATE PROCEDURE backfill() BEGIN UPDATE t SET a = 1 WHERE a IS NULL; END;\n"
                  "CALL backfill();\nDROP PROCEDURE IF EXISTS backfill;", []),
        ("sqlite", "CREATE VIEW v AS SELECT 1;\nDROP VIEW v;", []),
        # Made by another migration, or another object of the same name: still SG307.
        ("postgres", "DROP FUNCTION compute_totals();", ["drops function compute_totals"]),
        ("postgres", "CREATE VIEW f AS SELECT 1;\nDROP FUNCTION f();", ["drops function f"]),
        ("mysql", "DROP PROCEDURE backfill;\nCREATE PROCEDURE backfill() SELECT 1;",
         ["drops procedure backfill"]),
    ],
)
def test_sg307_spares_objects_the_same_migration_created(dialect: str, sql: str,
                                                         expected: list[str]) -> None:
    migration = Migration("2024-01-01-000000_m", sql, "", "a", "b", noop_down=True)
    found = validate([migration], dialect).findings
    assert [f.message for f in found if f.code == "SG307"] == expected
