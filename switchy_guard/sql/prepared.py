"""What a migration's prepared statements run, at the ``EXECUTE`` that runs them.

MySQL and MariaDB migrations build conditional DDL as ``PREPARE s FROM ...; EXECUTE s;
DEALLOCATE PREPARE s;`` and PostgreSQL has ``PREPARE p AS statement; EXECUTE p;``. The
PREPARE runs nothing; the EXECUTE runs the prepared statement, so that is where it is
checked: as the statement it runs when the text is known (a string literal, PostgreSQL's
``AS`` statement, or a user variable last set to a literal in this migration), else as a
statement of kind ``dynamic`` (rule SG603), never as nothing. So is MariaDB's
``EXECUTE IMMEDIATE``. A user variable that anything else may have changed since (a
``SELECT ... INTO``, another assignment, a CALL or block) is unknown again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from switchy_guard.sql.blocks import _literal
from switchy_guard.sql.classify import DYNAMIC, StatementInfo, classify
from switchy_guard.sql.split import Statement

_NAME = r"(`(?:[^`]|``)+`|\"(?:[^\"]|\"\")+\"|[\w$]+)"
_STRING = r"('(?:[^'\\]|\\[\s\S]|'')*'|\"(?:[^\"\\]|\\[\s\S]|\"\")*\")"
_PREPARE_FROM = re.compile(r"\s*PREPARE\s+" + _NAME + r"\s+FROM\s+(.*?)\s*;?\s*\Z",
                           re.IGNORECASE | re.DOTALL)
_PREPARE_AS = re.compile(r"\s*PREPARE\s+" + _NAME
                         + r"\s*(?:\((?:[^()]|\([^()]*\))*\))?\s*AS\b\s*(.*?)\s*;?\s*\Z",
                         re.IGNORECASE | re.DOTALL)
_IMMEDIATE = re.compile(r"\s*EXECUTE\s+IMMEDIATE\s+(.*?)\s*;?\s*\Z", re.IGNORECASE | re.DOTALL)
_DEALLOCATE = re.compile(r"\s*(?:DEALLOCATE|DROP)\s+(?:PREPARE\s+)?" + _NAME, re.IGNORECASE)
_LITERAL = re.compile(_STRING + r"\Z", re.DOTALL)
_VARIABLE = re.compile(r"@" + _NAME + r"\Z")
_SET_ONE = re.compile(r"\s*SET\s+@" + _NAME + r"\s*:?=\s*" + _STRING + r"\s*;?\s*\Z",
                      re.IGNORECASE | re.DOTALL)
_ASSIGNED = re.compile(r"@" + _NAME + r"\s*:=|\bSET\s+@" + _NAME + r"\s*=|,\s*@" + _NAME
                       + r"\s*=|\bINTO\s+@" + _NAME, re.IGNORECASE)
#: Statements that may assign user variables in ways not read here.
_OPAQUE = frozenset({"call", "do", "unknown", DYNAMIC})


def _key(name: str) -> str:
    """A prepared statement's or user variable's name as the server compares it."""
    if name[:1] in "`\"":
        return name[1:-1].replace(name[0] * 2, name[0]).lower()
    return name.lower()


def _text_of(source: str, variables: dict[str, str | None]) -> str | None:
    """The SQL a ``FROM`` (or IMMEDIATE) source holds: a string literal's text, or the
    literal a user variable was set to; None when it is built at run time."""
    if _LITERAL.match(source):
        return _literal(source, True)[0]
    variable = _VARIABLE.match(source)
    if variable is not None:
        return variables.get(_key(variable.group(1)))
    return None


def with_prepared(parsed: Sequence[tuple[Statement, StatementInfo]],
                  dialect: str | None) -> list[tuple[Statement, StatementInfo]]:
    """``parsed`` with each EXECUTE of a prepared statement (and EXECUTE IMMEDIATE)
    classified as the statement it runs, where that can be read (see the module docs)."""
    prepared: dict[str, tuple[str | None, int]] = {}  # name -> (SQL, line prepared on)
    variables: dict[str, str | None] = {}
    out: list[tuple[Statement, StatementInfo]] = []
    for statement, info in parsed:
        text = statement.text
        if info.kind in _OPAQUE and info.kind != DYNAMIC:
            variables.clear()
        for match in _ASSIGNED.finditer(text):
            name = next(group for group in match.groups() if group is not None)
            variables[_key(name)] = None
        if info.kind == "set":
            one = _SET_ONE.match(text)
            if one is not None:
                variables[_key(one.group(1))] = _literal(one.group(2), True)[0]
        elif info.kind == "prepare":
            from_source = _PREPARE_FROM.match(text)
            as_statement = _PREPARE_AS.match(text) if from_source is None else None
            if from_source is not None:
                prepared[_key(from_source.group(1))] = (
                    _text_of(from_source.group(2), variables), statement.line)
            elif as_statement is not None:
                prepared[_key(as_statement.group(1))] = (as_statement.group(2),
                                                         statement.line)
        elif info.kind == "other" and info.object_type == "prepared":
            gone = _DEALLOCATE.match(text)
            if gone is not None and _key(gone.group(1)) == "all" and "PREPARE" not in (
                    text.upper().split()[:2]):
                prepared.clear()  # PostgreSQL's DEALLOCATE ALL
            elif gone is not None:
                prepared.pop(_key(gone.group(1)), None)
        elif info.kind == DYNAMIC and info.object_type == "immediate":
            immediate = _IMMEDIATE.match(text)
            sql = _text_of(immediate.group(1), variables) if immediate else None
            if sql is not None:
                info = replace(classify(sql, dialect), via="run by EXECUTE IMMEDIATE")
        elif info.kind == DYNAMIC and info.object_type == "prepared" and info.table:
            name = info.table.name
            sql, line = prepared.get(_key(info.table.raw[-1] if info.table.raw else name),
                                     (None, 0))
            if sql is not None:
                info = replace(classify(sql, dialect),
                               via=f"run by EXECUTE {name}, prepared on line {line}")
            elif line:
                info = replace(info, via=f"{name} was prepared on line {line} from SQL built "
                                         "at run time")
        out.append((statement, info))
    return out
