"""SG605: a value ALTER TYPE ... ADD VALUE adds cannot be used in the transaction that
added it (PostgreSQL 12+: 'unsafe use of new value'). What a transaction is here follows
the runner: one per migration it wraps, one per statement otherwise, the migration's own
BEGIN ... COMMIT, and a DO block's statements in their block's."""

from __future__ import annotations

import pytest

from tests.unit.rules.helpers import P
from tests.unit.rules.test_transactions_edges import found

ADD = "ALTER TYPE mood ADD VALUE 'ecstatic';\n"


def used(line: int, label: str = "ecstatic", type_name: str = "mood") -> str:
    return (f"'{label}' is the value line {line} adds to enum type {type_name} in the same "
            "transaction: PostgreSQL refuses a new enum value until the transaction that "
            "added it commits ('unsafe use of new value'), so this migration fails")


@pytest.mark.parametrize("use", [
    "UPDATE settings SET default_mood = 'ecstatic'",
    "INSERT INTO people (mood) VALUES ('ecstatic')",
    "ALTER TABLE people ALTER COLUMN mood SET DEFAULT 'ecstatic'",
    "ALTER TABLE people ADD CONSTRAINT c CHECK (mood <> 'ecstatic')",
    "SELECT 'ecstatic'::mood",
    "DELETE FROM people WHERE mood = $$ecstatic$$",
    "UPDATE people SET mood = E'ecstatic' WHERE id = 1",
])
def test_a_new_value_used_later_in_the_migration_fires_on_the_use(use: str) -> None:
    assert found(f"{ADD}{use};", P, "SG605") == [(2, used(1))]
    assert found(f"{ADD}{use};", P, "SG605", version=(12,)) == [(2, used(1))]


def test_the_label_and_type_are_read_as_the_server_reads_them() -> None:
    sql = ("ALTER TYPE public.\"Mood\" ADD VALUE IF NOT EXISTS 'it''s' BEFORE 'ok';\n"
           "SELECT 1;\n"
           "INSERT INTO people (mood) VALUES ('it''s');")
    assert found(sql, P, "SG605") == [(3, used(1, "it's", 'public."Mood"'))]


def test_each_new_value_is_reported_once_per_statement_with_its_own_line() -> None:
    sql = (ADD + "ALTER TYPE mood ADD VALUE 'calm' AFTER 'ecstatic';\n"
           "INSERT INTO people (mood) VALUES ('calm'), ('ecstatic'), ('calm');")
    assert found(sql, P, "SG605") == [(3, used(1)), (3, used(2, "calm"))]


def test_inside_a_do_block_the_block_is_one_transaction() -> None:
    sql = ("DO $$ BEGIN\n  ALTER TYPE mood ADD VALUE 'ecstatic';\n"
           "  UPDATE settings SET default_mood = 'ecstatic';\nEND $$;")
    assert found(sql, P, "SG605", transactional=False) == [(3, used(2))]


@pytest.mark.parametrize(("sql", "transactional", "version"), [
    # Used in the next migration, or only in text that is not a string literal.
    (ADD + "SELECT 1;", True, None),
    (ADD + "COMMENT ON TYPE mood IS 'ecstatic moods';", True, None),
    (ADD + "SELECT \"ecstatic\" FROM t;", True, None),
    (ADD + "-- 'ecstatic'\nSELECT 1;", True, None),
    # The use comes first: the value exists already, or the ADD VALUE fails on its own.
    ("UPDATE settings SET default_mood = 'ecstatic';\n" + ADD, True, None),
    # Case matters to an enum's labels.
    (ADD + "UPDATE settings SET default_mood = 'Ecstatic';", True, None),
    # Statement by statement: each commits before the next.
    (ADD + "UPDATE settings SET default_mood = 'ecstatic';", False, None),
    (ADD + "CREATE INDEX CONCURRENTLY i ON t (a);\n"
           "UPDATE settings SET default_mood = 'ecstatic';", True, None),
    ("BEGIN;\n" + ADD + "COMMIT;\nUPDATE settings SET default_mood = 'ecstatic';", False,
     None),
    # Before PostgreSQL 12 the ADD VALUE itself fails (SG604 says so).
    (ADD + "UPDATE settings SET default_mood = 'ecstatic';", True, (11,)),
    # Labels are ordered, not used, by ADD VALUE ... BEFORE/AFTER.
    (ADD + "ALTER TYPE mood ADD VALUE 'calm' AFTER 'ecstatic';", True, None),
    ("ALTER TYPE mood RENAME VALUE 'sad' TO 'ecstatic';\n"
     "UPDATE settings SET default_mood = 'ecstatic';", True, None),
    ("ALTER TYPE mood ADD ATTRIBUTE ecstatic int;\nSELECT 'ecstatic';", True, None),
])
def test_uses_in_another_transaction_and_look_alikes_stay_silent(
        sql: str, transactional: bool, version: tuple[int, ...] | None) -> None:
    assert found(sql, P, "SG605", transactional=transactional, version=version) == []


def test_the_migrations_own_transaction_holds_the_add_and_the_use() -> None:
    sql = ("BEGIN;\n" + ADD + "UPDATE settings SET default_mood = 'ecstatic';\nCOMMIT;")
    assert found(sql, P, "SG605", transactional=False) == [(3, used(2))]


def test_a_block_statement_shares_its_blocks_transaction_with_the_statements_after_it(
        ) -> None:
    sql = ("DO $$ BEGIN ALTER TYPE mood ADD VALUE 'ecstatic'; END $$;\n"
           "UPDATE settings SET default_mood = 'ecstatic';")
    assert [m for _, m in found(sql, P, "SG605")] == [used(1)]
    assert found(sql, P, "SG605", transactional=False) == []


def test_a_second_migration_is_read_afresh() -> None:
    assert found(ADD + "SELECT 'ecstatic';", P, "SG605") == [(2, used(1))]
    assert found("SELECT 'ecstatic';", P, "SG605") == []


# -- SG601 counts a called procedure by the statements it runs ---------------------------

def test_sg601_counts_a_call_by_the_statements_of_the_procedure_it_runs() -> None:
    sql = ("CREATE PROCEDURE fill() BEGIN INSERT INTO t VALUES (1); "
           "INSERT INTO t VALUES (2); END;\nCALL fill();")
    assert found(sql, "mysql", "SG601") == [
        (1, "this migration has 3 statements that change the database and mixes DDL with "
            "data changes: MySQL commits each DDL statement on its own, so a failure leaves "
            "the earlier ones applied")]
    # A procedure an earlier migration made: its statements are not known, the CALL counts.
    assert found("CREATE TABLE t (a INT);\nCALL fill();", "mysql", "SG601") == [
        (1, "this migration has 2 statements that change the database: MySQL commits each "
            "DDL statement on its own, so a failure leaves the earlier ones applied")]


# -- what PostgreSQL reads, and which transaction runs what -------------------------------

def test_a_nested_comment_hides_what_postgresql_does_not_read() -> None:
    # PostgreSQL's block comments nest: the first label, and the use, are inside one.
    sql = ("ALTER TYPE mood ADD VALUE /* a /* b */ 'calm' */ 'ecstatic';\n"
           "SELECT 1 /* a /* b */ 'ecstatic' */;\n"
           "SELECT 'calm', 'ecstatic';")
    assert found(sql, P, "SG605") == [(3, used(1))]


def test_a_concurrently_in_a_nested_comment_leaves_the_migration_in_its_transaction(
        ) -> None:
    sql = (ADD + "CREATE INDEX /* not /* nested */ CONCURRENTLY */ i ON t (a);\n"
           "UPDATE settings SET default_mood = 'ecstatic';")
    assert found(sql, P, "SG605") == [(3, used(1))]


@pytest.mark.parametrize("sql", [
    "ALTER TYPE mood ADD VALUE",
    "ALTER TYPE mood ADD VALUE IF NOT EXISTS",
    "ALTER TYPE mood ADD VALUE 1",
])
def test_an_incomplete_add_value_adds_nothing(sql: str) -> None:
    assert found(f"{sql};\nSELECT '1';", P, "SG605") == []


def test_the_same_value_added_twice_is_reported_once() -> None:
    sql = ("ALTER TYPE mood ADD VALUE IF NOT EXISTS 'ecstatic';\n" * 2
           + "SELECT 'ecstatic';")
    assert found(sql, P, "SG605") == [(3, used(1))]


@pytest.mark.parametrize(("sql", "fires"), [
    # Each statement on its own, then the migration's own transaction.
    (ADD + "SELECT 1;\nBEGIN;\nSELECT 'ecstatic';\nCOMMIT;", []),
    ("SELECT 1;\nBEGIN;\n" + ADD + "COMMIT;\nSELECT 'ecstatic';", []),
    ("BEGIN;\nCOMMIT;\n" + ADD + "SELECT 'ecstatic';", []),
    ("BEGIN;\nSELECT 1;\n" + ADD + "ROLLBACK;\nSELECT 'ecstatic';", []),
    ("START TRANSACTION;\n" + ADD + "SELECT 'ecstatic';\nEND;", [(3, used(2))]),
])
def test_a_migration_run_statement_by_statement_follows_its_own_transactions(
        sql: str, fires: list[tuple[int, str]]) -> None:
    assert found(sql, P, "SG605", transactional=False) == fires
