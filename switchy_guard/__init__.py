"""switchy-guard: validate, plan, gate and run schema migrations safely.

The public API is re-exported here and imported lazily, so the command line starts fast.

>>> from switchy_guard import Migrator
>>> Migrator("migrations", "sqlite:///app.db").migrate()  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from switchy_guard.version import __version__

_EXPORTS = {
    "Migrator": "runtime.runner",
    "Hooks": "runtime.runner",
    "Plan": "model.plan",
    "PlannedMigration": "model.plan",
    "RunResult": "model.plan",
    "All": "model.plan",
    "UpTo": "model.plan",
    "Steps": "model.plan",
    "MigrationState": "model.state",
    "MigrationStatus": "model.state",
    "Migration": "model.migration",
    "Allow": "model.migration",
    "DirectoryMigrations": "discovery",
    "EmbeddedMigrations": "discovery",
    "CodeMigrations": "discovery",
    "MigrationSource": "discovery",
    "load_migrations": "discovery",
    "TrackingTable": "runtime.tracking",
    "TrackingRow": "runtime.tracking",
    "Finding": "model.findings",
    "Severity": "model.findings",
    "SwitchyError": "errors",
    "InputError": "errors",
    "ConfigError": "errors",
    "BadMigrationId": "errors",
    "DatabaseUnavailable": "errors",
    "LockTimeout": "errors",
    "Refused": "errors",
    "MigrationFailed": "errors",
    "file_checksum": "model.checksum",
    "exec_raw_checksum": "model.checksum",
    "callable_checksum": "model.checksum",
    "mask_url": "runtime.db",
    "gated_run": "gates.run",
    "GateOptions": "gates.run",
    "Policy": "gates.policy",
    "PolicyChoice": "gates.policy",
    "load_policies": "gates.policy",
    "Verdict": "model.verdict",
    "lock_status": "runtime.lockstatus",
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
    from switchy_guard.discovery import (
        CodeMigrations,
        DirectoryMigrations,
        EmbeddedMigrations,
        MigrationSource,
        load_migrations,
    )
    from switchy_guard.errors import (
        BadMigrationId,
        ConfigError,
        DatabaseUnavailable,
        InputError,
        LockTimeout,
        MigrationFailed,
        Refused,
        SwitchyError,
    )
    from switchy_guard.gates.policy import Policy, PolicyChoice, load_policies
    from switchy_guard.gates.run import GateOptions, gated_run
    from switchy_guard.model.checksum import callable_checksum, exec_raw_checksum, file_checksum
    from switchy_guard.model.findings import Finding, Severity
    from switchy_guard.model.migration import Allow, Migration
    from switchy_guard.model.plan import All, Plan, PlannedMigration, RunResult, Steps, UpTo
    from switchy_guard.model.state import MigrationState, MigrationStatus
    from switchy_guard.model.verdict import Verdict
    from switchy_guard.runtime.db import mask_url
    from switchy_guard.runtime.lockstatus import lock_status
    from switchy_guard.runtime.runner import Hooks, Migrator
    from switchy_guard.runtime.tracking import TrackingRow, TrackingTable


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'switchy_guard' has no attribute {name!r}")
    return getattr(importlib.import_module(f"switchy_guard.{module}"), name)
