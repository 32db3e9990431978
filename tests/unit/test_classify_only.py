"""ONLY before a table name is PostgreSQL's reserved word; MySQL/MariaDB and SQLite may
name a table ``only``, and the classifier must then read that table, not the next word."""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration
from switchy_guard.sql.classify import Name, classify


@pytest.mark.parametrize(("sql", "dialect", "kind", "tables"), [
    ("DELETE FROM only WHERE id = 1", "mysql", "delete", ("only",)),
    ("DELETE FROM only WHERE id = 1", "sqlite", "delete", ("only",)),
    ("DELETE FROM only WHERE id = 1", None, "delete", ("only",)),
    ("DELETE only FROM users only WHERE only.id = 1", "mysql", "delete", ("users",)),
    ("DELETE FROM a USING only AS a WHERE a.id = 1", "mysql", "delete", ("only",)),
    ("TRUNCATE TABLE only", "mysql", "truncate", ("only",)),
    ("TRUNCATE only", "sqlite", "truncate", ("only",)),
    ("DELETE FROM ONLY users WHERE id = 1", "postgres", "delete", ("users",)),
    ("DELETE FROM ONLY users WHERE id = 1", None, "delete", ("users",)),
    ("TRUNCATE ONLY users", "postgres", "truncate", ("users",)),
    ("TRUNCATE ONLY \"users\" CASCADE", None, "truncate", ("users",)),
    ("DELETE FROM t USING ONLY o WHERE t.id = o.id", "postgres", "delete", ("t",)),
    # A MySQL table named only, with an alias: not PostgreSQL's ONLY before a table o.
    ("DELETE FROM only o WHERE o.id = 1", "mysql", "delete", ("only",)),
    # PostgreSQL: ONLY before a table named add (an unreserved word there), or quoted.
    ("TRUNCATE ONLY add", "postgres", "truncate", ("add",)),
    ("TRUNCATE ONLY \"where\"", None, "truncate", ("where",)),
    # A self-join through ONLY: users u is no alias of the target users.
    ("DELETE FROM users USING ONLY users u WHERE users.id = u.id", "postgres", "delete",
     ("users",)),
    # Past a reference no table can be, the reader goes on to the next one.
    ("DELETE a FROM 5, users AS a WHERE a.id = 1", "mysql", "delete", ("users",)),
])
def test_the_table_of_a_delete_or_truncate(sql: str, dialect: str | None, kind: str,
                                           tables: tuple[str, ...]) -> None:
    info = classify(sql, dialect)
    assert (info.kind, tuple(t.name for t in info.tables)) == (kind, tables)


@pytest.mark.parametrize(("sql", "dialect", "table"), [
    ("UPDATE only SET a = 1", "mysql", "only"),
    ("UPDATE ONLY users SET a = 1", "postgres", "users"),
    ("UPDATE LOW_PRIORITY only SET a = 1", "mysql", "only"),
    ("UPDATE only o SET o.a = 1", "mysql", "only"),
    ("CREATE INDEX i ON only (a)", "mysql", "only"),
    ("CREATE INDEX i ON ONLY t (a)", "postgres", "t"),
    ("CREATE INDEX i ON ONLY add (a)", "postgres", "add"),
])
def test_the_table_of_an_update_or_index(sql: str, dialect: str, table: str) -> None:
    assert classify(sql, dialect).table == Name(table)


def test_a_mysql_table_named_only_is_the_one_a_truncate_empties() -> None:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE `only` (id INT);", "", "a", "b",
                     noop_down=True)
    emptied = Migration("2024-01-02-000000_empty", "TRUNCATE TABLE only;", "", "a", "b",
                        noop_down=True)
    findings = validate([base, emptied], "mysql", plan_ids={emptied.id}).findings
    assert [(f.code, "only" in f.message) for f in findings if f.code == "SG304"] == [
        ("SG304", True)]
