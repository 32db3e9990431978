"""Test fixtures: a fresh database of each kind the run was asked for.

Which kinds: ``SWITCHY_TEST_DATABASES``, a comma list of ``sqlite``, ``postgres``,
``mysql`` (default: all three). PostgreSQL and MariaDB servers are started once per run,
on first use, and stopped at the end (see tests/dbservers.py), unless
``SWITCHY_TEST_POSTGRES_URL`` / ``SWITCHY_TEST_MYSQL_URL`` name servers to use instead
(their test databases are dropped at the end). A server that cannot start makes every
test that needs it ERROR; nothing is ever skipped for want of a database.

Fixtures (a test that asks for any of them runs once per selected kind, with the test
ids ``[sqlite]``, ``[postgres]``, ``[mysql]``):

- ``db_kind``: ``"sqlite"``, ``"postgres"`` or ``"mysql"``, the kind of this run;
- ``db_url``: the SQLAlchemy URL (a ``str``) of a fresh, empty database of that kind:
  ``sqlite:///<tmp_path>/test.db``, or a new uniquely named database on the server,
  logging in as ``switchy`` with the password ``s3cret-pw`` over TCP;
- ``make_db_url``: a callable; each call returns the URL of another fresh, empty
  database of the same kind (for tests that need more than one).

A test about one database's own SQL (MySQL's ``CALL``, PostgreSQL's enums) is marked
``@pytest.mark.only_on("mysql")``: it runs for the kinds named there and is deselected
(never skipped) for the others.

A test that needs servers of several kinds at once (a fleet of SQLite files, PostgreSQL
and MariaDB databases) does not ask for ``db_kind``: it is marked
``@pytest.mark.needs_kinds("postgres", "mysql")``, asks for ``server_of`` and calls
``server_of("postgres")`` for the session's server of that kind (``.new_database()``).
It runs once, and is deselected (never skipped) when the run leaves out a kind it names.

Example::

    def test_x(db_url: str, db_kind: str) -> None:
        engine = create_engine(db_url)
        ...
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.dbservers import STARTERS, DatabaseServer, ExternalServer, Server

KINDS = ("sqlite", "postgres", "mysql")
_SELECTED = pytest.StashKey[list[str]]()
_STARTS = pytest.StashKey[dict[str, str]]()


def selected_kinds(raw: str | None = None) -> list[str]:
    """The database kinds a run covers, from ``SWITCHY_TEST_DATABASES`` (or ``raw``)."""
    if raw is None:
        raw = os.environ.get("SWITCHY_TEST_DATABASES", ",".join(KINDS))
    kinds = list(dict.fromkeys(k.strip().lower() for k in raw.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise pytest.UsageError(
            f"SWITCHY_TEST_DATABASES: unknown kind {unknown[0]!r} (choose from {', '.join(KINDS)})"
        )
    if not kinds:
        # An empty parameter list would make pytest skip the database tests: refuse.
        raise pytest.UsageError("SWITCHY_TEST_DATABASES names no database")
    return kinds


def pytest_configure(config: pytest.Config) -> None:
    """Read the database selection once, failing the run early when it is invalid."""
    config.stash[_SELECTED] = selected_kinds()
    config.stash[_STARTS] = {}
    config.addinivalue_line(
        "markers", "only_on(*kinds): run only for these database kinds (others deselected)"
    )
    config.addinivalue_line(
        "markers", "needs_kinds(*kinds): uses servers of these kinds at once (server_of); "
                   "deselected unless the run selects every one"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the runs of ``only_on`` tests for database kinds they are not about, and
    ``needs_kinds`` tests when the run leaves out a kind they need."""
    kinds: list[str] = config.stash[_SELECTED]
    selected = set(kinds)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("only_on")
        callspec = getattr(item, "callspec", None)
        kind = callspec.params.get("db_kind") if callspec is not None else None
        needs = item.get_closest_marker("needs_kinds")
        unmet = needs is not None and not set(needs.args) <= selected
        (drop if unmet or (marker is not None and kind not in marker.args) else keep
         ).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``db_kind`` (so ``db_url``) once per selected kind."""
    if "db_kind" in metafunc.fixturenames:
        kinds: list[str] = metafunc.config.stash[_SELECTED]
        metafunc.parametrize("db_kind", kinds, scope="function")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which test servers this run used, and how long starting them took."""
    starts = terminalreporter.config.stash.get(_STARTS, {})
    if starts:
        terminalreporter.write_line(
            "test database servers: " + "; ".join(f"{k} {v}" for k, v in starts.items())
        )


class _Servers:
    """The session's servers: started (or connected to) on first use, stopped at the end."""

    def __init__(self, starts: dict[str, str]) -> None:
        self.running: dict[str, DatabaseServer] = {}
        self.failures: dict[str, str] = {}
        self.starts = starts

    def get(self, kind: str) -> DatabaseServer:
        """The server for ``kind``; fails the asking test (an ERROR) if it cannot start."""
        if kind in self.failures:
            pytest.fail(f"the {kind} test server could not start: {self.failures[kind]}",
                        pytrace=False)
        if kind not in self.running:
            external = os.environ.get(f"SWITCHY_TEST_{kind.upper()}_URL")
            begin = time.monotonic()
            try:
                server = ExternalServer(kind, external) if external else STARTERS[kind]()
            except Exception as exc:
                self.failures[kind] = f"{type(exc).__name__}: {exc}"
            if kind in self.failures:  # failed outside the except: no chained traceback
                pytest.fail(f"the {kind} test server could not start: {self.failures[kind]}",
                            pytrace=False)
            self.running[kind] = server
            self.starts[kind] = (
                f"started in {time.monotonic() - begin:.2f} s on port {server.port}"
                if isinstance(server, Server) else "external (SWITCHY_TEST_*_URL)"
            )
        return self.running[kind]

    def stop(self) -> None:
        """Stop every server (and drop test databases on external ones)."""
        for server in self.running.values():
            server.stop()
        self.running.clear()


@pytest.fixture(scope="session", autouse=True)
def _private_check_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep check's report cache out of the developer's home during tests."""
    previous = os.environ.get("SWITCHY_CACHE_DIR")
    os.environ["SWITCHY_CACHE_DIR"] = str(tmp_path_factory.mktemp("check-cache"))
    yield
    if previous is None:
        os.environ.pop("SWITCHY_CACHE_DIR", None)
    else:
        os.environ["SWITCHY_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def _servers(pytestconfig: pytest.Config) -> Iterator[_Servers]:
    """Lazily started test servers, all stopped when the session ends (pass or fail)."""
    servers = _Servers(pytestconfig.stash[_STARTS])
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def make_db_url(db_kind: str, _servers: _Servers, tmp_path: Path) -> Callable[[], str]:
    """A factory: each call creates another fresh, empty database of kind ``db_kind``."""
    numbers = itertools.count(1)

    def make() -> str:
        if db_kind == "sqlite":
            number = next(numbers)
            return f"sqlite:///{tmp_path / ('test.db' if number == 1 else f'test{number}.db')}"
        return _servers.get(db_kind).new_database()

    return make


@pytest.fixture
def server_of(_servers: _Servers, request: pytest.FixtureRequest
              ) -> Callable[[str], DatabaseServer]:
    """For a test marked ``needs_kinds``: ``server_of(kind)`` is the session's server of
    that kind (started on first use; one that cannot start fails the test)."""
    marker = request.node.get_closest_marker("needs_kinds")
    named = set(marker.args) if marker is not None else set()

    def get(kind: str) -> DatabaseServer:
        if kind not in named:
            pytest.fail(f"server_of({kind!r}): mark the test needs_kinds({kind!r})",
                        pytrace=False)
        return _servers.get(kind)

    return get


@pytest.fixture
def db_url(make_db_url: Callable[[], str]) -> str:
    """The URL of a fresh, empty database of kind ``db_kind``."""
    return make_db_url()
