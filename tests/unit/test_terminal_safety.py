"""Text from outside (folder names, table rows, a server's words) cannot drive the
terminal: control characters reach it escaped (SECURITY.md, "Secrets and terminal")."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import run_cli, write_migration

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[8m\r\x9b31m\u202e"


def _clean(text: str) -> bool:
    return not any((ord(c) < 0x20 and c not in "\n\t") or 0x7f <= ord(c) <= 0x9f
                   or c == "\u202e" for c in text)


def test_folder_names_and_table_rows_reach_the_terminal_escaped(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    write_migration(root, f"2024-01-02-000000_b{HOSTILE}[bold]x", "SELECT 1;\n")
    database = f"sqlite:///{tmp_path / 'app.db'}"
    results = [
        run_cli("check", "-m", root, "--dialect", "sqlite"),
        run_cli("list", "-m", root, "-d", database),
        run_cli("migrate", "-m", root, "-d", database),
        run_cli("mark-failed", "2024-01-01-000000_a", "--force", "--reason",
                f"stop {HOSTILE} [red]here[/red]", "-m", root, "-d", database),
        run_cli("status", "--history", "-m", root, "-d", database),
        run_cli("status", "-m", root, "-d", database, "--format", "json"),
    ]
    for result in results:
        assert _clean(result.out) and _clean(result.err), result
    assert "\\x1b]0;owned" in results[-2].out  # shown, escaped, not acted on
    assert "[red]here[/red]" in results[-2].out  # never read as rich markup
