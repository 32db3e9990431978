"""Every reference in the code and the docs points at something in the repository.

Scanned: the package's modules, README.md, SECURITY.md, docs/*.md and bench/README.md.
Checked: repository paths (``docs/cli.md``, ``switchy_guard/runtime/runner.py``,
``tests/unit/...``, ``bench/run.py``, ``examples/...``, ``policies/...``), paths inside
the package written from a room (``runtime/runner.py``, ``sql/split.py``) and dotted
names (``switchy_guard.rules.docs``, ``switchy_guard.masking.mask_url``). Files moved
without their references following fail here, each with where it is named.

Nothing anywhere in the repository names the design notes kept outside it (the upper-case
RULES, CLI and DESIGN files, or the ``shared`` folder beside the repository): the
documents are docs/rules.md, docs/cli.md and docs/design.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "switchy_guard"
ROOMS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())
TOP = ("docs", "bench", "examples", "tests", "switchy_guard", "policies")

#: ``docs/x.md``, ``switchy_guard/a/b.py``, ``tests/unit/x.py``, ``bench/x.py``: a path from
#: the repository's root (a glob such as ``policies/*.toml`` is checked by its folder).
REPO_PATH = re.compile(rf"(?<![\w./$~-])((?:{'|'.join(TOP)})/[\w./*-]*[\w*/])")
#: ``runtime/runner.py``: a module written from the package's root.
ROOM_PATH = re.compile(rf"(?<![\w./$~-])((?:{'|'.join(ROOMS)})/[\w/]*\.py)\b")
#: ``switchy_guard.rules.docs``: a module, or a module's attribute.
DOTTED = re.compile(r"(?<![\w.])(switchy_guard(?:\.\w+)+)")
#: Names of the notes outside the repository; built so this file does not name them.
OUTSIDE = re.compile(r"\b(?:" + "|".join(("RULES", "CLI", "DESIGN")) + r")\.md\b"
                     r"|\.\./" + "shared|/work/" + "shared")


def _scanned() -> list[Path]:
    return [*sorted(PACKAGE.rglob("*.py")), ROOT / "README.md", ROOT / "SECURITY.md",
            *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]


def _generated_outputs() -> list[str]:
    """Folders .gitignore keeps out of the repository that runs write into (bench/results/):
    a reference to a file there names an output, not a source."""
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    return [line.strip("/") + "/" for line in lines
            if "/" in line.strip("/") and not line.startswith(("#", "!", "*"))]


def _exists(relative: str) -> bool:
    relative = relative.rstrip("/.")
    if "*" in relative:
        relative = relative.split("*", 1)[0].rsplit("/", 1)[0]
    return (ROOT / relative).exists() or relative.startswith(tuple(_generated_outputs()))


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module of the package, or attributes of one."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        try:
            found = importlib.util.find_spec(".".join(parts[:end]))
        except ModuleNotFoundError:
            found = None
        if found is None:
            continue
        target: object = importlib.import_module(".".join(parts[:end]))
        for attribute in parts[end:]:
            if not hasattr(target, attribute):
                return False
            target = getattr(target, attribute)
        return True
    return False


def _where(path: Path, text: str, start: int) -> str:
    return f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, start) + 1}"


def _broken_references() -> list[str]:
    broken = []
    for path in _scanned():
        text = path.read_text(encoding="utf-8")
        for match in REPO_PATH.finditer(text):
            if not _exists(match.group(1)):
                broken.append(f"{_where(path, text, match.start())}: {match.group(1)}")
        for match in ROOM_PATH.finditer(text):
            if not _exists(f"switchy_guard/{match.group(1)}"):
                broken.append(f"{_where(path, text, match.start())}: {match.group(1)} "
                              f"(read as switchy_guard/{match.group(1)})")
        for match in DOTTED.finditer(text):
            if not _resolves(match.group(1)):
                broken.append(f"{_where(path, text, match.start())}: {match.group(1)}")
    return broken


def test_every_path_and_module_named_exists() -> None:
    broken = _broken_references()
    assert not broken, (
        "these references name a file or module that does not exist (moved or renamed? "
        "point them at its new place):\n  " + "\n  ".join(broken))


def test_the_scan_finds_references_and_would_see_a_broken_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert REPO_PATH.search(readme), "README.md names no repository path: the regex broke"
    text = ("see docs/nowhere.md, switchy_guard/runtime/gone.py, runtime/gone.py, "
            "switchy_guard.runtime.gone and switchy_guard.masking.no_such_name; "
            "docs/rules.md, sql/split.py, switchy_guard.masking.mask_url and "
            "bench/results/check.json are fine.")
    paths = [m.group(1) for m in REPO_PATH.finditer(text) if not _exists(m.group(1))]
    rooms = [m.group(1) for m in ROOM_PATH.finditer(text)
             if not _exists(f"switchy_guard/{m.group(1)}")]
    dotted = [m.group(1) for m in DOTTED.finditer(text) if not _resolves(m.group(1))]
    assert paths == ["docs/nowhere.md", "switchy_guard/runtime/gone.py"]
    assert rooms == ["runtime/gone.py"]
    assert dotted == ["switchy_guard.runtime.gone", "switchy_guard.masking.no_such_name"]


def test_nothing_names_the_notes_outside_the_repository() -> None:
    assert OUTSIDE.search("see " + "CLI" + ".md") and OUTSIDE.search("../" + "shared/x")
    assert not OUTSIDE.search("docs/cli.md, docs/design.md")
    named = []
    for pattern in ("switchy_guard/**/*.py", "tests/**/*.py", "bench/*", "examples/**/*",
                    "docs/**/*.md", "*.md", "*.toml", "*.yml", "Makefile"):
        for path in sorted(ROOT.glob(pattern)):
            if not path.is_file() or path.suffix in (".pyc", ".db", ".sqlite"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            named += [f"{_where(path, text, m.start())}: {m.group(0)}"
                      for m in OUTSIDE.finditer(text)]
    assert not named, ("these name design notes outside the repository; point them at "
                       "docs/rules.md, docs/cli.md, docs/design.md or README.md:\n  "
                       + "\n  ".join(named))
