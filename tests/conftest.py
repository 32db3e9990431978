"""Test fixtures: a fresh database of each kind the run was asked for.

``SWITCHY_TEST_DATABASES`` (comma list of sqlite, postgres, mysql; default all three)
chooses them. PostgreSQL and MariaDB servers are started once per run, on first use
(see tests/dbservers.py), unless ``SWITCHY_TEST_POSTGRES_URL`` / ``SWITCHY_TEST_MYSQL_URL``
name servers to use instead. A server that cannot start fails the tests that need it;
nothing is skipped.

Fixtures:
- ``db_kind``: ``"sqlite"``, ``"postgres"`` or ``"mysql"`` (the test is run once per kind);
- ``db_url``: the URL of a fresh, empty database of that kind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbservers import STARTERS, Server, create_database

KINDS = ("sqlite", "postgres", "mysql")


def selected_kinds() -> list[str]:
    """The database kinds this run covers."""
    raw = os.environ.get("SWITCHY_TEST_DATABASES", ",".join(KINDS))
    kinds = [k.strip() for k in raw.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise pytest.UsageError(f"SWITCHY_TEST_DATABASES: unknown kind {unknown[0]!r}")
    return kinds


class _ExternalServer:
    """A server given by URL: databases are still created fresh per test."""

    def __init__(self, kind: str, url: str) -> None:
        from sqlalchemy.engine import make_url

        from switchy_guard.db import parse_url

        parsed = parse_url(url)
        admin = "postgres" if kind == "postgres" else "mysql"
        self.url = make_url(parsed).set(database=admin).render_as_string(hide_password=False)

    def new_database(self) -> str:
        return create_database(self.url)

    def stop(self) -> None:
        pass


class _Servers:
    """Servers started on first use, stopped at the end of the session."""

    def __init__(self) -> None:
        self.running: dict[str, Server | _ExternalServer] = {}
        self.failures: dict[str, str] = {}

    def get(self, kind: str) -> Server | _ExternalServer:
        if kind in self.failures:
            pytest.fail(f"the {kind} test server could not start: {self.failures[kind]}")
        if kind not in self.running:
            external = os.environ.get(f"SWITCHY_TEST_{kind.upper()}_URL")
            try:
                self.running[kind] = (
                    _ExternalServer(kind, external) if external else STARTERS[kind]()
                )
            except Exception as exc:
                self.failures[kind] = str(exc)
                pytest.fail(f"the {kind} test server could not start: {exc}")
        return self.running[kind]

    def stop(self) -> None:
        for server in self.running.values():
            server.stop()


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
def _servers() -> Iterator[_Servers]:
    servers = _Servers()
    yield servers
    servers.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        metafunc.parametrize("db_kind", selected_kinds(), scope="function")


@pytest.fixture
def db_url(db_kind: str, _servers: _Servers, tmp_path: Path) -> str:
    """The URL of a fresh, empty database of kind ``db_kind``."""
    if db_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return _servers.get(db_kind).new_database()
