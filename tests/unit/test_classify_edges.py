"""Edges of the classifier that its mutation run (``make mutation``, issue 21) showed untested.

Each test states what the classifier reports for a statement -- its kind, table, columns,
actions and flags -- in the dialects where the answer differs.
"""

from __future__ import annotations

import pytest

from switchy_guard.sql.classify import classify
from tests.unit.rules.helpers import findings_for, messages_for

DIALECTS = (None, "sqlite", "postgres", "mysql")


def _names(names: tuple[object, ...]) -> list[str]:
    return [str(n) for n in names]


# -- what a DROP destroys -------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_truncate_names_every_table_it_empties(dialect: str | None) -> None:
    info = classify("TRUNCATE TABLE a, s.b", dialect)
    assert (info.kind, str(info.table), _names(info.tables), info.cascade) == (
        "truncate", "a", ["a", "s.b"], False)
    assert classify("TRUNCATE t", dialect).table is not None
    assert str(classify("TRUNCATE t", dialect).table) == "t"


def test_truncate_cascade_reaches_the_referencing_tables() -> None:
    info = classify("TRUNCATE TABLE ONLY orders, items CASCADE", "postgres")
    assert (str(info.table), _names(info.tables), info.cascade) == (
        "orders", ["orders", "items"], True)
    assert classify("TRUNCATE orders RESTRICT", "postgres").cascade is False
    assert classify("TRUNCATE", "postgres").table is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_drop_table_names_every_table(dialect: str | None) -> None:
    info = classify("DROP TABLE a, s.b", dialect)
    assert (info.kind, str(info.table), _names(info.tables), info.if_exists, info.cascade) == (
        "drop_table", "a", ["a", "s.b"], False, False)
    info = classify("DROP TABLE IF EXISTS a CASCADE", dialect)
    assert (str(info.table), info.if_exists, info.cascade) == ("a", True, True)


def test_drop_temporary_table_is_a_drop_table() -> None:
    info = classify("DROP TEMPORARY TABLE IF EXISTS scratch", "mysql")
    assert (info.kind, str(info.table), info.if_exists) == ("drop_table", "scratch", True)


def test_drop_table_without_a_name_has_no_table() -> None:
    info = classify("DROP TABLE", "postgres")
    assert (info.kind, info.table, info.tables) == ("drop_table", None, ())


@pytest.mark.parametrize(
    ("sql", "dialect", "index", "table", "concurrently", "if_exists"),
    [
        ("DROP INDEX i", "postgres", "i", None, False, False),
        ("DROP INDEX CONCURRENTLY IF EXISTS s.i", "postgres", "s.i", None, True, True),
        ("DROP INDEX IF EXISTS i", "sqlite", "i", None, False, True),
        ("DROP INDEX i ON t", "mysql", "i", "t", False, False),
        ("DROP INDEX `i` ON `s`.`t`", "mysql", "i", "s.t", False, False),
    ],
)
def test_drop_index_names_the_index_and_its_table(
        sql: str, dialect: str, index: str, table: str | None, concurrently: bool,
        if_exists: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, str(info.index), str(info.table) if info.table else None,
            info.concurrently, info.if_exists) == (
        "drop_index", index, table, concurrently, if_exists)


def test_drop_owned_by_names_the_roles() -> None:
    info = classify("DROP OWNED BY app, reporting CASCADE", "postgres")
    assert (info.kind, info.object_type, str(info.table), _names(info.tables)) == (
        "drop_schema", "owned", "app", ["app", "reporting"])
    assert classify("DROP OWNED BY", "postgres").table is None


@pytest.mark.parametrize(
    ("sql", "dialect", "object_type", "names", "if_exists"),
    [
        ("DROP SCHEMA s", "postgres", "schema", ["s"], False),
        ("DROP SCHEMA IF EXISTS s, t CASCADE", "postgres", "schema", ["s", "t"], True),
        ("DROP DATABASE shop", "mysql", "database", ["shop"], False),
        ("DROP DATABASE IF EXISTS shop", "mysql", "database", ["shop"], True),
        ("DROP SCHEMA", "postgres", "schema", [], False),
    ],
)
def test_drop_schema_or_database(sql: str, dialect: str, object_type: str, names: list[str],
                                 if_exists: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, info.object_type, _names(info.tables), info.if_exists) == (
        "drop_schema", object_type, names, if_exists)
    assert (str(info.table) if info.table else None) == (names[0] if names else None)


@pytest.mark.parametrize(
    ("sql", "object_type", "names", "if_exists"),
    [
        ("DROP VIEW a, b", "view", ["a", "b"], False),
        ("DROP MATERIALIZED VIEW IF EXISTS s.mv", "materialized view", ["s.mv"], True),
        ("DROP FUNCTION f(int, text), g(text)", "function", ["f", "g"], False),
        ("DROP FUNCTION IF EXISTS f(int)", "function", ["f"], True),
        ("DROP SEQUENCE seq", "sequence", ["seq"], False),
        ("DROP VIEW", "view", [], False),
    ],
)
def test_drop_other_objects_name_them_all(sql: str, object_type: str, names: list[str],
                                          if_exists: bool) -> None:
    info = classify(sql, "postgres")
    assert (info.kind, info.object_type, _names(info.tables), info.if_exists) == (
        "drop_other", object_type, names, if_exists)
    assert (str(info.table) if info.table else None) == (names[0] if names else None)


def test_drop_of_an_unknown_object_is_unknown() -> None:
    assert classify("DROP WIDGET w", "postgres").kind == "unknown"
    # MySQL's DROP PREPARE forgets a prepared statement as DEALLOCATE PREPARE does.
    info = classify("DROP PREPARE p", "mysql")
    assert (info.kind, info.object_type) == ("other", "prepared")


# -- what a DELETE or UPDATE destroys ---------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "table", "tables", "has_where"),
    [
        ("DELETE LOW_PRIORITY QUICK IGNORE FROM t WHERE id = 1", "t", ["t"], True),
        ("DELETE IGNORE FROM t", "t", ["t"], False),
        # The multi-table forms: every target loses rows, an alias names its table.
        ("DELETE a, b FROM a JOIN b ON a.id = b.id WHERE a.x = 1", "a", ["a", "b"], True),
        ("DELETE u FROM users AS u JOIN old o ON o.id = u.id", "users", ["users"], False),
        ("DELETE o FROM users u JOIN old o ON o.id = u.id", "old", ["old"], False),
        ("DELETE a.*, b.* FROM a, b WHERE a.id = b.id", "a", ["a", "b"], True),
        ("DELETE FROM a, b USING a JOIN b ON a.id = b.id", "a", ["a", "b"], False),
        ("DELETE FROM x, y USING users x, orders AS y WHERE x.id = y.uid", "users",
         ["users", "orders"], True),
        ("DELETE s.t FROM s.t JOIN u ON s.t.id = u.id", "s.t", ["s.t"], False),
    ],
)
def test_mysql_delete_targets(sql: str, table: str, tables: list[str], has_where: bool) -> None:
    info = classify(sql, "mysql")
    assert (info.kind, str(info.table), _names(info.tables), info.has_where) == (
        "delete", table, tables, has_where)


@pytest.mark.parametrize("dialect", ("postgres", "sqlite", None))
def test_delete_using_a_second_table_deletes_from_the_first_only(dialect: str | None) -> None:
    info = classify("DELETE FROM t USING u WHERE t.id = u.id", dialect)
    assert (str(info.table), _names(info.tables), info.has_where) == ("t", ["t"], True)
    info = classify("DELETE FROM ONLY s.t", dialect)
    assert (str(info.table), _names(info.tables), info.has_where) == ("s.t", ["s.t"], False)


def test_mysql_delete_from_an_alias_using_its_table_deletes_from_the_table() -> None:
    # DELETE FROM a USING users AS a: MySQL's multi-table form with one target, an alias.
    info = classify("DELETE FROM a USING users AS a WHERE a.id = 1", "mysql")
    assert (str(info.table), _names(info.tables), info.has_where) == ("users", ["users"], True)
    info = classify("DELETE FROM a USING users a JOIN orders o ON o.uid = a.id", "mysql")
    assert (str(info.table), _names(info.tables), info.has_where) == ("users", ["users"], False)
    messages = messages_for("DELETE FROM a USING users AS a;\n", "mysql")
    assert messages["SG305"] == ["deletes every row of users (no WHERE clause)"]


@pytest.mark.parametrize(
    ("sql", "tables", "has_where"),
    [
        # Parentheses in a join are skipped whole: what follows them is still read.
        ("DELETE u, o FROM users u JOIN (SELECT 1) s ON (s.x = u.id) JOIN orders o "
         "ON o.uid = u.id", ["users", "orders"], False),
        # A WHERE inside them is not the statement's.
        ("DELETE u FROM users u JOIN orders o ON o.uid = u.id AND o.id IN "
         "(SELECT id FROM x WHERE y = 1)", ["users"], False),
        ("DELETE u FROM users u JOIN orders o ON (SELECT COUNT(*) FROM x WHERE x.a = u.id) > 0",
         ["users"], False),
        # Table references in parentheses are read like the others.
        ("DELETE o, i FROM users u JOIN (orders o, items i) ON o.uid = u.id AND i.oid = o.id",
         ["orders", "items"], False),
        ("DELETE o FROM users u JOIN (orders AS o) ON NOT o.uid <> u.id WHERE u.x = 1",
         ["orders"], True),
        # A join condition names no table, whatever its first word.
        ("DELETE u FROM users u JOIN orders o ON NOT u.id <> o.uid", ["users"], False),
        # Every join is read, past the conditions of the ones before.
        ("DELETE o FROM users u JOIN x ON x.id = u.id JOIN orders o ON o.uid = u.id",
         ["orders"], False),
        ("DELETE o FROM users u JOIN x USING (id) JOIN orders AS o USING (id)",
         ["orders"], False),
        # MySQL's partition selection comes between a table and its alias.
        ("DELETE u FROM users PARTITION (p0, p1) AS u JOIN orders o ON o.uid = u.id",
         ["users"], False),
        ("DELETE u, o FROM users PARTITION (p0) u, orders o WHERE o.uid = u.id",
         ["users", "orders"], True),
        # A target named by its table gets the schema the FROM list gives it.
        ("DELETE users FROM app.users JOIN orders o ON o.uid = users.id", ["app.users"], False),
        # A target that names no table of the FROM list is kept as written.
        ("DELETE x FROM users", ["x"], False),
    ],
)
def test_mysql_multi_table_delete_references(sql: str, tables: list[str],
                                             has_where: bool) -> None:
    info = classify(sql, "mysql")
    assert (_names(info.tables), info.has_where) == (tables, has_where)


def test_postgres_delete_using_a_subquery_without_alias_keeps_its_target() -> None:
    # PostgreSQL 16 takes a subquery without an alias; ON's condition names no table.
    info = classify("DELETE FROM t USING u JOIN (SELECT 1 AS x) ON t.id = u.id", "postgres")
    assert (str(info.table), _names(info.tables)) == ("t", ["t"])


def test_delete_without_a_table_is_still_a_delete() -> None:
    info = classify("DELETE FROM", "postgres")
    assert (info.kind, info.table, info.has_where) == ("delete", None, False)
    # Unreadable targets: whether a WHERE bounds the rows is still read, per dialect.
    assert classify("DELETE FROM (t) WHERE id = 1", "postgres").has_where is True
    assert classify("DELETE FROM (t) WHERE id = 0 || 1", "postgres").has_where is True
    assert classify("DELETE FROM (t) WHERE id = 0 || 1", "mysql").has_where is False


@pytest.mark.parametrize(
    ("sql", "dialect", "table", "has_where"),
    [
        ("UPDATE LOW_PRIORITY IGNORE t SET a = 1", "mysql", "t", False),
        ("UPDATE IGNORE t SET a = 1 WHERE id = 2", "mysql", "t", True),
        ("UPDATE ONLY s.t SET a = 1", "postgres", "s.t", False),
        ("UPDATE OR ROLLBACK t SET a = 1", "sqlite", "t", False),
        ("UPDATE OR ABORT t SET a = 1 WHERE a = 2", "sqlite", "t", True),
        ("UPDATE OR FAIL t SET a = 1", "sqlite", "t", False),
        ("UPDATE OR IGNORE t SET a = 1", "sqlite", "t", False),
    ],
)
def test_update_names_its_table(sql: str, dialect: str, table: str, has_where: bool) -> None:
    info = classify(sql, dialect)
    assert (info.kind, str(info.table), info.has_where) == ("update", table, has_where)


# -- whether a WHERE clause bounds anything -----------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "where",
    [
        # Parentheses around an OR do not make one of its branches any less always true.
        "(id = 0 OR TRUE)", "((id = 0 OR (1 = 1)))", "(id = 0) OR (TRUE)", "(id = 0 OR id = id)",
        # A constant comparison the server finds true though it is spelled differently.
        "1 = 1.0", "1 = 01", "1.5 = 1.50", "2 <> 1", "2 != 1", "2 > 1", "'a' = 'A'",
        "1 IS NOT NULL", "NOT 0", "CAST(1 AS BOOLEAN)", "1 <> '1'", "1e0 = 1", ".5 = 0.5",
        "(id IN (1, 2)) OR TRUE", "id IN ((1), 2) OR TRUE", '"id" = "id"', "u.id = U.ID",
        # A string it does not read (escapes) is not taken as plainly different.
        "'a''b' = 'ab'", "E'a' = 'b'",
        # MySQL's and MariaDB's PAD SPACE collations: trailing spaces do not count.
        "'a' = 'a  '",
        "TRUE LIMIT 5", "TRUE ORDER BY id", "TRUE OFFSET 2", "TRUE FETCH FIRST 1 ROW ONLY",
    ],
)
def test_a_where_clause_that_is_always_true_bounds_nothing(dialect: str | None,
                                                           where: str) -> None:
    assert classify(f"DELETE FROM users WHERE {where}", dialect).has_where is False
    assert classify(f"UPDATE users SET a = 1 WHERE {where}", dialect).has_where is False


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "where",
    [
        "0", "NULL", "NOT TRUE", "FALSE", "(FALSE)", "1 = 2", "1 <> 1", "1 != 1", "1.0 <> 1",
        "'a' = 'b'", "'a' <> 'a'", "(id = 0 OR FALSE)", "(id = 0) OR (1 = 2)",
        "(id = 0) AND (TRUE)", "(id = 0 OR id = 1) AND (id = 2 OR TRUE)",
        "id = 3 ORDER BY id LIMIT 1", "(a) = (b)", "NOT (TRUE)",
        # Only trailing spaces are padded, and only those: 'a\t' and 'aX' are not 'a'.
        "'a\t' = 'a'", "'aX' = 'a'",
        "id IN (SELECT id FROM u WHERE TRUE)", "a = b.c", "t.a = t.b", "a = a + 1",
        # Calls may differ between the two sides: RANDOM() = RANDOM() is not always true.
        "RANDOM() = RANDOM()",
    ],
)
def test_a_where_clause_that_can_be_false_bounds_the_rows(dialect: str | None,
                                                          where: str) -> None:
    assert classify(f"DELETE FROM users WHERE {where}", dialect).has_where is True
    assert classify(f"UPDATE users SET a = 1 WHERE {where}", dialect).has_where is True


def test_mysql_backslash_escapes_are_not_read_as_plainly_different() -> None:
    # MySQL drops the backslash of an unknown escape: '\x' = 'x' is true there.
    assert classify("DELETE FROM t WHERE '\\x' = 'x'", "mysql").has_where is False


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_where_inside_parentheses_is_not_the_statements(dialect: str | None) -> None:
    sql = "UPDATE users SET a = (SELECT b FROM u WHERE u.id = 1)"
    assert classify(sql, dialect).has_where is False
    sql = "DELETE FROM users USING (SELECT id FROM u WHERE u.x = 1) s"
    assert classify(sql, dialect).has_where is False


def test_double_bar_splits_or_branches_only_where_it_means_or() -> None:
    for dialect in ("mysql", None):
        assert classify("DELETE FROM t WHERE id = 0 || id = id", dialect).has_where is False
        assert classify("DELETE FROM t WHERE (id = 0 || 1)", dialect).has_where is False
    for dialect in ("postgres", "sqlite"):
        assert classify("DELETE FROM t WHERE id = 0 || 1", dialect).has_where is True
        assert classify("DELETE FROM t WHERE id = 0 OR 1", dialect).has_where is False
        assert classify("UPDATE t SET a = 1 WHERE id = 0 || 1", dialect).has_where is True
        assert classify("DELETE FROM t WHERE (id = 0 || 1)", dialect).has_where is True
    assert classify("UPDATE t SET a = 1 WHERE id = 0 || 1", "mysql").has_where is False
    info = classify("DELETE FROM t WHERE id = 0 || id = 1", "mysql")
    assert (info.kind, str(info.table), info.has_where) == ("delete", "t", True)


# -- what the gate makes of it --------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS[1:])
@pytest.mark.parametrize("where", ["(id = 0 OR TRUE)", "1 = 1.0", "(id = 0) OR ('a' = 'a ')"])
def test_delete_bounded_by_an_always_true_clause_is_refused(dialect: str, where: str) -> None:
    assert "SG305" in findings_for(f"DELETE FROM users WHERE {where};\n", dialect)
    assert "SG305" not in findings_for("DELETE FROM users WHERE (id = 0 OR 1 = 2);\n",
                                       dialect)


def test_every_table_of_a_mysql_multi_table_delete_is_reported() -> None:
    messages = messages_for("DELETE o.*, users.* FROM orders o, users;\n", "mysql")
    assert sorted(messages["SG305"]) == [
        "deletes every row of orders (no WHERE clause)",
        "deletes every row of users (no WHERE clause)"]
