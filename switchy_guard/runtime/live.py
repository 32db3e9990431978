"""Facts read from a live database for the plan and the backfill: row counts (exact for
small tables, the statistics' estimate for large ones), foreign keys, and which table
names are taken."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from switchy_guard.model.live import LiveTableNames
from switchy_guard.runtime.db import connection_dialect
from switchy_guard.runtime.reasons import database_reason

if TYPE_CHECKING:
    from switchy_guard.sql.classify import Name

#: Above this many rows (by the statistics), counts are the statistics' estimate.
EXACT_COUNT_LIMIT = 100_000


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


_TABLE_QUERIES = {
    "postgres": "SELECT n.nspname, c.relname, n.nspname = current_schema()"
                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')",
    "mysql": "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_SCHEMA = DATABASE()"
             " FROM information_schema.TABLES",
    "sqlite": "SELECT schema, name, 1 FROM pragma_table_list",
}


def read_live_table_names(conn: Connection) -> LiveTableNames:
    """The tables (and views) of the database ``conn`` is connected to, read in one
    query; every name may exist when the database cannot be read."""
    dialect = connection_dialect(conn)
    query = _TABLE_QUERIES.get(dialect)
    if query is None:
        return LiveTableNames(dialect, None)
    try:
        if dialect == "postgres":
            with conn.begin_nested():  # an error must not end the transaction
                rows = conn.exec_driver_sql(query).all()
        else:
            rows = conn.exec_driver_sql(query).all()
    except DBAPIError:
        return LiveTableNames(dialect, None)
    return LiveTableNames(dialect, [(str(r[0]), str(r[1]), bool(r[2])) for r in rows])


def live_server_version(conn: Connection) -> tuple[int, ...] | None:
    """The connected server's version (MariaDB's from 10, MySQL's 5 to 9: see
    :mod:`switchy_guard.sql.locks`); None for SQLite, whose version the rules ignore."""
    if conn.dialect.name == "sqlite":
        return None
    info = conn.dialect.server_version_info
    numbers = tuple(n for n in (info or ()) if isinstance(n, int))
    return numbers or None
