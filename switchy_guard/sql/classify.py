"""Classify a statement: its kind, the objects it targets, and the clauses that matter.

A small cursor parser over the statement's tokens recognises the statement shapes the
hazard rules look at. The tokens come from a one-regex tokenizer that is tested to agree
with sqlparse's lexer (:func:`tokenize_sqlparse`, the reference), which profiling showed
to be the bottleneck of ``check``. Statements whose first keyword needs no
detail (INSERT, SELECT, SET, ...) take a fast path without tokenising. A statement that
cannot be classified gets kind ``unknown`` (rule SG603 reports it); none is dropped.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

# -- the model ----------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """A possibly schema-qualified object name (unquoted names lower-cased)."""

    name: str
    schema: str | None = None
    #: The parts as written (quotes removed, case kept), schema first: MySQL's table
    #: names may be case-sensitive whether quoted or not (lower_case_table_names).
    raw: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class AlterAction:
    """One action of an ALTER TABLE.

    ``kind``: add_column, drop_column, alter_type, set_not_null, drop_not_null,
    set_default, drop_default, add_constraint, drop_constraint, validate_constraint,
    rename_column, rename_table, add_index, drop_index, drop_partition, rewrite
    (PostgreSQL's SET LOGGED / UNLOGGED / TABLESPACE / ACCESS METHOD: the table is
    rewritten under lock; ``default`` holds the action's text),
    truncate_partition, discard_tablespace (MySQL: the data file is deleted; ``constraint``
    names the partitions, None for the whole table), exchange_partition (MySQL: the
    partition's rows move to the table ``new_name``), table_option, other (an action on
    the list of harmless ones, see _HARMLESS_ACTIONS), unknown (any other: rule SG603;
    ``default`` holds the action's text).
    """

    kind: str
    column: str | None = None
    type: str | None = None
    not_null: bool = False
    default: str | None = None
    constraint: str | None = None  # foreign_key, check, unique, primary_key, index,
    # fulltext, spatial (MySQL), exclude; the name for drop_constraint and drop_index
    not_valid: bool = False
    using_index: bool = False
    new_name: str | None = None
    position: bool = False  # MySQL FIRST / AFTER col
    #: How an added column gets its values without a DEFAULT: ``identity`` (GENERATED ...
    #: AS IDENTITY), ``expression`` (GENERATED ALWAYS AS (...), MySQL's AS (...)),
    #: ``auto_increment``; None for a plain column.
    generated: str | None = None
    #: add_column with ``generated`` ``expression``: ``stored`` or ``virtual`` as its
    #: definition says (MariaDB's PERSISTENT is stored); None when it says neither and the
    #: server's default applies (PostgreSQL: stored before 18; MySQL/MariaDB: virtual).
    storage: str | None = None
    #: MySQL's MODIFY/CHANGE: the definition replaces the column's whole one, so a NOT
    #: NULL or DEFAULT it leaves out is dropped (``generated`` is set for them too).
    redefines: bool = False
    #: Constraints declared with an added column (``ADD COLUMN c int UNIQUE REFERENCES
    #: t``): unique, primary_key, foreign_key, check.
    inline: tuple[str, ...] = ()
    #: add_constraint / add_index: the name given after CONSTRAINT (None when unnamed).
    name: str | None = None


#: The kind of a statement an anonymous block builds at run time (``EXECUTE format(...)``)
#: and no one can read before it runs (see sql/blocks.py).
DYNAMIC = "dynamic"


@dataclass(frozen=True)
class StatementInfo:
    """What a statement does, as far as the rules need to know."""

    kind: str
    table: Name | None = None
    tables: tuple[Name, ...] = ()
    object_type: str | None = None
    index: Name | None = None
    concurrently: bool = False
    if_exists: bool = False
    has_where: bool = False
    cascade: bool = False
    unique: bool = False
    actions: tuple[AlterAction, ...] = ()
    columns: tuple[tuple[str, str, bool, str | None], ...] = ()  # name, type, not null, default
    options: dict[str, str] = field(default_factory=dict)
    new_name: Name | None = None
    #: ``CREATE OR REPLACE``: an existing object of that name is replaced (MariaDB's
    #: ``CREATE OR REPLACE TABLE`` drops the old table).
    or_replace: bool = False
    #: CREATE TEMP[ORARY] TABLE (or view ...): it shadows, for unqualified names only.
    temporary: bool = False
    #: create_table: the table gets rows as it is made (CREATE TABLE ... AS SELECT).
    filled: bool = False
    #: Set on a statement a routine or trigger runs (see sql/routines.py): which one, and
    #: where it is run from ("run here by function purge()"), added to its findings.
    via: str = ""
    #: The routines and triggers this statement runs (they follow it in a parsed migration).
    runs: tuple[str, ...] = ()
    #: rename_table: every (old, new) pair of MySQL's ``RENAME TABLE a TO b, c TO d``, in
    #: the order the server applies them (``table`` and ``new_name`` are the first pair).
    renames: tuple[tuple[Name, Name], ...] = ()

    @property
    def is_ddl(self) -> bool:
        """Schema-changing statements (MySQL commits these implicitly)."""
        return self.kind.startswith(("create", "alter", "drop", "rename", "truncate"))


# -- tokens -------------------------------------------------------------------------

WORD, QUOTED, STRING, NUMBER, PUNCT = "w", "q", "s", "n", "p"


class Tok(NamedTuple):
    """A significant token: ``kind`` (w, q, s, n, p), its text, and its upper-case text.

    A NamedTuple, not a frozen dataclass: tens of thousands are made per check, and a
    frozen dataclass pays an ``object.__setattr__`` per field.
    """

    kind: str
    text: str
    up: str


def tokenize_sqlparse(sql: str) -> list[Tok]:
    """Significant tokens of ``sql`` by sqlparse's lexer (the reference tokenizer).

    Kept as the reference the fast tokenizer is tested against, and for callers that
    want sqlparse's view; the hot path uses :func:`tokenize`.
    """
    from sqlparse import tokens as T
    from sqlparse.lexer import Lexer

    out: list[Tok] = []
    lexer = Lexer.get_default_instance()  # type: ignore[no-untyped-call]
    for ttype, value in lexer.get_tokens(sql):
        if ttype in T.Whitespace or ttype in T.Newline or ttype in T.Comment:
            continue
        if ttype in T.String.Symbol or (ttype in T.Name and value[:1] in "`["):
            out.append(Tok(QUOTED, value[1:-1], value[1:-1].upper()))
        elif ttype in T.String:
            out.append(Tok(STRING, value, value.upper()))
        elif ttype in T.Number:
            out.append(Tok(NUMBER, value, value))
        elif ttype in T.Keyword or ttype in T.Name or ttype in T.Name.Builtin:
            for word in value.split():
                out.append(Tok(WORD, word, word.upper()))
        else:
            out.append(Tok(PUNCT, value, value))
    return out


# The hot path: one regex, one pass. sqlparse's lexer tries its rules one after another
# at every position, which made it 65 % of `check` on 10,000 files (see bench/README.md).
_TOKEN_TEMPLATE = r"""
    (?P<skip>\s+|SKIP)
  | (?P<dollar>\$(DOLLAR)\$[\s\S]*?(?:\$\3\$|\Z))
  | (?P<string>[Ee]'(?:[^'\\]|\\[\s\S]|'')*(?:'|\\?\Z)|[NnBbXx]?STRING)
  | (?P<quoted>DOUBLE|`(?:[^`]|``)*(?:`|\Z)BRACKET)
  | (?P<word>DIGITS[A-Za-z_\x80-\uffff][\w$\x80-\uffff]*)
  | (?P<number>(?:\d+(?:\.\d*)?|AFTER\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<punct>::|<=|>=|<>|!=|\|\||[\s\S])
"""
# Standard SQL strings double their quotes; MySQL's also take backslash escapes. SQLite
# also quotes names in [brackets] (elsewhere a bracket is an array subscript). One left
# open runs to the end, a last lone backslash too: were it refused, each later quote
# would start another scan to the end (quadratic: '\'\'\... 16 KB took 4 s).
_PLAIN_STRING = r"'(?:[^']|'')*(?:'|\Z)"
_BACKSLASH_STRING = r"'(?:[^'\\]|\\[\s\S]|'')*(?:'|\\?\Z)"
# Comments as each server's lexer reads them (the splitter's reading, sql/split.py):
# PostgreSQL ends ``--`` at a carriage return too and nests ``/* */`` (see tokenize);
# SQLite ends ``--`` at a line feed only; MariaDB wants a space or control character
# after ``--``, has ``#`` comments, and runs the code inside ``/*! */`` and ``/*M! */``
# (its markers and the closing ``*/`` are stepped over). A NUL ends a comment: what
# follows is code, and the statement's doubt reports the NUL.
_BLOCK_COMMENT = r"/\*[^\0]*?(?:\*/|\Z|(?=\0))"
_SKIP = {
    None: r"--[^\n\r\0]*|" + _BLOCK_COMMENT,
    "postgres": r"--[^\n\r\0]*|" + _BLOCK_COMMENT,
    "sqlite": r"\ufeff|--[^\n\0]*|" + _BLOCK_COMMENT,  # a BOM is a space to SQLite
    "mysql": r"--(?=[\x00-\x20\x7f]|\Z)[^\n\0]*|\#[^\n\0]*|/\*M?!\d*|\*/|" + _BLOCK_COMMENT,
}
_PLAIN_DOUBLE = r'"(?:[^"]|"")*(?:"|\Z)'
# PostgreSQL's dollar-quote tags: its identifier characters (any non-ASCII one), no digit
# first; elsewhere (the generic reading) any word.
_PG_TAG = r"(?:[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9\x80-\U0010ffff]*)?"
# MariaDB's names may start with digits (2fa_codes), unless all digits or a number such
# as 5e6; after a name and its dot, digits start the next name (app.2fa), not .2.
_MYSQL_DIGITS = r"(?:[0-9]+(?![eE][-+]?[0-9]))?"
_MYSQL_AFTER = r"(?<![\w$\x80-\uffff`])"


def _token_regex(string: str, bracket: str = "", *, dialect: str | None = None,
                 double: str = _PLAIN_DOUBLE, tag: str = r"\w*", digits: str = "",
                 after: str = "") -> re.Pattern[str]:
    return re.compile(
        _TOKEN_TEMPLATE.replace("SKIP", _SKIP[dialect]).replace("DOLLAR", tag)
        .replace("DOUBLE", double).replace("STRING", string).replace("BRACKET", bracket)
        .replace("DIGITS", digits).replace("AFTER", after),
        re.VERBOSE,
    )


_GENERIC_TOKEN = _token_regex(_PLAIN_STRING)
_FAST_TOKEN: dict[str | None, re.Pattern[str]] = {
    # MariaDB's "..." is a string with backslash escapes (unless ANSI_QUOTES, which the
    # splitter's doubt reports); kept a quoted token so names in it still read.
    "mysql": _token_regex(_BACKSLASH_STRING, dialect="mysql",
                          double=r'"(?:[^"\\]|\\[\s\S]|"")*(?:"|\\?\Z)',
                          digits=_MYSQL_DIGITS, after=_MYSQL_AFTER),
    "sqlite": _token_regex(_PLAIN_STRING, r"|\[[^\]]*(?:\]|\Z)", dialect="sqlite"),
    "postgres": _token_regex(_PLAIN_STRING, dialect="postgres", tag=_PG_TAG),
}
_CLOSING = {"[": "]"}


def tokenize(sql: str, dialect: str | None = None) -> list[Tok]:
    """Significant tokens of ``sql`` (no whitespace or comments), in one regex pass."""
    out: list[Tok] = []
    pattern = _FAST_TOKEN.get(dialect, _GENERIC_TOKEN)
    pos: int | None = 0
    while pos is not None:
        pos = _tokens_from(sql, pos, pattern, dialect == "postgres", out.append)
    return out


def _tokens_from(sql: str, pos: int, pattern: re.Pattern[str], nested: bool,
                 append: Callable[[Tok], object]) -> int | None:
    """Tokens of ``sql`` from ``pos`` on; where to go on after a nested block comment
    (PostgreSQL nests them, the regex cannot: read on after the outermost one's end, as
    the splitter does), or None at the end."""
    for match in pattern.finditer(sql, pos):
        kind = match.lastgroup
        if kind == "skip":
            # Only a block comment nests: a line comment's /* opens nothing.
            if nested and sql.startswith("/*", match.start()) and sql.find(
                    "/*", match.start() + 2, match.end()) >= 0:
                from switchy_guard.sql.split import _skip_block_comment

                return _skip_block_comment(sql, match.start(), True)[0]
            continue
        text = match.group()
        if kind == "word":
            append(Tok(WORD, text, text.upper()))
        elif kind == "punct":
            append(Tok(PUNCT, text, text))
        elif kind == "quoted":
            closed = len(text) > 1 and text[-1] == _CLOSING.get(text[0], text[0])
            inner = text[1:-1] if closed else text[1:]
            append(Tok(QUOTED, inner, inner.upper()))
        elif kind == "number":
            append(Tok(NUMBER, text, text))
        else:
            append(Tok(STRING, text, text.upper()))
    return None


@functools.cache
def _alternatives(word: str) -> frozenset[str]:
    """``"a|b"`` → ``{"a", "b"}`` (the keyword patterns are few: computed once each)."""
    return frozenset(word.split("|"))


class Cursor:
    """A position in a token list with small matching helpers."""

    def __init__(self, toks: list[Tok], pos: int = 0) -> None:
        self.toks = toks
        self.pos = pos

    def peek(self, offset: int = 0) -> Tok | None:
        index = self.pos + offset
        return self.toks[index] if index < len(self.toks) else None

    def at(self, *words: str) -> bool:
        """Whether the next tokens are the given keywords (a word may be a|b)."""
        toks, pos = self.toks, self.pos
        if pos + len(words) > len(toks):
            return False
        for offset, word in enumerate(words):
            tok = toks[pos + offset]
            if tok.kind != WORD or (tok.up != word and tok.up not in _alternatives(word)):
                return False
        return True

    def take(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def skip_until(self, *words: str) -> None:
        while self.peek() is not None and not self.at(*words):
            self.pos += 1

    def name(self) -> Name | None:
        """An object name, schema-qualified or not."""
        first = self._identifier()
        if first is None:
            return None
        tok = self.peek()
        if tok is not None and tok.kind == PUNCT and tok.text == ".":
            self.pos += 1
            second = self._identifier()
            if second is not None:
                return Name(second, first, raw=(self.toks[self.pos - 3].text,
                                                self.toks[self.pos - 1].text))
            self.pos -= 1  # ``t.*``: the dot belongs to what follows the name
        return Name(first, raw=(self.toks[self.pos - 1].text,))

    def _identifier(self) -> str | None:
        tok = self.peek()
        if tok is None:
            return None
        if tok.kind == QUOTED:
            self.pos += 1
            return tok.text
        if tok.kind == WORD:
            self.pos += 1
            return tok.text.lower()
        return None

    def rest(self) -> list[Tok]:
        return self.toks[self.pos :]


def split_top_level(toks: list[Tok]) -> list[list[Tok]]:
    """Split on commas outside parentheses."""
    parts: list[list[Tok]] = [[]]
    depth = 0
    for tok in toks:
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
            if tok.text == "," and depth == 0:
                parts.append([])
                continue
        parts[-1].append(tok)
    return [p for p in parts if p]


def render(toks: list[Tok]) -> str:
    """Tokens back to compact text (for types and default expressions)."""
    # Pieces joined once: text.rstrip() + punct copied the text so far at each
    # parenthesis (quadratic: a DEFAULT of 200 KB of parentheses took 1.5 s).
    parts: list[str] = []
    for tok in toks:
        if tok.kind == PUNCT and tok.text in "(),.::":
            while parts and not parts[-1].rstrip():
                parts.pop()
            if parts:
                parts[-1] = parts[-1].rstrip()
            parts.append(", " if tok.text == "," else tok.text)
        else:
            parts.append((tok.text if tok.kind != QUOTED else f'"{tok.text}"') + " ")
    return re.sub(r"\(\s+", "(", "".join(parts)).strip()


# -- classification -----------------------------------------------------------------

_FIRST_WORD = re.compile(r"\s*(?:\(\s*)*([A-Za-z]+)")
_FAST = {
    "INSERT": "insert", "SELECT": "select", "WITH": "select", "VALUES": "select",
    "SET": "set", "PRAGMA": "pragma", "REPLACE": "insert", "CALL": "call",
    "COMMENT": "comment", "GRANT": "grant", "REVOKE": "grant", "ANALYZE": "maintenance",
    "VACUUM": "maintenance", "REINDEX": "maintenance", "CLUSTER": "maintenance",
    "REFRESH": "maintenance", "LOCK": "lock", "UNLOCK": "lock", "USE": "set",
    "SHOW": "select", "EXPLAIN": "select",
    "COPY": "copy", "LOAD": "load", "NOTIFY": "other", "PERFORM": "other",
    # Metadata and session statements that touch no rows: PostgreSQL's SECURITY LABEL,
    # LISTEN/UNLISTEN, DISCARD, RESET, CHECKPOINT; MySQL's OPTIMIZE TABLE (a rebuild,
    # rows kept), CHECK TABLE and CHECKSUM TABLE (reads).
    "SECURITY": "comment", "LISTEN": "other", "UNLISTEN": "other", "DISCARD": "set",
    "CHECKPOINT": "maintenance", "OPTIMIZE": "maintenance",
    "CHECK": "maintenance", "CHECKSUM": "select",
}
_TRANSACTION = {
    "BEGIN": "begin", "START": "begin", "COMMIT": "commit", "END": "commit",
    "ROLLBACK": "rollback", "ABORT": "rollback", "SAVEPOINT": "savepoint",
    "RELEASE": "savepoint",
}
_OTHER_OBJECTS = (
    "VIEW", "MATERIALIZED", "FUNCTION", "PROCEDURE", "TYPE", "SEQUENCE", "TRIGGER",
    "EXTENSION", "DOMAIN", "EVENT", "POLICY", "RULE", "AGGREGATE", "COLLATION",
    "OPERATOR", "ROLE", "USER", "PUBLICATION", "SUBSCRIPTION",
    # PostgreSQL's extended statistics (planner estimates only), casts, conversions,
    # procedural languages, foreign servers: no rows of their own.
    "STATISTICS", "CAST", "CONVERSION", "LANGUAGE", "SERVER",
)
#: ALTER of these changes no rows (renames, owners, options, a trigger's or policy's
#: definition); with the ALTER TABLE/INDEX/... of _alter they are ``alter_other``.
_ALTER_OTHER = (
    "INDEX", "SCHEMA", "DATABASE", "SEQUENCE", "VIEW", "TYPE", "FUNCTION",
    "EXTENSION", "ROLE", "USER", "SYSTEM", "DEFAULT", "MATERIALIZED",
    "TRIGGER", "POLICY", "EVENT", "STATISTICS", "PROCEDURE", "DOMAIN", "COLLATION",
    "AGGREGATE", "OPERATOR", "PUBLICATION", "CONVERSION", "LANGUAGE", "SERVER", "RULE",
)


# MySQL's executable comments (mysqldump writes ``/*!40101 SET NAMES utf8 */``): code.
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!\d*(.*?)(?:\*/|\Z)", re.DOTALL)


def _code(text: str) -> str:
    """``text`` with MySQL's executable comments opened up, as the server runs it."""
    if text.startswith(("/*!", "/*M!")):
        return _EXECUTABLE_COMMENT.sub(r" \1 ", text)
    return text


def first_word(text: str) -> str:
    """The word a statement starts with, upper-cased, as :func:`classify` reads it ("" when
    it starts with none): a cheap first look that needs no tokens."""
    match = _FIRST_WORD.match(_code(text))
    return match.group(1).upper() if match else ""


#: The first words of the statements :func:`classify` reads as transaction control
#: (``begin``, ``commit``, ``rollback``, ``savepoint``) or as MariaDB's BEGIN NOT ATOMIC.
TRANSACTION_WORDS = frozenset(_TRANSACTION)


def classify(text: str, dialect: str | None = None) -> StatementInfo:
    """Classify one statement's text."""
    text = _code(text)
    match = _FIRST_WORD.match(text)
    if match is None:
        return StatementInfo("unknown")
    first = match.group(1).upper()
    if first in _RUNS_INSIDE:
        inner = _RUNS_INSIDE[first].match(text)
        if inner is not None:
            # EXPLAIN ANALYZE runs its statement; so do MariaDB's ANALYZE stmt and
            # PostgreSQL's COPY (DELETE ... RETURNING ...) TO.
            return classify(text[inner.end():], dialect)
    if first in _FAST:
        if first == "WITH" and _WRITES.search(text):
            return _classify_with(Cursor(tokenize(text, dialect)), dialect)
        if first == "SELECT" or first == "WITH":
            return StatementInfo("select")
        if first == "PRAGMA":
            return StatementInfo("pragma")
        if first == "REINDEX":  # REINDEX ... CONCURRENTLY cannot run in a transaction
            concurrently = any(t.kind == WORD and t.up == "CONCURRENTLY"
                               for t in tokenize(text, dialect))
            return StatementInfo("maintenance", concurrently=concurrently)
        if first in ("COPY", "LOAD"):
            return _classify_load(first, text, dialect)
        return StatementInfo(_FAST[first]) if first not in ("INSERT", "REPLACE") else (
            _classify_insert(text, dialect)
        )
    if first in _TRANSACTION:
        return _classify_transaction(first, text)
    handler = _HANDLERS.get(first)
    if handler is None:
        return StatementInfo("unknown")
    try:
        return handler(Cursor(tokenize(text, dialect)), dialect)
    except (IndexError, AttributeError):  # pragma: no cover - defensive
        return StatementInfo("unknown")


_WRITES = re.compile(r"\b(?:DELETE|UPDATE|INSERT)\b", re.IGNORECASE)

# The statement an EXPLAIN ANALYZE (PostgreSQL, MySQL), ANALYZE (MariaDB) or COPY
# (query) (PostgreSQL) runs, after the part these patterns match.
_OPTION = r"(?:[A-Za-z_]+(?:\s+(?:[A-Za-z_]+|'[^']*'|\d+))?)"
_RUNS_INSIDE = {
    "EXPLAIN": re.compile(
        r"\s*EXPLAIN\s+(?:ANALY[SZ]E\b(?:\s+VERBOSE\b)?(?:\s+FORMAT\s*=\s*\w+)?"
        r"|\(\s*(?:" + _OPTION + r"\s*,\s*)*ANALY[SZ]E(?:\s+(?:TRUE|ON|1))?\s*"
        r"(?:,\s*" + _OPTION + r"\s*)*\))\s*(?=\(*\s*(?:WITH|DELETE|UPDATE|INSERT|MERGE"
        r"|REPLACE|CREATE|EXECUTE|SELECT)\b)", re.IGNORECASE),
    "ANALYZE": re.compile(
        r"\s*ANALYZE\s+(?:FORMAT\s*=\s*\w+\s+)?(?=\(*\s*(?:WITH|DELETE|UPDATE|INSERT"
        r"|REPLACE|SELECT)\b)", re.IGNORECASE),
    "COPY": re.compile(r"\s*COPY\s*\(\s*(?=(?:WITH|DELETE|UPDATE|INSERT|MERGE)\b)",
                       re.IGNORECASE),
}


def _classify_with(cur: Cursor, dialect: str | None) -> StatementInfo:
    """``WITH ...``: the DELETE or UPDATE it runs, in a CTE or as its main statement.

    ``WITH gone AS (DELETE FROM t RETURNING *) SELECT ...`` deletes as surely as a plain
    DELETE; when several parts write, one without a WHERE clause is the one reported.
    """
    cur.take("WITH")
    cur.take("RECURSIVE")
    parts: list[list[Tok]] = []
    while cur.name() is not None:
        if _at_punct(cur, "("):
            _balanced(cur)  # the CTE's column list
        cur.take("AS")
        cur.take("NOT")
        cur.take("MATERIALIZED")
        if not _at_punct(cur, "("):
            break
        parts.append(_balanced(cur)[1:-1])
        # PostgreSQL 14+: SEARCH {BREADTH | DEPTH} FIRST BY cols SET col, then CYCLE cols
        # SET col [TO v DEFAULT d] USING col (their commas are not the CTE list's).
        if cur.take("SEARCH"):
            cur.skip_until("SET")
            cur.pos += 2
        if cur.take("CYCLE"):
            cur.skip_until("USING")
            cur.pos += 2
        if not _at_punct(cur, ","):
            break
        cur.pos += 1
    parts.append(cur.rest())
    writes = [
        _HANDLERS[part[0].up](Cursor(part), dialect)
        for part in parts
        if part and part[0].kind == WORD and part[0].up in ("DELETE", "UPDATE")
    ]
    unbounded = [info for info in writes if not info.has_where]
    inserts = [_insert_target(part) for part in parts
               if part and part[0].kind == WORD and part[0].up == "INSERT"]
    return (unbounded or writes or inserts or [StatementInfo("select")])[0]


def _insert_target(toks: list[Tok]) -> StatementInfo:
    """``INSERT INTO t ...`` of a WITH: an insert into ``t``."""
    cur = Cursor(toks, 1)
    replaces = cur.at("OR", "REPLACE")
    if cur.take("OR"):  # SQLite: INSERT OR {REPLACE | IGNORE | ...} INTO t
        cur.pos += 1
    cur.take("INTO")
    return StatementInfo("insert", table=cur.name(), or_replace=replaces)


def _at_punct(cur: Cursor, text: str) -> bool:
    tok = cur.peek()
    return tok is not None and tok.kind == PUNCT and tok.text == text


def _balanced(cur: Cursor) -> list[Tok]:
    """The tokens from the ``(`` at the cursor to its matching ``)``, consumed."""
    start, depth = cur.pos, 0
    for index in range(cur.pos, len(cur.toks)):
        tok = cur.toks[index]
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
            if depth == 0:
                cur.pos = index + 1
                return cur.toks[start : index + 1]
    cur.pos = len(cur.toks)
    return cur.toks[start:]


def _classify_insert(text: str, dialect: str | None) -> StatementInfo:
    # INSERT [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE] [INTO] (MySQL), INSERT OR
    # action (SQLite); a name part quoted (spaces and all) or plain.
    part = r'(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[\w$]+)'
    found = re.match(
        r"\s*(?:INSERT|REPLACE)\s+(?:(?:OR\s+\w+|IGNORE|LOW_PRIORITY|HIGH_PRIORITY|DELAYED)"
        r"\s+)*(?:INTO\s+)?(" + part + r"(?:\s*\.\s*" + part + r")?)",
        text, re.IGNORECASE,
    )
    # REPLACE (MySQL, SQLite) and SQLite's INSERT OR REPLACE delete each row whose key
    # a new row repeats before inserting it.
    replaces = re.match(r"\s*(?:REPLACE|INSERT\s+OR\s+REPLACE)\b", text, re.IGNORECASE)
    if not found:
        return StatementInfo("insert", or_replace=replaces is not None)
    table = Cursor(tokenize(found.group(1), dialect)).name()
    return StatementInfo("insert", table=table, or_replace=replaces is not None)


_LOAD_TARGET = {
    # COPY t [(cols)] FROM ...: rows into t (COPY t TO and COPY (query) TO read).
    "COPY": re.compile(r"\s*COPY\s+([^\s(]+)(?:\s*\([^)]*\))?\s+FROM\b", re.IGNORECASE),
    # LOAD DATA [LOCAL] INFILE '...' [REPLACE | IGNORE] INTO TABLE t
    "LOAD": re.compile(r"[\s\S]*?\bINTO\s+TABLE\s+(\S+)", re.IGNORECASE),
}


def _classify_load(first: str, text: str, dialect: str | None) -> StatementInfo:
    """COPY and LOAD DATA: ``table`` is the table they load rows into, if any."""
    found = _LOAD_TARGET[first].match(text)
    table = Cursor(tokenize(found.group(1), dialect)).name() if found else None
    return StatementInfo(_FAST[first], table=table)


def _classify_transaction(first: str, text: str) -> StatementInfo:
    words = text.split()
    second = words[1].upper().rstrip(";") if len(words) > 1 else ""
    if first == "BEGIN" and second == "NOT":
        # MariaDB's BEGIN NOT ATOMIC ... END: an anonymous block (see sql/blocks.py)
        return StatementInfo("do", object_type="compound")
    if first == "START" and second != "TRANSACTION":
        return StatementInfo("unknown")
    if first == "END" and second not in ("", "TRANSACTION", "WORK"):
        return StatementInfo("unknown")
    third = words[2].upper() if len(words) > 2 else ""
    if first == "ROLLBACK" and "TO" in (second, third if second in ("WORK", "TRANSACTION")
                                        else ""):
        return StatementInfo("savepoint")
    return StatementInfo(_TRANSACTION[first])


def _create(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("CREATE")
    or_replace = cur.take("OR", "REPLACE")
    equals = cur.peek(1)
    if cur.at("ALGORITHM") and equals is not None and equals.text == "=":
        cur.pos += 3  # MySQL: CREATE ALGORITHM = MERGE [DEFINER = ...] [SQL SECURITY ...] VIEW
    if cur.take("SQL", "SECURITY"):
        cur.pos += 1
    if cur.at("DEFINER"):
        # One alternative, not a sequence: the word after DEFINER=user@host.
        cur.skip_until("TRIGGER|PROCEDURE|FUNCTION|EVENT|VIEW")
    temporary = cur.at("TEMP|TEMPORARY")
    cur.take("TEMP|TEMPORARY|UNLOGGED|GLOBAL|LOCAL")
    temporary = cur.take("TEMP|TEMPORARY") or temporary
    cur.take("RECURSIVE")  # CREATE [OR REPLACE] [TEMP] RECURSIVE VIEW
    cur.take("VIRTUAL")  # SQLite: CREATE VIRTUAL TABLE ... USING fts5(...)
    unique = cur.take("UNIQUE")
    special = None  # MySQL: FULLTEXT, SPATIAL
    if cur.at("FULLTEXT|SPATIAL"):
        special = cur.toks[cur.pos].up.lower()
        cur.pos += 1
    if cur.take("INDEX"):
        concurrently = cur.take("CONCURRENTLY")
        if_exists = cur.take("IF", "NOT", "EXISTS")
        index = None if cur.at("ON") else cur.name()
        if cur.take("USING"):  # MySQL: CREATE INDEX i USING {BTREE | HASH} ON t
            cur.pos += 1
        cur.take("ON")
        _take_only(cur, dialect)
        table = cur.name()
        return StatementInfo("create_index", table=table, index=index, unique=unique,
                             concurrently=concurrently, if_exists=if_exists,
                             object_type=special, options=_lock_options(cur.rest()))
    if cur.take("TABLE"):
        if_exists = cur.take("IF", "NOT", "EXISTS")
        table = cur.name()
        words = _top_level_words(cur.rest())
        filled = ("AS" in words or "SELECT" in words) and (
            ("NO", "DATA") not in itertools.pairwise(words))
        return StatementInfo("create_table", table=table, if_exists=if_exists,
                             columns=_table_columns(cur.rest()), temporary=temporary,
                             or_replace=or_replace, filled=filled)
    if cur.at("SCHEMA|DATABASE"):
        object_type = cur.toks[cur.pos].up.lower()
        cur.pos += 1
        if_exists = cur.take("IF", "NOT", "EXISTS")
        cur.take("AUTHORIZATION")  # PostgreSQL: a schema named after the role
        return StatementInfo("create_schema", object_type=object_type, table=cur.name(),
                             if_exists=if_exists)
    for word in _OTHER_OBJECTS:
        if cur.take(word):
            # As for drop_other, ``table`` names the object (None where no simple name
            # follows, as in MySQL's CREATE USER 'app'@'%').
            cur.take("VIEW")  # MATERIALIZED VIEW
            if_exists = cur.take("IF", "NOT", "EXISTS")
            return StatementInfo("create_other", object_type=word.lower(), table=cur.name(),
                                 if_exists=if_exists, temporary=temporary,
                                 or_replace=or_replace)
    return StatementInfo("unknown")


def _lock_options(toks: list[Tok]) -> dict[str, str]:
    """MySQL's ``ALGORITHM [=] x`` and ``LOCK [=] y`` after CREATE INDEX's column list."""
    options: dict[str, str] = {}
    depth = 0  # not the words of the column list: a column may be named algorithm
    for index, tok in enumerate(toks):
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        elif depth == 0 and tok.kind == WORD and tok.up in ("ALGORITHM", "LOCK"):
            value = toks[index + 1:index + 3]
            if value and value[0].text == "=":
                value = value[1:]
            if value:
                options[tok.up] = value[0].up
    return options


def _table_columns(toks: list[Tok]) -> tuple[tuple[str, str, bool, str | None], ...]:
    if not toks or toks[0].text != "(":
        return ()
    depth, end = 0, len(toks)
    for index, tok in enumerate(toks):
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
            if depth == 0:
                end = index
                break
    columns = []
    for part in split_top_level(toks[1:end]):
        head = part[0]
        if head.kind == WORD and head.up in (
            "CONSTRAINT", "PRIMARY", "FOREIGN", "UNIQUE", "CHECK", "KEY", "INDEX", "FULLTEXT",
            "EXCLUDE", "SPATIAL", "LIKE",
        ):
            continue
        column = _column_definition(part)
        if column is not None:
            columns.append(column)
    return tuple(columns)


def _column_definition(part: list[Tok]) -> tuple[str, str, bool, str | None] | None:
    """(name, type, not null, default) of ``name type [constraints]``."""
    if not part or part[0].kind not in (WORD, QUOTED):
        return None
    name = part[0].text if part[0].kind == QUOTED else part[0].text.lower()
    type_toks: list[Tok] = []
    index, depth = 1, 0
    stops = {"NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK",
             "CONSTRAINT", "COLLATE", "GENERATED", "AUTO_INCREMENT", "AUTOINCREMENT",
             "COMMENT", "FIRST", "AFTER", "AS", "ON", "USING", "CHARSET",
             # Column attributes after the type: PostgreSQL's STORAGE and COMPRESSION,
             # MySQL's and MariaDB's.
             "STORAGE", "COMPRESSION", "COMPRESSED", "COLUMN_FORMAT", "VISIBLE", "INVISIBLE",
             "SRID"}
    while index < len(part):
        tok = part[index]
        # CHARACTER alone is a type (PostgreSQL's character varying(n)); MySQL's
        # CHARACTER SET follows the type.
        if depth == 0 and tok.kind == WORD and (tok.up in stops or (
                tok.up == "CHARACTER" and [t.up for t in part[index + 1:index + 2]] == ["SET"])):
            break
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        type_toks.append(tok)
        index += 1
    rest = part[index:]
    upper = [t.up for t in rest]
    not_null = any(upper[i] == "NOT" and i + 1 < len(upper) and upper[i + 1] == "NULL"
                   for i in range(len(upper))) or "PRIMARY" in upper or any(
        upper[i - 1:i + 1] == ["AS", "IDENTITY"] for i in range(1, len(upper)))
    # (GENERATED ... AS IDENTITY implies NOT NULL, as a primary key does; a CHECK or a
    # REFERENCES naming something identity does not.)
    default = None
    # DEFAULT expr, not GENERATED BY DEFAULT AS IDENTITY (which has no default).
    clauses = [i for i, word in enumerate(upper) if word == "DEFAULT" and upper[i - 1:i] != ["BY"]]
    if clauses:
        start = clauses[0] + 1
        default_toks: list[Tok] = []
        depth = 0
        for tok in rest[start:]:
            if depth == 0 and tok.kind == WORD and tok.up in stops - {"NULL"}:
                break
            if tok.kind == PUNCT:
                depth += tok.text.count("(") - tok.text.count(")")
            default_toks.append(tok)
        default = render(default_toks)
    return name, render(type_toks).lower(), not_null, default


def _drop(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("DROP")
    cur.take("TEMPORARY")
    if cur.take("TABLE"):
        if_exists = cur.take("IF", "EXISTS")
        tables = _name_list(cur)
        cascade = any(t.up == "CASCADE" for t in cur.rest())
        return StatementInfo("drop_table", table=tables[0] if tables else None,
                             tables=tuple(tables), if_exists=if_exists, cascade=cascade)
    if cur.take("INDEX"):
        concurrently = cur.take("CONCURRENTLY")
        if_exists = cur.take("IF", "EXISTS")
        index = cur.name()
        table = cur.name() if cur.take("ON") else None
        return StatementInfo("drop_index", index=index, table=table,
                             concurrently=concurrently, if_exists=if_exists)
    if cur.take("OWNED", "BY"):
        # PostgreSQL: every object the roles own in this database, tables included.
        roles = _name_list(cur)
        return StatementInfo("drop_schema", object_type="owned",
                             table=roles[0] if roles else None, tables=tuple(roles))
    if cur.at("SCHEMA|DATABASE"):
        kind = cur.peek().up.lower()  # type: ignore[union-attr]
        cur.pos += 1
        if_exists = cur.take("IF", "EXISTS")
        names = _name_list(cur)
        return StatementInfo("drop_schema", object_type=kind, if_exists=if_exists,
                             table=names[0] if names else None, tables=tuple(names))
    if cur.take("PREPARE"):  # MySQL: DROP PREPARE name, as DEALLOCATE PREPARE
        return StatementInfo("other", object_type="prepared")
    for word in _OTHER_OBJECTS:
        if cur.take(word):
            if word == "MATERIALIZED":
                cur.take("VIEW")
            if_exists = cur.take("IF", "EXISTS")
            names = _name_list(cur)  # DROP VIEW a, b; DROP FUNCTION f(int), g(text)
            object_type = "materialized view" if word == "MATERIALIZED" else word.lower()
            return StatementInfo("drop_other", object_type=object_type,
                                 table=names[0] if names else None, tables=tuple(names),
                                 if_exists=if_exists)
    return StatementInfo("unknown")


def _name_list(cur: Cursor) -> list[Name]:
    names = []
    while True:
        name = cur.name()
        if name is None:
            break
        names.append(name)
        if _at_punct(cur, "("):
            _balanced(cur)  # a function's argument types: DROP FUNCTION f(int), g(text)
        tok = cur.peek()
        if tok is None or tok.text != ",":
            break
        cur.pos += 1
    return names


#: After ONLY, the words that show it was a table's name (the generic dialect's reading).
_AFTER_A_TABLE = frozenset({"WHERE", "SET", "AS", "USING", "FROM", "PARTITION", "ADD",
                            "DROP", "ALTER", "RENAME", "MODIFY", "CHANGE", "CASCADE",
                            "RESTRICT"})


def _take_only(cur: Cursor, dialect: str | None) -> None:
    """Step over PostgreSQL's ONLY before a table name. It is a reserved word there
    only: on MySQL/MariaDB ``only`` may name the table itself (with an alias after it);
    elsewhere (SQLite, which has no ONLY, or no dialect) it is the keyword unless what
    follows shows it was the name."""
    if dialect == "mysql" or not cur.at("ONLY"):
        return
    following = cur.peek(1)
    if dialect == "postgres" or (following is not None and (following.kind == QUOTED or (
            following.kind == WORD and following.up not in _AFTER_A_TABLE))):
        cur.pos += 1


def _truncate(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("TRUNCATE")
    cur.take("TABLE")
    _take_only(cur, dialect)
    tables = _name_list(cur)
    cascade = any(t.up == "CASCADE" for t in cur.rest())
    return StatementInfo("truncate", table=tables[0] if tables else None, tables=tuple(tables),
                         cascade=cascade)


def _delete(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("DELETE")
    while cur.take("LOW_PRIORITY|QUICK|IGNORE"):
        pass
    from_first = cur.take("FROM")
    _take_only(cur, dialect)
    targets = _delete_targets(cur)
    if not targets:
        return StatementInfo("delete", has_where=_has_where(cur.rest(), dialect))
    if (not from_first and cur.at("FROM")) or (from_first and cur.at("USING")):
        # MySQL's multi-table forms, DELETE t1[, t2] FROM refs ... and DELETE FROM t1[, t2]
        # USING refs ...: the rows of every target go, and a target may be an alias (DELETE
        # FROM a USING users AS a). PostgreSQL's USING names other tables, and refuses one
        # aliased as the target, so the target stays itself there.
        cur.pos += 1
        aliases = _table_aliases(cur, dialect)
        targets = [aliases.get(t.name, t) if t.schema is None else t for t in targets]
    else:
        targets = targets[:1]
    return StatementInfo("delete", table=targets[0], tables=tuple(targets),
                         has_where=_has_where(cur.rest(), dialect))


def _delete_targets(cur: Cursor) -> list[Name]:
    """``t1[.*][, t2[.*]]``, the tables (or aliases) a DELETE names first."""
    names: list[Name] = []
    while True:
        name = cur.name()
        if name is None:
            return names
        names.append(name)
        star = cur.peek(1)
        if _at_punct(cur, ".") and star is not None and star.text == "*":
            cur.pos += 2
        if not _at_punct(cur, ","):
            return names
        cur.pos += 1


_JOIN_WORDS = frozenset({"JOIN", "INNER", "LEFT", "RIGHT", "OUTER", "CROSS", "NATURAL",
                         "STRAIGHT_JOIN", "LATERAL", "ONLY"})
_REFERENCE_END = frozenset({"WHERE", "ORDER", "LIMIT", "RETURNING"})
_SUBQUERY = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})


def _table_aliases(cur: Cursor, dialect: str | None = None) -> dict[str, Name]:
    """The table references from the cursor to WHERE, by alias and by name."""
    aliases: dict[str, Name] = {}
    # ONLY is a word of PostgreSQL's (USING ONLY t); MySQL may name a table so.
    join_words = _JOIN_WORDS - {"ONLY"} if dialect == "mysql" else _JOIN_WORDS
    expect_table = True
    while (tok := cur.peek()) is not None and tok.up not in _REFERENCE_END:
        if tok.kind == PUNCT:
            if tok.text == "(":
                following = cur.peek(1)
                if expect_table and following is not None and following.up not in _SUBQUERY:
                    cur.pos += 1  # JOIN (orders o, items i): table references, read on
                    continue
                _balanced(cur)  # a join condition's or a subquery's parentheses
                continue
            expect_table = tok.text == ","
            cur.pos += 1
            continue
        if tok.kind == WORD and tok.up in join_words:
            expect_table = True
            cur.pos += 1
            continue
        if tok.kind == WORD and tok.up in ("ON", "USING"):
            expect_table = False
            cur.pos += 1
            continue
        if not expect_table:
            cur.pos += 1
            continue
        name = cur.name()
        if name is None:
            cur.pos += 1
            continue
        expect_table = False
        aliases.setdefault(name.name, name)
        if cur.take("PARTITION") and _at_punct(cur, "("):
            _balanced(cur)  # MySQL: users PARTITION (p0) AS u
        cur.take("AS")
        alias = cur.peek()
        if alias is not None and alias.kind in (WORD, QUOTED) and not (
                alias.kind == WORD and alias.up in join_words | _REFERENCE_END
                | {"ON", "USING"}):
            aliases[alias.text.lower() if alias.kind == WORD else alias.text] = name
            cur.pos += 1
    return aliases


def _update(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("UPDATE")
    cur.take("LOW_PRIORITY|IGNORE")
    _take_only(cur, dialect)
    cur.take("OR")
    cur.take("ROLLBACK|ABORT|REPLACE|FAIL|IGNORE")
    table = cur.name()
    return StatementInfo("update", table=table, has_where=_has_where(cur.rest(), dialect))


def _has_where(toks: list[Tok], dialect: str | None) -> bool:
    """Whether a DELETE/UPDATE is bounded by a WHERE clause that can be false for a row.

    ``WHERE 1 = 1``, ``WHERE TRUE`` or ``WHERE id = 0 OR 1 = 1`` bound nothing: a clause
    one of whose OR branches is a constant (true or unknown) counts as no clause at all.
    """
    depth = 0
    for index, tok in enumerate(toks):
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        elif depth == 0 and tok.kind == WORD and tok.up == "WHERE":
            return not _always_true(_predicate(toks[index + 1:]), dialect)
    return False


# Words a WHERE clause may hold and still name no column: its value is a constant.
_CONSTANT_WORDS = frozenset({
    "TRUE", "FALSE", "NOT", "NULL", "IS", "AND", "XOR", "BETWEEN", "IN", "LIKE", "UNKNOWN",
    "CAST", "AS", "INTEGER", "INT", "TEXT", "BOOLEAN", "BOOL", "CHAR", "VARCHAR",
})
# Where a DELETE/UPDATE's WHERE clause ends.
_AFTER_WHERE = frozenset({"ORDER", "LIMIT", "RETURNING", "OFFSET", "FETCH"})


def _predicate(toks: list[Tok]) -> list[Tok]:
    depth = 0
    for index, tok in enumerate(toks):
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        elif depth == 0 and tok.kind == WORD and tok.up in _AFTER_WHERE:
            return toks[:index]
    return toks


def _always_true(predicate: list[Tok], dialect: str | None) -> bool:
    """Whether a branch of the predicate's top-level ORs is a constant that is not
    plainly false, or compares an expression with itself (``x = x``). ``||`` is OR on
    MySQL (and taken as such when the dialect is unknown); elsewhere it concatenates."""
    or_operator = "||" if dialect in ("mysql", None) else "OR"
    branches: list[list[Tok]] = [[]]
    depth = 0
    for tok in predicate:
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
            if depth == 0 and tok.text == or_operator:
                branches.append([])
                continue
        elif depth == 0 and tok.kind == WORD and tok.up == "OR":
            branches.append([])
            continue
        branches[-1].append(tok)
    return not predicate or any(_branch_true(b, dialect) for b in branches)


def _branch_true(branch: list[Tok], dialect: str | None) -> bool:
    inner = _unwrapped(branch)
    if inner is not branch:  # ``(id = 0 OR TRUE)``: the ORs inside count as well
        return _always_true(inner, dialect)
    return _constant_true(branch) or _self_equal(branch)


def _unwrapped(toks: list[Tok]) -> list[Tok]:
    """The tokens inside one pair of parentheses around them all, else ``toks`` itself."""
    if len(toks) < 2 or toks[0].kind != PUNCT or toks[0].text != "(" or toks[-1].text != ")":
        return toks
    depth = 0
    for tok in toks[:-1]:
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        if depth == 0:
            return toks  # ``(a) = (b)``: the first parenthesis closes before the end
    return toks[1:-1]


def _literal(tok: Tok) -> Decimal | str | None:
    """A number's or a plain string literal's value as the server compares it (``1.0`` is
    ``1``; case and trailing spaces may not count: MySQL's PAD SPACE collations), None
    when not sure (prefixed or escaped strings)."""
    if tok.kind == NUMBER:
        return Decimal(tok.text)  # the tokenizer's numbers are all decimal literals
    body = tok.text[1:-1]
    if tok.text[:1] != "'" or "\\" in body or "'" in body:
        return None
    return body.rstrip(" ").casefold()


def _constant_true(branch: list[Tok]) -> bool:
    if not branch or not all(
        tok.kind in (NUMBER, STRING, PUNCT) or (tok.kind == WORD and tok.up in _CONSTANT_WORDS)
        for tok in branch
    ):
        return False
    words = [tok.up for tok in branch if tok.kind != PUNCT or tok.text not in "()"]
    if words in (["FALSE"], ["0"], ["NOT", "TRUE"], ["NULL"]):
        return False
    if len(words) == 3 and branch[0].kind == branch[-1].kind and branch[0].kind in (NUMBER, STRING):
        left, op, right = _literal(branch[0]), words[1], _literal(branch[-1])
        if left is not None and right is not None and (
                (op == "=" and left != right) or (op in ("<>", "!=") and left == right)):
            return False
    return True


def _self_equal(branch: list[Tok]) -> bool:
    for index, tok in enumerate(branch):
        if tok.kind == PUNCT and tok.text == "=":
            left, right = branch[:index], branch[index + 1:]
            return bool(left) and [t.up for t in left] == [t.up for t in right] and all(
                t.kind in (WORD, QUOTED) or t.text == "." for t in left)
    return False


def read_tables(text: str, dialect: str | None) -> list[str]:
    """The tables a statement reads rows from: the names after FROM and JOIN (by their
    unqualified name, as the schema model keys tables)."""
    cur = Cursor(tokenize(text, dialect))
    names: list[str] = []
    while (tok := cur.peek()) is not None:
        cur.pos += 1
        if tok.kind == WORD and tok.up in ("FROM", "JOIN"):
            name = cur.name()
            if name is not None:
                names.append(name.name)
    return names


def _rename(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("RENAME")
    if not cur.take("TABLE|TABLES"):
        return StatementInfo("unknown")
    # MySQL/MariaDB: RENAME TABLE[S] [IF EXISTS] a TO b [WAIT n], c TO d, ... applies the
    # pairs left to right (a swap through a third name is three pairs).
    pairs: list[tuple[Name, Name]] = []
    for part in split_top_level(cur.rest()):
        pair = Cursor(part)
        pair.take("IF", "EXISTS")
        old = pair.name()
        if not pair.take("NOWAIT") and pair.take("WAIT"):
            pair.pos += 1  # MariaDB: WAIT n
        if old is None or not pair.take("TO"):
            return StatementInfo("unknown")
        new = pair.name()
        if new is None:
            return StatementInfo("unknown")
        pairs.append((old, new))
    if not pairs:
        return StatementInfo("unknown")
    return StatementInfo("rename_table", table=pairs[0][0], new_name=pairs[0][1],
                         renames=tuple(pairs))


def _alter(cur: Cursor, dialect: str | None) -> StatementInfo:
    cur.take("ALTER")
    cur.take("ONLINE")  # MariaDB: ALTER [ONLINE] [IGNORE] TABLE
    cur.take("IGNORE")
    if not cur.take("TABLE"):
        for word in _ALTER_OTHER:
            if cur.at(word):
                return StatementInfo("alter_other", object_type=word.lower())
        return StatementInfo("unknown")
    if_exists = cur.take("IF", "EXISTS")
    cur.take("ONLY")
    table = cur.name()
    if table is None:
        return StatementInfo("unknown")
    if _at_punct(cur, "*"):  # PostgreSQL: name * (the descendant tables too, the default)
        cur.pos += 1
    if cur.take("WAIT"):  # MariaDB: [WAIT n | NOWAIT] before the actions
        cur.pos += 1
    cur.take("NOWAIT")
    actions: list[AlterAction] = []
    options: dict[str, str] = {}
    listing = False  # the part before named partitions: MySQL's PARTITION p1, p2 ...
    parts = split_top_level(cur.rest())
    for part in parts:
        if listing and _more_partitions(part):
            # MySQL: DROP PARTITION p1, p2 (the names after the first); DISCARD PARTITION
            # p1, p2 TABLESPACE
            if actions[-1].kind in _PARTITION_KINDS or actions[-1].constraint:
                names = f"{actions[-1].constraint}, {part[0].text}"
                actions[-1] = dataclasses.replace(actions[-1], constraint=names)
            continue
        # REORGANIZE PARTITION p1, p2 INTO (...) lists its names too
        listing = (part[0].up in _PARTITION_LISTS | {"REORGANIZE"}
                   and any(t.up == "PARTITION" for t in part)
                   and not any(t.text == "(" for t in part))
        for one in _column_list(part) or [part]:
            action = _alter_action(Cursor(one), options)
            if action is not None:
                actions.append(action)
    rename = next((a for a in actions if a.kind == "rename_table"), None)
    # PostgreSQL 14+: DETACH PARTITION ... CONCURRENTLY cannot run in a transaction block.
    concurrently = dialect in (None, "postgres") and any(
        part[0].up == "DETACH" and any(t.up == "CONCURRENTLY" for t in part)
        for part in parts)
    return StatementInfo(
        "alter_table", table=table, if_exists=if_exists, actions=tuple(actions),
        options=options, new_name=Name(rename.new_name) if rename and rename.new_name else None,
        concurrently=concurrently,
    )


#: MySQL's actions that take a list of partition names (``ANALYZE PARTITION p1, p2``).
_PARTITION_LISTS = frozenset({"DROP", "TRUNCATE", "DISCARD", "IMPORT", "ANALYZE", "CHECK",
                              "OPTIMIZE", "REBUILD", "REPAIR"})


def _more_partitions(part: list[Tok]) -> bool:
    """Whether ``part`` is one more name of a partition list (``p2``, ``p2 TABLESPACE``,
    ``p2 INTO (...)``)."""
    return (part[0].kind in (WORD, QUOTED) and part[0].up != "FORCE"
            and (len(part) == 1 or (len(part) == 2 and part[1].up == "TABLESPACE")
                 or part[1].up == "INTO"))


def _column_list(part: list[Tok]) -> list[list[Tok]] | None:
    """MySQL's ``ADD [COLUMN] [IF NOT EXISTS] (c1 ..., c2 ...)`` as one ``ADD c ...`` each."""
    cur = Cursor(part)
    if not cur.take("ADD"):
        return None
    cur.take("COLUMN")
    cur.take("IF", "NOT", "EXISTS")
    if not _at_punct(cur, "("):
        return None
    body = _balanced(cur)
    if cur.peek() is not None or body[-1].text != ")":
        return None
    return [[part[0], *column] for column in split_top_level(body[1:-1])]


_PARTITION_ACTIONS = {"DROP": "drop_partition", "TRUNCATE": "truncate_partition"}
_PARTITION_KINDS = frozenset(_PARTITION_ACTIONS.values())


def _alter_action(cur: Cursor, options: dict[str, str]) -> AlterAction | None:
    first = cur.peek()
    if first is None:
        return None
    if cur.at("DROP|TRUNCATE", "PARTITION"):
        # MySQL: the partitions' rows go with them (``constraint`` names them; ALL: "all").
        cur.pos += 2
        cur.take("IF", "EXISTS")  # MariaDB
        partition = cur.name()
        return AlterAction(_PARTITION_ACTIONS[first.up],
                           constraint=partition.name if partition else None)
    if cur.take("DISCARD"):
        # MySQL: DISCARD [PARTITION p, ... | ALL] TABLESPACE deletes the data file.
        partitions = None
        if cur.take("PARTITION"):
            partitions = ", ".join(t.text for t in cur.rest()
                                   if t.kind in (WORD, QUOTED) and t.up != "TABLESPACE")
        return AlterAction("discard_tablespace", constraint=partitions)
    if cur.take("EXCHANGE", "PARTITION"):
        partition = cur.name()
        cur.take("WITH")
        cur.take("TABLE")
        other = cur.name()
        return AlterAction("exchange_partition",
                           constraint=partition.name if partition else None,
                           new_name=str(other) if other else None)
    if cur.at("ALGORITHM|LOCK") and cur.peek(1) is not None:
        key = cur.peek().up  # type: ignore[union-attr]
        value = cur.peek(2) if cur.peek(1) and cur.peek(1).text == "=" else cur.peek(1)  # type: ignore[union-attr]
        options[key] = value.up if value else ""
        return None
    if cur.take("ADD"):
        return _alter_add(cur)
    if cur.take("DROP"):
        return _alter_drop(cur)
    if cur.at("ALTER", "CHECK") or (cur.at("ALTER", "CONSTRAINT")
                                    and "ENFORCED" in _top_level_words(cur.rest())):
        # [NOT] ENFORCED: every row checked, or later writes no longer are (MySQL 8,
        # PostgreSQL 18)
        return _unknown_action(cur)
    if cur.at("ALTER", "CONSTRAINT|INDEX|KEY"):
        return _known_or_unknown(cur)
    if cur.take("ALTER"):
        cur.take("COLUMN")
        column = cur.name()
        col = column.name if column else None
        if cur.take("TYPE") or cur.take("SET", "DATA", "TYPE"):
            return AlterAction("alter_type", column=col, type=_type_text(cur))
        if cur.take("SET", "NOT", "NULL"):
            return AlterAction("set_not_null", column=col)
        if cur.take("DROP", "NOT", "NULL"):
            return AlterAction("drop_not_null", column=col)
        if cur.take("SET", "DEFAULT"):
            return AlterAction("set_default", column=col, default=render(cur.rest()))
        if cur.take("DROP", "DEFAULT"):
            return AlterAction("drop_default", column=col)
        action = _known_or_unknown(cur, _HARMLESS_COLUMN_ACTIONS)
        return dataclasses.replace(action, column=col)
    if cur.take("MODIFY"):
        cur.take("COLUMN")
        cur.take("IF", "EXISTS")  # MariaDB
        definition = _column_definition(cur.rest())
        if definition is None:
            return _unknown_action(cur)
        name, type_, not_null, default = definition
        return AlterAction("alter_type", column=name, type=type_, not_null=not_null,
                           default=default, redefines=True,
                           generated=_generated(cur.rest()[1:]))
    if cur.take("CHANGE"):
        cur.take("COLUMN")
        cur.take("IF", "EXISTS")  # MariaDB
        old = cur.name()
        definition = _column_definition(cur.rest())
        if old is None or definition is None:
            return _unknown_action(cur)
        name, type_, not_null, default = definition
        return AlterAction("alter_type", column=old.name, type=type_, not_null=not_null,
                           default=default, new_name=name if name != old.name else None,
                           redefines=True, generated=_generated(cur.rest()[1:]))
    if cur.take("RENAME"):
        if cur.take("COLUMN") or (cur.peek(1) is not None and cur.peek(1).up == "TO"  # type: ignore[union-attr]
                                  and not cur.at("TO")):
            old = cur.name()
            cur.take("TO")
            new = cur.name()
            return AlterAction("rename_column", column=old.name if old else None,
                               new_name=new.name if new else None)
        if cur.take("INDEX|KEY|CONSTRAINT"):
            return AlterAction("other")
        cur.take("TO|AS")
        new = cur.name()
        return AlterAction("rename_table", new_name=new.name if new else None)
    if cur.take("VALIDATE", "CONSTRAINT"):
        validated = cur.name()
        return AlterAction(
            "validate_constraint", constraint=validated.name if validated else None
        )
    if cur.at("SET", "LOGGED|UNLOGGED|TABLESPACE") or cur.at("SET", "ACCESS", "METHOD"):
        return AlterAction("rewrite", default=render(cur.toks)[:80])
    if cur.at("CONVERT", "TO") or cur.at("ENGINE") or cur.at("FORCE"):
        return AlterAction("table_option", default=cur.peek().up)  # type: ignore[union-attr]
    return _known_or_unknown(cur)


#: ALTER TABLE actions known to be harmless: they change neither rows, nor names the
#: running code uses, nor what later writes do, and rewrite nothing. Each is a run of
#: leading words ("(" stands for an opening parenthesis). Any action the classifier
#: neither models nor finds here is kind ``unknown`` (rule SG603): switchy-guard is not
#: sure what it does. Deliberately left out (so reported): DISABLE TRIGGER / RULE (later
#: writes skip what the trigger did: audit rows, derived columns, checks), ENABLE / DISABLE /
#: FORCE ROW LEVEL SECURITY (who sees which rows), SET SCHEMA (a rename for the running
#: code), INHERIT / NO INHERIT, ATTACH / DETACH PARTITION (rows appear in or leave the
#: table), SET UNLOGGED (a crash empties the table), SET LOGGED / TABLESPACE / ACCESS
#: METHOD, ORDER BY, ROW_FORMAT, ENCRYPTED, PAGE_COMPRESSED (rewrites under a lock no
#: other rule reports), REPAIR PARTITION (may drop rows it cannot read), ALTER COLUMN ...
#: SET / DROP / ADD GENERATED, RESTART, DROP IDENTITY (what later inserts do), SET
#: EXPRESSION (a rewrite), SET INVISIBLE (SELECT * stops returning the column).
_HARMLESS_POSTGRES: tuple[tuple[str, ...], ...] = (
    ("OWNER", "TO"),  # who owns it; rows and names stay
    ("CLUSTER", "ON"), ("SET", "WITHOUT", "CLUSTER"),  # marks an index for a later CLUSTER
    ("SET", "WITHOUT", "OIDS"),  # a no-op since PostgreSQL 12
    ("SET", "("), ("RESET", "("),  # storage parameters: fillfactor, autovacuum_*, ...
    ("REPLICA", "IDENTITY"),  # what logical replication logs of a changed row
    ("ENABLE", "TRIGGER"), ("ENABLE", "REPLICA", "TRIGGER"),  # back to what the trigger
    ("ENABLE", "ALWAYS", "TRIGGER"), ("ENABLE", "RULE"),  # was created to do
    ("ENABLE", "REPLICA", "RULE"), ("ENABLE", "ALWAYS", "RULE"),
    ("ALTER", "CONSTRAINT"),  # DEFERRABLE / INITIALLY DEFERRED of a foreign key
)
_HARMLESS_MYSQL: tuple[tuple[str, ...], ...] = (
    # table options that rewrite nothing and change no stored value
    ("COMMENT",), ("AUTO_INCREMENT",), ("AVG_ROW_LENGTH",), ("CHECKSUM",),
    ("TABLE_CHECKSUM",), ("DEFAULT", "CHARACTER", "SET"), ("CHARACTER", "SET"),
    ("DEFAULT", "CHARSET"), ("CHARSET",), ("DEFAULT", "COLLATE"), ("COLLATE",),
    ("DELAY_KEY_WRITE",), ("MAX_ROWS",), ("MIN_ROWS",), ("PACK_KEYS",),
    ("STATS_AUTO_RECALC",), ("STATS_PERSISTENT",), ("STATS_SAMPLE_PAGES",),
    ("ENABLE", "KEYS"), ("DISABLE", "KEYS"),  # MyISAM: when non-unique indexes update
    ("ALTER", "INDEX"), ("ALTER", "KEY"),  # MariaDB [NOT] IGNORED, MySQL [IN]VISIBLE
    ("ANALYZE", "PARTITION"), ("CHECK", "PARTITION"),  # read the rows, change none
    # the rows stay, spread over other partitions or rebuilt in place
    ("REORGANIZE", "PARTITION"), ("COALESCE", "PARTITION"), ("REBUILD", "PARTITION"),
    ("OPTIMIZE", "PARTITION"), ("REMOVE", "PARTITIONING"), ("PARTITION", "BY"),
    ("IMPORT", "TABLESPACE"), ("IMPORT", "PARTITION"),  # a discarded data file back
)
_HARMLESS_ACTIONS = _HARMLESS_POSTGRES + _HARMLESS_MYSQL
#: ALTER [COLUMN] c ... actions known to be harmless (PostgreSQL): planner statistics,
#: TOAST storage and compression of values written later, per-column options.
_HARMLESS_COLUMN_ACTIONS: tuple[tuple[str, ...], ...] = (
    ("SET", "STATISTICS"), ("SET", "STORAGE"), ("SET", "COMPRESSION"), ("SET", "("),
    ("RESET", "("),
)
#: MySQL/MariaDB table options may follow each other without commas (``COMMENT = 'x'
#: ROW_FORMAT = DYNAMIC``): each must be harmless.
_TABLE_OPTIONS = frozenset(words[0] for words in _HARMLESS_MYSQL if len(words) == 1) | {
    "DEFAULT", "CHARACTER"}


def _starts_with(cur: Cursor, words: tuple[str, ...]) -> bool:
    for offset, word in enumerate(words):
        tok = cur.peek(offset)
        if tok is None or (tok.up != word and not (word == "(" and tok.text.startswith("("))):
            return False
    return True


def _known_or_unknown(cur: Cursor, known: tuple[tuple[str, ...], ...] = _HARMLESS_ACTIONS,
                      ) -> AlterAction:
    """``other`` for an action on the harmless list, else ``unknown`` (SG603)."""
    match = next((words for words in known if _starts_with(cur, words)), None)
    if match is None:
        return _unknown_action(cur)
    if match[0] in _TABLE_OPTIONS and not _only_harmless_options(cur):
        return _unknown_action(cur)
    return AlterAction("other")


def _only_harmless_options(cur: Cursor) -> bool:
    """Whether every ``name [=] value`` table option from ``cur`` is on the list."""
    toks, index = cur.toks, cur.pos
    while index < len(toks):
        words = next((w for w in _HARMLESS_MYSQL if _starts_with(Cursor(toks, index), w)),
                     None)
        if words is None or words[0] not in _TABLE_OPTIONS:
            return False
        index += len(words)
        if index < len(toks) and toks[index].text == "=":
            index += 1
        index += 1  # the value
    return True


def _unknown_action(cur: Cursor) -> AlterAction:
    """An action switchy-guard does not know to be harmless; ``default`` holds its text."""
    return AlterAction("unknown", default=render(cur.toks)[:80])


def _constraint_kind(cur: Cursor) -> str | None:
    if cur.take("FOREIGN", "KEY"):
        return "foreign_key"
    if cur.take("PRIMARY", "KEY"):
        return "primary_key"
    if cur.take("UNIQUE"):
        cur.take("INDEX|KEY")
        return "unique"
    if cur.take("CHECK"):
        return "check"
    if cur.take("EXCLUDE"):
        return "exclude"
    if cur.at("FULLTEXT|SPATIAL"):  # MySQL: built while writes wait
        special = cur.toks[cur.pos].up.lower()
        cur.pos += 1
        cur.take("INDEX|KEY")
        return special
    if cur.take("INDEX|KEY"):
        return "index"
    return None


_INDEX_KINDS = frozenset({"index", "fulltext", "spatial"})


def _alter_add(cur: Cursor) -> AlterAction:
    if cur.at("PARTITION"):
        return AlterAction("other")  # MySQL: ADD PARTITION (PARTITION p ...), no column
    if cur.at("SYSTEM", "VERSIONING") or cur.at("PERIOD", "FOR"):
        return _unknown_action(cur)  # MariaDB's history rows and periods: no column
    # MySQL/MariaDB: ADD CONSTRAINT [symbol] PRIMARY KEY ...: the symbol may be left out
    named = None
    if cur.take("CONSTRAINT") and not cur.at("PRIMARY|UNIQUE|FOREIGN|CHECK"):
        named = cur.name()
    kind = _constraint_kind(cur)
    if kind is not None:
        # PostgreSQL: ``UNIQUE USING INDEX i`` adopts a built index (``UNIQUE (c) USING
        # INDEX TABLESPACE t`` builds one); NOT VALID follows the constraint's body.
        using_index = cur.at("USING", "INDEX")
        words = _top_level_words(cur.rest())
        not_valid = ("NOT", "VALID") in itertools.pairwise(words)
        return AlterAction(
            "add_index" if kind in _INDEX_KINDS else "add_constraint", constraint=kind,
            not_valid=not_valid, using_index=using_index,
            name=named.name if named else None,
        )
    cur.take("COLUMN")
    cur.take("IF", "NOT", "EXISTS")
    definition = _column_definition(cur.rest())
    if definition is None:
        return _unknown_action(cur)
    name, type_, not_null, default = definition
    words = _top_level_words(cur.rest()[1:])
    generated = _generated(cur.rest()[1:])
    storage = None
    if generated == "expression":  # the words after its (expression), not the statement's
        storage = ("stored" if {"STORED", "PERSISTENT"} & set(words)
                   else "virtual" if "VIRTUAL" in words else None)
    return AlterAction("add_column", column=name, type=type_, not_null=not_null,
                       default=default, position="FIRST" in words or "AFTER" in words,
                       generated=generated, storage=storage,
                       inline=tuple(_INLINE[w] for w in words if w in _INLINE))


_INLINE = {"UNIQUE": "unique", "PRIMARY": "primary_key", "REFERENCES": "foreign_key",
           "CHECK": "check"}


def _top_level_words(toks: list[Tok]) -> list[str]:
    """The upper-case keywords of ``toks`` outside parentheses."""
    words, depth = [], 0
    for tok in toks:
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
        elif depth == 0 and tok.kind == WORD:
            words.append(tok.up)
    return words


def _generated(toks: list[Tok]) -> str | None:
    """How a column definition's values are generated (see ``AlterAction.generated``)."""
    depth = 0
    for index, tok in enumerate(toks):
        if tok.kind == PUNCT:
            depth += tok.text.count("(") - tok.text.count(")")
            continue
        if depth or tok.kind != WORD:
            continue
        if tok.up == "AUTO_INCREMENT":
            return "auto_increment"
        if tok.up == "AS":  # IDENTITY alone is a name (REFERENCES identity), not a kind
            following = toks[index + 1] if index + 1 < len(toks) else None
            if following is not None and following.up == "IDENTITY":
                return "identity"
            if following is not None and following.text == "(":
                return "expression"
    return None


def _alter_drop(cur: Cursor) -> AlterAction:
    if cur.at("SYSTEM", "VERSIONING") or cur.at("PERIOD", "FOR"):
        return _unknown_action(cur)  # MariaDB: DROP SYSTEM VERSIONING deletes the history
    if cur.take("CONSTRAINT") or cur.take("FOREIGN", "KEY") or cur.take("CHECK"):
        cur.take("IF", "EXISTS")
        name = cur.name()
        return AlterAction("drop_constraint", constraint=name.name if name else None)
    if cur.take("PRIMARY", "KEY"):
        return AlterAction("drop_constraint", constraint="primary_key")
    if cur.take("INDEX|KEY"):
        cur.take("IF", "EXISTS")  # MariaDB
        name = cur.name()
        return AlterAction("drop_index", constraint=name.name if name else None)
    if cur.take("DEFAULT"):
        return AlterAction("drop_default")
    cur.take("COLUMN")
    cur.take("IF", "EXISTS")
    name = cur.name()
    return AlterAction("drop_column", column=name.name if name else None)


def _type_text(cur: Cursor) -> str:
    toks = []
    for tok in cur.rest():
        if tok.kind == WORD and tok.up in ("USING", "COLLATE"):
            break
        toks.append(tok)
    return render(toks).lower()


def _do(cur: Cursor, dialect: str | None) -> StatementInfo:
    """PostgreSQL's ``DO [LANGUAGE l] code [LANGUAGE l]``: an anonymous block, with its
    language (lower case; plpgsql when none is named) as ``object_type``.

    MySQL's ``DO expr, ...`` evaluates expressions and runs no block: ``object_type`` is
    None for it, as for any DO whose code is not a string literal.
    """
    toks, index = cur.toks, 1
    language, code = None, False
    while index < len(toks):
        tok = toks[index]
        if tok.kind == WORD and tok.up == "LANGUAGE" and index + 1 < len(toks):
            name = toks[index + 1]
            language = name.text if name.kind == QUOTED else name.text.strip("'").lower()
            index += 2
        elif tok.kind == STRING and not code:
            code = True
            index += 1
        else:
            break
    if dialect == "sqlite":
        return StatementInfo("unknown")  # no DO statement in SQLite
    if dialect == "mysql" or not code:
        return StatementInfo("do")
    return StatementInfo("do", object_type=language or "plpgsql")


def _prepare(cur: Cursor, dialect: str | None) -> StatementInfo:
    """``PREPARE name FROM ...`` (MySQL) or ``PREPARE name [(types)] AS statement``
    (PostgreSQL): defines a statement, runs nothing; its EXECUTE runs it (see
    sql/prepared.py)."""
    cur.take("PREPARE")
    after = cur.peek(1)
    if cur.at("TRANSACTION") and after is not None and after.kind == STRING:
        # PostgreSQL's PREPARE TRANSACTION 'id': the session's transaction ends (kept for
        # a later COMMIT PREPARED), as at a COMMIT.
        return StatementInfo("commit", object_type="prepared")
    return StatementInfo("prepare", table=cur.name())


def _execute(cur: Cursor, dialect: str | None) -> StatementInfo:
    """``EXECUTE name`` runs a prepared statement; ``EXECUTE IMMEDIATE`` (MariaDB) a
    string. Alone, what runs is unknown (SG603): sql/prepared.py replaces it with what
    the migration prepared under that name, or the literal, where it can read them."""
    cur.take("EXECUTE")
    if cur.take("IMMEDIATE"):
        return StatementInfo(DYNAMIC, object_type="immediate")
    return StatementInfo(DYNAMIC, table=cur.name(), object_type="prepared")


def _deallocate(cur: Cursor, dialect: str | None) -> StatementInfo:
    """``DEALLOCATE [PREPARE] name`` (and MySQL's ``DROP PREPARE``): forgets a prepared
    statement of the session."""
    return StatementInfo("other", object_type="prepared")


def _reset(cur: Cursor, dialect: str | None) -> StatementInfo:
    """PostgreSQL's ``RESET setting``: a session setting. MySQL's RESET MASTER (BINARY
    LOGS) deletes the binary logs, RESET SLAVE/REPLICA the replication state: those stay
    unknown (SG603), they destroy what point-in-time recovery needs."""
    second = cur.peek(1)
    if second is not None and second.up in ("MASTER", "SLAVE", "REPLICA", "BINARY"):
        return StatementInfo("unknown")
    return StatementInfo("set")


def _flush(cur: Cursor, dialect: str | None) -> StatementInfo:
    """MySQL's FLUSH: reloads caches and logs; ``FLUSH TABLES ... WITH READ LOCK`` (or
    ``FOR EXPORT``) also locks the tables."""
    words = {t.up for t in cur.toks}
    return StatementInfo("lock" if "LOCK" in words or "EXPORT" in words else "maintenance")


_HANDLERS = {
    "PREPARE": _prepare,
    "EXECUTE": _execute,
    "DEALLOCATE": _deallocate,
    "RESET": _reset,
    "FLUSH": _flush,
    "CREATE": _create,
    "DO": _do,
    "DROP": _drop,
    "ALTER": _alter,
    "TRUNCATE": _truncate,
    "DELETE": _delete,
    "UPDATE": _update,
    "RENAME": _rename,
}
