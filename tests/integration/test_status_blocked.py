"""``status`` says what ``migrate`` would do: a failed, dirty or changed migration blocks
every pending one, and status names it and the command that gets past it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run_cli, write_migration

A, B, C = "2024-01-01-000000_a", "2024-01-02-000000_b", "2024-01-03-000000_c"


def _failed_b_pending_c(root: Path, url: str) -> None:
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n", "DROP TABLE a;\n")
    write_migration(root, B, "INSERT INTO nowhere_at_all VALUES (1);\n")
    assert run_cli("migrate", "-m", root, "-d", url).code == 1
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\n")


def test_a_failed_migration_blocks_and_status_says_so(tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    _failed_b_pending_c(root, db_url)
    common = ["-m", root, "-d", db_url]
    text = run_cli("status", *common)
    assert text.code == 0, text.err
    # It said "Next to apply: C" while migrate refused to run C.
    assert "Next to apply" not in text.out, text.out
    blocked = next(line for line in text.out.splitlines() if line.startswith("Blocked:"))
    assert B in blocked and "nowhere_at_all" in blocked and C in blocked
    assert f"switchy-guard retry {B}" in text.out
    assert f"switchy-guard mark-completed {B}" in text.out

    data = json.loads(run_cli("status", *common, "--format", "json").out)
    block = data["blocked_by"]
    assert (block["id"], block["state"]) == (B, "failed")
    assert "nowhere_at_all" in block["reason"]
    assert f"switchy-guard retry {B}" in block["commands"]
    assert data["next_to_apply"] is None
    # What status says migrate would answer is what migrate answers.
    refused = run_cli("migrate", *common)
    assert refused.code == 1 and refused.error_lines == [f"error: {block['refusal']}"]

    # The command status gives gets past it.
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n")
    assert run_cli("retry", B, "--force", *common).code == 0
    after = json.loads(run_cli("status", *common, "--format", "json").out)
    assert after["blocked_by"] is None and after["next_to_apply"] == C
    assert f"Next to apply: {C}" in run_cli("status", *common).out


def test_a_dirty_migration_blocks_and_status_says_so(tmp_path: Path, db_url: str) -> None:
    from switchy_guard.runtime.runner import Migrator
    from switchy_guard.runtime.tracking import TrackingTable

    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n")
    Migrator(root, db_url).migrate()
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n")
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\n")
    with Migrator(root, db_url).engine.begin() as conn:
        TrackingTable().record(conn, B, "in_progress", "x", "y")
    common = ["-m", root, "-d", db_url]
    text = run_cli("status", *common).out
    assert "Next to apply" not in text
    assert any(line.startswith("Blocked:") and B in line for line in text.splitlines()), text
    for command in (f"switchy-guard mark-completed {B}", f"switchy-guard mark-failed {B}",
                    "switchy-guard migrate --force"):
        assert command in text
    block = json.loads(run_cli("status", *common, "--format", "json").out)["blocked_by"]
    assert (block["id"], block["state"]) == (B, "in_progress")
    refused = run_cli("migrate", *common)
    assert refused.code == 1 and refused.error_lines == [f"error: {block['refusal']}"]


def test_a_changed_migration_blocks_and_status_says_so(tmp_path: Path) -> None:
    root = tmp_path / "m"
    folder = write_migration(root, A, "CREATE TABLE a (id INTEGER);\n")
    common = ["-m", root, "-d", f"sqlite:///{tmp_path / 'app.db'}"]
    assert run_cli("migrate", *common).code == 0
    (folder / "up.sql").write_text("CREATE TABLE a (id BIGINT);\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\n")
    text = run_cli("status", *common).out
    assert "Next to apply" not in text and "switchy-guard migrate --force" in text
    block = json.loads(run_cli("status", *common, "--format", "json").out)["blocked_by"]
    assert (block["id"], block["state"]) == (A, "drift")
    refused = run_cli("migrate", *common)
    assert refused.error_lines == [f"error: {block['refusal']}"]


def test_a_failed_migration_missing_from_the_sources_blocks_nothing(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "m"
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _failed_b_pending_c(root, url)
    shutil.rmtree(root / B)  # migrate ignores a failed row it has no files for
    data = json.loads(run_cli("status", "-m", root, "-d", url, "--format", "json").out)
    assert data["blocked_by"] is None and data["next_to_apply"] == C
    assert run_cli("migrate", "-m", root, "-d", url).code == 0


def test_status_still_reads_a_state_whose_pending_script_migrate_would_refuse(
        tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "m"
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _failed_b_pending_c(root, url)
    shutil.rmtree(root / B)
    # The planner refuses C as bad input (it would end the runner's transaction): that
    # is check's to report; status still reads the state.
    write_migration(root, C, "CREATE TABLE c (id INTEGER);\nCOMMIT;\n")
    status = run_cli("status", "-m", root, "-d", url, "--format", "json")
    assert status.code == 0, status.err
    assert json.loads(status.out)["blocked_by"] is None


def test_a_failure_that_left_statements_applied_asks_for_from_start(
        tmp_path: Path, db_url: str) -> None:
    root = tmp_path / "m"
    write_migration(root, A, "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, B, "CREATE TABLE b (id INTEGER);\nINSERT INTO nowhere_at_all "
                    "VALUES (1);\n", metadata="transactional = false\n")
    common = ["-m", root, "-d", db_url]
    assert run_cli("migrate", *common).code == 1
    block = json.loads(run_cli("status", *common, "--format", "json").out)["blocked_by"]
    assert block["id"] == B and "1 of 2 statements stayed applied" in block["advice"]
    # A plain retry would be refused (it would run CREATE TABLE b again): not offered.
    assert block["commands"] == [f"switchy-guard retry {B} --from-start",
                                 f"switchy-guard mark-completed {B}"]
    assert run_cli("retry", B, "--force", *common).code == 1
    refused = run_cli("migrate", *common)
    assert refused.error_lines == [f"error: {block['refusal']}"]


def test_with_two_failed_migrations_status_offers_what_retry_accepts(tmp_path: Path) -> None:
    from switchy_guard.runtime.runner import Migrator
    from switchy_guard.runtime.tracking import TrackingTable

    root = tmp_path / "m"
    url = f"sqlite:///{tmp_path / 'app.db'}"
    for migration_id in (A, B, C):
        write_migration(root, migration_id, "SELECT 1;\n")
    Migrator(root, url).migrate()
    with Migrator(root, url).engine.begin() as conn:
        for migration_id in (A, B):
            TrackingTable().set_status(conn, migration_id, "failed", "broke")
    common = ["-m", root, "-d", url]
    block = json.loads(run_cli("status", *common, "--format", "json").out)["blocked_by"]
    assert block["id"] == A
    # retry refuses while another migration failed too: migrate --retry-failed is the way.
    assert run_cli("retry", A, "--force", *common).code == 1
    assert block["commands"] == ["switchy-guard migrate --retry-failed",
                                 f"switchy-guard mark-completed {A}"]
    assert run_cli("migrate", "--retry-failed", *common).code == 0
