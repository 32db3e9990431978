"""The rooms' layering contract ([tool.importlinter] in pyproject.toml), run in the suite
so that CI checks it, and shown to notice an import that breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_package_keeps_every_contract() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "switchy_guard", copy / "switchy_guard",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _add_import(module: Path, line: str) -> None:
    text = module.read_text()
    head, _, rest = text.partition("from __future__ import annotations\n")
    module.write_text(f"{head}from __future__ import annotations\n{line}\n{rest}")


def test_an_upward_import_breaks_the_rooms(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _add_import(copy / "switchy_guard/model/findings.py", "import switchy_guard.gates.policy")
    result = _lint_imports(copy)
    assert result.returncode == 1
    assert "Rooms: an import only points down the flow BROKEN" in result.stdout
    assert "switchy_guard.model.findings -> switchy_guard.gates.policy" in result.stdout


def test_sqlalchemy_in_a_validator_breaks_its_contract(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _add_import(copy / "switchy_guard/rules/base.py", "import sqlalchemy")
    result = _lint_imports(copy)
    assert result.returncode == 1
    assert "never import SQLAlchemy BROKEN" in result.stdout


def test_a_cycle_inside_a_room_breaks_the_acyclic_contract(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    # runtime.db imports runtime.reasons; the way back closes a circle inside runtime/.
    _add_import(copy / "switchy_guard/runtime/reasons.py", "import switchy_guard.runtime.db")
    result = _lint_imports(copy)
    assert result.returncode == 1
    assert "No import cycle, at any depth of the package BROKEN" in result.stdout
