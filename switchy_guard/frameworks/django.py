"""``check --django path/to/manage.py [--settings MODULE]``: Django migrations as SQL.

Every migration of the project's apps (those whose files are under manage.py's folder;
Django's own apps and installed packages are not the project's) is rendered forwards
and backwards as ``manage.py sqlmigrate`` (and ``--backwards``) renders it, in one
helper process (:mod:`.django_dump`; Django's setup is process-global), for the
settings' database backend, or the one ``--dialect`` names. The header comment Django
writes before each operation's SQL (``-- Add field email to customer``) says which
operation made which statement, so findings point at that operation in the file. This
runs the project's settings and migration modules, as ``manage.py`` does. SQLite's
database file is never opened (an in-memory database stands in); for PostgreSQL and
MySQL, Django reads server facts as sqlmigrate does, so the database must be reachable
(exit 3 when it is not). Django's MySQL backend wants mysqlclient; where only PyMySQL
is installed, PyMySQL's stand-in for it is used (neither: one line, exit 2).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from switchy_guard.errors import ConfigError, DatabaseUnavailable, InputError
from switchy_guard.frameworks import (
    Operation,
    Rendered,
    display_path,
    django_dump,
    lint,
    new_files,
)
from switchy_guard.masking import mask_text
from switchy_guard.model.findings import Finding

if TYPE_CHECKING:
    from switchy_guard.check.report import CheckReport
    from switchy_guard.model.server_version import GivenVersion

_SETTINGS = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']""")
_CONTROL = re.compile(r"(?i)\s*(BEGIN|COMMIT|START\s+TRANSACTION)\s*;?\s*$")


def _installed() -> bool:
    try:
        return importlib.util.find_spec("django") is not None
    except (ImportError, ValueError):  # a blocked or broken module
        return False


def dump(manage_py: str, dialect: str | None, settings: str | None) -> dict[str, Any]:
    """The helper process's JSON: every project migration with its SQL."""
    if not _installed():
        raise ConfigError("--django needs Django, which is not installed: "
                          "pip install 'switchy-guard[django]'")
    if not os.path.isfile(manage_py):
        raise ConfigError(f"{manage_py}: no such file (give the project's manage.py)")
    root = os.path.dirname(os.path.abspath(manage_py))
    module = settings or _settings_of(manage_py) or os.environ.get("DJANGO_SETTINGS_MODULE")
    if not module:
        raise ConfigError(f"{manage_py}: no DJANGO_SETTINGS_MODULE found: give --settings")
    helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "django_dump.py")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": module}
    done = subprocess.run([sys.executable, helper, root, dialect or ""], cwd=root, env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        last = mask_text(lines[-1]) if lines else f"exit {done.returncode}"
        if done.returncode == django_dump.NO_DRIVER:
            raise ConfigError(last, path=manage_py)
        if done.returncode == django_dump.UNREACHABLE:
            raise DatabaseUnavailable(last, path=manage_py)
        raise InputError(f"Django could not render the migrations: {last}", path=manage_py)
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _settings_of(manage_py: str) -> str | None:
    with open(manage_py, encoding="utf-8", errors="replace") as handle:
        found = _SETTINGS.search(handle.read())
    return found.group(1) if found else None


def load(manage_py: str, dialect: str | None, settings: str | None
         ) -> tuple[list[Rendered], str, list[Finding]]:
    """The project's migrations rendered, the dialect they were rendered for, and the
    graph's findings (apps with more than one leaf migration)."""
    from switchy_guard.sql import split_statements

    data = dump(manage_py, dialect, settings)
    dialect = str(data["dialect"])
    if dialect not in ("sqlite", "postgres", "mysql"):
        raise ConfigError(f"Django's database backend {dialect!r} is not one switchy-guard "
                          "checks: give --dialect sqlite, postgres or mysql")
    rendered = []
    ids = {m["id"] for m in data["migrations"]}
    for item in data["migrations"]:
        if item["up"] is None:
            raise InputError(f"Django could not render its SQL: {item['up_error']}",
                             path=display_path(item["path"]))
        ops, anchor = _operations(item["path"])
        up, up_owners = _joined(item["up"], dialect, split_statements)
        down, down_owners = (None, None) if item["down"] is None else _joined(
            item["down"], dialect, split_statements)
        rendered.append(Rendered(
            id=item["id"], path=display_path(item["path"]), up=up, down=down,
            depends_on=tuple(d for d in item["depends_on"] if d in ids),
            up_ops=ops, down_ops=tuple(_reverse(op) for op in reversed(ops)),
            up_anchor=anchor, down_anchor=anchor, up_owners=up_owners,
            down_owners=down_owners))
    findings = _conflicts(data["conflicts"], rendered)
    return rendered, dialect, findings


def _joined(lines: list[str], dialect: str, split: Any
            ) -> tuple[str, tuple[int | None, ...]]:
    """The collected SQL as one script, and which operation (by Django's ``--`` header
    blocks, counted from 0) made each statement."""
    text, owners = [], []
    operation = -1
    previous_dashes = False
    for line in lines:
        stripped = line.strip()
        if stripped == "--":
            if not previous_dashes:
                operation += 1  # "--", "-- what", "--" opens the next operation
            previous_dashes = not previous_dashes
            continue
        if stripped.startswith("--") or _CONTROL.match(stripped) or not stripped:
            continue
        text.append(stripped if stripped.endswith(";") else stripped + ";")
        owners += [max(operation, 0)] * len(split(stripped, dialect))
    return "".join(f"{t}\n\n" for t in text), tuple(owners)


def _reverse(op: Operation) -> Operation:
    return Operation(op.line, op.column, op.name, None)


def _operations(path: str) -> tuple[tuple[Operation, ...], int]:
    """The elements of ``operations = [...]`` in the Migration class, and its line."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
    except (OSError, SyntaxError, ValueError):
        return (), 1
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "operations" for t in node.targets):
            if isinstance(node.value, ast.List | ast.Tuple):
                return tuple(Operation(e.lineno, e.col_offset + 1, _name(e))
                             for e in node.value.elts), node.lineno
            return (), node.lineno
    return (), 1


def _name(node: ast.expr) -> str:
    func = node.func if isinstance(node, ast.Call) else node
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _conflicts(conflicts: dict[str, list[str]], rendered: list[Rendered]) -> list[Finding]:
    from switchy_guard.check.pipeline import make_finding
    from switchy_guard.frameworks import as_migrations
    from switchy_guard.rules.naming import UNMERGED_BRANCHES

    by_id = {m.id: m for m in as_migrations(rendered)}
    findings = []
    for app, names in sorted(conflicts.items()):
        last = by_id.get(f"{app}.{names[-1]}")
        if last is None:
            continue
        findings.append(make_finding(
            UNMERGED_BRANCHES, f"app {app} has {len(names)} leaf migrations: "
            f"{', '.join(names)}; migrate refuses them: merge them "
            "(`manage.py makemigrations --merge`)", last))
    return findings


def check(manage_py: str, dialect: str | None = None, *, settings: str | None = None,
          against: str | None = None, server_version: GivenVersion | None = None
          ) -> CheckReport:
    """``check --django``: lint every project migration (``against``: only those whose
    files are new since that git revision), and each app's graph; ``server_version``: as
    ``--server-version`` (see server_version.py)."""
    from switchy_guard.model.server_version import version_for

    rendered, dialect, graph = load(manage_py, dialect, settings)
    plan_ids = None
    if against:
        absolute = {os.path.abspath(r.path): r.id for r in rendered}
        plan_ids = {absolute[p] for p in new_files(list(absolute), against)}
    return lint(rendered, dialect, plan_ids=plan_ids, extra=graph,
                server_version=version_for(server_version, dialect))
