"""``check``: the validator pipeline, with history integrity from a database or git.

- No database, no base revision: every migration is linted on its own.
- ``database`` (read once, see runtime.facts): the pending migrations form the plan;
  checksum drift, applied-missing, out-of-order and dirty rows are reported (SG001,
  SG002, SG003, SG005). A table the plan creates is new only if the database has none of
  that name (its table list, one query).
- ``against`` (a git revision): migrations absent there form the plan; a migration
  present there must be byte-identical now (SG001) and new ones must sort after the
  newest one there (SG003).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from switchy_guard.check.report import CheckReport
from switchy_guard.model.findings import CheckSummary, Finding

if TYPE_CHECKING:
    from switchy_guard.discovery import SourceSpec
    from switchy_guard.model.live import DatabaseFacts, DatabaseReader, LiveTableNames
    from switchy_guard.model.migration import Migration
    from switchy_guard.model.server_version import GivenVersion, Numbers
    from switchy_guard.rules.integrity import Hit

# The rules, the SQL understanding and discovery are imported inside the functions, so a
# cache hit (check_cache) loads none of them.


def _hit_findings(hits: Sequence[Hit]) -> list[Finding]:
    from switchy_guard.check.pipeline import make_finding


    return [make_finding(rule, message, migration, migration_id=mid)
            for rule, migration, mid, message in hits]


def run_check(
    source: SourceSpec,
    dialect: str | None,
    *,
    database: DatabaseReader | None = None,
    against: str | None = None,
    migrations_dir: str | Path | None = None,
    use_cache: bool = True,
    checksum_mode: str = "file",
    jobs: int | None = None,
    server_version: GivenVersion | None = None,
) -> CheckReport:
    """Validate the migrations of ``source`` (see the module docs for the modes).

    ``server_version`` (``--server-version`` or the setting) is the server the
    version-aware rules judge by; with a ``database`` the live server's version wins (a
    contradiction is a warning in ``notes``). See model/server_version.py.

    A folder checked without a database or git base is cached (see check_cache): a
    second check of unchanged files returns the stored report. Such a check of a large
    folder also runs in two processes when ``jobs`` (default: the cores available) is
    2 or more; see parallel_check.
    """
    cache = None
    from switchy_guard.discovery.directory import DirectoryMigrations

    folder = source.root if isinstance(source, DirectoryMigrations) else source
    if database is None:  # a version for another server than the dialect: refused now
        from switchy_guard.model.server_version import version_for

        version_for(server_version, dialect)
    if use_cache and database is None and not against and isinstance(folder, str | Path):
        from switchy_guard.check.cache import CheckCache

        variant = (f"{source.layout}\0{source.allow_empty}"
                   if isinstance(source, DirectoryMigrations) else "")
        if server_version is not None:
            variant += f"\0{server_version.flavour}:{server_version.numbers}"
        cache = CheckCache(folder, dialect, checksum_mode, variant)
        cached = cache.load()
        if cached is not None:
            return CheckReport.from_dict(cached)
    if cache is None:
        return _run_check(source, dialect, database=database,
                          against=against, migrations_dir=migrations_dir,
                          checksum_mode=checksum_mode, jobs=jobs,
                          server_version=server_version)
    from switchy_guard.discovery.directory import logged_reads

    with logged_reads() as reads:
        report = _run_check(source, dialect, database=database,
                            against=against, migrations_dir=migrations_dir,
                            checksum_mode=checksum_mode, jobs=jobs,
                          server_version=server_version)
    cache.store(report.to_dict(), read=reads)
    return report


def _run_check(
    source: SourceSpec,
    dialect: str | None,
    *,
    database: DatabaseReader | None,
    against: str | None,
    migrations_dir: str | Path | None,
    checksum_mode: str,
    jobs: int | None = None,
    server_version: GivenVersion | None = None,
    version: Numbers | None = None,
) -> CheckReport:
    """``version``: the numbers the rules judge by, once ``server_version`` is resolved
    for the dialect (see model/server_version.py)."""
    from switchy_guard.check.pipeline import make_finding, validate
    from switchy_guard.discovery import DirectoryMigrations, as_source
    from switchy_guard.model.ordering import order_migrations
    from switchy_guard.model.server_version import each_dialect, reconcile, version_for
    from switchy_guard.rules.integrity import revision_hits
    from switchy_guard.rules.naming import graph_hits

    if dialect is None and database is None:  # the dialect unknown: judged under each
        from switchy_guard.check.dialects import check_every_dialect

        return check_every_dialect(lambda each: _run_check(
            source, each, database=None, against=against,
            migrations_dir=migrations_dir, checksum_mode=checksum_mode, jobs=jobs,
            version=each_dialect(server_version, each)))
    if database is not None:
        dialect = database.dialect
    elif server_version is not None:
        version = version_for(server_version, dialect)
    migration_source = as_source(source, checksum_mode=checksum_mode)
    if database is None and not against and isinstance(migration_source, DirectoryMigrations):
        from switchy_guard.check.parallel import available_cores, check_in_two

        if (jobs or available_cores()) > 1:
            split = check_in_two(migration_source, dialect, server_version=version)
            if split is not None:
                return CheckReport(split.findings, CheckSummary.of(
                    split.findings, split.migrations, split.statements), split.allowed)
    loaded = [m for m in migration_source.load(dialect) if m.applies_to(dialect)]
    findings = [make_finding(rule, message, migration)
                for rule, migration, message in graph_hits(loaded)]
    from switchy_guard.discovery import layout_of
    from switchy_guard.discovery.layouts import id_pattern_of
    from switchy_guard.model.ordering import sort_key
    from switchy_guard.rules.naming import ordering_hits

    layout = layout_of(migration_source)
    findings += [make_finding(rule, message, migration)
                 for rule, migration, message in ordering_hits(loaded, layout)]
    if findings:
        unique = {m.id: m for m in reversed(loaded)}
        ordered = sorted(unique.values(), key=sort_key)
    else:
        ordered = order_migrations(loaded)
    plan_ids: set[str] | None = None
    live = None
    notes: list[str] = []
    if database is not None:
        facts = database.read()
        plan_ids, hits, live = _database_state(ordered, facts)
        findings.extend(_hit_findings(hits))
        assert dialect is not None  # the database's
        version, warning = reconcile(server_version, dialect, facts.server_version)
        notes += [f"warning: {warning}"] if warning else []
    if against:
        from switchy_guard.discovery.git import migrations_at_revision

        if migrations_dir is None:
            from switchy_guard.errors import ConfigError

            raise ConfigError("--against needs a migrations folder (-m DIR)")
        base = migrations_at_revision(migrations_dir, against, dialect, checksum_mode,
                                      layout=layout or "auto")
        findings.extend(_hit_findings(list(revision_hits(ordered, base, against))))
        known = {m.id for m in base}
        new_ids = {m.id for m in ordered if m.id not in known}
        plan_ids = new_ids if plan_ids is None else plan_ids & new_ids
    from switchy_guard.rules.naming import DIRECTORY_IDS

    result = validate(ordered, dialect, plan_ids=plan_ids, live=live, downs=True,
                      id_pattern=id_pattern_of(layout) or DIRECTORY_IDS, server_version=version)
    findings.extend(result.findings)
    return CheckReport(findings, CheckSummary.of(findings, result.migrations, result.statements),
                       result.allowed, notes)


def _database_state(
    ordered: list[Migration], facts: DatabaseFacts
) -> tuple[set[str], list[Hit], LiveTableNames]:
    from switchy_guard.model.state import MigrationState
    from switchy_guard.rules.integrity import database_hits

    state = MigrationState(ordered, facts.rows, facts.progress)
    live = facts.live
    pending = {m.id for m in state.pending()} | {e.id for e in state.failed()}
    return pending, list(database_hits(state)), live
