"""Embedded migrations are read from an installed wheel, not only from a source tree."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

PACKAGE = "wheel_app_demo"


def make_project(root: Path) -> Path:
    package = root / "src" / PACKAGE
    for dialect in ("sqlite", "postgres"):
        migration = package / "migrations" / dialect / "2024-01-01-000000_create_things"
        migration.mkdir(parents=True)
        column = "INTEGER" if dialect == "sqlite" else "BIGINT"
        (migration / "up.sql").write_text(f"CREATE TABLE things (id {column} PRIMARY KEY);\n")
        (migration / "down.sql").write_text("DROP TABLE things;\n")
    (package / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "{PACKAGE.replace('_', '-')}"
        version = "1.0"

        [tool.setuptools.packages.find]
        where = ["src"]

        [tool.setuptools.package-data]
        {PACKAGE} = ["migrations/*/*/*.sql"]
    """))
    return root


def test_migrations_load_and_run_from_an_installed_wheel(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(project)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = dist.glob("*.whl")
    assert f"{PACKAGE}/migrations/sqlite/2024-01-01-000000_create_things/up.sql" in (
        zipfile.ZipFile(wheel).namelist()
    )
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    script = textwrap.dedent(f"""
        import json, sys
        sys.path.insert(0, {str(site)!r})
        import {PACKAGE}
        assert "src" not in {PACKAGE}.__file__
        from switchy_guard import Migrator
        migrator = Migrator("{PACKAGE}:migrations", "sqlite:///{tmp_path / 'app.db'}")
        result = migrator.migrate()
        print(json.dumps({{"done": result.done,
                          "source": migrator.migrations()[0].source,
                          "applied": migrator.state().is_applied(result.done[0])}}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report == {
        "done": ["2024-01-01-000000_create_things"],
        "source": f"{PACKAGE}:migrations/sqlite/2024-01-01-000000_create_things",
        "applied": True,
    }


def test_migrations_load_from_a_zipped_package(tmp_path: Path) -> None:
    """importlib.resources also reads a package imported from a zip archive."""
    project = make_project(tmp_path / "project")
    archive = tmp_path / "app.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in (project / "src").rglob("*"):
            if path.is_file():
                zipped.write(path, path.relative_to(project / "src").as_posix())
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(archive)!r})
        from switchy_guard.discovery import load_migrations
        print([m.id for m in load_migrations("{PACKAGE}:migrations", "postgres")])
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['2024-01-01-000000_create_things']"
