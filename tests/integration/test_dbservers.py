"""The throwaway test servers work, and every test gets a database of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests import dbservers
from tests.conftest import selected_kinds

ROOT = Path(__file__).resolve().parents[2]
DIALECTS = {"sqlite": "sqlite", "postgres": "postgresql", "mysql": "mysql"}


def _write_and_read(url: str, note: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
            conn.execute(text("INSERT INTO probe (id, note) VALUES (1, :note)"), {"note": note})
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT note FROM probe ORDER BY id")).scalars())
    finally:
        engine.dispose()


def test_each_database_takes_writes(db_url: str, db_kind: str) -> None:
    engine = create_engine(db_url)
    assert engine.dialect.name == DIALECTS[db_kind]
    engine.dispose()
    assert _write_and_read(db_url, "ok é") == ["ok é"]


def test_servers_listen_on_loopback_with_a_password(db_url: str, db_kind: str) -> None:
    url = make_url(db_url)
    if db_kind == "sqlite":
        assert url.database and url.database.endswith("test.db")
        return
    external = os.environ.get(f"SWITCHY_TEST_{db_kind.upper()}_URL")
    if not external:
        assert (url.host, url.username, url.password) == (
            "127.0.0.1", dbservers.USER, dbservers.PASSWORD)
    # A wrong password is refused: the server really checks it.
    wrong = url.set(password="not-the-password")
    with pytest.raises(Exception, match=r"(?i)password|access denied"):
        create_engine(wrong).connect().close()


def test_every_test_gets_an_empty_database(db_url: str) -> None:
    engine = create_engine(db_url)
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_two_databases_are_separate(db_url: str, make_db_url: Callable[[], str]) -> None:
    other = make_db_url()
    assert other != db_url
    assert _write_and_read(db_url, "first") == ["first"]
    engine = create_engine(other)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    assert _write_and_read(other, "second") == ["second"]
    assert _write_and_read_again(db_url) == ["first"]


def _write_and_read_again(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT note FROM probe")).scalars())
    finally:
        engine.dispose()


def test_an_external_server_gets_fresh_databases_and_drops_them(db_url: str,
                                                                  db_kind: str) -> None:
    if db_kind == "sqlite":
        return  # SQLite has no server; its databases are files in the test's folder
    # A plain scheme (no driver) is accepted, as a developer would write it.
    plain = make_url(db_url).set(drivername=make_url(db_url).get_backend_name())
    external = dbservers.ExternalServer(db_kind, plain.render_as_string(hide_password=False))
    first, second = external.new_database(), external.new_database("named_by_the_test")
    assert first != second and second.endswith("/named_by_the_test")
    engine = create_engine(first)
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    external.stop()
    admin = create_engine(db_url)
    with admin.connect() as conn:
        names = set(inspect(conn).get_schema_names()) if db_kind == "mysql" else set(
            conn.execute(text("SELECT datname FROM pg_database")).scalars())
    admin.dispose()
    assert not {make_url(first).database, "named_by_the_test"} & names


def test_database_names_are_checked() -> None:
    with pytest.raises(ValueError, match="database name"):
        dbservers.create_database("postgresql+psycopg://u:p@127.0.0.1:1/postgres", "x; DROP")


def test_database_selection_is_validated() -> None:
    assert selected_kinds("mysql, sqlite,mysql") == ["mysql", "sqlite"]
    with pytest.raises(pytest.UsageError, match="unknown kind 'oracle'"):
        selected_kinds("sqlite,oracle")
    with pytest.raises(pytest.UsageError, match="names no database"):
        selected_kinds(" , ")


def _starts_servers(db_kind: str) -> bool:
    """Whether this run starts its own ``db_kind`` server (not SQLite, not external)."""
    return db_kind != "sqlite" and not os.environ.get(f"SWITCHY_TEST_{db_kind.upper()}_URL")


BROKEN_STARTS: dict[str, tuple[Callable[[], dbservers.Server], str]] = {
    "postgres": (lambda: dbservers.start_postgres({"no_such_setting": "1"}),
                 'unrecognized configuration parameter "no_such_setting"'),
    "mysql": (lambda: dbservers.start_mariadb(["--no-such-option=1"]),
              "unknown variable 'no-such-option=1'"),
}


def test_a_server_that_cannot_start_says_why_and_leaves_nothing(
    db_kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _starts_servers(db_kind):
        return
    start, expected = BROKEN_STARTS[db_kind]
    roots: list[str] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording_mkdtemp(prefix: str) -> str:
        roots.append(real_mkdtemp(prefix=prefix))
        return roots[-1]

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    with pytest.raises(dbservers.ServerError, match="exited with") as failure:
        start()
    assert expected in str(failure.value)  # the tail of the server's own log
    assert roots and not any(Path(root).exists() for root in roots)


def test_stop_ends_the_server_and_deletes_its_data(db_kind: str) -> None:
    if not _starts_servers(db_kind):
        return
    server = dbservers.STARTERS[db_kind]()
    try:
        assert server.process.poll() is None and server.root.is_dir()
        assert _write_and_read(server.new_database(), "x") == ["x"]
    finally:
        server.stop()
    assert server.process.poll() is not None
    assert not server.root.exists()
    server.stop()  # idempotent


def test_an_unreachable_server_errors_instead_of_skipping(tmp_path: Path) -> None:
    """Run pytest on the probe test against a dead server: errors, not skips."""
    env = {**os.environ, "SWITCHY_TEST_DATABASES": "postgres,mysql",
           "SWITCHY_TEST_POSTGRES_URL": f"postgresql://x:y@127.0.0.1:{dbservers.free_port()}",
           "SWITCHY_TEST_MYSQL_URL": f"mysql://x:y@127.0.0.1:{dbservers.free_port()}"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
         f"{Path(__file__)}::test_each_database_takes_writes"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode != 0, result.stdout
    assert "2 errors" in result.stdout, result.stdout
    assert "skipped" not in result.stdout, result.stdout
