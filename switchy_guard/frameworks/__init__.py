"""Migrations of Python frameworks (Alembic revisions, Django migrations) linted as SQL.

Each framework module renders every migration's forward and backward SQL with the
framework's own machinery, then :func:`lint` runs it through the ordinary validator as
one migration per revision/migration file. Findings name that file; the line is the
framework operation's (``op.drop_column(...)``, ``migrations.RemoveField(...)``) when
the rendered statements can be matched to the operations, else the line of the function
or class that holds them (see :func:`align`). The frameworks are optional extras:
neither is imported unless its flag is used.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from switchy_guard.errors import ConfigError
from switchy_guard.model.findings import Finding

if TYPE_CHECKING:
    from switchy_guard.check.report import CheckReport
    from switchy_guard.model.migration import Migration


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or fail with exit 2, naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"--{extra} needs {module}, which is not installed: "
                          f"pip install 'switchy-guard[{extra}]'") from None


@dataclass(frozen=True)
class Operation:
    """A framework operation in the source: where it is, which kind, its SQL if literal."""

    line: int
    column: int
    name: str
    sql: str | None = None


@dataclass(frozen=True)
class Rendered:
    """One framework migration with its rendered SQL."""

    id: str
    path: str
    up: str
    down: str | None
    depends_on: tuple[str, ...] = ()
    description: str | None = None
    up_ops: tuple[Operation, ...] = ()
    down_ops: tuple[Operation, ...] = ()
    #: Where findings go when no operation matches: the upgrade()/downgrade() def line.
    up_anchor: int = 1
    down_anchor: int = 1
    #: When the framework says which operation made each statement (Django's ``-- Add
    #: field ...`` headers): the index into up_ops/down_ops of each statement, in order.
    up_owners: tuple[int | None, ...] | None = None
    down_owners: tuple[int | None, ...] | None = None


def display_path(path: str | Path) -> str:
    """``path`` relative to the working folder when it is under it, else absolute."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return absolute if relative.startswith("..") else relative


def strip_statements(sql: str, dialect: str | None, drop: Iterable[re.Pattern[str]]) -> str:
    """``sql`` without its transaction control and the statements ``drop`` matches."""
    from switchy_guard.sql import split_statements

    patterns = [re.compile(r"(?i)(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\b\s*(WORK)?\s*$"),
                *drop]
    kept = [s.text for s in split_statements(sql, dialect)
            if not any(p.match(s.text.strip()) for p in patterns)]
    return "".join(f"{text};\n\n" for text in kept)


_KEYWORDS = {
    "create_table": ("CREATE TABLE",), "drop_table": ("DROP TABLE",),
    "create_index": ("CREATE INDEX", "CREATE UNIQUE INDEX"), "drop_index": ("DROP INDEX",),
    "bulk_insert": ("INSERT",), "rename_table": ("ALTER TABLE", "RENAME"),
    "CreateModel": ("CREATE TABLE",), "DeleteModel": ("DROP TABLE",),
    "AddIndex": ("CREATE INDEX", "CREATE UNIQUE INDEX"), "RemoveIndex": ("DROP INDEX",),
}


def _words(text: str) -> str:
    return " ".join(re.sub(r"--[^\n]*", " ", text).split()).upper()


def _matches(op: Operation, statement: str) -> bool:
    words = _words(statement)
    if op.sql is not None:
        literal = _words(op.sql)
        size = min(30, len(words), len(literal))
        return size > 0 and words[:size] == literal[:size]
    expected = _KEYWORDS.get(op.name)
    if expected is not None:
        return words.startswith(expected)
    if op.name in ("execute", "RunSQL", "RunPython"):
        return True  # SQL not given as a literal: any statement may be its
    return words.startswith("ALTER")  # add/drop/alter column, constraints


def align(statements: Sequence[str], ops: Sequence[Operation]) -> list[Operation | None]:
    """Which operation each rendered statement came from (best effort, in order).

    Operations render in source order, and one may render several statements (a table
    with its indexes, SQLite's table rebuilds), so each statement goes to the next
    operation when it looks like that operation's SQL (its kind, or its literal SQL),
    else to the operation before it; None before any operation matched.
    """
    result: list[Operation | None] = []
    position, current = 0, None
    for statement in statements:
        if position < len(ops) and _matches(ops[position], statement):
            current = ops[position]
            position += 1
        result.append(current)
    return result


#: Operations whose first argument is the SQL they run.
_SQL_CALLS = frozenset({"execute", "RunSQL"})


def calls_in(node: ast.AST, receivers: set[str], skip: frozenset[str]) -> list[Operation]:
    """The ``receiver.name(...)`` calls under ``node``, in source order, with the literal
    SQL of those whose first argument is a string."""
    found = []
    for call in ast.walk(node):
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
            continue
        receiver = call.func.value
        name = receiver.id if isinstance(receiver, ast.Name) else (
            receiver.attr if isinstance(receiver, ast.Attribute) else None)
        if name not in receivers or call.func.attr in skip:
            continue
        sql = None
        if call.func.attr in _SQL_CALLS:
            first = call.args[0] if call.args else next(
                (k.value for k in call.keywords if k.arg in ("sql", "sqltext")), None)
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                sql = first.value
        found.append(Operation(call.lineno, call.col_offset + 1, call.func.attr, sql))
    return sorted(found, key=lambda op: (op.line, op.column))


def _locations(rendered: Rendered, dialect: str | None, direction: str
               ) -> dict[int, tuple[int, int]]:
    """Line of each statement in the rendered SQL -> (line, column) in the source."""
    from switchy_guard.sql import split_statements

    sql = rendered.up if direction == "up" else rendered.down
    if not sql:
        return {}
    ops = rendered.up_ops if direction == "up" else rendered.down_ops
    anchor = rendered.up_anchor if direction == "up" else rendered.down_anchor
    statements = split_statements(sql, dialect)
    known = rendered.up_owners if direction == "up" else rendered.down_owners
    if known is not None and len(known) == len(statements):
        owners = [ops[i] if i is not None and i < len(ops) else None for i in known]
    else:
        owners = align([s.text for s in statements], ops)
    return {s.line: (op.line, op.column) if op else (anchor, 1)
            for s, op in zip(statements, owners, strict=True)}


def relocate(findings: Iterable[Finding], rendered: Sequence[Rendered],
             dialect: str | None) -> list[Finding]:
    """Findings with their line and column moved from the rendered SQL to the source."""
    by_id = {r.id: r for r in rendered}
    cache: dict[tuple[str, str], dict[int, tuple[int, int]]] = {}
    moved = []
    for finding in findings:
        source = by_id.get(finding.migration or "")
        if source is None or finding.line is None:
            if source is not None:
                finding = replace(finding, file=source.path)
            moved.append(finding)
            continue
        key = (source.id, finding.direction)
        if key not in cache:
            cache[key] = _locations(source, dialect, finding.direction)
        anchor = source.up_anchor if finding.direction == "up" else source.down_anchor
        line, column = cache[key].get(finding.line, (anchor, 1))
        moved.append(replace(finding, file=source.path, line=line, column=column))
    return moved


def as_migrations(rendered: Sequence[Rendered]) -> list[Migration]:
    """The rendered migrations as Migration objects, in the framework's order."""
    from switchy_guard.model.checksum import exec_raw_checksum
    from switchy_guard.model.migration import Migration

    return [
        Migration(id=r.id, up=r.up, down=r.down, up_checksum=exec_raw_checksum(r.up),
                  down_checksum=exec_raw_checksum(r.down or ""), description=r.description,
                  depends_on=r.depends_on, source=r.path, up_path=r.path, down_path=r.path,
                  order_key=(index,))
        for index, r in enumerate(rendered)
    ]


class RenderedSource:
    """Rendered framework migrations as a migration source (for ``plan``)."""

    def __init__(self, label: str, rendered: Sequence[Rendered]) -> None:
        self._label = label
        self.rendered = list(rendered)
        self._migrations = as_migrations(rendered)

    @property
    def label(self) -> str:
        """How reports name this source."""
        return self._label

    def load(self, dialect: str | None = None) -> list[Migration]:
        """The migrations, in the framework's order."""
        return list(self._migrations)


def lint(rendered: Sequence[Rendered], dialect: str, *, plan_ids: set[str] | None = None,
         extra: Sequence[Finding] = (),
         server_version: tuple[int, ...] | None = None) -> CheckReport:
    """Validate rendered migrations: the graph rules, then every statement rule;
    ``server_version``: the server the version-aware rules judge by."""
    from switchy_guard.check.pipeline import make_finding, validate
    from switchy_guard.check.report import CheckReport
    from switchy_guard.model.findings import CheckSummary
    from switchy_guard.rules.naming import graph_hits

    migrations = as_migrations(rendered)
    findings = list(extra) + [make_finding(rule, message, migration)
                              for rule, migration, message in graph_hits(migrations)]
    result = validate(migrations, dialect, plan_ids=plan_ids, downs=True,
                      id_pattern=r"(?s:.*)", server_version=server_version)
    findings += relocate(result.findings, rendered, dialect)
    return CheckReport(findings, CheckSummary.of(findings, result.migrations,
                                                 result.statements))


def new_files(paths: Iterable[str], against: str) -> set[str]:
    """Which of ``paths`` (files in one git work tree) are absent in revision ``against``."""
    from switchy_guard.discovery.git import _git

    paths = [os.path.abspath(p) for p in paths]
    if not paths:
        return set()
    folder = Path(os.path.dirname(paths[0]))
    top = Path(_git(["rev-parse", "--show-toplevel"], folder,
                    failure=f"{folder}: not inside a git repository (needed by --against)")
               .decode().strip()).resolve()
    commit = _git(["rev-parse", "--verify", "--quiet", f"{against}^{{commit}}"], top,
                  failure=f"unknown git revision {against!r}").decode().strip()
    relative = {p: Path(p).resolve().relative_to(top).as_posix() for p in paths}
    listed = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "-z", commit, "--",
         *sorted(set(relative.values()))], cwd=top, capture_output=True, check=False)
    present = set(listed.stdout.decode("utf-8", "replace").split("\0"))
    return {p for p, rel in relative.items() if rel not in present}
