"""What the migrations' session settings cost: ``migrate`` of N migrations with
``--statement-lock-timeout``, ``--statement-timeout`` and ``--lock-retries`` (PostgreSQL:
``SET LOCAL lock_timeout`` and ``statement_timeout`` in each migration's transaction;
SQLite: ``PRAGMA busy_timeout``) against the same run without them and the floor
(bench/floor.py), on SQLite and a throwaway PostgreSQL.

The three commands run interleaved (floor, without, with, floor, ...) so that a machine
that slows down mid-run slows each of them alike; each run gets a fresh database.

    python bench/session_bench.py [--size 1000] [--runs 7] [--no-postgres] [--compare DIR]

``--compare DIR`` adds the run with session settings of another copy of the package
(``git archive REV switchy_guard | tar -x -C DIR``), interleaved with the others.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from corpus import generate
from measure import timed
from runner_bench import HERE, sg

sys.path.insert(0, str(HERE.parent))
from tests.dbservers import start_postgres

#: The settings production ships (policies/production.toml): 5 s lock wait, 3 retries;
#: a statement timeout as a team would set one.
SETTINGS = ("--statement-lock-timeout", "5", "--statement-timeout", "600",
            "--lock-retries", "3")


def bench(size: int, runs: int, postgres: bool,
          compare: str | None = None) -> list[dict[str, object]]:
    """Rows per database: median seconds of each command, and ratios to the floor."""
    rows: list[dict[str, object]] = []
    server = start_postgres() if postgres else None
    try:
        with tempfile.TemporaryDirectory(prefix="switchy-session-bench-") as tmp:
            corpus = str(generate(size, Path(tmp) / "corpus"))
            counter = iter(range(10**9))

            def fresh(kind: str) -> str:
                if kind == "postgres":
                    assert server is not None
                    return server.new_database()
                return f"sqlite:///{Path(tmp) / f'b{next(counter)}.db'}"

            commands = {
                "floor (driver directly)": lambda k: [sys.executable, str(HERE / "floor.py"),
                                                      corpus, fresh(k)],
                "migrate": lambda k: sg("migrate", "-m", corpus, "-d", fresh(k)),
                "migrate with session settings": lambda k: sg(
                    *SETTINGS, "migrate", "-m", corpus, "-d", fresh(k)),
            }
            if compare:
                commands[f"migrate with session settings ({Path(compare).name})"] = (
                    lambda k: ["env", f"PYTHONPATH={compare}", *sg(
                        *SETTINGS, "migrate", "-m", corpus, "-d", fresh(k))])
            for kind in ["sqlite"] + (["postgres"] if server else []):
                times: dict[str, list[float]] = {name: [] for name in commands}
                for _ in range(runs):
                    for name, command in commands.items():
                        times[name].append(timed(command(kind))[0])
                floor = statistics.median(times["floor (driver directly)"])
                for name, seen in times.items():
                    rows.append({"what": name, "database": kind, "migrations": size,
                                 "median_s": round(statistics.median(seen), 3),
                                 "min_s": round(min(seen), 3), "max_s": round(max(seen), 3),
                                 "ratio": round(statistics.median(seen) / floor, 2)})
    finally:
        if server is not None:
            server.stop()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--compare", metavar="DIR",
                        help="a folder holding another switchy_guard package to time too")
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    rows = bench(args.size, args.runs, not args.no_postgres, args.compare)
    print("| what | db | migrations | median s | min-max s | x floor |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['what']} | {row['database']} | {row['migrations']:,} | "
              f"{row['median_s']} | {row['min_s']}-{row['max_s']} | {row['ratio']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
