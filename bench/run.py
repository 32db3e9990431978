"""The benchmark harness (not part of the test suite).

    python bench/run.py check [--sizes 1000,10000] [--runs 5] [--json FILE]
    python bench/run.py runner [--sizes 1000,10000] [--runs 5] [--no-postgres] [--json FILE]

``runner``: see bench/runner_bench.py (migrate, status, list, plan, rollback and start-up
against the raw floor, on SQLite and a throwaway PostgreSQL, and yoyo when installed).

``check``: generates the corpus (bench/corpus.py), then times, side by side in one run,
each as the median of ``--runs`` runs with start-up included and the peak memory of the
process: ``python -c pass`` (the interpreter's own start-up), ``switchy-guard check`` on
each size without its cache, a second check of the unchanged files (served from the
cache), the same migrations as golang-migrate files (``{n:06d}_{name}.up.sql`` /
``.down.sql``, checked in two processes as the folders are, and with ``--jobs 1``), and
``squawk`` on the same files when it is installed (``pip install
squawk-cli``; ``make bench`` does it in the project's venv). Prints a table and writes JSON
so runs can be compared between commits.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import generate
from measure import timed


def measure(command: list[str], runs: int,
            before: Callable[[], None] | None = None) -> tuple[float, float, int]:
    """Median wall seconds, best seconds and peak RSS (MB) of ``command`` over ``runs``
    (``before`` is called before each run, untimed).

    Exit code 1 is accepted: both linters exit 1 when they report findings.
    """
    results = []
    for _ in range(runs):
        if before is not None:
            before()
        results.append(timed(command, ok_codes=(0, 1)))
    times = [seconds for seconds, _ in results]
    return statistics.median(times), min(times), max(peak for _, peak in results)


def age(root: Path, seconds: int | Iterator[int]) -> None:
    """Give every entry under ``root`` the mtime ``seconds`` ago (the next of them)."""
    past = time.time() - (seconds if isinstance(seconds, int) else next(seconds))
    for path in [root, *root.rglob("*")]:
        os.utime(path, (past, past))


def squawk_binary() -> str | None:
    """squawk on PATH or beside this Python."""
    beside = Path(sys.executable).with_name("squawk")
    return str(beside) if beside.exists() else shutil.which("squawk")


def bench_check(sizes: list[int], runs: int) -> list[dict[str, object]]:
    """The ``check`` measurements."""
    rows: list[dict[str, object]] = []
    median, best, peak = measure([sys.executable, "-c", "pass"], runs)
    rows.append({"what": "python -c pass", "files": 0, "median_s": median, "best_s": best,
                 "peak_mb": peak})
    squawk = squawk_binary()
    with tempfile.TemporaryDirectory(prefix="switchy-bench-") as tmp:
        for size in sizes:
            corpus = generate(size, Path(tmp) / f"c{size}")
            kb = sum(p.stat().st_size for p in corpus.rglob("up.sql")) // 1024
            command = [sys.executable, "-m", "switchy_guard", "check", "-m", str(corpus),
                       "--dialect", "postgres", "--format", "json"]
            median, best, peak = measure([*command, "--no-cache"], runs)
            rows.append({"what": "switchy-guard check", "files": size, "kb": kb,
                         "median_s": median, "best_s": best, "peak_mb": peak})
            # Files younger than the cache's racy window are never cached: age them.
            age(corpus, 600)
            os.environ["SWITCHY_CACHE_DIR"] = str(Path(tmp) / "cache")
            measure(command, 1)
            median, best, peak = measure(command, runs)
            rows.append({"what": "check, unchanged (cache)", "files": size, "kb": kb,
                         "median_s": median, "best_s": best, "peak_mb": peak})
            # A fresh checkout of the same files: new mtimes, so the report is found by
            # the files' content (each run first gives every file another mtime).
            retouch = functools.partial(age, corpus, iter(range(300, 300 + 10 * runs, 10)))
            median, best, peak = measure(command, runs, retouch)
            rows.append({"what": "check, same content, new mtimes (cache)", "files": size,
                         "kb": kb, "median_s": median, "best_s": best, "peak_mb": peak})
            if squawk:
                median, best, peak = measure([squawk, f"{corpus}/**/up.sql"], runs)
                rows.append({"what": "squawk", "files": size, "kb": kb, "median_s": median,
                             "best_s": best, "peak_mb": peak})
            rows += _golang_rows(size, runs, Path(tmp) / f"g{size}")
    return rows


def _golang_rows(size: int, runs: int, where: Path) -> list[dict[str, object]]:
    """The same corpus as golang-migrate files, checked without the cache in two
    processes (the default) and in one (``--jobs 1``)."""
    rows: list[dict[str, object]] = []
    corpus = generate(size, where, layout="golang-migrate")
    kb = sum(p.stat().st_size for p in corpus.glob("*.up.sql")) // 1024
    command = [sys.executable, "-m", "switchy_guard", "check", "-m", str(corpus),
               "--dialect", "postgres", "--format", "json", "--no-cache"]
    for what, extra in (("check, golang-migrate files", []),
                        ("check, golang-migrate files, --jobs 1", ["--jobs", "1"])):
        median, best, peak = measure([*command, *extra], runs)
        rows.append({"what": what, "files": size, "kb": kb, "median_s": median,
                     "best_s": best, "peak_mb": peak})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suite", choices=["check", "runner"])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="where to write the rows (default bench/results/SUITE.json)")
    parser.add_argument("--no-postgres", action="store_true", help="runner: SQLite only")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    args.json = args.json or f"bench/results/{args.suite}.json"
    if args.suite == "runner":
        from runner_bench import bench_runner

        runner_rows = bench_runner(sizes, args.runs, postgres=not args.no_postgres)
        print(f"{'what':<32}{'db':>10}{'migr.':>7}{'median s':>10}{'x floor':>9}{'peak MB':>9}")
        for row in runner_rows:
            ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else ""
            print(f"{row['what']:<32}{row['database']:>10}{row['migrations']:>7}"
                  f"{row['median_s']:>10.3f}{ratio:>9}{row['peak_mb']:>9}")
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"suite": "runner", "runs": args.runs, "rows": runner_rows},
                                  indent=2))
        print(f"written {out}")
        return 0
    rows = bench_check(sizes, args.runs)
    print(f"{'what':<42}{'files':>7}{'KB':>7}{'median s':>10}{'best s':>9}{'peak MB':>9}")
    for row in rows:
        print(f"{row['what']:<42}{row['files']:>7}{row.get('kb', ''):>7}"
              f"{row['median_s']:>10.3f}{row['best_s']:>9.3f}{row['peak_mb']:>9}")
    if not squawk_binary():
        print("(squawk not installed: pip install squawk-cli to compare)")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"suite": args.suite, "runs": args.runs, "rows": rows}, indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
