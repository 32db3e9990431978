"""Statement splitting per dialect, with lines, columns and leading comments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchy_guard.sql import Statement, split_statements
from switchy_guard.sql.blocks import with_blocks
from switchy_guard.sql.classify import classify

DIALECTS = [None, "sqlite", "postgres", "mysql"]


def texts(sql: str, dialect: str | None = None) -> list[str]:
    return [s.text for s in split_statements(sql, dialect)]


def at(sql: str, line: int, column: int) -> str:
    """The source from 1-based ``line``/``column`` on."""
    return "\n".join(sql.split("\n")[line - 1 :])[column - 1 :]


# -- the basics ---------------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
def test_basic_splitting_in_every_dialect(dialect: str | None) -> None:
    sql = "SELECT 1;\nSELECT 'a;b';  SELECT \"x;y\" ;;\n\nSELECT 2"
    assert texts(sql, dialect) == ["SELECT 1", "SELECT 'a;b'", 'SELECT "x;y"', "SELECT 2"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_quote_escapes_and_comments_in_every_dialect(dialect: str | None) -> None:
    sql = (
        "INSERT INTO t VALUES ('it''s; fine', \"a\"\"b;\"); -- a; b\n"
        "SELECT /* x; y */ 2;\n"
        "SELECT 3 -- inner; comment\n;"
    )
    assert texts(sql, dialect) == [
        "INSERT INTO t VALUES ('it''s; fine', \"a\"\"b;\")",
        "SELECT /* x; y */ 2",
        "SELECT 3 -- inner; comment",
    ]


def test_statement_is_a_frozen_value() -> None:
    (statement,) = split_statements("SELECT 1")
    assert statement == Statement("SELECT 1", 1, 1, 1, 0, (), ())
    with pytest.raises(AttributeError):
        statement.text = "x"  # type: ignore[misc]


def test_positions_and_indexes() -> None:
    sql = "SELECT 1;\n\n  INSERT INTO t\n  VALUES (1);\nSELECT 3; \tSELECT 4;"
    first, second, third, fourth = split_statements(sql)
    assert (first.line, first.column, first.end_line, first.index) == (1, 1, 1, 0)
    assert (second.line, second.column, second.end_line, second.index) == (3, 3, 4, 1)
    assert second.text == "INSERT INTO t\n  VALUES (1)"
    assert (third.line, third.column, third.end_line, third.index) == (5, 1, 5, 2)
    assert (fourth.line, fourth.column, fourth.index) == (5, 12, 3)


def test_end_line_ignores_trailing_whitespace_before_the_delimiter() -> None:
    (statement,) = split_statements("SELECT\n  1\n\n\n;")
    assert (statement.text, statement.line, statement.end_line) == ("SELECT\n  1", 1, 2)


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    "sql", ["", "   \n\t\r\n", ";;;", "  \n-- nothing\n/* here */\n;;\n", "/* a */ ; -- b"]
)
def test_no_statements_in_empty_or_comment_only_input(sql: str, dialect: str | None) -> None:
    assert split_statements(sql, dialect) == []


def test_final_statement_without_delimiter() -> None:
    assert texts("SELECT 1;\nSELECT 2\n") == ["SELECT 1", "SELECT 2"]


def test_comments_after_an_undelimited_final_statement_are_not_part_of_it() -> None:
    (statement,) = split_statements("SELECT 1 -- inner\n  + 2\n-- trailing\n/* and this */\n")
    assert statement.text == "SELECT 1 -- inner\n  + 2"
    assert statement.end_line == 2


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="unknown dialect"):
        split_statements("SELECT 1", "oracle")


# -- leading comments -----------------------------------------------------------------


def test_leading_comments_with_lines() -> None:
    sql = (
        "SELECT 1;\n"
        "-- switchy-guard: allow drop-column -- unused since v2\n"
        "/* block\n   comment */\n"
        "ALTER TABLE t DROP COLUMN c; -- trailing\n"
        "SELECT 2 -- inner comment stays\n;"
    )
    first, alter, last = split_statements(sql)
    assert first.leading_comments == () and first.comment_lines == ()
    assert alter.leading_comments == (
        "switchy-guard: allow drop-column -- unused since v2",
        "block\n   comment",
    )
    assert alter.comment_lines == (2, 3)
    assert (alter.line, alter.column) == (5, 1)
    assert alter.trailing_comments == (("trailing", 5),)
    assert last.leading_comments == () and last.comment_lines == ()
    assert last.text == "SELECT 2 -- inner comment stays"


def test_a_comment_on_the_line_a_statement_ends_trails_it() -> None:
    sql = (
        "DROP TABLE a; -- why a\n"
        "DROP TABLE b\n;  /* why b */ # not a comment in postgres\n"
        "-- above c\n"
        "DROP TABLE c -- why c"
    )
    a, b, c = split_statements(sql, "mysql")
    assert a.trailing_comments == (("why a", 1),)
    assert b.trailing_comments == (("why b", 3), ("not a comment in postgres", 3))
    assert (b.leading_comments, c.leading_comments) == ((), ("above c",))
    assert (c.text, c.trailing_comments) == ("DROP TABLE c", (("why c", 5),))
    # A comment below an undelimited last statement trails nothing.
    (last,) = split_statements("DROP TABLE d\n-- below")
    assert (last.text, last.trailing_comments) == ("DROP TABLE d", ())


def test_leading_comments_of_the_first_statement_and_across_empty_statements() -> None:
    sql = "--first\n  --   second   \n;\n/**/\nDROP TABLE t;"
    (statement,) = split_statements(sql)
    assert statement.leading_comments == ("first", "second", "")
    assert statement.comment_lines == (1, 2, 4)
    assert statement.line == 5


def test_comments_inside_a_statement_are_not_leading_comments() -> None:
    first, second = split_statements("SELECT /* a */ 1 -- b\n;\nSELECT 2;")
    assert first.leading_comments == () and second.leading_comments == ()


def test_unterminated_block_comment_between_statements() -> None:
    assert split_statements("SELECT 1; /* open ; SELECT 2") == [
        Statement("SELECT 1", 1, 1, 1, 0, (), (), (("open ; SELECT 2", 1),))
    ]


# -- line endings and BOM -------------------------------------------------------------


def test_crlf_and_bom() -> None:
    sql = "\ufeff-- note\r\nSELECT 1;\r\nSELECT\r\n  2;\r\n\r\n  SELECT 3"
    statements = split_statements(sql)
    assert [s.text for s in statements] == ["SELECT 1", "SELECT\r\n  2", "SELECT 3"]
    assert [s.line for s in statements] == [2, 3, 6]
    assert [s.end_line for s in statements] == [2, 4, 6]
    assert [s.column for s in statements] == [1, 1, 3]
    assert statements[0].leading_comments == ("note",)


def test_bom_does_not_shift_the_first_column() -> None:
    (statement,) = split_statements("\ufeff  SELECT 1")
    assert (statement.line, statement.column) == (1, 3)


# -- PostgreSQL -----------------------------------------------------------------------


def test_postgres_function_and_do_blocks_are_single_statements() -> None:
    function = (
        "CREATE FUNCTION f() RETURNS trigger AS $$\nBEGIN\n  NEW.x := 1;\n  RETURN NEW;\nEND;\n"
        "$$ LANGUAGE plpgsql"
    )
    sql = f"{function};\nDO $body$ BEGIN PERFORM 'a;'; END $body$;\nBEGIN;\nCOMMIT;"
    statements = split_statements(sql, "postgres")
    assert [s.text for s in statements] == [
        function,
        "DO $body$ BEGIN PERFORM 'a;'; END $body$",
        "BEGIN",
        "COMMIT",
    ]
    assert [(s.line, s.end_line) for s in statements] == [(1, 6), (7, 7), (8, 8), (9, 9)]


def test_postgres_dollar_tags_nest_and_params_are_not_quotes() -> None:
    sql = (
        "CREATE FUNCTION g() RETURNS void AS $outer$ BEGIN EXECUTE $q$ SELECT 1; $q$; "
        "END $outer$ LANGUAGE plpgsql;\n"
        "SELECT $1, $2::int, a$b$c, $_x$;$_x$ FROM t;\n"
        "PREPARE p AS SELECT $1; EXECUTE p(1);"
    )
    assert texts(sql, "postgres") == [
        "CREATE FUNCTION g() RETURNS void AS $outer$ BEGIN EXECUTE $q$ SELECT 1; $q$; "
        "END $outer$ LANGUAGE plpgsql",
        "SELECT $1, $2::int, a$b$c, $_x$;$_x$ FROM t",
        "PREPARE p AS SELECT $1",
        "EXECUTE p(1)",
    ]


def test_postgres_escape_strings() -> None:
    sql = "SELECT E'a\\';b', e'\\\\';\nSELECT 'back\\';\nSELECT name'x;y' FROM t;"
    assert texts(sql, "postgres") == [
        "SELECT E'a\\';b', e'\\\\'",
        "SELECT 'back\\'",  # standard strings: a backslash is just a character
        "SELECT name'x;y' FROM t",  # not an E string: the E ends a longer word
    ]


def test_postgres_nested_block_comments() -> None:
    assert texts("SELECT 1 /* a /* b; */ c; */;SELECT 2;", "postgres") == [
        "SELECT 1 /* a /* b; */ c; */",
        "SELECT 2",
    ]
    (statement,) = split_statements("/* a /* b */ still; */ SELECT 1", "postgres")
    assert statement.leading_comments == ("a /* b */ still;",)


def test_postgres_hash_is_an_operator() -> None:
    sql = "SELECT data #> '{a}' FROM t;\nSELECT 1 # 2;"
    assert texts(sql, "postgres") == ["SELECT data #> '{a}' FROM t", "SELECT 1 # 2"]
    assert texts(sql) == texts(sql, "postgres")


def test_postgres_begin_atomic_body() -> None:
    body = (
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC\n"
        "  SELECT CASE WHEN a > 0 THEN 1 ELSE 0 END;\n  SELECT 2;\nEND"
    )
    assert texts(f"{body};\nSELECT 3;", "postgres") == [body, "SELECT 3"]


def test_postgres_begin_as_a_parameter_name_opens_no_block() -> None:
    sql = "CREATE FUNCTION f(begin int) RETURNS int AS 'SELECT 1' LANGUAGE sql;\nSELECT 2;"
    assert len(texts(sql, "postgres")) == 2


def test_postgres_transaction_control() -> None:
    sql = "BEGIN;\nBEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE;\nEND;\nCOMMIT;"
    assert texts(sql, "postgres") == [
        "BEGIN",
        "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "END",
        "COMMIT",
    ]


def test_generic_dialect_understands_dollar_quotes() -> None:
    sql = "DO $$ BEGIN RAISE NOTICE 'x'; END $$;\nSELECT 1;"
    assert texts(sql) == ["DO $$ BEGIN RAISE NOTICE 'x'; END $$", "SELECT 1"]


def test_dollar_is_plain_text_outside_postgres() -> None:
    assert texts("SELECT '$$';\nSELECT $$;\nSELECT 2;", "sqlite") == [
        "SELECT '$$'",
        "SELECT $$",
        "SELECT 2",
    ]


# -- MySQL ----------------------------------------------------------------------------


def test_mysql_delimiter_blocks() -> None:
    sql = (
        "DELIMITER //\n"
        "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND //\n"
        "delimiter ;\n"
        "SELECT 3;"
    )
    procedure, select = split_statements(sql, "mysql")
    assert procedure.text == "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\n  SELECT 2;\nEND"
    assert (procedure.line, procedure.end_line, select.line) == (2, 6, 8)
    assert select.text == "SELECT 3"
    assert (procedure.index, select.index) == (0, 1)


def test_mysql_dollar_delimiter_and_several_statements_per_block() -> None:
    sql = (
        "-- switchy-guard: allow x -- reason\n"
        "Delimiter $$\r\n"
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END$$\r\n"
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = ';'; END $$\r\n"
        "$$\r\n"
        "DELIMITER ;\r\n"
        "SELECT 1; SELECT 2"
    )
    statements = split_statements(sql, "mysql")
    assert [s.text for s in statements] == [
        "CREATE FUNCTION f() RETURNS INT DETERMINISTIC BEGIN RETURN 1; END",
        "CREATE TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN SET NEW.x = ';'; END",
        "SELECT 1",
        "SELECT 2",
    ]
    assert [s.line for s in statements] == [3, 4, 7, 7]
    assert statements[0].leading_comments == ("switchy-guard: allow x -- reason",)
    assert statements[0].comment_lines == (1,)


def test_generic_dialect_honours_delimiter_but_sqlite_and_postgres_do_not() -> None:
    sql = "DELIMITER //\nSELECT 1; SELECT 2 //"
    assert texts(sql) == ["SELECT 1; SELECT 2"]
    assert texts(sql, "sqlite") == ["DELIMITER //\nSELECT 1", "SELECT 2 //"]


def test_mysql_compound_without_delimiter() -> None:
    sql = (
        "CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON a FOR EACH ROW BEGIN\n"
        "  IF NEW.x > 0 THEN SET NEW.y = 1; ELSEIF NEW.x < 0 THEN SET NEW.y = -1; END IF;\n"
        "  CASE NEW.z WHEN 1 THEN SET NEW.y = 2; ELSE BEGIN END; END CASE;\n"
        "  lbl: LOOP LEAVE lbl; END LOOP lbl;\n"
        "  WHILE NEW.y < 3 DO SET NEW.y = NEW.y + 1; END WHILE;\n"
        "  REPEAT SET NEW.y = NEW.y - 1; UNTIL NEW.y < 0 END REPEAT;\n"
        "  SET NEW.w = CASE WHEN NEW.x THEN 1 END;\n"
        "END;\n"
        "SELECT IF(1, 2, 3), CASE WHEN 1 THEN 2 END;"
    )
    trigger, select = split_statements(sql, "mysql")
    assert trigger.text.endswith("END;\nEND")
    assert (trigger.line, trigger.end_line) == (1, 8)
    assert (select.text, select.line) == ("SELECT IF(1, 2, 3), CASE WHEN 1 THEN 2 END", 9)


@pytest.mark.parametrize(
    "head",
    [
        "CREATE PROCEDURE p()",
        "CREATE OR REPLACE FUNCTION f() RETURNS INT",
        "create definer = 'my user'@'%' procedure p()",
        "CREATE DEFINER=CURRENT_USER() PROCEDURE p()",
        "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO",
    ],
)
def test_mysql_compound_statement_heads(head: str) -> None:
    body = f"{head}\nouter: BEGIN\n  DECLARE x INT;\n  BEGIN SELECT 1; END;\n  SELECT 2;\nEND outer"
    assert texts(f"{body};\nSELECT 3;", "mysql") == [body, "SELECT 3"]


def test_mysql_begin_not_atomic_and_transactions() -> None:
    block = "BEGIN NOT ATOMIC\n  DECLARE x INT;\n  SET x = 1;\nEND"
    sql = f"BEGIN;\nBEGIN WORK;\n{block};\nSTART TRANSACTION;\nCOMMIT;"
    assert texts(sql, "mysql") == ["BEGIN", "BEGIN WORK", block, "START TRANSACTION", "COMMIT"]


def test_mysql_qualified_end_column_does_not_close_the_block() -> None:
    sql = "CREATE PROCEDURE p() BEGIN UPDATE t SET t.end = 1, t.begin = 2; SELECT 2; END;SELECT 3"
    assert texts(sql, "mysql") == [sql[: sql.index(";SELECT 3")], "SELECT 3"]


def test_mysql_strings_identifiers_and_comments() -> None:
    sql = (
        'SELECT `a;b`, `x``;`, "c\\";d" FROM t; # hash; comment\n'
        "/*!40101 SET NAMES utf8 */;\n"
        "/*M!100100 SET x = 1 */;\n"
        "SELECT 'x\\';y', 'a''b;';"
    )
    statements = split_statements(sql, "mysql")
    assert [s.text for s in statements] == [
        'SELECT `a;b`, `x``;`, "c\\";d" FROM t',
        "/*!40101 SET NAMES utf8 */",
        "/*M!100100 SET x = 1 */",
        "SELECT 'x\\';y', 'a''b;'",
    ]
    assert statements[0].trailing_comments == (("hash; comment", 1),)


def test_mysql_double_dash_needs_a_space() -> None:
    sql = "SELECT 5--2;\nSELECT 1 --\t;\n;\n--comment? no\nSELECT 2;"
    assert texts(sql, "mysql") == ["SELECT 5--2", "SELECT 1 --\t;", "--comment? no\nSELECT 2"]
    assert texts("SELECT 5--2;\nSELECT 3;") == ["SELECT 5--2;\nSELECT 3"]


def test_hash_is_a_comment_only_on_mysql() -> None:
    sql = "# note\nSELECT 1;"
    (statement,) = split_statements(sql, "mysql")
    assert (statement.text, statement.leading_comments) == ("SELECT 1", ("note",))
    assert statement.line == 2
    assert texts(sql, "sqlite") == ["# note\nSELECT 1"]


# -- SQLite ---------------------------------------------------------------------------


def test_sqlite_trigger_brackets_and_transaction_control() -> None:
    trigger = (
        "CREATE TEMP TRIGGER IF NOT EXISTS tr AFTER INSERT ON a\n"
        "WHEN new.x > 0\nBEGIN\n"
        "  UPDATE b SET n = CASE WHEN new.x THEN 1 ELSE 0 END;\n"
        "  SELECT CASE WHEN 1 THEN RAISE(ABORT, 'no; way') END;\n"
        "  INSERT INTO c VALUES (1);\nEND"
    )
    sql = (
        f"BEGIN;\nBEGIN IMMEDIATE TRANSACTION;\n{trigger};\n"
        "SELECT [odd;name], `x;y` FROM t;\nEND TRANSACTION;\nCOMMIT;"
    )
    statements = split_statements(sql, "sqlite")
    assert [s.text for s in statements] == [
        "BEGIN",
        "BEGIN IMMEDIATE TRANSACTION",
        trigger,
        "SELECT [odd;name], `x;y` FROM t",
        "END TRANSACTION",
        "COMMIT",
    ]
    assert (statements[2].line, statements[2].end_line) == (3, 9)


def test_identifiers_containing_keywords_do_not_open_blocks() -> None:
    sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE x SET end_date = 1, weekend = 2; END;"
    assert texts(sql, "sqlite") == [sql[:-1]]


def test_brackets_are_identifiers_only_on_sqlite() -> None:
    sql = "SELECT a[1], b[';'] FROM t;\nSELECT 2;"
    assert texts(sql, "postgres") == ["SELECT a[1], b[';'] FROM t", "SELECT 2"]


# -- malformed input ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "dialect", "last"),
    [
        ("SELECT 1; SELECT 'open; SELECT 2", None, "SELECT 'open; SELECT 2"),
        ('SELECT 1; SELECT "open; SELECT 2', "sqlite", 'SELECT "open; SELECT 2'),
        ("SELECT 1; SELECT `open; SELECT 2", "mysql", "SELECT `open; SELECT 2"),
        ("SELECT 1; SELECT [open; SELECT 2", "sqlite", "SELECT [open; SELECT 2"),
        ("SELECT 1; SELECT 'a\\'; SELECT 2", "mysql", "SELECT 'a\\'; SELECT 2"),
        ("SELECT 1; SELECT $$ open; SELECT 2", "postgres", "SELECT $$ open; SELECT 2"),
        ("SELECT 1; SELECT $t$ x $$; y", "postgres", "SELECT $t$ x $$; y"),
        ("SELECT 1; SELECT 1 /* a /* b */ open;", "postgres", "SELECT 1 /* a /* b */ open;"),
        ("SELECT 1; SELECT 1 /* open;\n", None, "SELECT 1 /* open;"),
        ("SELECT 1; CREATE TRIGGER t BEGIN SELECT 1; SELECT 2;", "sqlite",
         "CREATE TRIGGER t BEGIN SELECT 1; SELECT 2;"),
    ],
)
def test_unterminated_constructs_make_the_rest_the_last_statement(
    sql: str, dialect: str | None, last: str
) -> None:
    assert texts(sql, dialect) == ["SELECT 1", last]


# -- properties -----------------------------------------------------------------------

_VALUE = st.text(alphabet="xyz ;-*/#$`[]\"\n", max_size=12).map(lambda v: v.replace("'", "''"))
_SIMPLE = st.one_of(
    st.builds(
        lambda table, value: f"INSERT INTO {table} VALUES ('{value}')",
        st.sampled_from(["a", "b_c", "items"]),
        _VALUE,
    ),
    st.builds(
        lambda column, value: f"UPDATE t\n  SET {column} = '{value}'\n  WHERE id = 1",
        st.sampled_from(["a", "note", "end_at"]),
        _VALUE,
    ),
    st.builds(lambda n: f"SELECT {n} /* c;\n */ + 1 -- x;\n", st.integers(0, 99)),
)


@given(st.lists(_SIMPLE, min_size=1, max_size=8), st.sampled_from(DIALECTS))
def test_joined_statements_split_back(statements: list[str], dialect: str | None) -> None:
    sql = ";\n".join(statements) + ";\n"
    result = split_statements(sql, dialect)
    assert [s.text for s in result] == [s.strip() for s in statements]
    line = 1
    for index, (original, statement) in enumerate(zip(statements, result, strict=True)):
        assert (statement.line, statement.column, statement.index) == (line, 1, index)
        assert statement.end_line == line + statement.text.count("\n")
        assert statement.leading_comments == ()
        line += original.count("\n") + 1


@given(st.text(alphabet="ab ;'\"`[]-/*#$\nE\r", max_size=60), st.sampled_from(DIALECTS))
def test_any_input_splits_without_error_and_positions_point_at_the_text(
    sql: str, dialect: str | None
) -> None:
    result = split_statements(sql, dialect)
    for index, statement in enumerate(result):
        assert statement.index == index
        assert statement.text and statement.text == statement.text.strip()
        assert at(sql, statement.line, statement.column).startswith(statement.text)
        assert statement.end_line == statement.line + statement.text.count("\n")
        assert len(statement.leading_comments) == len(statement.comment_lines)


# -- the statements an anonymous block runs (sql/blocks.py) ------------------------------


def block_statements(sql: str, dialect: str | None) -> list[tuple[str, str, int, int]]:
    """(kind, text, line, column) of the statements the blocks of ``sql`` run."""
    parsed = [(s, classify(s.text, dialect)) for s in split_statements(sql, dialect)]
    return [(info.kind, s.text, s.line, s.column)
            for s, info in with_blocks(parsed, dialect) if s.block is not None]


PLPGSQL_BLOCK = """SELECT 1;
DO $$
DECLARE
  n int := 0;
  r record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'x') THEN
    DROP TABLE users;
  ELSIF n > 1 THEN ALTER TABLE t ADD COLUMN c int NOT NULL;
  ELSE
    RAISE NOTICE 'x; DROP TABLE no';
  END IF;
  FOR r IN DELETE FROM t RETURNING * LOOP
    EXECUTE 'DROP TABLE ' || r.name;
  END LOOP;
  n := n + 1;
  PERFORM pg_sleep(1);
  EXECUTE 'CREATE INDEX i ON t(a)';
  EXECUTE format('CREATE INDEX %I ON t(a)', n);
  EXECUTE 'UPDATE t SET a = ''x;''
    WHERE b = 1; DELETE FROM q' INTO n;
  CASE n WHEN 1 THEN TRUNCATE a; ELSE NULL; END CASE;
  <<inner>>
  DECLARE z int;
  BEGIN
    COMMIT;
  EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS n = MESSAGE_TEXT;
  END;
END $$;"""


@pytest.mark.parametrize("dialect", ["postgres", None])
def test_a_do_block_runs_its_statements_each_placed_in_the_file(dialect: str | None) -> None:
    assert block_statements(PLPGSQL_BLOCK, dialect) == [
        ("drop_table", "DROP TABLE users", 8, 5),
        ("alter_table", "ALTER TABLE t ADD COLUMN c int NOT NULL", 9, 20),
        ("delete", "DELETE FROM t RETURNING *", 13, 12),
        ("dynamic", "EXECUTE 'DROP TABLE ' || r.name", 14, 5),
        ("select", "PERFORM pg_sleep(1)", 17, 3),
        ("create_index", "CREATE INDEX i ON t(a)", 18, 12),
        ("dynamic", "EXECUTE format('CREATE INDEX %I ON t(a)', n)", 19, 3),
        # The literal's '' is one quote in the statement it runs; positions stay right.
        ("update", "UPDATE t SET a = 'x;'\n    WHERE b = 1", 20, 12),
        ("delete", "DELETE FROM q", 21, 18),
        ("truncate", "TRUNCATE a", 22, 22),
        ("commit", "COMMIT", 26, 5),
    ]


def test_do_block_forms_and_nesting() -> None:
    assert block_statements(
        "DO LANGUAGE plpgsql $body$ BEGIN DROP TABLE users; END $body$;", "postgres") == [
        ("drop_table", "DROP TABLE users", 1, 34)]
    # A quoted body; EXECUTE of a DO block opens that block too.
    sql = "DO 'BEGIN EXECUTE ''DO $x$ BEGIN DROP TABLE t; END $x$''; END'"
    assert block_statements(sql, "postgres") == [
        ("do", "DO $x$ BEGIN DROP TABLE t; END $x$", 1, 21),
        ("drop_table", "DROP TABLE t", 1, 34)]
    # Function bodies do not run when the migration runs.
    assert block_statements("CREATE FUNCTION f() RETURNS void AS $$ BEGIN DROP TABLE t; "
                            "END $$ LANGUAGE plpgsql;", "postgres") == []
    assert block_statements("DO LANGUAGE plpython3u $$ plpy.execute('DROP TABLE t') $$",
                            "postgres") == []


def test_a_mariadb_compound_statement_runs_its_statements() -> None:
    sql = """BEGIN NOT ATOMIC
  DECLARE x INT DEFAULT 0;
  DECLARE CONTINUE HANDLER FOR SQLSTATE '42S02', NOT FOUND DROP TABLE h;
  lbl: WHILE x < 3 DO
    SET x = x + 1;
    IF x = 2 THEN ALTER TABLE users DROP COLUMN email; ELSEIF x = 3 THEN DELETE FROM a; END IF;
  END WHILE lbl;
  REPEAT SET x = x - 1; UNTIL x = 0 END REPEAT;
  PREPARE s FROM 'TRUNCATE TABLE t';
  EXECUTE s;
  EXECUTE IMMEDIATE CONCAT('DROP TABLE ', 'x');
  BEGIN
    DROP TABLE inner_t;
  END;
END;
SELECT 1;"""
    assert block_statements(sql, "mysql") == [
        ("drop_table", "DROP TABLE h", 3, 60),
        ("set", "SET x = x + 1", 5, 5),
        ("alter_table", "ALTER TABLE users DROP COLUMN email", 6, 19),
        ("delete", "DELETE FROM a", 6, 74),
        ("set", "SET x = x - 1", 8, 10),
        ("truncate", "TRUNCATE TABLE t", 9, 19),
        ("dynamic", "EXECUTE IMMEDIATE CONCAT('DROP TABLE ', 'x')", 11, 3),
        ("drop_table", "DROP TABLE inner_t", 13, 5),
    ]


def test_comments_inside_a_block_stay_with_its_statements() -> None:
    sql = ("DO $$\nBEGIN\n  -- switchy-guard: allow drop-table -- gone\n  DROP TABLE a;\n"
           "  /* note */ EXECUTE 'DROP TABLE b'; -- after\nEND $$")
    parsed = [(s, classify(s.text, "postgres")) for s in split_statements(sql, "postgres")]
    _, (first, _), (second, _) = with_blocks(parsed, "postgres")
    assert (first.leading_comments, first.comment_lines) == (
        ("switchy-guard: allow drop-table -- gone",), (3,))
    assert (second.text, second.line, second.column) == ("DROP TABLE b", 5, 23)
    assert (second.leading_comments, second.comment_lines) == (("note",), (5,))
    assert second.trailing_comments == (("after", 5),)


@given(st.text(alphabet="ab ;'$\nIFTHENDO()-:=<>", max_size=50),
       st.sampled_from(["DO $$ BEGIN ", "DO 'BEGIN ", "BEGIN NOT ATOMIC "]),
       st.sampled_from([None, "postgres", "mysql"]))
def test_any_block_expands_without_error_and_positions_point_at_the_text(
    body: str, opening: str, dialect: str | None
) -> None:
    sql = f"SELECT 1;\n{opening}{body}\nEND $$;"
    parsed = [(s, classify(s.text, dialect)) for s in split_statements(sql, dialect)]
    for statement, _ in with_blocks(parsed, dialect):
        if statement.block is not None and "'" not in statement.text:
            assert at(sql, statement.line, statement.column).startswith(statement.text)


# -- comments and strings as each server reads them (issue 14; facts checked on
# PostgreSQL 15, MariaDB 10.11 and SQLite by tests/integration/test_split_differential.py)


def _rule_messages(sql: str, dialect: str) -> list[tuple[str, str]]:
    """(code, message) of the findings of a one-file migration ``sql``."""
    from switchy_guard.check.pipeline import validate
    from switchy_guard.model.migration import Migration

    migration = Migration("2024-01-01-000000_x", sql, "SELECT 1;", "a", "b")
    return [(f.code, f.message) for f in validate([migration], dialect).findings]


def test_postgres_ends_a_dash_comment_at_a_lone_carriage_return() -> None:
    # The server dropped the table the plan never showed.
    assert texts("SELECT 1 -- harmless\r; DROP TABLE users;", "postgres") == [
        "SELECT 1 -- harmless", "DROP TABLE users"]
    assert classify("DELETE FROM users -- c\r WHERE id = 1", "postgres").has_where


@pytest.mark.parametrize("dialect", ["mysql", "sqlite"])
def test_mysql_and_sqlite_end_a_dash_comment_at_a_line_feed_only(dialect: str) -> None:
    assert texts("SELECT 1; -- x\r DROP TABLE users;\nSELECT 2", dialect) == [
        "SELECT 1", "SELECT 2"]


def test_mysql_hash_comment_hides_the_where_from_the_classifier() -> None:
    info = classify("DELETE FROM users # WHERE id = 1", "mysql")
    assert info.kind == "delete" and not info.has_where
    codes = [code for code, _ in _rule_messages("DELETE FROM users # WHERE id = 1\n;", "mysql")]
    assert "SG305" in codes


@pytest.mark.parametrize("after", ["\x01", "\x7f", "\x0b", ""])
def test_mysql_dash_dash_before_a_control_character_is_a_comment(after: str) -> None:
    assert texts(f"SELECT 1 --{after} ; DROP TABLE users;", "mysql") == ["SELECT 1"]
    assert not classify(f"DELETE FROM users --{after} WHERE id = 1", "mysql").has_where


def test_mysql_executable_comment_code_is_read_as_code() -> None:
    # MariaDB runs it, strings and nested comments inside included.
    sql = "/*!50000 /* x */ DELETE FROM users */; /*M! SELECT '*/; DROP TABLE x; --' */;"
    assert texts(sql, "mysql") == ["/*!50000 /* x */ DELETE FROM users */",
                                   "/*M! SELECT '*/; DROP TABLE x; --' */"]
    assert classify("DELETE FROM users /*! WHERE id = 1 */", "mysql").has_where
    assert not classify("DELETE FROM users /*!50000 /* x */ */", "mysql").has_where


def test_mysql_double_quoted_strings_take_backslash_escapes_in_the_classifier() -> None:
    assert not classify('DELETE FROM users "\\" WHERE x"', "mysql").has_where


def test_postgres_nested_comment_hides_the_where_from_the_classifier() -> None:
    info = classify("DELETE FROM users /* /* */ WHERE id = 1 */", "postgres")
    assert info.kind == "delete" and not info.has_where
    assert classify("DELETE FROM t /* a /* b */ c */ WHERE id = 1", "postgres").has_where


def test_postgres_dollar_quote_tags_and_identifiers() -> None:
    # A non-ASCII tag is a tag; $ after an identifier continues it, after a number not.
    assert texts("SELECT $€$; DROP TABLE u; $€$;", "postgres") == ["SELECT $€$; DROP TABLE u; $€$"]
    after_number = "SELECT 1$b$; DROP TABLE u; $b$"
    assert texts(after_number + ";", "postgres") == [after_number]
    assert texts("SELECT a$b$; DROP TABLE u;", "postgres") == ["SELECT a$b$", "DROP TABLE u"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_nul_is_never_hidden_in_a_comment(dialect: str | None) -> None:
    statements = split_statements("SELECT 1; -- x\x00 DROP TABLE users;\nSELECT 2;", dialect)
    assert [s.text for s in statements] == ["SELECT 1", "\x00 DROP TABLE users", "SELECT 2"]
    assert statements[1].doubt is not None and "NUL" in statements[1].doubt
    (block,) = split_statements("/* x\x00 */ DROP TABLE users", dialect)[:1]
    assert block.doubt is not None


def test_a_nul_in_a_string_is_doubted_and_refused_as_a_migration() -> None:
    from switchy_guard.errors import InputError
    from switchy_guard.model.migration import Migration

    (statement,) = split_statements("INSERT INTO t VALUES ('a\x00b');", "postgres")
    assert statement.doubt and "NUL" in statement.doubt
    with pytest.raises(InputError, match=r"a NUL character \(\\0\) at column 25"):
        Migration("2024-01-01-000000_x", "INSERT INTO t VALUES ('a\x00b');", "", "a", "b")


def test_postgres_follows_standard_conforming_strings_off() -> None:
    sql = ("SET standard_conforming_strings = off;\nSELECT '\\'; DROP TABLE users; SELECT '"
           ";\nDELETE FROM users;")
    statements = split_statements(sql, "postgres")
    assert [s.text for s in statements] == [
        "SET standard_conforming_strings = off",
        "SELECT '\\'; DROP TABLE users; SELECT '", "DELETE FROM users"]
    assert statements[1].doubt is not None and statements[2].doubt is None
    found = _rule_messages(sql, "postgres")
    assert any(code == "SG603" and "standard_conforming_strings" in m for code, m in found)
    # Back on: a backslash is plain text again.
    back = split_statements(sql.replace("DELETE", "SET standard_conforming_strings TO on;"
                                        "SELECT '\\'; DELETE"), "postgres")
    assert [s.text for s in back][-2:] == ["SELECT '\\'", "DELETE FROM users"]
    assert back[-2].doubt is None


@pytest.mark.parametrize("change", [
    "SELECT set_config('standard_conforming_strings', 'off', false)",
    "SET LOCAL standard_conforming_strings = off",
    "SET standard_conforming_strings = current_setting('x')",
])
def test_postgres_changes_it_cannot_follow_doubt_later_backslashes(change: str) -> None:
    statements = split_statements(f"{change};\nSELECT 'a\\';\nSELECT 1;", "postgres")
    assert statements[1].doubt is not None and statements[2].doubt is None


def test_mysql_follows_no_backslash_escapes_and_ansi_quotes() -> None:
    sql = ("SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nSELECT 'a\\'; DROP TABLE users; SELECT '"
           " --';\nSET SESSION sql_mode = 'ANSI';\nSELECT \"a\\\"; DROP TABLE t; SELECT \"\";")
    statements = split_statements(sql, "mysql")
    assert [s.text for s in statements] == [
        "SET sql_mode = 'NO_BACKSLASH_ESCAPES'", "SELECT 'a\\'", "DROP TABLE users",
        "SELECT ' --'", "SET SESSION sql_mode = 'ANSI'", 'SELECT "a\\"', "DROP TABLE t",
        'SELECT ""']
    assert statements[1].doubt is not None and statements[2].doubt is None
    assert statements[5].doubt is not None


def test_mysql_sql_mode_it_cannot_follow_doubts_backslashes() -> None:
    sql = "SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES');\nSELECT 'a\\';"
    assert split_statements(sql, "mysql")[1].doubt is not None
    assert split_statements("SELECT @@sql_mode;\nSELECT 'a\\';", "mysql")[1].doubt is None


def test_a_bom_at_the_start_is_not_part_of_the_first_statement() -> None:
    (statement,) = split_statements("\ufeffDROP TABLE users;", "postgres")
    assert statement.text == "DROP TABLE users" and statement.doubt is None


def test_sqlite_reads_a_bom_anywhere_as_a_space() -> None:
    # Found by the differential test: SQLite ran "\ufeffINSERT ..." after a comment.
    (statement,) = split_statements("-- c\n\ufeffDELETE FROM users;", "sqlite")
    assert statement.text == "DELETE FROM users"
    assert classify("DELETE\ufeff FROM users \ufeffWHERE id = 1", "sqlite").has_where
