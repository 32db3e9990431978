"""Migrations shipped inside an installed Python package (the application default)."""

from __future__ import annotations

import importlib.resources

from switchy_guard.discovery.layout import choose_tree
from switchy_guard.errors import InputError
from switchy_guard.model.checksum import checked_mode
from switchy_guard.model.migration import Migration


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
        self.checksum_mode = checked_mode(checksum_mode)
        self.detected_layout: str | None = None

    def __repr__(self) -> str:
        return f"EmbeddedMigrations({self.package!r}, {self.subdir!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return f"{self.package}:{self.subdir}"

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Read the migrations for ``dialect``."""
        try:
            module = importlib.import_module(self.package)
        except ModuleNotFoundError as error:
            missing = error.name or self.package
            if self.package == missing or self.package.startswith(missing + "."):
                raise InputError("package is not installed", path=self.package) from None
            # The package is there but imports something that is not.
            raise InputError(f"cannot import the package: {error}", path=self.package) from None
        except Exception as error:  # the package's own code failed while importing
            raise InputError(
                f"cannot import the package: {type(error).__name__}: {error}", path=self.package
            ) from None
        if getattr(module, "__path__", None) is None:
            raise InputError(
                "is a module, not a package (migrations ship inside a package)", path=self.package
            )
        root = importlib.resources.files(module)
        for part in self.subdir.split("/"):
            if part:
                root = root / part
        if not root.is_dir():
            raise InputError("migrations folder not found in the package", path=self.label)
        from switchy_guard.discovery.layouts.detect import read_history

        tree, label = choose_tree(root, self.label, dialect)
        migrations, self.detected_layout = read_history(
            tree, label, checksum_mode=self.checksum_mode, allow_empty=True)
        return migrations
