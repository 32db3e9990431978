"""examples/embedded_app, built as a wheel and run from a fresh virtual environment.

Both wheels (switchy-guard's and the app's) are built from source and installed with
--no-deps into a new venv; the third-party dependencies (SQLAlchemy, drivers, ...) come
from the test environment through a path entry, so nothing is imported from this source
tree and the migrations can only be found inside the installed app.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*command: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          check=False, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def app_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("embedded-app")
    dist = work / "dist"
    for project in (ROOT, ROOT / "examples" / "embedded_app"):
        built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                     "-q", "-w", dist, project)
        assert built.returncode == 0, built.stderr
    venv = work / "venv"
    assert _run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    python = venv / "bin" / "python"
    target = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
                  .stdout.strip())
    (target / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 2
    installed = _run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                     target, *wheels)
    assert installed.returncode == 0, installed.stderr
    return python


def test_the_app_migrates_at_start_up_from_its_wheel(
    app_python: Path, db_url: str, db_kind: str, tmp_path: Path
) -> None:
    where = _run(app_python, "-c", "import switchy_guard, embedded_app; "
                 "print(switchy_guard.__file__); print(embedded_app.__file__)", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.split():
        assert str(app_python.parents[1]) in line, "imported from outside the venv"
    first = _run(app_python, "-m", "embedded_app", db_url, cwd=tmp_path)
    if db_kind == "mysql":
        # The app ships sqlite and postgres trees only, as MoosicBox does.
        assert first.returncode == 2
        assert "no 'mysql' folder" in first.stderr
        return
    assert first.returncode == 0, first.stderr
    assert "applied at start-up: ['2025-01-01-000000_create_visits', " \
           "'2025-01-02-000000_add_visit_time']" in first.stdout
    assert "visits: 1" in first.stdout
    second = _run(app_python, "-m", "embedded_app", db_url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "applied at start-up: []" in second.stdout
    assert "schema: 2 applied, 0 pending" in second.stdout and "visits: 2" in second.stdout
