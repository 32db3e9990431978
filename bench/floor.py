"""The floor: apply every up script with the driver directly, as little work as possible.

    python bench/floor.py CORPUS_DIR URL

One transaction per migration (its statements plus one tracking-row insert). SQLite needs
its statements one by one (bench/../switchy_guard's splitter; the driver has no multi-
statement call inside a transaction); PostgreSQL takes each file in one call.
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from switchy_guard.sql.split import split_statements

TRACKING = "CREATE TABLE floor_migrations (id TEXT NOT NULL, checksum VARCHAR(64) NOT NULL)"


def sqlite_floor(corpus: Path, path: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(TRACKING)
    for folder in sorted(corpus.iterdir()):
        data = (folder / "up.sql").read_bytes()
        conn.execute("BEGIN")
        for statement in split_statements(data.decode(), "sqlite"):
            conn.execute(statement.text)
        conn.execute("INSERT INTO floor_migrations VALUES (?, ?)",
                     (folder.name, hashlib.sha256(data).hexdigest()))
        conn.execute("COMMIT")
    conn.close()


def postgres_floor(corpus: Path, url: str) -> None:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        conn.execute(TRACKING)
        conn.commit()
        for folder in sorted(corpus.iterdir()):
            data = (folder / "up.sql").read_bytes()
            with conn.transaction():
                conn.execute(data.decode())  # type: ignore[arg-type]
                conn.execute("INSERT INTO floor_migrations VALUES (%s, %s)",
                             (folder.name, hashlib.sha256(data).hexdigest()))


if __name__ == "__main__":
    corpus, url = Path(sys.argv[1]), sys.argv[2]
    if url.startswith("sqlite:///"):
        sqlite_floor(corpus, url[len("sqlite:///"):])
    else:
        postgres_floor(corpus, url)
