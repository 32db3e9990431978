"""Which migrations may change a session setting the runner must put back afterwards."""

from __future__ import annotations

import pytest

from switchy_guard.runtime.execute import may_change_session
from switchy_guard.sql import split_statements


@pytest.mark.parametrize(("sql", "may"), [
    ("SET search_path TO app;", True),
    ("reset all;", True),
    ("SELECT pg_catalog.set_config('search_path', '', false);", True),
    ("DO $$ BEGIN EXECUTE 'SET search_path TO x'; END $$;", True),
    ("UPDATE accounts SET balance = 0 WHERE id = 1;", False),
    ("ALTER ROLE app SET search_path = app;", False),
    ("ALTER TABLE t ALTER COLUMN c SET DEFAULT 0;", False),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = app AS 'SELECT 1';",
     False),
])
def test_postgres_session_changes_are_told_from_look_alikes(sql: str, may: bool) -> None:
    statements = tuple(split_statements(sql, "postgres"))
    assert may_change_session("postgres", sql, statements) is may
