"""The runner benchmarks: migrate, status, list, rollback and plan against a raw floor.

The floor is the least a correct runner must do, measured in the same run: one process
that applies every up script with the database driver directly, one transaction per
migration, plus one tracking-row insert each (bench/floor.py).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from corpus import generate
from measure import timed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests.dbservers import start_postgres  # noqa: E402

Row = dict[str, object]


def sg(*args: str) -> list[str]:
    """A switchy-guard command line."""
    return [sys.executable, "-m", "switchy_guard", "-q", *args]


def yoyo_binary() -> str | None:
    """yoyo beside this Python or on PATH (install it in the bench environment only)."""
    beside = Path(sys.executable).with_name("yoyo")
    return str(beside) if beside.exists() else shutil.which("yoyo")


def yoyo_tree(corpus: Path, target: Path) -> Path:
    """The corpus in yoyo's layout: <id>.sql and <id>.rollback.sql."""
    target.mkdir(parents=True, exist_ok=True)
    for folder in sorted(corpus.iterdir()):
        shutil.copyfile(folder / "up.sql", target / f"{folder.name}.sql")
        down = (folder / "down.sql").read_text()
        (target / f"{folder.name}.rollback.sql").write_text(down or "SELECT 1;\n")
    return target


class Bench:
    """Collects rows; each measurement is the median of ``runs`` fresh runs."""

    def __init__(self, runs: int) -> None:
        self.runs = runs
        self.rows: list[Row] = []

    def measure(self, what: str, database: str, size: int,
                command: Callable[[], list[str]], *, floor: float | None = None,
                runs: int | None = None) -> float:
        """Run ``command()`` (built anew each time: it may set up a fresh database)."""
        times, peaks = [], []
        for _ in range(runs or self.runs):
            seconds, peak = timed(command())
            times.append(seconds)
            peaks.append(peak)
        median = statistics.median(times)
        self.rows.append({
            "what": what, "database": database, "migrations": size,
            "median_s": round(median, 4), "peak_mb": max(peaks),
            "ratio": round(median / floor, 2) if floor else None,
        })
        return median


def bench_runner(sizes: list[int], runs: int, *, postgres: bool = True) -> list[Row]:
    """Every runner measurement, with ratios to the floor of the same database and size."""
    bench = Bench(runs)
    python = bench.measure("python -c pass", "-", 0, lambda: [sys.executable, "-c", "pass"])
    bench.measure("switchy-guard --help", "-", 0, lambda: sg("--help"), floor=python)
    yoyo = yoyo_binary()
    server = start_postgres() if postgres else None
    try:
        with tempfile.TemporaryDirectory(prefix="switchy-runner-bench-") as tmp:
            counter = iter(range(10**9))

            def fresh_url(kind: str) -> str:
                if kind == "postgres":
                    assert server is not None
                    return server.new_database()
                return f"sqlite:///{Path(tmp) / f'bench{next(counter)}.db'}"

            for size in sizes:
                corpus = str(generate(size, Path(tmp) / f"c{size}"))
                runs_here = runs if size <= 1000 else 1
                for kind in ["sqlite"] + (["postgres"] if server else []):
                    floor = bench.measure(
                        "floor (driver directly)", kind, size,
                        lambda k=kind, c=corpus: [sys.executable, str(HERE / "floor.py"), c,
                                                  fresh_url(k)], runs=runs_here)
                    bench.rows[-1]["ratio"] = 1.0
                    bench.measure(
                        "migrate", kind, size,
                        lambda k=kind, c=corpus: sg("migrate", "-m", c, "-d", fresh_url(k)),
                        floor=floor, runs=runs_here)
                    if yoyo and size <= 1000:
                        tree = str(yoyo_tree(Path(corpus), Path(tmp) / f"yoyo{size}"))
                        bench.measure(
                            "yoyo apply", kind, size,
                            lambda k=kind, t=tree: [yoyo, "apply", "--batch", "--no-config-file",
                                                    "--database", fresh_url(k), t],
                            floor=floor, runs=runs_here)
                    migrated = fresh_url(kind)
                    subprocess.run(sg("migrate", "-m", corpus, "-d", migrated), check=True)
                    for verb in ("status", "list"):
                        bench.measure(f"{verb} ({size} applied)", kind, size,
                                      lambda v=verb, c=corpus, m=migrated: sg(v, "-m", c, "-d", m),
                                      floor=floor, runs=runs_here)
                    if size <= 1000:
                        bench.measure(
                            "plan", kind, size,
                            lambda k=kind, c=corpus: sg("plan", "-m", c, "-d", fresh_url(k)),
                            floor=floor)
                        bench.measure(
                            "rollback --all", kind, size,
                            lambda c=corpus, m=migrated: sg("rollback", "--all", "-m", c, "-d", m),
                            floor=floor, runs=1)
    finally:
        if server is not None:
            server.stop()
    return bench.rows
