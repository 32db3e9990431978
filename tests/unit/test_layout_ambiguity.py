"""Ambiguous ordering is a finding, layout by layout (issue 17 §2): two migrations of
one version (SG004), and, where the tool sorts versions as text, numeric versions that
would sort otherwise as numbers (SG101). What each tool orders without doubt is none.

golang-migrate, sqlx (i64) and goose compare versions as numbers; dbmate compares them
as text; Flyway compares them part by part (``1`` = ``1.0``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.check.run import run_check
from switchy_guard.discovery import DirectoryMigrations

BODY = {
    "golang-migrate": "SELECT 1;\n",
    "sqlx": "SELECT 1;\n",
    "goose": "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n",
    "dbmate": "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 1;\n",
    "flyway": "SELECT 1;\n",
}


def name(layout: str, version: str, title: str) -> list[str]:
    if layout == "flyway":
        return [f"V{version}__{title}.sql"]
    if layout == "golang-migrate":
        return [f"{version}_{title}.up.sql", f"{version}_{title}.down.sql"]
    return [f"{version}_{title}.sql"]


def ambiguity(tmp_path: Path, layout: str, versions: list[str]) -> list[tuple[str, str]]:
    root = tmp_path / "m"
    root.mkdir()
    for index, version in enumerate(versions):
        for file in name(layout, version, f"m{index}"):
            (root / file).write_text(BODY[layout])
    report = run_check(DirectoryMigrations(root, layout=layout), "postgres", use_cache=False,
                       jobs=1)
    return [(f.code, f.migration or "") for f in report.findings
            if f.code in ("SG004", "SG101")]


@pytest.mark.parametrize(("layout", "versions", "expected"), [
    # Numbers: 1 and 01 are one version (the second file listed, 1_..., is named);
    # 2 before 10 is certain.
    ("golang-migrate", ["1", "01"], [("SG004", "1")]),
    ("golang-migrate", ["2", "10", "0003"], []),
    ("sqlx", ["1", "01"], [("SG004", "1")]),
    ("sqlx", ["2", "10", "0003"], []),
    ("goose", ["1", "01"], [("SG004", "1")]),
    ("goose", ["2", "10", "0003"], []),
    # Text: 10 runs before 2 though it is the greater number; 1 and 01 are two versions
    # in a certain order (01 first), padded versions one order either way.
    ("dbmate", ["2", "10"], [("SG101", "2")]),
    ("dbmate", ["9", "10", "11"], [("SG101", "9")]),
    ("dbmate", ["1", "01"], []),
    ("dbmate", ["002", "010", "20240101120000"], []),
    # Flyway: part by part, 1 = 1.0 = 1.0.0; 1.2 before 1.10; 2 before 10.
    ("flyway", ["1", "1.0"], [("SG004", "1")]),  # V1.0__ is listed first
    ("flyway", ["1.1", "1_1"], [("SG004", "1.1")]),
    ("flyway", ["1.2", "1.10", "2", "10"], []),
])
def test_ambiguous_order_is_a_finding_and_only_that(
    tmp_path: Path, layout: str, versions: list[str], expected: list[tuple[str, str]],
) -> None:
    found = ambiguity(tmp_path, layout, versions)
    assert found == expected


@pytest.mark.parametrize("layout", ["golang-migrate", "sqlx", "goose", "dbmate", "flyway"])
def test_two_migrations_of_one_written_version_are_a_finding(tmp_path: Path,
                                                             layout: str) -> None:
    root = tmp_path / "m"
    root.mkdir()
    for title in ("a", "b"):
        for file in name(layout, "7", title):
            (root / file).write_text(BODY[layout])
    report = run_check(DirectoryMigrations(root, layout=layout), "postgres", use_cache=False,
                       jobs=1)
    assert [f.code for f in report.findings if f.code == "SG004"] == ["SG004"]
