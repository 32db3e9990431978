"""Session settings run on every connection switchy-guard opens (``session_init``).

Real projects' migrations assume session settings their own deploy scripts make: MySQL's
``SET FOREIGN_KEY_CHECKS=0`` before dropping a table others refer to, PostgreSQL's
``SET search_path TO app`` or a custom setting (``SET myapp.tenant = 'acme'``) that a
migration reads with ``current_setting``. ``session_init`` is that SQL: one or several
statements, run when each connection is opened, by the runner, ``plan``, ``check -d``,
``verify`` and the scratch database alike.

Where it comes from, first found wins: the global flag ``--session-init SQL`` (repeatable),
the config key ``session_init``, the chosen environment's policy key ``session_init``.
The value is a string (statements separated by ``;``), a list of strings, or a table
keyed by dialect (``sqlite``, ``postgres``, ``mysql``) whose values are either, for a
project whose migrations exist for several databases.

PostgreSQL: the runner's ``RESET ALL`` (after a migration that SETs something) would put
the settings back to the server's defaults; the session settings are run again after it.

No SQLAlchemy import at module level: config and policy files are read by verbs that
never import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: Dialect keys of a ``session_init`` table, and the switchy-guard dialect each means.
_DIALECT_KEYS = {"sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres",
                 "mysql": "mysql", "mariadb": "mysql"}
#: SQLAlchemy's dialect names, as switchy-guard names them.
_ENGINE_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql",
                    "mariadb": "mysql"}
_KIND = "a string, a list of strings, or a table of dialect = string or list of strings"


@dataclass(frozen=True)
class SessionInit:
    """Statements run on each new connection: ``common`` on every database, ``by_dialect``
    on that one only (after the common ones). ``origin`` says where they were set."""

    origin: str
    common: tuple[str, ...] = ()
    by_dialect: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def for_dialect(self, dialect: str) -> tuple[str, ...]:
        """The statements for ``dialect`` (``sqlite``, ``postgres``, ``mysql``)."""
        return self.common + tuple(self.by_dialect.get(dialect, ()))


def parse_session_init(value: Any, origin: str, *, path: str | Path | None = None
                       ) -> SessionInit | None:
    """``value`` (a string, a list of strings, or a dialect table of those) as a
    SessionInit; None when it holds no statement. A wrong shape or an unknown dialect is
    a ConfigError naming ``path`` (or ``origin``)."""
    def wrong(problem: str) -> ConfigError:
        if path is not None:
            return ConfigError(f"session_init {problem}", path=path)
        return ConfigError(f"{origin} {problem}")

    if isinstance(value, Mapping):
        by_dialect: dict[str, tuple[str, ...]] = {}
        for key, statements in value.items():
            dialect = _DIALECT_KEYS.get(str(key).lower())
            if dialect is None:
                raise wrong(f"names an unknown dialect {key!r} (known: sqlite, postgres, "
                            "mysql)")
            by_dialect[dialect] = by_dialect.get(dialect, ()) + _statements(
                statements, dialect, wrong)
        found = SessionInit(origin, (), by_dialect)
        return found if any(by_dialect.values()) else None
    common = _statements(value, None, wrong)
    return SessionInit(origin, common) if common else None


def _statements(value: Any, dialect: str | None,
                wrong: Callable[[str], ConfigError]) -> tuple[str, ...]:
    from switchy_guard.sql.split import split_statements

    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise wrong(f"must be {_KIND}, not {value!r}")
    return tuple(statement.text for item in items
                 for statement in split_statements(item, dialect)
                 if statement.block is None and statement.text.strip())


# -- the settings in effect -------------------------------------------------------------

#: What engines made now get: a SessionInit, or a function giving one (called once, when
#: the first engine is made: finding the policy reads the policy files). A process-wide
#: value, not a context variable: worker threads of a run (a fleet's) must see it too.
_in_effect: list[SessionInit | Callable[[], SessionInit | None] | None] = [None]


@contextmanager
def session_init_in_effect(
        value: SessionInit | Callable[[], SessionInit | None] | None) -> Iterator[None]:
    """Inside the block, every engine :func:`~switchy_guard.runtime.db.create_database_engine`
    makes runs ``value``'s statements on each connection it opens."""
    cache: list[SessionInit | None] = []

    def once() -> SessionInit | None:
        if not cache:
            cache.append(value() if callable(value) else value)
        return cache[0]

    previous = _in_effect[0]
    _in_effect[0] = once if callable(value) else value
    try:
        yield
    finally:
        _in_effect[0] = previous


def current_session_init() -> SessionInit | None:
    """The session settings in effect (None: none)."""
    value = _in_effect[0]
    return value() if callable(value) else value


def install_session_init(engine: Engine, init: SessionInit | None = None) -> None:
    """Run ``init`` (default: the settings in effect) on every connection ``engine``
    opens; a statement that fails is a ConfigError (exit 2) naming it and its origin."""
    from sqlalchemy import event

    init = init if init is not None else current_session_init()
    if init is None:
        return
    statements = init.for_dialect(_ENGINE_DIALECTS.get(engine.dialect.name,
                                                       engine.dialect.name))
    if not statements:
        return
    url = engine.url

    def run(cursor: Any) -> None:
        for statement in statements:
            try:
                cursor.execute(statement)
            except engine.dialect.loaded_dbapi.Error as exc:
                from switchy_guard.masking import mask_url
                from switchy_guard.runtime.reasons import database_reason

                raise ConfigError(
                    f"session_init statement {statement!r} ({init.origin}) failed on "
                    f"{mask_url(url.render_as_string(hide_password=True))}: "
                    f"{database_reason(exc)}") from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            run(cursor)
        finally:
            cursor.close()
        # Committed: a later ROLLBACK (the pool's reset) must not undo a SET.
        dbapi_connection.commit()

    if engine.dialect.name == "postgresql":
        @event.listens_for(engine, "after_cursor_execute")
        def _after_reset(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            # The runner's RESET ALL puts settings back to the server's defaults, not to
            # what the connection was opened with: run the session settings again.
            if statement.strip().upper() == "RESET ALL":
                run(cursor)
