"""Transactions and execution (rules/transactions.py, SG601-SG603)."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from tests.unit.rules.helpers import (
    Cases,
    M,
    P,
    S,
    assert_fires_and_quiet,
    findings_for,
    fire_params,
)

# code: [(dialects, fires, look-alike that must not fire)]
CASES: Cases = {
    "SG601": [((M,), "ALTER TABLE users ADD COLUMN x INT;\nUPDATE users SET x = 1 WHERE x IS NULL",
               "ALTER TABLE users ADD COLUMN x INT"),
              # Session settings, reads and locks end with the session (mysqldump headers).
              ((M,), "SET GLOBAL event_scheduler = ON;\nCREATE TABLE t (id INT)",
               "/*!40101 SET NAMES utf8mb4 */;\nSET @x = 1;\nLOCK TABLES users WRITE;\n"
               "ALTER TABLE users ADD COLUMN y INT;\nSELECT 1;\nUNLOCK TABLES")],
    "SG602": [((P, M, S), "BEGIN;\nUPDATE users SET email = '' WHERE id = 1;\nCOMMIT",
               "UPDATE users SET email = '' WHERE id = 1"),
              ((M,), "START TRANSACTION", "SAVEPOINT a"),
              ((P,), "ABORT", "ROLLBACK WORK TO SAVEPOINT a")],
    "SG603": [((P, M, S), "FROBNICATE users", "INSERT INTO users (id) VALUES (1)")],
    "SG605": [((P,), "ALTER TYPE mood ADD VALUE 'ok';\nUPDATE users SET email = 'ok'",
               "ALTER TYPE mood ADD VALUE 'ok';\nUPDATE users SET email = 'OK'")],
}


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), fire_params(CASES))
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert_fires_and_quiet(code, dialect, fires, quiet)


def test_mariadb_begin_not_atomic_is_not_transaction_control() -> None:
    block = ("BEGIN NOT ATOMIC\n  IF 1 = 1 THEN\n    SELECT 1;\n  END IF;\nEND;\n"
             "INSERT INTO users (id) VALUES (1)")
    assert "SG602" not in findings_for(block, "mysql")
    assert "SG602" in findings_for("BEGIN;\nINSERT INTO users (id) VALUES (1)", "mysql")


def test_sg602_says_what_a_transaction_does_on_each_database() -> None:
    def message(dialect: str) -> str:
        migration = Migration("2024-01-02-000000_case", "START TRANSACTION;\nSELECT 1;\nCOMMIT",
                              "", "a", "b", noop_down=True, up_path="case/up.sql")
        (first, *_) = [f for f in validate([migration], dialect).findings if f.code == "SG602"]
        return first.message

    assert message("postgres") == ("START inside a migration that switchy-guard already runs "
                                   "in a transaction")
    # MySQL migrations run statement by statement: no transaction of the runner's there.
    assert "records each statement as applied when it ends" in message("mysql")
    assert "already runs in a transaction" not in message("mysql")
