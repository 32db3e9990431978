"""``verify``: prove the down scripts on a scratch database.

For each migration in order: snapshot the schema, apply up, snapshot, apply down, compare
with the snapshot before up, apply up again and compare with the snapshot after the first
up. Snapshots come from SQLAlchemy's inspector: tables, columns (type and nullability),
indexes (columns and uniqueness) and foreign keys; switchy-guard's own tables are left
out. Only the scratch database is touched: a temporary SQLite file by default, the URL
given, or a fresh database created beside the ``-d`` database on its server (and dropped
afterwards) when that is PostgreSQL or MySQL.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from .db import create_database_engine, dialect_of, parse_url
from .discovery import SourceSpec
from .errors import MigrationFailed
from .records import COMPLETED, DEFAULT_TABLE
from .runner import Migrator, Steps

Snapshot = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Difference:
    """One way the schema differs from what it should be."""

    migration: str
    step: str  # "down" (compared with before up) or "re-up" (with after the first up)
    kind: str  # table, column, index, foreign key
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.migration} after {self.step}: {self.kind} {self.name}: {self.detail}"


@dataclass
class VerifyReport:
    """What verify found."""

    verified: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No difference."""
        return not self.differences


def snapshot(engine: Engine, exclude: set[str]) -> Snapshot:
    """The schema as the inspector sees it, minus the ``exclude`` tables."""
    inspector = inspect(engine)
    result: Snapshot = {}
    for table in sorted(set(inspector.get_table_names()) - exclude):
        columns = {}
        for column in inspector.get_columns(table):
            try:
                type_text = str(column["type"]).lower()
            except Exception:  # pragma: no cover - a type the dialect cannot print
                type_text = type(column["type"]).__name__.lower()
            columns[column["name"]] = (type_text, bool(column["nullable"]))
        indexes = {
            index["name"]: (tuple(index["column_names"]), bool(index["unique"]))
            for index in inspector.get_indexes(table)
        }
        foreign_keys = sorted(
            (tuple(fk["constrained_columns"]), fk["referred_table"],
             tuple(fk["referred_columns"]))
            for fk in inspector.get_foreign_keys(table)
        )
        result[table] = {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys}
    return result


def compare(expected: Snapshot, actual: Snapshot, migration: str, step: str
            ) -> list[Difference]:
    """Every difference of ``actual`` from ``expected``."""
    out: list[Difference] = []

    def add(kind: str, name: str, detail: str) -> None:
        out.append(Difference(migration, step, kind, name, detail))

    for table in sorted(set(expected) | set(actual)):
        if table not in actual:
            add("table", table, "missing")
            continue
        if table not in expected:
            add("table", table, "left behind")
            continue
        want, have = expected[table], actual[table]
        for column in sorted(set(want["columns"]) | set(have["columns"])):
            name = f"{table}.{column}"
            if column not in have["columns"]:
                add("column", name, "missing")
            elif column not in want["columns"]:
                add("column", name, "left behind")
            elif want["columns"][column] != have["columns"][column]:
                (wtype, wnull), (htype, hnull) = want["columns"][column], have["columns"][column]
                add("column", name, f"was {wtype}{'' if wnull else ' NOT NULL'}, now "
                                    f"{htype}{'' if hnull else ' NOT NULL'}")
        for index in sorted(set(want["indexes"]) | set(have["indexes"]), key=str):
            name = f"{index} on {table}"
            if index not in have["indexes"]:
                add("index", name, "missing")
            elif index not in want["indexes"]:
                add("index", name, "left behind")
            elif want["indexes"][index] != have["indexes"][index]:
                add("index", name, f"was {want['indexes'][index]}, now {have['indexes'][index]}")
        for fk in sorted(set(want["foreign_keys"]) ^ set(have["foreign_keys"])):
            state = "missing" if fk in want["foreign_keys"] else "left behind"
            add("foreign key", f"{table}({', '.join(fk[0])}) -> {fk[1]}", state)
    return out


@contextmanager
def scratch_database(database_url: str | None, scratch_url: str | None) -> Iterator[str]:
    """The URL of a scratch database that exists only for the block."""
    if scratch_url:
        yield scratch_url
        return
    dialect = dialect_of(database_url) if database_url else "sqlite"
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="switchy-verify-") as folder:
            yield f"sqlite:///{Path(folder) / 'scratch.db'}"
        return
    assert database_url is not None
    name = f"switchy_verify_{uuid.uuid4().hex[:10]}"
    server = create_engine(parse_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield parse_url(database_url).set(database=name).render_as_string(
                hide_password=False
            )
        finally:
            with server.connect() as conn:
                conn.execute(text(f"DROP DATABASE {name}"))
    finally:
        server.dispose()


def verify(
    source: SourceSpec,
    *,
    database_url: str | None = None,
    scratch_url: str | None = None,
    table: str = DEFAULT_TABLE,
    checksum_mode: str = "file",
) -> VerifyReport:
    """Apply up, down, up for each migration on a scratch database and compare."""
    report = VerifyReport()
    exclude = {table, f"{table}_statements", f"{table}_audit"}
    with scratch_database(database_url, scratch_url) as url:
        engine = create_database_engine(url)
        try:
            migrator = Migrator(source, engine, table=table, checksum_mode=checksum_mode)
            for migration in migrator.migrations():
                before = snapshot(engine, exclude)
                migrator.migrate(Steps(1))
                after_up = snapshot(engine, exclude)
                if not migration.reversible:
                    report.skipped.append(migration.id)
                    continue
                report.verified.append(migration.id)
                try:
                    migrator.rollback(Steps(1))
                except MigrationFailed as error:
                    report.differences.append(Difference(
                        migration.id, "down", "migration", migration.id,
                        f"the down script failed: {error.reason}"))
                    continue  # still applied: the next migration builds on it
                report.differences += compare(before, snapshot(engine, exclude),
                                              migration.id, "down")
                try:
                    migrator.migrate(Steps(1))
                except MigrationFailed as error:
                    report.differences.append(Difference(
                        migration.id, "re-up", "migration", migration.id,
                        f"up failed after down (down left something behind): {error.reason}"))
                    # Record it applied so the next migrations can be verified on top.
                    with engine.begin() as conn:
                        migrator.tracking.record(
                            conn, migration.id, COMPLETED, migration.up_checksum,
                            migration.down_checksum, replace=True)
                    continue
                report.differences += compare(after_up, snapshot(engine, exclude),
                                              migration.id, "re-up")
        finally:
            engine.dispose()
    return report
