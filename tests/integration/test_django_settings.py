"""``check --django``: ``--settings`` chooses the settings module (and with it the apps
whose migrations are linted: every app's), and without one anywhere the error says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.integration.test_frameworks import _django_findings, django_project

__all__ = ["django_project"]  # a fixture: imported to be used by name

BILLING = "billing/migrations/0001_drop_orders.py"


def _second_app(project: Path) -> None:
    """App ``billing``, installed only by settings module ``shopsite.two_apps``."""
    migrations = project / "billing" / "migrations"
    migrations.mkdir(parents=True)
    (project / "billing" / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    (migrations / "0001_drop_orders.py").write_text(
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0002_hazards')]\n"
        "    operations = [migrations.RunSQL('DROP TABLE shop_order', migrations.RunSQL.noop)]\n")
    (project / "shopsite" / "two_apps.py").write_text(
        "from shopsite.settings import *  # noqa: F403\n\n"
        "INSTALLED_APPS = [*INSTALLED_APPS, 'billing']  # noqa: F405\n")


def test_settings_option_chooses_the_module_and_every_app_is_linted(
        django_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    _second_app(django_project)
    named = run_cli("check", "--django", "manage.py", "--format", "json")
    assert not [f for f in _django_findings(named.out) if f[1] == BILLING], named.err
    chosen = run_cli("check", "--django", "manage.py", "--settings", "shopsite.two_apps",
                     "--format", "json")
    assert chosen.code == 1, chosen.err
    found = _django_findings(chosen.out)
    assert [f for f in found if f[1] == BILLING] == [
        ("SG301", BILLING, 6, "up"), ("SG203", BILLING, None, "up")]
    assert set(found) > set(_django_findings(named.out))  # shop's findings as before


def test_no_settings_module_anywhere_exits_2(django_project: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DJANGO_SETTINGS_MODULE", raising=False)
    manage = django_project / "manage.py"
    manage.write_text(manage.read_text().replace(
        '    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopsite.settings")\n', ""))
    result = run_cli("check", "--django", "manage.py")
    assert result.code == 2
    assert result.error_lines == [
        "error: manage.py: no DJANGO_SETTINGS_MODULE found: give --settings"], result.err
    assert run_cli("check", "--django", "manage.py", "--settings", "shopsite.settings").code == 1
