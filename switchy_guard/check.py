"""``check``: the validator pipeline, with history integrity from a database or git.

- No database, no base revision: every migration is linted on its own.
- ``database_url``: the pending migrations form the plan; checksum drift, applied-missing,
  out-of-order and dirty rows are reported (SG001, SG002, SG003, SG005). A table the plan
  creates is new only if the database has none of that name (its table list, one query).
- ``against`` (a git revision): migrations absent there form the plan; a migration
  present there must be byte-identical now (SG001) and new ones must sort after the
  newest one there (SG003).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .findings import Finding, Severity
from .records import DEFAULT_TABLE
from .report.findings import CheckSummary

if TYPE_CHECKING:
    from .discovery import SourceSpec
    from .migration import Migration
    from .rowcounts import LiveTableNames
    from .rules.integrity import Hit
    from .server_version import GivenVersion, Numbers
    from .validation import AllowedFinding

# The rules, the SQL understanding and discovery are imported inside the functions, so a
# cache hit (check_cache) loads none of them.


@dataclass(frozen=True)
class CheckReport:
    """The findings of a check and their counts."""

    findings: list[Finding]
    summary: CheckSummary
    #: Findings an ``allow`` with a reason suppressed (SARIF shows them as suppressed).
    allowed: list[AllowedFinding] = field(default_factory=list)
    #: Warning lines for stderr (a given server version the live server contradicts);
    #: not cached: only a check without a database is.
    notes: list[str] = field(default_factory=list)

    def fails(self, fail_on: Severity) -> bool:
        """Whether any finding is at or above ``fail_on``."""
        return any(f.severity.rank >= fail_on.rank for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (what the cache keeps)."""
        return {"findings": [f.to_dict() for f in self.findings],
                "summary": asdict(self.summary),
                "allowed": [{**a.finding.to_dict(), "reason": a.reason}
                            for a in self.allowed]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckReport:
        """The inverse of :meth:`to_dict`."""
        from .validation import AllowedFinding

        def finding(f: dict[str, Any]) -> Finding:
            return Finding(**{**f, "severity": Severity(f["severity"])})

        allowed = [AllowedFinding(finding({k: v for k, v in a.items() if k != "reason"}),
                                  a["reason"]) for a in data.get("allowed", ())]
        return cls([finding(f) for f in data["findings"]], CheckSummary(**data["summary"]),
                   allowed)


def _hit_findings(hits: Sequence[Hit]) -> list[Finding]:
    from .validation import make_finding


    return [make_finding(rule, message, migration, migration_id=mid)
            for rule, migration, mid, message in hits]


def run_check(
    source: SourceSpec,
    dialect: str | None,
    *,
    database_url: str | None = None,
    table: str = DEFAULT_TABLE,
    against: str | None = None,
    migrations_dir: str | Path | None = None,
    use_cache: bool = True,
    checksum_mode: str = "file",
    jobs: int | None = None,
    server_version: GivenVersion | None = None,
) -> CheckReport:
    """Validate the migrations of ``source`` (see the module docs for the modes).

    ``server_version`` (``--server-version`` or the setting) is the server the
    version-aware rules judge by; under ``database_url`` the live server's version wins
    (a contradiction is a warning in ``notes``). See server_version.py.

    A folder checked without a database or git base is cached (see check_cache): a
    second check of unchanged files returns the stored report. Such a check of a large
    folder also runs in two processes when ``jobs`` (default: the cores available) is
    2 or more; see parallel_check.
    """
    cache = None
    from .discovery.directory import DirectoryMigrations

    folder = source.root if isinstance(source, DirectoryMigrations) else source
    if not database_url:  # a version for another server than the dialect: refused now
        from .server_version import version_for

        version_for(server_version, dialect)
    if use_cache and not database_url and not against and isinstance(folder, str | Path):
        from .check_cache import CheckCache

        variant = (f"{source.layout}\0{source.allow_empty}"
                   if isinstance(source, DirectoryMigrations) else "")
        if server_version is not None:
            variant += f"\0{server_version.flavour}:{server_version.numbers}"
        cache = CheckCache(folder, dialect, checksum_mode, variant)
        cached = cache.load()
        if cached is not None:
            return CheckReport.from_dict(cached)
    if cache is None:
        return _run_check(source, dialect, database_url=database_url, table=table,
                          against=against, migrations_dir=migrations_dir,
                          checksum_mode=checksum_mode, jobs=jobs,
                          server_version=server_version)
    from .discovery.directory import logged_reads

    with logged_reads() as reads:
        report = _run_check(source, dialect, database_url=database_url, table=table,
                            against=against, migrations_dir=migrations_dir,
                            checksum_mode=checksum_mode, jobs=jobs,
                            server_version=server_version)
    cache.store(report.to_dict(), read=reads)
    return report


def _run_check(
    source: SourceSpec,
    dialect: str | None,
    *,
    database_url: str | None,
    table: str,
    against: str | None,
    migrations_dir: str | Path | None,
    checksum_mode: str,
    jobs: int | None = None,
    server_version: GivenVersion | None = None,
    version: Numbers | None = None,
) -> CheckReport:
    """``version``: the numbers the rules judge by, once ``server_version`` is resolved
    for the dialect (see server_version.py)."""
    from .discovery import DirectoryMigrations, as_source
    from .ordering import order_migrations
    from .rules.integrity import revision_hits
    from .rules.naming import graph_hits
    from .server_version import each_dialect, reconcile, version_for
    from .validation import make_finding, validate

    if dialect is None and not database_url:  # the dialect unknown: judged under each
        from .check_dialects import check_every_dialect

        return check_every_dialect(lambda each: _run_check(
            source, each, database_url=None, table=table, against=against,
            migrations_dir=migrations_dir, checksum_mode=checksum_mode, jobs=jobs,
            version=each_dialect(server_version, each)))
    if database_url:
        from .db import dialect_of

        dialect = dialect_of(database_url)
    elif server_version is not None:
        version = version_for(server_version, dialect)
    migration_source = as_source(source, checksum_mode=checksum_mode)
    if not database_url and not against and isinstance(migration_source, DirectoryMigrations):
        from .parallel_check import available_cores, check_in_two

        if (jobs or available_cores()) > 1:
            split = check_in_two(migration_source, dialect, server_version=version)
            if split is not None:
                return CheckReport(split.findings, CheckSummary.of(
                    split.findings, split.migrations, split.statements), split.allowed)
    loaded = [m for m in migration_source.load(dialect) if m.applies_to(dialect)]
    findings = [make_finding(rule, message, migration)
                for rule, migration, message in graph_hits(loaded)]
    from .discovery import layout_of
    from .discovery.layouts import id_pattern_of, ordering_hits
    from .ordering import sort_key

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
    if database_url:
        plan_ids, hits, live, live_version = _database_state(ordered, database_url, table)
        findings.extend(_hit_findings(hits))
        assert dialect is not None  # the URL's
        version, warning = reconcile(server_version, dialect, live_version)
        notes += [f"warning: {warning}"] if warning else []
    if against:
        from .gitbase import migrations_at_revision

        if migrations_dir is None:
            from .errors import ConfigError

            raise ConfigError("--against needs a migrations folder (-m DIR)")
        base = migrations_at_revision(migrations_dir, against, dialect, checksum_mode,
                                      layout=layout or "auto")
        findings.extend(_hit_findings(list(revision_hits(ordered, base, against))))
        known = {m.id for m in base}
        new_ids = {m.id for m in ordered if m.id not in known}
        plan_ids = new_ids if plan_ids is None else plan_ids & new_ids
    from .rules.naming import DIRECTORY_IDS

    result = validate(ordered, dialect, plan_ids=plan_ids, live=live, downs=True,
                      id_pattern=id_pattern_of(layout) or DIRECTORY_IDS, server_version=version)
    findings.extend(result.findings)
    return CheckReport(findings, CheckSummary.of(findings, result.migrations, result.statements),
                       result.allowed, notes)


def _database_state(
    ordered: list[Migration], database_url: str, table: str
) -> tuple[set[str], list[Hit], LiveTableNames, Numbers | None]:
    """The pending ids, the history's hits, the live tables and the server's version."""
    from .db import absent_sqlite_file, connect, create_database_engine, empty_stand_in
    from .impact import live_server_version
    from .rowcounts import LiveTableNames
    from .rules.integrity import database_hits
    from .state import MigrationState
    from .tracking import TrackingTable

    tracking = TrackingTable(table)
    # check only reads: a SQLite file that does not exist is an empty database, not
    # a file to create.
    engine = (empty_stand_in(database_url) if absent_sqlite_file(database_url)
              else create_database_engine(database_url))
    try:
        with connect(engine) as conn:
            rows = tracking.read(conn)
            progress = tracking.read_progress(conn)
            live = LiveTableNames.read(conn)
            version = live_server_version(conn)
    finally:
        engine.dispose()
    state = MigrationState(ordered, rows, progress)
    pending = {m.id for m in state.pending()} | {e.id for e in state.failed()}
    return pending, list(database_hits(state)), live, version
