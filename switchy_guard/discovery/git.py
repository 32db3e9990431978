"""Migrations as they are in a git revision, for ``check --against GITREF`` in CI.

The migrations folder at that revision is exported with ``git archive`` into a temporary
folder and read by the ordinary directory source, so the base is read exactly as the
current tree is. Files ``git archive`` leaves out (``export-ignore`` in ``.gitattributes``)
are read one by one with ``git cat-file --filters``. A folder absent in the revision that
git's rename detection says was moved since is read from where it was.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

from switchy_guard.discovery import DirectoryMigrations, load_migrations
from switchy_guard.errors import ConfigError
from switchy_guard.model.migration import Migration


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
    migrations_dir: str | Path, revision: str, dialect: str | None, checksum_mode: str = "file",
    *, layout: str = "auto",
) -> list[Migration]:
    """The migrations under ``migrations_dir`` as they are in ``revision`` (read in
    ``layout``, the one the current tree was read in).

    A folder absent in that revision, and not moved since, yields no migrations
    (everything is new).
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
    commit = _git(
        ["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        top,
        failure=f"unknown git revision {revision!r}",
    ).decode().strip()
    relative = folder.relative_to(top.resolve()).as_posix()
    files = _files_at(commit, relative, top)
    if not files:
        moved_from = _moved_from(commit, relative, top)
        if moved_from is None:
            return []
        relative, files = moved_from, _files_at(commit, moved_from, top)
    # The tree, not the commit: a commit's tar starts with a header naming it, which
    # tarfile refuses when nothing follows (every file export-ignored).
    archive = _git(["archive", "--format=tar", f"{commit}^{{tree}}", "--", relative], top)
    with tempfile.TemporaryDirectory(prefix="switchy-guard-base-") as tmp:
        if archive.strip(b"\0"):  # all zeros: an empty tar, which tarfile refuses too
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
        for path in files:
            target = Path(tmp) / path
            if not target.exists():  # export-ignore: git archive left it out
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_git(["cat-file", "--filters", f"{commit}:{path}"], top))
        base = Path(tmp) / relative
        return load_migrations(DirectoryMigrations(base, checksum_mode=checksum_mode,
                                                   layout=layout, allow_empty=True), dialect)


def _files_at(commit: str, relative: str, top: Path) -> list[str]:
    """The regular files under ``relative`` in ``commit``, as paths from ``top``."""
    listed = _git(["ls-tree", "-r", "-z", commit, "--", relative], top)
    files = []
    for entry in listed.split(b"\0"):
        meta, _, path = entry.partition(b"\t")
        if meta.startswith((b"100644 blob", b"100755 blob")):
            files.append(path.decode("utf-8", "surrogateescape"))
    return files


def _moved_from(commit: str, relative: str, top: Path) -> str | None:
    """Where the folder ``relative`` was in ``commit``, when git sees it moved since."""
    prefix = f"{relative}/"
    changes = _git(["diff", "-z", "--name-status", "--find-renames", commit, "--"], top)
    fields = changes.decode("utf-8", "surrogateescape").split("\0")
    origins: Counter[str] = Counter()
    position = 0
    while position < len(fields) and fields[position]:
        status = fields[position]
        if status.startswith(("R", "C")):
            old, new = fields[position + 1], fields[position + 2]
            position += 3
            inner = new[len(prefix):]
            if new.startswith(prefix) and old.endswith(f"/{inner}"):
                origins[old[: -len(inner) - 1]] += 1
        else:
            position += 2
    if not origins:
        return None
    return min(origins, key=lambda old: (-origins[old], old))
