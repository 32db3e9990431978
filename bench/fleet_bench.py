"""Fleet benchmarks (issue 20): concurrency on PostgreSQL, and the fleet's own overhead
per target on SQLite.

    python bench/fleet_bench.py [--pg-targets 100] [--pg-migrations 10]
                                [--sqlite-targets 1000] [--sqlite-migrations 5]

PostgreSQL: a throwaway server (tests/dbservers.py) on this machine; two sets of
``--pg-targets`` fresh databases; ``fleet migrate --concurrency 8`` on one set, then
``--concurrency 1`` on the other (8 first, so any warming favours the single run), each
applying the same ``--pg-migrations`` migrations of bench/corpus.py. Wall time of the
whole command, start-up included, the CPU time the fleet process used (its threads
share one interpreter lock: that CPU time is a floor no concurrency can go under) and the
CPU time the server used meanwhile (its processes, on Linux: /proc). The floor, on two
more sets: the same migrations applied with the driver alone (bench/floor.py's way: per
database one connection, a tracking table, each migration in a transaction with its
tracking insert; no lock, gates or journal) by 8 threads and by 1, in one process.
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


def process_cpu(pid: int) -> float | None:
    """CPU seconds a process and its children used so far (those still running, and
    those it reaped): the server's, on Linux; None elsewhere."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                child = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(child[1]) == pid:
                total += int(child[11]) + int(child[12])
    except (OSError, ValueError, IndexError):
        return None
    return total / tick


def run_floor(migrations: Path, targets: Path, threads: int) -> tuple[float, float]:
    """Wall and CPU seconds of the driver-only floor over ``targets``, ``threads`` at once."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run([sys.executable, str(HERE / "fleet_bench.py"), "_floor", str(migrations),
                    str(targets), str(threads)], env=ENV, check=True)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
        sets = {k: [server.new_database() for _ in range(targets)]
                for k in ("8", "1", "floor 8", "floor 1")}
        times = {}
        for key in ("8", "1", "floor 8", "floor 1"):
            path = write_targets(work / f"pg-{key.replace(' ', '')}.toml", sets[key])
            server_before = process_cpu(server.process.pid)
            if key.startswith("floor"):
                threads = int(key.split()[1])
                seconds, cpu = run_floor(source, path, threads)
                what = f"driver-only floor, {threads} thread{'s' if threads > 1 else ''}"
            else:
                seconds, cpu = run_fleet(source, path, "--concurrency", key)
                what = f"fleet migrate --concurrency {key}"
            time.sleep(0.5)  # the last backends exit and are reaped
            server_after = process_cpu(server.process.pid)
            server_cpu = (None if server_before is None or server_after is None
                          else server_after - server_before)
            times[key] = seconds
            shown = f", server CPU {server_cpu:.2f} s" if server_cpu is not None else ""
            print(f"{db} {what}: {seconds:.2f} s (client CPU {cpu:.2f} s{shown})", flush=True)
            row: dict[str, object] = {
                "what": what, "db": db, "targets": targets, "migrations": migrations,
                "seconds": round(seconds, 3), "cpu_s": round(cpu, 3),
                "per_target_ms": round(1000 * seconds / targets, 2)}
            if server_cpu is not None:
                row["server_cpu_s"] = round(server_cpu, 3)
            rows.append(row)
        rows.append({"what": "speed-up of --concurrency 8 over 1", "db": db,
                     "targets": targets, "migrations": migrations,
                     "ratio": round(times["1"] / times["8"], 2)})
        rows.append({"what": "speed-up of the floor, 8 threads over 1", "db": db,
                     "targets": targets, "migrations": migrations,
                     "ratio": round(times["floor 1"] / times["floor 8"], 2)})
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


def floor_loop(source: str, targets_file: str, threads: str) -> None:
    """The driver-only floor (``_floor``): each target's migrations applied with psycopg
    alone, ``threads`` targets at once."""
    import hashlib
    import tomllib
    from concurrent.futures import ThreadPoolExecutor

    import psycopg

    with open(targets_file, "rb") as file:
        urls = [t["url"].replace("postgresql+psycopg://", "postgresql://")
                for t in tomllib.load(file)["target"]]
    scripts = [(folder.name, (folder / "up.sql").read_bytes())
               for folder in sorted(Path(source).iterdir())]

    def apply(url: str) -> None:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE floor_migrations (id TEXT NOT NULL, "
                         "checksum VARCHAR(64) NOT NULL)")
            conn.commit()
            for name, data in scripts:
                with conn.transaction():
                    conn.execute(data.decode())  # type: ignore[arg-type]
                    conn.execute("INSERT INTO floor_migrations VALUES (%s, %s)",
                                 (name, hashlib.sha256(data).hexdigest()))

    with ThreadPoolExecutor(max_workers=int(threads)) as pool:
        list(pool.map(apply, urls))


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
          f"{'srv CPU':>8}{'ms/target':>10}{'ratio':>7}")
    for row in rows:
        seconds = f"{row['seconds']:.2f}" if "seconds" in row else ""
        per = f"{row['per_target_ms']:.2f}" if "per_target_ms" in row else ""
        ratio = f"{row['ratio']:.2f}" if "ratio" in row else ""
        cpu = f"{row['cpu_s']:.2f}" if "cpu_s" in row else ""
        server = f"{row['server_cpu_s']:.2f}" if "server_cpu_s" in row else ""
        print(f"{row['what']:<44}{row['db']:>19}{row['targets']:>8}{row['migrations']:>6}"
              f"{seconds:>9}{cpu:>7}{server:>8}{per:>10}{ratio:>7}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"suite": "fleet", "cores": os.cpu_count(), "rows": rows},
                              indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] in ("_loop", "_work"):
        inner_loop(*sys.argv[1:])
        raise SystemExit(0)
    if len(sys.argv) == 5 and sys.argv[1] == "_floor":
        floor_loop(*sys.argv[2:])
        raise SystemExit(0)
    raise SystemExit(main())
