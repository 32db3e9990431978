"""Migrations read from a folder on disk."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources.abc import Traversable
from pathlib import Path

from switchy_guard.discovery.layout import EntryCheck, choose_tree
from switchy_guard.errors import InputError
from switchy_guard.model.checksum import checked_mode
from switchy_guard.model.migration import Migration

_read_log: dict[str, str] | None = None


@contextmanager
def logged_reads() -> Iterator[dict[str, str]]:
    """The SHA-256 of every file a folder source reads meanwhile, by path.

    check's cache keys reports by file content: this lets it reuse the reads of the check
    itself instead of reading every file a second time.
    """
    global _read_log
    outer, _read_log = _read_log, {}
    try:
        yield _read_log
    finally:
        _read_log = outer


def reads_so_far() -> dict[str, str]:
    """What :func:`logged_reads` has recorded so far (empty outside one)."""
    return dict(_read_log or {})


def note_reads(digests: dict[str, str]) -> None:
    """Add reads made elsewhere (a forked worker) to the active log, if any."""
    if _read_log is not None:
        _read_log.update(digests)


@contextmanager
def _readable(path: str) -> Iterator[None]:
    """Turn a file system failure (a symlink loop, a permission, a file gone meanwhile)
    into one line naming the entry."""
    try:
        yield
    except OSError as exc:
        raise InputError(_os_problem(exc), path=path) from None


def _os_problem(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop (a symlink that leads back to itself)"
    return f"cannot read it: {exc.strerror or exc}"


class _DiskEntry:
    """The part of the Traversable interface the layout reader uses, over os.scandir.

    DirEntry caches the file type from the directory listing, so reading 10,000
    migration folders costs one listing each instead of a stat per question.
    """

    __slots__ = ("_entry", "_listing", "name", "path")

    def __init__(self, path: str, entry: os.DirEntry[str] | None = None) -> None:
        self.path = path
        self.name = entry.name if entry is not None else os.path.basename(path)
        self._entry = entry
        self._listing: list[_DiskEntry] | None = None

    def iterdir(self) -> Iterator[_DiskEntry]:
        # Listed once per entry object: one load asks the root several questions
        # (database folders? which migrations?), and 10,000 entries cost 13 ms a listing.
        if self._listing is None:
            with _readable(self.path), os.scandir(self.path) as entries:
                self._listing = [_DiskEntry(entry.path, entry) for entry in entries]
        return iter(self._listing)

    def is_dir(self) -> bool:
        with _readable(self.path):
            return self._entry.is_dir() if self._entry else os.path.isdir(self.path)

    def is_file(self) -> bool:
        with _readable(self.path):
            return self._entry.is_file() if self._entry else os.path.isfile(self.path)

    def is_symlink(self) -> bool:
        return self._entry.is_symlink() if self._entry else os.path.islink(self.path)

    def read_bytes(self) -> bytes:
        with _readable(self.path), open(self.path, "rb") as handle:
            data = handle.read()
        if _read_log is not None:
            _read_log[self.path] = hashlib.sha256(data).hexdigest()
        return data

    def __truediv__(self, name: str) -> _DiskEntry:
        return _DiskEntry(os.path.join(self.path, name))


class DirectoryMigrations:
    """Migrations in ``root`` (see :mod:`switchy_guard.discovery.layout` for the layout).

    Symlinks are followed only while they stay inside ``root``. ``layout`` is the
    history's layout (see :mod:`.layouts`; ``auto`` detects it: ``detected_layout``
    says which was read, after a load). A folder with nothing in it is refused unless
    ``allow_empty``.
    """

    def __init__(self, root: str | Path, *, checksum_mode: str = "file",
                 layout: str = "auto", allow_empty: bool = False) -> None:
        from switchy_guard.discovery.layouts import checked_layout

        self.root = Path(root)
        self.checksum_mode = checked_mode(checksum_mode)
        self.layout = checked_layout(layout)
        self.allow_empty = allow_empty
        self.detected_layout: str | None = None

    def __repr__(self) -> str:
        return f"DirectoryMigrations({str(self.root)!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return str(self.root)

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Read the migrations for ``dialect`` (None: a tree without database folders)."""
        from switchy_guard.discovery.layouts.detect import read_history

        tree, label, check = self.tree(dialect)
        migrations, self.detected_layout = read_history(
            tree, label, layout=self.layout, check=check, checksum_mode=self.checksum_mode,
            allow_empty=self.allow_empty)
        return migrations

    def tree(self, dialect: str | None) -> tuple[Traversable, str, EntryCheck]:
        """The folder holding ``dialect``'s migrations, its label, and the check every
        entry read under it must pass (symlinks stay inside the root)."""
        if not self.root.is_dir():
            problem = "is not a directory" if self.root.exists() else "does not exist"
            raise InputError(f"migrations directory {problem}", path=self.root)
        resolved_root = self.root.resolve()

        def stays_inside(entry: Traversable, label: str) -> None:
            if isinstance(entry, _DiskEntry) and entry.is_symlink():
                try:
                    target = Path(entry.path).resolve()
                except RuntimeError:  # Python before 3.13 on a loop
                    raise InputError(_os_problem(OSError(errno.ELOOP, "")), path=label) from None
                except OSError as exc:
                    raise InputError(_os_problem(exc), path=label) from None
                if not target.is_relative_to(resolved_root):
                    raise InputError(
                        f"symlink leaves the migrations root (points to {target})", path=label
                    )

        root: Traversable = _DiskEntry(str(self.root))  # type: ignore[assignment]
        tree, label = choose_tree(root, self.label, dialect)
        stays_inside(tree, label)
        return tree, label, stays_inside
