"""Reading and editing a real test database from outside the runner."""

from __future__ import annotations

from sqlalchemy import inspect

from switchy_guard.runtime.audit import AuditEntry, AuditJournal
from switchy_guard.runtime.db import create_database_engine


def tables(url: str) -> set[str]:
    """The names of the tables in the database at ``url``."""
    engine = create_database_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def journal_entries(url: str) -> list[AuditEntry]:
    """The audit journal of the default tracking table, oldest first."""
    engine = create_database_engine(url)
    try:
        with engine.connect() as conn:
            return AuditJournal("__switchy_migrations").entries(conn)
    finally:
        engine.dispose()


def journal(url: str) -> list[dict[str, object]]:
    """The audit journal's entries as dictionaries of their fields."""
    return [vars(e) for e in journal_entries(url)]


def run_sql(url: str, *statements: str) -> None:
    """Run ``statements`` by hand in one transaction, as an operator would."""
    engine = create_database_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
