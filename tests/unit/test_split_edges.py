"""Statement boundaries at the edges of each dialect's lexer: the characters only one
dialect reads as quotes or comments, comments cut short or nested, dollar quotes next to
identifiers, and where each statement is said to start and end.

Each case is one the splitter once got wrong or could get wrong without a test noticing
(found by mutation testing, bench/mutation.py): the texts and places are what the rules
and the runner act on.
"""

from __future__ import annotations

import pytest

from switchy_guard.sql import Statement, split_statements


def texts(sql: str, dialect: str | None = None) -> list[str]:
    return [s.text for s in split_statements(sql, dialect)]


# --- characters only some dialects read as quotes or comments ---------------------------


def test_a_backtick_quotes_everywhere_but_postgres() -> None:
    sql = "SELECT `a;b`; SELECT 2;"
    for dialect in (None, "sqlite", "mysql"):
        assert texts(sql, dialect) == ["SELECT `a;b`", "SELECT 2"]
    assert texts(sql, "postgres") == ["SELECT `a", "b`", "SELECT 2"]


def test_a_hash_starts_a_comment_only_on_mysql() -> None:
    sql = "SELECT 1 # the; comment\n;\nSELECT 2;"
    assert texts(sql, "mysql") == ["SELECT 1 # the; comment", "SELECT 2"]
    assert texts(sql, "postgres") == ["SELECT 1 # the", "comment", "SELECT 2"]


def test_brackets_quote_only_on_sqlite() -> None:
    sql = "SELECT [a;b]; SELECT 2;"
    assert texts(sql, "sqlite") == ["SELECT [a;b]", "SELECT 2"]
    assert texts(sql, "mysql") == ["SELECT [a", "b]", "SELECT 2"]


def test_a_semicolon_inside_parentheses_ends_nothing_on_postgres() -> None:
    sql = ("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
           "INSERT INTO b VALUES (2)); SELECT 2;")
    assert texts(sql, "postgres") == [
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
        "INSERT INTO b VALUES (2))", "SELECT 2"]
    assert len(texts(sql, "mysql")) == 3


def test_a_closing_parenthesis_too_many_does_not_swallow_the_next_semicolon() -> None:
    assert texts("SELECT 1); SELECT (2;", "postgres") == ["SELECT 1)", "SELECT (2;"]


def test_an_e_string_needs_the_e_to_start_a_word() -> None:
    # xE is a name: '...' after it is a plain string, whose backslash escapes nothing.
    assert texts("SELECT xE'a\\'; SELECT 2;", "postgres") == ["SELECT xE'a\\'", "SELECT 2"]
    assert texts("SELECT E'a\\'; b'; SELECT 2;", "postgres") == ["SELECT E'a\\'; b'",
                                                               "SELECT 2"]
    assert texts("SELECT (E'a\\'; b'); SELECT 2;", "postgres") == ["SELECT (E'a\\'; b')",
                                                                 "SELECT 2"]


# --- block comments --------------------------------------------------------------------


def test_a_comment_closing_right_before_a_delimiter_leaves_it_in_place() -> None:
    for dialect in (None, "sqlite", "postgres", "mysql"):
        assert texts("SELECT 1 /* c */; SELECT 2", dialect) == ["SELECT 1 /* c */",
                                                               "SELECT 2"]


def test_the_star_of_the_opener_does_not_close_the_comment() -> None:
    for dialect in (None, "sqlite", "postgres", "mysql"):
        statements = split_statements("/*/ SELECT 1; */ SELECT 2;", dialect)
        assert [(s.text, s.leading_comments) for s in statements] == [
            ("SELECT 2", ("/ SELECT 1;",))]


def test_nested_comments_close_at_their_own_end_on_postgres() -> None:
    sql = "/* a /*/* b */ c */ d */ SELECT 1; SELECT 2;"
    assert texts(sql, "postgres") == ["SELECT 1", "SELECT 2"]
    assert texts("SELECT 1 /* a /* b */ ; */ SELECT 2;", "postgres") == [
        "SELECT 1 /* a /* b */ ; */ SELECT 2"]
    assert texts("SELECT 1 /* a /* b */ ; */ SELECT 2;", None) == [
        "SELECT 1 /* a /* b */", "*/ SELECT 2"]


OVERLAPS = [
    "/* a /*/* b */ c */ d */ SELECT 1; SELECT 2;",
    "SELECT 1 /* /*/ x */ ; */; SELECT 2",
    "SELECT 1 /*/ x */ ; SELECT 2",
    "SELECT 1 /* x */*/ ; SELECT 2",
    "SELECT 1 /* /*/*/ */ */ */; SELECT 2 /**/;",
]


@pytest.mark.parametrize("sql", OVERLAPS)
def test_an_opener_sharing_its_star_with_a_closer_opens_as_postgres_reads_it(sql: str) -> None:
    # PostgreSQL's lexer reads "/*/" as an opener (then "/"), never as "/" and a closer:
    # the statements end where the server's own splitter (through pglast) ends them.
    import pglast  # a dev dependency: a missing one fails, never skips
    theirs = pglast.split(sql, with_parser=False)  # leading comments kept in the text
    ours = texts(sql, "postgres")
    assert len(ours) == len(theirs) and all(t.endswith(o) for o, t in zip(ours, theirs,
                                                                            strict=True))


def test_an_unclosed_nested_comment_runs_to_the_end() -> None:
    assert split_statements("SELECT 1; /* a /* b */ SELECT 2;", "postgres")[1:] == []
    assert texts("SELECT 1 /* a /* b */ ; SELECT 2", "postgres") == [
        "SELECT 1 /* a /* b */ ; SELECT 2"]


def test_a_nul_ends_a_block_comment_at_the_nul_only() -> None:
    # A NUL later in the file does not cut a comment before it short...
    statements = split_statements("/* c */ SELECT 1;\nSELECT 'a\0b';", None)
    assert [(s.text, s.leading_comments) for s in statements] == [
        ("SELECT 1", ("c",)), ("SELECT 'a\0b'", ())]
    # ... nor does one earlier in the file.
    statements = split_statements("SELECT 'a\0b';\n/* c; d */ SELECT 2;", "postgres")
    assert [(s.text, s.leading_comments) for s in statements] == [
        ("SELECT 'a\0b'", ()), ("SELECT 2", ("c; d",))]
    # The NUL itself ends the comment, and what follows it is code.
    assert texts("SELECT 1 /* c \0; SELECT 2 */;", "postgres") == [
        "SELECT 1 /* c \0", "SELECT 2 */"]


# --- dollar quotes beside identifiers ----------------------------------------------------


def test_a_dollar_after_a_name_at_the_start_continues_the_name() -> None:
    assert texts("a$b$; SELECT 2; $b$", "postgres") == ["a$b$", "SELECT 2", "$b$"]
    assert texts("1x$q$ a; b $q$; SELECT 2;", "postgres") == ["1x$q$ a; b $q$", "SELECT 2"]


def test_a_name_longer_than_the_look_back_window_is_still_a_name() -> None:
    for name in ("x" + "a" * 70, "1" + "a" * 70, "1" + "a" * 63):
        sql = f"SELECT {name}$q$; SELECT 2; $q$"
        assert texts(sql, "postgres") == [f"SELECT {name}$q$", "SELECT 2", "$q$"], name


def test_a_name_within_the_window_is_read_from_its_start() -> None:
    # "1a" starts with a digit: a number, then the dollar quote opens.
    sql = "SELECT " + "x" * 10 + " 1" + "a" * 60 + "$q$ a; b $q$; SELECT 2;"
    assert texts(sql, "postgres") == [sql.split("; SELECT 2")[0], "SELECT 2"]


# --- statements made by hand ----------------------------------------------------------


def test_a_statement_made_by_hand_has_no_comments_block_or_doubt() -> None:
    statement = Statement("SELECT 1", 1, 1, 1, 0)
    assert (statement.leading_comments, statement.comment_lines, statement.trailing_comments,
            statement.block, statement.doubt) == ((), (), (), None, None)


def test_an_unknown_dialect_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^unknown dialect 'oracle'$"):
        split_statements("SELECT 1", "oracle")


def test_a_name_filling_the_window_exactly_from_the_second_character_is_a_name() -> None:
    sql = " 1" + "a" * 63 + "$q$; SELECT 2; $q$"
    assert texts(sql, "postgres") == ["1" + "a" * 63 + "$q$", "SELECT 2", "$q$"]


def test_a_name_starting_with_any_letter_continues_through_a_dollar() -> None:
    for name in ("X", "x", "_", "é"):
        assert texts(f"SELECT {name}$q$; SELECT 2; $q$", "postgres") == [
            f"SELECT {name}$q$", "SELECT 2", "$q$"], name


def test_a_nested_comment_ending_an_undelimited_statement_trails_it() -> None:
    (statement,) = split_statements("SELECT 1 /* a /* b */ c */", "postgres")
    assert (statement.text, statement.trailing_comments) == ("SELECT 1", (("a /* b */ c", 1),))


# --- line comments and their text ----------------------------------------------------------


@pytest.mark.parametrize("dialect", [None, "postgres"])
def test_a_carriage_return_before_a_comment_does_not_end_it(dialect: str | None) -> None:
    statements = split_statements("SELECT 1;\r\n-- c; d\r\nSELECT 2;", dialect)
    assert [(s.text, s.leading_comments) for s in statements] == [
        ("SELECT 1", ()), ("SELECT 2", ("c; d",))]


@pytest.mark.parametrize("dialect", [None, "postgres", "mysql", "sqlite"])
def test_a_line_comment_ends_at_its_own_line_whatever_comes_later(dialect: str | None) -> None:
    assert texts("-- c\nSELECT 1;\r\nSELECT 2;", dialect) == ["SELECT 1", "SELECT 2"]
    assert texts("-- c\nSELECT 1;\nSELECT 'a\0';", dialect) == ["SELECT 1", "SELECT 'a\0'"]
    assert texts("SELECT 'a\0';\n-- c; d\nSELECT 2;", dialect) == ["SELECT 'a\0'", "SELECT 2"]


def test_comment_text_loses_only_its_markers() -> None:
    assert split_statements("#abc\nSELECT 1;", "mysql")[0].leading_comments == ("abc",)
    assert split_statements("# first\nSELECT 1;\n-- second\nSELECT 2;", "mysql")[1] \
        .leading_comments == ("second",)
    assert split_statements("-- see */\nSELECT 1;")[0].leading_comments == ("see */",)
    assert split_statements("/*abc*/ SELECT 1;")[0].leading_comments == ("abc",)
    assert split_statements("SELECT 1; /*/")[0].trailing_comments == (("/", 1),)


NUL_DOUBT = ("a NUL character: PostgreSQL refuses it and MariaDB stops reading the statement "
             "there, so what runs is not what switchy-guard read")


def test_a_trailing_comment_keeps_the_statements_doubt() -> None:
    (statement,) = split_statements("SELECT 'a\0'; -- c", "postgres")
    assert (statement.doubt, statement.trailing_comments) == (NUL_DOUBT, (("c", 1),))


# --- how a migration changes the reading of strings ------------------------------------


def after(setting: str, dialect: str, sql: str) -> list[tuple[str, str | None]]:
    """The statements after ``setting`` (texts and doubts)."""
    statements = split_statements(f"{setting};\n{sql}", dialect)[1 + setting.count(";"):]
    return [(s.text, s.doubt) for s in statements]


@pytest.mark.parametrize("value", ["off", "of", "f", "fa", "fal", "fals", "false", "n", "no",
                                   "0", "'off'", "'no'"])
def test_standard_conforming_strings_off_makes_backslashes_escape(value: str) -> None:
    found = after(f"SET standard_conforming_strings = {value}", "postgres",
                  "SELECT 'a\\'; b'; SELECT 2;")
    assert [text for text, _ in found] == ["SELECT 'a\\'; b'", "SELECT 2"]


@pytest.mark.parametrize("value", ["on", "t", "tr", "tru", "true", "y", "ye", "yes", "1",
                                   "DEFAULT", "''", "'on'"])
def test_standard_conforming_strings_on_again_reads_backslashes_plainly(value: str) -> None:
    found = after(f"SET standard_conforming_strings = off;\nSET standard_conforming_strings "
                  f"TO {value}", "postgres", "SELECT 'a\\'; SELECT 2;")
    assert found == [("SELECT 'a\\'", None), ("SELECT 2", None)]


@pytest.mark.parametrize("reset", ["RESET ALL", "DISCARD ALL", "reset  all"])
def test_reset_all_reads_backslashes_plainly_again(reset: str) -> None:
    found = after(f"SET standard_conforming_strings = off;\n{reset}", "postgres",
                  "SELECT 'a\\'; SELECT 2;")
    assert found == [("SELECT 'a\\'", None), ("SELECT 2", None)]


@pytest.mark.parametrize("mode", ["ANSI_QUOTES", "ANSI", "DB2", "MAXDB", "MSSQL", "ORACLE",
                                  "POSTGRESQL", "STRICT_TRANS_TABLES,ansi_quotes"])
def test_an_sql_mode_with_ansi_quotes_makes_double_quotes_names(mode: str) -> None:
    found = after(f"SET sql_mode = '{mode}'", "mysql", 'SELECT "a\\"; SELECT 2;')
    assert [text for text, _ in found] == ['SELECT "a\\"', "SELECT 2"]


def test_without_ansi_quotes_a_backslash_escapes_in_double_quotes() -> None:
    found = after("SET sql_mode = 'STRICT_TRANS_TABLES'", "mysql", 'SELECT "a\\"; b"; SELECT 2;')
    assert [text for text, _ in found] == ['SELECT "a\\"; b"', "SELECT 2"]


# --- which statements are doubted, and why -------------------------------------------------


SCS_OFF = ("standard_conforming_strings is off here: a backslash in a '...' string escapes "
           "the next character, which switchy-guard's rules do not read so")
SCS_UNKNOWN = ("standard_conforming_strings was changed in a way switchy-guard cannot follow "
               "(set_config, SET LOCAL, an expression): a backslash in a '...' string may "
               "escape the next character")
MODE_UNKNOWN = ("sql_mode was changed in a way switchy-guard cannot follow (an expression, "
                "several settings at once, GLOBAL): backslashes and double quotes may read "
                "differently")


def test_nothing_is_doubted_before_a_setting_changes() -> None:
    for dialect in (None, "sqlite", "postgres", "mysql"):
        assert [s.doubt for s in split_statements("SELECT 'X'; SELECT \"a\\\\b\";",
                                                   dialect)] == [None, None]


def test_with_standard_conforming_strings_off_only_backslashes_are_doubted() -> None:
    assert after("SET standard_conforming_strings = off", "postgres",
                 "SELECT 'a\\\\b'; SELECT 'X\"*'; SELECT 2;") == [
        ("SELECT 'a\\\\b'", SCS_OFF), ("SELECT 'X\"*'", None), ("SELECT 2", None)]


@pytest.mark.parametrize("change", [
    "SELECT set_config('standard_conforming_strings', 'off', false)",
    "SET LOCAL standard_conforming_strings = off",
    "SET standard_conforming_strings = current_setting('x')",
])
def test_a_change_that_cannot_be_followed_doubts_every_backslash(change: str) -> None:
    assert after(change, "postgres", "SELECT 'a\\\\b'; SELECT 'X'; SELECT 2;") == [
        ("SELECT 'a\\\\b'", SCS_UNKNOWN), ("SELECT 'X'", None), ("SELECT 2", None)]


def test_other_settings_doubt_nothing() -> None:
    assert after("SET search_path TO app", "postgres", "SELECT 'a\\\\b';") == [
        ("SELECT 'a\\\\b'", None)]
    assert after("SET standard_conforming_strings = on", "postgres", "SELECT 'X\\\\';") == [
        ("SELECT 'X\\\\'", None)]
    assert after("SET sql_mode = 'ANSI_QUOTES'", "postgres", 'SELECT "a\\"; SELECT 2;') == [
        ('SELECT "a\\"', None), ("SELECT 2", None)]


def test_reset_standard_conforming_strings_reads_backslashes_plainly_again() -> None:
    assert after("SET standard_conforming_strings = off;\nRESET standard_conforming_strings",
                 "postgres", "SELECT 'aX\\'; SELECT 2;") == [("SELECT 'aX\\'", None),
                                                            ("SELECT 2", None)]
    assert after("SET standard_conforming_strings = off;\nRESET ALL", "postgres",
                 "SELECT 'aX\\'; SELECT 2;") == [("SELECT 'aX\\'", None), ("SELECT 2", None)]


def test_an_sql_mode_set_by_an_expression_doubts_backslashes_and_double_quotes() -> None:
    assert after("SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')", "mysql",
                 "SELECT 'a\\\\b'; SELECT \"a\"; SELECT 'X*';") == [
        ("SELECT 'a\\\\b'", MODE_UNKNOWN), ('SELECT "a"', MODE_UNKNOWN), ("SELECT 'X*'", None)]


def test_an_sql_mode_naming_oracle_doubts_every_statement() -> None:
    doubts = [d for _, d in after("SET sql_mode = CONCAT(@@sql_mode, ',ORACLE')", "mysql",
                                  "SELECT 1; SELECT 'X';")]
    assert doubts == [MODE_UNKNOWN, MODE_UNKNOWN]
    assert after("SET sql_mode = 'ORACLE'", "mysql", "SELECT 1;") == [
        ("SELECT 1", "sql_mode is 'ORACLE' here: MariaDB parses statements as Oracle's")]


def test_no_backslash_escapes_reads_backslashes_plainly_and_doubts_them() -> None:
    reason = ("sql_mode is 'NO_BACKSLASH_ESCAPES' here: backslashes and double quotes read "
              "differently from the rules' reading")
    assert after("SET sql_mode = 'NO_BACKSLASH_ESCAPES'", "mysql",
                 "SELECT 'a\\'; SELECT \"X\"; SELECT 2;") == [
        ("SELECT 'a\\'", reason), ('SELECT "X"', None), ("SELECT 2", None)]


def test_ansi_quotes_doubts_double_quotes_only() -> None:
    reason = ("sql_mode is 'ANSI_QUOTES' here: backslashes and double quotes read "
              "differently from the rules' reading")
    assert after('SET sql_mode = "ANSI_QUOTES"', "mysql",
                 "SELECT \"a\"; SELECT 'X\\'b'; SELECT 2;") == [
        ('SELECT "a"', reason), ("SELECT 'X\\'b'", None), ("SELECT 2", None)]


def test_a_mode_keeping_backslash_escapes_keeps_them_in_single_quotes() -> None:
    found = after("SET sql_mode = 'STRICT_TRANS_TABLES'", "mysql", "SELECT 'a\\'; b'; SELECT 2;")
    assert found == [("SELECT 'a\\'; b'", None), ("SELECT 2", None)]


def test_sql_mode_default_reads_as_the_servers_default_again() -> None:
    found = after("SET sql_mode = 'ANSI_QUOTES';\nSET sql_mode = DEFAULT", "mysql",
                  'SELECT "a\\"; b"; SELECT 2;')
    assert found == [('SELECT "a\\"; b"', None), ("SELECT 2", None)]


def test_the_generic_reading_takes_e_strings_with_backslash_escapes() -> None:
    assert texts("SELECT E'a\\'; b'; SELECT 2;") == ["SELECT E'a\\'; b'", "SELECT 2"]
    assert texts("SELECT E'a\\'; b'; SELECT 2;", "sqlite") == ["SELECT E'a\\'", "b'; SELECT 2;"]


@pytest.mark.parametrize("dialect", [None, "postgres"])
def test_a_lone_carriage_return_ends_a_comment_between_statements(dialect: str | None) -> None:
    statements = split_statements("-- c\rSELECT 1;", dialect)
    assert [(s.text, s.leading_comments) for s in statements] == [("SELECT 1", ("c",))]
    assert split_statements("-- c\rSELECT 1;", "mysql") == []


# --- statement starts and e-strings at the very start of the text ---------------------------


def test_a_delimiter_at_the_start_of_the_text_is_skipped_once() -> None:
    assert texts(";SELECT 1; SELECT 2") == ["SELECT 1", "SELECT 2"]


def test_comments_trailing_an_undelimited_statement_keep_their_order() -> None:
    (statement,) = split_statements("SELECT 1 /* a */ /* b */ -- c")
    assert (statement.text, statement.trailing_comments) == (
        "SELECT 1", (("a", 1), ("b", 1), ("c", 1)))


def test_a_semicolon_in_parentheses_is_followed_by_what_comes_next() -> None:
    assert texts("SELECT (1;'a)b'); SELECT 2;", "postgres") == ["SELECT (1;'a)b')", "SELECT 2"]


def test_e_strings_at_the_start_of_the_text() -> None:
    assert texts("'x\\'; SELECT 2; SELECT e") == ["'x\\'", "SELECT 2", "SELECT e"]
    assert texts("E'a\\'; b'; SELECT 2") == ["E'a\\'; b'", "SELECT 2"]
    assert texts("xE'a\\'; SELECT 2", "postgres") == ["xE'a\\'", "SELECT 2"]
    assert texts("SELECT X'a\\'; SELECT 2") == ["SELECT X'a\\'", "SELECT 2"]


def test_a_dash_comment_may_start_one_character_into_a_run_of_dashes_on_mysql() -> None:
    # "---" then a space: the first "-" is a minus, "-- " after it opens a comment.
    assert texts("SELECT 1--- c;\nSELECT 2;", "mysql") == ["SELECT 1--- c;\nSELECT 2"]
    assert texts("SELECT 1--1; SELECT 2;", "mysql") == ["SELECT 1--1", "SELECT 2"]


def test_byte_order_marks_ending_a_statement_are_spaces_on_sqlite() -> None:
    assert texts("SELECT 1 \ufeff \ufeff; \ufeff; SELECT 2\ufeff", "sqlite") == [
        "SELECT 1", "SELECT 2"]
    assert texts("SELECT 1 \ufeff;", "postgres") == ["SELECT 1 \ufeff"]
