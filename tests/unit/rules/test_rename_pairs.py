"""MySQL/MariaDB's ``RENAME TABLE a TO b, c TO d``: every pair counts, in order.

A swap through a third name (``users TO tmp, fresh TO users, tmp TO fresh``) turns the
new table into ``users`` and the old ``users`` into ``fresh``: dropping ``fresh`` after it
drops the old rows, which only the whole list of pairs shows.
"""

from __future__ import annotations

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.sql.classify import Name, classify

BASE = "CREATE TABLE users (id INT NOT NULL, email VARCHAR(255));\n"


def findings(sql: str) -> list[tuple[str, str]]:
    base = Migration("2024-01-01-000000_base", BASE, "", "a", "b", noop_down=True)
    case = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    result = validate([base, case], "mysql", plan_ids={case.id})
    return [(f.code, f.message) for f in result.findings if f.migration == case.id]


def test_every_pair_is_classified_in_order() -> None:
    info = classify("RENAME TABLE IF EXISTS a WAIT 2 TO b, s.c NOWAIT TO d, `e` TO f", "mysql")
    assert info.kind == "rename_table"
    assert [(str(o), str(n)) for o, n in info.renames] == [("a", "b"), ("s.c", "d"), ("e", "f")]
    assert (info.table, info.new_name) == (Name("a"), Name("b"))


def test_a_rename_without_a_target_is_not_passed_as_understood() -> None:
    assert classify("RENAME TABLE a TO b, c", "mysql").kind == "unknown"


def test_a_swap_then_drop_of_the_old_table_is_a_drop_table() -> None:
    sql = ("CREATE TABLE fresh (id INT);\n"
           "RENAME TABLE users TO tmp, fresh TO users, tmp TO fresh;\n"
           "DROP TABLE fresh;\n")
    drops = [m for c, m in findings(sql) if c == "SG301"]
    assert drops and "fresh" in drops[0]


def test_a_swap_reports_each_rename_of_an_existing_table() -> None:
    sql = ("CREATE TABLE fresh (id INT);\n"
           "RENAME TABLE users TO tmp, fresh TO users, tmp TO fresh;\n")
    renames = sorted(m for c, m in findings(sql) if c == "SG502")
    # users -> tmp moves the live table; tmp -> fresh moves it again; fresh -> users
    # moves the new, empty table (no running code reads it).
    assert renames == ["renames table tmp to fresh", "renames table users to tmp"]


def test_the_new_table_renamed_in_a_later_pair_stays_new() -> None:
    sql = ("CREATE TABLE fresh (id INT);\n"
           "RENAME TABLE users TO old_users, fresh TO users;\n"
           "DELETE FROM users;\n"
           "DELETE FROM old_users;\n")
    deletes = [m for c, m in findings(sql) if c == "SG305"]
    assert len(deletes) == 1 and "old_users" in deletes[0]


def test_the_target_loses_its_newness() -> None:
    sql = ("CREATE TABLE a (id INT);\n"
           "RENAME TABLE a TO b, users TO a;\n"
           "DROP TABLE a;\n")
    assert any(c == "SG301" for c, _ in findings(sql))


def test_column_facts_follow_each_pair() -> None:
    # users.id is NOT NULL; after the swap it is old_users.id: a MODIFY there without
    # NOT NULL drops it (SG503), which the model only knows if the facts moved.
    sql = ("RENAME TABLE users TO old_users, old_users TO archived;\n"
           "ALTER TABLE archived MODIFY id INT;\n")
    assert any(c == "SG503" for c, _ in findings(sql))
