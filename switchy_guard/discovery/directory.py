"""Migrations read from a folder on disk."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from ..errors import InputError
from ..migration import Migration
from .layout import choose_tree, read_tree


class DirectoryMigrations:
    """Migrations in ``root`` (see :mod:`switchy_guard.discovery.layout` for the layout).

    Symlinks are followed only while they stay inside ``root``.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"DirectoryMigrations({str(self.root)!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return str(self.root)

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Read the migrations for ``dialect`` (None: a tree without database folders)."""
        if not self.root.is_dir():
            problem = "is not a directory" if self.root.exists() else "does not exist"
            raise InputError(f"migrations directory {problem}", path=self.root)
        resolved_root = self.root.resolve()

        def stays_inside(entry: Traversable, label: str) -> None:
            if isinstance(entry, Path) and entry.is_symlink():
                target = entry.resolve()
                if not target.is_relative_to(resolved_root):
                    raise InputError(
                        f"symlink leaves the migrations root (points to {target})", path=label
                    )

        tree, label = choose_tree(self.root, self.label, dialect)
        stays_inside(tree, label)
        return read_tree(tree, label, check=stays_inside)
