"""The splitter and tokenizer against each real server, on generated hostile inputs.

Each input is a seeded random sequence of probe statements (``INSERT INTO probe VALUES
(n)``) and fragments that may hide or reveal them: comment openers and closers, every
quoting style of the dialect, line ends (LF, CR, CRLF, form feed, vertical tab), NUL, a
BOM, nested and unterminated comments, session changes that alter how strings read. For
each input, what switchy-guard sees (the probes its statements' tokens hold) is compared
with what the server executes:

- the runner's way: the splitter's statements sent one by one (as the runner sends them;
  PostgreSQL runs several statements sent at once, so a statement the splitter hid
  inside another would run): every probe row inserted must be one switchy-guard saw, or
  sit in a statement it doubts (SG603);
- the server's own boundaries: the whole text run as one multi-statement script
  (PostgreSQL's simple query protocol, MariaDB with CLIENT.MULTI_STATEMENTS, SQLite's
  executescript): when it runs without an error, exactly the probes switchy-guard saw ran
  (MariaDB's version-gated ``/*!99999 */`` excepted: read as code, the safe way);
- PostgreSQL only: pglast's scanner (the server's own lexer) gives the same probes and
  the same statement grouping.
"""

from __future__ import annotations

import random
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from switchy_guard.sql.classify import WORD, classify, tokenize
from switchy_guard.sql.split import Statement, split_statements

CASES = 400
PROBE = "INSERT INTO probe VALUES ({})"
_EOLS = ["\n", "\r", "\r\n", "\f", "\v", "\t", " ", ""]
_COMMON = ["-- c", "/* c", "*/", "'", "''", '"', "\\", ";", "/* a /* b */", "SELECT 1", "--"]
_FRAGMENTS: dict[str, list[str]] = {
    "postgres": [*_COMMON,
        "E'\\'", "e'a\\\\'", "$$", "$a$", "$€$", "1$a$", "a$a$", "U&'", "b'", "/*/", "/* */*",
        "SET standard_conforming_strings = off;", "SET standard_conforming_strings = on;",
        "SELECT set_config('standard_conforming_strings', 'off', false);", "\ufeff",
    ],
    "mysql": [*_COMMON,
        "#", "--x", "--\x01", "--\x7f", "/*!", "/*M!", "/*!50000", "/*!99999", "`", "\\'",
        '\\"', "\x00", "''", "SET sql_mode='NO_BACKSLASH_ESCAPES';", "SET sql_mode='ANSI';",
        "SET sql_mode=DEFAULT;", "\ufeff",
    ],
    "sqlite": [*_COMMON, "[", "]", "`", "#", "\x00", "\ufeff"],
}


def hostile_inputs(kind: str, seed: int = 14) -> Iterator[str]:
    """Fixed tricky cases, then seeded random combinations of the dialect's fragments."""
    yield "SELECT 1 -- harmless\r; " + PROBE.format(1) + ";"
    yield "DELETE FROM probe # WHERE n = 1\n; " + PROBE.format(1) + ";"
    yield "SELECT 1--1; " + PROBE.format(1) + ";"
    yield f"/*! {PROBE.format(1)} */; {PROBE.format(2)};"
    yield f"SET standard_conforming_strings = off; SELECT '\\'; {PROBE.format(1)}; SELECT ';"
    yield f"SELECT 1 /* /* */ ; {PROBE.format(1)}; */; {PROBE.format(2)};"
    rng = random.Random(f"{seed}-{kind}")
    fragments = _FRAGMENTS[kind]
    for _ in range(CASES):
        parts: list[str] = []
        probe = 0
        for _ in range(rng.randint(2, 9)):
            if rng.random() < 0.55:
                probe += 1
                parts.append(PROBE.format(probe) + rng.choice([";", ";", ";\n", ""]))
            else:
                parts.append(rng.choice(fragments) + rng.choice(_EOLS))
        yield rng.choice(["", " ", "\n"]).join(parts)


_PROBE_TOKENS = ("INSERT", "INTO", "PROBE", "VALUES", "(")


def seen_probes(statement: Statement, kind: str) -> set[int]:
    """The probes among a statement's tokens, as the rules' tokenizer reads them."""
    toks = tokenize(statement.text, kind)
    found = set()
    for index in range(len(toks) - 6):
        window = toks[index : index + 7]
        if (all(t.kind == WORD or t.text == "(" for t in window[:5])
                and tuple(t.up for t in window[:5]) == _PROBE_TOKENS
                and window[5].text.isdigit() and window[6].text == ")"):
            found.add(int(window[5].text))
    return found


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"VALUES \((\d+)\)", text)}


# -- the servers --------------------------------------------------------------------


class _Postgres:
    def __init__(self, url: str) -> None:
        import psycopg

        u = make_url(url)
        self.conn = psycopg.connect(host=u.host, port=u.port, user=u.username,
                                    password=u.password, dbname=u.database, autocommit=True)
        self.conn.execute("CREATE TABLE probe (n int)")

    def script(self, text: str) -> str | None:
        if "\x00" in text:
            return "NUL"  # libpq would cut the text at the NUL: never sent
        result = self.conn.pgconn.exec_(text.encode())  # the simple query protocol
        error = result.error_message.decode()
        return error or None

    def one(self, text: str) -> None:
        self.conn.execute(text.encode())  # type: ignore[call-overload]

    def rows(self) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT n FROM probe")}

    def reset(self) -> None:
        self.conn.execute("RESET ALL")
        self.conn.execute("DELETE FROM probe")


class _MariaDB:
    def __init__(self, url: str) -> None:
        import pymysql
        from pymysql.constants import CLIENT

        u = make_url(url)
        options: dict[str, Any] = dict(host=u.host, port=u.port, user=u.username,
                                       password=u.password, database=u.database,
                                       autocommit=True)
        self.multi = pymysql.connect(**options, client_flag=CLIENT.MULTI_STATEMENTS)
        self.conn = pymysql.connect(**options)  # as the runner: one statement a call
        with self.conn.cursor() as cur:
            cur.execute("CREATE TABLE probe (n int)")

    def script(self, text: str) -> str | None:
        with self.multi.cursor() as cur:
            try:
                cur.execute(text)
                while cur.nextset():
                    pass
            except Exception as exc:  # any refusal counts as an error
                self.multi.close()
                self.multi.connect()
                return str(exc)
        return None

    def one(self, text: str) -> None:
        with self.conn.cursor() as cur:
            cur.execute(text)

    def rows(self) -> set[int]:
        with self.conn.cursor() as cur:
            cur.execute("SELECT n FROM probe")
            return {row[0] for row in cur.fetchall()}

    def reset(self) -> None:
        for conn in (self.conn, self.multi):
            with conn.cursor() as cur:
                cur.execute("SET sql_mode=DEFAULT")
                cur.execute("DELETE FROM probe")


class _SQLite:
    def __init__(self, url: str) -> None:
        self.conn = sqlite3.connect(make_url(url).database or ":memory:",
                                    isolation_level=None)
        self.conn.execute("CREATE TABLE probe (n int)")

    def script(self, text: str) -> str | None:
        try:
            self.conn.executescript(text)
        except (sqlite3.Error, ValueError) as exc:
            return str(exc)
        return None

    def one(self, text: str) -> None:
        self.conn.execute(text)  # as the runner (sqlite3 refuses a second statement)

    def rows(self) -> set[int]:
        return {row[0] for row in self.conn.execute("SELECT n FROM probe")}

    def reset(self) -> None:
        self.conn.execute("DELETE FROM probe")


SERVERS: dict[str, Callable[[str], Any]] = {
    "postgres": _Postgres, "mysql": _MariaDB, "sqlite": _SQLite,
}


def _explain(text: str, statements: list[Statement], seen: set[int], ran: set[int],
             how: str) -> str:
    return (f"{how}: the server ran probes {sorted(ran)}, switchy-guard saw {sorted(seen)}\n"
            f"input: {text!r}\nstatements: {[s.text for s in statements]!r}")


def test_splitter_agrees_with_the_server(db_url: str, db_kind: str) -> None:
    server = SERVERS[db_kind](db_url)
    checked_whole = 0
    for text in hostile_inputs(db_kind):
        statements = split_statements(text, db_kind)
        seen = set().union(*(seen_probes(s, db_kind) for s in statements))
        # Statements SG603 reports (doubted, or of no kind the rules know) are not passed
        # silently: a probe in one may run.
        doubted = set().union(*(_numbers(s.text) for s in statements
                                if s.doubt or classify(s.text, db_kind).kind == "unknown"))
        # The runner's way: statement by statement (errors do not stop the next here).
        server.reset()
        for statement in statements:
            with suppress(Exception):
                server.one(statement.text)
        ran = server.rows()
        assert ran <= seen | doubted, _explain(text, statements, seen, ran, "one by one")
        # The server's own boundaries: the whole text at once.
        server.reset()
        error = server.script(text)
        ran = server.rows()
        assert ran <= seen | doubted, _explain(text, statements, seen, ran, "whole text")
        if error is None and "/*!99999" not in text and "/*M!" not in text:
            checked_whole += 1
            assert ran == seen, _explain(text, statements, seen, ran, "whole text")
    # The generator must keep producing inputs a server runs, or the test proves little.
    assert checked_whole >= 40, checked_whole


@pytest.mark.only_on("postgres")
def test_splitter_agrees_with_pglast_scanner(db_kind: str) -> None:
    from pglast import parser  # the PostgreSQL lexer, for the tests only

    compared = 0
    for text in hostile_inputs("postgres", seed=15):
        body = text.removeprefix("\ufeff")
        if "\x00" in body or "standard_conforming_strings" in body:
            continue  # pglast scans with the default settings, and no NUL
        try:
            tokens = parser.scan(body)
        except parser.ParseError:
            continue
        # The probes pglast's tokens hold, and which statement (by ;) each is in.
        theirs: dict[int, int] = {}
        words: list[tuple[str, int]] = []
        for token in tokens:
            if token.name in ("SQL_COMMENT", "C_COMMENT"):
                continue
            value = body[token.start : token.end + 1]  # offsets in characters
            words.append((value.upper(), len([w for w in words if w[0] == ";"])))
        for index in range(len(words) - 6):
            window = [w for w, _ in words[index : index + 7]]
            if window[:5] == list(_PROBE_TOKENS) and window[5].isdigit() and window[6] == ")":
                theirs[int(window[5])] = words[index][1]
        statements = split_statements(body, "postgres")
        ours = {n: i for i, s in enumerate(statements) for n in seen_probes(s, "postgres")}
        assert set(ours) == set(theirs), _explain(body, statements, set(ours), set(theirs),
                                                  "pglast")
        together = {(a, b) for a in ours for b in ours if ours[a] == ours[b]}
        assert together == {(a, b) for a in theirs for b in theirs if theirs[a] == theirs[b]}
        compared += 1
    assert compared >= 40, compared


def test_inputs_are_bounded_and_seeded() -> None:
    first = list(hostile_inputs("mysql"))
    assert first == list(hostile_inputs("mysql")) and len(first) == CASES + 6
