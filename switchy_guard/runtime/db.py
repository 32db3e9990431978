"""Database URLs, engines and dialect names.

Accepts the URL spellings of README.md, "Command line" (``sqlite:``, ``postgres://``, ``postgresql://``,
``mysql://``, ``mariadb://``) and maps them to the installed drivers (psycopg 3, PyMySQL).
Every URL that leaves this module for a person is masked (:func:`mask_url`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.util import asbool

from switchy_guard import masking
from switchy_guard.errors import ConfigError, DatabaseUnavailable
from switchy_guard.runtime.reasons import database_reason
from switchy_guard.runtime.session_init import install_session_init

_SCHEME_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}

_DIALECT_NAMES = {
    "sqlite": "sqlite",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
}


def parse_url(url: str) -> URL:
    """Parse a database URL, mapping plain schemes to the installed drivers."""
    text = url.strip()
    if text.startswith("sqlite:") and not text.startswith("sqlite://"):
        # `sqlite:path/to.db` and `sqlite:` (in memory) as some tools spell them
        rest = text[len("sqlite:") :]
        text = f"sqlite:///{rest}" if rest else "sqlite://"
    try:
        parsed = make_url(text)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(f"invalid database URL {masking.mask_url(url)!r}") from None
    if _unencoded_at(parsed):
        raise ConfigError(f"invalid database URL {masking.mask_url(url)!r}: an '@' in the "
                          "password must be written %40") from None
    driver = _SCHEME_DRIVERS.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_options(parsed, text)
    return parsed


# What pysqlite itself reads from a SQLite URL's query; anything else is a SQLite URI
# option (mode=ro, cache=shared, immutable=1), read only from a file: name with uri=true.
_PYSQLITE_OPTIONS = frozenset(
    ("uri", "timeout", "isolation_level", "detect_types", "check_same_thread",
     "cached_statements"))


def _check_sqlite_options(parsed: URL, shown: str) -> None:
    """Refuse SQLite URI options that would not take effect: without ``uri=true`` they
    are dropped (``?mode=ro`` opened the file for writing), and with it a name not
    starting with ``file:`` is a plain file name (``app.db?mode=ro&uri=true`` opened,
    and migrated, a new file called ``app.db?mode=ro``)."""
    options = sorted(set(parsed.query) - _PYSQLITE_OPTIONS)
    database = parsed.database or ""
    if not options or (asbool(parsed.query.get("uri")) and database.startswith("file:")):
        return
    named = ", ".join(options)
    uri = asbool(parsed.query.get("uri"))
    query = "&".join(f"{key}={parsed.query[key]}" for key in options)
    if uri:  # what pysqlite would then open: the name with the options glued on
        problem = (f"with uri=true, the SQLite option(s) {named} only work on a file: name "
                   f"(this one would open a file named {database + '?' + query!r})")
    else:
        problem = f"the SQLite option(s) {named} would be ignored without uri=true"
    name = database if database.startswith("file:") else f"file:{database or ':memory:'}"
    raise ConfigError(f"SQLite URL {shown}: {problem}; write "
                      f"sqlite:///{name}?{query}&uri=true")


def dialect_of(url: str | URL) -> str:
    """``sqlite``, ``postgres`` or ``mysql`` for a URL (MariaDB counts as mysql)."""
    parsed = parse_url(url) if isinstance(url, str) else url
    name = _DIALECT_NAMES.get(parsed.get_backend_name())
    if name is None:
        raise ConfigError(
            f"unsupported database {parsed.get_backend_name()!r} "
            "(supported: sqlite, postgresql, mysql, mariadb)"
        )
    return name


def connection_dialect(conn: Connection) -> str:
    """The switchy-guard dialect name of an open connection."""
    return _DIALECT_NAMES.get(conn.dialect.name, conn.dialect.name)


def mask_url(url: str | URL) -> str:
    """The URL as text with its password replaced by ``***`` (see :mod:`.masking`)."""
    if isinstance(url, URL):
        # An unencoded "@" left part of the password in the host (``u:***@ss@db``):
        # masked to the last "@" by the text rules.
        return masking.mask_url(url.render_as_string(hide_password=True))
    return masking.mask_url(str(url))


def _unencoded_at(parsed: URL) -> bool:
    """Whether the password held an unencoded ``@``: SQLAlchemy ends the password at the
    first one, so the rest of it (``p@ss`` -> ``ss``) is read as part of the host, and
    was shown (``u:***@ss@db``), by switchy-guard and by the driver's errors."""
    return bool(parsed.host and "@" in parsed.host)




# The database refused access for want of a privilege, or a write because it is
# read-only: PostgreSQL insufficient_privilege / read_only_sql_transaction; MySQL/MariaDB
# access denied to a database, a table or for want of a privilege, --read-only, a
# read-only transaction, a read-only table; SQLite SQLITE_READONLY.
_REFUSED_SQLSTATES = frozenset(("42501", "25006"))
_REFUSED_MYSQL_ERRORS = frozenset((1036, 1044, 1142, 1227, 1290, 1792))


def access_refused(error: DBAPIError) -> bool:
    """Whether ``error`` is the database refusing a read or write (a missing privilege,
    a read-only database): a matter of configuration, not of reaching the database."""
    orig = error.orig
    if getattr(orig, "sqlstate", None) in _REFUSED_SQLSTATES:
        return True
    args = getattr(orig, "args", ())
    if args and args[0] in _REFUSED_MYSQL_ERRORS:
        return True
    return "readonly database" in str(orig)


def create_database_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An Engine for ``url`` set up for migrations.

    On SQLite the driver's own transaction handling is turned off and ``BEGIN`` is
    emitted explicitly, so DDL really runs inside the migration's transaction (pysqlite
    would otherwise commit before each DDL statement).
    """
    parsed = parse_url(url) if isinstance(url, str) else url
    dialect_of(parsed)
    try:
        engine = create_engine(parsed, **kwargs)
    except (ValueError, TypeError) as exc:  # an option the dialect cannot read
        raise ConfigError(f"{mask_url(parsed)}: an option of the URL was refused: "
                          f"{masking.mask_text(str(exc))}") from None
    except NoSuchModuleError as exc:
        raise ConfigError(f"no driver for {mask_url(parsed)}: {exc}") from None
    except ModuleNotFoundError as exc:
        extra = "postgres" if parsed.get_backend_name() == "postgresql" else "mysql"
        raise ConfigError(
            f"the database driver is not installed ({exc.name}); install switchy-guard[{extra}]"
        ) from None
    if engine.dialect.name == "sqlite":
        _make_sqlite_transactional(engine)
    install_session_init(engine)  # session_init: after the SQLite set-up above
    return engine


def sqlite_file(url: str | URL) -> str | None:
    """The file a SQLite URL names, None for other databases and in-memory ones.

    With ``uri=true`` the database may be a SQLite URI filename (``file:app.db``,
    ``file:///srv/app.db?mode=ro``), read as SQLite reads it.
    """
    parsed = parse_url(url) if isinstance(url, str) else url
    database = parsed.database
    if (parsed.get_backend_name() != "sqlite" or not database or database == ":memory:"
            or database.startswith("file::memory:")):
        return None
    if database.startswith("file:") and asbool(parsed.query.get("uri")):
        database = unquote(urlsplit(database).path)
        if not database or database == ":memory:" or parsed.query.get("mode") == "memory":
            return None
    return database


def absent_sqlite_file(url: str | URL) -> str | None:
    """The path of the SQLite database file ``url`` names when that file does not exist
    (None for other databases, in-memory ones and files that exist)."""
    database = sqlite_file(url)
    return None if database is None or os.path.exists(database) else database


def refuse_missing_sqlite_folder(url: str | URL) -> None:
    """Refuse (exit 2) a SQLite database file whose folder does not exist: a mistyped
    path. The file is created on first write; folders never are (the lock file beside
    the database would otherwise create them all)."""
    database = sqlite_file(url)
    if database is None:
        return
    folder = os.path.dirname(os.path.abspath(database))
    if not os.path.isdir(folder):
        raise ConfigError(f"{folder} does not exist (the folder of the SQLite database "
                          f"{database}): the database file is created, its folder never "
                          "is; is the path right?")


def empty_stand_in(url: str | URL) -> Engine:
    """An engine named like the SQLite ``url`` whose connections open empty in-memory
    databases: a read-only verb reads a file that does not exist yet as an empty
    database, without creating the file (sqlite3 creates any file it opens)."""
    import sqlite3

    return create_database_engine(url, creator=lambda: sqlite3.connect(":memory:"))


def _make_sqlite_transactional(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # The runner sets this flag for statements that must run outside a transaction.
        if not conn.info.get("switchy_autocommit"):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("switchy_immediate")
                                 else "BEGIN")


# libpq refusing a setting of the URL before any network traffic (an unknown option, a
# value it cannot read), or the server refusing a -c setting in ?options=: bad
# configuration (exit 2), not an unreachable database.
_BAD_CONNECTION_SETTING = re.compile(
    r"invalid connection option|invalid \w+ value: |bad value for \w+|invalid integer "
    r"value .* for connection option|invalid value for parameter|unrecognized "
    r"configuration parameter|missing \"=\" after")


def connect(engine: Engine) -> Connection:
    """Open a connection, turning driver failures into DatabaseUnavailable (exit 3)."""
    try:
        return engine.connect()
    except DBAPIError as exc:
        if _BAD_CONNECTION_SETTING.search(str(exc.orig)):
            raise ConfigError(
                f"cannot connect to {mask_url(engine.url)}: a connection setting of the URL "
                f"was refused: {database_reason(exc)}"
            ) from None
        raise DatabaseUnavailable(
            f"cannot connect to {mask_url(engine.url)}: {database_reason(exc)}"
        ) from None
    except (ValueError, TypeError, LookupError, AttributeError, OSError) as exc:
        # Not a database error: the driver choked on a connection setting of the URL
        # (PyMySQL: ?charset=unknown, ?ssl_ca=/missing/file).
        raise ConfigError(
            f"cannot connect to {mask_url(engine.url)}: the driver refused the URL's "
            f"settings ({type(exc).__name__}: {masking.mask_text(str(exc)) or 'no detail'})"
        ) from None


@contextmanager
def connect_for_write(engine: Engine) -> Iterator[Connection]:
    """A connection whose transactions write. On SQLite they begin IMMEDIATE: a deferred
    transaction that reads and then writes gets "database is locked" at once, without
    waiting, when another connection writes at the same moment."""
    conn = connect(engine)
    conn.info["switchy_immediate"] = True
    try:
        yield conn
    finally:
        conn.info.pop("switchy_immediate", None)
        conn.close()


# The columns of the relation a (quoted, maybe schema-qualified) name resolves to by the
# session's search_path; no rows when there is none.
_PG_COLUMNS = text("SELECT attname FROM pg_catalog.pg_attribute WHERE attrelid = "
                   "to_regclass(:t) AND attnum > 0 AND NOT attisdropped")


# MySQL/MariaDB: information_schema, not SQLAlchemy's reflection, which parses SHOW
# CREATE TABLE and reads no column of it once the session's sql_mode has ANSI_QUOTES (a
# migration may set it before the audit row is written).
_MYSQL_COLUMNS = text("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE "
                      "TABLE_SCHEMA = COALESCE(:s, DATABASE()) AND TABLE_NAME = :t")


def table_columns(conn: Connection, name: str, quoted: str) -> set[str] | None:
    """The column names (lower case) of the table ``name`` (``quoted``: as statements
    name it), None when it does not exist. On PostgreSQL one small catalog query:
    SQLAlchemy's reflection takes two large ones, each compiled anew on every engine,
    which made these checks a large share of a fleet's CPU time per target."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(_PG_COLUMNS, {"t": quoted}).scalars().all()
        return {str(column).lower() for column in rows} or None
    if conn.dialect.name in ("mysql", "mariadb"):
        schema, _, table = name.rpartition(".")
        rows = conn.execute(_MYSQL_COLUMNS, {"s": schema or None, "t": table}).scalars().all()
        return {str(column).lower() for column in rows} or None
    from sqlalchemy import inspect

    inspector = inspect(conn)
    if not inspector.has_table(name):
        return None
    return {column["name"].lower() for column in inspector.get_columns(name)}
