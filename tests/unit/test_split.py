"""Statement splitting per dialect, with lines, columns and leading comments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchy_guard.sql import split_statements


def texts(sql: str, dialect: str | None = None) -> list[str]:
    return [s.text for s in split_statements(sql, dialect)]


@pytest.mark.parametrize("dialect", [None, "sqlite", "postgres", "mysql"])
def test_basic_splitting_in_every_dialect(dialect: str | None) -> None:
    sql = "SELECT 1;\nSELECT 'a;b';  SELECT \"x;y\" ;;\n\nSELECT 2"
    assert texts(sql, dialect) == ["SELECT 1", "SELECT 'a;b'", 'SELECT "x;y"', "SELECT 2"]


def test_positions_and_indexes() -> None:
    sql = "SELECT 1;\n\n  INSERT INTO t\n  VALUES (1);\nSELECT 3;"
    first, second, third = split_statements(sql)
    assert (first.line, first.column, first.end_line, first.index) == (1, 1, 1, 0)
    assert (second.line, second.column, second.end_line, second.index) == (3, 3, 4, 1)
    assert second.text == "INSERT INTO t\n  VALUES (1)"
    assert (third.line, third.index) == (5, 2)


def test_leading_comments_with_lines() -> None:
    sql = (
        "SELECT 1;\n"
        "-- switchy-guard: allow drop-column -- unused since v2\n"
        "/* block\n   comment */\n"
        "ALTER TABLE t DROP COLUMN c; -- trailing\n"
        "SELECT 2 -- inner comment stays\n;"
    )
    _, alter, last = split_statements(sql)
    assert alter.leading_comments == (
        "switchy-guard: allow drop-column -- unused since v2",
        "block\n   comment",
    )
    assert alter.comment_lines == (2, 3)
    assert alter.line == 5
    assert last.leading_comments == ("trailing",)
    assert last.text == "SELECT 2 -- inner comment stays"


def test_comment_only_and_empty_input() -> None:
    assert split_statements("") == []
    assert split_statements("  \n-- nothing\n/* here */\n;;\n") == []


def test_escaped_quotes_and_semicolons_in_comments() -> None:
    sql = "INSERT INTO t VALUES ('it''s; fine'); -- a; b\nSELECT /* x; y */ 2;"
    assert texts(sql) == ["INSERT INTO t VALUES ('it''s; fine')", "SELECT /* x; y */ 2"]


def test_postgres_dollar_quotes_and_escape_strings() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 1;\n  RETURN NEW;\nEND;\n"
        "$$ LANGUAGE plpgsql;\n"
        "DO $body$ BEGIN PERFORM 'a;'; END $body$;\n"
        "SELECT E'a\\';b', $1, a$b$c FROM t;\n"
        "SELECT 'back\\';"
    )
    assert texts(sql, "postgres") == [
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 1;\n  RETURN NEW;\nEND;\n"
        "$$ LANGUAGE plpgsql",
        "DO $body$ BEGIN PERFORM 'a;'; END $body$",
        "SELECT E'a\\';b', $1, a$b$c FROM t",
        "SELECT 'back\\'",
    ]


def test_postgres_nested_block_comments() -> None:
    assert texts("SELECT 1 /* a /* b; */ c; */;SELECT 2;", "postgres") == [
        "SELECT 1 /* a /* b; */ c; */",
        "SELECT 2",
    ]


def test_postgres_begin_atomic_body() -> None:
    sql = (
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n"
        "SELECT 3;"
    )
    assert len(texts(sql, "postgres")) == 2


def test_mysql_delimiter_blocks() -> None:
    sql = (
        "DELIMITER //\n"
        "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\n"
        "delimiter ;\n"
        "SELECT 3;"
    )
    procedure, select = split_statements(sql, "mysql")
    assert procedure.text == "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND"
    assert (procedure.line, select.line) == (2, 8)
    assert select.text == "SELECT 3"


def test_mysql_compound_without_delimiter() -> None:
    sql = (
        "CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n"
        "  IF NEW.x > 0 THEN SET NEW.y = 1; END IF;\n"
        "  CASE NEW.z WHEN 1 THEN SET NEW.y = 2; ELSE BEGIN END; END CASE;\n"
        "  lbl: LOOP LEAVE lbl; END LOOP lbl;\n"
        "END;\n"
        "SELECT IF(1, 2, 3), CASE WHEN 1 THEN 2 END;"
    )
    trigger, select = texts(sql, "mysql")
    assert trigger.endswith("END LOOP lbl;\nEND")
    assert select == "SELECT IF(1, 2, 3), CASE WHEN 1 THEN 2 END"


def test_mysql_specifics() -> None:
    sql = (
        "SELECT `a;b`, \"c\\\";d\" FROM t; # hash; comment\n"
        "/*!40101 SET NAMES utf8 */;\n"
        "SELECT 'x\\';y';"
    )
    assert texts(sql, "mysql") == [
        "SELECT `a;b`, \"c\\\";d\" FROM t",
        "/*!40101 SET NAMES utf8 */",
        "SELECT 'x\\';y'",
    ]


def test_sqlite_trigger_brackets_and_transaction_control() -> None:
    sql = (
        "BEGIN;\n"
        "CREATE TRIGGER tr AFTER INSERT ON a BEGIN\n"
        "  UPDATE b SET n = CASE WHEN new.x THEN 1 ELSE 0 END;\n"
        "  INSERT INTO c VALUES (1);\n"
        "END;\n"
        "SELECT [odd;name] FROM t;\n"
        "COMMIT;"
    )
    assert texts(sql, "sqlite") == [
        "BEGIN",
        "CREATE TRIGGER tr AFTER INSERT ON a BEGIN\n"
        "  UPDATE b SET n = CASE WHEN new.x THEN 1 ELSE 0 END;\n"
        "  INSERT INTO c VALUES (1);\nEND",
        "SELECT [odd;name] FROM t",
        "COMMIT",
    ]


def test_identifiers_containing_keywords_do_not_open_blocks() -> None:
    sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE x SET end_date = 1, weekend = 2; END;"
    assert texts(sql, "sqlite") == [sql[:-1]]


def test_unterminated_constructs_return_the_rest() -> None:
    assert texts("SELECT 1; SELECT 'open") == ["SELECT 1", "SELECT 'open"]
    assert texts("SELECT $$ open", "postgres") == ["SELECT $$ open"]
    assert texts("SELECT 1 /* open") == ["SELECT 1 /* open"]


def test_crlf_and_bom() -> None:
    sql = "\ufeffSELECT 1;\r\nSELECT 2;\r\n\r\nSELECT 3"
    statements = split_statements(sql)
    assert [s.text for s in statements] == ["SELECT 1", "SELECT 2", "SELECT 3"]
    assert [s.line for s in statements] == [1, 2, 4]
    assert statements[0].column == 1


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="unknown dialect"):
        split_statements("SELECT 1", "oracle")


_SIMPLE = st.builds(
    lambda table, value: f"INSERT INTO {table} VALUES ('{value}')",
    st.sampled_from(["a", "b_c", "items"]),
    st.text(alphabet="xyz ;-*/#$\n", max_size=12).map(lambda v: v.replace("'", "''")),
)


@given(st.lists(_SIMPLE, min_size=1, max_size=8), st.sampled_from([None, "sqlite", "mysql"]))
def test_joined_statements_split_back(statements: list[str], dialect: str | None) -> None:
    sql = ";\n".join(statements) + ";\n"
    result = split_statements(sql, dialect)
    assert [s.text for s in result] == statements
    line = 1
    for original, statement in zip(statements, result, strict=True):
        assert statement.line == line
        line += original.count("\n") + 1
