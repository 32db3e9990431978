"""The impact report of ``plan``: what each migration that would run does, and to what.

For each planned migration: its statements, the objects it creates, alters and drops,
its findings (schema-aware over the plan), whether it runs in a transaction and whether
it is reversible. With a database, each destructive statement on an existing table gets
the rows it affects: counted exactly, or, for tables the database's statistics say are
large, the statistics' estimate (labelled as such); a dropped column also gets how many
of its values are not NULL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from .db import connect, connection_dialect, database_reason
from .findings import Finding
from .runner import Migrator, Plan, PlannedMigration, Strategy
from .state import MigrationState

if TYPE_CHECKING:
    from .gate import Verdict
    from .sql.classify import Name, StatementInfo
    from .validation import AllowedFinding

# The validator and the classifier are imported where a detailed report needs them: a
# run whose policy judges nothing from the plan does not pay for loading every rule.

#: Above this many rows (by the statistics), counts are the statistics' estimate.
EXACT_COUNT_LIMIT = 100_000

_DESTRUCTIVE = {"drop_table", "truncate", "delete", "update"}


@dataclass
class RowImpact:
    """Rows a destructive statement touches."""

    statement: int  # 1-based statement number in the migration
    table: str
    what: str  # "drop table", "drop column c", "delete all rows", ...
    rows: int | None
    estimate: bool = False
    non_null: int | None = None  # dropped column: values that are not NULL


@dataclass
class MigrationImpact:
    """One planned migration, as the report shows it."""

    id: str
    transactional: bool
    reversible: bool
    statements: list[str]
    creates: list[str] = field(default_factory=list)
    alters: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rows: list[RowImpact] = field(default_factory=list)
    allowed: list[AllowedFinding] = field(default_factory=list)


@dataclass
class ImpactReport:
    """The whole plan's impact."""

    direction: str
    dialect: str
    migrations: list[MigrationImpact]
    warnings: list[str]
    live: bool  # row figures come from a database
    gate: Verdict | None = None  # set once a policy has judged the plan

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape."""
        return {
            "direction": self.direction, "dialect": self.dialect, "live": self.live,
            "warnings": self.warnings,
            "gate": self.gate.to_dict() if self.gate else None,
            "migrations": [
                {
                    "id": m.id, "transactional": m.transactional, "reversible": m.reversible,
                    "statements": m.statements, "creates": m.creates, "alters": m.alters,
                    "drops": m.drops, "findings": [f.to_dict() for f in m.findings],
                    "allowed": [{**a.finding.to_dict(), "reason": a.reason}
                                for a in m.allowed],
                    "rows": [vars(r) for r in m.rows],
                }
                for m in self.migrations
            ],
        }


def _objects(info: StatementInfo, impact: MigrationImpact) -> None:
    table = str(info.table) if info.table else "?"
    if info.kind == "create_table":
        impact.creates.append(f"table {table}")
    elif info.kind == "create_index":
        impact.creates.append(f"index {info.index or '(unnamed)'} on {table}")
    elif info.kind == "create_other":
        kind = info.object_type or "object"
        impact.creates.append(f"{kind} {info.table}" if info.table else kind)
    elif info.kind == "drop_table":
        impact.drops.extend(f"table {t}" for t in info.tables)
    elif info.kind == "drop_index":
        impact.drops.append(f"index {info.index}")
    elif info.kind in ("drop_other", "drop_schema"):
        impact.drops.extend(f"{info.object_type} {name}" for name in info.tables or (table,))
    elif info.kind == "alter_table":
        for action in info.actions:
            if action.kind == "drop_column":
                impact.drops.append(f"column {table}.{action.column}")
            elif action.kind == "add_column":
                impact.alters.append(f"{table}: add column {action.column}")
            else:
                target = f" {action.column}" if action.column else ""
                impact.alters.append(f"{table}: {action.kind.replace('_', ' ')}{target}")
    elif info.kind in ("rename_table", "truncate", "delete", "update"):
        impact.alters.append(f"{table}: {info.kind.replace('_', ' ')}")


#: A live table: (schema, name) as the database spells them.
Table = tuple[str, str]


class _Counter:
    """Row counts on the live database, exact for small tables.

    Names in the plan are resolved to live tables here: a schema-qualified name (another
    PostgreSQL schema, another MySQL database, an attached SQLite database) to that
    schema's table, an unqualified one to the default schema's; SQLite and MySQL match
    unquoted names whatever their case (the classifier lower-cases them)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = connection_dialect(conn)
        self.inspector = inspect(conn)
        self.default_schema = self.inspector.default_schema_name or ""
        self.folds = self.dialect != "postgres"
        self._quote = conn.dialect.identifier_preparer
        self._tables: dict[str, dict[str, str]] = {}  # folded schema -> folded -> live
        self._columns: dict[Table, dict[str, str]] = {}
        self.problems: list[str] = []  # counts the database refused

    def fold(self, name: str) -> str:
        return name.lower() if self.folds else name

    def key(self, name: Name, schema: str | None = None) -> Table:
        """The name as a comparable key (schema made explicit, case folded); ``schema``:
        the one meant when the name has none."""
        return self.fold(name.schema or schema or self.default_schema), self.fold(name.name)

    def live(self, key: Table) -> Table | None:
        """The live table a key names, or None when there is none."""
        schema, name = key
        if schema not in self._tables:
            live = schema if schema != self.fold(self.default_schema) else None
            try:
                names = self.inspector.get_table_names(schema=live)
            except Exception:  # an unknown schema or database: no such table
                names = []
            self._tables[schema] = {self.fold(n): n for n in names}
        found = self._tables[schema].get(name)
        if found is None:
            return None
        return (schema if schema != self.fold(self.default_schema) else self.default_schema,
                found)

    def column(self, table: Table, column: str) -> str | None:
        """The live column of ``table`` a plan name stands for, or None."""
        if table not in self._columns:
            schema = None if table[0] == self.default_schema else table[0]
            names = (c["name"] for c in self.inspector.get_columns(table[1], schema=schema))
            self._columns[table] = {self.fold(n): n for n in names}
        return self._columns[table].get(self.fold(column))

    def quoted(self, table: Table) -> str:
        schema, name = table
        if schema == self.default_schema:
            return self._quote.quote(name)
        return f"{self._quote.quote_schema(schema)}.{self._quote.quote(name)}"

    def _estimate(self, table: Table) -> int | None:
        if self.dialect == "postgres":
            # A partitioned table has no statistics of its own: its leaf partitions'
            # (those never analyzed count as none, so it is a lower bound).
            value = self.conn.execute(text(
                "SELECT CASE c.relkind WHEN 'r' THEN c.reltuples WHEN 'p' THEN"
                " (SELECT SUM(GREATEST(l.reltuples, 0)) FROM pg_partition_tree(c.oid) t"
                "  JOIN pg_class l ON l.oid = t.relid WHERE t.isleaf AND l.relkind = 'r')"
                " END FROM pg_class c WHERE c.oid = to_regclass(:t)"
            ), {"t": self.quoted(table)}).scalar()
        elif self.dialect == "mysql":
            value = self.conn.execute(
                text("SELECT TABLE_ROWS FROM information_schema.TABLES "
                     "WHERE TABLE_SCHEMA = :s AND TABLE_NAME = :t"),
                {"s": table[0], "t": table[1]},
            ).scalar()
        else:
            return None  # SQLite keeps no statistics worth trusting: count
        return int(value) if value is not None and value >= 0 else None

    def rows(self, table: Table, column: str | None = None
             ) -> tuple[int | None, bool, int | None]:
        """(rows, is_estimate, non-null values of ``column``); rows None when the database
        refuses to count them (a role that may not read the table), noted in
        :attr:`problems`."""
        try:
            if self.dialect != "postgres":
                return self._rows(table, column)
            with self.conn.begin_nested():  # an error must not end the transaction
                return self._rows(table, column)
        except DBAPIError as exc:
            self.problems.append(f"rows of {self.quoted(table)} not counted: "
                                 f"{database_reason(exc)}")
            return None, False, None

    def _rows(self, table: Table, column: str | None) -> tuple[int, bool, int | None]:
        estimate = self._estimate(table)
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return estimate, True, None
        quoted = self.quoted(table)
        if column is None:
            count = self.conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar()
            return int(count or 0), False, None
        row = self.conn.exec_driver_sql(
            f"SELECT COUNT(*), COUNT({self._quote.quote(column)}) FROM {quoted}"
        ).one()
        return int(row[0]), False, int(row[1])


    def count(self, sql: str) -> int | None:
        """``SELECT COUNT(*) ...``'s answer, or None when the database refuses it."""
        try:
            if self.dialect != "postgres":
                return int(self.conn.exec_driver_sql(sql).scalar() or 0)
            with self.conn.begin_nested():
                return int(self.conn.exec_driver_sql(sql).scalar() or 0)
        except DBAPIError as exc:
            self.problems.append(f"cascaded rows not counted: {database_reason(exc)}")
            return None

    def referencing(self, table: Table) -> list[_ForeignKey]:
        """The foreign keys that reference ``table`` (on SQLite only while the session
        enforces them, as only then do they cascade)."""
        if self.dialect == "postgres":
            rows = self.conn.execute(text(
                "SELECT n.nspname, c.relname, con.confdeltype = 'c',"
                " ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY"
                "  k(num, i) JOIN pg_attribute a ON a.attrelid = con.conrelid"
                "  AND a.attnum = k.num ORDER BY k.i),"
                " ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY"
                "  k(num, i) JOIN pg_attribute a ON a.attrelid = con.confrelid"
                "  AND a.attnum = k.num ORDER BY k.i)"
                " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE con.contype = 'f'"
                " AND con.conparentid = 0 AND con.confrelid = to_regclass(:t)"
                " ORDER BY n.nspname, c.relname, con.conname"
            ), {"t": self.quoted(table)}).all()
            return [_ForeignKey((r[0], r[1]), tuple(r[3]), tuple(r[4]), bool(r[2]))
                    for r in rows]
        if self.dialect == "mysql":
            grouped: dict[tuple[str, str, str], _ForeignKey] = {}
            for row in self.conn.execute(text(
                "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, r.DELETE_RULE,"
                " k.COLUMN_NAME, k.REFERENCED_COLUMN_NAME"
                " FROM information_schema.KEY_COLUMN_USAGE k"
                " JOIN information_schema.REFERENTIAL_CONSTRAINTS r"
                " ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA"
                " AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME"
                " WHERE k.REFERENCED_TABLE_SCHEMA = :s AND k.REFERENCED_TABLE_NAME = :t"
                " ORDER BY k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME,"
                " k.ORDINAL_POSITION"), {"s": table[0], "t": table[1]}):
                fk = grouped.setdefault((row[0], row[1], row[2]), _ForeignKey(
                    (row[0], row[1]), (), (), row[3] == "CASCADE"))
                fk.columns += (row[4],)
                fk.referred += (row[5],)
            return list(grouped.values())
        if not self.conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
            return []
        found: list[_ForeignKey] = []
        schema = self._quote.quote(table[0])
        for child in self.inspector.get_table_names(schema=table[0]):
            sqlite_fks: dict[int, _ForeignKey] = {}
            for row in self.conn.exec_driver_sql(
                f"PRAGMA {schema}.foreign_key_list({self._quote.quote(child)})"
            ):  # id, seq, table, from, to, on_update, on_delete, match
                if self.fold(row[2]) != self.fold(table[1]):
                    continue
                fk = sqlite_fks.setdefault(row[0], _ForeignKey(
                    (table[0], child), (), (), str(row[6]).upper() == "CASCADE"))
                fk.columns += (row[3],)
                fk.referred += (row[4],) if row[4] is not None else ()
            for fk in sqlite_fks.values():
                if len(fk.referred) != len(fk.columns):  # REFERENCES t: its primary key
                    fk.referred = tuple(self.inspector.get_pk_constraint(
                        table[1], schema=table[0])["constrained_columns"])
                found.append(fk)
        return found


@dataclass
class _ForeignKey:
    """A foreign key of ``child`` (``columns``) referencing another table's ``referred``."""

    child: Table
    columns: tuple[str, ...]
    referred: tuple[str, ...]
    cascade: bool  # ON DELETE CASCADE


def _cascades(index: int, root: Table, every_row: bool, counter: _Counter,
              truncate: bool = False) -> list[tuple[RowImpact, Table]]:
    """The rows a delete from ``root`` removes from other tables through ON DELETE
    CASCADE foreign keys (and, for ``TRUNCATE ... CASCADE``, every row of every table
    referencing it), each with its table. Counted when every row of ``root`` goes
    (a WHERE clause's rows are not known: those are listed as unknown)."""
    out: list[tuple[RowImpact, Table]] = []
    quote = counter._quote.quote

    def walk(parent: Table, deleted: str | None, path: tuple[Table, ...]) -> None:
        # ``deleted``: a condition on alias ``p`` that holds for the parent's deleted
        # rows ("" for all of them), None when they are not known.
        for fk in counter.referencing(parent):
            if fk.child in path or not (fk.cascade or truncate):
                continue
            name = fk.child[1] if fk.child[0] == counter.default_schema else \
                f"{fk.child[0]}.{fk.child[1]}"
            origin = parent[1] if parent[0] == counter.default_schema else \
                f"{parent[0]}.{parent[1]}"
            what = (f"truncate (CASCADE from {origin})" if truncate
                    else f"delete (ON DELETE CASCADE from {origin})")
            condition: str | None
            if truncate or deleted is None:
                condition = "" if truncate else None
                rows, estimate = (counter.rows(fk.child)[:2] if truncate else (None, False))
            else:
                depth = len(path)
                match = " AND ".join(f"p{depth}.{quote(r)} = c{depth}.{quote(c)}"
                                     for c, r in zip(fk.columns, fk.referred, strict=True))
                parent_rows = deleted.replace("{p}", f"p{depth}")
                condition = (f"EXISTS (SELECT 1 FROM {counter.quoted(parent)} p{depth} "
                             f"WHERE {match}{' AND ' + parent_rows if parent_rows else ''})")
                total = counter._estimate(fk.child)
                if total is not None and total > EXACT_COUNT_LIMIT:
                    rows, estimate = total, True  # at most the whole table
                else:
                    rows, estimate = counter.count(
                        f"SELECT COUNT(*) FROM {counter.quoted(fk.child)} c{depth} "
                        f"WHERE {condition}"), False
                condition = condition.replace(f"c{depth}.", "{p}.")
            out.append((RowImpact(index, name, what, rows, estimate), fk.child))
            walk(fk.child, condition, (*path, fk.child))

    walk(root, "" if every_row or truncate else None, (root,))
    return out


class _PlanNames:
    """Which live table and column a name in the plan stands for at each point: tables
    the plan creates are new (no live rows), and renames are followed, so a statement on
    a table or column renamed earlier in the plan counts the live one (and one added by
    the plan counts nothing). Tables are keyed by :meth:`_Counter.key`."""

    def __init__(self, counter: _Counter) -> None:
        self.counter = counter
        self.new_tables: set[Table] = set()
        self.emptied: set[Table] = set()  # live tables the plan has emptied by now
        self.tables: dict[Table, Table | None] = {}  # plan key -> live table (None: none)
        self.columns: dict[tuple[Table, str], str | None] = {}  # (live, folded plan name)

    def table(self, name: Name, *, emptied: bool = False) -> Table | None:
        """The live table ``name`` stands for, None when the plan has created it (or,
        unless ``emptied``, already emptied it: its rows are counted once)."""
        key = self.counter.key(name)
        if key in self.new_tables:
            return None
        live = self.tables[key] if key in self.tables else self.counter.live(key)
        return None if live in self.emptied and not emptied else live

    def column(self, table: Table, name: str) -> str | None:
        source = self.columns.get((table, self.counter.fold(name)), name)
        return None if source is None else self.counter.column(table, source)

    def observe(self, info: StatementInfo) -> None:
        """Follow what ``info`` creates and renames."""
        if info.table is None:
            return
        key = self.counter.key(info.table)
        if info.kind == "create_table":
            self.new_tables.add(key)
            self.tables.pop(key, None)
            return
        if info.kind not in ("rename_table", "alter_table"):
            return
        live = self.table(info.table)
        fold = self.counter.fold
        if live is not None:
            for action in info.actions:
                if not action.column:
                    continue
                if action.kind == "add_column":
                    self.columns[(live, fold(action.column))] = None
                elif action.new_name and fold(action.new_name) != fold(action.column):
                    source = self.columns.get((live, fold(action.column)), action.column)
                    self.columns[(live, fold(action.new_name))] = source
                    self.columns[(live, fold(action.column))] = None
        if info.new_name is None:
            return
        # ALTER TABLE s.t RENAME TO u keeps the table in its schema.
        new = self.counter.key(info.new_name,
                               info.table.schema if info.kind == "alter_table" else None)
        if new == key:
            return
        if key in self.new_tables:
            self.new_tables.discard(key)
            self.new_tables.add(new)
            return
        self.new_tables.discard(new)
        self.tables[new] = live
        self.tables[key] = None


def _row_impacts(
    index: int, info: StatementInfo, counter: _Counter, names: _PlanNames
) -> list[RowImpact]:
    if info.table is None:
        return []
    table = str(info.table)
    out = []
    if info.kind in ("drop_table", "truncate"):
        what = info.kind.replace("_", " ")
        for target in info.tables or (info.table,):
            source = names.table(target)
            if source is not None:
                rows, estimate, _ = counter.rows(source)
                out.append(RowImpact(index, str(target), what, rows, estimate))
            live = names.table(target, emptied=True)
            if info.kind == "truncate" and live is not None:
                names.emptied.add(live)
                if info.cascade:
                    out += _emptying(_cascades(index, live, True, counter, truncate=True),
                                     names, counter)
        return out
    source = names.table(info.table)
    if source is None:
        return out
    if info.kind in ("delete", "update") and not info.has_where:
        rows, estimate, _ = counter.rows(source)
        out.append(RowImpact(index, table, f"{info.kind} every row", rows, estimate))
        if info.kind == "delete":
            names.emptied.add(source)
    if info.kind == "delete":
        out += _emptying(_cascades(index, source, not info.has_where, counter), names,
                        counter)
    elif info.kind == "alter_table":
        for action in info.actions:
            if not action.column or action.kind not in ("drop_column", "alter_type"):
                continue
            column = names.column(source, action.column)
            if column is None:
                continue  # added by the plan: no live values
            if action.kind == "drop_column":
                rows, estimate, non_null = counter.rows(source, column)
                out.append(RowImpact(index, table, f"drop column {action.column}", rows,
                                     estimate, non_null))
            else:
                rows, estimate, _ = counter.rows(source)
                out.append(RowImpact(index, table, f"change type of {action.column}", rows,
                                     estimate))
    return out


def _emptying(cascaded: list[tuple[RowImpact, Table]], names: _PlanNames,
              counter: _Counter) -> list[RowImpact]:
    """The cascaded rows, leaving out tables the plan has emptied already (their rows
    were counted then); a table the cascade leaves empty is emptied by it."""
    out = []
    for row, live in cascaded:
        if live in names.emptied:
            continue
        if row.what.startswith("truncate") or (
            row.rows is not None and not row.estimate and counter.rows(live)[0] == row.rows
        ):
            names.emptied.add(live)
        out.append(row)
    return out


def rollback_report(migrator: Migrator, strategy: Strategy, *, force: bool = True,
                    state: MigrationState | None = None) -> ImpactReport:
    """The impact of what ``rollback`` would do: down scripts in order, what they drop,
    the rows that would be lost, changed down scripts and the dependents rolled back too.

    Migrations without a down script make it raise Refused, naming them, as rollback does.
    With ``force=False`` it also refuses what rollback refuses without ``--force``.
    """
    state = state or migrator.state()
    plan = migrator.plan_rollback(strategy, force=force, state=state)
    ids = set(plan.ids)
    warnings = [w for w in plan.warnings if not w.startswith("--force:")]
    for entry in state.drifted():
        if entry.id in ids:
            warnings.append(
                f"{entry.id}: {' and '.join(entry.drift)} script changed since it was applied"
                " (rollback refuses it without --force)"
            )
    for step in plan.steps:
        dependents = [s.migration.id for s in plan.steps
                      if step.migration.id in s.migration.depends_on]
        if dependents:
            warnings.append(f"{step.migration.id} is needed by {', '.join(dependents)}, "
                            "rolled back before it")
    return _report(migrator, plan, warnings, findings=False)


def impact_report(
    migrator: Migrator,
    strategy: Strategy | None = None,
    *,
    live: bool = True,
    detailed: bool = True,
    state: MigrationState | None = None,
    **plan_options: bool,
) -> ImpactReport:
    """The impact of what ``migrate`` would do with ``strategy``; ``plan_options``
    (``force``, ``retry_failed``, ``require_checksum_validation``) as for ``migrate``.

    ``detailed=False`` leaves out what costs a pass over every statement (findings, the
    objects touched, row counts): for a gate whose policy judges none of it.
    """
    plan = migrator.plan(strategy, state=state, **plan_options)
    return _report(migrator, plan, list(plan.warnings), live=live and detailed,
                   findings=detailed, objects=detailed)


def _report(migrator: Migrator, plan: Plan, warnings: list[str], *, live: bool = True,
            findings: bool = True, objects: bool = True) -> ImpactReport:
    planned_ids = {step.migration.id for step in plan.steps}
    by_migration: dict[str, list[Finding]] = {}
    allowed: dict[str, list[AllowedFinding]] = {}
    if findings:
        from .validation import validate

        result = validate(migrator.migrations(), migrator.dialect, plan_ids=planned_ids)
        for finding in result.findings:
            by_migration.setdefault(finding.migration or "", []).append(finding)
        for item in result.allowed:
            allowed.setdefault(item.finding.migration or "", []).append(item)
    if not objects:
        return ImpactReport(plan.direction, plan.dialect, [
            MigrationImpact(step.migration.id, step.transactional, step.migration.reversible,
                            [s.text for s in step.statements])
            for step in plan.steps
        ], warnings, live=False)
    impacts = []
    with connect(migrator.engine) as conn:
        counter = _Counter(conn) if live else None
        names = _PlanNames(counter) if counter is not None else None
        for step in plan.steps:
            impact = _impact_of(step, migrator.dialect, counter, names,
                                by_migration.get(step.migration.id, []))
            impact.allowed = allowed.get(step.migration.id, [])
            impacts.append(impact)
        conn.rollback()
    if counter is not None:
        warnings = warnings + list(dict.fromkeys(counter.problems))
    return ImpactReport(plan.direction, plan.dialect, impacts, warnings,
                        live=counter is not None)


def _impact_of(step: PlannedMigration, dialect: str, counter: _Counter | None,
               names: _PlanNames | None, findings: list[Finding]) -> MigrationImpact:
    impact = MigrationImpact(
        step.migration.id, step.transactional, step.migration.reversible,
        [s.text for s in step.statements], findings=findings,
    )
    from .sql.classify import classify

    for number, statement in enumerate(step.statements, 1):
        info = classify(statement.text, dialect)
        _objects(info, impact)
        if counter is None or names is None:
            continue
        if info.kind in _DESTRUCTIVE | {"alter_table"}:
            impact.rows.extend(_row_impacts(number, info, counter, names))
        names.observe(info)
    return impact


def _rows_text(row: RowImpact) -> str:
    if row.rows is None:
        return "unknown"
    count = _counted(row.rows, "row")
    if row.estimate:
        count = f"~{count} (estimate from statistics)"
    if row.non_null is not None:
        count += f", {_counted(row.non_null, 'non-NULL value')}"
    return count


def _counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def render_text(report: ImpactReport) -> str:
    """The report for people."""
    lines = [f"Plan: {len(report.migrations)} migration(s) to "
             f"{'apply' if report.direction == 'up' else 'roll back'} on {report.dialect}"
             + ("" if report.live else " (no database: row figures unknown)")]
    lines += [f"warning: {w}" for w in report.warnings]
    for number, m in enumerate(report.migrations, 1):
        mode = "in a transaction" if m.transactional else "statement by statement"
        reversible = "reversible" if m.reversible else "IRREVERSIBLE"
        lines.append(f"{number}. {m.id} ({mode}; {reversible})")
        for statement in m.statements:
            first, *rest = statement.splitlines() or [""]
            lines.append(f"   > {first}" + (" ..." if rest else ""))
        for label, items in (("creates", m.creates), ("alters", m.alters), ("drops", m.drops)):
            if items:
                lines.append(f"   {label}: {', '.join(items)}")
        for row in m.rows:
            lines.append(f"   data: statement {row.statement} {row.what} on {row.table}: "
                         f"{_rows_text(row)}")
        for finding in m.findings:
            lines.append(f"   {finding.severity.value} {finding.code} {finding.name}: "
                         f"{finding.message}")
        for item in m.allowed:
            lines.append(f"   allowed {item.finding.code} {item.finding.name}: {item.reason}")
    if not report.migrations:
        lines.append("Nothing to do.")
    if report.gate is not None:
        lines += _gate_lines(report.gate)
    return "\n".join(lines) + "\n"


def _gate_lines(verdict: Verdict) -> list[str]:
    lines = [f"Gate: policy {verdict.policy} (chosen by {verdict.chosen_by}): "
             + ("REFUSED" if verdict.refused else "allowed")]
    for check in verdict.checks:
        where = f" [{check.migration}]" if check.migration else ""
        lines.append(f"   {check.outcome:<8} {check.check}{where}: {check.reason}")
    return lines


def render_markdown(report: ImpactReport) -> str:
    """The report as a pull-request comment."""
    lines = [f"### switchy-guard plan: {len(report.migrations)} migration(s) on "
             f"{report.dialect}", "",
             "| migration | transaction | reversible | creates | alters | drops | data | "
             "findings |", "|---|---|---|---|---|---|---|---|"]
    for m in report.migrations:
        data = "; ".join(f"{r.what} on {r.table}: {_rows_text(r)}" for r in m.rows)
        found = "; ".join(f"`{f.code}` {f.name}" for f in m.findings)
        cells = [m.id, "yes" if m.transactional else "no", "yes" if m.reversible else "**no**",
                 ", ".join(m.creates), ", ".join(m.alters), ", ".join(m.drops), data, found]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if report.gate is not None:
        lines += ["", *(f"- {line.strip()}" if i else f"**{line}**"
                        for i, line in enumerate(_gate_lines(report.gate)))]
    return "\n".join(lines) + "\n"
