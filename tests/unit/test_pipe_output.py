"""Output whose reader leaves early: the work still finishes, with no traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from switchy_guard.cli.pipe_output import ReaderSafeOutput
from tests.cli_helpers import write_migration


def test_a_migrate_piped_into_head_still_applies_everything(tmp_path: Path) -> None:
    root = tmp_path / "m"
    count = 400  # far more progress than a pipe buffer holds
    for number in range(count):
        write_migration(root, f"2024-01-01-{number:06d}_create_a_table_with_a_long_name",
                        f"CREATE TABLE t{number} (id INTEGER PRIMARY KEY);\n",
                        f"DROP TABLE t{number};\n")
    url = f"sqlite:///{tmp_path / 'app.db'}"
    command = [sys.executable, "-m", "switchy_guard"]
    process = subprocess.Popen([*command, "migrate", "-m", str(root), "-d", url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith("applied ")
    process.stdout.close()  # as `| head -1` does
    error = process.stderr.read()
    assert process.wait(timeout=120) == 0, error
    assert "Traceback" not in error and "BrokenPipeError" not in error
    status = subprocess.run([*command, "status", "-m", str(root), "-d", url, "--format", "json"],
                            capture_output=True, text=True, check=True)
    assert json.loads(status.stdout)["summary"]["completed"] == count


class _ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


def test_output_is_dropped_once_the_reader_has_gone() -> None:
    out = ReaderSafeOutput(_ClosedPipe())
    assert out.write("first\n") == len("first\n")
    assert out.reader_gone
    out.write("second\n")
    out.flush()
    live = io.StringIO()
    passing = ReaderSafeOutput(live)
    passing.write("kept\n")
    passing.flush()
    assert live.getvalue() == "kept\n" and not passing.reader_gone
    assert passing.getvalue() == "kept\n"  # everything else is the stream's own
