"""The pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit (``try-repo``
against this checkout, its working tree included) in a temporary git repository.

pre-commit builds the hooks' environment by pip-installing this checkout (once per test
module: the environments are kept in a shared PRE_COMMIT_HOME)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")



@pytest.fixture(autouse=True, scope="module")
def _pre_commit_is_installed() -> None:
    """Never a pass by skipping: pre-commit comes with the dev extra (make venv)."""
    assert PRE_COMMIT.exists(), "pre-commit is in the dev extra: pip install -e '.[dev]'"
    assert shutil.which("git") is not None, "git is needed to run pre-commit"

MIGRATION = "migrations/2024-01-01-000000_drop_users"
ALLOWED = "-- switchy-guard: allow drop-table -- unused since release 12, backed up\n"


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _repo(tmp_path: Path, up: str) -> Path:
    repo = tmp_path / "app"
    (repo / MIGRATION).mkdir(parents=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "dev")
    (repo / "pyproject.toml").write_text('[tool.switchy-guard]\ndialect = "postgres"\n')
    (repo / MIGRATION / "up.sql").write_text(up)
    (repo / MIGRATION / "down.sql").write_text("CREATE TABLE users (id int);\n")
    _git(repo, "add", "-A")  # staged, not committed: what a commit would check
    return repo


def _try_repo(repo: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--verbose", "--color", "never"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )


@pytest.mark.parametrize("hook", ["switchy-guard-check", "switchy-guard-check-files"])
def test_a_staged_drop_table_fails_the_hook_with_the_finding(
    tmp_path: Path, pre_commit_home: Path, hook: str
) -> None:
    repo = _repo(tmp_path, "DROP TABLE users;\n")
    result = _try_repo(repo, pre_commit_home, hook)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "SG301 drop-table" in result.stdout
    assert f"{MIGRATION}/up.sql:1" in result.stdout


@pytest.mark.parametrize("hook", ["switchy-guard-check", "switchy-guard-check-files"])
def test_the_same_drop_with_an_allow_and_a_reason_passes(
    tmp_path: Path, pre_commit_home: Path, hook: str
) -> None:
    repo = _repo(tmp_path, ALLOWED + "DROP TABLE users;\n")
    result = _try_repo(repo, pre_commit_home, hook)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_hooks_manifest_declares_what_the_issue_asks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    whole = hooks["switchy-guard-check"]
    assert whole["language"] == "python"
    assert whole["pass_filenames"] is False
    assert whole["require_serial"] is True
    assert "migrations/" in whole["files"]
    files = hooks["switchy-guard-check-files"]
    assert files.get("pass_filenames", True) is True
    assert files["entry"] == "switchy-guard check"
