"""Split migration files into statements, keeping each statement's place in its file.

A single-pass scanner: one compiled regex jumps to the next character that matters
(a quote, a comment, a dollar quote, the delimiter, or a block keyword) so plain text is
never walked character by character. sqlparse is not used here: its ``split`` is far
slower (see ``bench/bench_split.py``) and knows neither ``DELIMITER`` nor dollar-quoted
bodies with tags.

Per dialect:
- all: ``'...'`` with ``''``, ``"..."``, ``--`` and ``/* */`` comments, ``CREATE
  TRIGGER/PROCEDURE/FUNCTION/EVENT`` bodies in ``BEGIN ... END`` kept whole;
- generic (None): also backticks, postgres ``$$`` bodies and ``E'...'`` strings, and
  ``DELIMITER`` directives (none of which is valid elsewhere, so accepting them is safe);
- postgres: ``E'...'`` with backslash escapes, nested block comments, ``$$``/``$tag$``
  bodies, ``BEGIN ATOMIC ... END`` function bodies;
- mysql: backslash escapes in strings, backticks, ``#`` comments, ``--`` comments only
  when followed by whitespace, ``/*! ... */`` executable comments (code, not comments),
  ``DELIMITER`` directives, ``BEGIN [NOT ATOMIC] ... END`` compound statements;
- sqlite: backticks, ``[brackets]``, ``CREATE TRIGGER ... BEGIN ...; END``.

Comments end where each server's lexer ends them (checked against the servers by
tests/integration/test_split_differential.py): PostgreSQL and the generic reading end
``--`` at a line feed or a lone carriage return, MariaDB and SQLite at a line feed only;
MariaDB's ``--`` needs a space or control character after it; SQLite reads a BOM anywhere
as a space. A NUL never hides text in a comment. A statement the server may read
differently from the rules (a NUL; a backslash or double quote after the migration changed
``standard_conforming_strings`` or ``sql_mode``) carries a ``doubt`` that SG603 reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a file.

    ``text`` runs from the first significant character to the end of the statement,
    without the delimiter and surrounding whitespace; inner comments are kept.
    ``line``/``column`` locate its first character, ``end_line`` its last (all 1-based);
    ``index`` is its 0-based position in the file. ``leading_comments`` are the comments
    between the previous statement and this one (markers stripped, whitespace trimmed),
    with the line each starts on in ``comment_lines``. ``trailing_comments`` are the
    (comment, line) of those starting on the line where this statement ends (``DROP TABLE
    t; -- why``): they belong to this statement, not the next.

    ``block`` is None for a statement of the file itself. A statement that an anonymous
    block runs (PostgreSQL's ``DO``, MariaDB's ``BEGIN NOT ATOMIC``; see
    :mod:`switchy_guard.sql.blocks`) names that block's statement there; its positions are
    still in the file.

    ``doubt`` says why the server may read this statement differently from switchy-guard
    (a NUL character; a backslash or double quote after the migration changed how the
    server reads strings), or is None; rule SG603 reports it.
    """

    text: str
    line: int
    column: int
    end_line: int
    index: int
    leading_comments: tuple[str, ...] = ()
    comment_lines: tuple[int, ...] = ()
    trailing_comments: tuple[tuple[str, int], ...] = ()
    block: Statement | None = None
    doubt: str | None = None


_DIALECTS = (None, "sqlite", "postgres", "mysql")

_SIGNIFICANT = re.compile(r"\S")
# SQLite's tokenizer reads a byte-order mark anywhere as a space (tokenize.c, CC_BOM).
_SQLITE_SIGNIFICANT = re.compile(r"[^\s\ufeff]")
_DELIMITER_DIRECTIVE = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*", re.IGNORECASE)
_MYSQL_EXECUTABLE = re.compile(r"/\*M?!\d*")
_QUOTED_NAME = r"(?:'[^']*'|`[^`]*`|\"[^\"]*\"|[^\s'`\"])+"
_COMPOUND_START = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*" + _QUOTED_NAME + r"\s+)?"
    r"(?:(?:TEMP|TEMPORARY|CONSTRAINT|AGGREGATE)\s+)?(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b"
    r"|BEGIN\s+NOT\s+ATOMIC\b",
    re.IGNORECASE,
)
# END IF/LOOP/WHILE/REPEAT close blocks whose openers are not counted (IF is also a
# function, LOOP/WHILE/REPEAT may follow a label); END CASE closes a counted CASE.
_AFTER_END = re.compile(r"\s+(IF|LOOP|WHILE|REPEAT|CASE)\b", re.IGNORECASE)
_ATOMIC = re.compile(r"\s+ATOMIC\b", re.IGNORECASE)

_SINGLE_PLAIN = re.compile(r"'[^']*(?:''[^']*)*'")
_SINGLE_BACKSLASH = re.compile(r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'", re.DOTALL)
_DOUBLE_PLAIN = re.compile(r'"[^"]*(?:""[^"]*)*"')
_DOUBLE_BACKSLASH = re.compile(r'"[^"\\]*(?:(?:\\.|"")[^"\\]*)*"', re.DOTALL)
_BACKTICK = re.compile(r"`[^`]*(?:``[^`]*)*`")
_BRACKET = re.compile(r"\[[^\]]*\]")
# PostgreSQL's identifier characters (scan.l ident_start/ident_cont): any non-ASCII
# character is one, a Unicode digit or space too; Python's \w is not the same set.
_IDENT_START = "A-Za-z_\x80-\U0010ffff"
_DOLLAR_TAG = re.compile(rf"\$(?:[{_IDENT_START}][{_IDENT_START}0-9]*)?\$")
_IDENT_RUN = re.compile(rf"[{_IDENT_START}0-9$]+\Z")
_WORD = re.compile(r"\w")

_PATTERNS: dict[tuple[str | None, str, bool], re.Pattern[str]] = {}


def _pattern(dialect: str | None, delimiter: str, compound: bool) -> re.Pattern[str]:
    """The regex finding the next character that matters, compiled once per combination."""
    key = (dialect, delimiter, compound)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        parts = [re.escape(delimiter), "'", '"', "--", r"/\*"]
        if dialect != "postgres":
            parts.append("`")
        if dialect == "sqlite":
            parts.append(r"\[")
        if dialect == "mysql":
            parts.append("#")
        if dialect in (None, "postgres"):
            parts.append(r"\$")
        if dialect == "postgres":
            parts.append(r"[()]")
        if compound:
            parts.append(r"(?<![.$])\b(?i:BEGIN|END|CASE)\b")
        pattern = _PATTERNS[key] = re.compile("|".join(parts))
    return pattern


class _Lines:
    """1-based line numbers of offsets, counted incrementally (offsets mostly ascend)."""

    __slots__ = ("line", "offset", "sql")

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.offset = 0
        self.line = 1

    def of(self, offset: int) -> int:
        if offset >= self.offset:
            self.line += self.sql.count("\n", self.offset, offset)
        else:
            self.line -= self.sql.count("\n", offset, self.offset)
        self.offset = offset
        return self.line


def _skip_block_comment(sql: str, pos: int, nested: bool) -> tuple[int, bool]:
    """End of the block comment opening at ``pos``, and whether it is closed; a NUL in it
    ends it unclosed (see :func:`_line_comment_end`)."""
    end, closed = _block_comment_end(sql, pos, nested)
    nul = sql.find("\0", pos, end)
    return (nul, False) if nul >= 0 else (end, closed)


def _block_comment_end(sql: str, pos: int, nested: bool) -> tuple[int, bool]:
    if not nested:
        end = sql.find("*/", pos + 2)
        return (len(sql), False) if end < 0 else (end + 2, True)
    depth, cursor = 1, pos + 2
    # Found again only once passed: searched from each opening, ``/*x/*x...*/`` was
    # quadratic (120 KB took 5 s).
    closing = sql.find("*/", cursor)
    while True:
        if closing < 0:
            return len(sql), False
        # Up to the closer's "*" included: in "/*/" the opener is read first, as the
        # server's lexer reads left to right, and its "*" is no closer's.
        opening = sql.find("/*", cursor, closing + 1)
        if opening >= 0:
            depth += 1
            cursor = opening + 2
            if cursor > closing:
                closing = sql.find("*/", cursor)
        else:
            depth -= 1
            cursor = closing + 2
            if depth == 0:
                return cursor, True
            closing = sql.find("*/", cursor)


def _in_identifier(sql: str, pos: int) -> bool:
    """Whether the ``$`` at ``pos`` continues an identifier (``a$b$``) rather than opening
    a dollar quote after a number or another quote (``1$b$``, ``$a$$b$``)."""
    window = max(0, pos - 64)
    run = _IDENT_RUN.search(sql, window, pos)
    if run is None:
        return False
    if run.start() == window and window > 0:
        return True  # a run longer than the window: an identifier (reading on reveals)
    return run.group()[0] not in "0123456789$"


def _skip_dollar(sql: str, pos: int) -> int | None:
    """End of the dollar-quoted body at ``pos``, or None when this ``$`` opens none."""
    if pos > 0 and _in_identifier(sql, pos):
        return None  # inside an identifier such as a$b
    tag = _DOLLAR_TAG.match(sql, pos)
    if tag is None:
        return None  # a parameter such as $1, or a lone $
    end = sql.find(tag.group(), tag.end())
    return len(sql) if end < 0 else end + len(tag.group())


def _dash_comment(sql: str, pos: int, mysql: bool) -> bool:
    """Whether the ``--`` at ``pos`` opens a comment: MariaDB wants a space or a control
    character after it (``1--1`` is 1 minus minus 1), or the end of the text."""
    return not mysql or sql[pos + 2 : pos + 3] <= " " or sql[pos + 2] == "\x7f"


def _line_comment_end(sql: str, pos: int, cr: bool) -> int:
    """End of the ``--`` or ``#`` comment at ``pos``: the next line feed, or (PostgreSQL
    and the generic reading) carriage return, as the server's lexer ends it. A NUL ends it
    too: MariaDB stops reading there, PostgreSQL refuses it; the NUL then starts code,
    which the statement's ``doubt`` reports, and never hides what follows."""
    end = sql.find("\n", pos)
    end = len(sql) if end < 0 else end
    if cr:
        found = sql.find("\r", pos, end)
        end = end if found < 0 else found
    found = sql.find("\0", pos, end)
    return end if found < 0 else found


def _comment_text(sql: str, start: int, end: int) -> str:
    """The text of the comment ``sql[start:end]``, markers stripped, whitespace trimmed."""
    if sql.startswith("#", start):
        return sql[start + 1 : end].strip()
    if sql.startswith("--", start):
        return sql[start + 2 : end].strip()
    closed = end - start >= 4 and sql.startswith("*/", end - 2)
    return sql[start + 2 : end - 2 if closed else end].strip()


def _trail(statement: Statement, text: str, line: int) -> Statement:
    """``statement`` with one more trailing comment (built directly: ``replace`` is slow)."""
    s = statement
    return Statement(s.text, s.line, s.column, s.end_line, s.index, s.leading_comments,
                     s.comment_lines, (*s.trailing_comments, (text, line)), s.block, s.doubt)


_NUL_DOUBT = (
    "a NUL character: PostgreSQL refuses it and MariaDB stops reading the statement there, "
    "so what runs is not what switchy-guard read"
)
_SETS = re.compile(r"\b(?:RE)?SET\b|set_config", re.IGNORECASE)
_PG_SCS = re.compile(r"standard_conforming_strings", re.IGNORECASE)
_PG_SCS_SET = re.compile(
    r"SET\s+(?:SESSION\s+)?standard_conforming_strings\s*(?:=|\bTO\b)\s*(?:'(\w*)'|(\w+))\s*\Z"
    r"|RESET\s+standard_conforming_strings\s*\Z",
    re.IGNORECASE,
)
_PG_RESET_ALL = re.compile(r"(?:RESET|DISCARD)\s+ALL\s*\Z", re.IGNORECASE)
# PostgreSQL's booleans (parse_bool): a unique prefix of true/false/yes/no, on/off, 1/0.
_PG_ON = frozenset({"on", "t", "tr", "tru", "true", "y", "ye", "yes", "1", "default", ""})
_PG_OFF = frozenset({"of", "off", "f", "fa", "fal", "fals", "false", "n", "no", "0"})
_MY_SQL_MODE = re.compile(r"sql_mode", re.IGNORECASE)
_MY_SQL_MODE_SET = re.compile(
    r"SET\s+(?:SESSION\s+|LOCAL\s+|@@(?:SESSION\.|LOCAL\.)?)?sql_mode\s*:?=\s*"
    r"(?:'([^'\\]*)'|\"([^\"\\]*)\"|(DEFAULT))\s*\Z",
    re.IGNORECASE,
)
# MariaDB's sql_mode combinations that include ANSI_QUOTES (checked on 10.11).
_MY_ANSI = frozenset({"ANSI_QUOTES", "ANSI", "DB2", "MAXDB", "MSSQL", "ORACLE", "POSTGRESQL"})


class _Reading:
    """How the server reads strings at this point of a migration: a migration may change
    it (PostgreSQL's ``standard_conforming_strings``, MariaDB's ``sql_mode``
    NO_BACKSLASH_ESCAPES and ANSI_QUOTES). The splitter follows a plain ``SET`` of it; the
    rules' tokenizer assumes the servers' defaults, so a statement whose reading changed
    (one holding a backslash, or a double quote) is doubted, as is every one after a change
    that cannot be followed (``set_config(...)``, ``SET LOCAL``, an expression)."""

    __slots__ = ("ansi_quotes", "backslash", "dialect", "reason", "watch")

    def __init__(self, dialect: str | None) -> None:
        self.dialect = dialect
        self.backslash = dialect == "mysql"  # '...' strings take backslash escapes
        self.ansi_quotes = False  # MariaDB: "..." is a name
        self.watch = ""  # characters whose reading the rules may get wrong ("*": any)
        self.reason = ""

    def patterns(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """The patterns of a '...' and a "..." quote."""
        single = _SINGLE_BACKSLASH if self.backslash else _SINGLE_PLAIN
        mysql_string = self.dialect == "mysql" and self.backslash and not self.ansi_quotes
        return single, _DOUBLE_BACKSLASH if mysql_string else _DOUBLE_PLAIN

    def doubt(self, text: str) -> str | None:
        """Why the server may read ``text`` differently, or None."""
        if "\0" in text:
            return _NUL_DOUBT
        if self.watch and (self.watch == "*" or any(c in text for c in self.watch)):
            return self.reason
        return None

    def after(self, text: str) -> bool:
        """Follow a change ``text`` makes; whether the quote patterns changed."""
        if self.dialect == "postgres":
            return self._after_postgres(text)
        if self.dialect == "mysql" and _MY_SQL_MODE.search(text) and _SETS.search(text):
            return self._after_mysql(text)
        return False

    def _after_postgres(self, text: str) -> bool:
        before = self.backslash
        if _PG_RESET_ALL.match(text):
            self.backslash, self.watch = False, ""
        elif _PG_SCS.search(text) and _SETS.search(text):
            match = _PG_SCS_SET.match(text)
            value = (match.group(1) or match.group(2) or "").lower() if match else None
            if value in _PG_ON or value in _PG_OFF:
                self.backslash = value in _PG_OFF
                self.watch = "\\" if self.backslash else ""
                self.reason = (
                    "standard_conforming_strings is off here: a backslash in a '...' string "
                    "escapes the next character, which switchy-guard's rules do not read so"
                )
            else:
                self.watch = "\\"
                self.reason = (
                    "standard_conforming_strings was changed in a way switchy-guard cannot "
                    "follow (set_config, SET LOCAL, an expression): a backslash in a '...' "
                    "string may escape the next character"
                )
        return self.backslash != before

    def _after_mysql(self, text: str) -> bool:
        before = (self.backslash, self.ansi_quotes)
        match = _MY_SQL_MODE_SET.match(text)
        if match is None:
            self.watch = "*" if "ORACLE" in text.upper() else '\\"'
            self.reason = (
                "sql_mode was changed in a way switchy-guard cannot follow (an expression, "
                "several settings at once, GLOBAL): backslashes and double quotes may read "
                "differently"
            )
            return False
        value = match.group(1) if match.group(1) is not None else match.group(2) or ""
        modes = {mode.strip().upper() for mode in value.split(",")}
        self.backslash = "NO_BACKSLASH_ESCAPES" not in modes
        self.ansi_quotes = bool(modes & _MY_ANSI)
        self.watch = "*" if "ORACLE" in modes else (
            ("" if self.backslash else "\\") + ('"' if self.ansi_quotes else ""))
        self.reason = (
            f"sql_mode is {value!r} here: "
            + ("MariaDB parses statements as Oracle's" if "ORACLE" in modes else
               "backslashes and double quotes read differently from the rules' reading")
        )
        return (self.backslash, self.ansi_quotes) != before


def split_statements(sql: str, dialect: str | None = None) -> list[Statement]:
    """Split ``sql`` into its statements.

    ``dialect`` is None (generic), "sqlite", "postgres" or "mysql"; anything else raises
    ValueError. Never raises on malformed SQL: an unterminated string, comment or dollar
    quote makes the rest of the input the last statement.
    """
    if dialect not in _DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    if sql.startswith("\ufeff"):
        sql = sql[1:]
    n = len(sql)
    mysql = dialect == "mysql"
    postgres = dialect == "postgres"
    sqlite = dialect == "sqlite"
    directives = dialect is None or mysql
    e_strings = dialect is None or postgres
    cr = dialect is None or postgres
    reading = _Reading(dialect)
    single, double = reading.patterns()
    lines = _Lines(sql)
    statements: list[Statement] = []
    comments: list[str] = []
    comment_lines: list[int] = []
    delimiter = ";"
    pos = 0
    # Where the last statement (with its delimiter) ended: a comment starting on that
    # line trails it.
    last_end = -1
    trimmed: list[tuple[int, int]] = []

    while True:
        # Between statements: whitespace, comments, directives, empty statements.
        significant = (_SQLITE_SIGNIFICANT if sqlite else _SIGNIFICANT).search(sql, pos)
        if significant is None:
            break
        pos = significant.start()
        char = sql[pos]
        end = -1
        if (char == "#" and mysql) or (
            char == "-" and sql.startswith("--", pos) and _dash_comment(sql, pos, mysql)
        ):
            end = _line_comment_end(sql, pos, cr)
        elif (
            char == "/"
            and sql.startswith("/*", pos)
            and not (mysql and _MYSQL_EXECUTABLE.match(sql, pos))
        ):
            end = _skip_block_comment(sql, pos, postgres)[0]
        if end >= 0:
            text = _comment_text(sql, pos, end)
            if last_end >= 0 and sql.find("\n", last_end, pos) < 0:
                statements[-1] = _trail(statements[-1], text, lines.of(pos))
            else:
                comments.append(text)
                comment_lines.append(lines.of(pos))
            pos = end
            continue
        if directives and char in "dD":
            directive = _DELIMITER_DIRECTIVE.match(sql, pos)
            if directive:
                delimiter = directive.group(1)
                pos = directive.end()
                continue
        if sql.startswith(delimiter, pos):
            pos += len(delimiter)
            continue

        start = pos
        compound = delimiter == ";" and _COMPOUND_START.match(sql, pos) is not None
        pattern = _pattern(dialect, delimiter, compound)
        depth = 0
        # PostgreSQL: a ; inside parentheses (CREATE RULE ... DO (a; b)) ends nothing, as
        # in psql and the server's grammar.
        parens = 0
        # Closed comments seen in this statement: trimmed off a final, undelimited one.
        spans: list[tuple[int, int]] = []
        while True:
            match = pattern.search(sql, pos)
            if match is None:
                stop = pos = n
                while spans and not sql[spans[-1][1] : stop].strip():
                    trimmed.append(spans.pop())
                    stop = trimmed[-1][0]
                trimmed.reverse()
                break
            at = match.start()
            char = sql[at]
            if sql.startswith(delimiter, at):
                if depth or parens:
                    pos = at + 1
                    continue
                stop = at
                pos = at + len(delimiter)
                break
            if char == "'":
                backslash = (
                    e_strings
                    and at > 0
                    and sql[at - 1] in "eE"
                    and (at < 2 or not _WORD.match(sql, at - 2))
                )
                quoted = (_SINGLE_BACKSLASH if backslash else single).match(sql, at)
                pos = quoted.end() if quoted else n
            elif char == '"':
                quoted = double.match(sql, at)
                pos = quoted.end() if quoted else n
            elif char == "`":
                quoted = _BACKTICK.match(sql, at)
                pos = quoted.end() if quoted else n
            elif char == "[":
                quoted = _BRACKET.match(sql, at)
                pos = quoted.end() if quoted else n
            elif char == "-" or char == "#":
                if char == "-" and not _dash_comment(sql, at, mysql):
                    pos = at + 1
                    continue
                pos = _line_comment_end(sql, at, cr)
                spans.append((at, pos))
            elif char == "/":
                executable = _MYSQL_EXECUTABLE.match(sql, at) if mysql else None
                if executable is not None:
                    # MariaDB runs the code inside /*! */ (and reads its strings and
                    # comments as code's): only the markers are stepped over.
                    pos = executable.end()
                    continue
                pos, closed = _skip_block_comment(sql, at, postgres)
                if closed:
                    spans.append((at, pos))
            elif char == "$":
                body_end = _skip_dollar(sql, at)
                pos = at + 1 if body_end is None else body_end
            elif char in "()":
                parens = parens + 1 if char == "(" else max(parens - 1, 0)
                pos = at + 1
            else:
                pos = match.end()
                word = match.group().upper()
                if word == "END":
                    closes = _AFTER_END.match(sql, pos)
                    if closes:
                        pos = closes.end()
                    if closes is None or closes.group(1).upper() == "CASE":
                        depth = max(depth - 1, 0)
                elif word == "CASE" or not postgres or _ATOMIC.match(sql, pos):
                    depth += 1  # postgres: only BEGIN ATOMIC opens a body; BEGIN is a name

        text = sql[start:stop].rstrip()
        while sqlite and text.endswith("\ufeff"):
            text = text[:-1].rstrip()
        if text:
            statements.append(
                Statement(
                    text,
                    lines.of(start),
                    start - sql.rfind("\n", 0, start),
                    lines.of(start + len(text) - 1),
                    len(statements),
                    tuple(comments),
                    tuple(comment_lines),
                    doubt=reading.doubt(text),
                )
            )
            if reading.after(text):
                single, double = reading.patterns()
            comments = []
            comment_lines = []
            last_end = pos
    # Comments cut off an undelimited last statement, on its last line, trail it.
    for at, end in trimmed if statements else ():
        if lines.of(at) == statements[-1].end_line:
            statements[-1] = _trail(statements[-1], _comment_text(sql, at, end), lines.of(at))
    return statements
