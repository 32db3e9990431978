"""The statements an anonymous block runs when the migration runs.

PostgreSQL's ``DO $$ ... $$`` (PL/pgSQL) and MariaDB's ``BEGIN NOT ATOMIC ... END`` are
one statement each to the splitter, but they run every statement inside them: a ``DROP
TABLE`` in a DO block drops the table as surely as one outside. :func:`expand_block`
finds those statements so the rules can check them, each with its own place in the file.

The block's body is split like a script of its own, then the procedural syntax around
each piece is stepped over: labels, ``DECLARE`` sections (MariaDB's ``DECLARE ...
HANDLER FOR ...`` keeps the statement it runs), nested ``BEGIN``, ``EXCEPTION``, ``IF
... THEN`` / ``ELSIF`` / ``ELSE``, ``CASE ... WHEN ... THEN``, loops (the query of ``FOR
r IN query LOOP`` is a statement too), ``END ...``; pieces that run no SQL (``RAISE``,
``RETURN``, ``NULL``, assignments ``x := ...``, cursor moves, ``LEAVE``, ``SIGNAL``...)
are skipped. A statement inside an ``IF`` branch counts: it may run.

Dynamic SQL: ``EXECUTE 'literal'`` (MariaDB: ``EXECUTE IMMEDIATE 'literal'``, ``PREPARE
s FROM 'literal'``) runs the literal, which is split and checked; SQL built at run time
(``EXECUTE format(...)``, a concatenation, a variable) cannot be read and becomes a
statement of kind ``dynamic`` (``classify.DYNAMIC``), which rule SG603 reports.
``PERFORM`` is a SELECT.

Function and procedure bodies (``CREATE FUNCTION ... AS $$ ... $$``) do not run when the
migration creates them; :mod:`switchy_guard.sql.routines` reads them with this module where
a later statement of the migration calls them (or fires the trigger).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple

from switchy_guard.sql.classify import DYNAMIC, StatementInfo, classify
from switchy_guard.sql.split import Statement, _skip_block_comment, split_statements

#: Blocks nested deeper than this (a DO running EXECUTE of a DO ...) are not opened.
MAX_DEPTH = 8

_PG_TOKEN = (
    r"""
    (?P<comment>--[^\n\r]*|/\*[\s\S]*?(?:\*/|\Z))
  | (?P<space>\s+)
  | (?P<string>\$(?P<tag>(?:[^\W\d]\w*)?)\$[\s\S]*?(?:\$(?P=tag)\$|\Z)
      |[Ee]'(?:[^'\\]|\\[\s\S]|'')*(?:'|\\?\Z)|'(?:[^']|'')*(?:'|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z))
  | (?P<word>[A-Za-z_\x80-\uffff][\w$\x80-\uffff]*)
  | (?P<punct>:=|<<|>>|[\s\S])
    """
)
# A string left open runs to the end, a last lone backslash too (see classify's tokens).
# MariaDB runs the code in /*! */ and /*M! */: their markers are spaces.
_MY_TOKEN = (
    r"""
    (?P<comment>--(?=[\x00-\x20\x7f]|\Z)[^\n]*|\#[^\n]*|/\*(?!M?!)[\s\S]*?(?:\*/|\Z))
  | (?P<space>\s+|/\*M?!\d*|\*/)
  | (?P<string>'(?:[^'\\]|\\[\s\S]|'')*(?:'|\\?\Z)|"(?:[^"\\]|\\[\s\S]|"")*(?:"|\\?\Z))
  | (?P<quoted>`(?:[^`]|``)*(?:`|\Z))
  | (?P<word>[A-Za-z_\x80-\uffff][\w$\x80-\uffff]*)
  | (?P<punct>:=|[\s\S])
    """
)
_COMPOUND_PREFIX = re.compile(r"BEGIN\s+NOT\s+ATOMIC\b", re.IGNORECASE)

# Pieces that run no SQL the rules look at.
_PG_SKIP = frozenset({"RAISE", "ASSERT", "RETURN", "NULL", "EXIT", "CONTINUE", "GET", "OPEN",
                      "FETCH", "MOVE", "CLOSE", "END"})
_MY_SKIP = frozenset({"LEAVE", "ITERATE", "SIGNAL", "RESIGNAL", "RETURN", "OPEN", "FETCH",
                      "CLOSE", "GET", "UNTIL", "END"})
_QUERY_START = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "EXECUTE", "VALUES",
                          "TABLE"})
_BACKSLASH_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "Z": "\x1a"}


class _Tok(NamedTuple):
    kind: str
    text: str
    start: int

    @property
    def up(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


#: Maps an offset in some text to an offset in the block statement's own text.
_ToRoot = Callable[[int], int]


def _shifted(to_root: _ToRoot, base: int) -> _ToRoot:
    """The map of a text found at offset ``base`` of the text ``to_root`` maps."""
    return lambda offset: to_root(base + offset)


@functools.cache
def _token_pattern(postgres: bool) -> re.Pattern[str]:
    """Compiled on first use: a check without blocks does not pay for it (~5 ms each)."""
    return re.compile(_PG_TOKEN if postgres else _MY_TOKEN, re.VERBOSE)


def _tokens(text: str, postgres: bool) -> tuple[list[_Tok], list[_Tok]]:
    """The code tokens of ``text`` and its comments, each with its offset."""
    code: list[_Tok] = []
    comments: list[_Tok] = []
    pattern = _token_pattern(postgres)
    matches = pattern.finditer(text)
    while (match := next(matches, None)) is not None:
        kind = match.lastgroup
        if kind == "tag":
            kind = "string"
        if kind == "space":
            continue
        token = _Tok(kind or "punct", match.group(), match.start())
        if postgres and kind == "comment" and text.find("/*", token.start + 2, match.end()) >= 0:
            # PostgreSQL nests block comments (the regex cannot): as the splitter reads.
            end = _skip_block_comment(text, token.start, True)[0]
            token = token._replace(text=text[token.start:end])
            matches = pattern.finditer(text, end)
        (comments if kind == "comment" else code).append(token)
    return code, comments


def _comment_text(comment: str) -> str:
    if comment.startswith("#"):
        return comment[1:].strip()
    if comment.startswith("--"):
        return comment[2:].strip()
    return comment[2:-2 if comment.endswith("*/") and len(comment) >= 4 else None].strip()


def _find(code: Sequence[_Tok], start: int, words: frozenset[str]) -> int | None:
    """Index of the first of ``words`` outside parentheses and CASE ... END, from ``start``."""
    depth = cases = 0
    for index in range(start, len(code)):
        tok = code[index]
        if tok.kind == "punct":
            depth += tok.text == "("
            depth -= tok.text == ")"
        elif tok.kind == "word" and depth <= 0:
            up = tok.up
            if cases == 0 and up in words:
                return index
            if up == "CASE":
                cases += 1
            elif up == "END" and cases:
                cases -= 1
    return None


def _is_assignment(code: Sequence[_Tok], index: int) -> bool:
    """``target := expr`` or ``target = expr`` (PL/pgSQL), target maybe ``a.b`` or ``a[i]``."""
    if code[index].kind not in ("word", "quoted"):
        return False
    index += 1
    while index + 1 < len(code) and code[index].text == "." and code[index].kind == "punct":
        index += 2
    if index < len(code) and code[index].text == "[":
        while index < len(code) and code[index].text != "]":
            index += 1
        index += 1
    return index < len(code) and code[index].kind == "punct" and code[index].text in (":=",
                                                                                       "=")


def _handler_statement(code: Sequence[_Tok], index: int) -> int | None:
    """MariaDB: where the statement of ``DECLARE ... HANDLER FOR cond[, ...] stmt`` starts
    (``index`` at DECLARE), or None for another DECLARE."""
    words = [tok.up for tok in code[index + 1 : index + 4]]
    if "HANDLER" not in words:
        return None
    at = index + 1 + words.index("HANDLER") + 1
    if at >= len(code) or code[at].up != "FOR":
        return None
    at += 1
    while at < len(code):
        up = code[at].up
        if up == "SQLSTATE":
            at += 3 if at + 1 < len(code) and code[at + 1].up == "VALUE" else 2
        elif up == "NOT":
            at += 2  # NOT FOUND
        else:
            at += 1  # SQLWARNING, SQLEXCEPTION, an error number or a condition name
        if at < len(code) and code[at].text == "," and code[at].kind == "punct":
            at += 1
            continue
        return at
    return at


def _control(text: str, code: list[_Tok], postgres: bool,
             declaring: bool) -> tuple[list[tuple[int, int]], bool]:
    """The statements of one piece of a block's body, as (first code token, end offset),
    and whether a PL/pgSQL DECLARE section is still open after it."""
    found: list[tuple[int, int]] = []
    skip = _PG_SKIP if postgres else _MY_SKIP
    index = 0
    while index < len(code):
        tok = code[index]
        up = tok.up
        following = code[index + 1] if index + 1 < len(code) else None
        if postgres and tok.text == "<<" and tok.kind == "punct":  # <<label>>
            closing = next((i for i in range(index, len(code)) if code[i].text == ">>"), None)
            if closing is None:
                break
            index = closing + 1
            continue
        if (not postgres and tok.kind in ("word", "quoted") and following is not None
                and following.kind == "punct" and following.text == ":"):
            index += 2  # MariaDB: label: LOOP / BEGIN / WHILE ...
            continue
        if declaring:
            if up != "BEGIN":
                return found, True  # a declaration
            declaring = False
        if up == "DECLARE":
            if postgres:
                declaring = True
                index += 1
                continue
            handled = _handler_statement(code, index)
            if handled is None:
                return found, False  # a variable, cursor or condition
            index = handled
            continue
        if up == "BEGIN":
            if not postgres and index == 0 and following is not None and following.up == "NOT":
                break  # a nested BEGIN NOT ATOMIC block, kept whole by the splitter
            index += 1
            if not postgres and following is not None and following.up == "NOT":
                index += 2
            continue
        if up in ("IF", "ELSIF", "ELSEIF", "WHEN"):
            then = _find(code, index + 1, frozenset({"THEN"}))
            if then is None:
                return found, False
            index = then + 1
            continue
        if up in ("ELSE", "EXCEPTION", "LOOP", "REPEAT"):
            index += 1
            continue
        if up == "CASE":
            when = _find(code, index + 1, frozenset({"WHEN"}))
            if when is None:
                return found, False
            index = when
            continue
        if up in ("WHILE", "FOR", "FOREACH"):
            opener = _find(code, index + 1, frozenset({"LOOP" if postgres else "DO"}))
            if opener is None:
                return found, False
            into = _find(code, index + 1, frozenset({"IN"}))
            if into is not None and into < opener and up == "FOR":
                query = into + 1 + (code[into + 1].up == "REVERSE")
                if query < opener and code[query].up in _QUERY_START:
                    found.append((query, code[opener].start))
            index = opener + 1
            continue
        if up in skip or (postgres and _is_assignment(code, index)):
            return found, False
        break
    if index < len(code):
        found.append((index, len(text)))
    return found, declaring


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer("\n", text))]


def string_value(token: str) -> str:
    """The text a PostgreSQL string literal token holds: ``'it''s'`` is ``it's``,
    ``E'a\\nb'`` has a newline, ``$tag$...$tag$`` its body (standard_conforming_strings on,
    the default since PostgreSQL 9.1)."""
    return _literal(token, False)[0]


def _literal(token: str, backslashes: bool) -> tuple[str, list[int]]:
    """The text of a string literal token, and for each of its characters (and its end)
    the offset in ``token`` it comes from."""
    if token.startswith("$"):
        tag = token[: token.index("$", 1) + 1]
        end = len(token) - len(tag) if len(token) >= 2 * len(tag) and token.endswith(tag) \
            else len(token)
        return token[len(tag) : end], list(range(len(tag), end + 1))
    if token[0] in "eE":
        backslashes, first = True, 2
    else:
        first = 1
    quote = token[first - 1]
    end = len(token) - 1 if len(token) > first and token.endswith(quote) else len(token)
    chars: list[str] = []
    origin: list[int] = []
    index = first
    while index < end:
        char = token[index]
        origin.append(index)
        if char == quote and index + 1 < end and token[index + 1] == quote:
            chars.append(quote)
            index += 2
        elif char == "\\" and backslashes and index + 1 < end:
            escaped = token[index + 1]
            chars.append(_BACKSLASH_ESCAPES.get(escaped, escaped))
            index += 2
        else:
            chars.append(char)
            index += 1
    origin.append(end)
    return "".join(chars), origin


class _Expander:
    """Collects the statements a block runs, placed in the file."""

    def __init__(self, root: Statement, dialect: str | None) -> None:
        self.root = root
        self.dialect = dialect
        self.out: list[tuple[Statement, StatementInfo]] = []
        # Counting newlines from the start for each offset made a DO block of 40,000
        # statements take 28 s: the line starts are found once.
        self._starts = _line_starts(root.text)

    def position(self, offset: int) -> tuple[int, int]:
        """File line and column of an offset in the root statement's text."""
        lines = bisect.bisect_right(self._starts, offset) - 1
        if lines == 0:
            return self.root.line, self.root.column + offset
        return self.root.line + lines, offset - self._starts[lines] + 1

    def line(self, to_root: _ToRoot, offset: int) -> int:
        return self.position(to_root(offset))[0]

    def place(self, text: str, at: int, to_root: _ToRoot, parent: Statement,
              comments: Sequence[tuple[str, int]] = (),
              trailing: Sequence[tuple[str, int]] = ()) -> Statement:
        """A Statement of ``text``, found at offset ``at`` of the text ``to_root`` maps;
        ``comments`` and ``trailing`` are (text, offset) there."""
        line, column = self.position(to_root(at))
        return Statement(
            text, line, column, self.line(to_root, at + max(len(text) - 1, 0)),
            self.root.index, tuple(c for c, _ in comments),
            tuple(self.line(to_root, o) for _, o in comments),
            tuple((c, self.line(to_root, o)) for c, o in trailing), parent,
        )

    def add(self, statement: Statement, info: StatementInfo, to_root: _ToRoot,
            depth: int) -> None:
        self.out.append((statement, info))
        if info.kind == "do":
            self.block(statement, info, to_root, depth + 1)

    def block(self, statement: Statement, info: StatementInfo, to_root: _ToRoot,
              depth: int) -> None:
        """The statements the block ``statement`` runs (``to_root`` maps its text)."""
        if depth > MAX_DEPTH:
            return
        text = statement.text
        if info.object_type == "plpgsql" and self.dialect in (None, "postgres"):
            code, _ = _tokens(text, True)
            index = 1
            while index < len(code) and code[index].up == "LANGUAGE":
                index += 2  # DO LANGUAGE plpgsql code
            if index < len(code) and code[index].kind == "string":
                body, origin = _literal(code[index].text, False)
                start = code[index].start
                self.procedural(body, lambda o: to_root(start + origin[o]), True,
                                statement, depth)
        elif info.object_type == "compound" and self.dialect in (None, "mysql"):
            prefix = _COMPOUND_PREFIX.match(text)
            if prefix is not None:
                start = prefix.end()
                self.procedural(text[start:], _shifted(to_root, start), False,
                                statement, depth)

    def procedural(self, body: str, to_root: _ToRoot, postgres: bool, parent: Statement,
                   depth: int) -> None:
        """The statements of a PL/pgSQL or MariaDB compound body."""
        flavor = "postgres" if postgres else "mysql"
        starts = _line_starts(body)
        declaring = False
        for piece in split_statements(body, flavor):
            offset = starts[piece.line - 1] + piece.column - 1
            code, comments = _tokens(piece.text, postgres)
            found, declaring = _control(piece.text, code, postgres, declaring)
            leading = [(c, starts[line - 1])
                       for c, line in zip(piece.leading_comments, piece.comment_lines,
                                          strict=True)]
            trailing = [(c, starts[line - 1]) for c, line in piece.trailing_comments]
            for number, (first, end) in enumerate(found):
                begin = code[first].start
                inner = [(_comment_text(c.text), offset + c.start) for c in comments
                         if (found[number - 1][1] if number else 0) <= c.start < begin]
                self.run(
                    piece.text, code, first, end, offset, to_root, postgres, parent, depth,
                    (leading if number == 0 else []) + inner,
                    trailing if end == len(piece.text) else [],
                )

    def run(self, text: str, code: list[_Tok], first: int, end: int, offset: int,
            to_root: _ToRoot, postgres: bool, parent: Statement, depth: int,
            comments: list[tuple[str, int]], trailing: list[tuple[str, int]]) -> None:
        """One statement of a body: ``text[code[first].start:end]`` at ``offset``."""
        begin = code[first].start
        statement_text = text[begin:end].rstrip()
        statement = self.place(statement_text, offset + begin, to_root, parent, comments,
                               trailing)
        up = code[first].up
        if up == "EXECUTE" or (up == "PREPARE" and not postgres):
            at = first + 1
            if not postgres:
                if up == "EXECUTE" and not (at < len(code) and code[at].up == "IMMEDIATE"):
                    return  # runs a prepared statement: its PREPARE was checked
                at += 1  # IMMEDIATE, or the prepared statement's name
                if up == "PREPARE":
                    at += at < len(code) and code[at].up == "FROM"
            literal = code[at] if at < len(code) and code[at].start < end else None
            after = code[at + 1] if at + 1 < len(code) and code[at + 1].start < end else None
            if (literal is not None and literal.kind == "string"
                    and (after is None or after.up in ("INTO", "USING"))):
                sql, origin = _literal(literal.text, not postgres)
                base = offset + literal.start
                # The comments around EXECUTE (an allow) are its statements' comments.
                self.sql(sql, lambda o: to_root(base + origin[o]), postgres, parent, depth + 1,
                         statement.leading_comments, statement.comment_lines,
                         statement.trailing_comments)

            else:
                self.out.append((statement, StatementInfo(DYNAMIC)))
            return
        if up == "PERFORM" and postgres:
            info = classify("SELECT" + statement_text[len("PERFORM"):], self.dialect)
        else:
            info = classify(statement_text, self.dialect)
        self.add(statement, info, _shifted(to_root, offset + begin), depth)

    def sql(self, sql: str, to_root: _ToRoot, postgres: bool, parent: Statement,
            depth: int, leading: tuple[str, ...] = (), leading_lines: tuple[int, ...] = (),
            trailing: tuple[tuple[str, int], ...] = (), flavor: str | None = None) -> None:
        """The statements of plain SQL a block runs (an EXECUTE's string); ``leading``
        comments (on ``leading_lines``) go before the first, ``trailing`` after the last.
        ``flavor`` is the splitter's dialect (default: postgres or mysql)."""
        if depth > MAX_DEPTH:
            return
        starts = _line_starts(sql)
        pieces = split_statements(sql, flavor or ("postgres" if postgres else "mysql"))
        for number, piece in enumerate(pieces):
            offset = starts[piece.line - 1] + piece.column - 1
            statement = self.place(
                piece.text, offset, to_root, parent,
                [(c, starts[line - 1]) for c, line in zip(piece.leading_comments,
                                                          piece.comment_lines, strict=True)],
                [(c, starts[line - 1]) for c, line in piece.trailing_comments],
            )
            if number == 0 and leading:
                statement = replace(statement,
                                    leading_comments=leading + statement.leading_comments,
                                    comment_lines=leading_lines + statement.comment_lines)
            if number == len(pieces) - 1 and trailing:
                statement = replace(
                    statement, trailing_comments=statement.trailing_comments + trailing)
            self.add(statement, classify(piece.text, self.dialect),
                     _shifted(to_root, offset), depth)


def expand_block(statement: Statement, info: StatementInfo,
                 dialect: str | None) -> list[tuple[Statement, StatementInfo]]:
    """The statements the anonymous block ``statement`` runs, nested blocks' included,
    in order, each placed in the file and with ``block`` set to the block it is in.

    Empty for a statement that is no block, or a block in a language other than
    PL/pgSQL (rule SG603 reports those).
    """
    if info.kind != "do":
        return []
    expander = _Expander(statement, dialect)
    expander.block(statement, info, lambda offset: offset, 0)
    return expander.out


def with_blocks(parsed: Sequence[tuple[Statement, StatementInfo]],
                dialect: str | None) -> list[tuple[Statement, StatementInfo]]:
    """``parsed`` with, after each anonymous block, the statements it runs."""
    out: list[tuple[Statement, StatementInfo]] = []
    for statement, info in parsed:
        out.append((statement, info))
        if info.kind == "do":
            out.extend(expand_block(statement, info, dialect))
    return out
