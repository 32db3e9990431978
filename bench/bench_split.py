"""Time switchy_guard's statement splitter against sqlparse.split on ~100 KB of mixed SQL.

    python3 bench/bench_split.py [--kb 100] [--runs 7]

The SQL is generated deterministically: tables with keys, checks and foreign keys,
indexes, inserts whose strings hold semicolons, quotes and comment markers, comments
between and inside statements, and PL/pgSQL functions and DO blocks with dollar-quoted
bodies. Prints the median of --runs for each splitter, the ratio, the statement counts
(they must agree), and the import time of the splitter module in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from switchy_guard.sql.split import split_statements


def _table(rng: random.Random, i: int) -> str:
    return (
        f"-- migration {i}: the orders of tenant {i}\n"
        f"CREATE TABLE orders_{i} (\n"
        "    id BIGSERIAL PRIMARY KEY,\n"
        f"    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,\n"
        "    status VARCHAR(20) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'void')),\n"
        f"    total NUMERIC(12, 2) NOT NULL DEFAULT {rng.randint(0, 99)}.00,\n"
        "    note TEXT, /* free text; may hold ; and -- */\n"
        "    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),\n"
        f"    CONSTRAINT orders_{i}_total_positive CHECK (total >= 0)\n"
        ");\n"
        f"CREATE INDEX orders_{i}_customer_idx ON orders_{i} (customer_id, created_at DESC);\n"
        f"CREATE UNIQUE INDEX orders_{i}_note_idx ON orders_{i} (lower(note)) "
        "WHERE note IS NOT NULL;\n"
    )


def _inserts(rng: random.Random, i: int) -> str:
    rows = ",\n".join(
        f"    ({rng.randint(1, 10_000)}, 'it''s; order {j} -- not a comment', "
        f"'{rng.choice(['new', 'paid', 'void'])}', '/* nor; this */')"
        for j in range(rng.randint(2, 6))
    )
    return (
        f"INSERT INTO orders_{i} (customer_id, note, status, extra) VALUES\n{rows};\n"
        f'UPDATE orders_{i} SET "status" = \'paid\' WHERE total > 10; -- settle\n'
        f"ALTER TABLE orders_{i} ADD COLUMN paid_at TIMESTAMPTZ;\n"
    )


def _function(i: int) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION orders_{i}_touch() RETURNS trigger AS $$\n"
        "BEGIN\n"
        "    -- keep updated_at fresh; semicolons here do not split\n"
        "    NEW.updated_at := now();\n"
        "    IF NEW.status = 'void' THEN\n"
        "        RAISE NOTICE 'voided: %; total %', NEW.id, NEW.total;\n"
        "    END IF;\n"
        "    RETURN NEW;\n"
        "END;\n"
        "$$ LANGUAGE plpgsql;\n"
        f"CREATE TRIGGER orders_{i}_touch BEFORE UPDATE ON orders_{i}\n"
        f"    FOR EACH ROW EXECUTE FUNCTION orders_{i}_touch();\n"
        f"DO $body$ BEGIN PERFORM pg_notify('orders', '{i};done'); END $body$;\n"
    )


def generate(kb: int) -> str:
    """About ``kb`` kilobytes of SQL, the same for the same ``kb``."""
    rng = random.Random(42)
    parts: list[str] = []
    size, i = 0, 0
    while size < kb * 1024:
        part = _table(rng, i) + _inserts(rng, i) + (_function(i) if i % 3 == 0 else "")
        parts.append(part)
        size += len(part)
        i += 1
    return "".join(parts)


def median_seconds(function: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_seconds(runs: int) -> tuple[float, float, float]:
    """Median wall times of ``python -c pass``, then importing the splitter, then sqlparse."""
    root = str(Path(__file__).resolve().parent.parent)

    def run(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
        return time.perf_counter() - started

    bare = statistics.median(run("pass") for _ in range(runs))
    split = statistics.median(run("import switchy_guard.sql.split") for _ in range(runs))
    sqlparse = statistics.median(run("import sqlparse") for _ in range(runs))
    return bare, split, sqlparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    sql = generate(args.kb)
    ours = len(split_statements(sql, "postgres"))
    ours_s = median_seconds(lambda: split_statements(sql, "postgres"), args.runs)
    generic_s = median_seconds(lambda: split_statements(sql), args.runs)

    import sqlparse

    theirs = len([s for s in sqlparse.split(sql) if s.strip()])
    theirs_s = median_seconds(lambda: sqlparse.split(sql), max(3, args.runs // 2))
    bare, imported, sqlparse_imported = import_seconds(args.runs)

    print(f"input: {len(sql) / 1024:.0f} KB, {sql.count(chr(10))} lines")
    print(f"split_statements (postgres): {ours_s * 1000:8.2f} ms  {ours} statements")
    print(f"split_statements (generic):  {generic_s * 1000:8.2f} ms")
    print(f"sqlparse.split:              {theirs_s * 1000:8.2f} ms  {theirs} statements")
    print(f"ratio sqlparse / ours:       {theirs_s / ours_s:8.1f}x")
    print(f"python -c pass:              {bare * 1000:8.2f} ms")
    print(f"+ import the splitter:       {(imported - bare) * 1000:8.2f} ms")
    print(f"+ import sqlparse:           {(sqlparse_imported - bare) * 1000:8.2f} ms")
    if ours != theirs:
        print(f"note: statement counts differ ({ours} vs {theirs})")


if __name__ == "__main__":
    main()
