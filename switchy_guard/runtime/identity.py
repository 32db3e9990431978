"""What a database says it is: the facts environment policies are matched against.

A URL names one database in many spellings: ``?dbname=`` / ``?database=`` / ``?host=``
in its query, ``PGDATABASE`` / ``PGHOST`` in the environment, ``localhost``, ``127.0.0.1``
or ``127.1``, a SQLite file through a hard link, a symlink or ``x/../app.db``. So after
connecting, switchy-guard asks the database itself, one function per dialect, each
returning plain data (:class:`ServerIdentity`):

- PostgreSQL: ``current_database()``, ``inet_server_addr()`` / ``inet_server_port()``
  (NULL over a unix socket: the server is on this machine), ``current_user``, and the
  cluster's ``system_identifier`` from ``pg_control_system()`` (executable by every role
  since PostgreSQL 9.6 unless revoked; where it is not, the fact is absent), plus the host
  and address libpq really connected to.
- MySQL/MariaDB: ``DATABASE()``, ``@@hostname``, ``@@port``, ``@@server_id``,
  ``CURRENT_USER()``, and MySQL's ``server_uuid`` or MariaDB's ``server_uid`` (MariaDB has
  no ``server_uuid``; its ``server_uid`` is a hash of the server's MAC address and port),
  plus the host the driver connected to.
- SQLite: the file's real path (symlinks and ``..`` resolved) and its device and inode,
  which every hard link shares; ``:memory:`` is its own thing. Read from the file the URL
  names (what SQLite opens), without opening it, so nothing is created.

Host names are normalised (:func:`normal_host`): every loopback spelling (``localhost``,
``127.0.0.1``, ``127.1``, ``::1``, ``0.0.0.0``) and a unix socket read as ``localhost``.
SQLAlchemy is imported only by the functions that query.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

LOOPBACK = "localhost"
_SHORT_IPV4 = re.compile(r"(0x[0-9a-f]+|\d+)(\.(0x[0-9a-f]+|\d+)){0,3}")

#: The facts ``match_servers`` may name, per dialect (see :mod:`switchy_guard.gates.policy`).
FACTS: dict[str, tuple[str, ...]] = {
    "postgres": ("system_identifier", "database", "host", "port", "user"),
    "mysql": ("server_uuid", "server_uid", "server_id", "hostname", "database", "host",
              "port", "user"),
    "sqlite": ("file",),
}


@dataclass(frozen=True)
class ServerIdentity:
    """What a connected database said it is.

    ``database``: the database the server says the session is in (SQLite: the file's real
    path, or ``:memory:``). ``hosts``: every normalised name or address of the server
    known (the one the client connected to, the server's own address or host name).
    ``facts``: the dialect's facts by name, as text (see :data:`FACTS`; absent when the
    server would not say). ``file_id``: a SQLite file's (device, inode).
    """

    dialect: str
    database: str | None
    hosts: tuple[str, ...] = ()
    port: int | None = None
    facts: Mapping[str, str] = field(default_factory=dict)
    file_id: tuple[int, int] | None = None

    def names(self) -> tuple[str, ...]:
        """The ``host/database`` (and ``host:port/database``) spellings of this database,
        or the SQLite file's real path, for ``match_urls`` patterns."""
        if self.dialect == "sqlite":
            return (self.database,) if self.database else ()
        database = self.database or ""
        plain = [f"{host}/{database}" for host in self.hosts]
        ported = ([f"{host}:{self.port}/{database}" for host in self.hosts]
                  if self.port is not None else [])
        return tuple(dict.fromkeys(plain + ported))

    def describe(self) -> str:
        """One line for messages and the audit journal."""
        if self.dialect == "sqlite":
            where = self.database or ":memory:"
            if self.file_id is None:
                return f"sqlite {where}"
            return f"sqlite {where} (device {self.file_id[0]}, inode {self.file_id[1]})"
        place = self.hosts[0] if self.hosts else "?"
        if self.port is not None:
            place += f":{self.port}"
        keys = ("system_identifier", "server_uuid", "server_uid", "server_id", "hostname")
        shown = ", ".join(f"{k}={self.facts[k]}" for k in keys if self.facts.get(k))
        return (f"{self.dialect} database {self.database or ''!r} at {place}"
                + (f" ({shown})" if shown else ""))


def normal_host(host: str | None) -> str:
    """``host`` lower-cased, without brackets or a trailing dot; every loopback or
    unspecified address, ``localhost`` itself, a unix socket path and no host at all
    become ``localhost`` (they all reach this machine)."""
    if not host or host.startswith(("/", "@")):  # a unix socket directory or path
        return LOOPBACK
    text = host.strip().strip("[]").rstrip(".").lower()
    if text == LOOPBACK or text.endswith(".localhost") or text == "localhost.localdomain":
        return LOOPBACK
    address = _ip_address(text)
    if address is None:
        return text
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        address = mapped
    if address.is_loopback or address.is_unspecified:
        return LOOPBACK
    return str(address)


def _ip_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        pass
    if _SHORT_IPV4.fullmatch(text):
        # The shorthand IPv4 forms the C resolver takes (127.1, 2130706433, 0x7f.1).
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _hosts(*candidates: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normal_host(c) for c in candidates))


def postgres_identity(conn: Connection) -> ServerIdentity:
    """Ask a PostgreSQL server which database, address and cluster this session is on."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    row = conn.execute(text(
        "SELECT current_database(), host(inet_server_addr()), inet_server_port(), "
        "current_user")).one()
    facts = {"database": row[0], "user": row[3]}
    try:
        with conn.begin_nested():  # a role denied it must not abort the session
            system_id = conn.execute(text(
                "SELECT system_identifier FROM pg_control_system()")).scalar()
    except DBAPIError:
        system_id = None
    if system_id is not None:
        facts["system_identifier"] = str(system_id)
    info = getattr(_driver_connection(conn), "info", None)
    port = row[2] if row[2] is not None else getattr(info, "port", None)
    hosts = _hosts(getattr(info, "host", None), getattr(info, "hostaddr", None) or None,
                   row[1])
    facts["host"] = hosts[0]
    if port is not None:
        facts["port"] = str(port)
    return ServerIdentity("postgres", row[0], hosts, int(port) if port else None, facts)


def mysql_identity(conn: Connection) -> ServerIdentity:
    """Ask a MySQL or MariaDB server which database, host and server this session is on."""
    from sqlalchemy import text

    row = conn.execute(text(
        "SELECT DATABASE(), @@hostname, @@port, @@server_id, CURRENT_USER()")).one()
    facts: dict[str, str] = {"hostname": str(row[1]).lower(), "port": str(row[2]),
                             "server_id": str(row[3]), "user": str(row[4])}
    if row[0] is not None:
        facts["database"] = row[0]
    for name, value in conn.execute(text(
            "SHOW VARIABLES WHERE Variable_name IN ('server_uuid', 'server_uid')")):
        if value:
            facts[str(name)] = str(value)
    raw = _driver_connection(conn)
    client = None if getattr(raw, "unix_socket", None) else getattr(raw, "host", None)
    hosts = _hosts(client, str(row[1]))
    facts["host"] = hosts[0]
    return ServerIdentity("mysql", row[0], hosts, int(row[2]), facts)


def sqlite_identity(url: URL | str) -> ServerIdentity:
    """The SQLite file ``url`` names, as the operating system sees it: its real path and,
    when it exists, its device and inode. Never opens (so never creates) the file."""
    from switchy_guard.runtime.db import sqlite_file

    database = sqlite_file(url)
    if database is None:
        return ServerIdentity("sqlite", ":memory:")
    real = os.path.realpath(database)
    try:
        stat = os.stat(real)
    except OSError:
        return ServerIdentity("sqlite", real, facts={"file": real})
    return ServerIdentity("sqlite", real, facts={"file": real},
                          file_id=(stat.st_dev, stat.st_ino))


def server_identity(conn: Connection) -> ServerIdentity:
    """What the database on the other end of ``conn`` says it is."""
    from switchy_guard.runtime.db import connection_dialect

    dialect = connection_dialect(conn)
    if dialect == "postgres":
        return postgres_identity(conn)
    if dialect == "mysql":
        return mysql_identity(conn)
    return sqlite_identity(conn.engine.url)


def identify(engine: Engine) -> ServerIdentity:
    """Connect through ``engine`` (SQLite: look at the file) and ask what it is.

    An unreachable server is DatabaseUnavailable (exit 3), as for any verb.
    """
    from switchy_guard.runtime.db import connect

    if engine.dialect.name == "sqlite":
        return sqlite_identity(engine.url)
    with connect(engine) as conn:
        try:
            return server_identity(conn)
        finally:
            conn.rollback()


def identify_database(database: Engine | URL | str) -> ServerIdentity:
    """:func:`identify` for an Engine, or for a URL (an engine is made and disposed)."""
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import NullPool

    from switchy_guard.runtime.db import create_database_engine, parse_url

    if isinstance(database, Engine):
        return identify(database)
    url = parse_url(database) if isinstance(database, str) else database
    if url.get_backend_name() == "sqlite":
        return sqlite_identity(url)
    engine = create_database_engine(url, poolclass=NullPool)
    try:
        return identify(engine)
    finally:
        engine.dispose()


def _driver_connection(conn: Connection) -> Any:
    """The DB-API connection under ``conn`` (psycopg's ``info``, PyMySQL's ``host``)."""
    return conn.connection.dbapi_connection
