"""Databases another tool migrated: read that tool's tracking table, and adopt it.

Each supported tool keeps its own record of what it applied. :func:`read_history` reads
one tool's table into an :class:`OtherHistory` (one reader per tool, each knowing how
that tool writes its rows); :func:`detect` finds every such table in a database (for
``status`` and ``plan``); :func:`plan_adoption` matches what the other table says is
applied with the migrations here, by the version that tool would have given each
migration (:func:`tool_version`), and :func:`adopt` records exactly those as completed
in switchy-guard's tracking table, under the migration lock, journaled.

Nothing here writes to the other tool's table.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import column, inspect, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import ConfigError, Refused
from switchy_guard.model.records import COMPLETED
from switchy_guard.runtime.audit import AuditJournal
from switchy_guard.runtime.db import connect, connection_dialect

if TYPE_CHECKING:
    from switchy_guard.model.migration import Migration
    from switchy_guard.model.records import TrackingRow
    from switchy_guard.runtime.runner import Migrator

#: The tools whose tables are read, and the table each uses by default.
DEFAULT_TABLES: dict[str, str] = {
    "golang-migrate": "schema_migrations",
    "flyway": "flyway_schema_history",
    "diesel": "__diesel_schema_migrations",
    "sqlx": "_sqlx_migrations",
    "dbmate": "schema_migrations",
    "goose": "goose_db_version",
    "alembic": "alembic_version",
}
TOOLS: tuple[str, ...] = tuple(DEFAULT_TABLES)

#: Tools whose versions are whole numbers, compared as such (000001 is 1).
_NUMERIC = {"golang-migrate", "sqlx", "dbmate", "goose"}

# The columns that tell one tool's table from another's (two tools share one name).
_COLUMNS: dict[str, set[str]] = {
    "golang-migrate": {"version", "dirty"},
    "flyway": {"installed_rank", "version", "type", "script", "success"},
    "diesel": {"version", "run_on"},
    "sqlx": {"version", "success"},
    "dbmate": {"version"},
    "goose": {"id", "version_id", "is_applied"},
    "alembic": {"version_num"},
}

_FLYWAY_ID = re.compile(r"^[Vv](\d+(?:[._]\d+)*)__")


@dataclass
class OtherHistory:
    """What another tool's tracking table records.

    ``applied``: the versions its rows say are applied, as the table spells them, in
    the order the tool applied them. ``up_to``: a version everything up to which counts
    as applied (golang-migrate keeps only its latest version; a Flyway baseline).
    ``bad``: rows that stop an adoption, each a sentence naming the version (a dirty
    golang-migrate row, a failed Flyway or sqlx row, a goose version rolled back).
    ``ignored``: rows that are no versioned migration (Flyway's repeatable ones).
    """

    tool: str
    table: str
    applied: list[str] = field(default_factory=list)
    up_to: str | None = None
    bad: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)  # alembic: the revisions recorded

    @property
    def dirty(self) -> bool:
        """Whether a row says a run failed or did not finish."""
        return bool(self.bad)

    @property
    def latest(self) -> str | None:
        """The newest version it records as applied."""
        if self.tool == "alembic":
            return ", ".join(self.heads) or None
        versions = [*self.applied, *([self.up_to] if self.up_to else [])]
        if not versions:
            return None
        return max(versions, key=lambda v: _sortable(self.tool, v))

    def describe(self) -> str:
        """One line: which tool, which table, up to which version, dirty or not."""
        where = f"{self.tool} ({self.table})"
        if self.tool == "alembic":
            heads = ", ".join(self.heads) or "no revision"
            return f"{where}: at revision {heads}"
        if self.tool == "golang-migrate":
            at = f"at version {self.up_to}" if self.up_to else "no version"
        else:
            count = len(self.applied)
            at = (f"{count} version(s) applied, the latest {self.latest}" if count
                  else "no version applied")
            if self.up_to:
                at += f" (baseline {self.up_to})"
        state = "; DIRTY: " + "; ".join(self.bad) if self.bad else ", clean"
        return f"{where}: {at}{state}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``status``'s ``other_tools`` entries."""
        return {"tool": self.tool, "table": self.table, "latest": self.latest,
                "applied": self.applied, "up_to": self.up_to, "dirty": self.dirty,
                "problems": self.bad, "ignored": self.ignored,
                **({"heads": self.heads} if self.tool == "alembic" else {}),
                "summary": self.describe()}


# -- versions of migrations ------------------------------------------------------------


def tool_version(tool: str, migration_id: str) -> str | None:
    """The version ``tool`` gives the migration ``migration_id``, or None when it has none.

    A folder id (``2024-01-10-090000_create_users``) gets Diesel's: the part before the
    first ``_``, hyphens removed (``20240110090000``); so does an id that starts with a
    number (golang-migrate's ``000001_x``, sqlx's and dbmate's ``20240101120000_x``,
    goose's ``00001_x``), whose number the numeric tools compare as a whole number.
    Flyway's ``V1.1__x`` gets ``1.1``. Alembic's revisions are no function of an id.
    """
    if tool == "alembic":
        return None
    if tool == "flyway":
        found = _FLYWAY_ID.match(migration_id)
        if found:
            return found.group(1).replace("_", ".")
    head = migration_id.split("_", 1)[0].replace("-", "")
    if tool == "diesel":
        return head or None
    return head if head.isdigit() else None


def _key(tool: str, version: str) -> Any:
    """The version as the tool compares it: a number, Flyway's parts without trailing
    zeros (``1.1.0`` is ``1.1``), or Diesel's exact text. None when it is no version."""
    version = version.strip()
    if tool in _NUMERIC:
        return int(version) if version.lstrip("-").isdigit() else None
    if tool == "flyway":
        parts = version.replace("_", ".").split(".")
        if not all(part.isdigit() for part in parts):
            return None
        numbers = [int(part) for part in parts]
        while len(numbers) > 1 and numbers[-1] == 0:
            numbers.pop()
        return tuple(numbers)
    return version


def _sortable(tool: str, version: str) -> tuple[int, Any]:
    key = _key(tool, version)
    return (1, key) if key is not None and tool != "diesel" else (0, version)


# -- reading the other tools' tables ---------------------------------------------------


def _split(name: str) -> tuple[str | None, str]:
    schema, _, bare = name.rpartition(".")
    return schema or None, bare


def _live_columns(conn: Connection, name: str) -> dict[str, str] | None:
    """Lower-cased column name -> live name, or None when there is no such table."""
    schema, bare = _split(name)
    inspector = inspect(conn)
    try:
        if not inspector.has_table(bare, schema=schema):
            return None
        return {c["name"].lower(): c["name"] for c in inspector.get_columns(bare, schema=schema)}
    except Exception:  # an unknown schema: no such table
        return None


def _rows(conn: Connection, name: str, columns: dict[str, str], wanted: Sequence[str],
          order: str | None = None) -> list[tuple[Any, ...]]:
    schema, bare = _split(name)
    chosen: list[Any] = [column(columns[c]) for c in wanted]
    query = select(*chosen).select_from(table(bare, *chosen, schema=schema))
    if order is not None:
        query = query.order_by(column(columns[order]))
    result = conn.execute(query).all()
    return [tuple(row) for row in result]


def _true(value: Any) -> bool:
    """A boolean as the drivers hand it back (SQLite and MySQL: 0/1)."""
    if isinstance(value, (bytes, bytearray)):
        return any(value)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "t", "true", "y", "yes")
    return bool(value)


def text_of(value: Any) -> str:
    """A value a driver returned as text (bytes decoded)."""
    return value.decode() if isinstance(value, (bytes, bytearray)) else str(value)


def _golang_migrate(history: OtherHistory, rows: list[tuple[Any, ...]]) -> None:
    # golang-migrate keeps one row: the version reached, and whether that run failed.
    if len(rows) > 1:
        history.bad.append(f"{len(rows)} rows where golang-migrate keeps one")
        return
    for version, dirty in rows:
        if _true(dirty):
            shown = "no version" if int(version) < 0 else f"version {version}"
            history.bad.append(f"{shown} is dirty (its run failed half-way; fix the schema, "
                               "then `migrate force` it)")
        if int(version) >= 0:
            history.up_to = text_of(version)


def _flyway(history: OtherHistory, rows: list[tuple[Any, ...]]) -> None:
    # One row per run, in installed_rank order: the last row of a version decides.
    latest: dict[Any, tuple[str, str, str, bool]] = {}
    for version, kind, script, success in rows:
        kind = text_of(kind).upper()
        if version is None:
            if kind != "SCHEMA":
                history.ignored.append(f"{text_of(script)} (a repeatable migration)")
            continue
        text_version = text_of(version)
        key = _key("flyway", text_version)
        if key is None:
            history.bad.append(f"version {text_version} is no Flyway version number")
            continue
        latest[key] = (text_version, kind, text_of(script), _true(success))
    applied: list[tuple[Any, str]] = []
    for key, (version, kind, script, success) in latest.items():
        if not success:
            history.bad.append(f"version {version} failed ({script}; success = false)")
        elif "BASELINE" in kind:
            if history.up_to is None or key > _key("flyway", history.up_to):
                history.up_to = version
        elif kind.startswith("UNDO") or kind == "DELETE":
            continue  # undone, or deleted from the history by `flyway repair`
        else:
            applied.append((key, version))
    history.applied = [version for _, version in sorted(applied)]


def _goose(history: OtherHistory, rows: list[tuple[Any, ...]]) -> None:
    # One row per up (and, in older goose, per down): the newest row of a version decides.
    latest: dict[int, bool] = {}
    for version, is_applied in rows:
        if int(version) == 0:
            continue  # the row goose writes when it creates its table
        latest.pop(int(version), None)
        latest[int(version)] = _true(is_applied)
    for version, is_applied in latest.items():
        if is_applied:
            history.applied.append(str(version))
        else:
            history.bad.append(f"version {version} is not applied: its latest row has "
                               "is_applied = false (it was rolled back)")


def _sqlx(history: OtherHistory, rows: list[tuple[Any, ...]]) -> None:
    for version, description, success in rows:
        if _true(success):
            history.applied.append(str(version))
        else:
            history.bad.append(f"version {version} ({text_of(description)}) failed or did not "
                               "finish (success = false)")


_READERS: dict[str, tuple[tuple[str, ...], str | None]] = {
    # tool: (columns read, ordered by)
    "golang-migrate": (("version", "dirty"), None),
    "flyway": (("version", "type", "script", "success"), "installed_rank"),
    "diesel": (("version",), "version"),
    "sqlx": (("version", "description", "success"), "version"),
    "dbmate": (("version",), "version"),
    "goose": (("version_id", "is_applied"), "id"),
    "alembic": (("version_num",), "version_num"),
}


def read_history(conn: Connection, tool: str, name: str | None = None) -> OtherHistory:
    """Read ``tool``'s tracking table (its default name unless ``name``).

    Raises ConfigError (exit 2) naming the table when it is absent or lacks a column the
    tool writes: it is then not that tool's table.
    """
    if tool not in DEFAULT_TABLES:
        raise ConfigError(f"unknown tool {tool!r} (known: {', '.join(TOOLS)})")
    name = name or DEFAULT_TABLES[tool]
    columns = _live_columns(conn, name)
    if columns is None:
        raise ConfigError(f"no table {name} in this database: nothing to adopt from {tool} "
                          "(--table NAME names the table when it has another name)")
    missing = sorted(_COLUMNS[tool] - set(columns))
    if missing:
        raise ConfigError(f"table {name} is not {tool}'s tracking table: it has no column "
                          f"{', '.join(missing)}")
    return _history(conn, tool, name, columns)


def _history(conn: Connection, tool: str, name: str, columns: dict[str, str]) -> OtherHistory:
    wanted, order = _READERS[tool]
    rows = _rows(conn, name, columns, wanted, order)
    history = OtherHistory(tool, name)
    if tool == "golang-migrate":
        _golang_migrate(history, rows)
    elif tool == "flyway":
        _flyway(history, rows)
    elif tool == "goose":
        _goose(history, rows)
    elif tool == "sqlx":
        _sqlx(history, rows)
    elif tool == "alembic":
        history.heads = [text_of(row[0]) for row in rows]
    else:  # diesel, dbmate: a row per applied version
        history.applied = sorted((text_of(row[0]) for row in rows),
                                 key=lambda v: _sortable(tool, v))
    return history


def detect(conn: Connection) -> list[OtherHistory]:
    """Every other tool's tracking table found under its default name.

    ``schema_migrations`` is golang-migrate's when it has a ``dirty`` column, dbmate's
    when it has the ``version`` column alone. A table of that name in another shape is
    none of theirs and is left out.
    """
    found = []
    fold = connection_dialect(conn) != "postgres"
    present = {n.lower() if fold else n for n in inspect(conn).get_table_names()}
    for tool, name in DEFAULT_TABLES.items():
        if name not in present:
            continue
        columns = _live_columns(conn, name)
        if columns is None or _COLUMNS[tool] - set(columns):
            continue
        if tool == "dbmate" and set(columns) != {"version"}:
            continue
        try:
            if connection_dialect(conn) == "postgres":
                with conn.begin_nested():  # a refused read must not end the transaction
                    found.append(_history(conn, tool, name, columns))
            else:
                found.append(_history(conn, tool, name, columns))
        except DBAPIError:  # a role that may not read it: nothing to say about it
            continue
    return found


def detect_on(migrator: Migrator) -> list[OtherHistory]:
    """:func:`detect` on the migrator's database (no table: an empty list)."""
    with connect(migrator.engine) as conn:
        try:
            return detect(conn)
        finally:
            conn.rollback()


# -- matching and adopting -------------------------------------------------------------


@dataclass
class Adoption:
    """What adopting a history records: ``adopt`` (ids, in migration order) as completed;
    ``already``: those recorded completed here before; ``refusals``: why it cannot
    (each naming the version or migration); ``notes``: rows left aside."""

    history: OtherHistory
    adopt: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON of ``adopt``."""
        return {"tool": self.history.tool, "table": self.history.table,
                "adopted": self.adopt, "already_completed": self.already,
                "notes": self.notes}


def plan_adoption(history: OtherHistory, migrations: Sequence[Migration],
                  rows: dict[str, TrackingRow] | None = None) -> Adoption:
    """Match the versions ``history`` says are applied with ``migrations``.

    A version with no migration here, two migrations with one version, a dirty, failed
    or rolled-back row there, or a matched migration whose row here is failed or
    in_progress is a refusal naming it. ``rows``: switchy-guard's tracking rows.
    """
    tool, rows = history.tool, rows or {}
    adoption = Adoption(history, refusals=list(history.bad))
    adoption.notes += [f"left aside: {item}" for item in history.ignored]
    if tool == "alembic":
        adoption.refusals.append(
            "alembic_version records Alembic revision ids, and which migrations they "
            "stand for is only in Alembic's revision graph (its Python scripts), which "
            "switchy-guard does not read yet: mark the migrations with mark-completed or "
            "mark-all-completed --to ID instead")
        return adoption
    by_key: dict[Any, list[Migration]] = {}
    for migration in migrations:
        version = tool_version(tool, migration.id)
        key = _key(tool, version) if version is not None else None
        if key is not None:
            by_key.setdefault(key, []).append(migration)
    chosen: dict[str, Migration] = {}

    def take(version: str, key: Any) -> None:
        found = by_key.get(key, [])
        if len(found) > 1:
            adoption.refusals.append(f"version {version} matches {len(found)} migrations "
                                     f"here ({', '.join(m.id for m in found)})")
        for migration in found:
            chosen[migration.id] = migration

    for version in history.applied:
        key = _key(tool, version)
        if key is None or key not in by_key:
            adoption.refusals.append(f"version {version} has no migration here")
            continue
        take(version, key)
    if history.up_to is not None:
        limit = _key(tool, history.up_to)
        if tool != "flyway" and limit not in by_key:  # a Flyway baseline needs no file
            adoption.refusals.append(f"version {history.up_to} has no migration here")
        for key in by_key:
            if key == limit:
                take(history.up_to, key)
            elif key < limit:  # golang-migrate applies in order: all before it ran
                for migration in by_key[key]:
                    chosen[migration.id] = migration
    for migration in migrations:
        if migration.id not in chosen:
            continue
        row = rows.get(migration.id)
        if row is None:
            adoption.adopt.append(migration.id)
        elif row.status == COMPLETED:
            adoption.already.append(migration.id)
        else:
            adoption.refusals.append(f"{migration.id} is {row.status} in switchy-guard's "
                                     "tracking table: settle it first (retry or mark-*)")
    return adoption


def adopt(
    migrator: Migrator,
    tool: str,
    *,
    table_name: str | None = None,
    dry_run: bool = False,
    environment: str = "development",
    command: str = "adopt",
    policy: str | None = None,
) -> Adoption:
    """Record as completed exactly the migrations ``tool``'s table says are applied.

    Under the migration lock, after re-reading both tables; refused (Refused, exit 1,
    nothing written, the refusal journaled) when any version cannot be matched or a row
    there is dirty or failed. ``dry_run`` reads only: no lock, no write, no journal.
    """
    migrations = migrator.migrations()
    tracking = migrator.tracking
    if dry_run:
        with connect(migrator.engine) as conn:
            history = read_history(conn, tool, table_name)
            conn.rollback()
            rows = tracking.read(conn)
            conn.rollback()
        adoption = plan_adoption(history, migrations, rows)
        _refuse(adoption)
        return adoption
    with migrator.locked(), connect(migrator.engine) as conn:
        with conn.begin():
            tracking.ensure(conn)
        history = read_history(conn, tool, table_name)
        adoption = plan_adoption(history, migrations, tracking.read(conn))
        conn.commit()
        journal = AuditJournal(tracking.name)
        if adoption.refusals:
            with conn.begin():
                journal.record(conn, command, environment=environment, policy=policy,
                               target=history.table, outcome="refused",
                               detail=_refusal(adoption))
            _refuse(adoption)
        by_id = {m.id: m for m in migrations}
        with conn.begin():
            for migration_id in adoption.adopt:
                migration = by_id[migration_id]
                tracking.record(conn, migration_id, COMPLETED, migration.up_checksum,
                                migration.down_checksum)
            journal.record(
                conn, command, environment=environment, policy=policy,
                target=",".join(adoption.adopt),
                detail=f"adopted from {history.describe()}: {len(adoption.adopt)} "
                       f"marked completed, {len(adoption.already)} already completed",
            )
    return adoption


def _refusal(adoption: Adoption) -> str:
    history = adoption.history
    return (f"adopt --from {history.tool} refused ({history.table}): "
            + "; ".join(adoption.refusals) + "; nothing was recorded")


def _refuse(adoption: Adoption) -> None:
    if adoption.refusals:
        raise Refused(_refusal(adoption))


# -- what status and plan say ----------------------------------------------------------


def other_tool_notes(histories: Iterable[OtherHistory], migrations: Sequence[Migration],
                     rows: dict[str, TrackingRow], planned: Collection[str] | None = None
                     ) -> list[str]:
    """Warnings for ``status`` and ``plan``: migrations that another tool's table
    records as applied, and that switchy-guard would run again. ``planned``: only those
    ids (a plan); None: every migration with no row here."""
    notes = []
    for history in histories:
        adoption = plan_adoption(history, migrations, rows)
        again = [i for i in adoption.adopt if planned is None or i in planned]
        where = f"{history.tool}'s {history.table}"
        if history.tool == "alembic":
            notes.append(f"{where} records revision {history.latest or '(none)'}: the "
                         "database was migrated with Alembic; switchy-guard cannot tell which "
                         "migrations here that covers (adopt --from alembic explains)")
        elif again:
            notes.append(f"{where} records {len(again)} of these migrations as applied "
                         f"(up to {history.latest}): migrate would run them again; "
                         f"`switchy-guard adopt --from {history.tool}` records them first")
        if history.bad:
            notes.append(f"{where} is dirty: {'; '.join(history.bad)}")
    return notes
