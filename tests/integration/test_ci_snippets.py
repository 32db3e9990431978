"""The README's "In CI" snippets: the GitHub workflow uses this action with its real
inputs, the pre-commit config names a hook of .pre-commit-hooks.yaml, and the GitLab and
plain-shell commands run and write what they promise."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.integration.test_action import _pull_request, _this_checkout_on_path

ROOT = Path(__file__).resolve().parents[2]
#: The owner/name the README's snippets install from (the repository of action.yml).
ACTION_REPOSITORY = "switchy-guard/switchy-guard"


def _section_blocks(language: str) -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.partition("\n## In CI\n")[2].partition("\n## ")[0]
    assert section, "README has no In CI section"
    return re.findall(rf"```{language}\n(.*?)```", section, re.S)


def _yaml_blocks() -> list[Any]:
    return [yaml.safe_load(block) for block in _section_blocks("yaml")]


def test_github_workflow_uses_this_action_with_its_inputs() -> None:
    workflow = next(b for b in _yaml_blocks() if "jobs" in b)
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    steps = workflow["jobs"]["switchy-guard"]["steps"]
    ours = [s for s in steps if s.get("uses", "").startswith(ACTION_REPOSITORY + "@")]
    assert len(ours) == 1
    assert set(ours[0]["with"]) <= set(action["inputs"])
    checkout = next(s for s in steps if s["uses"].startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    upload = next(s for s in steps if s["uses"].startswith("github/codeql-action/upload-sarif"))
    assert upload["with"]["sarif_file"] == action["inputs"]["sarif-file"]["default"]
    assert workflow["jobs"]["switchy-guard"]["permissions"]["security-events"] == "write"


def test_pre_commit_config_names_a_hook_of_the_manifest() -> None:
    config = next(b for b in _yaml_blocks() if "repos" in b)
    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    (repo,) = config["repos"]
    assert repo["repo"].endswith("/" + ACTION_REPOSITORY)
    assert {h["id"] for h in repo["hooks"]} <= hooks


def _gitlab_job() -> dict[str, Any]:
    blocks = [b for b in _yaml_blocks() if "switchy-guard" in b and "jobs" not in b]
    assert len(blocks) == 1
    job: dict[str, Any] = blocks[0]["switchy-guard"]
    return job


def test_gitlab_job_writes_a_code_quality_report_and_fails_on_findings(
    tmp_path: Path,
) -> None:
    job = _gitlab_job()
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality.json"
    assert job["artifacts"]["when"] == "always"
    repo = _pull_request(tmp_path, "DROP TABLE users;\n")
    (repo / "pyproject.toml").write_text('[tool.switchy-guard]\ndialect = "postgres"\n')
    # pip install and git fetch need the network; the switchy-guard line runs as written:
    # one check, the report for the log and the Code Quality file from the same run.
    script = [line for line in job["script"] if line.startswith("switchy-guard ")]
    assert len(script) == 1
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SWITCHY_"))}
    env.update(CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
               PATH=os.pathsep.join([*_this_checkout_on_path(tmp_path), env["PATH"]]),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run(["bash", "-e", "-c", "\n".join(script)], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    (issue,) = json.loads((repo / "gl-code-quality.json").read_text())
    assert issue["location"]["path"] == "migrations/2024-06-01-000000_new/up.sql"
    assert "SG301" in done.stdout


def test_plain_shell_line_writes_sarif_and_exits_1(tmp_path: Path) -> None:
    (line,) = _section_blocks("sh")
    repo = _pull_request(tmp_path, "DROP TABLE users;\n")
    (repo / "pyproject.toml").write_text('[tool.switchy-guard]\ndialect = "postgres"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SWITCHY_"))}
    env.update(PATH=os.pathsep.join([*_this_checkout_on_path(tmp_path), env["PATH"]]),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run(["bash", "-e", "-c", line], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    results = json.loads((repo / "switchy-guard.sarif").read_text())["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["SG301"]


def test_action_repository_is_the_one_the_sarif_help_links_point_at() -> None:
    from switchy_guard import __version__
    from switchy_guard.report.findings import RULES_DOC_URL

    assert RULES_DOC_URL.startswith(f"https://github.com/{ACTION_REPOSITORY}/")
    # Every place that names the repository (snippets, the comments of action.yml and
    # .pre-commit-hooks.yaml, the code) names the same one, at this version.
    files = [ROOT / "README.md", ROOT / "action.yml", ROOT / ".pre-commit-hooks.yaml",
             *(ROOT / "docs").rglob("*.md"), *(ROOT / "switchy_guard").rglob("*.py")]
    named, versions = set(), set()
    for file in files:
        text = file.read_text(encoding="utf-8")
        named |= {(file.name, m) for m in re.findall(
            r"(?:github\.com/|uses: |repo: )([\w.-]+/switchy-guard)\b", text)}
        versions |= {(file.name, v) for v in re.findall(
            r"(?:switchy-guard@|rev: )v(\d+\.\d+\.\d+)", text)}
    assert {n for _, n in named} == {ACTION_REPOSITORY}, named
    assert {"README.md", "action.yml", ".pre-commit-hooks.yaml", "findings.py"} <= {
        f for f, _ in named}
    assert {v for _, v in versions} == {__version__}, versions
