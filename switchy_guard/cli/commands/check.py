"""``check``: the validator pipeline over the migrations folder, SQL files, or an
Alembic/Django project; exit 1 on findings at or above ``--fail-on``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchy_guard.cli.options import SERVER_VERSION_HELP, positive_int
from switchy_guard.errors import ConfigError

if TYPE_CHECKING:
    from switchy_guard.check.report import CheckReport
    from switchy_guard.cli.context import Context
    from switchy_guard.cli.options import Verbs
    from switchy_guard.gates.policy import PolicyChoice

#: The formats ``check --write FORMAT:FILE`` writes.
WRITE_FORMATS = ("json", "sarif", "gitlab", "github", "markdown")


def register(verbs: Verbs) -> None:
    """Add ``check``."""
    check = verbs.add("check", "validate migrations: hazards, naming, graph, history (exit 1 "
                               "on findings at or above --fail-on)", run)
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
    check.add_argument("--jobs", type=positive_int, default=None, metavar="N",
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
    check.add_argument("--server-version", metavar="VERSION", help=SERVER_VERSION_HELP)


def _format_file(text: str) -> tuple[str, str]:
    fmt, colon, file = text.partition(":")
    if fmt not in WRITE_FORMATS or not colon or not file:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not FORMAT:FILE with FORMAT one of {', '.join(WRITE_FORMATS)}")
    return fmt, file


def run(ctx: Context) -> int:
    """``check``: run the validator pipeline and print the findings."""
    from switchy_guard.cli.gating import offline_policy_choice

    # A missing policy (--env mistyped) is bad input: refused before any report is printed.
    choice = offline_policy_choice(ctx) if ctx.args.gate else None
    for fmt, file in ctx.args.write:  # a file that cannot be written: refused before the run
        if not Path(file).parent.is_dir():
            raise ConfigError(f"--write {fmt}:{file}: folder {Path(file).parent} does not exist")
    report = _checked(ctx)
    ctx.notes += report.notes
    return _report_check(ctx, choice, report)


def _checked(ctx: Context) -> CheckReport:
    """The report of the files, the framework project or the migrations folder."""
    if ctx.args.files or ctx.args.stdin_filename:
        return _check_files(ctx)
    if ctx.args.alembic or ctx.args.django:
        from switchy_guard.cli.commands.frameworks import check_framework

        return check_framework(ctx)
    from switchy_guard.check.run import run_check

    settings = ctx.settings
    dirs = ctx.source()
    database = None
    if settings.database_url:
        from switchy_guard.runtime.facts import LiveDatabase

        database = LiveDatabase(settings.database_url, settings.migration_table)
    return run_check(
        dirs,
        settings.dialect,
        database=database,
        against=ctx.args.against,
        migrations_dir=dirs if isinstance(dirs, str) else getattr(dirs, "root", None),
        use_cache=not ctx.args.no_cache,
        checksum_mode=settings.checksum_mode,
        jobs=ctx.args.jobs,
        server_version=ctx.server_version(),
    )


def _report_check(ctx: Context, choice: PolicyChoice | None, report: Any) -> int:
    """Print a check's report; its exit code."""
    from switchy_guard.model.findings import Severity
    from switchy_guard.report import findings as render

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
    from switchy_guard.report import findings as render

    if fmt == "json":
        return render.to_json(report.findings, report.summary) + "\n"
    if fmt == "markdown":
        return render.to_markdown(report.findings, report.summary, allowed=len(report.allowed))
    folder = ctx.args.files or ctx.settings.migrations_dir
    return render.for_code_scanning(report.findings, fmt, allowed=report.allowed,
                                    automation=render.automation_id(ctx.settings.dialect,
                                                                    folder))


def _check_files(ctx: Context) -> CheckReport:
    """``check FILE.sql ...`` / ``check - --stdin-filename NAME``: SQL without a history."""
    from switchy_guard.check.files import check_files

    if ctx.args.against:
        raise ConfigError("check of files lints SQL alone: --against (history rules) does "
                          "not apply to it")
    dialect = ctx.settings.dialect
    if dialect is None and ctx.settings.database_url:
        from switchy_guard.runtime.db import dialect_of

        dialect = dialect_of(ctx.settings.database_url)
    return check_files(ctx.args.files, dialect, stdin_name=ctx.args.stdin_filename,
                       server_version=ctx.server_version())


def _check_gate(ctx: Context, choice: PolicyChoice, findings: list[Any]) -> bool:
    """``check --gate``: would the environment's policy refuse these findings? The
    verdict is migrate's: rollback-time findings (down scripts) are left to the rollback
    gate, which judges a down against the database it runs on."""
    from switchy_guard.gates.evaluate import finding_refusals

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
