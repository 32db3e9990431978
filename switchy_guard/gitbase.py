"""Migrations as they are in a git revision, for ``check --against GITREF`` in CI.

The migrations folder at that revision is exported with ``git archive`` into a temporary
folder and read by the ordinary directory source, so the base is read exactly as the
current tree is.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .discovery import DirectoryMigrations, load_migrations
from .errors import ConfigError
from .migration import Migration


def _git(args: list[str], cwd: Path, failure: str | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, check=False, timeout=120
        )
    except FileNotFoundError:
        raise ConfigError("--against needs git, which is not installed") from None
    if result.returncode != 0:
        if failure:
            raise ConfigError(failure)
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(
            f"git {' '.join(args[:2])} failed: {message[-1] if message else 'unknown error'}"
        )
    return result.stdout


def migrations_at_revision(
    migrations_dir: str | Path, revision: str, dialect: str | None, checksum_mode: str = "file"
) -> list[Migration]:
    """The migrations under ``migrations_dir`` as they are in ``revision``.

    A folder absent in that revision yields no migrations (everything is new).
    """
    folder = Path(migrations_dir).resolve()
    if not folder.is_dir():
        raise ConfigError(f"{migrations_dir}: migrations directory does not exist")
    top = Path(
        _git(
            ["rev-parse", "--show-toplevel"],
            folder,
            failure=f"{migrations_dir}: not inside a git repository (needed by --against)",
        )
        .decode()
        .strip()
    )
    _git(
        ["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        top,
        failure=f"unknown git revision {revision!r}",
    )
    relative = folder.relative_to(top.resolve()).as_posix()
    listed = _git(["ls-tree", "-d", "--name-only", revision, "--", relative], top)
    if not listed.strip():
        return []
    archive = _git(["archive", "--format=tar", revision, "--", relative], top)
    with tempfile.TemporaryDirectory(prefix="switchy-guard-base-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        base = Path(tmp) / relative
        return load_migrations(DirectoryMigrations(base, checksum_mode=checksum_mode), dialect)
