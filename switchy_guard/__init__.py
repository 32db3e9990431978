"""switchy-guard: validate, plan, gate and run schema migrations safely.

The public API is re-exported here and imported lazily, so the command line starts fast.

>>> from switchy_guard import Migrator
>>> Migrator("migrations", "sqlite:///app.db").migrate()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Migrator": "runner",
    "Hooks": "runner",
    "Plan": "runner",
    "PlannedMigration": "runner",
    "RunResult": "runner",
    "All": "runner",
    "UpTo": "runner",
    "Steps": "runner",
    "MigrationState": "state",
    "MigrationStatus": "state",
    "Migration": "migration",
    "Allow": "migration",
    "DirectoryMigrations": "discovery",
    "EmbeddedMigrations": "discovery",
    "CodeMigrations": "discovery",
    "MigrationSource": "discovery",
    "load_migrations": "discovery",
    "TrackingTable": "tracking",
    "TrackingRow": "tracking",
    "Finding": "findings",
    "Severity": "findings",
    "SwitchyError": "errors",
    "InputError": "errors",
    "ConfigError": "errors",
    "BadMigrationId": "errors",
    "DatabaseUnavailable": "errors",
    "LockTimeout": "errors",
    "Refused": "errors",
    "MigrationFailed": "errors",
    "file_checksum": "checksum",
    "exec_raw_checksum": "checksum",
    "callable_checksum": "checksum",
    "mask_url": "db",
    "gated_run": "gated",
    "GateOptions": "gated",
    "Policy": "policy",
    "PolicyChoice": "policy",
    "load_policies": "policy",
    "Verdict": "gate",
    "lock_status": "lockstatus",
}

__all__ = [
    "All",
    "Allow",
    "BadMigrationId",
    "CodeMigrations",
    "ConfigError",
    "DatabaseUnavailable",
    "DirectoryMigrations",
    "EmbeddedMigrations",
    "Finding",
    "GateOptions",
    "Hooks",
    "InputError",
    "LockTimeout",
    "Migration",
    "MigrationFailed",
    "MigrationSource",
    "MigrationState",
    "MigrationStatus",
    "Migrator",
    "Plan",
    "PlannedMigration",
    "Policy",
    "PolicyChoice",
    "Refused",
    "RunResult",
    "Severity",
    "Steps",
    "SwitchyError",
    "TrackingRow",
    "TrackingTable",
    "UpTo",
    "Verdict",
    "__version__",
    "callable_checksum",
    "exec_raw_checksum",
    "file_checksum",
    "gated_run",
    "load_migrations",
    "load_policies",
    "lock_status",
    "mask_url",
]

if TYPE_CHECKING:
    from .checksum import callable_checksum, exec_raw_checksum, file_checksum
    from .db import mask_url
    from .discovery import (
        CodeMigrations,
        DirectoryMigrations,
        EmbeddedMigrations,
        MigrationSource,
        load_migrations,
    )
    from .errors import (
        BadMigrationId,
        ConfigError,
        DatabaseUnavailable,
        InputError,
        LockTimeout,
        MigrationFailed,
        Refused,
        SwitchyError,
    )
    from .findings import Finding, Severity
    from .gate import Verdict
    from .gated import GateOptions, gated_run
    from .lockstatus import lock_status
    from .migration import Allow, Migration
    from .policy import Policy, PolicyChoice, load_policies
    from .runner import All, Hooks, Migrator, Plan, PlannedMigration, RunResult, Steps, UpTo
    from .state import MigrationState, MigrationStatus
    from .tracking import TrackingRow, TrackingTable


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'switchy_guard' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
