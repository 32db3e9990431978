"""Rows a planned destructive statement would hit, counted on the live database.

Exact counts for small tables; for tables the database's statistics say are large, the
statistics' estimate (labelled as such). A dropped column also gets how many of its
values are not NULL; a DELETE or TRUNCATE ... CASCADE the rows its foreign keys take
along. Names in the plan are followed through the plan's own renames, creations and
drops (:class:`PlanNames`), so a table the plan creates or empties is not counted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from switchy_guard.runtime.db import connection_dialect, database_reason

if TYPE_CHECKING:
    from switchy_guard.rules.base import LiveTables
    from switchy_guard.sql.classify import Name, StatementInfo

#: Above this many rows (by the statistics), counts are the statistics' estimate.
EXACT_COUNT_LIMIT = 100_000


@dataclass
class RowImpact:
    """Rows a destructive statement touches."""

    statement: int  # 1-based statement number in the migration
    table: str
    what: str  # "drop table", "drop column c", "delete all rows", ...
    rows: int | None
    estimate: bool = False
    non_null: int | None = None  # dropped column: values that are not NULL



#: A live table: (schema, name) as the database spells them.
Table = tuple[str, str]


class RowCounter:
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
        # Nothing of the plan is applied while it is reported: the live answers hold for
        # the whole report, so each is asked once (a cascade walk asks again per DELETE).
        self._counted: dict[tuple[Table, str | None], tuple[int, bool, int | None]] = {}
        self._estimates: dict[Table, int | None] = {}
        self._referencing: dict[Table, list[_ForeignKey]] = {}

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

    def label(self, table: Table) -> str:
        """How the report names ``table``: schema-qualified outside the default schema."""
        return table[1] if table[0] == self.default_schema else f"{table[0]}.{table[1]}"

    def quoted(self, table: Table) -> str:
        schema, name = table
        if schema == self.default_schema:
            return self._quote.quote(name)
        return f"{self._quote.quote_schema(schema)}.{self._quote.quote(name)}"

    def _estimate(self, table: Table) -> int | None:
        if table not in self._estimates:
            self._estimates[table] = self._statistics(table)
        return self._estimates[table]

    def _statistics(self, table: Table) -> int | None:
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
        if (table, column) not in self._counted:
            self._counted[table, column] = self._count_rows(table, column)
        return self._counted[table, column]

    def _count_rows(self, table: Table, column: str | None) -> tuple[int, bool, int | None]:
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
        if table not in self._referencing:
            self._referencing[table] = self._foreign_keys_to(table)
        return self._referencing[table]

    def _foreign_keys_to(self, table: Table) -> list[_ForeignKey]:
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


def _cascades(index: int, root: Table, every_row: bool, counter: RowCounter,
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
            name = counter.label(fk.child)
            what = (f"truncate (CASCADE from {counter.label(parent)})" if truncate
                    else f"delete (ON DELETE CASCADE from {counter.label(parent)})")
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


class LiveTableNames:
    """The tables (and views) of a live database, read in one query: which names a
    plan's CREATE TABLE would find taken (see rules.base.NewTables).

    An unqualified name is looked up in the schema a CREATE TABLE of it would create in
    (PostgreSQL's current_schema(), MySQL's current database) and, on SQLite, in every
    attached database; MySQL and SQLite names whatever their case. When the database
    cannot be read, every name may exist."""

    _QUERIES = {
        "postgres": "SELECT n.nspname, c.relname, n.nspname = current_schema()"
                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')",
        "mysql": "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_SCHEMA = DATABASE()"
                 " FROM information_schema.TABLES",
        "sqlite": "SELECT schema, name, 1 FROM pragma_table_list",
    }

    def __init__(self, dialect: str, rows: list[tuple[str, str, bool]] | None) -> None:
        self.dialect = dialect
        self.known = rows is not None
        self._by_schema: dict[str, set[str]] = {}
        self._default: set[str] = set()
        for schema, name, default in rows or ():
            self._by_schema.setdefault(self._fold(schema), set()).add(self._fold(name))
            if default:
                self._default.add(self._fold(name))

    def _fold(self, name: str) -> str:
        return name if self.dialect == "postgres" else name.lower()

    @classmethod
    def read(cls, conn: Connection) -> LiveTableNames:
        """The tables of the database ``conn`` is connected to."""
        dialect = connection_dialect(conn)
        query = cls._QUERIES.get(dialect)
        if query is None:
            return cls(dialect, None)
        try:
            if dialect == "postgres":
                with conn.begin_nested():  # an error must not end the transaction
                    rows = conn.exec_driver_sql(query).all()
            else:
                rows = conn.exec_driver_sql(query).all()
        except DBAPIError:
            return cls(dialect, None)
        return cls(dialect, [(str(r[0]), str(r[1]), bool(r[2])) for r in rows])

    def may_exist(self, name: Name) -> bool:
        """Whether the database has, or may have, the table ``name``."""
        if not self.known:
            return True
        if name.schema is None:
            return self._fold(name.name) in self._default
        return self._fold(name.name) in self._by_schema.get(self._fold(name.schema), ())


class _CounterTables:
    """LiveTables answered by a RowCounter's per-schema lookups."""

    def __init__(self, counter: RowCounter) -> None:
        self.counter = counter

    def may_exist(self, name: Name) -> bool:
        return self.counter.live(self.counter.key(name)) is not None


class PlanNames:
    """Which live table and column a name in the plan stands for at each point: tables
    the plan creates are new (no live rows), and renames are followed, so a statement on
    a table or column renamed earlier in the plan counts the live one (and one added by
    the plan counts nothing). Tables are keyed by :meth:`RowCounter.key`. Which tables
    are new is the validator's answer (rules.base.NewTables), on ``live``: a CREATE TABLE
    IF NOT EXISTS of a live table leaves its rows to be counted."""

    def __init__(self, counter: RowCounter, live: LiveTables | None = None) -> None:
        from switchy_guard.rules.base import NewTables  # here: importing it loads every rule

        self.counter = counter
        self.new_tables = NewTables(counter.dialect, live or _CounterTables(counter))
        self.emptied: set[Table] = set()  # live tables the plan has emptied by now
        self.tables: dict[Table, Table | None] = {}  # plan key -> live table (None: none)
        self.columns: dict[tuple[Table, str], str | None] = {}  # (live, folded plan name)

    def table(self, name: Name, *, emptied: bool = False) -> Table | None:
        """The live table ``name`` stands for, None when the plan has created it (or,
        unless ``emptied``, already emptied it: its rows are counted once)."""
        key = self.counter.key(name)
        if self.new_tables.made(name):
            return None
        live = self.tables[key] if key in self.tables else self.counter.live(key)
        return None if live in self.emptied and not emptied else live

    def column(self, table: Table, name: str) -> str | None:
        source = self.columns.get((table, self.counter.fold(name)), name)
        return None if source is None else self.counter.column(table, source)

    def observe(self, info: StatementInfo) -> None:
        """Follow what ``info`` creates, fills, drops and renames."""
        if len(info.renames) > 1:  # RENAME TABLE a TO b, c TO d: pair by pair, in order
            for old_name, new_name in info.renames:
                self.observe(dataclasses.replace(info, table=old_name, new_name=new_name,
                                                 renames=((old_name, new_name),)))
            return
        made = {t for t in info.tables or (info.table,) if t and self.new_tables.made(t)}
        self.new_tables.observe(info)
        if info.table is None:
            return
        key = self.counter.key(info.table)
        if info.kind == "drop_table":
            for dropped in set(info.tables) - made:  # a live table: none left after this
                self.tables[self.counter.key(dropped)] = None
            return
        if info.kind not in ("rename_table", "alter_table"):
            return
        live = None if info.table in made else self.table(info.table)
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
        self.tables[new] = live
        self.tables[key] = None


def row_impacts(
    index: int, info: StatementInfo, counter: RowCounter, names: PlanNames
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


def _emptying(cascaded: list[tuple[RowImpact, Table]], names: PlanNames,
              counter: RowCounter) -> list[RowImpact]:
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
