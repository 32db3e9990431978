"""The README's "Layouts" and "Adopting a database" examples, read from README.md and run.

The console example of "Adopting a database" runs on all three databases in
tests/integration/test_adoption.py::test_readme_example; here: the layouts table (each
layout's file names and markers are read as that layout, its order examples hold), the
``check FILE.sql`` / ``check -`` commands, and adoption's version examples.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from switchy_guard.check.run import run_check
from switchy_guard.discovery import DirectoryMigrations
from switchy_guard.discovery.layouts import LAYOUTS
from switchy_guard.runtime.adoption import _key, tool_version
from tests.cli_helpers import run_cli

README = Path(__file__).resolve().parents[2] / "README.md"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def layout_rows() -> dict[str, tuple[str, str, str]]:
    """layout -> (files, markers, order) cells of the Layouts table."""
    rows = {}
    for line in section("Layouts").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.match(r"`([a-z-]+)`", cells[0]) if len(cells) == 4 else None
        if match:
            rows[match.group(1)] = (cells[1], cells[2], cells[3])
    return rows


def ticks(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def write(root: Path, layout: str, version: str) -> None:
    """One migration of ``version`` named and marked as the README's row says."""
    files, markers, _ = layout_rows()[layout]
    template = next(t for t in ticks(files) if "{version}" in t)
    name = re.sub(r"\{(title|desc|name)\}", f"m{version.replace('.', '_')}",
                  template.replace("{version}", version))
    marker = next((m for m in ticks(markers) if m.startswith("-- ")), None)
    marker = re.sub(r" \[.*\]$", "", marker) if marker else None
    body = "SELECT 1;\n" if marker is None else f"{marker}\nSELECT 1;\n"
    if layout == "dbmate":
        body += "-- migrate:down\nSELECT 1;\n"
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(body)


def test_the_table_names_every_layout() -> None:
    assert set(layout_rows()) == {layout.split()[0] for layout in LAYOUTS} - {"auto"}


@pytest.mark.parametrize("layout", ["golang-migrate", "flyway", "sqlx", "dbmate", "goose"])
def test_each_rows_files_and_markers_are_read_as_that_layout(tmp_path: Path,
                                                             layout: str) -> None:
    for version in ("1", "2"):
        write(tmp_path / "m", layout, version)
    source = DirectoryMigrations(tmp_path / "m")
    assert [m.id for m in source.load()] != []
    files = layout_rows()[layout][0]
    # sqlx's simple files read as sqlx under auto; its up/down pairs need --layout.
    assert source.detected_layout == layout or "--layout" in files
    explicit = DirectoryMigrations(tmp_path / "m", layout=layout).load()
    assert sorted(m.id for m in explicit) == ["1", "2"]


def order_examples() -> list[tuple[str, str, str, str]]:
    """(layout, a, relation, b) of every "`a` before `b`" and "`a` = `b`" in the table."""
    found = []
    for layout, (_, _, order) in layout_rows().items():
        for a, relation, b in re.findall(r"`([0-9.]+)` (before|=) `([0-9.]+)`", order):
            found.append((layout, a, relation, b))
    return found


def test_the_table_has_order_examples() -> None:
    assert {layout for layout, *_ in order_examples()} >= {"golang-migrate", "flyway"}


@pytest.mark.parametrize(("layout", "a", "relation", "b"), order_examples())
def test_each_order_example_holds(tmp_path: Path, layout: str, a: str, relation: str,
                                  b: str) -> None:
    write(tmp_path / "m", layout, b)  # written in the other order: the reader sorts
    write(tmp_path / "m", layout, a)
    source = DirectoryMigrations(tmp_path / "m", layout=layout)
    report = run_check(source, "postgres", use_cache=False, jobs=1)
    clash = [f for f in report.findings if f.code == "SG004"]
    if relation == "=":  # one version written two ways: an ambiguity
        assert len(clash) == 1 and "same version" in clash[0].message
        return
    assert clash == []
    from switchy_guard.discovery import load_migrations

    ordered = [m.id for m in load_migrations(DirectoryMigrations(tmp_path / "m",
                                                                 layout=layout), "postgres")]
    assert ordered == [a, b]


def test_text_ordered_layout_reports_its_numeric_clash_as_the_table_says(
        tmp_path: Path) -> None:
    order = layout_rows()["dbmate"][2]
    code = re.search(r"numeric clash is (SG[0-9]+)", order)
    assert code is not None
    for version in ("2", "10"):
        write(tmp_path / "m", "dbmate", version)
    report = run_check(DirectoryMigrations(tmp_path / "m", layout="dbmate"), "postgres",
                       use_cache=False, jobs=1)
    assert [(f.code, f.migration) for f in report.findings if f.code == code.group(1)] == \
        [(code.group(1), "2")]


def test_the_check_file_commands_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = [c for c in ticks(section("Layouts")) if c.startswith("check ")]
    assert commands == ["check FILE.sql [FILE.sql ...]", "check - --stdin-filename NAME.sql"]
    one, two = tmp_path / "one.sql", tmp_path / "two.sql"
    one.write_text("DROP TABLE users;\n")
    two.write_text("SELECT 1;\n")
    files = run_cli("check", one, two, "--dialect", "postgres")
    assert files.code == 1 and "one.sql" in files.out + files.err
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"DROP TABLE users;\n")))
    argv = commands[1].split()[1:]
    piped = run_cli("check", *[a.replace("NAME.sql", "orm.sql") for a in argv],
                    "--dialect", "postgres")
    assert piped.code == 1 and "orm.sql" in piped.out + piped.err


def test_adoptions_version_examples_hold() -> None:
    text = " ".join(section("Adopting a database").split())
    folder = re.search(r"a folder id `([^`]+)` is `([^`]+)`", text)
    number = re.search(r"\(`([0-9]+_[a-z_]+)`\) is that number, compared as a number "
                       r"\(`([0-9]+)` = `([0-9]+)`\)", text)
    flyway = re.search(r"Flyway's `V([^`]+)__name` is `([^`]+)` \(`([^`]+)` = `([^`]+)`\)",
                       text)
    assert folder and number and flyway, "an adoption version example left the README"
    for tool in ("diesel", "golang-migrate", "dbmate"):
        assert tool_version(tool, folder.group(1)) == folder.group(2)
    assert tool_version("golang-migrate", number.group(1)) == number.group(2)
    assert _key("golang-migrate", number.group(2)) == _key("golang-migrate", number.group(3))
    assert tool_version("flyway", f"V{flyway.group(1)}__name") == flyway.group(2)
    assert _key("flyway", flyway.group(3)) == _key("flyway", flyway.group(4))
