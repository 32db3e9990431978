"""The throwaway test servers work, and every test gets a database of its own."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from switchy_guard.db import parse_url
from tests.conftest import _ExternalServer


def test_each_database_takes_writes(db_url: str) -> None:
    engine = create_engine(parse_url(db_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note VARCHAR(10))"))
        conn.execute(text("INSERT INTO probe (id, note) VALUES (1, 'ok')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT note FROM probe")).scalar() == "ok"
    engine.dispose()


def test_every_test_gets_an_empty_database(db_url: str) -> None:
    engine = create_engine(parse_url(db_url))
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_an_external_server_url_gets_fresh_databases(db_url: str, db_kind: str) -> None:
    if db_kind == "sqlite":
        return  # SQLite has no server; its databases are files in the test's folder
    external = _ExternalServer(db_kind, db_url)
    first, second = external.new_database(), external.new_database()
    assert first != second
    assert inspect(create_engine(parse_url(first))).get_table_names() == []
