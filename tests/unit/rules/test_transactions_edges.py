"""Transactions and execution (rules/transactions.py): the message, the line and the
dialect of each finding, and the look-alikes that must stay silent."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from tests.unit.rules.helpers import M, P, S

MYSQL_COMMITS = ("MySQL commits each DDL statement on its own, so a failure leaves the "
                 "earlier ones applied")


def found(sql: str, dialect: str, code: str, *, transactional: bool = True,
          version: tuple[int, ...] | None = None) -> list[tuple[int | None, str]]:
    """(line, message) of each ``code`` finding of ``sql`` as one migration."""
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                          up_path="case/up.sql", transactional=transactional)
    result = validate([migration], dialect, server_version=version)
    return [(f.line, f.message) for f in result.findings if f.code == code]


@pytest.mark.parametrize("dml", ["UPDATE t SET a = 1", "INSERT INTO t VALUES (1)",
                                 "DELETE FROM t WHERE id = 1"])
def test_sg601_counts_the_changes_once_at_the_first_ddl_and_names_data_changes(
        dml: str) -> None:
    sql = f"{dml};\nALTER TABLE t ADD COLUMN x INT;\nALTER TABLE t ADD COLUMN y INT;"
    assert found(sql, M, "SG601") == [(2, "this migration has 3 statements that change the "
                                          "database and mixes DDL with data changes: "
                                          + MYSQL_COMMITS)]


def test_sg601_without_data_changes_says_only_how_many() -> None:
    sql = "CREATE TABLE t (id INT);\nALTER TABLE t ADD COLUMN y INT;"
    assert found(sql, M, "SG601") == [
        (1, "this migration has 2 statements that change the database: " + MYSQL_COMMITS)]


def test_sg601_counts_a_block_by_its_statements_and_a_global_setting_as_one() -> None:
    sql = ("SET GLOBAL event_scheduler = ON;\nBEGIN NOT ATOMIC\n  INSERT INTO t VALUES (1);\n"
           "END;\nALTER TABLE t ADD COLUMN y INT;")
    assert found(sql, M, "SG601") == [(5, "this migration has 3 statements that change the "
                                          "database and mixes DDL with data changes: "
                                          + MYSQL_COMMITS)]
    # Blocks that only read leave one change: nothing to report.
    reads = ("BEGIN NOT ATOMIC\n  SELECT 1;\nEND;\nBEGIN NOT ATOMIC\n  SELECT 2;\nEND;\n"
             "ALTER TABLE t ADD COLUMN y INT;")
    assert found(reads, M, "SG601") == []


TRANSACTION_RUN = "inside a migration that switchy-guard already runs in a transaction"
MYSQL_RECORD = ("inside a migration: on MySQL/MariaDB switchy-guard records each statement as "
                "applied when it ends, so a failure inside the transaction leaves that record "
                "wrong (and DDL inside it commits implicitly)")


@pytest.mark.parametrize(("dialect", "word", "message"), [
    (P, "COMMIT", f"COMMIT {TRANSACTION_RUN}"), (S, "ROLLBACK", f"ROLLBACK {TRANSACTION_RUN}"),
    (M, "COMMIT", f"COMMIT {MYSQL_RECORD}")])
def test_sg602_names_the_statement_on_its_line(dialect: str, word: str, message: str) -> None:
    assert found(f"UPDATE t SET a = 1 WHERE id = 1;\n{word};", dialect, "SG602") == [
        (2, message)]


def test_sg602_is_silent_when_the_migration_controls_its_own_transactions() -> None:
    for dialect in (P, M, S):
        assert found("BEGIN;\nUPDATE t SET a = 1 WHERE id = 1;\nCOMMIT;", dialect, "SG602",
                     transactional=False) == []


RUN_TIME = "no rule could check the statement it runs"


@pytest.mark.parametrize(("dialect", "sql", "message"), [
    (P, "FROBNICATE users",
     "switchy-guard cannot classify this statement, so no rule could check it"),
    (P, "ALTER TABLE users FROBNICATE", "ALTER TABLE users FROBNICATE: not an action "
     "switchy-guard knows to be harmless, so no rule could check it"),
    (M, "EXECUTE IMMEDIATE @q", "this EXECUTE runs SQL built at run time (a prepared "
     f"statement whose text is not a string literal here): {RUN_TIME}"),
    (M, "EXECUTE s", "this EXECUTE runs SQL built at run time (a prepared "
     f"statement whose text is not a string literal here): {RUN_TIME}"),
    (P, "DO $$ BEGIN EXECUTE format('DROP TABLE %I', 'users'); END $$",
     "this block runs SQL it builds at run time: switchy-guard reads only a string literal "
     f"there, so {RUN_TIME}"),
    (P, "DO LANGUAGE plpython3u $py$ plpy.execute('x') $py$", "a DO block in plpython3u: "
     "switchy-guard reads PL/pgSQL blocks only, so no rule could check the statements it runs"),
])
def test_sg603_says_why_nothing_could_check_the_statement(dialect: str, sql: str,
                                                          message: str) -> None:
    assert found(sql, dialect, "SG603") == [(1, message)]


def test_sg603_is_silent_on_a_mysql_do_expression() -> None:
    assert found("DO 1", M, "SG603") == []


IN_TRANSACTION = ("ALTER TYPE ... ADD VALUE cannot run inside a transaction block before "
                  "PostgreSQL 12 (the server is {}), and this migration runs in one: it fails")


def test_sg604_fires_before_postgresql_12_naming_the_server() -> None:
    sql = "ALTER TYPE mood ADD VALUE 'x';"
    assert found(sql, P, "SG604", version=(11,)) == [(1, IN_TRANSACTION.format("11"))]
    assert found("ALTER TYPE mood ADD\nVALUE 'x';", P, "SG604", version=(10, 4)) == [
        (1, IN_TRANSACTION.format("10.4"))]
    # A CONCURRENTLY in a nested comment (PostgreSQL's comments nest) runs nothing outside
    # a transaction.
    commented = ("ALTER TYPE mood ADD VALUE 'x';\n"
                 "CREATE INDEX /* not /* nested */ CONCURRENTLY */ i ON t (a);")
    assert found(commented, P, "SG604", version=(11,)) == [(1, IN_TRANSACTION.format("11"))]
    in_block = "DO $$ BEGIN ALTER TYPE mood ADD VALUE 'x'; END $$;"
    assert found(in_block, P, "SG604", version=(11, 2)) == [
        (1, "ALTER TYPE ... ADD VALUE inside a DO block: before PostgreSQL 12 (the server is "
            "11.2) it cannot run from a function or block, so this migration fails")]


@pytest.mark.parametrize(("sql", "transactional", "version"), [
    ("ALTER TYPE mood ADD VALUE 'x';", True, (12,)),
    ("ALTER TYPE mood ADD VALUE 'x';", True, None),
    ("ALTER TYPE mood ADD VALUE 'x';", False, (11,)),
    # A migration holding CONCURRENTLY runs statement by statement already.
    ("ALTER TYPE mood ADD VALUE 'x';\nCREATE INDEX CONCURRENTLY i ON t (a);", True, (11,)),
    # ADD VALUE inside a string, or in a statement that is not ALTER TYPE.
    ("ALTER TYPE mood RENAME VALUE $$ ADD VALUE $$ TO 'x';", True, (11,)),
    ("ALTER TYPE mood RENAME VALUE 'a' TO 'b' /* was /* old */ ADD VALUE 'b' */;", True, (11,)),
    ("FROBNICATE a b ADD VALUE 'x';", True, (11,)),
    ("ALTER TYPE mood ADD ATTRIBUTE value int;", True, (10,)),
])
def test_sg604_look_alikes_stay_silent(sql: str, transactional: bool,
                                       version: tuple[int, ...] | None) -> None:
    assert found(sql, P, "SG604", transactional=transactional, version=version) == []


def test_sg603_reports_the_splitters_doubt_on_the_doubted_statement() -> None:
    sql = "SET standard_conforming_strings = off;\nSELECT '\\'; DROP TABLE users; SELECT '"
    assert found(sql, P, "SG603") == [
        (2, "the server may not read this statement as switchy-guard did: "
            "standard_conforming_strings is off here: a backslash in a '...' string escapes "
            "the next character, which switchy-guard's rules do not read so")]
