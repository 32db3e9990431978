"""The Migration model and the ``metadata.toml`` schema."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


from switchy_guard.errors import InputError

#: A Python migration step: receives a SQLAlchemy Connection.
MigrationCallable = Callable[["Connection"], Any]
#: A migration step is SQL text or a Python callable.
Step = str | MigrationCallable

#: Dialect names as switchy-guard spells them (also the per-database folder names).
DIALECTS = ("sqlite", "postgres", "mysql")


@dataclass(frozen=True)
class Allow:
    """A rule the migration's author accepted, with the reason why."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Backfill:
    """``backfill = { batch_size = N, pause_ms = M }``: the up's one UPDATE or DELETE runs
    in batches of ``batch_size`` primary keys, each in its own transaction, ``pause_ms``
    apart (see :mod:`switchy_guard.runtime.backfill`)."""

    batch_size: int
    pause_ms: int = 0


@dataclass(frozen=True)
class Metadata:
    """The validated content of a migration's ``metadata.toml``."""

    description: str | None = None
    depends_on: tuple[str, ...] = ()
    transactional: bool = True
    allow: tuple[Allow, ...] = ()
    dialects: tuple[str, ...] | None = None
    #: ``down = "noop"``: rolling back is a deliberate no-op (an empty or absent down).
    noop_down: bool = False
    #: ``backfill = {...}``: the up runs in batches (None: as one migration).
    backfill: Backfill | None = None


#: Why a migration cannot be rolled back: it has no down script, or its down script holds
#: no statement while its up changes the schema (a rollback would undo nothing).
Irreversible = Literal["missing", "empty"]


@dataclass(frozen=True)
class Migration:
    """One migration, whatever source it came from.

    ``up``/``down`` are SQL text or callables; ``down`` is ``None`` when the migration
    has no down script (it is then irreversible). A down script with no statement (empty,
    whitespace or comments only) is a no-op when the up changes no schema, or when the
    author declared it one (``noop_down``, or a ``-- switchy-guard: noop-down -- reason``
    line in it); otherwise it is irreversible too (see :attr:`irreversible`). ``source``
    names where it came from (a path or a package resource).
    """

    id: str
    up: Step | None
    down: Step | None
    up_checksum: str
    down_checksum: str
    description: str | None = None
    depends_on: tuple[str, ...] = ()
    dialects: tuple[str, ...] | None = None
    transactional: bool = True
    allow: tuple[Allow, ...] = ()
    source: str = ""
    up_path: str | None = None
    down_path: str | None = None
    #: The run order of a layout whose ids do not sort as strings (golang-migrate's
    #: numbers, Flyway's dotted versions): compared before the id. None: the id alone.
    order_key: tuple[Any, ...] | None = None
    #: A Flyway repeatable migration: run again whenever its up script changes.
    repeatable: bool = False
    #: ``down = "noop"`` in metadata.toml: an empty or absent down is a deliberate no-op.
    noop_down: bool = False
    #: ``backfill`` in metadata.toml: the up runs in batches by primary key.
    backfill: Backfill | None = None

    def __post_init__(self) -> None:
        for step, path in ((self.up, self.up_path), (self.down, self.down_path)):
            if isinstance(step, str) and "\0" in step:
                refuse_nul(step, path or self.source or self.id)
        if self.backfill is not None:
            from switchy_guard.sql.backfill import (
                check_backfill,  # paid only by a backfill migration
            )

            check_backfill(self)

    @property
    def reversible(self) -> bool:
        """True when a rollback undoes the migration (see :attr:`irreversible`)."""
        return self.irreversible is None

    @functools.cached_property
    def irreversible(self) -> Irreversible | None:
        """``"missing"``: no down script; ``"empty"``: a down script without statements
        for an up that changes the schema (the rollback would leave what it made), not
        declared a no-op; None: reversible. Cached: the up is parsed only for an empty
        down."""
        if self.noop_down:
            return None
        if self.down is None:
            return "missing"
        if not isinstance(self.down, str):
            return None
        from switchy_guard.sql.objects import changes_schema, is_empty_script, noop_down_comment

        if not is_empty_script(self.down):
            return None
        declared = noop_down_comment(self.down)
        if declared is not None and declared[1]:
            return None
        if isinstance(self.up, str) and not changes_schema(self.up, self.parse_dialect):
            return None
        return "empty"  # a Python up may change anything: an empty down undoes nothing

    @property
    def parse_dialect(self) -> str | None:
        """The dialect to read the scripts as without a database: the migration's only
        one, else the generic reading."""
        return self.dialects[0] if self.dialects and len(self.dialects) == 1 else None

    def applies_to(self, dialect: str | None) -> bool:
        """Whether the migration runs on ``dialect`` (all dialects when unrestricted)."""
        return self.dialects is None or dialect is None or dialect in self.dialects


def refuse_nul(sql: str, path: str) -> None:
    """Refuse SQL text holding a NUL character, naming its line: PostgreSQL refuses NUL
    in a query, and a NUL can hide the text after it from the checks (a driver or a
    server may end the statement there)."""
    at = sql.index("\0")
    line = sql.count("\n", 0, at) + 1
    column = at - (sql.rfind("\n", 0, at) + 1) + 1
    raise InputError(f"a NUL character (\\0) at column {column}: SQL may not hold one; "
                     "remove it", path=f"{path}:{line}")


_METADATA_KEYS = {"description", "depends_on", "transactional", "allow", "dialects",
                  "run_in_transaction", "down", "backfill"}


def parse_metadata(text: str, path: str) -> Metadata:
    """Parse and validate ``metadata.toml`` text; every problem is an InputError."""
    import tomllib  # most migrations have no metadata.toml: not paid at start-up

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", path=path) from None
    except RecursionError:  # tomllib recurses once per level of [[[...]]] or {a={...}}
        raise InputError("invalid TOML: nested too deeply", path=path) from None
    unknown = sorted(set(data) - _METADATA_KEYS)
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_METADATA_KEYS))})",
            path=path,
        )
    description = data.get("description")
    if description is not None and not isinstance(description, str):
        raise InputError("'description' must be a string", path=path)
    # Diesel's metadata.toml (the same folder layout) says run_in_transaction.
    key = "run_in_transaction" if "run_in_transaction" in data else "transactional"
    transactional = data.get(key, True)
    if not isinstance(transactional, bool):
        raise InputError(f"'{key}' must be true or false", path=path)
    if data.get("transactional", transactional) != transactional:
        raise InputError("'transactional' and Diesel's 'run_in_transaction' disagree",
                         path=path)
    depends_on = _string_list(data, "depends_on", path) or ()
    dialects = _string_list(data, "dialects", path)
    if dialects == ():  # would make the migration run nowhere, silently
        raise InputError("'dialects' is empty: name at least one database "
                         f"({', '.join(DIALECTS)}), or leave the key out for all", path=path)
    if dialects is not None:
        for name in dialects:
            if name not in DIALECTS:
                raise InputError(
                    f"unknown dialect {name!r} in 'dialects' (known: {', '.join(DIALECTS)})",
                    path=path,
                )
    down = data.get("down")
    if down is not None and down != "noop":
        raise InputError("'down' must be \"noop\" (rolling back is a deliberate no-op), "
                         "or left out", path=path)
    return Metadata(
        noop_down=down == "noop",
        description=description,
        depends_on=depends_on,
        transactional=transactional,
        allow=_allow_list(data.get("allow"), path),
        dialects=dialects,
        backfill=_backfill(data.get("backfill"), path),
    )


def _backfill(value: Any, path: str) -> Backfill | None:
    """``backfill = { batch_size = N, pause_ms = M }``: N a whole number above 0, M one
    of 0 or more (default 0), no other key."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError("'backfill' must be a table: backfill = { batch_size = 5000, "
                         "pause_ms = 100 }", path=path)
    unknown = sorted(set(value) - {"batch_size", "pause_ms"})
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} in 'backfill' (allowed: batch_size, "
                         "pause_ms)", path=path)
    size, pause = value.get("batch_size"), value.get("pause_ms", 0)
    # (bool is an int in Python: true is no batch size.)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise InputError("'backfill' needs batch_size, a whole number of rows above 0 "
                         f"(got {size!r})", path=path)
    if not isinstance(pause, int) or isinstance(pause, bool) or pause < 0:
        raise InputError("'backfill' pause_ms must be a whole number of milliseconds, 0 "
                         f"or more (got {pause!r})", path=path)
    return Backfill(size, pause)


def _string_list(data: dict[str, Any], key: str, path: str) -> tuple[str, ...] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise InputError(f"'{key}' must be a list of non-empty strings", path=path)
    return tuple(value)


def _allow_list(value: Any, path: str) -> tuple[Allow, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InputError("'allow' must be a list of { rule = ..., reason = ... } tables", path=path)
    entries = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"rule", "reason"}:
            raise InputError(
                "each 'allow' entry must be a table with only 'rule' and 'reason'", path=path
            )
        rule, reason = item.get("rule"), item.get("reason")
        if not isinstance(rule, str) or not rule.strip():
            raise InputError("an 'allow' entry needs a non-empty 'rule'", path=path)
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(f"allow of {rule!r} needs a non-empty 'reason'", path=path)
        entries.append(Allow(rule=rule.strip(), reason=reason.strip()))
    return tuple(entries)
