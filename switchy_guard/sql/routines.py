"""Routines and triggers a migration creates and then runs.

``CREATE FUNCTION purge() ... AS $$ DELETE FROM users $$; SELECT purge();`` deletes every
row as surely as a DELETE written in the file, and so does a trigger the migration
creates and then fires with an INSERT. :func:`with_routines` remembers the bodies of the
functions, procedures and triggers created in the migration, and after each later
statement that calls one (``SELECT f()``, ``CALL p()``, ``PERFORM f()``, a function in any
expression, a DEFAULT, an index expression) or fires one (an INSERT, UPDATE, DELETE,
REPLACE, upsert, TRUNCATE, COPY ... FROM or LOAD DATA on the trigger's table for its
event) puts the statements the body runs, as :mod:`switchy_guard.sql.blocks` reads them:
placed at the calling statement, with ``block`` set to it and ``via`` naming the routine.

Bodies read: PostgreSQL functions and procedures in SQL (``AS $$ ... $$``, ``AS '...'``,
``BEGIN ATOMIC ... END``) and PL/pgSQL, and triggers through their function; MariaDB and
MySQL procedures, functions and triggers (a ``BEGIN ... END`` body or one statement);
SQLite triggers; PostgreSQL rules (``CREATE RULE ... DO ALSO DELETE ...``), whose
commands run like a trigger's body. A body in another language (plpython3u, C, ...)
cannot be read: running it is a statement of kind ``unknown`` (rule SG603). Dynamic SQL
in a body is what sql/blocks.py makes of it (a string literal is read, anything else is
``dynamic``).

Routines created by an earlier migration are not known here (their bodies are in the
database, not in the migration): calling them is not analysed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from switchy_guard.sql import blocks
from switchy_guard.sql.classify import PUNCT, QUOTED, WORD, StatementInfo, tokenize
from switchy_guard.sql.split import Statement

_ROUTINE_KINDS = frozenset({"function", "procedure", "trigger", "rule"})
# Statement kinds whose expressions run when they run (functions in them are called).
_EVALUATES = frozenset({"select", "insert", "update", "delete", "call", "set", "other",
                        "copy", "create_table", "alter_table", "create_index", "unknown",
                        "load"})
_EVENTS = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE",
           "truncate": "TRUNCATE", "copy": "INSERT", "load": "INSERT"}
_UPSERT = re.compile(r"\bON\s+(?:CONFLICT\b[\s\S]*\bDO\s+UPDATE|DUPLICATE\s+KEY\s+UPDATE)\b",
                     re.IGNORECASE)
_COPY_FROM = re.compile(r"\s*COPY\s+([\w\".]+)[\s\S]*?\bFROM\b", re.IGNORECASE)
_LOAD_INTO = re.compile(r"[\s\S]*?\bINTO\s+TABLE\s+([\w`.]+)", re.IGNORECASE)
_MY_CHARACTERISTICS = frozenset({"LANGUAGE", "NOT", "DETERMINISTIC", "CONTAINS", "NO",
                                 "READS", "MODIFIES", "SQL", "DATA", "SECURITY", "DEFINER",
                                 "INVOKER", "COMMENT"})
_MY_TYPE_WORDS = frozenset({"UNSIGNED", "SIGNED", "ZEROFILL", "BINARY", "CHARSET",
                            "CHARACTER", "SET", "COLLATE"})


@dataclass(frozen=True)
class _Body:
    """Where a routine's body is in its CREATE statement's text, and how to read it:
    ``plpgsql``, ``compound`` (MariaDB/MySQL), ``sql`` (PostgreSQL SQL), ``sqlite``, or
    another language's name (not read)."""

    start: int
    end: int
    mode: str
    literal: bool = False  # the body is a string literal (``AS $$ ... $$``)


@dataclass(frozen=True)
class _Routine:
    kind: str  # function, procedure, trigger
    name: str
    statement: Statement
    body: _Body | None
    table: str | None = None  # a trigger's table
    events: frozenset[str] = frozenset()  # a trigger's events
    function: str | None = None  # PostgreSQL: the function a trigger executes

    def describe(self) -> str:
        if self.kind in ("trigger", "rule"):
            return f"{self.kind} {self.name} on {self.table}"
        return f"{self.kind} {self.name}()"


def _name_after(code: Sequence[blocks._Tok], index: int) -> tuple[str | None, int]:
    """A possibly qualified name at ``code[index]`` (its last part, unquoted names
    lower-cased), and the index after it."""
    name = None
    while index < len(code) and code[index].kind in ("word", "quoted"):
        tok = code[index]
        name = tok.text.lower() if tok.kind == "word" else tok.text[1:-1]
        index += 1
        if index < len(code) and code[index].text == "." and code[index].kind == "punct":
            index += 1
            continue
        break
    return name, index


def _skip_parens(code: Sequence[blocks._Tok], index: int) -> int:
    """The index after the parenthesised group at ``index`` (``index`` when none)."""
    if index >= len(code) or code[index].text != "(":
        return index
    depth = 0
    for at in range(index, len(code)):
        if code[at].kind == "punct":
            depth += (code[at].text == "(") - (code[at].text == ")")
            if depth == 0:
                return at + 1
    return len(code)


def _last_end(code: Sequence[blocks._Tok]) -> int | None:
    return next((i for i in range(len(code) - 1, -1, -1) if code[i].up == "END"), None)


def _postgres_routine(text: str, kind: str) -> tuple[str | None, _Body | None]:
    code, _ = blocks._tokens(text, True)
    at = next((i for i, t in enumerate(code) if t.up == kind.upper()), None)
    if at is None:
        return None, None
    name, index = _name_after(code, at + 1)
    language = None
    body: _Body | None = None
    depth = 0
    while index < len(code):
        tok = code[index]
        if tok.kind == "punct":
            depth += (tok.text == "(") - (tok.text == ")")
        elif depth == 0 and tok.up == "LANGUAGE" and index + 1 < len(code):
            following = code[index + 1]
            language = (following.text.strip("'\"") if following.kind != "word"
                        else following.text).lower()
            index += 1
        elif depth == 0 and tok.up == "AS" and index + 1 < len(code) \
                and code[index + 1].kind == "string" and body is None:
            string = code[index + 1]
            body = _Body(string.start, string.start + len(string.text), "", literal=True)
            index += 1
        elif (depth == 0 and tok.up == "BEGIN" and index + 1 < len(code)
              and code[index + 1].up == "ATOMIC"):
            end = _last_end(code)
            stop = code[end].start if end is not None and end > index else len(text)
            return name, _Body(code[index + 1].start + len("ATOMIC"), stop, "sql")
        elif depth == 0 and tok.up == "RETURN" and body is None:
            return name, None  # RETURN expression: SQL-standard, it cannot write
        index += 1
    if body is None:
        return name, None
    return name, replace(body, mode=language or "sql")


def _mysql_routine(text: str, kind: str) -> tuple[str | None, _Body | None]:
    code, _ = blocks._tokens(text, False)
    at = next((i for i, t in enumerate(code) if t.up == kind.upper()), None)
    if at is None:
        return None, None
    index = at + 1
    if index + 2 < len(code) and [t.up for t in code[index:index + 3]] == ["IF", "NOT",
                                                                           "EXISTS"]:
        index += 3
    name, index = _name_after(code, index)
    index = _skip_parens(code, index)
    if kind == "function" and index < len(code) and code[index].up == "RETURNS":
        index = _skip_parens(code, index + 2)
        while index < len(code) and code[index].up in _MY_TYPE_WORDS:
            index += 1 if code[index].up in ("UNSIGNED", "SIGNED", "ZEROFILL", "BINARY") \
                else 2 + (code[index].up == "CHARACTER")
    while index < len(code) and code[index].up in _MY_CHARACTERISTICS:
        index += 2 if code[index].up == "COMMENT" else 1
    if index >= len(code):
        return name, None
    return name, _Body(code[index].start, len(text), "compound")


def _trigger(text: str, dialect: str | None) -> _Routine | None:
    """A CREATE TRIGGER statement's name, table, events and body (or function)."""
    postgres = dialect == "postgres"
    code, _ = blocks._tokens(text, postgres or dialect is None)
    at = next((i for i, t in enumerate(code) if t.up == "TRIGGER"), None)
    if at is None:
        return None
    index = at + 1
    if index + 2 < len(code) and [t.up for t in code[index:index + 3]] == ["IF", "NOT",
                                                                           "EXISTS"]:
        index += 3
    name, index = _name_after(code, index)
    events: set[str] = set()
    while index < len(code) and code[index].up != "ON":
        if code[index].up in ("INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            events.add(code[index].up)
        index += 1
    table, index = _name_after(code, index + 1)
    if name is None or table is None:
        return None
    rest = [t.up for t in code[index:]]
    for word in ("FUNCTION", "PROCEDURE"):
        if "EXECUTE" in rest and word in rest[rest.index("EXECUTE"):]:
            function_at = index + rest.index("EXECUTE") + rest[rest.index("EXECUTE"):].index(word)
            function, _ = _name_after(code, function_at + 1)
            return _Routine("trigger", name, _dummy(), None, table, frozenset(events),
                            function)
    if dialect == "sqlite" or (dialect is None and "BEGIN" in rest and "ROW" not in rest):
        begin = index + rest.index("BEGIN") if "BEGIN" in rest else None
        end = _last_end(code)
        if begin is None or end is None or end <= begin:
            return None
        body = _Body(code[begin].start + len("BEGIN"), code[end].start, "sqlite")
    else:
        while index < len(code) and code[index].up in ("FOR", "EACH", "ROW"):
            index += 1
        if index < len(code) and code[index].up in ("FOLLOWS", "PRECEDES"):
            _, index = _name_after(code, index + 1)
        if index >= len(code):
            return None
        body = _Body(code[index].start, len(text), "compound")
    return _Routine("trigger", name, _dummy(), body, table, frozenset(events))


def _rule(text: str) -> _Routine | None:
    """A PostgreSQL CREATE RULE: ``AS ON event TO table [WHERE ...] DO [ALSO | INSTEAD]``
    and its commands, which run like a trigger's body whenever the event happens."""
    code, _ = blocks._tokens(text, True)
    at = next((i for i, t in enumerate(code) if t.up == "RULE"), None)
    if at is None:
        return None
    name, index = _name_after(code, at + 1)
    words = [t.up for t in code]
    if "ON" not in words[index:] or "DO" not in words[index:]:
        return None
    on = words.index("ON", index)
    event = words[on + 1] if on + 1 < len(words) else ""
    to = words.index("TO", on) if "TO" in words[on:] else None
    table, _ = _name_after(code, to + 1) if to is not None else (None, 0)
    do = words.index("DO", on)
    start = do + 1
    if start < len(code) and code[start].up in ("ALSO", "INSTEAD"):
        start += 1
    if name is None or table is None or start >= len(code) or code[start].up == "NOTHING":
        return None
    begin, end = code[start].start, len(text)
    if code[start].text == "(":
        closing = _last_close(code)
        begin, end = begin + 1, code[closing].start if closing is not None else end
    return _Routine("rule", name, _dummy(), _Body(begin, end, "sql"), table,
                    frozenset({event}))


def _last_close(code: Sequence[blocks._Tok]) -> int | None:
    return next((i for i in range(len(code) - 1, -1, -1) if code[i].text == ")"), None)


def _dummy() -> Statement:
    return Statement("", 0, 0, 0, 0)


def _routine(statement: Statement, info: StatementInfo, dialect: str | None) -> _Routine | None:
    """What the CREATE FUNCTION/PROCEDURE/TRIGGER ``statement`` defines."""
    kind = info.object_type or ""
    if kind in ("trigger", "rule"):
        trigger = _trigger(statement.text, dialect) if kind == "trigger" else (
            _rule(statement.text) if dialect in ("postgres", None) else None)
        return replace(trigger, statement=statement) if trigger else None
    if dialect == "postgres" or (dialect is None and "$" in statement.text):
        name, body = _postgres_routine(statement.text, kind)
    elif dialect == "sqlite":
        return None
    else:
        name, body = _mysql_routine(statement.text, kind)
    return _Routine(kind, name, statement, body) if name else None


class _Runner:
    """The routines known at a point of the migration, and what running them runs."""

    def __init__(self, dialect: str | None) -> None:
        self.dialect = dialect
        self.routines: dict[str, _Routine] = {}
        self.triggers: dict[str, _Routine] = {}

    def learn(self, statement: Statement, info: StatementInfo) -> None:
        if info.kind == "create_other" and info.object_type in _ROUTINE_KINDS:
            routine = _routine(statement, info, self.dialect)
            if routine is not None:
                (self.triggers if routine.kind in ("trigger", "rule") else self.routines)[
                    routine.name] = routine
        elif info.kind == "drop_other" and info.object_type in _ROUTINE_KINDS:
            known = self.triggers if info.object_type in ("trigger", "rule") else self.routines
            for name in info.tables:
                known.pop(name.name, None)

    def called(self, statement: Statement, info: StatementInfo) -> list[_Routine]:
        """The known functions and procedures ``statement`` calls."""
        if not self.routines or (info.kind not in _EVALUATES and not (
                info.kind == "create_other" and info.object_type == "materialized")):
            return []
        toks = tokenize(statement.text, self.dialect)
        names: list[str] = []
        for index, tok in enumerate(toks):
            if tok.kind not in (WORD, QUOTED):
                continue
            following = toks[index + 1] if index + 1 < len(toks) else None
            previous = toks[index - 1] if index else None
            calls = following is not None and following.kind == PUNCT and following.text == "("
            if previous is not None and previous.kind == WORD and previous.up == "CALL":
                calls = True  # MySQL: CALL p, without parentheses
            if calls:
                name = tok.text.lower() if tok.kind == WORD else tok.text
                if name in self.routines and name not in names:
                    names.append(name)
        return [self.routines[name] for name in names]

    def fired(self, statement: Statement, info: StatementInfo) -> list[_Routine]:
        """The known triggers ``statement`` fires."""
        if not self.triggers or info.kind not in _EVENTS:
            return []
        events = {_EVENTS[info.kind]}
        if info.kind == "insert" and info.or_replace:
            events.add("DELETE")  # REPLACE deletes the rows it repeats
        if info.kind == "insert" and _UPSERT.search(statement.text):
            events.add("UPDATE")
        tables = {t.name for t in info.tables or ((info.table,) if info.table else ())}
        if info.kind in ("copy", "load"):
            found = (_COPY_FROM if info.kind == "copy" else _LOAD_INTO).match(statement.text)
            if found is None:
                return []
            tables = {found.group(1).replace("`", "").replace('"', "").split(".")[-1].lower()}
        return [t for t in self.triggers.values() if t.table in tables and t.events & events]

    def runs(self, statement: Statement, info: StatementInfo, chain: str = "",
             active: frozenset[str] = frozenset()) -> list[tuple[Statement, StatementInfo]]:
        """The statements ``statement`` runs through routines and triggers, each followed
        by what it runs in turn (a routine already running, ``active``, is not opened
        again: a recursive one is read once)."""
        if len(active) > blocks.MAX_DEPTH:
            return []
        out: list[tuple[Statement, StatementInfo]] = []
        for routine in [*self.called(statement, info), *self.fired(statement, info)]:
            key = f"{routine.kind} {routine.name}"
            if key in active:
                continue
            how = f"{routine.describe()}{', ' + chain if chain else ''}"
            target = routine
            if routine.function is not None:  # a PostgreSQL trigger: its function runs
                function = self.routines.get(routine.function)
                if function is None:
                    continue  # created by an earlier migration: its body is not known
                target = function
                how = f"function {function.name}() of {how}"
            for inner, inner_info in self.body(target, statement, how):
                out.append((inner, inner_info))
                out.extend(self.runs(inner, inner_info, how, active | {key}))
        return out

    def body(self, routine: _Routine, call: Statement,
             how: str) -> list[tuple[Statement, StatementInfo]]:
        """The statements of ``routine``'s body, placed at ``call``."""
        via = f"run here by {how}"
        body = routine.body
        if body is None:
            return []
        readable = body.mode in ("plpgsql", "sql", "compound", "sqlite")
        if not readable:
            return [(replace(call, block=call), StatementInfo(
                "unknown", via=f"{via}, written in {body.mode}, which switchy-guard cannot "
                "read"))]
        root = routine.statement
        expander = blocks._Expander(root, self.dialect)
        text = root.text[body.start:body.end]
        start = body.start
        if body.literal:
            text, origin = blocks._literal(text, False)
            to_root: blocks._ToRoot = lambda offset: start + origin[offset]  # noqa: E731
        else:
            to_root = blocks._shifted(lambda offset: offset, start)
        if body.mode == "plpgsql":
            expander.procedural(text, to_root, True, root, 1)
        elif body.mode == "compound":
            expander.procedural(text, to_root, False, root, 1)
        else:
            expander.sql(text, to_root, body.mode != "sqlite", root, 1,
                         flavor="sqlite" if body.mode == "sqlite" else "postgres")
        return _relocated(expander.out, call, via)


def _relocated(found: Sequence[tuple[Statement, StatementInfo]], call: Statement,
               via: str) -> list[tuple[Statement, StatementInfo]]:
    """``found`` placed at ``call``, inside it, each with ``via`` set."""
    moved: dict[int, Statement] = {}
    out: list[tuple[Statement, StatementInfo]] = []
    for statement, info in found:
        parent = moved.get(id(statement.block), call)
        placed = replace(statement, line=call.line, column=call.column,
                         end_line=call.end_line, index=call.index, block=parent)
        moved[id(statement)] = placed
        out.append((placed, replace(info, via=via)))
    return out


def defines_routines(parsed: Sequence[tuple[Statement, StatementInfo]]) -> bool:
    """Whether a parsed migration creates a function, procedure or trigger."""
    return any(info.kind == "create_other" and info.object_type in _ROUTINE_KINDS
               for _, info in parsed)


def with_routines(parsed: Sequence[tuple[Statement, StatementInfo]],
                  dialect: str | None) -> list[tuple[Statement, StatementInfo]]:
    """``parsed`` with, after each statement that calls a routine or fires a trigger
    created earlier in it, the statements that runs (and ``runs`` set on the statement)."""
    runner = _Runner(dialect)
    out: list[tuple[Statement, StatementInfo]] = []
    for statement, info in parsed:
        ran = runner.runs(statement, info)
        if ran:
            names = tuple(dict.fromkeys(i.via for _, i in ran))
            out.append((statement, replace(info, runs=names)))
            out.extend(ran)
        else:
            out.append((statement, info))
        runner.learn(statement, info)
    return out
