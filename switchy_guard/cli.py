"""The command line: argument parsing and a few lines per verb over the library API.

Heavy modules (SQLAlchemy, rich) are imported inside the verbs, so ``--help`` is fast.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TextIO, cast

from . import __version__
from .errors import ConfigError, DatabaseUnavailable, Refused, SwitchyError

if TYPE_CHECKING:
    from rich.console import Console

    from .config import Settings
    from .gated import GateOptions
    from .policy import Policy, PolicyChoice
    from .retry import Timeouts
    from .runner import Migrator
    from .server_version import GivenVersion
    from .session_init import SessionInit

_GLOBAL_FLAGS = (
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


def _add_global_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS lets the same options stand before or after the verb.
    sup = argparse.SUPPRESS
    group = parser.add_argument_group("global options")
    group.add_argument(
        "-d",
        "--database-url",
        metavar="URL",
        default=sup,
        help="database URL (env SWITCHY_DATABASE_URL, then DATABASE_URL)",
    )
    group.add_argument(
        "-m",
        "--migrations-dir",
        metavar="DIR",
        default=sup,
        action="append",
        help="migrations folder, or package:subdir (default ./migrations);"
        " repeat to combine sources",
    )
    group.add_argument(
        "--migration-table",
        metavar="NAME",
        default=sup,
        help="tracking table (default __switchy_migrations)",
    )
    group.add_argument(
        "--dialect",
        choices=("sqlite", "postgres", "mysql"),
        default=sup,
        help="dialect when no database URL is given",
    )
    group.add_argument(
        "--checksum-mode",
        choices=("file", "exec-raw"),
        default=sup,
        help="how folder sources hash scripts: file bytes (default) or exec-raw "
        "(switchy_schema code migrations, as MoosicBox stores them)",
    )
    group.add_argument(
        "--layout",
        choices=("auto", "switchy", "golang-migrate", "flyway", "sqlx", "dbmate", "goose"),
        default=sup,
        help="the history's layout (env SWITCHY_LAYOUT; default auto: detected from the "
        "file names)",
    )
    group.add_argument("--allow-empty", action="store_true", default=sup,
                       help="an empty migrations folder is an empty history, not an error")
    group.add_argument(
        "--env",
        metavar="NAME",
        default=sup,
        help="environment name (env SWITCHY_ENV, default development)",
    )
    group.add_argument("--policy-dir", metavar="DIR", default=sup, help="policy folder")
    group.add_argument("--offline", action="store_true", default=sup,
                       help="remote sources: use the local cache only, no network")
    group.add_argument("--config", metavar="FILE", default=sup, help="config file")
    group.add_argument("--session-init", metavar="SQL", default=sup, action="append",
                       help="SQL run on every connection (SET FOREIGN_KEY_CHECKS=0, SET "
                            "search_path TO app); repeatable; overrides config and policy "
                            "session_init")
    group.add_argument("--statement-lock-timeout", metavar="S", type=_seconds, default=sup,
                       help="seconds each migration statement waits for a lock before it "
                            "gives up (PostgreSQL lock_timeout, MySQL lock_wait_timeout, "
                            "SQLite busy timeout); overrides config and policy")
    group.add_argument("--statement-timeout", metavar="S", type=_seconds, default=sup,
                       help="seconds each migration statement may run (PostgreSQL "
                            "statement_timeout, MariaDB max_statement_time)")
    group.add_argument("--lock-retries", metavar="N", type=_non_negative_int, default=sup,
                       help="retry a migration (a statement run outside a transaction) "
                            "that gave up on a lock or deadlocked N times, with backoff")
    group.add_argument("--format",
                       choices=("text", "json", "sarif", "github", "gitlab", "markdown"),
                       default=sup,
                       help="output format (sarif, github, gitlab: check and plan; markdown: "
                            "also rollback --plan)")
    group.add_argument("--debug", action="store_true", default=sup, help="tracebacks on errors")
    group.add_argument("--no-color", action="store_true", default=sup, help="plain output")
    group.add_argument("-q", "--quiet", action="store_true", default=sup, help="less output")


class UsageError(Exception):
    """A command line argparse could not read: shown as one ``error:`` line, exit 2."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(message)
        self.prog = prog
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is raised (one line, see :func:`main`), not printed
    with the whole usage block; the verbs' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self.prog, message)


def _usage_line(error: UsageError, parser: argparse.ArgumentParser,
                extra: Sequence[str] = ()) -> str:
    """``error: ...`` with a did-you-mean for a mistyped verb or flag."""
    import difflib
    import re

    message, hint = error.message, ""
    bad_verb = re.match(r"argument VERB: invalid choice: '?([^'\s]+)", message)
    if bad_verb:
        close = difflib.get_close_matches(bad_verb.group(1), VERBS, n=1)
        message = f"unknown verb {bad_verb.group(1)!r}"
        hint = f"; did you mean {close[0]!r}?" if close else f" (verbs: {', '.join(VERBS)})"
    elif extra:
        flags = [option for action in parser._actions for option in action.option_strings]
        for word in extra:
            close = difflib.get_close_matches(word.split("=")[0], flags, n=1, cutoff=0.7)
            if word.startswith("-") and close:
                hint = f"; did you mean {close[0]}?"
                break
    return _masked(f"error: {message}{hint} (see: {error.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``switchy-guard``."""
    parser = _Parser(
        prog="switchy-guard",
        description="Validate, plan, gate and run schema migrations safely.",
    )
    parser.add_argument("--version", action="version", version=f"switchy-guard {__version__}")
    _add_global_options(parser)
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True

    def verb(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        _add_global_options(sub)
        return sub

    create = verb("create", "create a new migration folder with up.sql and down.sql")
    create.add_argument("name", help="snake_case name, e.g. add_users_email")

    verb("list", "every known migration with its state")

    check = verb("check", "validate migrations: hazards, naming, graph, history (exit 1 on "
                          "findings at or above --fail-on)")
    check.add_argument("files", nargs="*", metavar="FILE.sql",
                       help="lint these files (- is standard input), each as one migration, "
                            "instead of the migrations folder")
    check.add_argument("--stdin-filename", metavar="NAME.sql",
                       help="the name findings give standard input (with -)")
    check.add_argument("--against", metavar="GITREF",
                       help="compare with the migrations as they are in this git revision")
    check.add_argument("--fail-on", choices=("error", "warning", "info"), default="error",
                       help="lowest severity that makes the exit code 1 (default error)")
    check.add_argument("--no-cache", action="store_true",
                       help="do not use or store the report cache of unchanged folders")
    check.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                       help="processes for a large folder checked without a database "
                            "(default: 2 when two cores are free; 1 = this process only)")
    check.add_argument("--alembic", nargs="?", const="alembic.ini", metavar="INI",
                       help="lint an Alembic project's revisions (default alembic.ini; "
                            "needs switchy-guard[alembic])")
    check.add_argument("--django", metavar="MANAGE_PY",
                       help="lint a Django project's migrations (needs switchy-guard[django])")
    check.add_argument("--settings", metavar="MODULE",
                       help="with --django: the settings module (DJANGO_SETTINGS_MODULE)")
    check.add_argument("--write", action="append", type=_format_file, default=[],
                       metavar="FORMAT:FILE",
                       help="also write the report in FORMAT (json, sarif, gitlab, github, "
                            "markdown) to FILE, from the same run; repeatable")
    check.add_argument("--gate", action="store_true",
                       help="also judge the findings by the --env policy (block_severities, "
                            "require_allow, refuse_irreversible): exit 1 when it would "
                            "refuse them, each refusal on stderr")
    check.add_argument("--server-version", metavar="VERSION", help=_SERVER_VERSION)

    rules = verb("rules", "list the hazard rules, or print one rule's docs")
    rules.add_argument("rule", nargs="?", metavar="CODE", help="a rule code or name")
    status = verb("status", "summary of the database: applied, pending, drift, dirty rows")
    status.add_argument("--history", action="store_true",
                        help="also the run history and the audit journal, oldest first")
    status.add_argument("--show-failed", action="store_true",
                        help="as switchy-migrate's; failed and in-progress rows are always shown")

    plan = verb("plan", "the impact report of what migrate would do (with row counts)")
    plan_target = plan.add_mutually_exclusive_group()
    plan_target.add_argument("--to", "--up-to", dest="to", metavar="ID", action=_SpelledAs,
                             help="up to and including this migration")
    plan_target.add_argument("--steps", type=_positive_int, metavar="N",
                             help="the next N pending migrations")
    plan.add_argument("--alembic", nargs="?", const="alembic.ini", metavar="INI",
                      help="the pending revisions of an Alembic project (default alembic.ini)")
    _add_gate_options(plan)
    plan.add_argument("--server-version", metavar="VERSION", help=_SERVER_VERSION)

    migrate = verb("migrate", "apply pending migrations")
    target = migrate.add_mutually_exclusive_group()
    target.add_argument(
        "--to", "--up-to", dest="to", metavar="ID", action=_SpelledAs,
        help="apply up to and including this migration"
    )
    target.add_argument(
        "--steps", type=_positive_int, metavar="N", help="apply the next N pending migrations"
    )
    migrate.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    migrate.add_argument(
        "--force", action="store_true", help="go on despite in_progress rows or checksum drift"
    )
    migrate.add_argument(
        "--retry-failed",
        action="store_true",
        help="re-run failed migrations (their row is replaced)",
    )
    migrate.add_argument("--from-start", action="store_true", help=_FROM_START)
    migrate.add_argument(
        "--lock-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="seconds to wait for the migration lock (exit 3 after)",
    )

    _add_gate_options(migrate)
    migrate.add_argument(
        "--require-checksum-validation",
        action="store_true",
        default=None,  # then MIGRATION_REQUIRE_CHECKSUM_VALIDATION (read in main)
        help="refuse on any checksum mismatch or unknown checksum, even with --force "
        "(env MIGRATION_REQUIRE_CHECKSUM_VALIDATION=1)",
    )

    rollback = verb("rollback", "roll back applied migrations, newest first")
    scope = rollback.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "--steps",
        type=_positive_int,
        metavar="N",
        help="roll back the last N applied migrations",
    )
    scope.add_argument(
        "--to", metavar="ID", help="roll back every migration applied after ID (ID stays)"
    )
    scope.add_argument("--all", action="store_true", help="roll back every applied migration")
    rollback.add_argument("--plan", action="store_true",
                          help="print the rollback impact report (rows that would be lost), "
                               "change nothing")
    rollback.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    rollback.add_argument(
        "--force", action="store_true", help="go on despite in_progress rows or checksum drift"
    )
    rollback.add_argument(
        "--lock-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="seconds to wait for the migration lock (exit 3 after)",
    )
    _add_gate_options(rollback)
    validate = verb("validate", "compare the checksums of applied migrations with the files")
    validate.add_argument("--strict", action="store_true", help="exit 1 on any mismatch")
    validate.add_argument("--verbose", action="store_true", help="show checksum values")

    mark_all = verb("mark-all-completed",
                    "record migrations as completed without running them (dangerous)")
    mark_all.add_argument("--include-failed", dest="scopes", action="append_const",
                          const="include-failed", help="also turn failed rows to completed")
    mark_all.add_argument("--include-in-progress", dest="scopes", action="append_const",
                          const="include-in-progress",
                          help="also turn in_progress rows to completed")
    mark_all.add_argument("--all", dest="scopes", action="append_const", const="all",
                          help="rewrite every migration's row as completed")
    mark_all.add_argument("--to", metavar="ID",
                          help="a partial baseline: only the migrations up to and including "
                               "ID")
    mark_all.add_argument("--drop", action="store_true",
                          help="drop and recreate the tracking table first (history is lost)")
    mark_all.add_argument("--force", action="store_true", help="skip the confirmation")

    markers = []
    for name, help_text in (
        ("mark-completed", "record one migration as completed without running it"),
        ("mark-failed", "record one migration as failed without running it"),
    ):
        marker = verb(name, help_text)
        marker.add_argument("id", metavar="ID")
        if name == "mark-failed":
            marker.add_argument("--reason", default="marked failed by hand",
                                help="the failure_reason to record")
        marker.add_argument("--force", action="store_true", help="skip the confirmation" + (
            "; record it even when what its up creates is missing (journaled)"
            if name == "mark-completed" else ""))
        markers.append(marker)
    retry = verb("retry", "re-run one failed migration (through the gates, like migrate)")
    retry.add_argument("id", metavar="ID")
    retry.add_argument("--from-start", action="store_true", help=_FROM_START)
    retry.add_argument("--ack-backup", action="store_true",
                       help="acknowledge that a backup exists (policies with backup = "
                            "\"ack\" need it before destructive steps)")
    retry.add_argument("--force", action="store_true", help="skip the confirmation")

    verify = verb("verify", "apply up, down and up on a scratch database and compare schemas")
    verify.add_argument("--scratch", metavar="URL",
                        help="scratch database (default: a temporary SQLite file, or a new "
                             "database beside -d on a PostgreSQL/MySQL server)")
    verify.add_argument("--setup", metavar="FILE.sql",
                        help="SQL run on the scratch database before the first up (tables "
                             "of the host application the migrations refer to)")
    verify_less = verify.add_mutually_exclusive_group()
    verify_less.add_argument("--against", metavar="GITREF",
                             help="verify only the migrations new or changed since this git "
                                  "revision; the older ones are applied up only")
    verify_less.add_argument("--only", nargs="+", metavar="ID",
                             help="verify only these migrations; the others are applied up "
                                  "only")

    adopt = verb("adopt-checksums",
                 "record current checksums for rows holding unknown ones (64 zeros)")
    adopt.add_argument("ids", nargs="*", metavar="ID", help="only these migrations")
    adopt.add_argument("--force", action="store_true", help="skip the confirmation")
    adopt_from = verb("adopt", "record as completed the migrations another tool's tracking "
                               "table says are applied (a database migrated by another tool)")
    adopt_from.add_argument("--from", dest="tool", required=True, metavar="TOOL",
                            choices=("golang-migrate", "flyway", "diesel", "sqlx", "dbmate",
                                     "goose", "alembic"),
                            help="golang-migrate, flyway, diesel, sqlx, dbmate, goose or "
                                 "alembic")
    adopt_from.add_argument("--table", metavar="NAME",
                            help="the tool's tracking table (default: the tool's own name)")
    adopt_from.add_argument("--dry-run", action="store_true",
                            help="print what would be recorded, change nothing")
    adopt_from.add_argument("--force", action="store_true", help="skip the confirmation")
    lock = verb("lock", "see (status) or clear (break) the migration lock")
    lock.add_argument("action", choices=("status", "break"))
    lock.add_argument("--force", action="store_true",
                      help="break: also a lock whose holder looks alive (its session is "
                           "terminated); skips the yes-confirmation where no policy asks one")
    lock.add_argument("--stale-only", action="store_true",
                      help="break: only a free or stale lock (its holder gone), without a "
                           "confirmation; refused (exit 1) when the holder is alive")
    for sub in (mark_all, adopt, adopt_from, retry, lock, *markers):
        sub.add_argument("--confirm", metavar="ENV",
                         help="confirm for the environment ENV (required where the policy "
                              "asks for confirmation and there is no terminal)")
    from .fleet.command import register as register_fleet

    register_fleet(verb)
    return parser


_FROM_START = ("re-run a failed migration that left statements applied (it ran statement "
               "by statement) from its first statement: say so once they are undone")


_SERVER_VERSION = ("the server the version-aware rules judge by: 15, 10.6, postgresql-11, "
                   "mysql-8.0.11, mariadb-10.4 (under -d the live server's own wins)")


def _add_gate_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--confirm", metavar="ENV",
                        help="confirm the run for environment ENV (must equal --env; required "
                             "where the policy asks for confirmation and there is no terminal)")
    parser.add_argument("--ack-backup", action="store_true",
                        help="acknowledge that a backup exists (policies with backup = \"ack\" "
                             "need it before destructive steps)")


def _env_flag(name: str) -> bool:
    """A yes/no environment variable; anything else is refused, not read as "no" (a
    mistyped value must not silently turn a safety check off)."""
    import os

    value = os.environ.get(name, "").strip()
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("", "0", "false", "no", "off"):
        return False
    raise ConfigError(f"environment variable {name}={value!r}: use true or false (1 or 0)")


class _SpelledAs(argparse.Action):
    """Stores the value, and in ``<dest>_flag`` the option as typed (``--up-to``), so an
    error names the argument the person wrote."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, f"{self.dest}_flag", option_string)


def _check_id_argument(ctx: Context, migrator: Migrator, migration_id: str) -> None:
    """An ID of ``retry``, ``mark-*`` or ``adopt-checksums``: an empty, blank or unknown
    one is refused (exit 2, naming the verb) before any confirmation or change."""
    from .errors import check_migration_id

    check_migration_id(ctx.args.verb, migration_id, {m.id for m in migrator.migrations()})


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _non_negative_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


#: The formats ``check --write FORMAT:FILE`` writes.
WRITE_FORMATS = ("json", "sarif", "gitlab", "github", "markdown")


def _format_file(text: str) -> tuple[str, str]:
    fmt, colon, file = text.partition(":")
    if fmt not in WRITE_FORMATS or not colon or not file:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not FORMAT:FILE with FORMAT one of {', '.join(WRITE_FORMATS)}")
    return fmt, file


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # nan too
        raise argparse.ArgumentTypeError("must be 0 or more")
    if value == float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number")
    return value


class Context:
    """What a verb needs: its arguments, settings and output streams."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO, err: TextIO, argv: Sequence[str] = ()
    ) -> None:
        from .config import resolve_settings

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
        flags = {name: getattr(args, name, None) for name in _GLOBAL_FLAGS}
        flags["lock_timeout"] = getattr(args, "lock_timeout", None)
        flags["server_version"] = getattr(args, "server_version", None)
        self.settings: Settings = resolve_settings(flags)
        _remember_settings(self.settings)

    def session_init(self) -> SessionInit | None:
        """The session settings: ``--session-init``, else the config's ``session_init``,
        else the chosen policy's (read only when a database engine is made)."""
        from .session_init import parse_session_init

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
        from .server_version import given_server_version

        return given_server_version(
            self.settings.server_version, config_file=self.settings.config_file,
            flag=getattr(self.args, "server_version", None) is not None)

    def _likely_policy(self) -> Policy | None:
        """The policy the gates would choose (match_urls first, then --env), without
        checking its rule names (that loads the rule catalog, for any verb), nor asking
        the database who it is."""
        from .policy import database_target, load_policies

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
        from .retry import Timeouts

        s = self.settings
        return Timeouts(s.statement_lock_timeout, s.statement_timeout, s.lock_retries)

    def timeouts(self) -> Timeouts:
        """The timeouts in force: flag, else config, else the likely policy's (a gated
        run puts the policy it chose under the flags and config; see gated.py)."""
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
        from .runner import Migrator

        url = self.settings.database_url
        if not url:
            raise ConfigError(
                f"'{self.args.verb}' needs a database: give -d URL or set SWITCHY_DATABASE_URL"
            )
        database: Any = url
        if reads_only or must_exist:
            from .db import absent_sqlite_file, empty_stand_in

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
            from .db import refuse_missing_sqlite_folder

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
        from .discovery import as_source

        layout, allow_empty = settings.layout, settings.allow_empty
        if not any(item.startswith(("http://", "https://")) for item in items):
            single = dirs[0] if isinstance(dirs, list) and len(dirs) == 1 else dirs
            if layout == "auto" and not allow_empty:
                return single  # text: check's cache and --against know it
            return as_source(single, checksum_mode=settings.checksum_mode, layout=layout,
                             allow_empty=allow_empty)
        from .discovery.remote import RemoteMigrations

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
            from .report.envelope import write_document

            write_document(self.out, data)
            return
        self._document = {**(self._document or {}), **data}

    def flush_json(self) -> None:
        """Print the document :meth:`emit_json` holds, if any."""
        from .report.envelope import write_document

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


# -- verbs ----------------------------------------------------------------------------


def cmd_create(ctx: Context) -> int:
    """``create NAME``: a new migration folder stamped with the UTC time."""
    from .discovery import DirectoryMigrations, as_source
    from .scaffold import create_migration

    dirs = ctx.settings.migrations_dir
    if isinstance(dirs, list):
        if len(dirs) != 1:
            raise ConfigError("'create' needs exactly one migrations folder (-m DIR)")
        dirs = dirs[0]
    if not isinstance(as_source(dirs), DirectoryMigrations):
        # A folder named "pkg:migrations" would be made here, and then read instead of
        # the package.
        raise ConfigError(f"'create' writes to a folder on disk, and {dirs} is a package "
                          "or a remote index: give the folder with -m DIR")
    from .scaffold import create_in_layout

    made = create_in_layout(Path(dirs), ctx.args.name, layout=ctx.settings.layout,
                            dialect=ctx.settings.dialect, now=datetime.now(UTC))
    if made is not None:
        if ctx.format == "json":
            ctx.emit_json({"created": [str(path) for path in made]})
        else:
            ctx.out.write(f"created {' and '.join(str(path) for path in made)}\n")
        return 0
    folder = create_migration(
        Path(dirs),
        ctx.args.name,
        dialect=ctx.settings.dialect,
        now=datetime.now(UTC),
    )
    if ctx.format == "json":
        ctx.emit_json({"created": str(folder)})
    else:
        ctx.out.write(f"created {folder}/up.sql and {folder}/down.sql\n")
    return 0


def cmd_list(ctx: Context) -> int:
    """``list``: every migration with its state."""
    from .report.state import list_text, status_entry

    migrator = ctx.migrator(reads_only=True)
    state = migrator.state()
    layout = _layout_read(migrator)
    if ctx.format == "json":
        ctx.emit_json({"layout": layout,
                       "migrations": [status_entry(e) for e in state.entries]})
    else:
        console = ctx.console()
        color = console.is_terminal and not getattr(ctx.args, "no_color", False)
        if layout not in (None, "switchy"):  # switchy's own output stays as it was
            ctx.out.write(f"Layout: {layout}{_how_chosen(ctx)}\n")
        ctx.out.write(list_text(state, color_system=console.color_system if color else None))
    return 0


def _layout_read(migrator: Migrator) -> str | None:
    """The layout the migrations folder was read in (None: not a folder)."""
    from .discovery import layout_of

    return layout_of(migrator.source)


def _how_chosen(ctx: Context) -> str:
    return " (detected)" if ctx.settings.layout == "auto" else ""


def cmd_status(ctx: Context) -> int:
    """``status [--history]``: counts, drift, dirty rows; the journal with --history."""
    from .adoption import detect_on, other_tool_notes
    from .db import mask_url
    from .lockstatus import lock_status
    from .report.state import (
        migrate_blocker,
        print_status,
        state_warnings,
        status_entry,
        summary,
    )

    migrator = ctx.migrator(reads_only=True)
    state = migrator.state()
    # What a plain migrate would do here: refuse (naming what blocks it), or run.
    blocker = migrate_blocker(migrator, state, require_checksum_validation=_env_flag(
        "MIGRATION_REQUIRE_CHECKSUM_VALIDATION"))
    lock = lock_status(migrator.engine, migrator.tracking.name)
    history = _history(migrator, state) if ctx.args.history else None
    others = detect_on(migrator)  # tables of golang-migrate, Flyway, ... (adopt --from)
    other_notes = other_tool_notes(others, state.migrations, state.rows)
    from .blockers import invalid_indexes

    invalid = invalid_indexes(migrator.engine)
    if ctx.format == "json":
        pending = state.pending()
        data: dict[str, Any] = {
            "database": mask_url(migrator.engine.url),
            "layout": _layout_read(migrator),
            "summary": summary(state),
            "warnings": state_warnings(state, migrator.dialect) + other_notes,
            "other_tools": [other.to_dict() for other in others],
            "lock": lock.to_dict(),
            "migrations": [status_entry(e) for e in state.entries],
            "next_to_apply": pending[0].id if pending and blocker is None else None,
            "blocked_by": blocker.to_dict() if blocker is not None else None,
            "invalid_indexes": invalid,
        }
        if history is not None:
            data["history"], data["audit"] = history
        ctx.emit_json(data)
        return 0
    print_status(ctx.out, state, mask_url(migrator.engine.url), migrator.dialect, blocker,
                 others=[other.describe() for other in others], other_notes=other_notes)
    layout = _layout_read(migrator)
    if layout not in (None, "switchy"):
        ctx.out.write(f"Layout: {layout}{_how_chosen(ctx)}\n")
    ctx.out.write(f"Lock: {'STALE ' if lock.stale else ''}{lock.explanation}\n")
    if invalid:  # a retry of its migration drops it (concurrently) and builds it again
        ctx.out.write("INVALID indexes (left by a failed CREATE INDEX CONCURRENTLY; a retry "
                      f"drops and rebuilds them): {', '.join(invalid)}\n")
    if history is not None:
        runs, audit = history
        ctx.out.write("\nRuns (oldest first):\n")
        for run in runs:
            reason = f" ({run['failure_reason']})" if run["failure_reason"] else ""
            ctx.out.write(f"  {run['run_on']}  {run['status']:<11} {run['id']}{reason}\n")
        ctx.out.write("Audit journal (oldest first):\n" if audit else "Audit journal: empty\n")
        for entry in audit:
            ctx.out.write(
                f"  {entry['happened_at']}  {entry['os_user']}@{entry['host']} "
                f"[{entry['environment']}/{entry['policy'] or '-'}] {entry['command']} -> "
                f"{entry['outcome']}"
                f"{' in ' + str(entry['duration_ms']) + ' ms' if entry['duration_ms'] else ''}"
                f"{': ' + entry['detail'] if entry['detail'] else ''}\n"
            )
    return 0


def _history(migrator: Migrator, state: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from dataclasses import asdict

    from .audit import AuditJournal
    from .db import connect
    from .tracking import format_time

    runs = [
        {"id": row.id, "status": row.status, "run_on": format_time(row.run_on),
         "finished_on": format_time(row.finished_on), "failure_reason": row.failure_reason}
        for row in state.history()
    ]
    with connect(migrator.engine) as conn:
        entries = AuditJournal(migrator.tracking.name).entries(conn)
    audit = [{**asdict(e), "happened_at": format_time(e.happened_at)} for e in entries]
    return runs, audit


def cmd_check(ctx: Context) -> int:
    """``check``: run the validator pipeline and print the findings."""
    from .check import run_check

    settings = ctx.settings
    # A missing policy (--env mistyped) is bad input: refused before any report is printed.
    choice = _gate_policy(ctx) if ctx.args.gate else None
    for fmt, file in ctx.args.write:  # a file that cannot be written: refused before the run
        if not Path(file).parent.is_dir():
            raise ConfigError(f"--write {fmt}:{file}: folder {Path(file).parent} does not exist")
    if ctx.args.files or ctx.args.stdin_filename:
        return _report_check(ctx, choice, _check_files(ctx))
    if ctx.args.alembic or ctx.args.django:
        from .frameworks.cli import check_framework

        return _report_check(ctx, choice, check_framework(ctx))
    dirs = ctx.source()
    report = run_check(
        dirs,
        settings.dialect,
        database_url=settings.database_url,
        table=settings.migration_table,
        against=ctx.args.against,
        migrations_dir=dirs if isinstance(dirs, str) else getattr(dirs, "root", None),
        use_cache=not ctx.args.no_cache,
        checksum_mode=settings.checksum_mode,
        jobs=ctx.args.jobs,
        server_version=ctx.server_version(),
    )
    ctx.notes += report.notes
    return _report_check(ctx, choice, report)


def _report_check(ctx: Context, choice: PolicyChoice | None, report: Any) -> int:
    """Print a check's report; its exit code."""
    from .findings import Severity
    from .report import findings as render

    if ctx.format in WRITE_FORMATS:
        ctx.out.write(_rendered_check(ctx, ctx.format, report))
    else:
        render.print_text(ctx.console(), report.findings, report.summary)
    for fmt, file in ctx.args.write:  # the same findings, in more formats (one run for CI)
        try:
            Path(file).write_text(_rendered_check(ctx, fmt, report), encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--write {fmt}:{file}: {exc.strerror or exc}") from None
    refused = _check_gate(ctx, choice, report.findings) if choice is not None else False
    return 1 if refused or report.fails(Severity(ctx.args.fail_on)) else 0


def _rendered_check(ctx: Context, fmt: str, report: Any) -> str:
    """A check's report in ``fmt`` (one of WRITE_FORMATS), ready to write."""
    from .report import findings as render

    if fmt == "json":
        return render.to_json(report.findings, report.summary) + "\n"
    if fmt == "markdown":
        return render.to_markdown(report.findings, report.summary, allowed=len(report.allowed))
    folder = ctx.args.files or ctx.settings.migrations_dir
    return render.for_code_scanning(report.findings, fmt, allowed=report.allowed,
                                    automation=render.automation_id(ctx.settings.dialect,
                                                                    folder))


def _check_files(ctx: Context) -> Any:
    """``check FILE.sql ...`` / ``check - --stdin-filename NAME``: SQL without a history."""
    from .check_files import check_files

    if ctx.args.against:
        raise ConfigError("check of files lints SQL alone: --against (history rules) does "
                          "not apply to it")
    dialect = ctx.settings.dialect
    if dialect is None and ctx.settings.database_url:
        from .db import dialect_of

        dialect = dialect_of(ctx.settings.database_url)
    return check_files(ctx.args.files, dialect, stdin_name=ctx.args.stdin_filename,
                       server_version=ctx.server_version())


def _gate_policy(ctx: Context) -> PolicyChoice:
    """``check --gate``: the policy of ``--env`` (or the one whose match rules win)."""
    from .policy import choose_policy

    return choose_policy(ctx.settings, ctx.settings.database_url or None)


def _check_gate(ctx: Context, choice: PolicyChoice, findings: list[Any]) -> bool:
    """``check --gate``: would the environment's policy refuse these findings? The
    verdict is migrate's: rollback-time findings (down scripts) are left to the rollback
    gate, which judges a down against the database it runs on."""
    from .gate import finding_refusals

    downs = sum(1 for f in findings if f.rollback_time)
    refusals = finding_refusals([f for f in findings if not f.rollback_time], choice.policy)
    if downs and not ctx.quiet:
        ctx.err.write(f"gate: {downs} rollback-time finding(s) not judged here: the rollback "
                      "gate judges down scripts when a rollback is planned\n")
    for check in refusals:
        ctx.err.write(f"gate: policy {choice.policy.name} would refuse "
                      f"{check.migration}: {check.check}: {check.reason}\n")
    if not refusals and not ctx.quiet:
        ctx.err.write(f"gate: policy {choice.policy.name} ({choice.reason}) would let these "
                      "findings through\n")
    return bool(refusals)


def cmd_rules(ctx: Context) -> int:
    """``rules [CODE]``: the catalog, or one rule's docs."""
    from .rules import all_rules, get_rule

    if ctx.args.rule:
        rule = get_rule(ctx.args.rule)
        if rule is None:
            raise ConfigError(f"unknown rule {ctx.args.rule!r} (see: switchy-guard rules)")
        if ctx.format == "json":
            ctx.emit_json(_rule_json(rule))
        else:
            ctx.out.write(rule.docs() + "\n")
        return 0
    if ctx.format == "json":
        ctx.emit_json({"rules": [_rule_json(rule) for rule in all_rules()]})
        return 0
    from rich.table import Table

    table = Table(title="switchy-guard rules", title_justify="left")
    for column in ("code", "name", "severity", "dialects", "what"):
        table.add_column(column)
    for rule in all_rules():
        table.add_row(rule.code, rule.name, rule.severity.value,
                      ",".join(sorted(rule.dialects)), rule.summary)
    ctx.console().print(table)
    return 0


def _rule_json(rule: Any) -> dict[str, Any]:
    return {
        "code": rule.code, "name": rule.name, "severity": rule.severity.value,
        "dialects": sorted(rule.dialects), "summary": rule.summary, "why": rule.why,
        "instead": rule.instead, "example": rule.example, "fixed": rule.fixed,
    }


def cmd_validate(ctx: Context) -> int:
    """``validate [--strict]``: recorded checksums against the files."""
    from .recovery import validate_checksums

    state = ctx.migrator(reads_only=True).state()
    report = validate_checksums(state)
    if ctx.format == "json":
        ctx.emit_json({
            "ok": report.ok, "verified": report.verified, "unknown": report.unknown,
            "missing": report.missing,
            "mismatched": [{"id": i, "scripts": list(d)} for i, d in report.mismatched],
        })
    else:
        out = ctx.out
        for migration_id, scripts in report.mismatched:
            out.write(f"MISMATCH {migration_id}: {' and '.join(scripts)} script changed\n")
            if ctx.args.verbose:
                row, entry = state.rows[migration_id], state.get(migration_id)
                migration = entry.migration if entry else None
                if migration is not None:
                    out.write(f"  up:   recorded {row.up_checksum}, now {migration.up_checksum}\n"
                              f"  down: recorded {row.down_checksum}, now "
                              f"{migration.down_checksum}\n")
        for migration_id in report.unknown:
            out.write(f"UNKNOWN  {migration_id}: recorded without checksums "
                      "(adopt-checksums records the current ones)\n")
        for migration_id in report.missing:
            out.write(f"MISSING  {migration_id}: applied, absent from the sources\n")
        out.write(f"{len(report.verified)} verified, {len(report.mismatched)} mismatched, "
                  f"{len(report.unknown)} unknown, {len(report.missing)} missing\n")
    return 1 if ctx.args.strict and not report.ok else 0


def cmd_mark_all_completed(ctx: Context) -> int:
    """``mark-all-completed``: record migrations as completed without running them."""
    from .recovery import Scope, mark_all_completed, scope_label

    scopes: list[Scope] = ctx.args.scopes or ["pending"]
    scope = scope_label(scopes)
    migrator = ctx.migrator(must_exist=True)
    warning = " The tracking table is DROPPED first: all history is lost." if ctx.args.drop \
        else ""
    if ctx.args.to is not None:  # refused before anyone is asked to confirm
        from .recovery import migrations_up_to

        migrations_up_to(migrator.migrations(), ctx.args.to)
        scope += f", up to and including {ctx.args.to}"
    policy = confirm_recovery(
        ctx, migrator,
        f"Mark migrations as completed without running them (scope {scope}).{warning}")
    marked = mark_all_completed(migrator, scopes, drop=ctx.args.drop,
                                environment=ctx.settings.env,
                                command=command_line(ctx), policy=policy, to=ctx.args.to)
    if ctx.format == "json":
        ctx.emit_json({"marked": marked})
    else:
        ctx.out.write(f"marked {len(marked)} migration(s) completed\n")
    return 0


def cmd_adopt_checksums(ctx: Context) -> int:
    """``adopt-checksums [ID...]``: record current checksums for unknown ones."""
    from .recovery import adopt_checksums

    migrator = ctx.migrator(must_exist=True)
    for migration_id in ctx.args.ids:
        _check_id_argument(ctx, migrator, migration_id)
    policy = confirm_recovery(
        ctx, migrator,
        "Record the current files' checksums for rows holding unknown ones.")
    adopted = adopt_checksums(migrator, ctx.args.ids, environment=ctx.settings.env,
                              command=command_line(ctx), policy=policy)
    if ctx.format == "json":
        ctx.emit_json({"adopted": adopted})
    else:
        ctx.out.write(f"adopted the current checksums of {len(adopted)} migration(s)\n")
    return 0


def cmd_adopt(ctx: Context) -> int:
    """``adopt --from TOOL``: take over the history of a database another tool migrated."""
    from .adoption import adopt

    dry_run, tool = ctx.args.dry_run, ctx.args.tool
    migrator = ctx.migrator(reads_only=dry_run, must_exist=not dry_run)
    policy = None if dry_run else confirm_recovery(
        ctx, migrator, f"Record as completed the migrations {tool}'s tracking table says "
                       "are applied, without running them.")
    adoption = adopt(migrator, tool, table_name=ctx.args.table, dry_run=dry_run,
                     environment=ctx.settings.env, command=command_line(ctx), policy=policy)
    if ctx.format == "json":
        ctx.emit_json({**adoption.to_dict(), "dry_run": dry_run})
        return 0
    verb = "would record" if dry_run else "recorded"
    ctx.out.write(f"{adoption.history.describe()}\n")
    for migration_id in adoption.adopt:
        ctx.out.write(f"  {verb} {migration_id} as completed\n")
    for note in adoption.notes:
        ctx.out.write(f"  {note}\n")
    already = f" ({len(adoption.already)} already completed)" if adoption.already else ""
    ctx.out.write(f"{'Dry run: ' if dry_run else ''}{verb} {len(adoption.adopt)} "
                  f"migration(s) as completed{already}\n")
    return 0


def cmd_mark(ctx: Context) -> int:
    """``mark-completed ID`` / ``mark-failed ID``: set one migration's state by hand."""
    from .recovery import mark

    status: Literal["completed", "failed"] = (
        "completed" if ctx.args.verb == "mark-completed" else "failed"
    )
    # Marking a migration completed on a new database (to skip it there) is a real use;
    # marking one failed where nothing ever ran is not.
    migrator = ctx.migrator(must_exist=status == "failed")
    _check_id_argument(ctx, migrator, ctx.args.id)
    policy = confirm_recovery(
        ctx, migrator, f"Record {ctx.args.id} as {status} without running it.")
    previous = mark(migrator, ctx.args.id, status, reason=getattr(ctx.args, "reason", None),
                    environment=ctx.settings.env, command=command_line(ctx), policy=policy,
                    force=ctx.args.force)
    if ctx.format == "json":
        ctx.emit_json({"id": ctx.args.id, "status": status, "previous": previous})
    elif previous == status == "completed":
        ctx.out.write(f"{ctx.args.id} was already completed: unchanged\n")
    else:
        ctx.out.write(f"{ctx.args.id} recorded as {status} (was {previous})\n")
    return 0


def cmd_retry(ctx: Context) -> int:
    """``retry ID``: re-run one failed migration."""
    from .commands_gated import gate_options, impact_shower
    from .recovery import retry

    migrator = ctx.migrator(must_exist=True)
    _check_id_argument(ctx, migrator, ctx.args.id)
    gate = gate_options(ctx, migrator)
    try:
        policy = confirm_recovery(
            ctx, migrator, f"Re-run the failed migration {ctx.args.id}.", gate)
    except Refused as refused:  # journaled, as every refused migrate, rollback and retry
        from .gated import journal_refusal

        journal_refusal(migrator, gate, refused, target=ctx.args.id)
        raise
    gate.confirm = gate.choice.environment  # confirmed just above: not asked twice
    done = retry(migrator, ctx.args.id, environment=ctx.settings.env,
                 command=command_line(ctx), policy=policy, gate=gate,
                 from_start=ctx.args.from_start, show=impact_shower(ctx))
    if ctx.format == "json":
        ctx.emit_json({"retried": done})
    else:
        ctx.out.write(f"retried {', '.join(done)}\n")
    return 0


def cmd_verify(ctx: Context) -> int:
    """``verify``: prove the down scripts (see :mod:`switchy_guard.commands_verify`)."""
    from .commands_verify import cmd_verify as run_verify

    return run_verify(ctx)


def command_line(ctx: Context) -> str:
    """The command as typed, passwords masked (for the audit journal)."""
    from .db import mask_command

    return mask_command(["switchy-guard", *ctx.argv])


def cmd_lock(ctx: Context) -> int:
    """``lock status|break``: see :mod:`switchy_guard.commands_gated`."""
    from .commands_gated import cmd_lock as run

    return run(ctx)


def cmd_migrate(ctx: Context) -> int:
    """``migrate``: see :mod:`switchy_guard.commands_gated`."""
    from .commands_gated import cmd_migrate as run

    return run(ctx)


def cmd_rollback(ctx: Context) -> int:
    """``rollback``: see :mod:`switchy_guard.commands_gated`."""
    from .commands_gated import cmd_rollback as run

    return run(ctx)


def cmd_plan(ctx: Context) -> int:
    """``plan``: see :mod:`switchy_guard.commands_gated`."""
    from .commands_gated import cmd_plan as run

    if ctx.args.alembic:
        from .frameworks.cli import plan_alembic

        return plan_alembic(ctx)

    return run(ctx)


def confirm_recovery(ctx: Context, migrator: Migrator, question: str,
                     options: GateOptions | None = None) -> str:
    """Confirm a recovery verb (see :mod:`switchy_guard.commands_gated`)."""
    from .commands_gated import confirm_recovery as confirm

    return confirm(ctx, migrator, question, options)


def cmd_fleet(ctx: Context) -> int:
    """``fleet plan|migrate|status|rollback``: see :mod:`switchy_guard.fleet.command`."""
    from .fleet.command import run

    return run(ctx)


VERBS: dict[str, Callable[[Context], int]] = {
    "create": cmd_create,
    "list": cmd_list,
    "check": cmd_check,
    "rules": cmd_rules,
    "status": cmd_status,
    "migrate": cmd_migrate,
    "rollback": cmd_rollback,
    "validate": cmd_validate,
    "mark-all-completed": cmd_mark_all_completed,
    "adopt-checksums": cmd_adopt_checksums,
    "adopt": cmd_adopt,
    "mark-completed": cmd_mark,
    "mark-failed": cmd_mark,
    "retry": cmd_retry,
    "verify": cmd_verify,
    "plan": cmd_plan,
    "lock": cmd_lock,
    "fleet": cmd_fleet,
}


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit code (see CLI.md).

    Everything written goes through :class:`~switchy_guard.masking.SafeOutput` (secrets
    masked, control characters from outside made harmless), and the passwords of the
    URLs and tokens this run was handed are masked wherever they turn up: in a usage
    error echoing a mistyped flag's URL, in a driver's message, in a --debug traceback.
    """
    from .masking import SafeOutput, known_secrets

    if out is None:
        from .pipe_output import ReaderSafeOutput

        out = cast(TextIO, ReaderSafeOutput(sys.stdout))
    arguments = list(sys.argv[1:] if argv is None else argv)
    with known_secrets(_secrets_of_this_run(arguments)):
        return _main(arguments, cast(TextIO, SafeOutput(out)),
                     cast(TextIO, SafeOutput(err or sys.stderr)))


_SECRET_ENVIRONMENT = ("SWITCHY_DATABASE_URL", "DATABASE_URL", "SWITCHY_REMOTE_TOKEN",
                       "SWITCHY_REMOTE_PASSWORD", "PGPASSWORD", "MYSQL_PWD")


def _secrets_of_this_run(arguments: Sequence[str]) -> list[str]:
    """The secret parts of the arguments (URL passwords, ``password=`` values, the value
    after ``--password``) and of the environment variables holding secrets."""
    import os

    from .masking import is_secret_key, secrets_in

    found: list[str] = []
    for number, argument in enumerate(arguments):
        previous = arguments[number - 1] if number else ""
        if previous.startswith("-") and "=" not in previous and is_secret_key(previous):
            found.append(argument)
        found += secrets_in(argument)
    for name in _SECRET_ENVIRONMENT:
        value = os.environ.get(name)
        if value:
            found += secrets_in(value) if "URL" in name else [value]
    return found


def _remember_settings(settings: Settings) -> None:
    """The config file's secrets join the run's known secrets."""
    from .masking import remember, secrets_in

    remember(settings.remote_token, settings.remote_password,
             *secrets_in(settings.database_url or ""))


def _main(argv: Sequence[str] | None, out: TextIO, err: TextIO) -> int:
    import warnings

    # A library warning (an audit journal that could not be written) is one line here,
    # like every other message, not Python's file:line and source excerpt.
    warnings.formatwarning = _one_line_warning
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # as parse_args would, but naming the verb and a likely flag
            verb_parser = _verb_parser(parser, getattr(args, "verb", None))
            usage = UsageError(verb_parser.prog, f"unrecognized arguments: {' '.join(extra)}")
            return _usage_failure(_usage_line(usage, verb_parser, extra), argv, out, err,
                                  getattr(args, "verb", None))
    except UsageError as usage:
        verb = usage.prog.partition(" ")[2] or None  # a verb's own parser refused
        return _usage_failure(_usage_line(usage, parser), argv, out, err, verb)
    except SystemExit as exit_:  # --help, --version
        return int(exit_.code or 0)
    debug = bool(getattr(args, "debug", False))
    if not debug:
        import logging

        # SQLAlchemy's pool logs a traceback when it cannot reset a connection the
        # server dropped; the error that matters is reported as one line below.
        logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())
    ctx: Context | None = None
    try:
        ctx = Context(args, out, err, sys.argv[1:] if argv is None else argv)
        if getattr(args, "require_checksum_validation", False) is None:
            args.require_checksum_validation = _env_flag("MIGRATION_REQUIRE_CHECKSUM_VALIDATION")
        if ctx.format in ("sarif", "github", "gitlab") and args.verb not in ("check", "plan"):
            raise ConfigError(f"--format {ctx.format} is only for check and plan")
        if ctx.format == "markdown" and args.verb not in ("check", "plan", "fleet") and not (
                args.verb == "rollback" and (args.plan or args.dry_run)):
            # A real rollback has no markdown report: refused before it runs, not after.
            raise ConfigError("--format markdown is only for check, plan and rollback --plan")
        from .session_init import session_init_in_effect
        from .unknown_types import collect_unknown_types, unknown_types_note

        with session_init_in_effect(ctx.session_init), \
                collect_unknown_types() as unknown_types:
            code = VERBS[args.verb](ctx)
        if note := unknown_types_note(unknown_types):  # one line, not one per column
            ctx.notes.append(note)
        ctx.flush_json()
        for note in ctx.notes:
            err.write(note + "\n")
        return code
    except SwitchyError as error:
        if debug:
            traceback.print_exc(file=err)
        err.write(f"error: {_masked(error.one_line())}\n")
        _json_failure(args, ctx, out, error.exit_code, error, _masked(error.one_line()))
        return error.exit_code
    except KeyboardInterrupt as interrupt:
        err.write("error: interrupted\n")
        _json_failure(args, ctx, out, 130, interrupt, "interrupted")
        return 130
    except Exception as error:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        if not isinstance(error, SQLAlchemyError):
            # A bug: its traceback follows, but a script reading stdout still gets JSON.
            _json_failure(args, ctx, out, 1, error, _masked(str(error)))
            raise
        if debug:
            traceback.print_exc(file=err)
        from .db import access_refused, database_reason

        # The database refusing this user (a privilege, a read-only database) is a
        # matter of configuration: exit 2, like other bad configuration.
        failure: SwitchyError = (
            ConfigError(f"'{args.verb}': the database refused it: {database_reason(error)}")
            if isinstance(error, DBAPIError) and access_refused(error)
            else DatabaseUnavailable(_database_message(error))
        )
        err.write(f"error: {failure.one_line()}\n")
        _json_failure(args, ctx, out, failure.exit_code, failure, _masked(failure.one_line()))
        return failure.exit_code


def _json_failure(args: argparse.Namespace, ctx: Context | None, out: TextIO, code: int,
                  error: BaseException, message: str) -> None:
    """Under ``--format json``, the failure document (see :mod:`.report.envelope`), with
    whatever report the verb had held back as its partial report."""
    if getattr(args, "format", "text") != "json":
        return
    from .report.envelope import failure_document, write_document

    partial = ctx.take_json() if ctx is not None else None
    verb = getattr(args, "verb", None)
    if verb == "lock":  # lock status and lock break are two verbs to a script
        verb = f"lock {args.action}"
    write_document(out, failure_document(code, type(error).__name__, message, verb=verb,
                                         partial=partial))


def _usage_failure(line: str, argv: Sequence[str] | None, out: TextIO, err: TextIO,
                   verb: str | None = None) -> int:
    """A command line argparse could not read: the ``error:`` line, and under
    ``--format json`` its failure document; exit 2."""
    from .report.envelope import asks_for_json, failure_document, write_document

    err.write(line + "\n")
    if asks_for_json(list(argv or ())):
        write_document(out, failure_document(2, "UsageError", line.removeprefix("error: "),
                                             verb=verb))
    return 2


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, line: str | None = None) -> str:
    return f"warning: {_masked(str(message))}\n"


def _verb_parser(parser: argparse.ArgumentParser, verb: str | None) -> argparse.ArgumentParser:
    """The parser of ``verb`` (the top-level one when there is none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and verb in action.choices:
            chosen: argparse.ArgumentParser = action.choices[verb]
            return chosen
    return parser


def _masked(text: str) -> str:
    """A message for stderr: secrets masked, control characters made harmless."""
    from .masking import mask_text, printable

    return printable(mask_text(text), newlines=False)


def _database_message(error: Exception) -> str:
    from .db import database_reason

    return "database error: " + database_reason(error)
