"""Running the command line in-process, as a user would type it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from switchy_guard.cli.main import main


@dataclass
class Result:
    """Exit code and captured output of one command."""

    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """Non-empty lines written to stderr."""
        return [line for line in self.err.splitlines() if line.strip()]


def run_cli(*args: str | Path) -> Result:
    """Run ``switchy-guard ARGS`` and capture what it prints."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in args], out=out, err=err)
    return Result(code, out.getvalue(), err.getvalue())


def write_migration(
    root: Path,
    migration_id: str,
    up: str | bytes = "SELECT 1;\n",
    down: str | None = None,
    metadata: str | None = None,
) -> Path:
    """Create ``root/migration_id`` with the given files."""
    folder = root / migration_id
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(up, bytes):
        (folder / "up.sql").write_bytes(up)
    else:
        (folder / "up.sql").write_text(up, encoding="utf-8")
    if down is not None:
        (folder / "down.sql").write_text(down, encoding="utf-8")
    if metadata is not None:
        (folder / "metadata.toml").write_text(metadata, encoding="utf-8")
    return folder


def run_without_sqlalchemy(*args: str | Path) -> str:
    """Run ``switchy-guard ARGS`` in a fresh interpreter, assert that SQLAlchemy was never
    imported, and return what it printed on stdout."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from switchy_guard.cli.main import main\n"
        f"main({[str(a) for a in args]!r})\n"
        "assert not any(m.startswith('sqlalchemy') for m in sys.modules), 'sqlalchemy loaded'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout
