"""The live database ``check -d`` reads: its tracking table and its table names, read
once, for the validators (which never open a connection themselves)."""

from __future__ import annotations

from switchy_guard.model.live import DatabaseFacts
from switchy_guard.runtime import live
from switchy_guard.runtime.db import (
    absent_sqlite_file,
    connect,
    create_database_engine,
    dialect_of,
    empty_stand_in,
)
from switchy_guard.runtime.tracking import TrackingTable


class LiveDatabase:
    """The database at ``url`` with its tracking table ``table``, read on demand."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self.dialect = dialect_of(url)

    def read(self) -> DatabaseFacts:
        """The tracking rows, statement progress and table names, in one connection."""
        tracking = TrackingTable(self.table)
        # check only reads: a SQLite file that does not exist is an empty database, not
        # a file to create.
        engine = (empty_stand_in(self.url) if absent_sqlite_file(self.url)
                  else create_database_engine(self.url))
        try:
            with connect(engine) as conn:
                rows = tracking.read(conn)
                progress = tracking.read_progress(conn)
                tables = live.read_live_table_names(conn)
                # Read through the module: a test stands in an older server's version.
                version = live.live_server_version(conn)
        finally:
            engine.dispose()
        return DatabaseFacts(rows, progress, tables, version)
