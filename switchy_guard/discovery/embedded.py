"""Migrations shipped inside an installed Python package (the application default)."""

from __future__ import annotations

import importlib.resources

from ..errors import InputError
from ..migration import Migration
from .directory import _checked_mode
from .layout import choose_tree, read_tree


class EmbeddedMigrations:
    """Migrations under ``subdir`` of ``package``, read through importlib.resources.

    Works from a source tree, an installed wheel or a zip, as long as the package ships
    the files as package data (``[tool.setuptools.package-data]`` or equivalent).
    """

    def __init__(
        self, package: str, subdir: str = "migrations", *, checksum_mode: str = "file"
    ) -> None:
        self.package = package
        self.subdir = subdir
        self.checksum_mode = _checked_mode(checksum_mode)

    def __repr__(self) -> str:
        return f"EmbeddedMigrations({self.package!r}, {self.subdir!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return f"{self.package}:{self.subdir}"

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Read the migrations for ``dialect``."""
        try:
            root = importlib.resources.files(self.package)
        except ModuleNotFoundError:
            raise InputError("package is not installed", path=self.package) from None
        for part in self.subdir.split("/"):
            if part:
                root = root / part
        if not root.is_dir():
            raise InputError("migrations folder not found in the package", path=self.label)
        tree, label = choose_tree(root, self.label, dialect)
        return read_tree(tree, label, checksum_mode=self.checksum_mode)
