"""The command line end to end on each real database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.cli_helpers import run_cli, write_migration

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "project" / "migrations"
IDS = sorted(p.name for p in EXAMPLE.iterdir() if p.is_dir())


def test_migrate_list_status_rollback(db_url: str) -> None:
    common = ["-m", str(EXAMPLE), "-d", db_url, "--no-color"]
    status = run_cli("status", *common, "--format", "json")
    assert status.code == 0, status.err
    data = json.loads(status.out)
    assert data["summary"]["pending"] == len(IDS)
    password = make_url(db_url).password
    if password:
        assert password not in status.out and "***" in data["database"]

    dry = run_cli("migrate", "--dry-run", *common)
    assert dry.code == 0 and "Dry run: nothing was changed." in dry.out
    assert "INSERT INTO users" in dry.out
    assert json.loads(run_cli("status", *common, "--format", "json").out)["summary"]["pending"] == 4

    applied = run_cli("migrate", *common)
    assert applied.code == 0, applied.err
    assert f"applied {IDS[0]}" in applied.out and "Applied 4 migration(s)" in applied.out

    listing = json.loads(run_cli("list", *common, "--format", "json").out)
    assert [m["id"] for m in listing["migrations"]] == IDS
    assert {m["state"] for m in listing["migrations"]} == {"completed"}
    first = listing["migrations"][0]
    assert first["up_checksum"] == first["recorded_up_checksum"] and first["drift"] is False
    assert first["applied_at"]

    table = run_cli("list", *common)
    assert IDS[-1] in table.out and "completed" in table.out

    again = run_cli("migrate", *common)
    assert "Nothing to do" in again.out

    back = run_cli("rollback", "--steps", "2", *common, "--format", "json")
    assert back.code == 0, back.err
    assert json.loads(back.out)["done"] == [IDS[3], IDS[2]]
    text_status = run_cli("status", *common)
    assert "2 pending" in text_status.out and f"Next to apply: {IDS[2]}" in text_status.out


def test_status_reports_drift_and_migrate_refuses(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    common = ["-m", str(root), "-d", db_url]
    assert run_cli("migrate", *common).code == 0
    (folder / "up.sql").write_text("CREATE TABLE a (id BIGINT);\n")
    write_migration(root, "2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);\n")
    status = run_cli("status", *common)
    assert "2024-01-01-000000_a changed since it was applied (up script)" in status.out
    refused = run_cli("migrate", *common)
    assert refused.code == 1
    assert refused.error_lines == [
        "error: applied migrations changed since they ran (checksum mismatch): "
        "2024-01-01-000000_a (up); restore the files, or re-run with --force"
    ]
    forced = run_cli("migrate", "--force", *common)
    assert forced.code == 0 and "ignoring checksum mismatch" in forced.out


def test_failed_migration_exit_code_and_message(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(
        root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\nINSERT INTO zz VALUES (1);\n"
    )
    result = run_cli("migrate", "-m", root, "-d", db_url)
    assert result.code == 1
    assert len(result.error_lines) == 1
    assert (
        f"migration 2024-01-01-000000_a failed at {root}/2024-01-01-000000_a/up.sql:2" in result.err
    )
    status = json.loads(run_cli("status", "-m", root, "-d", db_url, "--format", "json").out)
    assert status["migrations"][0]["state"] == "failed"
    assert "zz" in status["migrations"][0]["failure_reason"]
    # With a failed migration and nothing pending the text said "Up to date".
    text = run_cli("status", "-m", root, "-d", db_url).out
    assert "Up to date" not in text
    assert "Nothing pending, but not up to date: a migration failed or did not finish." in text


def test_create_makes_a_timestamped_folder(tmp_path: Path) -> None:
    root = tmp_path / "m"
    result = run_cli("create", "Add users-email", "-m", root)
    assert result.code == 0, result.err
    (folder,) = root.iterdir()
    assert folder.name.endswith("_add_users_email") and folder.name[:4].isdigit()
    assert {p.name for p in folder.iterdir()} == {"up.sql", "down.sql"}
    per_db = run_cli(
        "create", "x", "-m", root / "tree", "--dialect", "postgres", "--format", "json"
    )
    assert json.loads(per_db.out)["created"].startswith(str(root / "tree" / "postgres"))
    assert run_cli("create", "bad/name!", "-m", root).code == 2
    assert run_cli("create", "y", "-m", root / "tree").code == 2


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "switchy_guard", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "migrate" in result.stdout


def test_gated_usage_example_runs(db_url: str) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "gated_usage.py"
    result = subprocess.run([sys.executable, str(path), db_url], capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "allowed, once it has: confirmation" in result.stdout
    assert "refused: policy production requires confirmation" in result.stdout
    assert "applied: ['2024-01-10-090000_create_users', '2024-01-11-090000_create_posts', " \
        "'2024-01-12-090000_seed_users']" in result.stdout
    assert "journal: ['refused', 'ok']" in result.stdout


@pytest.mark.parametrize("script", ["basic_usage.py"])
def test_basic_usage_example_runs(script: str, db_url: str) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / script
    result = subprocess.run(
        [sys.executable, str(path), db_url],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "applied: ['2024-01-10-090000_create_users'" in result.stdout
    assert "after rolling back one: 3 applied, 1 pending" in result.stdout


def test_demo_runs(tmp_path: Path) -> None:
    path = Path(__file__).resolve().parents[2] / "examples" / "demo.py"
    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "Applied 4 migration(s)" in result.stdout
    assert "Up to date: nothing pending." in result.stdout
    assert "0 error(s), 0 warning(s)" in result.stdout
    assert "Gate: policy production (chosen by --env production): REFUSED" in result.stdout


def test_status_names_every_kind_of_trouble(tmp_path: Path, db_url: str) -> None:
    from switchy_guard.runtime.runner import Migrator
    from switchy_guard.runtime.tracking import TrackingTable

    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, "2024-01-03-000000_c", "CREATE TABLE c (id INTEGER);\n")
    migrator = Migrator(root, db_url)
    migrator.migrate()
    write_migration(root, "2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);\n")
    table = TrackingTable()
    with migrator.engine.begin() as conn:
        table.record(conn, "2023-12-31-000000_gone", "completed", "x", "y")
        table.set_checksums(conn, "2024-01-03-000000_c", "0" * 64, "0" * 64)
        table.record(conn, "2024-01-04-000000_stuck", "in_progress", "x", "y")
        table.ensure_progress(conn)
        table.set_progress(conn, "2024-01-04-000000_stuck", 1, 3)
        table.record(conn, "2024-01-05-000000_broke", "failed", "x", "y", "syntax error")
    stuck_up = "CREATE TABLE s1 (id INTEGER);\nCREATE TABLE s2 (id INTEGER);\nSELECT 3;\n"
    stuck_file = write_migration(root, "2024-01-04-000000_stuck", stuck_up) / "up.sql"
    write_migration(root, "2024-01-05-000000_broke")
    status = run_cli("status", "-m", root, "-d", db_url)
    assert status.code == 0, status.err
    for expected in (
        "2024-01-04-000000_stuck is in_progress: a run died while applying it "
        f"(1 of 3 statements had been applied: 1. `CREATE TABLE s1 (id INTEGER)` "
        f"({stuck_file}:1); may have been applied when the run died: 2. `CREATE TABLE s2 "
        f"(id INTEGER)` ({stuck_file}:2); not run: 1 more)",
        "2024-01-05-000000_broke failed: syntax error",
        "2024-01-03-000000_c was recorded without checksums (unknown checksum)",
        "2023-12-31-000000_gone is applied but missing from the sources",
        "2024-01-02-000000_b is pending but sorts before the newest applied migration",
    ):
        assert expected in status.out, status.out
    data = json.loads(run_cli("status", "-m", root, "-d", db_url, "--format", "json").out)
    assert data["summary"]["in_progress"] == 1 and data["summary"]["failed"] == 1
    assert data["summary"]["missing"] == 1 and data["summary"]["out_of_order"] == 1
    stuck = next(m for m in data["migrations"] if m["id"] == "2024-01-04-000000_stuck")
    assert (stuck["statements_applied"], stuck["statements_total"]) == (1, 3)
    refused = run_cli("migrate", "-m", root, "-d", db_url)
    assert refused.code == 1
    assert "2024-01-04-000000_stuck is in_progress" in refused.err
    assert "(1 of 3 statements had been applied: 1. `CREATE TABLE s1" in refused.err


def test_list_aligns_columns_and_marks_changed_and_missing(tmp_path: Path, db_url: str) -> None:
    from switchy_guard.report.state import list_text
    from switchy_guard.runtime.runner import Migrator

    root = tmp_path / "m"
    first = write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n",
                            "DROP TABLE a;\n")
    gone = write_migration(root, "2024-01-02-000000_gone", "CREATE TABLE g (id INTEGER);\n")
    write_migration(root, "2024-01-03-000000_third", "CREATE TABLE p (id INTEGER);\n")
    assert run_cli("migrate", "--to", "2024-01-02-000000_gone", "-m", root, "-d",
                   db_url).code == 0
    (first / "down.sql").write_text("DROP TABLE a; -- edited\n")
    import shutil

    shutil.rmtree(gone)
    out = run_cli("list", "-m", root, "-d", db_url).out.splitlines()
    assert out[0] == "Migrations" and out[1].split() == ["id", "description", "state",
                                                          "applied", "at"]
    rows = {line.split()[0]: line for line in out[2:]}
    assert "completed (changed)" in rows["2024-01-01-000000_a"]
    assert "(missing from sources)" in rows["2024-01-02-000000_gone"]
    assert rows["2024-01-03-000000_third"].endswith("pending")
    # Every state column starts at the same place.
    starts = {line.index(word) for line in out[2:] for word in ("completed", "pending")
              if word in line}
    assert len(starts) == 1
    coloured = list_text(Migrator(root, db_url).state(), color_system="standard")
    assert "\x1b[33mpending" in coloured and "\x1b[32mcompleted" in coloured


def test_status_takes_switchy_migrates_show_failed(tmp_path: Path) -> None:
    # A switchy-migrate user's `status --show-failed` was an unrecognized argument (exit 2);
    # failed and in-progress rows are always shown here, so the flag changes nothing.
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_broke", "SELECT * FROM nowhere;\n")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    assert run_cli("migrate", "-m", root, "-d", url).code == 1
    plain = run_cli("status", "-m", root, "-d", url)
    shown = run_cli("status", "--show-failed", "-m", root, "-d", url)
    assert shown.code == 0, shown.err
    assert shown.out == plain.out and "2024-01-01-000000_broke failed" in shown.out


def test_migrate_to_an_applied_id_does_not_claim_the_database_is_up_to_date(
        tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, "2024-01-02-000000_b", "CREATE TABLE b (id INTEGER);\n")
    common = ["-m", root, "-d", f"sqlite:///{tmp_path / 'app.db'}"]
    assert run_cli("migrate", "--to", "2024-01-01-000000_a", *common).code == 0
    again = run_cli("migrate", "--to", "2024-01-01-000000_a", *common)
    assert again.code == 0
    # b is still pending: "the database is up to date" was wrong.
    assert "up to date" not in again.out and "nothing pending within" in again.out
    assert run_cli("migrate", *common).code == 0
    assert "Nothing to do: the database is up to date." in run_cli("migrate", *common).out
