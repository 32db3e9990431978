"""Environment policies: what the gates demand before ``migrate`` or ``rollback`` runs.

A policy is a TOML file named after its environment (``production.toml`` for
``--env production``). switchy-guard ships ``development``, ``staging`` and ``production``
(in ``switchy_guard/policies/``); a project adds or overrides them in ``--policy-dir``
(default ``./policies``). Every key is optional; a missing key takes the default below.
Unknown keys and values of the wrong type are errors (exit 2) naming the file.

Keys (type, default):

- ``description`` (string, ""): shown with the verdict.
- ``block_severities`` (list of "error", "warning", "info"; []): findings of these
  severities in the planned migrations refuse the run (an allowed finding never does).
- ``require_allow`` (list of rule codes or names; []): findings of these rules refuse the
  run whatever their severity, unless the migration allows them with a reason.
- ``require_confirmation`` (bool, false): the person types the environment's name, or
  passes ``--confirm NAME``; without a terminal and without ``--confirm`` it is refused.
- ``require_lock`` (bool, true): take the migration lock (false only where no other
  runner can exist).
- ``lock_timeout`` (seconds, 60): how long to wait for the lock; ``--lock-timeout``
  overrides it.
- ``refuse_dirty`` (bool, false): ``in_progress`` rows refuse the run even with ``--force``.
- ``refuse_checksum_drift`` (bool, false): changed applied migrations refuse the run even
  with ``--force``.
- ``refuse_out_of_order`` (bool, false): a pending migration that sorts before the newest
  applied one refuses the run.
- ``refuse_irreversible`` (bool, false): a planned migration without a down script refuses
  the run, unless it allows ``irreversible`` (SG203) with a reason.
- ``backup`` ("none", "ack" or "command"; "none"): before destructive steps, nothing;
  ``--ack-backup`` is required; or ``backup_command`` is run.
- ``backup_command`` (string): the shell command run before destructive steps when
  ``backup = "command"``; a non-zero exit refuses the run. ``SWITCHY_ENV`` and
  ``SWITCHY_DATABASE_URL`` (without a driver: ``postgresql://...``, as ``pg_dump`` takes
  it) are in its environment.
- ``session_init`` (string, list of strings, or a table of dialect = either): SQL run on
  every connection, unless ``--session-init`` or the config key ``session_init`` gives
  one (see :mod:`switchy_guard.session_init`).
- ``match_urls`` (list of glob patterns, []): matched, ignoring case, against
  ``host/database`` (the file's absolute path for SQLite): a database that matches gets
  this policy whatever ``--env`` says.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError
from .session_init import SessionInit, parse_session_init

SHIPPED_DIR = Path(__file__).with_name("policies")
SEVERITIES = ("error", "warning", "info")
BACKUP_MODES = ("none", "ack", "command")
BackupMode = Literal["none", "ack", "command"]

_TYPES: dict[str, tuple[type, str]] = {
    "description": (str, "a string"),
    "block_severities": (list, "a list of severities (error, warning, info)"),
    "require_allow": (list, "a list of rule codes or names"),
    "require_confirmation": (bool, "true or false"),
    "require_lock": (bool, "true or false"),
    "lock_timeout": (float, "a number of seconds, 0 or more"),
    "refuse_dirty": (bool, "true or false"),
    "refuse_checksum_drift": (bool, "true or false"),
    "refuse_out_of_order": (bool, "true or false"),
    "refuse_irreversible": (bool, "true or false"),
    "backup": (str, "one of none, ack, command"),
    "backup_command": (str, "a non-empty string"),
    "match_urls": (list, "a list of non-empty glob patterns"),
    "session_init": (object, "a string, a list of strings, or a table of dialect = either"),
}


@dataclass(frozen=True)
class Policy:
    """One environment's policy (see the module docs for every key)."""

    name: str
    description: str = ""
    block_severities: frozenset[str] = frozenset()
    require_allow: tuple[str, ...] = ()
    require_confirmation: bool = False
    require_lock: bool = True
    lock_timeout: float = 60.0
    refuse_dirty: bool = False
    refuse_checksum_drift: bool = False
    refuse_out_of_order: bool = False
    refuse_irreversible: bool = False
    backup: BackupMode = "none"
    backup_command: str | None = None
    match_urls: tuple[str, ...] = ()
    path: str | None = None
    session_init: SessionInit | None = None

    def matches(self, target: str) -> str | None:
        """The first ``match_urls`` pattern that ``target`` (host/database) matches."""
        lowered = target.lower()
        return next((p for p in self.match_urls if fnmatch.fnmatchcase(lowered, p.lower())),
                    None)

    @property
    def judges_the_plan(self) -> bool:
        """Whether a verdict under this policy depends on the plan's findings, objects or
        data (and a person is shown the full report before confirming): when not, a run
        can skip building them."""
        return bool(self.block_severities or self.require_allow or self.refuse_irreversible
                    or self.backup != "none" or self.require_confirmation)

    def requires_allow(self, code: str, name: str) -> bool:
        """Whether findings of this rule need a reasoned allow under this policy."""
        return code in self.require_allow or name in self.require_allow


@dataclass(frozen=True)
class PolicyChoice:
    """The policy that applies, and why it was chosen."""

    policy: Policy
    environment: str
    reason: str  # "--env production" or "match_urls pattern '*prod*' in production.toml"


@dataclass
class PolicySet:
    """Every policy known: the shipped ones overlaid by a project's folder."""

    policies: dict[str, Policy] = field(default_factory=dict)

    def get(self, environment: str) -> Policy:
        """The policy of ``environment``, its rule names checked; an unknown environment is
        a configuration error."""
        try:
            return check_rule_names(self.policies[environment])
        except KeyError:
            raise ConfigError(
                f"no policy for environment {environment!r} (known: "
                f"{', '.join(sorted(self.policies))}); add {environment}.toml to the policy "
                "folder"
            ) from None

    def choose(self, environment: str, target: str | None) -> PolicyChoice:
        """The policy for ``environment``, unless ``target`` (host/database) matches
        another policy's ``match_urls``, which then wins whatever ``environment`` says."""
        if target is not None:
            hits = [(p, pattern) for p in self.policies.values()
                    if (pattern := p.matches(target))]
            names = sorted({p.name for p, _ in hits})
            if len(names) > 1:
                raise ConfigError(
                    f"the database {target!r} matches match_urls of several policies: "
                    f"{', '.join(names)}; make the patterns exclusive"
                )
            if hits:
                policy, pattern = hits[0]
                return PolicyChoice(check_rule_names(policy), policy.name,
                                    f"match_urls pattern {pattern!r} in {policy.path}")
        return PolicyChoice(self.get(environment), environment, f"--env {environment}")


def check_rule_names(policy: Policy) -> Policy:
    """``policy`` if every rule its ``require_allow`` names exists, else ConfigError.

    Done when a policy is chosen rather than when every file is read: it needs the rule
    catalog, which a run whose policy judges nothing from the plan never loads otherwise.
    """
    if policy.require_allow:
        from .rules import all_rules

        known = {item for rule in all_rules() for item in (rule.code, rule.name)}
        unknown = [rule for rule in policy.require_allow if rule not in known]
        if unknown:
            raise ConfigError(f"require_allow names an unknown rule {unknown[0]!r}",
                              path=policy.path)
    return policy


def load_policy(path: Path) -> Policy:
    """Read and validate one policy file (rule names in ``require_allow`` are checked
    when the policy is chosen, see :func:`check_rule_names`)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read policy: {exc}", path=path) from None
    return policy_from_mapping(path.stem, data, path=path)


#: Keys whose TOML lists are kept as immutable collections on the Policy.
_COLLECTIONS: dict[str, Callable[[list[str]], Any]] = {
    "block_severities": frozenset, "require_allow": tuple, "match_urls": tuple,
}


def policy_from_mapping(name: str, data: Mapping[str, Any], *,
                        path: Path | None = None) -> Policy:
    """A Policy from parsed TOML; every key checked for name and type. A key left out
    takes the Policy field's default (the one place defaults are written)."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in _TYPES:
            raise ConfigError(
                f"unknown policy key {key!r} (known: {', '.join(_TYPES)})", path=path
            )
        checked = _checked(key, value, path)
        values[key] = _COLLECTIONS[key](checked) if key in _COLLECTIONS else checked
    if values.get("backup") == "command" and not values.get("backup_command"):
        raise ConfigError('backup = "command" needs backup_command', path=path)
    return Policy(name=name, path=str(path) if path else None, **values)


def _checked(key: str, value: Any, path: Path | None) -> Any:
    expected, kind = _TYPES[key]
    if key == "session_init":
        origin = f"session_init in {path}" if path else "policy key session_init"
        return parse_session_init(value, origin, path=path)

    def wrong() -> ConfigError:
        return ConfigError(f"policy key {key!r} must be {kind}, not {value!r}", path=path)

    if expected is float:
        # ``not value >= 0`` also refuses TOML's nan, which no comparison would stop.
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise wrong()
        return float(value)
    if expected is bool:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if expected is str:
        if not isinstance(value, str) or (key == "backup_command" and not value.strip()):
            raise wrong()
        if key == "backup" and value not in BACKUP_MODES:
            raise wrong()
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise wrong()
    if key == "block_severities" and any(v not in SEVERITIES for v in value):
        raise wrong()
    return value


def load_policies(policy_dir: str | Path | None, *, cwd: Path | None = None) -> PolicySet:
    """The shipped policies, overlaid by ``policy_dir`` (or ``./policies`` when it exists).

    A ``policy_dir`` that was asked for but does not exist is an error. Rule names in
    ``require_allow`` are checked when a policy is chosen (:meth:`PolicySet.choose`).
    """
    policies = {p.stem: load_policy(p) for p in sorted(SHIPPED_DIR.glob("*.toml"))}
    if policy_dir is not None:
        folder = Path(policy_dir)
        if not folder.is_dir():
            raise ConfigError("policy folder not found", path=folder)
    else:
        folder = (cwd or Path.cwd()) / "policies"
        if not folder.is_dir():
            return PolicySet(policies)
    for file in sorted(folder.glob("*.toml")):
        policies[file.stem] = load_policy(file)
    return PolicySet(policies)


def database_target(url: Any) -> str:
    """What ``match_urls`` patterns are matched against: ``host/database``, or the
    database file's absolute path for SQLite (``:memory:`` for an in-memory one)."""
    from .db import parse_url, sqlite_file

    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(parsed)
        return ":memory:" if database is None else str(Path(database).resolve())
    host = parsed.host or "localhost"
    return f"{host}/{parsed.database or ''}"
