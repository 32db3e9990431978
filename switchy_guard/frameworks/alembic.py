"""``check --alembic [alembic.ini]`` and ``plan --alembic``: Alembic revisions as SQL.

Alembic's own offline mode renders the SQL (``alembic upgrade heads --sql`` and
``alembic downgrade HEAD:base --sql`` from each head, through its API, for the configured dialect):
one pass each way for the whole graph, cut at the ``-- Running upgrade A -> B`` comment
Alembic writes before each revision's SQL, so each revision gets exactly what
``upgrade A:B --sql`` would print for it. Alembic's own bookkeeping (the version table's
CREATE, INSERT, UPDATE and DELETE, and BEGIN/COMMIT) is not the revision's SQL and is
dropped. This runs the project's env.py and revision files, as ``alembic`` itself does.
"""

from __future__ import annotations

import ast
import contextlib
import io
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchy_guard.errors import ConfigError, InputError
from switchy_guard.frameworks import (
    Operation,
    Rendered,
    calls_in,
    display_path,
    lint,
    new_files,
    require,
)
from switchy_guard.model.findings import Finding

if TYPE_CHECKING:
    from switchy_guard.check.report import CheckReport
    from switchy_guard.model.server_version import GivenVersion
    from switchy_guard.plan.impact import ImpactReport

#: switchy-guard's dialect names -> a URL Alembic's offline mode can render for.
OFFLINE_URLS = {"sqlite": "sqlite://", "postgres": "postgresql+psycopg://",
                "mysql": "mysql+pymysql://"}

#: Rules about switchy-guard's id convention, which framework ids do not follow.
ID_RULES = frozenset({"SG101", "SG103"})
_NOT_SQL = frozenset({"f", "get_bind", "get_context", "batch_alter_table", "inline_literal",
                      "run_async", "invoke", "implementation_for", "register_operation"})
_MARKER = re.compile(r"^-- Running (upgrade|downgrade) (.*?) -> (.*?)\s*$", re.MULTILINE)


@dataclass
class AlembicProject:
    """An Alembic project's revisions, in graph order, with their SQL rendered."""

    ini: str
    dialect: str
    rendered: list[Rendered]
    #: Findings about the graph itself (unmerged heads, a cycle).
    graph: list[Finding] = field(default_factory=list)
    heads: tuple[str, ...] = ()
    #: revision id -> the ids of every revision it needs (itself included).
    ancestors: dict[str, set[str]] = field(default_factory=dict)
    version_table: str = "alembic_version"


def load(ini: str, dialect: str | None = None) -> AlembicProject:
    """Read the project of ``ini`` and render its revisions for ``dialect`` (default:
    the dialect of ``sqlalchemy.url`` in the ini file)."""
    require("alembic", "alembic")
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.script.revision import RevisionError

    if not os.path.isfile(ini):
        raise ConfigError(f"{ini}: no such Alembic configuration file (alembic.ini)")
    buffer = io.StringIO()
    config = Config(ini, output_buffer=buffer)
    dialect = _dialect(config, ini, dialect)
    config.set_main_option("sqlalchemy.url", OFFLINE_URLS[dialect])
    try:
        script = ScriptDirectory.from_config(config)
        scripts = list(reversed(list(script.walk_revisions())))
        heads = tuple(script.get_heads())
    except Exception as exc:
        # ScriptDirectory raises its RevisionErrors (a cycle, a missing parent) as
        # CommandErrors: the graph's fault is the cause.
        cause = next((e for e in (exc, exc.__cause__, exc.__context__)
                      if isinstance(e, RevisionError)), None)
        if cause is not None:
            return _broken_graph(ini, dialect, cause)
        raise InputError(f"Alembic could not read the revisions: {exc}", path=ini) from None
    ancestors = {s.revision: {a.revision for a in script.walk_revisions("base", s.revision)}
                 for s in scripts}
    up_sql, table = _render(config, buffer, ini, "upgrade", "heads")
    down_sql: dict[str, str] = {}
    for head in heads:  # offline downgrade walks from one head; shared parents once
        for revision, sql in _render(config, buffer, ini, "downgrade", f"{head}:base")[0].items():
            down_sql.setdefault(revision, sql)
    rendered = []
    for item in scripts:
        downs = item._all_down_revisions  # its parents and its depends_on
        rendered.append(_revision(item, up_sql.get(item.revision, ""),
                                  down_sql.get(item.revision), dialect, table, tuple(downs)))
    project = AlembicProject(ini, dialect, rendered, heads=heads, ancestors=ancestors,
                             version_table=table)
    project.graph = _head_findings(project)
    return project


def _dialect(config: Any, ini: str, dialect: str | None) -> str:
    if dialect:
        return dialect
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise ConfigError(f"{ini}: no sqlalchemy.url to render SQL for: give --dialect "
                          "(sqlite, postgres or mysql)")
    from switchy_guard.runtime.db import dialect_of

    try:
        return dialect_of(url)
    except Exception:
        raise ConfigError(f"{ini}: cannot tell the database of its sqlalchemy.url: give "
                          "--dialect (sqlite, postgres or mysql)") from None


@contextlib.contextmanager
def _quiet_logging() -> Iterator[None]:
    """env.py's fileConfig() points loggers at stderr and disables the others: its log
    lines are not check's output, and the loggers are put back afterwards."""
    manager = logging.Logger.manager
    disabled = {name: lg.disabled for name, lg in manager.loggerDict.items()
                if isinstance(lg, logging.Logger)}
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for name, lg in list(manager.loggerDict.items()):
            if isinstance(lg, logging.Logger):
                lg.disabled = disabled.get(name, False)
                if name.startswith(("alembic", "sqlalchemy")):
                    lg.handlers.clear()
        root.handlers[:] = handlers
        root.setLevel(level)


def _render(config: Any, buffer: io.StringIO, ini: str, direction: str,
            target: str) -> tuple[dict[str, str], str]:
    """Each revision's SQL of one offline pass (revision id -> SQL), and the name of the
    version table Alembic created."""
    from alembic import command

    buffer.seek(0)
    buffer.truncate()
    try:
        with _quiet_logging():
            getattr(command, direction)(config, target, sql=True)
    except Exception as exc:
        text = buffer.getvalue()
        markers = _MARKER.findall(text)
        where = f" (rendering {markers[-1][0]} {_revision_of(markers[-1])})" if markers else ""
        raise InputError(f"Alembic could not render the {direction} SQL{where}: "
                         f"{type(exc).__name__}: {exc}", path=ini) from None
    text = buffer.getvalue()
    table = "alembic_version"
    parts = _MARKER.split(text)
    created = re.search(r"CREATE TABLE\s+(\S+)", parts[0], re.IGNORECASE)
    if created:
        table = created.group(1)
    chunks: dict[str, str] = {}
    for index in range(1, len(parts) - 3, 4):
        marker = (parts[index], parts[index + 1], parts[index + 2])
        chunks[_revision_of(marker)] = parts[index + 3]
    return chunks, table


def _revision_of(marker: tuple[str, str, str]) -> str:
    """The revision a marker line is about: the target of an upgrade, the source of a
    downgrade."""
    direction, left, right = marker
    return (right if direction == "upgrade" else left).strip()


def _bookkeeping(table: str) -> list[re.Pattern[str]]:
    name = re.escape(table.strip('"`'))
    quoted = rf"[\"`]?(?:\w+[\"`]?\.[\"`]?)?{name}[\"`]?"
    return [re.compile(rf"(?is)(INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE\s+TABLE)\s+{quoted}\b")]


def _revision(item: Any, up_text: str, down_text: str | None, dialect: str, table: str,
              downs: tuple[str, ...]) -> Rendered:
    from switchy_guard.frameworks import strip_statements

    path = display_path(item.path)
    up_ops, down_ops, up_anchor, down_anchor = _operations(item.path)
    return Rendered(
        id=item.revision, path=path,
        up=strip_statements(up_text, dialect, _bookkeeping(table)),
        down=None if down_text is None else strip_statements(down_text, dialect,
                                                             _bookkeeping(table)),
        depends_on=downs, description=(item.doc or "").strip() or None,
        up_ops=up_ops, down_ops=down_ops, up_anchor=up_anchor, down_anchor=down_anchor,
    )


def _operations(path: str) -> tuple[tuple[Operation, ...], tuple[Operation, ...], int, int]:
    """The ``op.``/``batch_op.`` calls of upgrade() and downgrade(), and their def lines."""
    try:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), path)
    except (OSError, SyntaxError, ValueError):
        return (), (), 1, 1
    found: dict[str, tuple[tuple[Operation, ...], int]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("upgrade", "downgrade"):
            receivers = {"op"} | _batch_names(node)
            found[node.name] = (tuple(calls_in(node, receivers, _NOT_SQL)), node.lineno)
    up, up_line = found.get("upgrade", ((), 1))
    down, down_line = found.get("downgrade", ((), 1))
    return up, down, up_line, down_line


def _batch_names(node: ast.AST) -> set[str]:
    """The names ``with op.batch_alter_table(...) as NAME`` binds."""
    return {item.optional_vars.id for w in ast.walk(node) if isinstance(w, ast.With)
            for item in w.items if isinstance(item.optional_vars, ast.Name)}


def _head_findings(project: AlembicProject) -> list[Finding]:
    """SG204 when the graph has more than one head (branches never merged)."""
    from switchy_guard.check.pipeline import make_finding
    from switchy_guard.rules.naming import UNMERGED_BRANCHES

    if len(project.heads) < 2:
        return []
    from switchy_guard.frameworks import as_migrations

    migrations = as_migrations(project.rendered)
    last = next(m for m in reversed(migrations) if m.id in project.heads)
    return [make_finding(UNMERGED_BRANCHES, f"{len(project.heads)} heads: "
                         f"{', '.join(sorted(project.heads))}; `alembic upgrade head` refuses "
                         "to choose: merge them (`alembic merge heads`)", last)]


def _broken_graph(ini: str, dialect: str, exc: Exception) -> AlembicProject:
    """A graph Alembic refuses (a cycle, a missing parent): one error finding."""
    from switchy_guard.model.findings import Finding, Severity
    from switchy_guard.rules.naming import DEPENDENCY_CYCLE, MISSING_DEPENDENCY

    rule = DEPENDENCY_CYCLE if "cycle" in type(exc).__name__.lower() else MISSING_DEPENDENCY
    revisions = getattr(exc, "revisions", None) or []
    finding = Finding(rule.code, rule.name, Severity.ERROR,
                      revisions[0] if revisions else None, display_path(ini), None, None,
                      None, f"Alembic's revision graph: {exc}", rule.instead)
    return AlembicProject(ini, dialect, [], graph=[finding])


def check(ini: str, dialect: str | None = None, *, against: str | None = None,
          server_version: GivenVersion | None = None) -> CheckReport:
    """``check --alembic``: lint every revision (``against``: only those whose files are
    new since that git revision), and the revision graph; ``server_version``: as
    ``--server-version`` (see server_version.py)."""
    from switchy_guard.model.server_version import version_for

    project = load(ini, dialect)
    plan_ids = None
    if against:
        paths = {r.path: r.id for r in project.rendered}
        plan_ids = {paths[p] for p in _new(paths, against)}
    return lint(project.rendered, project.dialect, plan_ids=plan_ids, extra=project.graph,
                server_version=version_for(server_version, project.dialect))


def _new(paths: dict[str, str], against: str) -> set[str]:
    absolute = {os.path.abspath(p): p for p in paths}
    return {absolute[p] for p in new_files(list(absolute), against)}


def applied_revisions(project: AlembicProject, conn: Any) -> tuple[set[str], list[str]]:
    """The revisions a live database has applied (the rows of its version table and all
    their ancestors), and the rows themselves."""
    from sqlalchemy import inspect, text

    table = project.version_table.strip('"`')
    if not inspect(conn).has_table(table):
        return set(), []
    if not re.fullmatch(r"\w+", table):
        raise ConfigError(f"unexpected Alembic version table name {table!r}")
    rows = [r[0] for r in conn.execute(text(f"SELECT version_num FROM {table}"))]
    applied: set[str] = set()
    for row in rows:
        if row not in project.ancestors:
            raise InputError(f"the database's {table} records revision {row!r}, which is "
                             "not in this project's revision graph", path=project.ini)
        applied |= project.ancestors[row]
    return applied, rows


def plan(ini: str, database_url: str,
         server_version: GivenVersion | None = None) -> ImpactReport:
    """``plan --alembic -d URL``: the impact report of the revisions the database has not
    applied (those after the rows of its version table), in graph order;
    ``server_version`` as for :func:`switchy_guard.gates.reports.impact_report`."""
    from switchy_guard.frameworks import RenderedSource, relocate
    from switchy_guard.gates.reports import impact_report
    from switchy_guard.model.records import COMPLETED, TrackingRow
    from switchy_guard.model.state import MigrationState
    from switchy_guard.runtime.db import connect, dialect_of
    from switchy_guard.runtime.runner import Migrator

    project = load(ini, dialect_of(database_url))
    source = RenderedSource(f"alembic:{ini}", project.rendered)
    migrator = Migrator(source, database_url)
    try:
        with connect(migrator.engine) as conn:
            applied, _ = applied_revisions(project, conn)
            conn.rollback()
        migrations = migrator.migrations()
        rows = {m.id: TrackingRow(m.id, None, None, m.up_checksum, m.down_checksum,
                                  COMPLETED, None) for m in migrations if m.id in applied}
        report = impact_report(migrator, state=MigrationState(migrations, rows),
                               server_version=server_version)
    finally:
        migrator.engine.dispose()
    # The note that the database was migrated with Alembic is this plan's premise.
    report.warnings = [w for w in report.warnings
                       if not w.startswith(f"alembic's {project.version_table}")]
    report.warnings += [f.message for f in project.graph]
    for impact in report.migrations:  # revision ids are Alembic's: no id naming rules
        impact.findings = relocate([f for f in impact.findings if f.code not in ID_RULES],
                                   project.rendered, project.dialect)
    return report
