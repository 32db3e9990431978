"""Rules for whole-table rebuilds and explicit locks (SG411-SG413).

The maintenance and lock statements these rules read (VACUUM, CLUSTER, OPTIMIZE TABLE,
LOCK TABLE) are classified without their tables; the tables are read here from the
statement's tokens, so a table the plan created (new and empty) stays silent.
"""

from __future__ import annotations

from collections.abc import Iterator

from switchy_guard.model.findings import Severity
from switchy_guard.rules.base import ALL, PM, Rule, StatementContext
from switchy_guard.sql.classify import PUNCT, WORD, Cursor, Name, StatementInfo, Tok, tokenize
from switchy_guard.sql.classify import split_top_level as _split


def _existing_alter(info: StatementInfo, ctx: StatementContext) -> bool:
    return info.kind == "alter_table" and not ctx.schema.is_new(info.table)


# -- SG411 add-primary-key ---------------------------------------------------------------


def _add_primary_key(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if not _existing_alter(info, ctx) or info.options.get("LOCK") == "NONE":
        return  # MySQL's LOCK=NONE: the server refuses rather than block writes
    mysql = ctx.dialect == "mysql"
    for action in info.actions:
        built = (action.kind == "add_constraint" and action.constraint == "primary_key"
                 and not action.using_index)
        inline = "primary_key" in action.inline
        if not (built or inline):
            continue
        what = f"new column {action.column}" if inline and not built else "a primary key"
        if mysql:
            yield (f"adds {what} to {info.table}: MySQL/MariaDB rebuild the whole table "
                   "around it (a nullable key column makes it a copy that blocks writes)")
        else:
            yield (f"adds {what} to {info.table}: its unique index is built while the table "
                   "is locked against reads and writes (ACCESS EXCLUSIVE)")


ADD_PRIMARY_KEY = Rule(
    code="SG411", name="add-primary-key", severity=Severity.WARNING, dialects=PM,
    summary="ADD PRIMARY KEY (or ADD CONSTRAINT ... PRIMARY KEY, or a new PRIMARY KEY "
            "column) on an existing table.",
    why="PostgreSQL builds the primary key's unique index (and checks every key column for "
        "NULLs) under an ACCESS EXCLUSIVE lock: no query reads or writes the table until "
        "the index is built. MySQL/MariaDB store the rows in the primary key, so the whole "
        "table is rebuilt; if a key column is nullable the rebuild is a copy that blocks "
        "writes.",
    instead="On PostgreSQL build the index first with CREATE UNIQUE INDEX CONCURRENTLY "
            "(a migration of its own, transactional = false), then ADD CONSTRAINT ... "
            "PRIMARY KEY USING INDEX, which takes the lock only for a moment. On "
            "MySQL/MariaDB say ALGORITHM=INPLACE, LOCK=NONE so the server refuses rather "
            "than block writes, or use an online schema-change tool.",
    example="ALTER TABLE events ADD PRIMARY KEY (id);",
    fixed="-- a migration of its own, metadata.toml: transactional = false\n"
          "CREATE UNIQUE INDEX CONCURRENTLY events_pkey_idx ON events (id);\n"
          "-- next migration:\n"
          "ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX "
          "events_pkey_idx;",
    check=_add_primary_key,
    kinds=frozenset({"alter_table"}),
)


# -- SG412 table-rewrite -----------------------------------------------------------------


def _words(toks: list[Tok]) -> list[str]:
    return [t.up for t in toks if t.kind == WORD]


def _table_list(toks: list[Tok]) -> list[Name]:
    """The first name of each comma-separated part of ``toks`` (``t (a, b)``, ``t AS x``)."""
    names = []
    for part in _split(toks):
        name = Cursor(part).name()
        if name is not None:
            names.append(name)
    return names


def _after_options(toks: list[Tok], pos: int, words: frozenset[str]) -> tuple[list[str], int]:
    """The options of VACUUM / CLUSTER from ``pos``: a ``( ... )`` list or bare words."""
    options: list[str] = []
    if pos < len(toks) and toks[pos].kind == PUNCT and toks[pos].text == "(":
        depth = 0
        for index in range(pos, len(toks)):
            tok = toks[index]
            if tok.kind == PUNCT and tok.text in "()":
                depth += 1 if tok.text == "(" else -1
                if depth == 0:
                    part = [t.up for t in toks[pos + 1:index]]
                    options = " ".join(part).replace(" ,", ",").split(",")
                    return [o.strip() for o in options], index + 1
        return options, len(toks)
    while pos < len(toks) and toks[pos].kind == WORD and toks[pos].up in words:
        options.append(toks[pos].up)
        pos += 1
    return options, pos


_OFF = {"FALSE", "OFF", "0"}


def _vacuum_full(toks: list[Tok]) -> tuple[bool, list[Name]]:
    """Whether a PostgreSQL VACUUM is FULL, and the tables it names (none: every table)."""
    options, pos = _after_options(toks, 1, frozenset({"FULL", "FREEZE", "VERBOSE",
                                                      "ANALYZE", "ANALYSE"}))
    full = any(o.split()[:1] == ["FULL"] and (o.split()[1:2] or ["ON"])[0] not in _OFF
               for o in options)
    return full, _table_list(toks[pos:])


def _cluster_tables(toks: list[Tok]) -> list[Name]:
    """The table a CLUSTER rewrites (none: every table clustered before)."""
    _, pos = _after_options(toks, 1, frozenset({"VERBOSE"}))
    rest = toks[pos:]
    if len(rest) >= 3 and any(t.kind == WORD and t.up == "ON" for t in rest):
        # the pre-8.3 form: CLUSTER index ON table
        on = next(i for i, t in enumerate(rest) if t.kind == WORD and t.up == "ON")
        return _table_list(rest[on + 1:])
    return _table_list(rest)[:1]


def _maintenance_rewrite(ctx: StatementContext) -> Iterator[str]:
    toks = tokenize(ctx.statement.text, ctx.dialect)
    first = toks[0].up if toks else ""
    if first == "VACUUM" and ctx.dialect == "sqlite":
        if "INTO" not in _words(toks):  # VACUUM INTO writes a copy, the database stays
            yield ("VACUUM rewrites the whole database file under an exclusive lock (every "
                   "reader and writer waits), and SQLite refuses it inside a transaction")
        return
    if first == "VACUUM" and ctx.dialect != "mysql":
        full, tables = _vacuum_full(toks)
        if full:
            yield from _each_table(tables, ctx, "VACUUM FULL", "rewrites")
        return
    if first == "CLUSTER" and ctx.dialect != "mysql":
        yield from _each_table(_cluster_tables(toks), ctx, "CLUSTER", "rewrites")
        return
    if first == "OPTIMIZE" and ctx.dialect != "sqlite":
        cur = Cursor(toks, 1)
        cur.take("NO_WRITE_TO_BINLOG|LOCAL")
        if cur.take("TABLE|TABLES"):
            yield from _each_table(_table_list(cur.rest()), ctx, "OPTIMIZE TABLE", "rebuilds")


def _each_table(tables: list[Name], ctx: StatementContext, what: str,
                verb: str) -> Iterator[str]:
    if not tables:
        yield f"{what} without a table {verb} every table of the database under lock"
        return
    for table in tables:
        if not ctx.schema.is_new(table):
            yield f"{what} {verb} the whole of {table} under an exclusive lock"


def _generated_stored(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    for action in info.actions:
        # Each column's own STORED / VIRTUAL: PostgreSQL's generated columns are stored
        # (VIRTUAL is PostgreSQL 18's default); MySQL/MariaDB's are VIRTUAL unless they
        # say STORED (MariaDB: PERSISTENT).
        stored = action.storage == "stored" or (
            action.storage is None and ctx.dialect != "mysql")
        if action.kind == "add_column" and action.generated == "expression" and stored:
            yield (f"adds stored generated column {info.table}.{action.column}: every row "
                   "is rewritten under an exclusive lock to compute it")


def _table_rewrite(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    if info.kind == "maintenance":
        yield from _maintenance_rewrite(ctx)
        return
    if not _existing_alter(info, ctx):
        return
    if ctx.dialect != "sqlite":
        yield from _generated_stored(info, ctx)
    for action in info.actions:
        if action.kind == "rewrite" and ctx.dialect != "mysql":
            text = action.default or ""
            unlogged = " (and an UNLOGGED table is emptied by a crash and not replicated)" \
                if "UNLOGGED" in text.upper() else ""
            yield f"{text} rewrites the whole of {info.table} under an exclusive lock{unlogged}"
        elif action.kind == "table_option" and ctx.dialect == "mysql" \
                and info.options.get("LOCK") != "NONE":
            what = {"CONVERT": "CONVERT TO CHARACTER SET"}.get(action.default or "",
                                                               action.default)
            yield (f"{what} rebuilds the whole of {info.table}; without ALGORITHM=INPLACE, "
                   "LOCK=NONE it may copy it while blocking writes")


TABLE_REWRITE = Rule(
    code="SG412", name="table-rewrite", severity=Severity.WARNING, dialects=ALL,
    summary="A statement that rewrites a whole table (or database) under lock: VACUUM FULL, "
            "CLUSTER, SET LOGGED/UNLOGGED, SET TABLESPACE, a stored generated column; "
            "MySQL/MariaDB OPTIMIZE TABLE, FORCE, ENGINE=, CONVERT TO CHARACTER SET; "
            "SQLite VACUUM.",
    why="The table is copied row by row while an exclusive lock keeps every query (on "
        "PostgreSQL reads too) waiting; on a large table that is minutes of downtime, and "
        "the copy needs as much free disk again.",
    instead="Run such maintenance outside migrations with an online tool (pg_repack or "
            "pg_squeeze on PostgreSQL; ALTER TABLE ... FORCE, ALGORITHM=INPLACE, LOCK=NONE "
            "or gh-ost/pt-online-schema-change on MySQL/MariaDB; PRAGMA incremental_vacuum "
            "on SQLite); add a derived column as a plain column backfilled in batches.",
    example="VACUUM FULL orders;  -- PostgreSQL; SQLite: VACUUM\n"
            "OPTIMIZE TABLE orders;  -- MySQL/MariaDB",
    fixed="-- PostgreSQL: pg_repack --table orders, outside migrations\n"
          "-- MySQL/MariaDB: an online rebuild, refused rather than blocking writes\n"
          "ALTER TABLE orders FORCE, ALGORITHM=INPLACE, LOCK=NONE;\n"
          "-- SQLite (after PRAGMA auto_vacuum = INCREMENTAL):\n"
          "PRAGMA incremental_vacuum;",
    check=_table_rewrite,
    kinds=frozenset({"alter_table", "maintenance"}),
)


# -- SG413 explicit-lock -----------------------------------------------------------------


def _lock_mode(toks: list[Tok]) -> str:
    words = _words(toks)
    if "IN" in words and "MODE" in words:
        return " ".join(words[words.index("IN") + 1:words.index("MODE")])
    return "ACCESS EXCLUSIVE"


def _explicit_lock(info: StatementInfo, ctx: StatementContext) -> Iterator[str]:
    toks = tokenize(ctx.statement.text, ctx.dialect)
    first = toks[0].up if toks else ""
    if first == "FLUSH":  # FLUSH TABLES ... WITH READ LOCK / FOR EXPORT
        yield "FLUSH TABLES ... WITH READ LOCK blocks every write until UNLOCK TABLES"
        return
    if first != "LOCK":
        return  # UNLOCK TABLES releases
    cur = Cursor(toks, 1)
    if cur.at("INSTANCE"):
        yield "LOCK INSTANCE FOR BACKUP blocks DDL on every table until it is released"
        return
    cur.take("TABLE|TABLES")
    cur.take("ONLY")
    body = cur.rest()
    end = next((i for i, t in enumerate(body) if t.kind == WORD and t.up in ("IN", "NOWAIT")),
               len(body))
    tables = [t for t in _table_list(body[:end]) if not ctx.schema.is_new(t)]
    if not tables:
        return
    names = ", ".join(str(t) for t in tables)
    if ctx.dialect == "mysql":
        yield (f"LOCK TABLES {names} commits the open transaction and holds the locks until "
               "UNLOCK TABLES: every other session's queries on them wait")
    else:
        yield (f"locks {names} in {_lock_mode(body)} mode until the migration's transaction "
               "ends: queries on it queue behind the lock, and behind the wait for it")


EXPLICIT_LOCK = Rule(
    code="SG413", name="explicit-lock", severity=Severity.WARNING, dialects=PM,
    summary="LOCK TABLE (PostgreSQL) or LOCK TABLES / FLUSH TABLES WITH READ LOCK "
            "(MySQL/MariaDB) in a migration.",
    why="An explicit lock is usually stronger and longer than the statements need: "
        "PostgreSQL's default mode is ACCESS EXCLUSIVE, held to the end of the transaction, "
        "and while it waits for older transactions every new query on the table waits "
        "behind it. MySQL's LOCK TABLES also commits the open transaction implicitly.",
    instead="Leave locking to the statements themselves and bound the wait with a lock "
            "timeout (statement_lock_timeout / lock_retries in the policy); keep the "
            "migration short.",
    example="LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;\n"
            "ALTER TABLE orders ADD COLUMN note text;",
    fixed="-- no LOCK: the ALTER takes the lock it needs, for as long as it needs it\n"
          "ALTER TABLE orders ADD COLUMN note text;",
    check=_explicit_lock,
    kinds=frozenset({"lock"}),
)


RULES = (ADD_PRIMARY_KEY, TABLE_REWRITE, EXPLICIT_LOCK)
