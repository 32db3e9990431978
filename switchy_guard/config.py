"""Settings: command-line flag, then environment, then config file, then default.

The config file is ``--config FILE``, else ``[tool.switchy-guard]`` in ``pyproject.toml``,
else ``switchy-guard.toml`` (top-level keys), both in the current directory. A ``--config``
file with a ``[tool.switchy-guard]`` table (a ``pyproject.toml`` elsewhere) is read from
that table, otherwise from its top-level keys. Keys:

| key | type | meaning |
|---|---|---|
| database_url | string | as ``-d`` |
| migrations_dir | string or list of strings | as ``-m`` (a folder, or ``package:subdir``) |
| migration_table | string | as ``--migration-table`` |
| dialect | string | as ``--dialect`` |
| env | string | as ``--env`` |
| policy_dir | string | as ``--policy-dir``, relative to the config file's folder |
| lock_timeout | number | seconds to wait for the migration lock |
| checksum_mode | string | as ``--checksum-mode``: ``file`` (default) or ``exec-raw`` |
| offline | boolean | as ``--offline``: remote sources use their cache only |
| layout | string | as ``--layout``: the history's layout (default ``auto``) |
| allow_empty | boolean | as ``--allow-empty``: an empty migrations folder is no error |
| remote_token | string | bearer token of a remote source (better: ``SWITCHY_REMOTE_TOKEN``) |
| remote_username, remote_password | string | basic auth of a remote source (better: env) |
| remote_index_sha256 | string | pin the remote index to this SHA-256 |
| remote_allow_redirect_hosts | list of strings | hosts a remote source may redirect to |
| remote_cache_dir | string | where remote indexes and scripts are cached |
| remote_timeout | number | seconds per remote request (default 10) |
| remote_deadline | number | seconds one remote fetch may take, retries included (default 30) |
| session_init | string, list or dialect table | SQL run on every connection (see session_init.py) |
| statement_lock_timeout | number | seconds a migration's statement waits for a lock (retry.py) |
| statement_timeout | number | seconds a migration's statement may run |
| lock_retries | integer | retries of a migration (statement) that gave up on a lock |
| server_version | string | as ``--server-version``: ``15``, ``mariadb-10.4`` (server_version.py) |
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchy_guard.errors import ConfigError
from switchy_guard.model.checksum import checked_mode
from switchy_guard.model.migration import DIALECTS
from switchy_guard.model.records import DEFAULT_TABLE

_KEYS: dict[str, type | tuple[type, ...]] = {
    "database_url": str,
    "migrations_dir": (str, list),
    "migration_table": str,
    "dialect": str,
    "env": str,
    "policy_dir": str,
    "lock_timeout": (int, float),
    "checksum_mode": str,
    "offline": bool,
    "layout": str,
    "allow_empty": bool,
    "remote_token": str,
    "remote_username": str,
    "remote_password": str,
    "remote_index_sha256": str,
    "remote_allow_redirect_hosts": list,
    "remote_cache_dir": str,
    "remote_timeout": (int, float),
    "remote_deadline": (int, float),
    "session_init": (str, list, dict),
    "statement_lock_timeout": (int, float),
    "statement_timeout": (int, float),
    "lock_retries": int,
    "server_version": str,
}

_KINDS = {
    "lock_timeout": "a number",
    "remote_timeout": "a number",
    "remote_deadline": "a number",
    "migrations_dir": "a string or a list of strings",
    "remote_allow_redirect_hosts": "a list of strings",
    "offline": "true or false",
    "allow_empty": "true or false",
    "statement_lock_timeout": "a number",
    "statement_timeout": "a number",
    "lock_retries": "a whole number",
    "server_version": "a string such as '15', '10.6' or 'mariadb-10.4'",
}

_ENVIRONMENT = {
    "database_url": ("SWITCHY_DATABASE_URL", "DATABASE_URL"),
    "migrations_dir": ("SWITCHY_MIGRATIONS_DIR",),
    "migration_table": ("SWITCHY_MIGRATION_TABLE",),
    "env": ("SWITCHY_ENV",),
    "policy_dir": ("SWITCHY_POLICY_DIR",),
    "checksum_mode": ("SWITCHY_CHECKSUM_MODE",),
    "layout": ("SWITCHY_LAYOUT",),
}

_DEFAULTS: dict[str, Any] = {
    "database_url": None,
    "migrations_dir": "migrations",
    "migration_table": DEFAULT_TABLE,
    "dialect": None,
    "env": "development",
    "policy_dir": None,
    "lock_timeout": 60.0,
    "checksum_mode": "file",
    "offline": False,
    "layout": "auto",
    "allow_empty": False,
    "remote_token": None,
    "remote_username": None,
    "remote_password": None,
    "remote_index_sha256": None,
    "remote_allow_redirect_hosts": [],
    "remote_cache_dir": None,
    "remote_timeout": 10.0,
    "remote_deadline": 30.0,
    "session_init": None,
    "statement_lock_timeout": None,
    "statement_timeout": None,
    "lock_retries": None,
    "server_version": None,
}


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one command."""

    database_url: str | None
    migrations_dir: str | list[str]
    migration_table: str
    dialect: str | None
    env: str
    policy_dir: str | None
    lock_timeout: float
    checksum_mode: str = "file"
    offline: bool = False
    layout: str = "auto"
    allow_empty: bool = False
    remote_token: str | None = None
    remote_username: str | None = None
    remote_password: str | None = None
    remote_index_sha256: str | None = None
    remote_allow_redirect_hosts: list[str] = field(default_factory=list)
    remote_cache_dir: str | None = None
    remote_timeout: float = 10.0
    remote_deadline: float = 30.0
    config_file: str | None = None
    #: The config file's ``policy_dir`` (relative to the file), kept when ``--policy-dir``
    #: or ``SWITCHY_POLICY_DIR`` names another folder: it is the project's own.
    config_policy_dir: str | None = None
    #: The raw ``--session-init`` flags or ``session_init`` key (see session_init.py).
    session_init: Any = None
    #: Flag, else config; None: not set (the policy's, if any, applies; see retry.py).
    statement_lock_timeout: float | None = None
    statement_timeout: float | None = None
    lock_retries: int | None = None
    #: ``--server-version``, else the config's ``server_version`` (see server_version.py).
    server_version: str | None = None


def read_config_file(
    path: str | None, cwd: Path | None = None
) -> tuple[dict[str, Any], str | None]:
    """The validated settings of the config file, and its path (None when there is none)."""
    base = cwd or Path.cwd()
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise ConfigError("config file not found", path=file)
        data = _load_toml(file)
        section = _tool_section(data, file)
        if section is None and file.name == "pyproject.toml":
            raise ConfigError("no [tool.switchy-guard] table", path=file)
        # A pyproject.toml (or any file with [tool.switchy-guard]) is read as it is when
        # found in the current directory; a switchy-guard.toml holds top-level keys.
        return _validated(data if section is None else section, file), str(file)
    pyproject = base / "pyproject.toml"
    if pyproject.is_file():
        section = _tool_section(_load_toml(pyproject), pyproject)
        if section is not None:
            return _validated(section, pyproject), str(pyproject)
    own = base / "switchy-guard.toml"
    if own.is_file():
        return _validated(_load_toml(own), own), str(own)
    return {}, None


def _tool_section(data: Mapping[str, Any], file: Path) -> dict[str, Any] | None:
    """The ``[tool.switchy-guard]`` table of a TOML document, or None without one."""
    tool = data.get("tool")
    section = tool.get("switchy-guard") if isinstance(tool, dict) else None
    if section is not None and not isinstance(section, dict):
        raise ConfigError("[tool.switchy-guard] must be a table", path=file)
    return section


def _load_toml(file: Path) -> dict[str, Any]:
    import tomllib  # only when there is a file to read: it is 5 ms of every start-up

    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=file) from None
    except RecursionError:  # tomllib recurses once per level of nesting
        raise ConfigError("invalid TOML: nested too deeply", path=file) from None


def _validated(data: Mapping[str, Any], file: Path) -> dict[str, Any]:
    for key, value in data.items():
        expected = _KEYS.get(key)
        if expected is None:
            raise ConfigError(f"unknown setting {key!r} (known: {', '.join(_KEYS)})", path=file)
        if key == "session_init":  # its own shapes, checked (and named) there
            from switchy_guard.runtime.session_init import parse_session_init

            parse_session_init(value, f"session_init in {file}", path=file)
            continue
        is_bool = isinstance(value, bool)
        wrong = (
            is_bool != (expected is bool)  # true/false only where a switch is expected
            or not isinstance(value, expected)
            or (isinstance(value, list) and not all(isinstance(v, str) and v for v in value))
        )
        if wrong:
            raise ConfigError(f"setting {key!r} must be {_KINDS.get(key, 'a string')}",
                              path=file)
    return dict(data)


def _check_migrations_dir(value: str | list[str]) -> None:
    """An empty folder name reads the current directory, and an empty list no migrations
    at all ("up to date"): both refused."""
    if isinstance(value, list) and not value:
        raise ConfigError("setting 'migrations_dir' is an empty list: name at least one "
                          "migrations folder, package or index")
    if value == "" or (isinstance(value, list) and "" in value):
        raise ConfigError("the migrations folder (-m, migrations_dir) is an empty name")


def resolve_settings(
    flags: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge flags (None = not given), environment, config file and defaults."""
    env = os.environ if environ is None else environ
    file_values, file_path = read_config_file(flags.get("config"), cwd)
    merged: dict[str, Any] = {}
    for key, default in _DEFAULTS.items():
        value = flags.get(key)
        if value is None:
            value = next((env[name] for name in _ENVIRONMENT.get(key, ()) if env.get(name)), None)
        if value is None:
            value = file_values.get(key)
        merged[key] = default if value is None else value
    config_policy_dir = _config_policy_dir(file_values, file_path, cwd)
    asked = flags.get("policy_dir") is not None or any(
        env.get(name) for name in _ENVIRONMENT["policy_dir"])
    if config_policy_dir is not None and not asked:
        merged["policy_dir"] = config_policy_dir  # a relative one is the file's, not cwd's
    if merged["dialect"] is not None and merged["dialect"] not in DIALECTS:
        raise ConfigError(f"unknown dialect {merged['dialect']!r} (known: {', '.join(DIALECTS)})")
    try:
        merged["lock_timeout"] = float(merged["lock_timeout"])
    except (TypeError, ValueError):
        raise ConfigError(f"invalid lock timeout {merged['lock_timeout']!r}") from None
    checked_mode(merged["checksum_mode"])
    from switchy_guard.discovery.layouts import checked_layout

    checked_layout(merged["layout"])
    if not 0 <= merged["lock_timeout"] < math.inf:  # nan and inf too
        raise ConfigError(f"the lock timeout must be 0 or more seconds (a finite number), "
                          f"not {merged['lock_timeout']!r}")
    for key in ("remote_timeout", "remote_deadline"):
        if not 0 < merged[key] < math.inf:
            raise ConfigError(f"setting {key!r} must be more than 0 seconds (a finite "
                              f"number), not {merged[key]!r}")
    _check_migrations_dir(merged["migrations_dir"])
    from switchy_guard.runtime.retry import KEYS, checked_timeouts

    if merged["server_version"] is not None:  # its spelling, named where it was given
        from switchy_guard.model.server_version import given_server_version

        given_server_version(merged["server_version"], config_file=file_path,
                             flag=flags.get("server_version") is not None)
    timeouts = checked_timeouts(merged, "settings")
    merged.update({key: getattr(timeouts, key) for key in KEYS})
    return Settings(**merged, config_file=file_path, config_policy_dir=config_policy_dir)


def _config_policy_dir(file_values: Mapping[str, Any], file_path: str | None,
                       cwd: Path | None) -> str | None:
    """The config file's ``policy_dir`` made relative to the file's folder."""
    value = file_values.get("policy_dir")
    if value is None or file_path is None:
        return None
    return str((cwd or Path.cwd()) / Path(file_path).parent / value)
