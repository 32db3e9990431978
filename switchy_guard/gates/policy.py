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
- ``match_urls`` (list of glob patterns, []): matched, ignoring case, against the
  database as ``host/database`` and ``host:port/database`` (the file's real path for
  SQLite): a database that matches gets this policy whatever ``--env`` says. Matched
  against what the database itself says after connecting (see
  :mod:`switchy_guard.runtime.identity`: the server's own database name, the address the client
  reached and the server's address or host name, every loopback spelling read as
  ``localhost``) and against the URL's text as written. A literal host in a pattern is
  normalised the same way (``127.0.0.1/app`` also matches ``localhost/app``). An absolute
  SQLite pattern is also looked up on the filesystem: a database file that is the same
  file (device and inode) as one the pattern names matches, whatever its path (a hard link).
- ``match_servers`` (list of server pins, []): like ``match_urls``, a database that
  matches gets this policy; each pin names a server by its identity, not its address:
  ``"DIALECT:FACT=VALUE[, FACT=VALUE...]"``, every fact listed must match (values are
  glob patterns, ignoring case). Facts: ``postgres``: ``system_identifier`` (the
  cluster's, from ``pg_control_system()``), ``database``, ``host``, ``port``, ``user``;
  ``mysql`` (MariaDB too): ``server_uuid`` (MySQL), ``server_uid`` (MariaDB), ``server_id``,
  ``hostname`` (``@@hostname``), ``database``, ``host``, ``port``, ``user``; ``sqlite``:
  ``file`` (a path or absolute pattern: the database is that file, by device and inode).
  E.g. ``match_servers = ["postgres:system_identifier=7345512837461234567",
  "mysql:server_uuid=3e11fa47-71ca-11e1-9e33-c80aa9429562, database=billing",
  "sqlite:file=/srv/app/prod.db"]``.

Where the policies come from (:func:`policies_for`): the shipped ones, overlaid by the
project's ``policies`` folder and by ``--policy-dir`` / ``SWITCHY_POLICY_DIR`` /
``policy_dir``. The project's folder is found from the project, not the current
directory: ``policy_dir`` of the config file (relative to that file), else ``policies``
beside the config file; and ``policies`` beside each local migrations folder, else in the
root of the project holding it (the nearest folder above with ``pyproject.toml``,
``switchy-guard.toml`` or ``.git``). Every folder found is used: an environment defined in
one of them only is taken from there; one defined differently in two folders (a
``SWITCHY_POLICY_DIR`` beside a project's own ``production.toml``) is an error naming
both files, so no folder's policy is dropped silently.
- ``statement_lock_timeout`` (seconds, unset), ``statement_timeout`` (seconds, unset),
  ``lock_retries`` (whole number, unset): the migrations' own lock and statement timeouts
  and how often one that gave up on a lock is retried (see :mod:`switchy_guard.runtime.retry`);
  ``--statement-lock-timeout``, ``--statement-timeout``, ``--lock-retries`` and the
  config keys of those names override them.
- ``refuse_when_blocked_longer_than`` (seconds, unset): the gate refuses to start while
  a transaction that holds a lock conflicting with one the plan takes (see
  :mod:`switchy_guard.sql.locks`) has been open longer than this, naming it.
- ``session_init`` (string, list of strings, or a table of dialect = either): SQL run on
  every connection, unless ``--session-init`` or the config key ``session_init`` gives
  one (see :mod:`switchy_guard.runtime.session_init`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from switchy_guard.errors import ConfigError
from switchy_guard.runtime.identity import FACTS, ServerIdentity, normal_host

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

    from switchy_guard.config import Settings
from switchy_guard.runtime.retry import Timeouts
from switchy_guard.runtime.session_init import SessionInit, parse_session_init

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "policies"
SEVERITIES = ("error", "warning", "info")
BACKUP_MODES = ("none", "ack", "command")
BackupMode = Literal["none", "ack", "command"]

_TYPES: dict[str, tuple[type, str]] = {
    "description": (str, "a string"),
    "block_severities": (list, "a list of severities (error, warning, info)"),
    "require_allow": (list, "a list of rule codes or names"),
    "require_confirmation": (bool, "true or false"),
    "require_lock": (bool, "true or false"),
    "lock_timeout": (float, "a number of seconds, 0 or more, finite"),
    "refuse_dirty": (bool, "true or false"),
    "refuse_checksum_drift": (bool, "true or false"),
    "refuse_out_of_order": (bool, "true or false"),
    "refuse_irreversible": (bool, "true or false"),
    "backup": (str, "one of none, ack, command"),
    "backup_command": (str, "a non-empty string"),
    "match_urls": (list, "a list of non-empty glob patterns"),
    "match_servers": (list, 'a list of server pins ("postgres:system_identifier=...")'),
    "session_init": (object, "a string, a list of strings, or a table of dialect = either"),
    "statement_lock_timeout": (float, "a number of seconds, 0 or more, finite"),
    "statement_timeout": (float, "a number of seconds, 0 or more, finite"),
    "lock_retries": (int, "a whole number, 0 or more"),
    "refuse_when_blocked_longer_than": (float, "a number of seconds, 0 or more, finite"),
}
#: Files whose folder is a project's root (where its ``policies`` folder is looked for).
PROJECT_MARKERS = ("pyproject.toml", "switchy-guard.toml", ".git")
_DIALECT_ALIASES = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql",
                    "mariadb": "mysql", "sqlite": "sqlite"}
_GLOB = frozenset("*?[")


@dataclass(frozen=True)
class DatabaseTarget:
    """What match rules are matched against: every spelling of the database (the URL's
    text first, then what the database said), and the database's identity."""

    names: tuple[str, ...]
    identity: ServerIdentity | None = None

    @property
    def shown(self) -> str:
        """The spelling shown in messages."""
        return self.names[0] if self.names else ""


def parse_server_pin(pin: str) -> tuple[str, dict[str, str]]:
    """``"postgres:system_identifier=7345..., database=app"`` as (dialect, {fact: value});
    ValueError saying what is wrong."""
    dialect, colon, rest = pin.partition(":")
    known = _DIALECT_ALIASES.get(dialect.strip().lower())
    if not colon or known is None:
        raise ValueError(f"{pin!r} must start with postgres:, mysql: or sqlite:")
    facts: dict[str, str] = {}
    for part in rest.split(","):
        name, equals, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not equals or not value:
            raise ValueError(f"{pin!r}: {part.strip()!r} is not FACT=VALUE")
        if name not in FACTS[known]:
            raise ValueError(f"{pin!r}: unknown {known} fact {name!r} "
                             f"(known: {', '.join(FACTS[known])})")
        if name in facts:
            raise ValueError(f"{pin!r} names {name!r} twice")
        if name == "file" and not os.path.isabs(value):
            raise ValueError(f"{pin!r}: the file must be an absolute path (or pattern)")
        facts[name] = value
    return known, facts


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
    match_servers: tuple[str, ...] = ()
    path: str | None = None
    session_init: SessionInit | None = None
    statement_lock_timeout: float | None = None
    statement_timeout: float | None = None
    lock_retries: int | None = None
    #: Refuse to start while a transaction holding a lock that conflicts with one the
    #: plan takes has been open longer than this (seconds); None: never.
    refuse_when_blocked_longer_than: float | None = None

    @property
    def timeouts(self) -> Timeouts:
        """The policy's lock and statement timeouts and lock retries."""
        return Timeouts(self.statement_lock_timeout, self.statement_timeout,
                        self.lock_retries)

    def matches(self, target: str | DatabaseTarget) -> str | None:
        """The first ``match_urls`` pattern that ``target`` matches (a ``host/database``
        text, or every spelling and the identity of a :class:`DatabaseTarget`)."""
        found = self.match(target)
        return found[1] if found is not None and found[0] == "match_urls" else None

    def match(self, target: str | DatabaseTarget) -> tuple[str, str, str] | None:
        """The first rule matching ``target``: (key, pattern or pin, what it matched)."""
        if isinstance(target, str):
            target = DatabaseTarget((target,))
        for pattern in self.match_urls:
            hit = _url_pattern_hit(pattern, target)
            if hit is not None:
                return "match_urls", pattern, hit
        identity = target.identity
        if identity is not None:
            for pin in self.match_servers:
                if _pin_matches(pin, identity):
                    return "match_servers", pin, identity.describe()
        return None

    @property
    def judges_the_plan(self) -> bool:
        """Whether a verdict under this policy depends on the plan's findings, objects or
        data (and a person is shown the full report before confirming): when not, a run
        can skip building them."""
        return bool(self.block_severities or self.require_allow or self.refuse_irreversible
                    or self.backup != "none" or self.require_confirmation
                    or self.refuse_when_blocked_longer_than is not None)

    def requires_allow(self, code: str, name: str) -> bool:
        """Whether findings of this rule need a reasoned allow under this policy."""
        return code in self.require_allow or name in self.require_allow


@dataclass(frozen=True)
class PolicyChoice:
    """The policy that applies, and why it was chosen."""

    policy: Policy
    environment: str
    reason: str  # "--env production" or "match_urls pattern '*prod*' in production.toml"
    server: str | None = None  # what the database said it is, when it was asked


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

    def choose(self, environment: str,
               target: str | DatabaseTarget | None) -> PolicyChoice:
        """The policy for ``environment``, unless ``target`` (a ``host/database`` text, or
        a :class:`DatabaseTarget`) matches another policy's ``match_urls`` or
        ``match_servers``, which then wins whatever ``environment`` says."""
        if isinstance(target, str):
            target = DatabaseTarget((target,))
        server = (target.identity.describe()
                  if target is not None and target.identity is not None else None)
        if target is not None:
            hits = [(p, found) for p in self.policies.values()
                    if (found := p.match(target)) is not None]
            names = sorted({p.name for p, _ in hits})
            if len(names) > 1:
                raise ConfigError(
                    f"the database {target.shown!r} matches match_urls or match_servers "
                    f"of several policies: {', '.join(names)}; make them exclusive"
                )
            if hits:
                policy, (key, rule, matched) = hits[0]
                if key == "match_urls":
                    reason = f"match_urls pattern {rule!r} in {policy.path} ({matched})"
                else:
                    reason = f"match_servers {rule!r} in {policy.path}"
                return PolicyChoice(check_rule_names(policy), policy.name, reason, server)
        return PolicyChoice(self.get(environment), environment, f"--env {environment}",
                            server)

    @property
    def has_match_rules(self) -> bool:
        """Whether any policy could be chosen by the database rather than ``--env``."""
        return any(p.match_urls or p.match_servers for p in self.policies.values())


def _normal_pattern(pattern: str) -> str:
    """A ``host/database`` pattern with a literal host normalised as the database's own
    hosts are (``127.0.0.1/app`` -> ``localhost/app``)."""
    host, slash, rest = pattern.partition("/")
    if not slash or not host:
        return pattern
    port = ""
    if host.startswith("["):
        host, _, tail = host[1:].partition("]")
        port = tail
    elif host.count(":") == 1:
        host, port = host.split(":")
        port = ":" + port
    if _GLOB & set(host):
        return pattern
    return f"{normal_host(host)}{port}/{rest}"


def _url_pattern_hit(pattern: str, target: DatabaseTarget) -> str | None:
    """Which spelling of ``target`` the ``match_urls`` pattern matches, if any."""
    patterns = {pattern.lower(), _normal_pattern(pattern).lower()}
    for index, name in enumerate(target.names):
        lowered = name.lower()
        if any(fnmatch.fnmatchcase(lowered, p) for p in patterns):
            said = "as the URL says" if index == 0 else "as the database says"
            return f"{name} {said}" if len(target.names) > 1 else name
    identity = target.identity
    if identity is not None and identity.file_id is not None and os.path.isabs(pattern):
        same = _same_file(pattern, identity.file_id)
        if same is not None:
            return f"{identity.database}, the same file as {same}"
    return None


def _same_file(pattern: str, file_id: tuple[int, int]) -> str | None:
    """An existing file named by ``pattern`` (a path or glob) that is the file
    ``file_id`` (device, inode) is: a hard link, a symlink, another spelling."""
    for name in glob.iglob(pattern):
        try:
            stat = os.stat(name)
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) == file_id:
            return name
    return None


def _pin_matches(pin: str, identity: ServerIdentity) -> bool:
    dialect, facts = parse_server_pin(pin)
    if dialect != identity.dialect:
        return False
    for name, wanted in facts.items():
        if name == "file":
            if identity.file_id is None or _same_file(wanted, identity.file_id) is None:
                return False
            continue
        if name == "host":
            said = identity.hosts
            wanted = wanted if _GLOB & set(wanted) else normal_host(wanted)
        else:
            value = identity.facts.get(name)
            said = (value,) if value is not None else ()
        if not any(fnmatch.fnmatchcase(v.lower(), wanted.lower()) for v in said):
            return False
    return True


def check_rule_names(policy: Policy) -> Policy:
    """``policy`` if every rule its ``require_allow`` names exists, else ConfigError.

    Done when a policy is chosen rather than when every file is read: it needs the rule
    catalog, which a run whose policy judges nothing from the plan never loads otherwise.
    """
    if policy.require_allow:
        from switchy_guard.rules import all_rules

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
    except RecursionError:  # tomllib recurses once per level of nesting
        raise ConfigError("cannot read policy: invalid TOML, nested too deeply",
                          path=path) from None
    return policy_from_mapping(path.stem, data, path=path)


#: Keys whose TOML lists are kept as immutable collections on the Policy.
_COLLECTIONS: dict[str, Callable[[list[str]], Any]] = {
    "block_severities": frozenset, "require_allow": tuple, "match_urls": tuple,
    "match_servers": tuple,
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
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                0 <= value < float("inf")):  # inf waits forever
            raise wrong()
        return float(value)
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise wrong()
        return value
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
    if key == "match_servers":
        for pin in value:
            try:
                parse_server_pin(pin)
            except ValueError as exc:
                raise ConfigError(f"policy key 'match_servers': {exc}", path=path) from None
    return value


def load_policies(policy_dir: str | Path | None, *, cwd: Path | None = None,
                  project_dirs: Iterable[str | Path] | None = None) -> PolicySet:
    """The shipped policies, overlaid by the project's folders and ``policy_dir``.

    ``project_dirs``: the project's policy folders (see :func:`project_policy_dirs`);
    those that do not exist are passed over. Left out (a library call that knows no
    project), ``./policies`` of ``cwd`` is the project's folder when it exists. A
    ``policy_dir`` that was asked for but does not exist is an error. An environment
    defined differently in two folders is an error naming both files. Rule names in
    ``require_allow`` are checked when a policy is chosen (:meth:`PolicySet.choose`).
    """
    policies = {p.stem: load_policy(p) for p in sorted(SHIPPED_DIR.glob("*.toml"))}
    if project_dirs is None:
        project_dirs = [(cwd or Path.cwd()) / "policies"]
    folders = [Path(d) for d in project_dirs if Path(d).is_dir()]
    if policy_dir is not None:
        folder = Path(policy_dir)
        if not folder.is_dir():
            raise ConfigError("policy folder not found", path=folder)
        folders.append(folder)
    seen = {SHIPPED_DIR.resolve()}
    overlaid: dict[str, Policy] = {}
    for folder in folders:
        if folder.resolve() in seen:  # the shipped folder (or a link to it), or twice
            continue
        seen.add(folder.resolve())
        for file in sorted(folder.glob("*.toml")):
            policy = load_policy(file)
            earlier = overlaid.get(policy.name)
            if earlier is not None and _differs(earlier, policy):
                raise ConfigError(
                    f"policy {policy.name!r} is defined both in {earlier.path} and in "
                    f"{file}, differently; a project's policy is never overridden silently: "
                    "make them the same, remove one, or point --policy-dir / "
                    "SWITCHY_POLICY_DIR at the project's own folder")
            overlaid.setdefault(policy.name, policy)
    return PolicySet({**policies, **overlaid})


def _differs(one: Policy, other: Policy) -> bool:
    return dataclasses.replace(one, path=None) != dataclasses.replace(other, path=None)


def project_policy_dirs(config_file: str | None, config_policy_dir: str | None,
                        migrations_dirs: str | list[str], *,
                        cwd: Path | None = None) -> list[Path]:
    """A project's own policy folders, found from the project rather than the current
    directory: the config file's ``policy_dir`` (``config_policy_dir``, already relative
    to the file), else ``policies`` beside the config file; and for each local migrations
    folder, ``policies`` beside it, else in the root of the project holding it (the
    nearest folder above with one of :data:`PROJECT_MARKERS`). Folders that do not exist
    are listed too (the loader passes over them)."""
    base = cwd or Path.cwd()
    found: list[Path] = []
    if config_policy_dir is not None:
        found.append(base / config_policy_dir)
    elif config_file is not None:
        found.append((base / config_file).resolve().parent / "policies")
    for item in [migrations_dirs] if isinstance(migrations_dirs, str) else migrations_dirs:
        folder = base / item
        if item.startswith(("http://", "https://")) or not folder.is_dir():
            continue  # a remote or a package source: no project folder around it
        found.extend(_beside_migrations(folder.resolve()))
    return list(dict.fromkeys(found))


def _beside_migrations(migrations: Path) -> Iterator[Path]:
    start = migrations.parent
    if (start / "policies").is_dir():
        yield start / "policies"
        return
    for folder in [start, *start.parents]:
        if any((folder / marker).exists() for marker in PROJECT_MARKERS):
            yield folder / "policies"
            return


def policies_for(settings: Settings, *, cwd: Path | None = None) -> PolicySet:
    """Every policy a command run with ``settings`` knows (see the module docs)."""
    return load_policies(
        settings.policy_dir, cwd=cwd,
        project_dirs=project_policy_dirs(settings.config_file, settings.config_policy_dir,
                                         settings.migrations_dir, cwd=cwd))


def choose_policy(settings: Settings, database: Engine | URL | str | None, *,
                  policies: PolicySet | None = None) -> PolicyChoice:
    """The policy of a command: ``--env``'s, unless a policy's ``match_urls`` or
    ``match_servers`` matches the database, asked what it is after connecting (a
    server that cannot be reached is DatabaseUnavailable, exit 3).

    An Engine (a gated verb's, whose pool keeps the connection for the run) is always
    asked, so the journal can say which database a run was on; a bare URL (``check
    --gate``) only when some policy has match rules. ``policies``: the set
    :func:`policies_for` gives for these settings, when the caller read it already (a
    fleet reads it once for all its targets).
    """
    policies = policies if policies is not None else policies_for(settings)
    if database is None or (isinstance(database, str) and not policies.has_match_rules):
        return policies.choose(settings.env, None)
    return policies.choose(settings.env, database_identity_target(database))


def database_identity_target(database: Engine | URL | str) -> DatabaseTarget:
    """The URL's own ``host/database`` text, then every spelling the database gives of
    itself, and its identity (see :mod:`switchy_guard.runtime.identity`)."""
    from switchy_guard.runtime.identity import identify_database

    url = database if isinstance(database, str) else getattr(database, "url", database)
    identity = identify_database(database)
    names = (database_target(url), *identity.names())
    return DatabaseTarget(tuple(dict.fromkeys(names)), identity)


def database_target(url: Any) -> str:
    """What ``match_urls`` patterns are matched against: ``host/database``, or the
    database file's absolute path for SQLite (``:memory:`` for an in-memory one)."""
    from switchy_guard.runtime.db import parse_url, sqlite_file

    parsed = parse_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(parsed)
        return ":memory:" if database is None else str(Path(database).resolve())
    host = parsed.host or "localhost"
    return f"{host}/{parsed.database or ''}"
