"""action.yml, run the way GitHub runs a composite action in a pull request: every
``run:`` step in order, ``${{ }}`` expressions substituted, the ``GITHUB_*`` variables and
files a runner sets, on a temporary git repository with a base and a head commit.

The install step is run for real once (pip-installing this checkout into a virtualenv);
the other runs set ``install: false`` and put this checkout's switchy-guard on PATH.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class ActionRun:
    """The state of one run of the action: inputs, step outputs, files."""

    def __init__(self, workspace: Path, inputs: dict[str, str], tmp: Path) -> None:
        action = yaml.safe_load((ROOT / "action.yml").read_text())
        self.steps: list[dict[str, Any]] = action["runs"]["steps"]
        self.inputs = {name: str(spec.get("default", ""))
                       for name, spec in action["inputs"].items()}
        unknown = set(inputs) - set(self.inputs)
        assert not unknown, f"not inputs of action.yml: {unknown}"
        self.inputs.update(inputs)
        self.workspace = workspace
        self.tmp = tmp
        self.outputs: dict[str, dict[str, str]] = {}
        self.summary = tmp / "step_summary.md"
        self.summary.write_text("")
        self.path_file = tmp / "github_path"
        self.path_file.write_text("")
        self.github = {"action_path": str(ROOT), "base_ref": "main", "head_ref": "feature",
                       "event_name": "pull_request", "workspace": str(workspace)}

    def value(self, expression: str) -> str:
        """A context lookup: inputs.x, github.x, steps.id.outputs.x."""
        parts = expression.split(".")
        if parts[0] == "inputs":
            return self.inputs[parts[1]]
        if parts[0] == "github":
            return self.github[parts[1]]
        if parts[0] == "steps" and parts[2] == "outputs":
            return self.outputs.get(parts[1], {}).get(parts[3], "")
        raise AssertionError(f"expression not understood by this test: {expression}")

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda m: self.value(m.group(1)), text)

    def condition(self, expression: str | None) -> bool:
        if expression is None:
            return True  # success(): a failed step ends the run before
        match = re.fullmatch(r"([\w.-]+) (==|!=) '(.*)'", EXPRESSION.sub(r"\1", expression))
        assert match, f"condition not understood by this test: {expression}"
        equal = self.value(match.group(1)) == match.group(3)
        return equal if match.group(2) == "==" else not equal

    def env(self, step_env: dict[str, str], output: Path) -> dict[str, str]:
        extra_path = [line for line in self.path_file.read_text().splitlines() if line]
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("GITHUB_", "GIT_", "SWITCHY_"))}
        base.update({
            "PATH": os.pathsep.join([*reversed(extra_path), base["PATH"]]),
            "GITHUB_ACTIONS": "true", "CI": "true",
            "GITHUB_EVENT_NAME": "pull_request", "GITHUB_BASE_REF": "main",
            "GITHUB_HEAD_REF": "feature", "GITHUB_REF": "refs/pull/7/merge",
            "GITHUB_WORKSPACE": str(self.workspace), "GITHUB_ACTION_PATH": str(ROOT),
            "GITHUB_STEP_SUMMARY": str(self.summary), "GITHUB_OUTPUT": str(output),
            "GITHUB_PATH": str(self.path_file), "RUNNER_TEMP": str(self.tmp),
            "XDG_CACHE_HOME": str(self.tmp / "cache"),
        })
        base.update({k: self.substitute(str(v)) for k, v in step_env.items()})
        return base

    def run(self, path_prefix: list[str] | None = None) -> tuple[int, str]:
        """Every step in order; the first failing step's exit code (0: all passed)."""
        if path_prefix:
            self.path_file.write_text("\n".join(path_prefix) + "\n")
        log = []
        for number, step in enumerate(self.steps):
            assert step.get("shell") == "bash", "composite run steps must name their shell"
            if not self.condition(step.get("if")):
                continue
            output = self.tmp / f"output_{number}"
            output.write_text("")
            script = self.tmp / f"step_{number}.sh"
            script.write_text(step["run"])
            done = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=self.workspace, env=self.env(step.get("env", {}), output),
                capture_output=True, text=True, timeout=600,
            )
            log.append(done.stdout + done.stderr)
            if "id" in step:
                self.outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if line)
            if done.returncode:
                return done.returncode, "\n".join(log)
        return 0, "\n".join(log)


def _git(repo: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def _pull_request(tmp_path: Path, head_up: str) -> Path:
    """A repository whose main has one migration (a DROP TABLE, merged long ago) and whose
    feature branch (checked out, as actions/checkout with fetch-depth: 0 leaves it) adds
    one migration with ``head_up``; origin/main is the base."""
    repo = tmp_path / "repo"
    old = repo / "migrations" / "2024-01-01-000000_old"
    old.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "dev@example.com")
    _git(repo, "config", "user.name", "dev")
    (old / "up.sql").write_text("DROP TABLE legacy;\n")
    (old / "down.sql").write_text("CREATE TABLE legacy (id int);\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "update-ref", "refs/remotes/origin/main", "main")
    _git(repo, "checkout", "-qb", "feature")
    new = repo / "migrations" / "2024-06-01-000000_new"
    new.mkdir(parents=True)
    (new / "up.sql").write_text(head_up)
    (new / "down.sql").write_text("SELECT 1;\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    return repo


def _this_checkout_on_path(tmp_path: Path) -> list[str]:
    """A bin folder whose switchy-guard runs this checkout's package, each run's
    arguments logged to ``tmp_path/invocations`` (one line a run)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    tool = folder / "switchy-guard"
    tool.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path / "invocations"}"\n'
                    f'PYTHONPATH="{ROOT}" exec "{sys.executable}" -m switchy_guard "$@"\n')
    tool.chmod(0o755)
    return [str(folder)]


def test_pull_request_adding_a_drop_table_fails_with_sarif_and_summary(tmp_path: Path) -> None:
    repo = _pull_request(tmp_path, "CREATE TABLE a (id int);\nDROP TABLE users;\n")
    run = ActionRun(repo, {"install": "false", "dialect": "postgres"}, tmp_path)
    code, log = run.run(_this_checkout_on_path(tmp_path))
    assert code == 1, log
    assert run.outputs["check"] == {"sarif-file": "switchy-guard.sarif", "exit-code": "1"}
    sarif = json.loads((repo / "switchy-guard.sarif").read_text())
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    results = sarif["runs"][0]["results"]
    # Only the migration the pull request adds: the base's DROP TABLE legacy is merged.
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in results] == [("SG301", "migrations/2024-06-01-000000_new/up.sql")]
    summary = run.summary.read_text()
    assert summary.startswith("### ❌ switchy-guard: 1 error(s)")
    assert "| `SG301` drop-table | error | 1 |" in summary
    assert "::error file=migrations/2024-06-01-000000_new/up.sql,line=2" in log
    assert "migrations added since origin/main" in log
    # SARIF, summary and annotations come from one run of the check.
    runs = (tmp_path / "invocations").read_text().splitlines()
    assert [r.split()[0] for r in runs] == ["check"], runs


def test_clean_pull_request_passes(tmp_path: Path) -> None:
    repo = _pull_request(tmp_path, "CREATE TABLE a (id int);\n")
    run = ActionRun(repo, {"install": "false", "dialect": "postgres"}, tmp_path)
    code, log = run.run(_this_checkout_on_path(tmp_path))
    assert code == 0, log
    assert json.loads((repo / "switchy-guard.sarif").read_text())["runs"][0]["results"] == []
    assert len((tmp_path / "invocations").read_text().splitlines()) == 1
    assert run.summary.read_text().startswith("### ✅ switchy-guard: 0 error(s)")


def test_plan_against_a_database_goes_to_the_summary(tmp_path: Path) -> None:
    repo = _pull_request(tmp_path, "CREATE TABLE a (id int);\n")
    url = f"sqlite:///{tmp_path / 'staging.db'}"
    run = ActionRun(repo, {"install": "false", "database-url": url,
                           "environment": "staging"}, tmp_path)
    code, log = run.run(_this_checkout_on_path(tmp_path))
    assert code == 0, log
    summary = run.summary.read_text()
    assert "2024-06-01-000000_new" in summary.partition("✅")[2]  # plan's report follows


def test_bad_input_fails_with_exit_2_and_says_so_in_the_summary(tmp_path: Path) -> None:
    repo = _pull_request(tmp_path, "CREATE TABLE a (id int);\n")
    run = ActionRun(repo, {"install": "false", "fail-on": "nonsense"}, tmp_path)
    code, log = run.run(_this_checkout_on_path(tmp_path))
    assert code == 2, log
    assert "could not run (exit code 2)" in run.summary.read_text()


def test_the_install_step_installs_this_checkout(tmp_path: Path) -> None:
    """The real install command: a virtualenv with this action's own switchy-guard,
    on PATH for the steps after it."""
    repo = _pull_request(tmp_path, "CREATE TABLE a (id int);\n")
    run = ActionRun(repo, {"dialect": "postgres"}, tmp_path)
    run.steps = run.steps[:1]
    code, log = run.run()
    assert code == 0, log
    (folder,) = run.path_file.read_text().split()
    version = subprocess.run([str(Path(folder) / "switchy-guard"), "--version"],
                             capture_output=True, text=True, check=False)
    from switchy_guard import __version__
    assert __version__ in version.stdout + version.stderr
