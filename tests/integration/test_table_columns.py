"""runtime.db.table_columns: the columns of switchy-guard's own tables, whatever the
session's SQL mode (a migration may leave ANSI_QUOTES on before the audit row is written)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from switchy_guard.runtime.db import table_columns


@pytest.mark.only_on("mysql")
def test_columns_are_read_under_ansi_quotes(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE cols_probe (id INT, policy VARCHAR(64), "
                                 "detail TEXT DEFAULT NULL)")
            conn.exec_driver_sql("SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')")
            assert table_columns(conn, "cols_probe", '"cols_probe"') == {
                "id", "policy", "detail"}
            assert table_columns(conn, "no_such_table", '"no_such_table"') is None
            conn.exec_driver_sql("DROP TABLE cols_probe")
    finally:
        engine.dispose()


def test_columns_of_a_table_and_of_none(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE cols_probe2 (id INT, Note TEXT)")
            quoted = conn.dialect.identifier_preparer.quote("cols_probe2")
            assert table_columns(conn, "cols_probe2", quoted) == {"id", "note"}
            assert table_columns(conn, "cols_missing", "cols_missing") is None
            conn.exec_driver_sql("DROP TABLE cols_probe2")
            conn.commit()
    finally:
        engine.dispose()
