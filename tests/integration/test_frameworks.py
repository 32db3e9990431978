"""``check --alembic``, ``plan --alembic`` and ``check --django`` on the real Alembic and
Django projects in tests/data, on SQLite and PostgreSQL (Django on MariaDB:
test_frameworks_mysql.py; Alembic for MySQL there too)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

DATA = Path(__file__).resolve().parent.parent / "data"
ROOT = DATA.parent.parent
DIALECT = {"sqlite": "sqlite", "postgres": "postgres", "mysql": "mysql"}

#: (code, file, line) of each finding the hazard revision gets, per dialect: on SQLite
#: every index is built under a lock (no CONCURRENTLY there), so SG401 is PostgreSQL's.
ALEMBIC_UP = {
    "sqlite": [("SG302", "versions/b2_hazards.py", 17), ("SG403", "versions/b2_hazards.py", 18),
               ("SG305", "versions/b2_hazards.py", 20)],
    "postgres": [("SG302", "versions/b2_hazards.py", 17),
                 ("SG403", "versions/b2_hazards.py", 18),
                 ("SG401", "versions/b2_hazards.py", 19),
                 ("SG305", "versions/b2_hazards.py", 20)],
}


@pytest.fixture
def alembic_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/data/alembic_project, the working folder of the test."""
    project = tmp_path / "alembic_project"
    shutil.copytree(DATA / "alembic_project", project,
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(project)
    return project


def _findings(out: str) -> list[dict[str, object]]:
    return list(json.loads(out)["findings"])


def _up(findings: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(f["code"], f["file"], f["line"]) for f in findings if "direction" not in f]


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_alembic_check_finds_the_four_hazards_on_the_op_lines(alembic_project: Path,
                                                              dialect: str) -> None:
    result = run_cli("--dialect", dialect, "check", "--alembic", "--format", "json")
    assert result.code == 1, result.err
    findings = _findings(result.out)
    assert _up(findings) == ALEMBIC_UP[dialect]
    assert {f["migration"] for f in findings} == {"b2"}
    # b2 and c3 branch off a1 and d4 merges them: a merged branch is no finding.
    assert not [f for f in findings if f["code"] == "SG204"]
    downs = [(f["code"], f["line"]) for f in findings if f.get("direction") == "down"]
    assert downs == ([("SG401", 24)] if dialect == "postgres" else [])
    assert result.err == ""  # env.py's log lines are not check's output


def test_alembic_check_reads_the_dialect_of_alembic_ini(alembic_project: Path) -> None:
    result = run_cli("check", "--alembic", "alembic.ini", "--format", "json")
    assert _up(_findings(result.out)) == ALEMBIC_UP["sqlite"]  # sqlalchemy.url is sqlite


def test_alembic_unmerged_heads_are_a_warning(alembic_project: Path) -> None:
    (alembic_project / "versions" / "d4_merge.py").unlink()
    result = run_cli("--dialect", "postgres", "check", "--alembic", "--format", "json",
                     "--fail-on", "warning")
    heads = [f for f in _findings(result.out) if f["code"] == "SG204"]
    assert len(heads) == 1 and heads[0]["severity"] == "warning"
    assert "b2, c3" in str(heads[0]["message"])


def test_alembic_cycle_is_an_error(alembic_project: Path) -> None:
    first = alembic_project / "versions" / "a1_create_users.py"
    first.write_text(first.read_text().replace('down_revision = None', 'down_revision = "d4"'))
    result = run_cli("--dialect", "sqlite", "check", "--alembic", "--format", "json")
    assert result.code == 1, result.err
    codes = [(f["code"], f["severity"]) for f in _findings(result.out)]
    assert codes == [("SG202", "error")]


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=project, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def test_alembic_against_lints_only_new_revisions(alembic_project: Path) -> None:
    _git(alembic_project, "init", "-q")
    hazards = alembic_project / "versions" / "b2_hazards.py"
    kept = hazards.read_text()
    hazards.unlink()
    (alembic_project / "versions" / "d4_merge.py").unlink()
    _git(alembic_project, "add", "-A")
    _git(alembic_project, "commit", "-qm", "base")
    hazards.write_text(kept)
    old = run_cli("--dialect", "postgres", "check", "--alembic", "--against", "HEAD",
                  "--format", "json")
    found = _up(_findings(old.out))
    assert found == [("SG204", "versions/b2_hazards.py", None), *ALEMBIC_UP["postgres"]]
    _git(alembic_project, "add", "-A")
    _git(alembic_project, "commit", "-qm", "hazards")
    again = run_cli("--dialect", "postgres", "check", "--alembic", "--against", "HEAD",
                    "--format", "json")
    # b2 is in the base now: not linted; the unmerged heads still are (a graph rule).
    assert [f["code"] for f in _findings(again.out)] == ["SG204"]


def _alembic_upgrade(project: Path, url: str, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(project / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, target)


@pytest.mark.only_on("sqlite", "postgres")
def test_plan_alembic_reports_the_pending_revisions(alembic_project: Path, db_url: str,
                                                     db_kind: str) -> None:
    _alembic_upgrade(alembic_project, db_url, "a1")
    result = run_cli("plan", "--alembic", "-d", db_url, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [m["id"] for m in report["migrations"]] == ["c3", "b2", "d4"]
    hazards = report["migrations"][1]
    assert "column users.nickname" in hazards["drops"]
    assert [(f["code"], f["file"], f["line"]) for f in hazards["findings"]] == ALEMBIC_UP[
        DIALECT[db_kind]]
    assert not any("alembic_version" in w for w in report["warnings"])
    _alembic_upgrade(alembic_project, db_url, "b2")
    text = run_cli("plan", "--alembic", "alembic.ini", "-d", db_url)
    assert text.code == 0, text.err
    assert "c3" in text.out and "d4" in text.out and "b2 " not in text.out


@pytest.mark.only_on("postgres")
def test_plan_alembic_judges_by_the_live_server_and_warns_of_a_contradicting_version(
        alembic_project: Path, db_url: str) -> None:
    _alembic_upgrade(alembic_project, db_url, "a1")
    result = run_cli("plan", "--alembic", "-d", db_url, "--format", "json",
                     "--server-version", "10")
    assert result.code == 0, result.err
    warnings = json.loads(result.out)["warnings"]
    assert any(w.startswith("--server-version 10 ignored") for w in warnings), warnings


def test_alembic_without_the_extra_exits_2(alembic_project: Path) -> None:
    code = ("import sys; sys.modules['alembic'] = None; "
            "from switchy_guard.cli.main import main; "
            "sys.exit(main(['check', '--alembic', '--dialect', 'sqlite']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 2
    assert "switchy-guard[alembic]" in done.stderr and "Traceback" not in done.stderr


def test_check_without_frameworks_imports_neither(tmp_path: Path) -> None:
    code = ("import sys; from switchy_guard.cli.main import main; "
            "main(['check', '-m', sys.argv[1], '--dialect', 'sqlite']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('alembic', 'django')))")
    (tmp_path / "m").mkdir()
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m")],
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


#: (code, file, line, direction) of the Django hazard migration's findings. SQLite has
#: no ALTER for a NOT NULL column: Django rebuilds the table there (SG410, a warning)
#: instead of the ADD COLUMN PostgreSQL refuses on a non-empty table (SG403).
HAZARDS = "shop/migrations/0002_hazards.py"
DJANGO = {
    "sqlite": [("SG302", HAZARDS, 8, "up"), ("SG410", HAZARDS, 9, "up"),
               ("SG305", HAZARDS, 19, "up"), ("SG302", HAZARDS, 9, "down")],
    "postgres": [("SG302", HAZARDS, 8, "up"), ("SG403", HAZARDS, 9, "up"),
                 ("SG401", HAZARDS, 15, "up"), ("SG305", HAZARDS, 19, "up"),
                 ("SG401", HAZARDS, 15, "down")],
}


@pytest.fixture
def django_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/data/django_project, the working folder of the test."""
    project = tmp_path / "django_project"
    shutil.copytree(DATA / "django_project", project,
                    ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    monkeypatch.chdir(project)
    return project


def _django_database(monkeypatch: pytest.MonkeyPatch, db_kind: str, db_url: str) -> None:
    """Point the test project's settings at the test database (PostgreSQL)."""
    if db_kind != "postgres":
        return
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    for key, value in (("NAME", url.database), ("USER", url.username),
                       ("PASSWORD", url.password), ("HOST", url.host), ("PORT", url.port)):
        monkeypatch.setenv(f"SHOP_PG_{key}", str(value or ""))


def _django_findings(out: str) -> list[tuple[object, ...]]:
    return [(f["code"], f["file"], f["line"], f.get("direction", "up"))
            for f in _findings(out)]


@pytest.mark.only_on("sqlite", "postgres")
def test_django_check_finds_the_hazards_on_the_operations(
        django_project: Path, db_url: str, db_kind: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _django_database(monkeypatch, db_kind, db_url)
    result = run_cli("check", "--django", "manage.py", "--format", "json")
    assert result.code == 1, result.err
    found = _django_findings(result.out)
    assert sorted(found, key=lambda f: (f[3] == "down", f[2])) == DJANGO[db_kind]
    assert not (django_project / "shopsite" / "shop.db").exists()  # nothing created


def test_django_against_lints_only_new_migrations(django_project: Path) -> None:
    _git(django_project, "init", "-q")
    _git(django_project, "add", "-A")
    _git(django_project, "commit", "-qm", "base")
    assert run_cli("check", "--django", "manage.py", "--against", "HEAD").code == 0
    (django_project / "shop" / "migrations" / "0003_drop.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0002_hazards')]\n"
        "    operations = [migrations.RunSQL('DROP TABLE shop_order', migrations.RunSQL.noop)]\n")
    result = run_cli("check", "--django", "manage.py", "--against", "HEAD", "--format", "json")
    # Its backwards SQL is empty (RunSQL.noop) while it drops a table: SG203 too.
    assert [(f[0], f[1], f[2]) for f in _django_findings(result.out)] == [
        ("SG301", "shop/migrations/0003_drop.py", 6),
        ("SG203", "shop/migrations/0003_drop.py", None)]


def test_django_conflicting_leaves_are_a_warning(django_project: Path) -> None:
    (django_project / "shop" / "migrations" / "0002_other.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0001_initial')]\n"
        "    operations = []\n")
    result = run_cli("check", "--django", "manage.py", "--format", "json")
    assert [f["code"] for f in _findings(result.out) if f["code"] == "SG204"] == ["SG204"]


def test_django_without_the_extra_exits_2(django_project: Path) -> None:
    code = ("import sys; sys.modules['django'] = None; "
            "from switchy_guard.cli.main import main; "
            "sys.exit(main(['check', '--django', 'manage.py']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == 2
    assert "switchy-guard[django]" in done.stderr and "Traceback" not in done.stderr


def _readme_commands() -> list[list[str]]:
    import re
    import shlex

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"## Python frameworks.*?<!-- frameworks-example -->\n```sh\n(.*?)```",
                      text, re.DOTALL)
    assert match, "the Python frameworks example is missing from the README"
    return [shlex.split(line) for line in match.group(1).splitlines() if line.strip()]


@pytest.mark.only_on("postgres")
def test_readme_framework_commands_run(alembic_project: Path, db_url: str,
                                       monkeypatch: pytest.MonkeyPatch,
                                       db_kind: str) -> None:
    commands = _readme_commands()
    assert [c[:3] for c in commands] == [
        ["switchy-guard", "check", "--alembic"], ["switchy-guard", "check", "--alembic"],
        ["switchy-guard", "plan", "--alembic"], ["switchy-guard", "check", "--django"]]
    _git(alembic_project, "init", "-q")
    _git(alembic_project, "add", "-A")
    _git(alembic_project, "commit", "-qm", "base")
    _git(alembic_project, "branch", "-f", "origin/main")
    _alembic_upgrade(alembic_project, db_url, "a1")
    swaps = {"postgresql://app@db/app": db_url}
    first = run_cli(*commands[0][1:])
    assert _up(_findings(run_cli(*commands[0][1:], "--format", "json").out)) == ALEMBIC_UP[
        "postgres"], first.err
    assert run_cli(*commands[1][1:]).code == 0  # nothing new since origin/main
    planned = run_cli(*[swaps.get(a, a) for a in commands[2][1:]])
    assert planned.code == 0 and "b2" in planned.out, planned.err
    shutil.copytree(DATA / "django_project", alembic_project / "dj", ignore=shutil.ignore_patterns(
        "__pycache__", "*.db"))
    monkeypatch.chdir(alembic_project / "dj")
    _django_database(monkeypatch, db_kind, db_url)
    checked = run_cli(*commands[3][1:], "--format", "json")
    assert ("SG403", HAZARDS, 9, "up") in _django_findings(checked.out), checked.err
