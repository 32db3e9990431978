"""Issue 20's proof at scale, on the test servers at once: one fleet of 40 SQLite files,
20 PostgreSQL databases, 10 MariaDB databases and 30 tenant schemas of one PostgreSQL
database (found with --schemas-query), rolled out in a canary and waves until a failure
budget stops it; a fleet process SIGKILLed mid-wave, then re-run; two shards run as two
processes at once. Every target's tracking rows, and a log table each migration inserts
into, prove that nothing was applied twice and nothing was missed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from switchy_guard.fleet.targets import Target, targets_from_schemas
from switchy_guard.runtime.db import parse_url
from tests.cli_helpers import run_cli, write_migration
from tests.dbservers import DatabaseServer

#: Each migration after the first inserts its number into fleet_log: a migration applied
#: twice leaves its number there twice, whatever its tracking row says.
HISTORY = (
    ("2024-03-01-000000_fleet_log", "CREATE TABLE fleet_log (n INTEGER);\n",
     "DROP TABLE fleet_log;\n"),
    ("2024-03-02-000000_fleet_b",
     "CREATE TABLE fleet_b (id INTEGER);\nINSERT INTO fleet_log VALUES (2);\n",
     "DELETE FROM fleet_log WHERE n = 2;\nDROP TABLE fleet_b;\n"),
    ("2024-03-03-000000_fleet_c",
     "CREATE TABLE fleet_c (id INTEGER);\nINSERT INTO fleet_log VALUES (3);\n",
     "DELETE FROM fleet_log WHERE n = 3;\nDROP TABLE fleet_c;\n"),
)
FOURTH = ("2024-03-04-000000_fleet_d", "INSERT INTO fleet_log VALUES (4);\n",
          "DELETE FROM fleet_log WHERE n = 4;\n")
IDS = [m[0] for m in HISTORY]
KINDS = {"lite": 40, "pg": 20, "maria": 10, "tenant": 30}
SCHEMAS = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't%\\_tenant' ORDER BY 1"
ROLLOUT = ("--canary", "2", "--waves", "10%,50%,100%", "--concurrency", "4",
           "--max-failures", "1")
PASSWORD = "s3cret-pw"  # the test servers' (tests/dbservers.py): never printed
REPO = Path(__file__).parents[2]


def interleaved_names() -> list[str]:
    """``t000_lite``, ``t001_tenant``, ...: each kind spread evenly over the fleet, so
    every wave (in name order) holds targets of every kind."""
    spread = sorted(((number + 0.5) / count, kind)
                    for kind, count in KINDS.items() for number in range(count))
    return [f"t{n:03d}_{kind}" for n, (_, kind) in enumerate(spread)]


def kind_of(name: str) -> str:
    return name.split("_", 1)[1]


def execute(url: str, sql: str) -> None:
    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def build_fleet(tmp_path: Path, server_of: Callable[[str], DatabaseServer]
                ) -> tuple[list[Target], str]:
    """The 100 targets (by name) and the URL of the database holding the tenants."""
    postgres, mariadb = server_of("postgres"), server_of("mysql")
    tenants_url = postgres.new_database()
    names = interleaved_names()
    for name in names:
        if kind_of(name) == "tenant":
            execute(tenants_url, f"CREATE SCHEMA {name}")
    targets = targets_from_schemas(tenants_url, SCHEMAS)  # --schemas-query's own code
    assert [t.schema for t in targets] == [n for n in names if kind_of(n) == "tenant"]
    for name in names:
        kind = kind_of(name)
        if kind == "lite":
            targets.append(Target(name, f"sqlite:///{tmp_path / name}.db"))
        elif kind == "pg":
            targets.append(Target(name, postgres.new_database()))
        elif kind == "maria":
            targets.append(Target(name, mariadb.new_database()))
    return sorted(targets, key=lambda t: t.name), tenants_url


def targets_toml(path: Path, targets: Sequence[Target]) -> Path:
    lines = []
    for target in targets:
        lines += ["[[target]]", f"name = {json.dumps(target.name)}",
                  f"url = {json.dumps(target.url)}"]
        if target.schema:
            lines.append(f"schema = {json.dumps(target.schema)}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def read_states(targets: Sequence[Target]
                ) -> dict[str, tuple[list[tuple[str, str]], list[int]]]:
    """Each target's tracking rows (id, status) and fleet_log numbers, both sorted; a
    target never touched reads ([], [])."""
    by_url: dict[str, list[Target]] = defaultdict(list)
    for target in targets:
        by_url[target.url].append(target)
    states = {}
    for url, group in by_url.items():
        engine = create_engine(parse_url(url))
        try:
            with engine.connect() as conn:
                for target in group:
                    prefix = f"{target.schema}." if target.schema else ""
                    tables = set(inspect(conn).get_table_names(schema=target.schema))
                    rows = [] if "__switchy_migrations" not in tables else conn.execute(
                        text(f"SELECT id, status FROM {prefix}__switchy_migrations")).all()
                    log = [] if "fleet_log" not in tables else conn.execute(
                        text(f"SELECT n FROM {prefix}fleet_log")).all()
                    states[target.name] = (sorted((str(r[0]), str(r[1])) for r in rows),
                                           sorted(int(r[0]) for r in log))
        finally:
            engine.dispose()
    return states


def events_of(journal: Path, skip: int = 0) -> list[dict[str, Any]]:
    lines = journal.read_text(encoding="utf-8").splitlines()[skip:]
    return [json.loads(line) for line in lines if line.strip()]


def in_flight(events: Sequence[dict[str, Any]]) -> set[str]:
    started = {e["target"] for e in events if e["event"] == "start"}
    return started - {e["target"] for e in events if e["event"] == "end"}


def kill_mid_wave(argv: list[str], journal: Path, skip: int) -> set[str]:
    """Start the fleet, SIGKILL it once 5 targets were applied while others run;
    the targets it was running. MariaDB's DDL commits statement by statement, so a kill
    inside a MariaDB migration leaves an in_progress row for a person to check, exactly
    as a single ``migrate`` would (tests/integration/test_recovery.py): the process is
    stopped (SIGSTOP), and killed only when no MariaDB target is running, else let go on."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            events = events_of(journal, skip) if journal.exists() else []
            applied = sum(e.get("result") == "applied" for e in events)
            running = in_flight(events)
            if applied >= 5 and running and not any(kind_of(n) == "maria" for n in running):
                process.send_signal(signal.SIGSTOP)
                running = in_flight(events_of(journal, skip))  # the journal, frozen
                if running and not any(kind_of(n) == "maria" for n in running):
                    process.send_signal(signal.SIGKILL)
                    process.wait()
                    return running
                process.send_signal(signal.SIGCONT)
            time.sleep(0.005)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    pytest.fail("the fleet process ended before it could be killed mid-wave")


@pytest.mark.needs_kinds("postgres", "mysql")
def test_fleet_of_100_canary_budget_sigkill_resume_and_two_shards_at_once(
        tmp_path: Path, server_of: Callable[[str], DatabaseServer]) -> None:
    clock = time.monotonic()
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = round(now - clock, 1)
        clock = now

    root = tmp_path / "migrations"
    for migration_id, up, down in HISTORY:
        write_migration(root, migration_id, up, down)
    targets, tenants_url = build_fleet(tmp_path, server_of)
    names = [t.name for t in targets]
    assert Counter(kind_of(n) for n in names) == KINDS
    # The object migration 3 creates is already there in one tenant's schema (only
    # there: 29 other tenants of the same database must not notice it).
    failing = names[15]
    assert failing == "t015_tenant"
    execute(tenants_url, f"CREATE TABLE {failing}.fleet_c (id INTEGER)")
    path = targets_toml(tmp_path / "targets.toml", targets)
    journal = tmp_path / "fleet.jsonl"
    lap("build")

    # 1. Canary, waves, concurrency 4, a failure budget of 1.
    first = run_cli("-m", root, "fleet", "migrate", "--targets", path,
                    "--journal", journal, *ROLLOUT)
    lap("first run")
    assert first.code == 1, first.err
    events = events_of(journal)
    ends = {e["target"]: e for e in events if e["event"] == "end"}
    starts = [e["target"] for e in events if e["event"] == "start"]
    assert sorted(ends) == names
    assert [ends[n]["wave"] for n in names[:2]] == ["canary", "canary"]
    assert all(ends[n]["result"] == "applied" for n in names[:10])  # canary, wave 1
    canary_over = max(i for i, e in enumerate(events) if e.get("target") in names[:2]
                      and e["event"] == "end")
    assert set(starts[:2]) == set(names[:2])
    assert all(e["target"] in names[:2] for e in events[:canary_over] if e["event"] == "start")
    assert ends[failing]["result"] == "failed"
    assert IDS[2] in ends[failing]["reason"] and "already exists" in ends[failing]["reason"]
    failed_at = events.index(ends[failing])
    assert not [e for e in events[failed_at:] if e["event"] == "start"]  # budget: 1
    assert [n for n in names if ends[n]["result"] == "failed"] == [failing]
    started = set(starts)
    assert started >= set(names[:16]) and len(started) <= 16 + 3  # + the ones running
    states = read_states(targets)
    for name in names:
        if name == failing:
            assert states[name] == ([(IDS[0], "completed"), (IDS[1], "completed"),
                                     (IDS[2], "failed")], [2])
        elif name in started:
            assert ends[name]["result"] == "applied", ends[name]
            assert states[name] == ([(i, "completed") for i in IDS], [2, 3]), name
        else:  # the budget stopped new starts: untouched, and said so
            assert ends[name]["result"] == "skipped"
            assert "reached --max-failures 1" in ends[name]["reason"]
            assert states[name] == ([], []), name
    assert all(ends[n]["result"] == "skipped" for n in names[50:])  # wave 3 never began
    summary = first.out.splitlines()
    [named] = [line for line in summary if line.startswith(failing + " ")]
    assert " failed " in named and IDS[2] in named and "already exists" in named
    assert summary[-1] == (f"fleet migrate: 100 target(s): {len(started) - 1} applied, "
                           f"1 failed, {100 - len(started)} skipped")

    # 2. The object removed; a fleet process killed (SIGKILL) mid-wave; a re-run.
    execute(tenants_url, f"DROP TABLE {failing}.fleet_c")
    skip = len(journal.read_text().splitlines())
    argv = [sys.executable, "-m", "switchy_guard", "-m", str(root), "fleet", "migrate",
            "--targets", str(path), "--journal", str(journal), "--retry-failed", *ROLLOUT]
    running = kill_mid_wave(argv, journal, skip)
    lap("killed run")
    killed = events_of(journal, skip)
    ended_before_kill = {e["target"]: e for e in killed if e["event"] == "end"}
    assert len(ended_before_kill) < 100 and running
    states = read_states(targets)
    for name in names:  # each target left whole: whole migrations only, none twice
        rows, log = states[name]
        ids = [i for i, _ in rows]
        assert ids == IDS[:len(ids)], (name, rows)
        statuses = {s for _, s in rows} - ({"failed"} if name == failing else set())
        assert statuses <= {"completed"}, (name, rows)
        assert log == [n for n in (2, 3) if (IDS[n - 1], "completed") in rows], name
    rerun = run_cli("-m", root, "fleet", "migrate", "--targets", path, "--journal", journal,
                    "--retry-failed", *ROLLOUT, "--format", "json")
    lap("re-run")
    assert rerun.code == 0, rerun.err
    results = {t["target"]: t for t in json.loads(rerun.out)["targets"]}
    assert sorted(results) == names
    for name, end in ended_before_kill.items():
        if end["result"] in ("applied", "up to date"):
            assert results[name]["result"] == "up to date", name
    assert {r["result"] for r in results.values()} <= {"applied", "up to date"}
    assert read_states(targets) == {n: ([(i, "completed") for i in IDS], [2, 3])
                                    for n in names}
    done: dict[str, list[str]] = defaultdict(list)
    for event in events_of(journal):
        if event["event"] == "end":
            done[event["target"]] += event["done"] if event["result"] == "applied" else []
    for name in names:  # what the journal says each run applied: never one id twice
        assert len(done[name]) == len(set(done[name])), (name, done[name])

    # 3. A fourth migration rolled out by two shards, two processes at once.
    write_migration(root, *FOURTH)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    shards = [subprocess.Popen(
        [sys.executable, "-m", "switchy_guard", "-m", str(root), "fleet", "migrate",
         "--targets", str(path), "--journal", str(tmp_path / f"shard{index}.jsonl"),
         "--shard-index", str(index), "--shard-count", "2", "--concurrency", "2",
         "--format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True) for index in range(2)]
    outputs = [shard.communicate(timeout=120) for shard in shards]
    lap("two shards")
    assert [shard.returncode for shard in shards] == [0, 0], [err for _, err in outputs]
    covered: list[str] = []
    for index, (out, _) in enumerate(outputs):
        shard_results = json.loads(out)["targets"]
        assert {(r["result"], tuple(r["done"])) for r in shard_results} == {
            ("applied", (FOURTH[0],))}
        shard_starts = [e["target"] for e in events_of(tmp_path / f"shard{index}.jsonl")
                        if e["event"] == "start"]
        assert sorted(shard_starts) == sorted(r["target"] for r in shard_results)
        covered += shard_starts
    assert sorted(covered) == names  # every target exactly once, across both shards
    assert read_states(targets) == {
        n: ([(i, "completed") for i in (*IDS, FOURTH[0])], [2, 3, 4]) for n in names}

    # --schemas-query on the tenants' database sees the same 30 tenants, up to date.
    status = run_cli("-d", tenants_url, "-m", root, "fleet", "status",
                     "--schemas-query", SCHEMAS, "--concurrency", "4", "--format", "json")
    assert status.code == 0, status.err
    tenants = json.loads(status.out)["targets"]
    assert [t["target"] for t in tenants] == [n for n in names if kind_of(n) == "tenant"]
    assert {t["result"] for t in tenants} == {"up to date"}
    lap("status")
    shown = [first.out, first.err, rerun.out, rerun.err, status.out, status.err,
             *(part for pair in outputs for part in pair)]
    for path_ in (journal, tmp_path / "shard0.jsonl", tmp_path / "shard1.jsonl"):
        shown.append(path_.read_text(encoding="utf-8"))
    assert not [part for part in shown if PASSWORD in part]
    print(f"\nfleet scale timings (s): {timings}; killed with {sorted(running)} running "
          f"after {len(ended_before_kill)} ended")


@pytest.mark.parametrize(("kinds", "collected"), [
    ("sqlite", False), ("sqlite,postgres", False), ("postgres,mysql", True),
    ("sqlite,postgres,mysql", True)])
def test_needs_kinds_runs_only_when_every_kind_it_names_is_selected(
        kinds: str, collected: bool) -> None:
    """The scale test is deselected (never skipped) when the run leaves out PostgreSQL or
    MariaDB, and collected when both are selected."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         f"{Path(__file__)}::test_fleet_of_100_canary_budget_sigkill_resume_and_two_shards"
         "_at_once"], cwd=REPO, capture_output=True, text=True, check=False,
        env={**os.environ, "SWITCHY_TEST_DATABASES": kinds, "PYTHONPATH": str(REPO)})
    assert ("test_fleet_of_100_canary" in done.stdout) is collected, done.stdout
    assert ("1 deselected" in done.stdout) is not collected, done.stdout
    assert "skipped" not in done.stdout
