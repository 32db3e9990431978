"""Scratch databases: the only databases verify changes.

A temporary SQLite file by default, the URL given (which must hold an empty database and
must not be the ``-d`` database), or a fresh database created beside the ``-d`` database
on its server and dropped afterwards (:func:`scratch_database_for`).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from switchy_guard.errors import ConfigError
from switchy_guard.runtime.db import access_refused, connect, dialect_of, mask_url, parse_url
from switchy_guard.runtime.reasons import database_reason
from switchy_guard.runtime.session_init import install_session_init

DIALECTS = ("sqlite", "postgres", "mysql")


@contextmanager
def scratch_database_for(url: str | None = None) -> Iterator[str]:
    """The URL of a fresh, empty scratch database that exists only for the block.

    For a PostgreSQL or MySQL ``url`` a new database (``switchy_verify_<random>``) is
    created on the same server, with the same credentials, and dropped afterwards; the
    database ``url`` names is never touched. For a SQLite ``url`` or ``None`` it is a
    temporary SQLite file, deleted afterwards.
    """
    dialect = dialect_of(url) if url else "sqlite"
    if dialect == "sqlite":
        with tempfile.TemporaryDirectory(prefix="switchy-verify-") as folder:
            yield f"sqlite:///{Path(folder) / 'scratch.db'}"
        return
    assert url is not None
    name = f"switchy_verify_{uuid.uuid4().hex[:12]}"
    parsed = parse_url(url)
    # Connect to the server through the given database (it must exist to log in), or the
    # administrative one when the URL names none; only CREATE/DROP DATABASE are sent.
    if not parsed.database:
        parsed = parsed.set(database="postgres" if dialect == "postgres" else "mysql")
    server = create_engine(parsed, isolation_level="AUTOCOMMIT")
    install_session_init(server)  # every connection opened gets the session settings
    try:
        with connect(server) as conn:
            try:
                conn.execute(text(f"CREATE DATABASE {name}"))
            except DBAPIError as exc:
                if not access_refused(exc):
                    raise
                raise ConfigError(
                    f"verify could not create a scratch database on {mask_url(parsed)}: "
                    f"{database_reason(exc)}; give --scratch URL (an empty database this "
                    "user may change)") from None
        try:
            yield parsed.set(database=name).render_as_string(hide_password=False)
        finally:
            with server.connect() as conn:
                conn.execute(text(f"DROP DATABASE {name}"))
    finally:
        server.dispose()


@contextmanager
def scratch_database(database_url: str | None, scratch_url: str | None) -> Iterator[str]:
    """``scratch_url`` as it is when given, else :func:`scratch_database_for` ``database_url``."""
    if scratch_url:
        yield scratch_url
    else:
        with scratch_database_for(database_url) as url:
            yield url


def _same_database(a: str, b: str) -> bool:
    left, right = parse_url(a), parse_url(b)
    return (left.get_backend_name(), left.host, left.port or None, left.database) == (
        right.get_backend_name(), right.host, right.port or None, right.database)


def check_scratch_inputs(scratch_url: str | None, database_url: str | None,
                         dialect: str | None) -> None:
    """Refuse (ConfigError) an unknown ``dialect``, a ``scratch_url`` that is the
    ``database_url`` database or of another dialect, and a verify of ``dialect``
    migrations without a scratch database of that dialect."""
    if dialect is not None and dialect not in DIALECTS:
        raise ConfigError(f"unknown dialect {dialect!r} (known: {', '.join(DIALECTS)})")
    if scratch_url:
        scratch_dialect = dialect_of(scratch_url)
        if database_url and _same_database(scratch_url, database_url):
            raise ConfigError(f"--scratch {mask_url(scratch_url)} is the -d database; "
                              "verify needs a separate, empty scratch database")
        if dialect and scratch_dialect != dialect:
            raise ConfigError(f"--scratch is a {scratch_dialect} database but the migrations "
                              f"are for {dialect}")
        return
    server_dialect = dialect_of(database_url) if database_url else "sqlite"
    if dialect and dialect != server_dialect:
        where = f"-d is a {server_dialect} database" if database_url else "no --scratch given"
        raise ConfigError(f"verify of {dialect} migrations needs a {dialect} scratch database "
                          f"({where}): give --scratch URL")


def require_empty(engine: Engine, url: str) -> None:
    """Refuse (ConfigError) a scratch database that holds tables or views."""
    inspector = inspect(engine)
    names = sorted(inspector.get_table_names()) + sorted(inspector.get_view_names())
    if names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        raise ConfigError(f"the scratch database {mask_url(url)} is not empty ({shown}); "
                          "verify changes it, so it needs an empty database")
