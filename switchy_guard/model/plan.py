"""Plans as plain data: the strategies a run is asked for (all, up to an id, a number of
steps), the migrations it would run in order, and what a run did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from switchy_guard.model.migration import Migration
    from switchy_guard.sql import Statement


Direction = Literal["up", "down"]


@dataclass(frozen=True)
class All:
    """Every pending migration (up) or every applied one (down)."""


@dataclass(frozen=True)
class UpTo:
    """Up: pending migrations up to and including ``id``. Down: those after ``id``."""

    id: str


@dataclass(frozen=True)
class Steps:
    """Up: the next ``n`` pending migrations. Down: the last ``n`` applied."""

    n: int


Strategy = All | UpTo | Steps


@dataclass(frozen=True)
class PlannedMigration:
    """One migration the plan runs, in one direction."""

    migration: Migration
    direction: Direction
    statements: tuple[Statement, ...]
    transactional: bool
    replaces_row: bool = False
    # SQLite: how many leading and trailing statements (``PRAGMA foreign_keys = ...``) run
    # before the transaction begins and after it commits (see outside_transaction).
    outside: tuple[int, int] = (0, 0)
    # Whether it may change a session setting the runner puts back afterwards (see
    # may_change_session).
    changes_session: bool = False

    @property
    def sql_path(self) -> str | None:
        """The file the statements come from, for error reports."""
        return self.migration.up_path if self.direction == "up" else self.migration.down_path


@dataclass(frozen=True)
class Plan:
    """What a run would do, in order."""

    direction: Direction
    dialect: str
    steps: tuple[PlannedMigration, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        """The migration ids, in run order."""
        return [step.migration.id for step in self.steps]


@dataclass
class RunResult:
    """What a run did."""

    plan: Plan
    dry_run: bool
    done: list[str] = field(default_factory=list)
    seconds: float = 0.0
