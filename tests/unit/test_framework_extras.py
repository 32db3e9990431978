"""The optional extras the framework support and its error messages name
(``pip install 'switchy-guard[django]'``, ...) are declared in pyproject.toml, each
requiring the package it stands for."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]
    return extras


def test_framework_extras_require_their_framework() -> None:
    extras = _extras()
    for extra, package in (("alembic", "alembic"), ("django", "django"),
                           ("mysql", "pymysql")):
        names = [re.split(r"[\[<>=!~ ;]", r, maxsplit=1)[0].lower() for r in extras[extra]]
        assert package in names, (extra, extras[extra])


def test_every_extra_a_message_or_the_readme_names_is_declared() -> None:
    texts = [p.read_text() for p in (ROOT / "switchy_guard").rglob("*.py")]
    texts.append((ROOT / "README.md").read_text())
    named = {extra for text in texts
             for group in re.findall(r"switchy-guard\[([\w,-]+)\]", text)
             for extra in group.split(",")}
    assert {"alembic", "django", "mysql"} <= named
    assert named <= set(_extras()), named - set(_extras())
