"""Fleets on real databases: SQLite files and fresh PostgreSQL/MariaDB databases rolled
out in a canary and waves, a failure budget, a journal that resumes, shards, one
production confirmation, and passwords never printed."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from switchy_guard.runtime.db import parse_url
from tests.cli_helpers import Result, run_cli, write_migration

IDS = ("2024-01-01-000000_create_fleet_a", "2024-01-02-000000_create_fleet_b")
UNREACHABLE_PW = "hunter-secret-99"


def migrations(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    write_migration(root, IDS[0], "CREATE TABLE fleet_a (id INTEGER);\n",
                    "DROP TABLE fleet_a;\n")
    write_migration(root, IDS[1], "CREATE TABLE fleet_b (id INTEGER);\n",
                    "DROP TABLE fleet_b;\n")
    return root


def targets_file(tmp_path: Path, targets: Iterable[tuple[str, str] | tuple[str, str, str]]
                 ) -> Path:
    path = tmp_path / "targets.toml"
    lines = []
    for target in targets:
        lines += ["[[target]]", f'name = "{target[0]}"', f'url = "{target[1]}"']
        if len(target) > 2:
            lines.append(f'env = "{target[2]}"')  # type: ignore[misc]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def sqlite_urls(tmp_path: Path, count: int, prefix: str = "s") -> list[tuple[str, str]]:
    return [(f"{prefix}{n}", f"sqlite:///{tmp_path / f'{prefix}{n}.db'}") for n in range(count)]


def tracking(url: str) -> list[tuple[str, str]]:
    """(id, status) of every tracking row; [] when there is no tracking table."""
    engine = create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("__switchy_migrations"):
                return []
            rows = conn.execute(text("SELECT id, status FROM __switchy_migrations"))
            return sorted((str(r[0]), str(r[1])) for r in rows)
    finally:
        engine.dispose()


def execute(url: str, sql: str) -> None:
    engine = create_engine(parse_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def fleet(tmp_path: Path, *args: str | Path) -> Result:
    return run_cli("-m", migrations(tmp_path), "fleet", *args)


def results_of(result: Result) -> dict[str, dict[str, object]]:
    document = json.loads(result.out)
    return {t["target"]: t for t in document["targets"]}


def test_mixed_fleet_canary_waves_budget_resume_and_retry(
        tmp_path: Path, db_kind: str, make_db_url: Callable[[], str]) -> None:
    """3 SQLite files and 3 databases of this run's kind: the canary passes, the failing
    target (an object already there) uses up the budget of 1, so the last wave never
    starts; a re-run with the journal skips the failed target and completes the rest;
    --retry-failed completes it; nothing is applied twice; no password is printed."""
    names = [f"n{n}" for n in range(6)]
    urls = [url for _, url in sqlite_urls(tmp_path, 3)] + [make_db_url() for _ in range(3)]
    fleet_targets = list(zip(names, urls, strict=True))
    failing = dict(fleet_targets)["n2"]
    execute(failing, "CREATE TABLE fleet_b (id INTEGER)")
    path = targets_file(tmp_path, fleet_targets)
    journal = tmp_path / "fleet.jsonl"
    common = ("--targets", path, "--journal", journal)

    first = fleet(tmp_path, "migrate", *common, "--canary", "1", "--waves", "50%,100%",
                  "--concurrency", "2", "--max-failures", "1", "--format", "json")
    assert first.code == 1, first.err
    by_name = results_of(first)
    assert by_name["n0"]["wave"] == "canary" and by_name["n0"]["result"] == "applied"
    assert by_name["n1"]["result"] == "applied"
    assert by_name["n2"]["result"] == "failed"
    assert IDS[1] in str(by_name["n2"]["reason"])
    for name in ("n3", "n4", "n5"):  # the budget stopped new starts: untouched
        assert by_name[name]["result"] == "skipped"
        assert tracking(dict(fleet_targets)[name]) == []
    assert "n2 failed" in first.err  # the failure is also told on stderr under JSON

    execute(failing, "DROP TABLE fleet_b")
    second = fleet(tmp_path, "migrate", *common, "--concurrency", "2", "--format", "json")
    assert second.code == 1  # the failed target is still not done
    by_name = results_of(second)
    assert by_name["n2"]["result"] == "skipped"
    assert "--retry-failed" in str(by_name["n2"]["reason"])
    assert {by_name[n]["result"] for n in ("n0", "n1")} == {"up to date"}
    assert {by_name[n]["result"] for n in ("n3", "n4", "n5")} == {"applied"}

    third = fleet(tmp_path, "migrate", *common, "--retry-failed", "--format", "json")
    assert third.code == 0, third.err
    assert results_of(third)["n2"]["result"] == "applied"
    for _, url in fleet_targets:  # each migration recorded once, completed
        rows = tracking(url)
        assert rows == [(IDS[0], "completed"), (IDS[1], "completed")], url
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    starts = Counter(e["target"] for e in events if e["event"] == "start")
    assert starts["n0"] == 3 and starts["n2"] == 2  # skipped-by-journal never started
    for result in (first, second, third):
        for shown in (result.out, result.err):
            assert "s3cret-pw" not in shown
    assert "s3cret-pw" not in journal.read_text()


def test_continue_on_error_tries_every_target(tmp_path: Path) -> None:
    targets = sqlite_urls(tmp_path, 4)
    for _, url in targets[:2]:
        execute(url, "CREATE TABLE fleet_a (id INTEGER)")
    path = targets_file(tmp_path, targets)
    result = fleet(tmp_path, "migrate", "--targets", path, "--continue-on-error",
                   "--concurrency", "2")
    assert result.code == 1
    assert re.search(r"^s0\s+failed\s", result.out, re.M)
    assert re.search(r"^s3\s+applied\s+2 done", result.out, re.M)
    assert "4 target(s): 2 applied, 2 failed" in result.out
    # A re-run: s0 and s1 hold a failed row, refused as a single migrate refuses it;
    # those two refusals use the budget of 2, so s2 and s3 are not started.
    budget = fleet(tmp_path, "migrate", "--targets", path, "--max-failures", "2")
    assert "4 target(s): 2 refused, 2 skipped" in budget.out
    assert "is failed" in budget.out or "failed" in budget.out


def test_max_failures_with_concurrency_lets_running_ones_finish(tmp_path: Path) -> None:
    """Two targets at once: after the first failure no target starts (the journal's
    order proves it), the one running beside it finishes; the rest are skipped and
    untouched."""
    targets = sqlite_urls(tmp_path, 8)
    execute(targets[1][1], "CREATE TABLE fleet_b (id INTEGER)")
    path = targets_file(tmp_path, targets)
    journal = tmp_path / "j.jsonl"
    result = fleet(tmp_path, "migrate", "--targets", path, "--concurrency", "2",
                   "--journal", journal, "--format", "json")
    by_name = results_of(result)
    assert by_name["s1"]["result"] == "failed"
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    failed_at = next(n for n, e in enumerate(events)
                     if e["event"] == "end" and e["target"] == "s1")
    started = [e["target"] for e in events[:failed_at] if e["event"] == "start"]
    assert not [e for e in events[failed_at:] if e["event"] == "start"]
    for name, url in targets:
        if name in started:  # running when the budget ran out: finished
            assert by_name[name]["result"] in ("applied", "failed")
        else:
            assert by_name[name]["result"] == "skipped" and tracking(url) == []
    assert len(started) <= 4  # s0 and s1, then at most one more beside each


def test_a_failing_canary_stops_the_rollout_whatever_the_budget(tmp_path: Path) -> None:
    targets = sqlite_urls(tmp_path, 4)
    execute(targets[0][1], "CREATE TABLE fleet_a (id INTEGER)")
    result = fleet(tmp_path, "migrate", "--targets", targets_file(tmp_path, targets),
                   "--canary", "1", "--continue-on-error", "--format", "json")
    by_name = results_of(result)
    assert result.code == 1
    assert by_name["s0"]["result"] == "failed"
    assert {by_name[f"s{n}"]["reason"] for n in (1, 2, 3)} == {
        "not started: the canary failed"}


def test_shards_cover_the_fleet_exactly_once(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    targets = sqlite_urls(tmp_path, 9)
    path = targets_file(tmp_path, targets)
    seen: list[str] = []
    for index in range(3):
        if index == 2:  # a Kubernetes Indexed Job's pod says its index in the environment
            monkeypatch.setenv("JOB_COMPLETION_INDEX", "2")
            shard = ("--shard-count", "3")
        else:
            shard = ("--shard-index", str(index), "--shard-count", "3")
        result = fleet(tmp_path, "migrate", "--targets", path, *shard, "--format", "json")
        assert result.code == 0, result.err
        assert {t["result"] for t in results_of(result).values()} == {"applied"}
        seen += results_of(result)
    assert sorted(seen) == sorted(name for name, _ in targets)  # union all, disjoint
    assert all(tracking(url) for _, url in targets)
    bad = fleet(tmp_path, "status", "--targets", path, "--shard-index", "3",
                "--shard-count", "3")
    assert bad.code == 2 and bad.error_lines == [
        "error: --shard-index 3 must be below --shard-count 3"]


def test_production_confirmation_is_asked_once_for_the_fleet(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = [(name, url, "production" if n < 3 else "development")
               for n, (name, url) in enumerate(sqlite_urls(tmp_path, 5))]
    path = targets_file(tmp_path, targets)
    refused = fleet(tmp_path, "migrate", "--targets", path)
    assert refused.code == 1
    assert "3 of 5 target(s) are production" in refused.err
    assert "--confirm production" in refused.err
    assert all(tracking(url) == [] for _, url, _ in targets)  # nothing half-applied

    asked: list[str] = []

    def fake_terminal(ctx: object) -> Callable[[str], str]:
        def ask(question: str) -> str:
            asked.append(question)
            return "production\n"
        return ask

    monkeypatch.setattr("switchy_guard.cli.gating.terminal_ask", fake_terminal)
    done = fleet(tmp_path, "migrate", "--targets", path, "--concurrency", "2")
    assert done.code == 0, done.err
    assert len(asked) == 1 and "3 of 5 target(s) are production (s0, s1, s2)" in asked[0]
    assert all(len(tracking(url)) == 2 for _, url, _ in targets)
    wrong = fleet(tmp_path, "migrate", "--targets", path, "--confirm", "prod")
    assert wrong.code == 1 and "names no environment" in wrong.err


def test_passwords_never_printed_and_unreachable_target_is_one_failure(
        tmp_path: Path) -> None:
    targets = [*sqlite_urls(tmp_path, 2),
               ("remote", f"postgresql://app:{UNREACHABLE_PW}@127.0.0.1:1/app")]
    path = targets_file(tmp_path, targets)
    journal = tmp_path / "j.jsonl"
    for form in ("text", "json", "markdown"):
        result = fleet(tmp_path, "migrate", "--targets", path, "--continue-on-error",
                       "--journal", journal, "--retry-failed", "--format", form)
        assert result.code == 1
        assert UNREACHABLE_PW not in result.out + result.err
        assert "remote" in result.out
    assert UNREACHABLE_PW not in journal.read_text()
    status = fleet(tmp_path, "status", "--targets", path, "--format", "json")
    assert status.code == 1
    by_name = results_of(status)
    assert by_name["remote"]["result"] == "failed"
    assert "cannot connect" in str(by_name["remote"]["reason"])
    assert UNREACHABLE_PW not in status.out + status.err


def test_plan_status_rollback_and_markdown(tmp_path: Path) -> None:
    targets = sqlite_urls(tmp_path, 3)
    path = targets_file(tmp_path, targets)
    plan = fleet(tmp_path, "plan", "--targets", path, "--format", "json")
    assert plan.code == 0
    assert {tuple(t["pending"]) for t in results_of(plan).values()} == {IDS}
    assert json.loads(plan.out)["plan"]["migrations_pending"] == 6
    # Plan changes nothing: not even a SQLite file is created.
    assert not any(Path(url.removeprefix("sqlite:///")).exists() for _, url in targets)
    assert fleet(tmp_path, "migrate", "--targets", path, "--steps", "1").code == 0
    status = fleet(tmp_path, "status", "--targets", path, "--format", "markdown")
    assert status.out.startswith("## fleet status")
    assert "| s0 | pending | 1 pending |" in status.out
    for _, url in targets[:2]:
        execute(url, "INSERT INTO fleet_a VALUES (1)")
    preview = fleet(tmp_path, "rollback", "--targets", path, "--all", "--plan")
    assert preview.code == 0, preview.err
    assert ("3 target(s) with destructive steps (2 row(s) affected where counted)"
            in preview.out)
    assert all(len(tracking(url)) == 1 for _, url in targets)  # --plan changes nothing
    back = fleet(tmp_path, "rollback", "--targets", path, "--all", "--format", "json")
    assert back.code == 0
    assert {t["result"] for t in results_of(back).values()} == {"rolled back"}
    assert all(tracking(url) == [] for _, url in targets)
    needs_scope = fleet(tmp_path, "rollback", "--targets", path)
    assert needs_scope.code == 2
    assert needs_scope.error_lines == ["error: fleet rollback needs --steps N, --to ID or --all"]


def test_bad_targets_file_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[[target]]\nname = "a"\nurl = "sqlite:///a.db"\n\n[[target]]\n'
                    'name = "b"\nurl = "postgresql://u:pw-secret-77@h:x/db"\n')
    result = fleet(tmp_path, "migrate", "--targets", path)
    assert result.code == 2
    assert len(result.error_lines) == 1
    assert result.error_lines[0].startswith(f"error: {path}:5:")
    assert "pw-secret-77" not in result.err


def test_readme_fleet_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Fleets", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tenants").mkdir()
    (tmp_path / "targets.toml").write_text(example.group(1), encoding="utf-8")
    migrations(tmp_path)
    result = run_cli("fleet", "migrate", "--targets", "targets.toml", "--canary", "1",
                     "--waves", "50%,100%", "--concurrency", "2", "--confirm", "production")
    assert result.code == 0, result.err
    assert "applied" in result.out


@pytest.mark.only_on("postgres")
def test_schema_per_tenant_each_schema_its_own_target_and_lock(
        tmp_path: Path, db_url: str) -> None:
    """--schemas-query on one PostgreSQL database: each schema gets its own tracking
    table and tables (search_path pinned), and the migration lock of one schema does not
    hold up another's (the advisory-lock key includes the schema)."""
    from switchy_guard.fleet.schemas import schema_engine
    from switchy_guard.fleet.targets import Target
    from switchy_guard.runtime.db import create_database_engine
    from switchy_guard.runtime.lock import hold_migration_lock

    tenants = ["tenant_a", "tenant_b", "tenant_c"]
    for name in tenants:
        execute(db_url, f"CREATE SCHEMA {name}")
    query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant%' ORDER BY 1"
    held_engine = schema_engine(Target("tenant_a", db_url, schema="tenant_a"))
    try:
        with hold_migration_lock(held_engine, "__switchy_migrations", timeout=5):
            busy = run_cli("-d", db_url, "-m", migrations(tmp_path), "fleet", "migrate",
                           "--schemas-query", query, "--concurrency", "3",
                           "--lock-timeout", "1", "--continue-on-error", "--format", "json")
    finally:
        held_engine.dispose()
    by_name = results_of(busy)
    assert by_name["tenant_a"]["result"] == "failed"  # its own lock is held
    assert "lock" in str(by_name["tenant_a"]["reason"])
    assert by_name["tenant_b"]["result"] == by_name["tenant_c"]["result"] == "applied"
    again = run_cli("-d", db_url, "-m", migrations(tmp_path), "fleet", "migrate",
                    "--schemas-query", query, "--format", "json")
    assert again.code == 0, again.err
    assert results_of(again)["tenant_a"]["result"] == "applied"
    engine = create_database_engine(db_url)
    try:
        with engine.connect() as conn:
            for name in tenants:
                rows = conn.execute(text(
                    f"SELECT id, status FROM {name}.__switchy_migrations ORDER BY id")).all()
                assert [tuple(r) for r in rows] == [(i, "completed") for i in IDS]
                assert conn.execute(text(f"SELECT count(*) FROM {name}.fleet_b")).scalar() == 0
            assert not inspect(conn).has_table("fleet_a", schema="public")
    finally:
        engine.dispose()


def test_kubernetes_example_matches_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """examples/fleet: the Indexed Job's command parses with this CLI, its shard count is
    the Job's completions, and its targets file loads (password from the environment)."""
    import yaml

    from switchy_guard.cli.parser import build_parser
    from switchy_guard.fleet.targets import load_targets_file

    folder = Path(__file__).parents[2] / "examples" / "fleet"
    job = yaml.safe_load((folder / "job.yaml").read_text(encoding="utf-8"))
    assert job["kind"] == "Job" and job["spec"]["completionMode"] == "Indexed"
    [container] = job["spec"]["template"]["spec"]["containers"]
    command = container["command"]
    assert command[0] == "switchy-guard"
    args = build_parser().parse_args(command[1:])
    assert (args.verb, args.action) == ("fleet", "migrate")
    assert args.shard_count == job["spec"]["completions"]
    assert args.shard_index is None  # taken from JOB_COMPLETION_INDEX in each pod
    monkeypatch.setenv("TENANT_DB_PASSWORD", "pw-from-secret")
    targets = load_targets_file(folder / "targets.toml")
    assert [t.name for t in targets] == ["acme", "canary-eu", "globex"]
    assert all("pw-from-secret" in t.url for t in targets)


def test_sigkill_mid_wave_then_rerun_applies_nothing_twice(tmp_path: Path) -> None:
    """The fleet process killed (SIGKILL) while targets run: a re-run with the same
    journal completes the fleet, and every target holds each migration exactly once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "migrations"
    slow = ("CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
            "FROM c WHERE x < 200000) SELECT x FROM c;\n")
    write_migration(root, IDS[0], slow, "DROP TABLE big;\n")
    write_migration(root, IDS[1], "CREATE TABLE fleet_b (id INTEGER);\n",
                    "DROP TABLE fleet_b;\n")
    targets = sqlite_urls(tmp_path, 12)
    path = targets_file(tmp_path, targets)
    journal = tmp_path / "j.jsonl"
    argv = [sys.executable, "-m", "switchy_guard", "-m", str(root), "fleet", "migrate",
            "--targets", str(path), "--journal", str(journal), "--concurrency", "2"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if journal.exists() and journal.read_text().count('"event": "end"') >= 3:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the fleet finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    events = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    ended = {e["target"] for e in events if e["event"] == "end"}
    assert 3 <= len(ended) < 12
    rerun = subprocess.run([*argv, "--format", "json"], env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert rerun.returncode == 0, rerun.stderr
    by_name = {t["target"]: t for t in json.loads(rerun.stdout)["targets"]}
    assert {by_name[name]["result"] for name in ended} == {"up to date"}
    for _, url in targets:
        assert tracking(url) == [(IDS[0], "completed"), (IDS[1], "completed")], url
