"""The classifier's tokens, cursor and tables (issue 21).

The fast tokenizer must read what sqlparse's lexer (the reference) reads wherever the two
should agree, and what each server's own lexer reads where sqlparse does not know the
dialect (PostgreSQL's nested comments and dollar quotes, MariaDB's comments and
backslash escapes, SQLite's [brackets]). The module-level tables are checked through
classify(): each entry is a statement kind, an object, a harmless ALTER action or a
constant word a statement's classification depends on.
"""

from __future__ import annotations

import dataclasses

import pytest

from switchy_guard.sql.classify import (
    TRANSACTION_WORDS,
    Cursor,
    Name,
    Tok,
    classify,
    first_word,
    render,
    split_top_level,
    tokenize,
    tokenize_sqlparse,
)


def triples(toks: list[Tok]) -> list[tuple[str, str, str]]:
    return [(t.kind, t.text, t.up) for t in toks]


# -- the fast tokenizer against the reference ----------------------------------------

AGREED = [
    # Whitespace of every sort, comments, and multi-word keywords sqlparse reads as one.
    ("select a\n\tfrom  t -- c\n order by a /* x */ group by b union all select 1", None),
    ("select a\n\tfrom  t -- c\n order by a /* x */ group by b", "postgres"),
    ("select a\n\tfrom  t -- c\n order by a /* x */ group by b", "mysql"),
    ("select a\n\tfrom  t -- c\n order by a /* x */ group by b", "sqlite"),
    # Quoted names: doubled quotes stay in the text, the quotes go, case is kept.
    ('SELECT "a""B" , `c``D` FROM "S"."T"', None),
    ('SELECT "a""B" , `c``D` FROM "S"."T"', "postgres"),
    ("SELECT [e F], \"x\", `y` FROM [s].[T]", "sqlite"),
    # Strings: doubled quotes everywhere; MariaDB's backslash escapes and # comments.
    ("SELECT 'it''s', 'Ab' FROM t", None),
    ("SELECT 'it''s', 'a\\'b', \"c\\\"d\" FROM t # c\n WHERE x = 1", "mysql"),
    # Numbers, operators, names with non-ASCII letters.
    ("SELECT 1e-3, .5, 3., 42, 7E2, 1.25 FROM t", "postgres"),
    ("SELECT a::int, b <= c, d >= e, f <> g, h != i, j || k, -l + m * n / o % p FROM t",
     "postgres"),
    ("SELECT a <= b, c <> d, e != f, g || h FROM t", "mysql"),
    ("INSERT INTO S.T (Id, Naïve) VALUES (1, 'é')", "sqlite"),
    ("DELETE FROM t WHERE a IS NOT NULL AND b = @v", "mysql"),
    # Names that start with X (as X'ff' does), [ or ` are names, not quoted ones.
    ("SELECT Xcol, X1, x FROM Xt", None),
]


@pytest.mark.parametrize(("sql", "dialect"), AGREED)
def test_fast_tokenizer_reads_what_sqlparse_reads(sql: str, dialect: str | None) -> None:
    assert triples(tokenize(sql, dialect)) == triples(tokenize_sqlparse(sql))


def test_the_reference_drops_whitespace_and_comments_and_unquotes_names() -> None:
    sql = 'select "Q""x" ,\n`B` -- c\n, [S] /* d */ order by 1.5'
    assert triples(tokenize_sqlparse(sql)) == [
        ("w", "select", "SELECT"), ("q", 'Q""x', 'Q""X'), ("p", ",", ","), ("q", "B", "B"),
        ("p", ",", ","), ("q", "S", "S"), ("w", "order", "ORDER"), ("w", "by", "BY"),
        ("n", "1.5", "1.5")]
    assert triples(tokenize_sqlparse("x = 'Ab'")) == [
        ("w", "x", "X"), ("p", "=", "="), ("s", "'Ab'", "'AB'")]


def test_token_kinds_are_the_documented_letters() -> None:
    assert [t.kind for t in tokenize("SELECT \"q\", 's', 1, (x)")] == [
        "w", "q", "p", "s", "p", "n", "p", "p", "w", "p"]


# -- where the fast tokenizer reads what the server reads (sqlparse does not) ---------

def texts(sql: str, dialect: str | None = None) -> list[str]:
    return [t.text for t in tokenize(sql, dialect)]


def test_prefixed_strings_are_one_string() -> None:
    # PostgreSQL: E'' takes backslash escapes, B'' and X'' are bit strings, N'' national.
    assert triples(tokenize("SELECT E'a\\'b', e'\\\\', N'x', b'101', X'ff'")) == [
        ("w", "SELECT", "SELECT"), ("s", "E'a\\'b'", "E'A\\'B'"), ("p", ",", ","),
        ("s", "e'\\\\'", "E'\\\\'"), ("p", ",", ","), ("s", "N'x'", "N'X'"),
        ("p", ",", ","), ("s", "b'101'", "B'101'"), ("p", ",", ","), ("s", "X'ff'", "X'FF'")]


@pytest.mark.parametrize("dialect", [None, "postgres", "sqlite"])
def test_backslashes_do_not_escape_a_standard_string(dialect: str | None) -> None:
    assert texts("SELECT 'C:\\', 'x' FROM t", dialect) == [
        "SELECT", "'C:\\'", ",", "'x'", "FROM", "t"]


def test_backslashes_escape_in_mariadb_strings_and_double_quotes() -> None:
    assert texts("SELECT 'a\\', b' , \"c\\\" d\" FROM t", "mysql") == [
        "SELECT", "'a\\', b'", ",", 'c\\" d', "FROM", "t"]
    assert tokenize('SELECT "a\\"b"', "mysql")[1] == Tok("q", 'a\\"b', 'A\\"B')


def test_dollar_quoted_strings_and_their_tags() -> None:
    assert triples(tokenize("SELECT $tag$ a $$ b $tag$, $$x$$ FROM t", "postgres")) == [
        ("w", "SELECT", "SELECT"), ("s", "$tag$ a $$ b $tag$", "$TAG$ A $$ B $TAG$"),
        ("p", ",", ","), ("s", "$$x$$", "$$X$$"), ("w", "FROM", "FROM"), ("w", "t", "T")]
    # A tag may hold non-ASCII letters; it may not start with a digit: $1 is a parameter.
    assert texts("SELECT $é$ ; $é$, $1, $2$", "postgres") == [
        "SELECT", "$é$ ; $é$", ",", "$", "1", ",", "$", "2", "$"]
    # The generic reading takes any word as a tag.
    assert texts("SELECT $1$ ; $1$") == ["SELECT", "$1$ ; $1$"]
    assert texts("SELECT $$ open ; x") == ["SELECT", "$$ open ; x"]


def test_postgres_nests_block_comments_the_others_do_not() -> None:
    sql = "SELECT 1 /* a /* b */ c */ , 2 /* x */ , 3"
    assert texts(sql, "postgres") == ["SELECT", "1", ",", "2", ",", "3"]
    for dialect in (None, "sqlite"):
        assert texts(sql, dialect) == ["SELECT", "1", "c", "*", "/", ",", "2", ",", "3"]
    # MariaDB's reading steps over a */ (the end of an executable comment) as well.
    assert texts(sql, "mysql") == ["SELECT", "1", "c", ",", "2", ",", "3"]
    # An unclosed nested comment runs to the end.
    assert texts("SELECT 1 /* a /* b */ c", "postgres") == ["SELECT", "1"]


def test_line_comments_end_where_each_server_ends_them() -> None:
    # PostgreSQL ends -- at a carriage return too, SQLite at a line feed only.
    assert texts("SELECT 1 -- c\rx", "postgres") == ["SELECT", "1", "x"]
    assert texts("SELECT 1 -- c\rx", None) == ["SELECT", "1", "x"]
    assert texts("SELECT 1 -- c\rx\ny", "sqlite") == ["SELECT", "1", "y"]
    # MariaDB needs a space or control character after --: 1--1 is 1 - (-1).
    assert texts("SELECT 1--1", "mysql") == ["SELECT", "1", "-", "-", "1"]
    assert texts("SELECT 1--1", "postgres") == ["SELECT", "1"]
    assert texts("SELECT 1 --\tc\n, 2 --", "mysql") == ["SELECT", "1", ",", "2"]
    assert texts("SELECT 1 # c\n, 2", "mysql") == ["SELECT", "1", ",", "2"]
    assert texts("SELECT 1 # c", "postgres") == ["SELECT", "1", "#", "c"]


def test_mariadb_runs_the_code_of_executable_comments() -> None:
    assert texts("/*!40101 SET NAMES utf8 */", "mysql") == ["SET", "NAMES", "utf8"]
    assert texts("/*M!100100 SET x = 1 */", "mysql") == ["SET", "x", "=", "1"]
    assert texts("/*!40101 SET NAMES utf8 */", "postgres") == []


def test_a_nul_ends_a_comment_and_sqlite_skips_a_bom() -> None:
    assert texts("SELECT 1 -- c\0x", "postgres") == ["SELECT", "1", "\0", "x"]
    assert texts("SELECT 1 /* c\0 x", "sqlite") == ["SELECT", "1", "\0", "x"]
    assert texts("\ufeffSELECT 1", "sqlite") == ["SELECT", "1"]
    # PostgreSQL takes any non-ASCII character as a letter: the BOM starts a name.
    assert texts("\ufeffSELECT 1", "postgres") == ["\ufeffSELECT", "1"]


def test_numbers_the_reference_misreads() -> None:
    assert triples(tokenize("SELECT 1.5E+10, 2e3, .5e-2")) == [
        ("w", "SELECT", "SELECT"), ("n", "1.5E+10", "1.5E+10"), ("p", ",", ","),
        ("n", "2e3", "2e3"), ("p", ",", ","), ("n", ".5e-2", ".5e-2")]


def test_placeholders_are_punctuation_and_words() -> None:
    assert texts("SELECT ?, :name, %s, @v, $1 FROM t", "postgres") == [
        "SELECT", "?", ",", ":", "name", ",", "%", "s", ",", "@", "v", ",", "$", "1",
        "FROM", "t"]


def test_names_hold_dollars_and_underscores() -> None:
    assert texts("SELECT a$b, _c1, ü_ FROM t$") == ["SELECT", "a$b", ",", "_c1", ",", "ü_",
                                                    "FROM", "t$"]


@pytest.mark.parametrize("dialect", [None, "postgres", "sqlite", "mysql"])
def test_quoted_names_left_open_run_to_the_end(dialect: str | None) -> None:
    assert triples(tokenize('SELECT "ab', dialect))[1] == ("q", "ab", "AB")
    assert triples(tokenize("SELECT `ab", dialect))[1] == ("q", "ab", "AB")
    assert triples(tokenize('SELECT "', dialect))[1] == ("q", "", "")
    assert triples(tokenize('SELECT ""', dialect))[1] == ("q", "", "")


def test_sqlite_brackets_quote_names_and_are_subscripts_elsewhere() -> None:
    assert triples(tokenize("SELECT [a b], [x", "sqlite")) == [
        ("w", "SELECT", "SELECT"), ("q", "a b", "A B"), ("p", ",", ","), ("q", "x", "X")]
    assert triples(tokenize("SELECT [", "sqlite"))[1] == ("q", "", "")
    assert texts("SELECT a[1]", "mysql") == ["SELECT", "a", "[", "1", "]"]
    assert texts("SELECT a[1]") == ["SELECT", "a", "[", "1", "]"]


def test_an_unterminated_mariadb_string_with_a_last_backslash() -> None:
    assert texts("SELECT 'ab\\", "mysql") == ["SELECT", "'ab\\"]
    assert texts('SELECT "ab\\', "mysql") == ["SELECT", "ab\\"]
    assert texts("SELECT E'ab\\") == ["SELECT", "E'ab\\"]


def test_an_unknown_dialect_reads_as_the_generic_one() -> None:
    assert tokenize("SELECT [a b] -- c\rx", "oracle") == tokenize("SELECT [a b] -- c\rx")


# -- the cursor ------------------------------------------------------------------------

def cursor(sql: str, dialect: str | None = None) -> Cursor:
    return Cursor(tokenize(sql, dialect))


@pytest.mark.parametrize(("sql", "name", "schema", "raw"), [
    ("Users", "users", None, ("Users",)),
    ('"Users"', "Users", None, ("Users",)),
    ("App.Users", "users", "app", ("App", "Users")),
    ('"App"."Users" x', "Users", "App", ("App", "Users")),
    ('app."Users"', "Users", "app", ("app", "Users")),
])
def test_cursor_reads_a_name(sql: str, name: str, schema: str | None,
                             raw: tuple[str, ...]) -> None:
    cur = cursor(sql)
    read = cur.name()
    assert read == Name(name, schema)
    assert read is not None and read.raw == raw
    assert cur.pos == (3 if schema else 1)


def test_cursor_name_case_per_dialect() -> None:
    # Unquoted names fold to lower case; MariaDB's table names may be case-sensitive, so
    # the parts as written stay in raw.
    read = cursor("`Db`.Orders", "mysql").name()
    assert read is not None and (read.schema, read.name, read.raw) == ("Db", "orders",
                                                                       ("Db", "Orders"))
    read = cursor("[My Table]", "sqlite").name()
    assert read is not None and (read.name, read.raw) == ("My Table", ("My Table",))


def test_cursor_name_leaves_a_star_and_what_is_not_a_name() -> None:
    cur = cursor("t.* FROM")
    assert cur.name() == Name("t")
    assert cur.pos == 1 and cur.peek() == Tok("p", ".", ".")
    assert cursor("'s'").name() is None
    assert cursor("(t)").name() is None
    assert Cursor([]).name() is None
    cur = cursor("s. 1")
    assert cur.name() == Name("s") and cur.pos == 1
    cur = Cursor(tokenize("DELETE t.* FROM t"), 1)
    assert cur.name() == Name("t") and cur.pos == 2


def test_cursor_at_take_and_skip() -> None:
    cur = cursor("CREATE OR REPLACE VIEW v")
    assert cur.at("CREATE", "OR|AND", "REPLACE")
    assert not cur.at("CREATE", "AND")
    assert not cur.at("CREATE", "OR", "REPLACE", "VIEW", "v", "x")
    assert not cur.take("OR")
    assert cur.pos == 0
    assert cur.take("CREATE", "OR")
    assert cur.pos == 2
    assert cur.at("REPLACE", "VIEW", "V")
    assert cur.take("REPLACE") and cur.pos == 3
    cur.skip_until("V")
    assert cur.pos == 4 and cur.peek() == Tok("w", "v", "V")
    cur.skip_until("NOWHERE")
    assert cur.pos == 5 and cur.peek() is None and cur.rest() == []
    assert not cur.at("V")


def test_cursor_at_matches_words_only() -> None:
    assert not cursor("'CREATE'").at("CREATE")
    assert not cursor('"CREATE"').at("CREATE")
    assert cursor("create").at("CREATE|DROP")
    assert not cursor("CREATE").at("CREATED|DROP")


def test_cursor_answers_are_booleans() -> None:
    # They land in StatementInfo and AlterAction fields (temporary, if_exists, ...).
    cur = cursor("CREATE TABLE t")
    assert cur.at("CREATE") is True and cur.take("CREATE") is True
    assert cur.at("VIEW") is False and cur.take("VIEW") is False
    assert cur.at("TABLE", "t", "x") is False
    info = classify("CREATE TABLE t (a int)", "postgres")
    assert (info.temporary, info.if_exists, info.or_replace) == (False, False, False)
    dropped = classify("DROP INDEX i", "postgres")
    assert (dropped.concurrently, dropped.if_exists) == (False, False)
    added = classify("ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", "postgres").actions[0]
    assert added.using_index is False and added.not_valid is False


def test_cursor_peek_and_rest() -> None:
    cur = Cursor(tokenize("a b c"), 1)
    assert cur.peek() == Tok("w", "b", "B")
    assert cur.peek(1) == Tok("w", "c", "C")
    assert cur.peek(2) is None
    assert [t.text for t in cur.rest()] == ["b", "c"]
    assert Cursor(tokenize("a")).pos == 0


# -- the Name model --------------------------------------------------------------------

def test_name_compares_without_raw_and_prints_qualified() -> None:
    assert Name("t", "s", raw=("S", "T")) == Name("t", "s", raw=("s", "t"))
    assert hash(Name("t", raw=("T",))) == hash(Name("t"))
    assert Name("t").raw == ()
    assert str(Name("t", "s")) == "s.t"
    assert str(Name("t")) == "t"
    assert repr(Name("t", "s", raw=("S", "T"))) == "Name(name='t', schema='s')"
    with pytest.raises(dataclasses.FrozenInstanceError):
        Name("t").name = "u"  # type: ignore[misc]


# -- split_top_level and render --------------------------------------------------------

def test_split_top_level_keeps_nested_commas() -> None:
    parts = split_top_level(tokenize("a int, b numeric(10, 2), c int check (c in (1, 2)), d"))
    assert [render(p) for p in parts] == [
        "a int", "b numeric(10, 2)", "c int check(c in(1, 2))", "d"]
    assert split_top_level(tokenize(", a ,, b ,")) == [[Tok("w", "a", "A")],
                                                        [Tok("w", "b", "B")]]
    assert split_top_level([]) == []
    assert [render(p) for p in split_top_level(tokenize("f(a, (b)), 'x, y'"))] == [
        "f(a,(b))", "'x, y'"]


def test_render_round_trips_compact_text() -> None:
    assert render(tokenize("numeric ( 10 , 2 )")) == "numeric(10, 2)"
    assert render(tokenize('"Mixed Case" . col :: text')) == '"Mixed Case".col::text'
    assert render(tokenize("( ( 1 + 2 ) )")) == "((1 + 2))"
    assert render(tokenize("now ( )")) == "now()"
    assert render(tokenize("'a' || 'b'")) == "'a' || 'b'"
    assert render(tokenize("nextval ( 'seq' :: regclass )")) == "nextval('seq'::regclass)"
    assert render([]) == ""


def test_render_of_what_render_made_is_the_same_text() -> None:
    for text in ("numeric(10, 2)", '"Mixed".col::text', "f(a,(b))", "x"):
        assert render(tokenize(render(tokenize(text)))) == render(tokenize(text))


# -- first words and the statement kind tables ------------------------------------------

@pytest.mark.parametrize(("sql", "dialect", "kind"), [
    ("VALUES (1)", "postgres", "select"),
    ("SET x = 1", "postgres", "set"),
    ("CALL p()", "mysql", "call"),
    ("COMMENT ON TABLE t IS 'x'", "postgres", "comment"),
    ("GRANT SELECT ON t TO r", "postgres", "grant"),
    ("REVOKE SELECT ON t FROM r", "postgres", "grant"),
    ("ANALYZE t", "postgres", "maintenance"),
    ("VACUUM t", "postgres", "maintenance"),
    ("CLUSTER t USING i", "postgres", "maintenance"),
    ("REFRESH MATERIALIZED VIEW v", "postgres", "maintenance"),
    ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "postgres", "lock"),
    ("UNLOCK TABLES", "mysql", "lock"),
    ("USE app", "mysql", "set"),
    ("SHOW TABLES", "mysql", "select"),
    ("EXPLAIN SELECT 1", "postgres", "select"),
    ("COPY t TO STDOUT", "postgres", "copy"),
    ("LOAD DATA INFILE 'f' INTO TABLE t", "mysql", "load"),
    ("NOTIFY jobs", "postgres", "other"),
    ("PERFORM f()", "postgres", "other"),
    ("SECURITY LABEL ON TABLE t IS 'x'", "postgres", "comment"),
    ("LISTEN jobs", "postgres", "other"),
    ("UNLISTEN jobs", "postgres", "other"),
    ("DISCARD ALL", "postgres", "set"),
    ("CHECKPOINT", "postgres", "maintenance"),
    ("OPTIMIZE TABLE t", "mysql", "maintenance"),
    ("CHECK TABLE t", "mysql", "maintenance"),
    ("CHECKSUM TABLE t", "mysql", "select"),
    ("INSERT INTO t VALUES (1)", "postgres", "insert"),
    ("REPLACE INTO t VALUES (1)", "mysql", "insert"),
    ("SELECT 1", "postgres", "select"),
    ("WITH x AS (SELECT 1) SELECT * FROM x", "postgres", "select"),
    ("PRAGMA foreign_keys = ON", "sqlite", "pragma"),
    ("REINDEX TABLE t", "postgres", "maintenance"),
    ("BEGIN", "postgres", "begin"),
    ("START TRANSACTION", "mysql", "begin"),
    ("COMMIT", "postgres", "commit"),
    ("END", "postgres", "commit"),
    ("ROLLBACK", "postgres", "rollback"),
    ("ABORT", "postgres", "rollback"),
    ("SAVEPOINT a", "postgres", "savepoint"),
    ("RELEASE SAVEPOINT a", "postgres", "savepoint"),
    ("PREPARE p FROM 'SELECT 1'", "mysql", "prepare"),
    ("EXECUTE p", "mysql", "dynamic"),
    ("DEALLOCATE PREPARE p", "mysql", "other"),
    ("RESET ALL", "postgres", "set"),
    ("FLUSH LOGS", "mysql", "maintenance"),
    ("CREATE TABLE t (a int)", "postgres", "create_table"),
    ("DO $$ BEGIN END $$", "postgres", "do"),
    ("DROP TABLE t", "postgres", "drop_table"),
    ("ALTER TABLE t ADD COLUMN a int", "postgres", "alter_table"),
    ("TRUNCATE t", "postgres", "truncate"),
    ("DELETE FROM t", "postgres", "delete"),
    ("UPDATE t SET a = 1", "postgres", "update"),
    ("RENAME TABLE a TO b", "mysql", "rename_table"),
    ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "postgres", "unknown"),
])
def test_each_first_word_has_its_statement_kind(sql: str, dialect: str, kind: str) -> None:
    assert classify(sql, dialect).kind == kind


def test_transaction_words_are_the_transaction_statements() -> None:
    expected = {"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"}
    assert expected == TRANSACTION_WORDS


def test_first_word_reads_through_parentheses_and_executable_comments() -> None:
    assert first_word("  ( (select 1))") == "SELECT"
    assert first_word("/*!40101 set names utf8 */") == "SET"
    assert first_word("/*!40101\nset\nnames utf8 */") == "SET"
    assert first_word("42") == ""
    assert classify("/*!50003 CREATE\nTRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a = 1 */",
                    "mysql").kind == "create_other"


OBJECTS = ["VIEW", "FUNCTION", "PROCEDURE", "TYPE", "SEQUENCE", "TRIGGER", "EXTENSION",
           "DOMAIN", "EVENT", "POLICY", "RULE", "AGGREGATE", "COLLATION", "OPERATOR", "ROLE",
           "USER", "PUBLICATION", "SUBSCRIPTION", "STATISTICS", "CAST", "CONVERSION",
           "LANGUAGE", "SERVER"]


@pytest.mark.parametrize("word", OBJECTS)
def test_create_and_drop_of_other_objects(word: str) -> None:
    created = classify(f"CREATE {word} IF NOT EXISTS obj_x", "postgres")
    assert (created.kind, created.object_type, created.table) == (
        "create_other", word.lower(), Name("obj_x"))
    dropped = classify(f"DROP {word} IF EXISTS obj_x, obj_y", "postgres")
    assert (dropped.kind, dropped.object_type, dropped.tables) == (
        "drop_other", word.lower(), (Name("obj_x"), Name("obj_y")))


def test_materialized_views_are_other_objects() -> None:
    created = classify("CREATE MATERIALIZED VIEW mv AS SELECT 1", "postgres")
    assert (created.kind, created.object_type, created.table) == (
        "create_other", "materialized", Name("mv"))
    dropped = classify("DROP MATERIALIZED VIEW mv", "postgres")
    assert (dropped.kind, dropped.object_type, dropped.table) == (
        "drop_other", "materialized view", Name("mv"))


ALTER_OTHER = ["INDEX", "SCHEMA", "DATABASE", "SEQUENCE", "VIEW", "TYPE", "FUNCTION",
               "EXTENSION", "ROLE", "USER", "SYSTEM", "DEFAULT", "MATERIALIZED", "TRIGGER",
               "POLICY", "EVENT", "STATISTICS", "PROCEDURE", "DOMAIN", "COLLATION",
               "AGGREGATE", "OPERATOR", "PUBLICATION", "CONVERSION", "LANGUAGE", "SERVER",
               "RULE"]


@pytest.mark.parametrize("word", ALTER_OTHER)
def test_alter_of_objects_without_rows(word: str) -> None:
    info = classify(f"ALTER {word} obj_x RENAME TO obj_y", "postgres")
    assert (info.kind, info.object_type) == ("alter_other", word.lower())


def test_alter_of_an_unknown_object_is_unknown() -> None:
    assert classify("ALTER TABLESPACE x RENAME TO y", "postgres").kind == "unknown"


# -- statements that run another (EXPLAIN ANALYZE, COPY (...)), WITH, COPY and LOAD ------

@pytest.mark.parametrize(("sql", "dialect", "kind"), [
    ("EXPLAIN ANALYZE DELETE FROM t", "postgres", "delete"),
    ("explain analyse verbose update t set a = 1", "postgres", "update"),
    ("EXPLAIN (ANALYZE, BUFFERS) DELETE FROM t", "postgres", "delete"),
    ("EXPLAIN (FORMAT 'json', ANALYZE true) DELETE FROM t", "postgres", "delete"),
    ("EXPLAIN DELETE FROM t", "postgres", "select"),
    ("ANALYZE FORMAT=JSON DELETE FROM t", "mysql", "delete"),
    ("analyze delete from t", "mysql", "delete"),
    ("COPY (DELETE FROM t RETURNING *) TO STDOUT", "postgres", "delete"),
    ("copy (select 1) to stdout", "postgres", "copy"),
    ("copy (delete from t returning *) to stdout", "postgres", "delete"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "postgres", "delete"),
    ("with d as (select 1) update t set a = 1", "postgres", "update"),
    ("WITH d AS (SELECT 1) SELECT 'delete' FROM d", "postgres", "select"),
])
def test_statements_run_inside_others(sql: str, dialect: str, kind: str) -> None:
    assert classify(sql, dialect).kind == kind


def test_copy_and_load_name_the_table_they_fill() -> None:
    assert classify("COPY app.t (a, b) FROM STDIN", "postgres").table == Name("t", "app")
    assert classify("copy t from '/x'", "postgres").table == Name("t")
    assert classify("COPY t TO STDOUT", "postgres").table is None
    assert classify("LOAD DATA LOCAL INFILE 'f'\nREPLACE INTO TABLE `T` (a)",
                    "mysql").table == Name("T")
    assert classify("load data infile 'f' into table t", "mysql").table == Name("t")


# -- the WHERE clause's constant words and where it ends ---------------------------------

@pytest.mark.parametrize("where", [
    "TRUE", "NOT FALSE", "FALSE IS FALSE", "NULL IS NULL", "TRUE AND TRUE",
    "TRUE XOR FALSE", "2 BETWEEN 1 AND 3", "1 IN (1, 2)", "'a' LIKE 'a'",
    "TRUE IS NOT UNKNOWN", "CAST(1 AS INTEGER) = 1", "CAST(1 AS INT) = 1",
    "CAST('1' AS TEXT) = '1'", "CAST(1 AS BOOLEAN)", "CAST(1 AS BOOL)",
    "CAST(1 AS CHAR) = '1'", "CAST(1 AS VARCHAR) = '1'",
])
def test_a_constant_where_bounds_nothing(where: str) -> None:
    assert classify(f"DELETE FROM t WHERE {where}", "mysql").has_where is False
    assert classify(f"DELETE FROM t WHERE id = 1 AND {where}", "mysql").has_where is True


@pytest.mark.parametrize("tail", ["ORDER BY id", "LIMIT 10", "RETURNING id"])
def test_the_where_clause_ends_before_what_follows_it(tail: str) -> None:
    assert classify(f"DELETE FROM t WHERE TRUE {tail}", "postgres").has_where is False
    assert classify(f"UPDATE t SET a = 1 WHERE id = 1 {tail}", "postgres").has_where is True


# -- multi-table DELETE (MariaDB): the words between its table references ----------------

@pytest.mark.parametrize(("sql", "tables"), [
    ("DELETE b FROM t1 a JOIN t2 b ON a.id = b.id WHERE a.x = 1", ("t2",)),
    ("DELETE b FROM t1 a STRAIGHT_JOIN t2 b ON a.id = b.id WHERE a.x = 1", ("t2",)),
    ("DELETE b FROM t1 a INNER JOIN t2 b ON a.id = b.id", ("t2",)),
    ("DELETE b FROM t1 a LEFT OUTER JOIN t2 b USING (id)", ("t2",)),
    ("DELETE b FROM t1 AS a NATURAL JOIN t2 AS b", ("t2",)),
    ("DELETE b FROM t1 CROSS JOIN t2 b", ("t2",)),
    ("DELETE b FROM t1 RIGHT JOIN t2 b ON t1.id = b.id", ("t2",)),
    ("DELETE a, b FROM t1 a, t2 b WHERE a.id = b.id", ("t1", "t2")),
    ("DELETE FROM b USING t1 a JOIN t2 b ON a.id = b.id ORDER BY a.id", ("t2",)),
    ("DELETE b FROM t1 a JOIN (SELECT 1) s JOIN t2 b ON a.id = b.id LIMIT 1", ("t2",)),
    ("DELETE b FROM t1 a JOIN (WITH w AS (SELECT 1) SELECT 1) s JOIN t2 b", ("t2",)),
    ("DELETE b FROM t1 a JOIN (VALUES (1)) s JOIN t2 b", ("t2",)),
    ("DELETE b FROM t1 a JOIN (TABLE x) s JOIN t2 b", ("t2",)),
])
def test_multi_table_delete_resolves_its_targets(sql: str, tables: tuple[str, ...]) -> None:
    assert tuple(str(t) for t in classify(sql, "mysql").tables) == tables


@pytest.mark.parametrize("subquery", ["SELECT x FROM t1, t3 b",
                                      "WITH w AS (SELECT 1) SELECT x FROM t1, t3 b"])
def test_a_subquerys_own_aliases_are_not_the_statements(subquery: str) -> None:
    sql = f"DELETE b FROM t2 b JOIN ({subquery}) s ON s.x = b.x WHERE s.x = 1"
    assert classify(sql, "mysql").tables == (Name("t2"),)


@pytest.mark.parametrize(("word", "refs"), [
    ("left", "t1 LEFT JOIN"), ("right", "t1 RIGHT JOIN"), ("inner", "t1 INNER JOIN"),
    ("cross", "t1 CROSS JOIN"), ("natural", "t1 NATURAL JOIN"),
    ("straight_join", "t1 STRAIGHT_JOIN"), ("outer", "t1 LEFT OUTER JOIN"),
    ("lateral", "t1, LATERAL (SELECT 1) AS d JOIN"),
])
def test_a_join_word_is_no_table_nor_alias(word: str, refs: str) -> None:
    # A table may be named like the word (quoted): it is that table the DELETE empties,
    # with its name as written (MariaDB's table names may be case-sensitive).
    sql = f"DELETE `{word}` FROM {refs} `{word}` ON t1.id = `{word}`.id"
    info = classify(sql, "mysql")
    assert info.tables == (Name(word),)
    assert info.tables[0].raw == (word,)


@pytest.mark.parametrize(("derived", "table"), [
    ("VALUES ROW(1), ROW(2)", "row"), ("TABLE t5", "t5")])
def test_a_derived_table_of_values_or_table_is_no_reference(derived: str, table: str) -> None:
    sql = f"DELETE `{table}` FROM `{table}` JOIN ({derived}) AS v ON v.id = `{table}`.id"
    assert classify(sql, "mysql").tables == (Name(table),)


def test_returning_ends_the_references() -> None:
    # PostgreSQL: no WHERE; the names RETURNING lists are no tables of the USING.
    info = classify("DELETE FROM t USING u RETURNING u.id, u.t", "postgres")
    assert info.tables == (Name("t"),) and not info.has_where


def test_a_where_after_the_references_ends_them() -> None:
    info = classify("DELETE b FROM t2 b WHERE b.x IN (SELECT x FROM t3 c) RETURNING c", "mysql")
    assert info.tables == (Name("t2"),) and info.has_where


# -- ALTER TABLE: the harmless actions, partitions, inline constraints --------------------

def actions(sql: str, dialect: str) -> list[str]:
    return [a.kind for a in classify(sql, dialect).actions]


@pytest.mark.parametrize("action", [
    "OWNER TO bob", "CLUSTER ON i", "SET WITHOUT CLUSTER", "SET WITHOUT OIDS",
    "SET (fillfactor = 70)", "RESET (fillfactor)", "REPLICA IDENTITY FULL",
    "ENABLE TRIGGER tr", "ENABLE REPLICA TRIGGER tr", "ENABLE ALWAYS TRIGGER tr",
    "ENABLE RULE r", "ENABLE REPLICA RULE r", "ENABLE ALWAYS RULE r",
    "ALTER CONSTRAINT fk DEFERRABLE",
])
def test_harmless_postgres_actions(action: str) -> None:
    assert actions(f"ALTER TABLE t {action}", "postgres") == ["other"]


@pytest.mark.parametrize("action", [
    "COMMENT = 'x'", "AUTO_INCREMENT = 5", "AVG_ROW_LENGTH = 10", "CHECKSUM = 1",
    "TABLE_CHECKSUM = 1", "DEFAULT CHARACTER SET utf8mb4", "CHARACTER SET utf8mb4",
    "DEFAULT CHARSET = utf8mb4", "CHARSET utf8mb4", "DEFAULT COLLATE utf8mb4_bin",
    "COLLATE = utf8mb4_bin", "DELAY_KEY_WRITE = 1", "MAX_ROWS = 5", "MIN_ROWS = 1",
    "PACK_KEYS = 0", "STATS_AUTO_RECALC = 1", "STATS_PERSISTENT = 1",
    "STATS_SAMPLE_PAGES = 8", "ENABLE KEYS", "DISABLE KEYS", "ALTER INDEX i IGNORED",
    "ALTER KEY i INVISIBLE", "ANALYZE PARTITION p1", "CHECK PARTITION p1",
    "REORGANIZE PARTITION p1 INTO (PARTITION p2 VALUES LESS THAN (5))",
    "COALESCE PARTITION 2", "REBUILD PARTITION p1", "OPTIMIZE PARTITION p1",
    "REMOVE PARTITIONING", "PARTITION BY HASH(id) PARTITIONS 4", "IMPORT TABLESPACE",
    "IMPORT PARTITION p1 TABLESPACE",
    # table options follow each other without commas; each must be on the list
    "COMMENT = 'x' MAX_ROWS = 5 DEFAULT CHARSET = utf8mb4",
    "CHARACTER SET = utf8mb4 COLLATE utf8mb4_bin",
])
def test_harmless_mariadb_actions(action: str) -> None:
    assert actions(f"ALTER TABLE t {action}", "mysql") == ["other"]


@pytest.mark.parametrize("action", [
    "COMMENT = 'x' ROW_FORMAT = COMPRESSED", "DEFAULT CHARSET = utf8mb4 ROW_FORMAT = DYNAMIC",
    "CHARACTER SET utf8mb4 ENCRYPTED = YES", "MAX_ROWS = 5 PAGE_COMPRESSED = 1",
    "DISABLE TRIGGER tr", "ORDER BY id",
])
def test_a_harmless_option_does_not_cover_the_next(action: str) -> None:
    assert actions(f"ALTER TABLE t {action}", "mysql") == ["unknown"]


@pytest.mark.parametrize("action", [
    "SET STATISTICS 100", "SET STORAGE EXTERNAL", "SET COMPRESSION lz4",
    "SET (n_distinct = 10)", "RESET (n_distinct)",
])
def test_harmless_column_actions(action: str) -> None:
    info = classify(f"ALTER TABLE t ALTER COLUMN c {action}", "postgres")
    assert [(a.kind, a.column) for a in info.actions] == [("other", "c")]


def test_a_column_action_not_on_the_list_is_unknown() -> None:
    assert actions("ALTER TABLE t ALTER COLUMN c SET EXPRESSION AS (1)", "postgres") == [
        "unknown"]
    assert actions("ALTER TABLE t ALTER COLUMN c OWNER TO bob", "postgres") == ["unknown"]


@pytest.mark.parametrize("word", ["DROP", "TRUNCATE", "DISCARD", "IMPORT", "ANALYZE",
                                  "CHECK", "OPTIMIZE", "REBUILD", "REPAIR"])
def test_partition_lists_are_one_action(word: str) -> None:
    tail = " TABLESPACE" if word in ("DISCARD", "IMPORT") else ""
    info = classify(f"ALTER TABLE t {word} PARTITION p1, p2{tail}", "mysql")
    assert len(info.actions) == 1
    assert info.actions[0].kind != "unknown" or word == "REPAIR"


def test_dropped_and_truncated_partitions_are_named() -> None:
    dropped = classify("ALTER TABLE t DROP PARTITION p1, p2", "mysql").actions
    assert [(a.kind, a.constraint) for a in dropped] == [("drop_partition", "p1, p2")]
    emptied = classify("ALTER TABLE t TRUNCATE PARTITION p1, p2", "mysql").actions
    assert [(a.kind, a.constraint) for a in emptied] == [("truncate_partition", "p1, p2")]


def test_added_column_inline_constraints_and_index_kinds() -> None:
    info = classify("ALTER TABLE t ADD COLUMN c int UNIQUE REFERENCES u CHECK (c > 0) "
                    "PRIMARY KEY", "postgres")
    assert info.actions[0].inline == ("unique", "foreign_key", "check", "primary_key")
    kinds = [(a.kind, a.constraint) for a in classify(
        "ALTER TABLE t ADD INDEX i (a), ADD FULLTEXT INDEX f (b), ADD SPATIAL INDEX s (g), "
        "ADD UNIQUE KEY u (a)", "mysql").actions]
    assert kinds == [("add_index", "index"), ("add_index", "fulltext"),
                     ("add_index", "spatial"), ("add_constraint", "unique")]


# -- MariaDB: a name may start with digits ---------------------------------------------

def test_mariadb_names_may_start_with_digits() -> None:
    # MariaDB (and MySQL) identifiers may begin with a numeral unless they are all
    # numerals; a numeral, e and digits is a number (5e6), 9e a name.
    assert texts("SELECT .5, app.2fa, `a`.5e", "mysql") == [
        "SELECT", ".5", ",", "app", ".", "2fa", ",", "a", ".", "5e"]
    sql = "SELECT 2fa, 1_000, 9e, 1e+x, 5e6, 1e-3, 12, 3.5 FROM 3d"
    assert triples(tokenize(sql, "mysql")) == [
        ("w", "SELECT", "SELECT"), ("w", "2fa", "2FA"), ("p", ",", ","),
        ("w", "1_000", "1_000"), ("p", ",", ","), ("w", "9e", "9E"), ("p", ",", ","),
        ("w", "1e", "1E"), ("p", "+", "+"), ("w", "x", "X"), ("p", ",", ","),
        ("n", "5e6", "5e6"), ("p", ",", ","), ("n", "1e-3", "1e-3"), ("p", ",", ","),
        ("n", "12", "12"), ("p", ",", ","), ("n", "3.5", "3.5"), ("w", "FROM", "FROM"),
        ("w", "3d", "3D")]
    # Elsewhere a name never starts with a digit (PostgreSQL refuses 2fa as junk after a
    # number, SQLite as an unrecognized token).
    assert texts("SELECT 2fa", "postgres") == ["SELECT", "2", "fa"]
    assert texts("SELECT 2fa", "sqlite") == ["SELECT", "2", "fa"]


@pytest.mark.parametrize(("sql", "table"), [
    ("DROP TABLE 2fa_codes", "2fa_codes"),
    ("DELETE FROM app.2fa_codes", "app.2fa_codes"),
    ("TRUNCATE TABLE 1st", "1st"),
    ("UPDATE 3d_models SET a = 1", "3d_models"),
    ("ALTER TABLE 2fa_codes DROP COLUMN x", "2fa_codes"),
])
def test_mariadb_statements_name_tables_that_start_with_digits(sql: str, table: str) -> None:
    assert str(classify(sql, "mysql").table) == table


def test_mariadb_dropped_column_that_starts_with_digits_is_named() -> None:
    info = classify("ALTER TABLE users DROP COLUMN 2fa_secret", "mysql")
    assert [(a.kind, a.column) for a in info.actions] == [("drop_column", "2fa_secret")]


# -- PostgreSQL: a line comment holding /* opens no block comment -----------------------

def test_postgres_line_comment_holding_a_comment_opener_ends_at_the_line() -> None:
    assert texts("SELECT 1 -- a /* b\n, 2", "postgres") == ["SELECT", "1", ",", "2"]
    assert texts("SELECT 1 -- a /* b\r, 2 /* c /* d */ */ , 3", "postgres") == [
        "SELECT", "1", ",", "2", ",", "3"]
    # A block comment's first nested opener may follow its own at once.
    assert texts("SELECT 1 /*/* a */ b */, 2", "postgres") == ["SELECT", "1", ",", "2"]


def test_postgres_drop_after_a_line_comment_holding_a_comment_opener_is_read() -> None:
    from tests.unit.rules.helpers import findings_for

    sql = "ALTER TABLE users ADD COLUMN a int, -- see /* the docs\n DROP COLUMN email;"
    info = classify(sql.rstrip(";"), "postgres")
    assert [(a.kind, a.column) for a in info.actions] == [("add_column", "a"),
                                                          ("drop_column", "email")]
    assert "SG302" in findings_for(sql, "postgres")
    assert classify("DELETE FROM t -- old rows /* only\nWHERE id = 5", "postgres").has_where
