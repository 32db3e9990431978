"""Fleet benchmarks (issue 20): concurrency on PostgreSQL, and the fleet's own overhead
per target on SQLite.

    python bench/fleet_bench.py [--pg-targets 100] [--pg-migrations 10]
                                [--sqlite-targets 1000] [--sqlite-migrations 5]

PostgreSQL: a throwaway server (tests/dbservers.py) on this machine; two sets of
``--pg-targets`` fresh databases; ``fleet migrate --concurrency 8`` on one set, then
``--concurrency 1`` on the other (8 first, so any warming favours the single run), each
applying the same ``--pg-migrations`` migrations of bench/corpus.py. Wall time of the
whole command, start-up included, and the CPU time the fleet process used (its threads
share one interpreter lock: that CPU time is a floor no concurrency can go under).
``--durable``: the server with fsync and synchronous commits on.

SQLite: ``--sqlite-targets`` fresh files, ``--sqlite-migrations`` migrations each, four
ways, each in a fresh process on fresh files, timed whole:

- ``loop``: a plain loop, one process: per file an engine, ``Migrator(...).migrate()``,
  the engine disposed of (the migrations themselves, with tracking and the lock);
- ``work``: the same loop calling the fleet's per-target work (switchy_guard.fleet.work
  .run_target: the single ``migrate``'s gates, policy, lock record and audit journal);
- ``fleet``: ``switchy-guard fleet migrate --targets FILE --concurrency 1``;
- ``fleet --journal``: the same with a journal (two fsynced lines per target).

The fleet's overhead per target is (fleet - loop) / targets; (fleet - work) / targets is
what the rollout adds (waves, threads, reporting, summary) beyond the gates.
Rows are printed and written to bench/results/fleet.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from corpus import generate

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
from tests.dbservers import start_postgres  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def write_targets(path: Path, urls: list[str]) -> Path:
    """A targets file naming the URLs t0000, t0001, ..."""
    lines = []
    for number, url in enumerate(urls):
        lines += ["[[target]]", f'name = "t{number:04d}"', f"url = {json.dumps(url)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_fleet(migrations: Path, targets: Path, *extra: str) -> tuple[float, float]:
    """Wall seconds of one ``fleet migrate`` (whole process) and the CPU seconds (user +
    system) that process used; fails loudly unless every target was applied."""
    command = [sys.executable, "-m", "switchy_guard", "-q", "-m", str(migrations), "fleet",
               "migrate", "--targets", str(targets), "--format", "json", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(command, env=ENV, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"fleet migrate {' '.join(extra)} failed: {done.stderr[-2000:]}")
    totals: dict[str, int] = json.loads(done.stdout)["totals"]
    if set(totals) != {"applied"}:
        raise RuntimeError(f"fleet migrate {' '.join(extra)}: not all applied: {totals}")
    return seconds, cpu


def bench_postgres(targets: int, migrations: int, work: Path, durable: bool
                   ) -> list[dict[str, object]]:
    """--concurrency 8 against 1, on fresh databases of one throwaway server (the test
    servers' settings, fsync off; ``durable``: fsync, synchronous commits and full page
    writes on, as a production server runs)."""
    source = generate(migrations, work / "pg-migrations")
    rows: list[dict[str, object]] = []
    began = time.perf_counter()
    db = "postgres (durable)" if durable else "postgres"
    server = start_postgres({"fsync": "on", "synchronous_commit": "on",
                             "full_page_writes": "on"} if durable else None)
    try:
        print(f"postgres started in {time.perf_counter() - began:.1f} s; creating "
              f"{2 * targets} databases", flush=True)
        sets = {k: [server.new_database() for _ in range(targets)] for k in (8, 1)}
        times = {}
        for concurrency in (8, 1):
            path = write_targets(work / f"pg-c{concurrency}.toml", sets[concurrency])
            seconds, cpu = run_fleet(source, path, "--concurrency", str(concurrency))
            times[concurrency] = seconds
            print(f"{db} --concurrency {concurrency}: {seconds:.2f} s (fleet process "
                  f"CPU {cpu:.2f} s)", flush=True)
            rows.append({"what": f"fleet migrate --concurrency {concurrency}",
                         "db": db, "targets": targets, "migrations": migrations,
                         "seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                         "per_target_ms": round(1000 * seconds / targets, 2)})
        rows.append({"what": "speed-up of --concurrency 8 over 1", "db": db,
                     "targets": targets, "migrations": migrations,
                     "ratio": round(times[1] / times[8], 2)})
    finally:
        server.stop()
    return rows


def timed_process(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def bench_sqlite(targets: int, migrations: int, work: Path) -> list[dict[str, object]]:
    """The fleet against a plain loop applying the same migrations to the same files."""
    source = generate(migrations, work / "sqlite-migrations")
    rows: list[dict[str, object]] = []
    times: dict[str, float] = {}
    for way in ("loop", "work", "fleet", "fleet --journal"):
        folder = work / f"sqlite-{way.replace(' ', '').replace('-', '')}"
        folder.mkdir()
        urls = [f"sqlite:///{folder / f't{n:04d}.db'}" for n in range(targets)]
        path = write_targets(work / f"{folder.name}.toml", urls)
        if way in ("loop", "work"):
            seconds = timed_process([sys.executable, str(HERE / "fleet_bench.py"), f"_{way}",
                                     str(source),
                                     str(path)])
        elif way == "fleet":
            seconds, _ = run_fleet(source, path, "--concurrency", "1")
        else:
            seconds, _ = run_fleet(source, path, "--concurrency", "1",
                                   "--journal", str(work / "fleet.jsonl"))
        times[way] = seconds
        print(f"sqlite {way}: {seconds:.2f} s", flush=True)
        rows.append({"what": way, "db": "sqlite", "targets": targets,
                     "migrations": migrations, "seconds": round(seconds, 3),
                     "per_target_ms": round(1000 * seconds / targets, 2)})
    for way, base in (("fleet", "loop"), ("fleet --journal", "loop"), ("work", "loop"),
                      ("fleet", "work")):
        rows.append({"what": f"overhead per target: {way} - {base}", "db": "sqlite",
                     "targets": targets, "migrations": migrations,
                     "per_target_ms": round(1000 * (times[way] - times[base]) / targets, 2)})
    return rows


def inner_loop(way: str, source: str, targets_file: str) -> None:
    """The baselines, run in their own process (``_loop`` / ``_work``)."""
    from switchy_guard.config import resolve_settings
    from switchy_guard.fleet.rollout import Wave
    from switchy_guard.fleet.targets import load_targets_file
    from switchy_guard.fleet.work import FleetJob, run_target
    from switchy_guard.model.plan import All
    from switchy_guard.runtime.db import create_database_engine
    from switchy_guard.runtime.runner import Migrator

    targets = load_targets_file(targets_file)
    if way == "_loop":
        for target in targets:
            engine = create_database_engine(target.url)
            try:
                done = Migrator(source, engine).migrate().done
            finally:
                engine.dispose()
            if not done:
                raise SystemExit(f"{target.name}: nothing applied")
        return
    job = FleetJob("migrate", resolve_settings({"migrations_dir": source}), source, All())
    wave = Wave("bench", tuple(targets))
    for target in targets:
        result = run_target(job, target, wave)
        if result.outcome != "applied":
            raise SystemExit(f"{target.name}: {result.outcome}: {result.reason}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-targets", type=int, default=100)
    parser.add_argument("--pg-migrations", type=int, default=10)
    parser.add_argument("--sqlite-targets", type=int, default=1000)
    parser.add_argument("--sqlite-migrations", type=int, default=5)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--durable", action="store_true",
                        help="PostgreSQL with fsync and synchronous commits on")
    parser.add_argument("--json", default=str(HERE / "results" / "fleet.json"))
    args = parser.parse_args()
    out = Path(args.json).resolve()  # before the chdir below
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="switchy-fleet-bench-") as folder:
        work = Path(folder)
        os.chdir(work)  # no project config file around: every run has the defaults
        if not args.no_postgres:
            rows += bench_postgres(args.pg_targets, args.pg_migrations, work, args.durable)
        if not args.no_sqlite:
            rows += bench_sqlite(args.sqlite_targets, args.sqlite_migrations, work)
    print(f"\n{'what':<44}{'db':>19}{'targets':>8}{'migr.':>6}{'s':>9}{'CPU s':>7}"
          f"{'ms/target':>10}{'ratio':>7}")
    for row in rows:
        seconds = f"{row['seconds']:.2f}" if "seconds" in row else ""
        per = f"{row['per_target_ms']:.2f}" if "per_target_ms" in row else ""
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else ""
        cpu = f"{row['cpu_s']:.2f}" if "cpu_s" in row else ""
        print(f"{row['what']:<44}{row['db']:>19}{row['targets']:>8}{row['migrations']:>6}"
              f"{seconds:>9}{cpu:>7}{per:>10}{ratio:>7}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"suite": "fleet", "cores": os.cpu_count(), "rows": rows},
                              indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in ("_loop", "_work"):
        inner_loop(*sys.argv[1:])
        raise SystemExit(0)
    raise SystemExit(main())
