"""Migration sources. Each has ``label`` and ``load(dialect) -> list[Migration]``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from switchy_guard.discovery.code import CodeMigrations
from switchy_guard.discovery.directory import DirectoryMigrations
from switchy_guard.discovery.embedded import EmbeddedMigrations
from switchy_guard.model.migration import Migration
from switchy_guard.model.ordering import order_migrations


@runtime_checkable
class MigrationSource(Protocol):
    """Anything that yields migrations for a dialect."""

    @property
    def label(self) -> str:
        """How reports name the source."""
        ...

    def load(self, dialect: str | None = None) -> list[Migration]:
        """The source's migrations for ``dialect``."""
        ...


class CombinedMigrations:
    """Several sources read as one (ids must stay unique across them)."""

    def __init__(self, sources: list[MigrationSource]) -> None:
        self.sources = sources

    def __repr__(self) -> str:
        return f"CombinedMigrations({self.sources!r})"

    @property
    def label(self) -> str:
        """How reports name this source."""
        return ", ".join(source.label for source in self.sources)

    def load(self, dialect: str | None = None) -> list[Migration]:
        """Every source's migrations, concatenated."""
        return [m for source in self.sources for m in source.load(dialect)]


SourceSpec = MigrationSource | str | Path | Sequence[MigrationSource | str | Path]


def as_source(source: SourceSpec, *, checksum_mode: str = "file", layout: str = "auto",
              allow_empty: bool = False) -> MigrationSource:
    """A source object; a path or ``package:subdir`` text is turned into one.

    A list of those is read as one combined source. An ``http(s)://`` URL names a remote
    index (see :mod:`.remote`; build a RemoteMigrations yourself for its options);
    ``pkg:migrations`` (a colon, no slash before it, not an existing path) names an
    embedded source; anything else is a directory. ``checksum_mode`` (``file`` or
    ``exec-raw``) applies to the sources made from text; a source object keeps its own;
    so do ``layout`` and ``allow_empty`` (see DirectoryMigrations) for folders.
    """
    if isinstance(source, MigrationSource):
        return source
    if not isinstance(source, str | Path):
        sources = [as_source(item, checksum_mode=checksum_mode, layout=layout,
                             allow_empty=allow_empty) for item in source]
        return sources[0] if len(sources) == 1 else CombinedMigrations(sources)
    text = str(source)
    if text.startswith(("http://", "https://")):
        from switchy_guard.discovery.remote import RemoteMigrations

        return RemoteMigrations(text, checksum_mode=checksum_mode)
    package, colon, subdir = text.partition(":")
    if colon and package and "/" not in package and len(package) > 1 and not Path(text).exists():
        return EmbeddedMigrations(package, subdir or "migrations", checksum_mode=checksum_mode)
    return DirectoryMigrations(text, checksum_mode=checksum_mode, layout=layout,
                               allow_empty=allow_empty)


def layout_of(source: object) -> str | None:
    """The layout a folder source read (after a load), or None for other sources."""
    if isinstance(source, CombinedMigrations):
        found = {layout_of(item) for item in source.sources} - {None}
        return found.pop() if len(found) == 1 else None
    layout = getattr(source, "detected_layout", None)
    return layout if isinstance(layout, str) else None


def load_migrations(source: SourceSpec, dialect: str | None) -> list[Migration]:
    """Load, filter by dialect, check and order the migrations of ``source``."""
    loaded = as_source(source).load(dialect)
    return order_migrations([m for m in loaded if m.applies_to(dialect)], all_known=loaded)


__all__ = [
    "CodeMigrations",
    "CombinedMigrations",
    "DirectoryMigrations",
    "EmbeddedMigrations",
    "MigrationSource",
    "as_source",
    "layout_of",
    "load_migrations",
]
