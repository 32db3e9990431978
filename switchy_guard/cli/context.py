"""The :class:`Context` a verb runs in: its arguments, settings, output streams, and
the migrations source and database they name."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from switchy_guard.config import Settings
    from switchy_guard.gates.policy import Policy
    from switchy_guard.model.server_version import GivenVersion
    from switchy_guard.runtime.retry import Timeouts
    from switchy_guard.runtime.runner import Migrator
    from switchy_guard.runtime.session_init import SessionInit


#: The global options (see :func:`.options.add_global_options`) as the parsed arguments
#: name them: what :func:`~switchy_guard.config.resolve_settings` resolves.
GLOBAL_FLAGS = (
    "database_url",
    "migrations_dir",
    "migration_table",
    "dialect",
    "env",
    "policy_dir",
    "config",
    "format",
    "debug",
    "no_color",
    "quiet",
    "checksum_mode",
    "offline",
    "session_init",
    "layout",
    "allow_empty",
    "statement_lock_timeout",
    "statement_timeout",
    "lock_retries",
)


class Context:
    """What a verb needs: its arguments, settings and output streams."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO, err: TextIO, argv: Sequence[str] = ()
    ) -> None:
        from switchy_guard.config import resolve_settings

        self.args = args
        self.argv = list(argv)
        self.out = out
        self.err = err
        #: Warnings printed after the verb succeeds: an error stays one line on its own.
        self.notes: list[str] = []
        self._document: dict[str, Any] | None = None
        #: What a failure document carries if the verb fails from here on (the judged
        #: impact report before a confirmation); dropped when the verb succeeds.
        self.partial_json: dict[str, Any] | None = None
        self.format: str = getattr(args, "format", "text")
        self.quiet: bool = getattr(args, "quiet", False)
        flags = {name: getattr(args, name, None) for name in GLOBAL_FLAGS}
        flags["lock_timeout"] = getattr(args, "lock_timeout", None)
        flags["server_version"] = getattr(args, "server_version", None)
        self.settings: Settings = resolve_settings(flags)
        _remember_settings(self.settings)

    def session_init(self) -> SessionInit | None:
        """The session settings: ``--session-init``, else the config's ``session_init``,
        else the chosen policy's (read only when a database engine is made)."""
        from switchy_guard.runtime.session_init import parse_session_init

        settings = self.settings
        if getattr(self.args, "session_init", None):
            return parse_session_init(self.args.session_init, "--session-init")
        if settings.session_init is not None:
            return parse_session_init(settings.session_init,
                                      f"session_init in {settings.config_file}")
        policy = self._likely_policy()
        return policy.session_init if policy is not None else None

    def server_version(self) -> GivenVersion | None:
        """``--server-version``, else the config's ``server_version`` (None: neither)."""
        from switchy_guard.model.server_version import given_server_version

        return given_server_version(
            self.settings.server_version, config_file=self.settings.config_file,
            flag=getattr(self.args, "server_version", None) is not None)

    def _likely_policy(self) -> Policy | None:
        """The policy the gates would choose (match_urls first, then --env), without
        checking its rule names (that loads the rule catalog, for any verb), nor asking
        the database who it is."""
        from switchy_guard.gates.policy import database_target, load_policies

        settings = self.settings
        policies = load_policies(settings.policy_dir)
        target = database_target(settings.database_url) if settings.database_url else None
        matched = [p for p in policies.policies.values() if target and p.matches(target)]
        if len(matched) > 1:
            policies.choose(settings.env, target)  # raises: the patterns overlap
        return matched[0] if matched else policies.policies.get(settings.env)

    def explicit_timeouts(self) -> Timeouts:
        """``--statement-lock-timeout``, ``--statement-timeout``, ``--lock-retries``,
        else the config's keys of those names (None: not set, the policy's apply)."""
        from switchy_guard.runtime.retry import Timeouts

        s = self.settings
        return Timeouts(s.statement_lock_timeout, s.statement_timeout, s.lock_retries)

    def timeouts(self) -> Timeouts:
        """The timeouts in force: flag, else config, else the likely policy's (a gated
        run puts the policy it chose under the flags and config; see gates.run)."""
        explicit = self.explicit_timeouts()
        policy = self._likely_policy()
        return explicit.over(policy.timeouts if policy is not None else None)

    def console(self) -> Console:
        """A rich console on stdout (no colour when asked or not a terminal)."""
        from rich.console import Console

        console = Console(
            file=self.out,
            no_color=bool(getattr(self.args, "no_color", False)),
            highlight=False,
            soft_wrap=True,
        )
        if not console.is_terminal:
            # Logs and pipes have no width; rich's 80 columns would wrap every id.
            console.width = 120
        return console

    def migrator(self, *, reads_only: bool = False, must_exist: bool = False) -> Migrator:
        """A Migrator for the configured source and database.

        ``reads_only``: the verb changes nothing, so a SQLite file that does not exist
        is read as an empty database, with a warning, instead of being created.
        ``must_exist``: the verb only makes sense on a database that has been migrated
        (rollback, retry, mark-failed, mark-all-completed, adopt-checksums, lock break),
        so a SQLite file that does not exist is a mistyped path: refused (exit 2), not
        created.
        """
        from switchy_guard.runtime.runner import Migrator

        url = self.settings.database_url
        if not url:
            raise ConfigError(
                f"'{self.args.verb}' needs a database: give -d URL or set SWITCHY_DATABASE_URL"
            )
        database: Any = url
        if reads_only or must_exist:
            from switchy_guard.runtime.db import absent_sqlite_file, empty_stand_in

            absent = absent_sqlite_file(url)
            if absent is not None and must_exist:
                verb = "lock break" if self.args.verb == "lock" else self.args.verb
                raise ConfigError(f"{absent} does not exist: '{verb}' works on a "
                                  "database migrate has set up (is the path right?)")
            if absent is not None:
                self.notes.append(f"warning: {absent} does not exist: read as an empty "
                                  "database, and not created (migrate creates it)")
                database = empty_stand_in(url)
        else:
            from switchy_guard.runtime.db import refuse_missing_sqlite_folder

            refuse_missing_sqlite_folder(url)  # before the lock file, and before planning
        return Migrator(
            self.source(),
            database,
            table=self.settings.migration_table,
            lock_timeout=self.settings.lock_timeout,
            checksum_mode=self.settings.checksum_mode,
            timeouts=self.timeouts(),
        )

    def source(self) -> Any:
        """The migrations source: the -m text, with remote URLs built from the settings."""
        settings = self.settings
        dirs = settings.migrations_dir
        items = dirs if isinstance(dirs, list) else [dirs]
        from switchy_guard.discovery import as_source

        layout, allow_empty = settings.layout, settings.allow_empty
        if not any(item.startswith(("http://", "https://")) for item in items):
            single = dirs[0] if isinstance(dirs, list) and len(dirs) == 1 else dirs
            if layout == "auto" and not allow_empty:
                return single  # text: check's cache and --against know it
            return as_source(single, checksum_mode=settings.checksum_mode, layout=layout,
                             allow_empty=allow_empty)
        from switchy_guard.discovery.remote import RemoteMigrations

        built = [
            RemoteMigrations(
                item,
                token=settings.remote_token,
                username=settings.remote_username,
                password=settings.remote_password,
                cache_dir=settings.remote_cache_dir,
                offline=settings.offline,
                index_sha256=settings.remote_index_sha256,
                allow_redirect_hosts=settings.remote_allow_redirect_hosts,
                timeout=settings.remote_timeout,
                deadline=settings.remote_deadline,
                checksum_mode=settings.checksum_mode,
            )
            if item.startswith(("http://", "https://"))
            else item
            for item in items
        ]
        return as_source(built, checksum_mode=settings.checksum_mode, layout=layout,
                         allow_empty=allow_empty)

    def emit_json(self, data: Any) -> None:
        """Print ``data`` as JSON on stdout, once the verb has returned; a verb that
        fails after this has its document become the failure document's partial
        report, so stdout holds one JSON document (see :mod:`.report.envelope`)."""
        if not isinstance(data, dict):
            from switchy_guard.report.envelope import write_document

            write_document(self.out, data)
            return
        self._document = {**(self._document or {}), **data}

    def flush_json(self) -> None:
        """Print the document :meth:`emit_json` holds, if any."""
        from switchy_guard.report.envelope import write_document

        document, self._document = self._document, None
        if document is not None:
            write_document(self.out, document)

    def take_json(self) -> dict[str, Any] | None:
        """The document held and not printed, over :attr:`partial_json`: the partial
        report of a verb that failed."""
        document, self._document = self._document, None
        if self.partial_json is None:
            return document
        return {**self.partial_json, **(document or {})}


def command_line(ctx: Context) -> str:
    """The command as typed, passwords masked (for the audit journal)."""
    from switchy_guard.masking import mask_command

    return mask_command(["switchy-guard", *ctx.argv])


def env_flag(name: str) -> bool:
    """A yes/no environment variable; anything else is refused, not read as "no" (a
    mistyped value must not silently turn a safety check off)."""
    import os

    value = os.environ.get(name, "").strip()
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"environment variable {name}={value!r}: use true or false (1 or 0)")


def _remember_settings(settings: Settings) -> None:
    """The config file's secrets join the run's known secrets."""
    from switchy_guard.masking import remember, secrets_in

    remember(settings.remote_token, settings.remote_password,
             *secrets_in(settings.database_url or ""))
