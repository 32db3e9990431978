"""Split migration files into statements, keeping each statement's place in its file.

A single-pass scanner: one compiled regex jumps to the next character that matters
(a quote, a comment, a dollar quote, the delimiter, or a block keyword) so plain text is
never walked character by character. sqlparse is not used here: its ``split`` is far
slower (see ``bench/bench_split.py``) and knows neither ``DELIMITER`` nor dollar-quoted
bodies with tags.

Per dialect:
- all: ``'...'`` with ``''``, ``"..."``, ``--`` and ``/* */`` comments;
- postgres: ``E'...'`` with backslash escapes, nested block comments, ``$$``/``$tag$``
  bodies, ``BEGIN ATOMIC ... END`` function bodies;
- mysql: backslash escapes in strings, backticks, ``#`` comments, ``/*! ... */``
  executable comments (code, not comments), ``DELIMITER`` directives, ``BEGIN ... END``
  compound statements in routines, triggers and events;
- sqlite: backticks, ``[brackets]``, ``CREATE TRIGGER ... BEGIN ...; END``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a file.

    ``text`` runs from the first significant character to the end of the statement,
    without the delimiter; inner comments are kept. ``leading_comments`` are the comments
    between the previous statement and this one (markers stripped), with their lines in
    ``comment_lines``.
    """

    text: str
    line: int
    column: int
    end_line: int
    index: int
    leading_comments: tuple[str, ...] = ()
    comment_lines: tuple[int, ...] = ()


_SPACE = re.compile(r"\s*")
_DELIMITER_DIRECTIVE = re.compile(r"DELIMITER[ \t]+(\S+)[^\n]*", re.IGNORECASE)
_COMPOUND_START = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?:DEFINER\s*=\s*\S+\s+)?"
    r"(?:(?:TEMP|TEMPORARY)\s+)?(?:TRIGGER|PROCEDURE|FUNCTION|EVENT)\b",
    re.IGNORECASE,
)
# The word after END: END IF/LOOP/WHILE/REPEAT close blocks whose opener is not counted;
# END CASE closes a counted CASE.
_AFTER_END = re.compile(r"\s+(IF|LOOP|WHILE|REPEAT|CASE)\b", re.IGNORECASE)

_SINGLE_PLAIN = re.compile(r"'(?:[^']|'')*'")
_SINGLE_BACKSLASH = re.compile(r"'(?:[^'\\]|\\.|'')*'", re.DOTALL)
_DOUBLE_PLAIN = re.compile(r'"(?:[^"]|"")*"')
_DOUBLE_BACKSLASH = re.compile(r'"(?:[^"\\]|\\.|"")*"', re.DOTALL)
_BACKTICK = re.compile(r"`(?:[^`]|``)*`")
_BRACKET = re.compile(r"\[[^\]]*\]")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\x80-\uffff][\w\x80-\uffff]*)?\$")
_WORD = re.compile(r"\w")

_DIALECT_EXTRAS = {
    None: r"|`|\#",
    "sqlite": r"|`|\[",
    "postgres": r"|\$",
    "mysql": r"|`|\#",
}


def _pattern(dialect: str | None, delimiter: str, compound: bool) -> re.Pattern[str]:
    words = r"|\b(?:BEGIN|END|CASE)\b" if compound else ""
    return re.compile(
        rf"{re.escape(delimiter)}|'|\"|--|/\*{_DIALECT_EXTRAS[dialect]}{words}", re.IGNORECASE
    )


_PATTERNS: dict[tuple[str | None, str, bool], re.Pattern[str]] = {}


def _cached_pattern(dialect: str | None, delimiter: str, compound: bool) -> re.Pattern[str]:
    key = (dialect, delimiter, compound)
    pattern = _PATTERNS.get(key)
    if pattern is None:
        pattern = _PATTERNS[key] = _pattern(dialect, delimiter, compound)
    return pattern


class _Scanner:
    def __init__(self, sql: str, dialect: str | None) -> None:
        if dialect not in _DIALECT_EXTRAS:
            raise ValueError(f"unknown dialect {dialect!r}")
        self.sql = sql
        self.n = len(sql)
        self.dialect = dialect
        self.backslash = dialect == "mysql"
        self.newlines = [m.start() for m in re.finditer("\n", sql)]

    def line_col(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.newlines, offset - 1)
        line_start = self.newlines[line - 1] + 1 if line else 0
        return line + 1, offset - line_start + 1

    def skip_quoted(self, pos: int) -> int:
        """End of the string or quoted identifier opening at ``pos`` (EOF if open)."""
        sql = self.sql
        char = sql[pos]
        if char == "'":
            backslash = self.backslash or (
                self.dialect == "postgres"
                and pos > 0
                and sql[pos - 1] in "eE"
                and (pos < 2 or not _WORD.match(sql, pos - 2))
            )
            pattern = _SINGLE_BACKSLASH if backslash else _SINGLE_PLAIN
        elif char == '"':
            pattern = _DOUBLE_BACKSLASH if self.backslash else _DOUBLE_PLAIN
        elif char == "`":
            pattern = _BACKTICK
        else:
            pattern = _BRACKET
        match = pattern.match(sql, pos)
        return match.end() if match else self.n

    def skip_line_comment(self, pos: int) -> int:
        end = self.sql.find("\n", pos)
        return self.n if end < 0 else end

    def skip_block_comment(self, pos: int) -> int:
        sql = self.sql
        if self.dialect != "postgres":
            end = sql.find("*/", pos + 2)
            return self.n if end < 0 else end + 2
        depth, cursor = 0, pos
        while cursor < self.n:
            opening = sql.find("/*", cursor)
            closing = sql.find("*/", cursor)
            if closing < 0:
                return self.n
            if 0 <= opening < closing:
                depth += 1
                cursor = opening + 2
            else:
                depth -= 1
                cursor = closing + 2
                if depth == 0:
                    return cursor
        return self.n

    def skip_dollar(self, pos: int) -> int | None:
        """End of a dollar-quoted body at ``pos``, or None when ``$`` opens none."""
        if pos > 0 and _WORD.match(self.sql, pos - 1):
            return None  # part of an identifier such as a$b
        tag = _DOLLAR_TAG.match(self.sql, pos)
        if tag is None:
            return None
        end = self.sql.find(tag.group(), tag.end())
        return self.n if end < 0 else end + len(tag.group())


def _comment_text(raw: str) -> str:
    if raw.startswith("/*"):
        raw = raw[2:-2] if raw.endswith("*/") else raw[2:]
    elif raw.startswith("--"):
        raw = raw[2:]
    elif raw.startswith("#"):
        raw = raw[1:]
    return raw.strip()


def split_statements(sql: str, dialect: str | None = None) -> list[Statement]:
    """Split ``sql`` into statements for ``dialect`` (None, sqlite, postgres, mysql)."""
    if sql.startswith("\ufeff"):
        sql = sql[1:]
    scanner = _Scanner(sql, dialect)
    statements: list[Statement] = []
    comments: list[tuple[str, int]] = []
    delimiter = ";"
    pos, n = 0, scanner.n
    directives = dialect in (None, "mysql")

    def emit(start: int, end: int) -> None:
        text = sql[start:end].rstrip()
        if not text:
            return
        line, column = scanner.line_col(start)
        end_line, _ = scanner.line_col(start + len(text) - 1)
        statements.append(
            Statement(
                text, line, column, end_line, len(statements),
                tuple(c for c, _ in comments), tuple(line for _, line in comments),
            )
        )

    while pos < n:
        # Between statements: whitespace, comments, directives, empty statements.
        pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
        if pos >= n:
            break
        if sql.startswith("--", pos) or (sql[pos] == "#" and dialect in (None, "mysql")):
            end = scanner.skip_line_comment(pos)
            comments.append((_comment_text(sql[pos:end]), scanner.line_col(pos)[0]))
            pos = end
            continue
        if sql.startswith("/*", pos) and not (dialect == "mysql" and sql.startswith("/*!", pos)):
            end = scanner.skip_block_comment(pos)
            comments.append((_comment_text(sql[pos:end]), scanner.line_col(pos)[0]))
            pos = end
            continue
        if directives and sql[pos] in "dD":
            directive = _DELIMITER_DIRECTIVE.match(sql, pos)
            if directive:
                delimiter = directive.group(1)
                pos = directive.end()
                continue
        if sql.startswith(delimiter, pos):
            pos += len(delimiter)
            comments = []
            continue

        start = pos
        compound = delimiter == ";" and bool(_COMPOUND_START.match(sql, pos))
        pattern = _cached_pattern(dialect, delimiter, compound)
        depth = 0
        while True:
            match = pattern.search(sql, pos)
            if match is None:
                emit(start, n)
                pos = n
                break
            token = match.group()
            at = match.start()
            if token == delimiter:
                if depth > 0:
                    pos = at + 1
                    continue
                emit(start, at)
                comments = []
                pos = at + len(delimiter)
                break
            first = token[0]
            if first in "'\"`[":
                pos = scanner.skip_quoted(at)
            elif token in ("--", "#"):
                pos = scanner.skip_line_comment(at)
            elif token == "/*":
                pos = scanner.skip_block_comment(at)
            elif first == "$":
                body_end = scanner.skip_dollar(at)
                pos = body_end if body_end is not None else at + 1
            else:
                pos = match.end()
                if token.upper() != "END":
                    depth += 1
                    continue
                closes = _AFTER_END.match(sql, pos)
                if closes:
                    pos = closes.end()
                if closes is None or closes.group(1).upper() == "CASE":
                    depth = max(depth - 1, 0)
    return statements
