"""No password on stdout or stderr, whatever the command line got wrong (SECURITY.md,
"Secrets"): usage errors echoed the arguments argparse could not place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli, write_migration

SECRET = "Pr0beSecret"
URL = f"postgresql://probe:{SECRET}@127.0.0.1:1/db"
_HOSTILE_URLS = [
    URL,
    f"postgresql://probe:a#{SECRET}@127.0.0.1:1/db",
    f"postgresql://probe:it's\"{SECRET}@127.0.0.1:1/db",
    f"postgresql://probe:a b{SECRET}@127.0.0.1:1/db",
    f"postgresql://probe:p@{SECRET}@127.0.0.1:1/db",
    f"postgresql://probe@127.0.0.1:1/db?pass%77ord={SECRET}",
    f"postgresql://probe@127.0.0.1:1/db?sslmode=disable&sslpassword={SECRET}",
    f"host=127.0.0.1 port=1 password='a {SECRET}'",
]

# A typo in a flag, a forgotten -d, a URL where the verb goes, a URL after the verb.
_MISTAKES = [
    ["--databse-url", URL, "status"],
    ["--databse-url=" + URL, "status"],
    ["status", URL],
    [URL],
    ["migrate", URL],
    ["rollback", "--steps", "x", "-d", URL],
    ["status", "-d", URL, "--verbose", URL],
]


@pytest.mark.parametrize("argv", _MISTAKES, ids=lambda a: " ".join(a)[:40])
@pytest.mark.parametrize("extra", [[], ["--debug"], ["--format", "json"],
                                   ["--debug", "--format", "json"]], ids=str)
def test_usage_errors_never_print_the_password(argv: list[str], extra: list[str]) -> None:
    result = run_cli(*argv, *extra)
    assert result.code == 2, result
    assert SECRET not in result.out + result.err, result
    assert result.err.startswith("error: "), result
    assert "probe" not in result.err or "probe:***@" in result.err, result


@pytest.mark.parametrize("url", _HOSTILE_URLS, ids=range(len(_HOSTILE_URLS)))
@pytest.mark.parametrize("extra", [[], ["--debug"], ["--format", "json"]], ids=str)
def test_hostile_passwords_never_printed(tmp_path: Path, url: str, extra: list[str]) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    for argv in (["status", "-m", root, "-d", url], ["migrate", "-m", root, "-d", url],
                 ["status", url], ["--databse-url", url, "status"], [url]):
        result = run_cli(*argv, *extra)
        assert result.code in (2, 3), result
        assert SECRET not in result.out + result.err, (argv, result)


def test_the_real_process_masks_usage_errors_and_tracebacks(tmp_path: Path) -> None:
    """The entry point as a user runs it (sys.argv, real streams), with --debug."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    for argv in (["--databse-url", URL, "status"], [URL], ["migrate", URL],
                 ["--debug", "status", "-m", str(tmp_path), "-d", f"{URL}?connect_timeout=x"],
                 ["--debug", "status", "-m", str(tmp_path), "-d",
                  f"postgresql://probe:a b{SECRET}@127.0.0.1:1/db"]):
        done = subprocess.run([sys.executable, "-m", "switchy_guard", *argv],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode in (2, 3), done
        assert SECRET not in done.stdout + done.stderr, done


def test_a_password_from_the_environment_is_masked_wherever_it_appears(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run knows the password in PGPASSWORD (and those of the URLs it was given), so
    a text holding it without a URL around it (here: a failure reason given by hand) is
    masked too, in what is stored and in what is printed."""
    monkeypatch.setenv("PGPASSWORD", SECRET)
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    assert run_cli("migrate", "-m", root, "-d", f"sqlite:///{tmp_path}/x.db").code == 0
    result = run_cli("mark-failed", "2024-01-01-000000_a", "--force", "-m", root,
                     "-d", f"sqlite:///{tmp_path}/x.db", "--reason", f"it was {SECRET} again")
    assert result.code == 0, result
    status = run_cli("status", "-m", root, "-d", f"sqlite:///{tmp_path}/x.db", "--format",
                     "json")
    assert SECRET not in status.out + status.err and "it was *** again" in status.out
    monkeypatch.delenv("PGPASSWORD")
    stored = run_cli("status", "-m", root, "-d", f"sqlite:///{tmp_path}/x.db", "--format",
                     "json")
    assert "it was *** again" in stored.out  # masked before it was written
