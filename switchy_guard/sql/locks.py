"""The locks each statement takes, per dialect, and whether it rewrites or scans a table.

The one place that knows, for the impact report (``plan``) and the gate's
``refuse_when_blocked_longer_than``:

- PostgreSQL: the table-level lock mode of each command, from the "Explicit Locking"
  chapter of the PostgreSQL manual and each command's reference page (ALTER TABLE takes
  the strongest mode any of its actions needs), and which modes conflict
  (:data:`PG_CONFLICTS`, the manual's conflict table).
- MySQL/MariaDB: the metadata lock (MDL) and the ALGORITHM the server uses (INSTANT,
  INPLACE, COPY), by server version where it matters (INSTANT ADD COLUMN from MySQL
  8.0.12 and MariaDB 10.3). A server version's major number says which: MariaDB is 10 and
  up, MySQL 5, 8 and 9.
- SQLite: every write takes the database's write lock.

Plain data over the classifier's :class:`StatementInfo`: no database, no SQLAlchemy.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from switchy_guard.sql.classify import (
    AlterAction,
    Cursor,
    Name,
    StatementInfo,
    Tok,
    split_top_level,
    tokenize,
)

ServerVersion = tuple[int, ...]

ACCESS_SHARE = "ACCESS SHARE"
ROW_SHARE = "ROW SHARE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
#: PostgreSQL's table lock modes, weakest first.
PG_MODES = (ACCESS_SHARE, ROW_SHARE, ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE,
            SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE)
#: Which held modes each requested mode waits for (the manual's "Conflicting Lock Modes").
PG_CONFLICTS: dict[str, frozenset[str]] = {
    ACCESS_SHARE: frozenset({ACCESS_EXCLUSIVE}),
    ROW_SHARE: frozenset({EXCLUSIVE, ACCESS_EXCLUSIVE}),
    ROW_EXCLUSIVE: frozenset({SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE_UPDATE_EXCLUSIVE: frozenset({SHARE_UPDATE_EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE,
                                       EXCLUSIVE, ACCESS_EXCLUSIVE}),
    SHARE: frozenset({ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE,
                      ACCESS_EXCLUSIVE}),
    SHARE_ROW_EXCLUSIVE: frozenset({ROW_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE, SHARE,
                                    SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE}),
    EXCLUSIVE: frozenset(PG_MODES[1:]),
    ACCESS_EXCLUSIVE: frozenset(PG_MODES),
}

#: MySQL/MariaDB metadata locks, as performance_schema.metadata_locks names them.
MDL_EXCLUSIVE = "EXCLUSIVE"
MDL_SHARED_UPGRADABLE = "SHARED_UPGRADABLE"
MDL_SHARED_NO_WRITE = "SHARED_NO_WRITE"
MDL_SHARED_WRITE = "SHARED_WRITE"
MDL_SHARED_READ = "SHARED_READ"
#: The granted MDL types each requested one waits for.
MDL_CONFLICTS: dict[str, frozenset[str]] = {
    MDL_EXCLUSIVE: frozenset({"INTENTION_EXCLUSIVE", "SHARED", "SHARED_HIGH_PRIO",
                              MDL_SHARED_READ, MDL_SHARED_WRITE, "SHARED_WRITE_LOW_PRIO",
                              MDL_SHARED_UPGRADABLE, "SHARED_READ_ONLY", MDL_SHARED_NO_WRITE,
                              "SHARED_NO_READ_WRITE", MDL_EXCLUSIVE}),
    MDL_SHARED_NO_WRITE: frozenset({MDL_SHARED_WRITE, "SHARED_WRITE_LOW_PRIO",
                                    MDL_SHARED_UPGRADABLE, MDL_SHARED_NO_WRITE,
                                    "SHARED_NO_READ_WRITE", MDL_EXCLUSIVE}),
    MDL_SHARED_UPGRADABLE: frozenset({MDL_SHARED_UPGRADABLE, MDL_SHARED_NO_WRITE,
                                      "SHARED_NO_READ_WRITE", MDL_EXCLUSIVE}),
    MDL_SHARED_WRITE: frozenset({"SHARED_READ_ONLY", MDL_SHARED_NO_WRITE,
                                 "SHARED_NO_READ_WRITE", MDL_EXCLUSIVE}),
    MDL_SHARED_READ: frozenset({"SHARED_NO_READ_WRITE", MDL_EXCLUSIVE}),
}

SQLITE_WRITE = "database write lock"

INSTANT, INPLACE, COPY = "INSTANT", "INPLACE", "COPY"
_ALGORITHMS = (INSTANT, INPLACE, COPY)

#: What a statement does to a table's rows besides locking it.
NONE, SCAN, REWRITE = "none", "scan", "rewrite"
_EFFECTS = (NONE, SCAN, REWRITE)


@dataclass(frozen=True)
class TableLock:
    """One lock a statement takes: ``mode`` on ``table`` (None: the whole database)."""

    table: str | None
    mode: str


@dataclass(frozen=True)
class LocksTaken:
    """What one statement locks, and what it does to the rows of the tables it locks.

    ``locks``: the table locks, strongest first. ``effect``: ``rewrite`` (the table is
    rewritten or copied), ``scan`` (read whole: an index built, a constraint checked),
    ``none``. ``algorithm``: MySQL/MariaDB's ALGORITHM. ``note``: what the reader should
    know besides (an assumption, a version that would change the answer).
    """

    locks: tuple[TableLock, ...] = ()
    effect: str = NONE
    algorithm: str | None = None
    note: str = ""

    def describe(self) -> str:
        """``ACCESS EXCLUSIVE on users; rewrites the table``, for the text report."""
        parts = [", ".join(f"{lock.mode} on {lock.table}" if lock.table else lock.mode
                           for lock in self.locks) or "no table lock"]
        if self.algorithm:
            parts.append(f"ALGORITHM={self.algorithm}")
        parts.append({REWRITE: "rewrites the table", SCAN: "reads the whole table",
                      NONE: "rows untouched"}[self.effect])
        return "; ".join(parts) + (f" ({self.note})" if self.note else "")

    def to_dict(self) -> dict[str, object]:
        """The JSON shape (one entry of a migration's ``locks``)."""
        return {"locks": [{"table": lock.table, "mode": lock.mode} for lock in self.locks],
                "effect": self.effect, "algorithm": self.algorithm, "note": self.note}


def locks_taken(text: str, info: StatementInfo, dialect: str | None,
                server_version: ServerVersion | None = None) -> LocksTaken:
    """The locks ``text`` (classified as ``info``) takes on ``dialect``; a server version
    (None: unknown) refines the MySQL/MariaDB algorithm."""
    if dialect == "sqlite":
        return _sqlite(text, info)
    if dialect == "mysql":
        return _mysql(text, info, server_version)
    return _postgres(text, info, server_version)


# -- PostgreSQL --------------------------------------------------------------------------


def strongest(modes: list[str]) -> str:
    """The strongest of PostgreSQL lock ``modes``."""
    return max(modes, key=PG_MODES.index)


def _names(names: tuple[Name, ...] | list[Name], first: Name | None = None) -> list[str]:
    found = [str(n) for n in names] or ([str(first)] if first is not None else [])
    return list(dict.fromkeys(found))


def _on(mode: str, tables: list[str]) -> tuple[TableLock, ...]:
    return tuple(TableLock(t, mode) for t in tables)


def _words(toks: list[Tok]) -> list[str]:
    return [t.up for t in toks if t.kind == "w"]


_PG_ROW_WRITES = {"insert", "update", "delete", "copy", "load"}


def _postgres(text: str, info: StatementInfo, version: ServerVersion | None) -> LocksTaken:
    kind = info.kind
    table = [str(info.table)] if info.table is not None else []
    if kind in _PG_ROW_WRITES:
        scans = kind in ("update", "delete") and not info.has_where
        return LocksTaken(_on(ROW_EXCLUSIVE, _names(info.tables, info.table)),
                          SCAN if scans else NONE)
    if kind == "select":
        return LocksTaken(())
    if kind in ("drop_table", "truncate"):
        return LocksTaken(_on(ACCESS_EXCLUSIVE, _names(info.tables, info.table)))
    if kind == "rename_table":
        return LocksTaken(_on(ACCESS_EXCLUSIVE, table))
    if kind == "create_index":
        if info.concurrently:
            return LocksTaken(_on(SHARE_UPDATE_EXCLUSIVE, table), SCAN,
                              note="waits for every older transaction, blocks no writes")
        return LocksTaken(_on(SHARE, table), SCAN, note="writes wait until it is built")
    if kind == "drop_index":
        target = [str(info.index)] if info.index is not None else []
        mode = SHARE_UPDATE_EXCLUSIVE if info.concurrently else ACCESS_EXCLUSIVE
        return LocksTaken(_on(mode, target), note="and the same on the index's table")
    if kind == "alter_table":
        return _pg_alter(text, info, version)
    if kind == "maintenance":
        return _pg_maintenance(text, info)
    if kind == "lock":
        return _pg_lock(text)
    if kind == "create_other" and info.object_type == "trigger":
        return LocksTaken(_on(SHARE_ROW_EXCLUSIVE, _after_on(text)))
    if kind == "drop_other" and info.object_type == "trigger":
        return LocksTaken(_on(ACCESS_EXCLUSIVE, _after_on(text)))
    if kind == "create_table":
        refs = _references(text)
        return LocksTaken(_on(SHARE_ROW_EXCLUSIVE, refs))
    return LocksTaken(())


def _after_on(text: str) -> list[str]:
    """The table after ``ON`` (CREATE/DROP TRIGGER t ON table)."""
    cur = Cursor(tokenize(text, "postgres"))
    cur.skip_until("ON")
    if cur.take("ON"):
        name = cur.name()
        return [str(name)] if name is not None else []
    return []


def _references(text: str) -> list[str]:
    """The tables a statement's REFERENCES clauses name (their foreign keys lock them)."""
    toks = tokenize(text, "postgres")
    found = []
    for index, tok in enumerate(toks):
        if tok.kind == "w" and tok.up == "REFERENCES":
            name = Cursor(toks, index + 1).name()
            if name is not None:
                found.append(str(name))
    return list(dict.fromkeys(found))


#: ALTER TABLE actions (their leading words) that take less than ACCESS EXCLUSIVE.
_PG_WEAKER: tuple[tuple[tuple[str, ...], str], ...] = (
    (("VALIDATE", "CONSTRAINT"), SHARE_UPDATE_EXCLUSIVE),
    (("CLUSTER", "ON"), SHARE_UPDATE_EXCLUSIVE),
    (("SET", "WITHOUT", "CLUSTER"), SHARE_UPDATE_EXCLUSIVE),
    (("ATTACH", "PARTITION"), SHARE_UPDATE_EXCLUSIVE),
    (("ENABLE",), SHARE_ROW_EXCLUSIVE),  # [REPLICA | ALWAYS] TRIGGER
    (("DISABLE", "TRIGGER"), SHARE_ROW_EXCLUSIVE),
)
_PG_FOREIGN_KEY = re.compile(r"^ADD\s+(?:CONSTRAINT\s+\S+\s+)?FOREIGN\s+KEY\b", re.I)


def _pg_action_mode(part: list[Tok]) -> str:
    words = _words(part)
    text = " ".join(words)
    if _PG_FOREIGN_KEY.match(text):
        return SHARE_ROW_EXCLUSIVE
    for lead, mode in _PG_WEAKER:
        if tuple(words[:len(lead)]) == lead and not (lead == ("ENABLE",) and "RULE" in words):
            return mode
    if words[:1] == ["ALTER"] and ("SET", "STATISTICS") in itertools.pairwise(words):
        return SHARE_UPDATE_EXCLUSIVE  # ALTER [COLUMN] c SET STATISTICS n
    if words[:1] in (["SET"], ["RESET"]) and part[1:2] and part[1].text.startswith("("):
        # fillfactor, autovacuum and toast parameters; the manual lists a few others
        # (ACCESS EXCLUSIVE) and says the strongest one named is taken.
        return SHARE_UPDATE_EXCLUSIVE
    return ACCESS_EXCLUSIVE


def _pg_alter_parts(text: str) -> list[list[Tok]]:
    cur = Cursor(tokenize(text, "postgres"))
    cur.take("ALTER")
    cur.take("TABLE")
    cur.take("IF", "EXISTS")
    cur.take("ONLY")
    cur.name()
    return split_top_level(cur.rest())


def _pg_alter(text: str, info: StatementInfo, version: ServerVersion | None) -> LocksTaken:
    table = str(info.table)
    parts = _pg_alter_parts(text)
    mode = strongest([_pg_action_mode(p) for p in parts] or [ACCESS_EXCLUSIVE])
    effects = [_pg_effect(a, version) for a in info.actions]
    effect = max(effects or [NONE], key=_EFFECTS.index)
    locks = [TableLock(table, mode)]
    locks += [TableLock(t, SHARE_ROW_EXCLUSIVE) for t in _references(text) if t != table]
    note = ""
    if any(a.kind == "alter_type" for a in info.actions):
        note = "a type change rewrites unless the new type is binary-coercible"
    return LocksTaken(tuple(locks), effect, note=note)


def _pg_effect(action: AlterAction, version: ServerVersion | None) -> str:
    kind = action.kind
    if kind in ("alter_type", "rewrite"):
        return REWRITE
    if kind == "add_column":
        if action.generated in ("expression", "identity") or (action.type or "") in (
                "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"):
            return REWRITE
        if action.default is not None and action.default.upper() != "NULL":
            if version is not None and version < (11,):
                return REWRITE  # before 11 every row is given the default
            if _volatile(action.default):
                return REWRITE
        return SCAN if {"unique", "primary_key", "check", "foreign_key"} & set(
            action.inline) else NONE
    if kind == "add_constraint":
        if action.using_index:
            return NONE
        return NONE if action.not_valid else SCAN
    if kind in ("set_not_null", "validate_constraint", "add_index"):
        return SCAN
    return NONE


_VOLATILE = re.compile(
    r"\b(?:random|gen_random_uuid|uuid_generate_v[14]|clock_timestamp|timeofday|nextval"
    r"|txid_current|statement_timestamp)\s*\(", re.I)


def _volatile(default: str) -> bool:
    return _VOLATILE.search(default) is not None


def _pg_maintenance(text: str, info: StatementInfo) -> LocksTaken:
    toks = tokenize(text, "postgres")
    words = _words(toks)
    first = words[0] if words else ""
    if first == "VACUUM":
        full = "FULL" in words
        mode = ACCESS_EXCLUSIVE if full else SHARE_UPDATE_EXCLUSIVE
        return LocksTaken(_on(mode, _trailing_tables(toks)), REWRITE if full else SCAN)
    if first == "CLUSTER":
        return LocksTaken(_on(ACCESS_EXCLUSIVE, _trailing_tables(toks)[:1]), REWRITE)
    if first == "ANALYZE":
        return LocksTaken(_on(SHARE_UPDATE_EXCLUSIVE, _trailing_tables(toks)), SCAN,
                          note="reads a sample")
    if first == "REINDEX":
        return _pg_reindex(toks, info.concurrently)
    if first == "REFRESH":
        mode = EXCLUSIVE if "CONCURRENTLY" in words else ACCESS_EXCLUSIVE
        return LocksTaken(_on(mode, _trailing_tables(toks)[:1]), REWRITE)
    return LocksTaken(())


def _trailing_tables(toks: list[Tok]) -> list[str]:
    """The names after a maintenance command's options (VACUUM (FULL) a, b)."""
    index = 1
    while index < len(toks) and (toks[index].text.startswith("(") or (
            toks[index].kind == "w" and toks[index].up in _OPTION_WORDS)):
        if toks[index].text.startswith("("):
            depth = 0
            while index < len(toks):
                depth += toks[index].text.count("(") - toks[index].text.count(")")
                index += 1
                if depth <= 0:
                    break
            continue
        index += 1
    names = []
    for part in split_top_level(toks[index:]):
        name = Cursor(part).name()
        if name is not None:
            names.append(str(name))
    return names


_OPTION_WORDS = frozenset({"FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE", "MATERIALIZED",
                           "VIEW", "CONCURRENTLY", "TABLE", "INDEX", "NO_WRITE_TO_BINLOG",
                           "LOCAL", "TABLES"})


def _pg_reindex(toks: list[Tok], concurrently: bool) -> LocksTaken:
    words = _words(toks)
    what = next((w for w in words[1:] if w in ("INDEX", "TABLE", "SCHEMA", "DATABASE",
                                              "SYSTEM")), "")
    names = _trailing_tables(toks)
    if concurrently:
        return LocksTaken(_on(SHARE_UPDATE_EXCLUSIVE, names), SCAN,
                          note="builds new indexes beside the old ones")
    if what == "INDEX":
        return LocksTaken(_on(ACCESS_EXCLUSIVE, names), SCAN,
                          note="and SHARE on its table: writes wait, reads using it too")
    return LocksTaken(_on(SHARE, names), SCAN,
                      note="and ACCESS EXCLUSIVE on each index rebuilt")


def _pg_lock(text: str) -> LocksTaken:
    toks = tokenize(text, "postgres")
    words = _words(toks)
    mode = ACCESS_EXCLUSIVE
    if "IN" in words and "MODE" in words:
        mode = " ".join(words[words.index("IN") + 1:words.index("MODE")])
    cur = Cursor(toks, 1)
    cur.take("TABLE")
    cur.take("ONLY")
    body = cur.rest()
    end = next((i for i, t in enumerate(body) if t.kind == "w" and t.up in ("IN", "NOWAIT")),
               len(body))
    names = [str(n) for part in split_top_level(body[:end])
             if (n := Cursor(part).name()) is not None]
    return LocksTaken(_on(mode if mode in PG_MODES else ACCESS_EXCLUSIVE, names))


# -- MySQL / MariaDB ---------------------------------------------------------------------


def is_mariadb(version: ServerVersion) -> bool:
    """MariaDB numbers its releases from 10; MySQL's are 5, 8 and 9."""
    return version[0] >= 10


def instant_add_column(version: ServerVersion | None, positioned: bool) -> bool:
    """Whether the server adds a column INSTANT: a trailing one from MySQL 8.0.12 and
    MariaDB 10.3, one placed with FIRST/AFTER from MySQL 8.0.29 and MariaDB 10.4."""
    if version is None:
        return False
    if is_mariadb(version):
        return version >= ((10, 4) if positioned else (10, 3))
    return version >= ((8, 0, 29) if positioned else (8, 0, 12))


def _instant_drop_column(version: ServerVersion | None) -> bool:
    if version is None:
        return False
    return version >= ((10, 4) if is_mariadb(version) else (8, 0, 29))


def _mysql_action(action: AlterAction, version: ServerVersion | None) -> tuple[str, str]:
    """(algorithm, effect) of one ALTER TABLE action, as InnoDB runs it by default."""
    kind = action.kind
    if kind == "add_column":
        if action.generated == "auto_increment":
            return INPLACE, REWRITE
        if instant_add_column(version, action.position):
            return INSTANT, NONE
        return INPLACE, REWRITE
    if kind == "drop_column":
        return (INSTANT, NONE) if _instant_drop_column(version) else (INPLACE, REWRITE)
    if kind in ("set_default", "drop_default", "rename_table", "rename_column", "other"):
        return INSTANT, NONE
    if kind == "drop_index":
        return INPLACE, NONE
    if kind == "add_index":
        return INPLACE, SCAN
    if kind == "add_constraint":
        if action.constraint in ("unique", "primary_key"):
            return INPLACE, SCAN if action.constraint == "unique" else REWRITE
        return COPY, REWRITE  # a foreign key (with foreign_key_checks on) or a CHECK
    if kind == "drop_constraint":
        return (COPY, REWRITE) if action.constraint == "primary_key" else (INPLACE, NONE)
    if kind in ("set_not_null", "drop_not_null"):
        return INPLACE, REWRITE
    if kind == "table_option":
        return (INPLACE, REWRITE) if action.default == "FORCE" else (COPY, REWRITE)
    return COPY, REWRITE  # alter_type and anything not known: assume the worst


def _mysql(text: str, info: StatementInfo, version: ServerVersion | None) -> LocksTaken:
    kind = info.kind
    tables = _names(info.tables, info.table)
    if kind in ("insert", "update", "delete", "load"):
        scans = kind in ("update", "delete") and not info.has_where
        return LocksTaken(_on(f"{MDL_SHARED_WRITE} metadata lock", tables),
                          SCAN if scans else NONE, note="and InnoDB row locks")
    if kind in ("drop_table", "truncate", "rename_table"):
        return LocksTaken(_on(f"{MDL_EXCLUSIVE} metadata lock", tables))
    if kind == "create_index":
        special = info.object_type in ("fulltext", "spatial")
        return _mysql_ddl(tables, INPLACE, SCAN, info.options, special)
    if kind == "drop_index":
        return _mysql_ddl(tables, INPLACE, NONE, info.options, False)
    if kind == "alter_table":
        done = [_mysql_action(a, version) for a in info.actions] or [(INSTANT, NONE)]
        algorithm = max((a for a, _ in done), key=_ALGORITHMS.index)
        effect = max((e for _, e in done), key=_EFFECTS.index)
        special = any(a.kind == "add_index" and a.constraint in ("fulltext", "spatial")
                      for a in info.actions)
        found = _mysql_ddl(tables, algorithm, effect, info.options, special)
        if version is None and any(a.kind == "add_column" for a in info.actions):
            return LocksTaken(found.locks, found.effect, found.algorithm,
                              "INSTANT on MySQL 8.0.12+ and MariaDB 10.3+: pass "
                              "--server-version or -d")
        return found
    if kind == "maintenance" and _words(tokenize(text, "mysql"))[:1] == ["OPTIMIZE"]:
        return _mysql_ddl(_trailing_tables(tokenize(text, "mysql")), INPLACE, REWRITE, {},
                          False)
    if kind == "lock":
        return LocksTaken((TableLock(None, "LOCK TABLES / FLUSH: table locks until UNLOCK"),))
    return LocksTaken(())


def _mysql_ddl(tables: list[str], algorithm: str, effect: str, options: dict[str, str],
               special: bool) -> LocksTaken:
    """An online DDL: EXCLUSIVE metadata lock briefly at its start and end; between, a
    SHARED_UPGRADABLE one (writes go on) or, copying, SHARED_NO_WRITE (writes wait)."""
    asked = options.get("ALGORITHM")
    if asked in _ALGORITHMS:
        algorithm = asked
    elif asked == "NOCOPY":
        algorithm = INPLACE
    blocks_writes = algorithm == COPY or special or options.get("LOCK") in (
        "SHARED", "EXCLUSIVE")
    during = MDL_SHARED_NO_WRITE if blocks_writes else MDL_SHARED_UPGRADABLE
    mode = (f"{MDL_EXCLUSIVE} metadata lock" if algorithm == INSTANT else
            f"{MDL_EXCLUSIVE} metadata lock briefly, {during} while it runs")
    note = "writes wait while it runs" if blocks_writes else ""
    return LocksTaken(_on(mode, tables), NONE if algorithm == INSTANT else effect,
                      algorithm, note)


def mdl_requested(lock: TableLock) -> list[str]:
    """The metadata lock types a MySQL/MariaDB ``lock`` (as :func:`locks_taken` words it)
    asks for, strongest first."""
    return [t for t in (MDL_EXCLUSIVE, MDL_SHARED_NO_WRITE, MDL_SHARED_UPGRADABLE,
                        MDL_SHARED_WRITE, MDL_SHARED_READ) if lock.mode.startswith(t)
            or f", {t} " in lock.mode]


# -- SQLite ------------------------------------------------------------------------------

_SQLITE_READS = {"select", "pragma", "set", "savepoint", "begin", "commit", "rollback"}


def _sqlite(text: str, info: StatementInfo) -> LocksTaken:
    kind = info.kind
    if kind in _SQLITE_READS:
        return LocksTaken(())
    lock = (TableLock(None, SQLITE_WRITE),)
    if kind == "maintenance" and _words(tokenize(text, "sqlite"))[:1] == ["VACUUM"]:
        return LocksTaken(lock, REWRITE, note="the whole database file is rewritten")
    if kind == "create_index":
        return LocksTaken(lock, SCAN)
    if kind in ("update", "delete") and not info.has_where:
        return LocksTaken(lock, SCAN)
    if kind == "alter_table" and any(a.kind == "drop_column" for a in info.actions):
        return LocksTaken(lock, REWRITE, note="DROP COLUMN rewrites the table's rows")
    return LocksTaken(lock)
