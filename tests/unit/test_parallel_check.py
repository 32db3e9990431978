"""check in two processes: the same report as one process, or a fallback to it."""

from __future__ import annotations

import os
import random
import threading
from pathlib import Path

import pytest

import switchy_guard.check.parallel as parallel
from switchy_guard.check.pipeline import validate
from switchy_guard.check.run import run_check
from switchy_guard.discovery import DirectoryMigrations
from switchy_guard.errors import InputError
from tests.cli_helpers import run_cli, write_migration

# Column facts the first half teaches and the second half needs: SG308 needs the old
# type, SG404's "MODIFY ... NOT NULL" is quiet for a column already NOT NULL.
FIRST = [
    ("2024-01-01-000000_create_users",
     "CREATE TABLE users (id INT PRIMARY KEY, name TEXT, email VARCHAR(200) NOT NULL,"
     " age BIGINT);\n", "DROP TABLE users;\n", None),
    ("2024-01-01-000001_add_bio", "ALTER TABLE users ADD COLUMN bio TEXT;\n", None, None),
    ("2024-01-01-000002_index",
     "-- switchy-guard: allow SG402 -- built in a quiet hour\n"
     "CREATE INDEX users_name ON users (name);\n", "DROP INDEX users_name;\n", None),
    ("2024-01-02-000000_drop_old", "DROP TABLE old_things;\n", "SELECT 1;\n",
     'allow = [{ rule = "SG301", reason = "unused since 2023" }]\n'),
]
SECOND = [
    # Shares the timestamp of the first half's last migration (SG103 across the cut).
    ("2024-01-02-000000_e_narrow", "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(10);\n",
     "SELECT 1;\n", None),
    ("2024-01-03-000000_modify",
     "ALTER TABLE users MODIFY email VARCHAR(200) NOT NULL;\n"
     "ALTER TABLE users MODIFY bio TEXT NOT NULL;\n", "SELECT 1;\n", None),
    ("2024-01-04-000000_shrink_age", "ALTER TABLE users ALTER COLUMN age TYPE INT;\n",
     "SELECT 1;\n", 'allow = [{ rule = "SG308", reason = "ages fit" }]\n'),
    # Redefines a column before narrowing it: the worker's own fact wins.
    ("2024-01-05-000000_redefine",
     "ALTER TABLE users ADD COLUMN note VARCHAR(5);\n"
     "ALTER TABLE users ALTER COLUMN note TYPE VARCHAR(4);\n", "SELECT 1;\n", None),
]


def write(root: Path, migrations: list[tuple[str, str, str | None, str | None]]) -> Path:
    for migration_id, up, down, metadata in migrations:
        write_migration(root, migration_id, up, down, metadata)
    return root


def one_process(root: Path, dialect: str) -> list[tuple[str, str | None, int | None, str]]:
    report = run_check(str(root), dialect, use_cache=False, jobs=1)
    return [(f.code, f.migration, f.line, f.message) for f in report.findings]


def two_processes(root: Path, dialect: str) -> list[tuple[str, str | None, int | None, str]]:
    result = parallel.check_in_two(DirectoryMigrations(root), dialect, min_folders=2)
    assert result is not None
    return [(f.code, f.migration, f.line, f.message) for f in result.findings]


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_two_processes_report_exactly_what_one_does(tmp_path: Path, dialect: str) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    expected = one_process(root, dialect)
    assert two_processes(root, dialect) == expected
    codes = {code for code, *_ in expected}
    # The facts crossed the cut: the narrowing of a first-half column was seen.
    assert "SG308" in codes and "SG103" in codes


def test_counts_and_allowed_findings_match(tmp_path: Path) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    migrations = DirectoryMigrations(root).load("postgres")
    expected = validate(migrations, "postgres")
    result = parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2)
    assert result is not None
    assert (result.migrations, result.statements) == (expected.migrations, expected.statements)
    assert result.allowed == expected.allowed
    assert {a.reason for a in result.allowed} >= {"ages fit", "unused since 2023"}


def test_the_worker_re_checks_only_what_earlier_facts_answer(tmp_path: Path) -> None:
    migrations = DirectoryMigrations(write(tmp_path / "m", FIRST + SECOND)).load("postgres")
    first = parallel.HalfCheck(migrations[:4], "postgres")
    first.run()
    second = parallel.HalfCheck(migrations[4:], "postgres",
                                earlier_ids=[m.id for m in migrations[:4]])
    second.run()
    before = second.result().findings
    assert "SG308" not in {f.code for f in before if f.migration == migrations[4].id}
    misses = second.misses()
    assert ("type", ("users", "name")) in misses
    assert ("type", ("users", "note")) not in misses  # answered by the worker itself
    assert first.knows_any(misses)
    second.settle(first.column_facts())
    after = second.result().findings
    narrowed = [f.code for f in after if f.migration == migrations[4].id]
    assert narrowed == ["SG308", *(f.code for f in before if f.migration == migrations[4].id)]
    # users.email was NOT NULL already: making it so again is no longer reported.
    modify = migrations[5].id
    assert [f.message for f in before if f.migration == modify and f.code == "SG404"] == [
        "makes users.email NOT NULL: every row is checked while the table is locked",
        "makes users.bio NOT NULL: every row is checked while the table is locked",
    ]
    assert [f.message for f in after if f.migration == modify and f.code == "SG404"] == [
        "makes users.bio NOT NULL: every row is checked while the table is locked",
    ]
    untouched = migrations[7].id
    assert [f for f in after if f.migration == untouched] == \
        [f for f in before if f.migration == untouched]


def test_a_half_with_nothing_to_learn_is_not_answered(tmp_path: Path) -> None:
    migrations = DirectoryMigrations(write(tmp_path / "m", SECOND)).load("postgres")
    half = parallel.HalfCheck(migrations[:1], "postgres")
    half.run()
    assert half.knows_any({("type", ("users", "name"))})
    assert not half.knows_any({("type", ("users", "bio")), ("not_null", ("users", "name"))})


def test_the_worker_protocol_in_this_process(tmp_path: Path) -> None:
    """The worker's side, run in a thread so every line of it is measured."""
    root = write(tmp_path / "m", FIRST + SECOND)
    source = DirectoryMigrations(root)
    tree, label, check = source.tree("postgres")
    folders = parallel.migration_folders(tree, label, check=check)
    to_worker, from_worker = os.pipe(), os.pipe()
    worker = threading.Thread(target=parallel._worker, args=(
        parallel._Channel(to_worker[0], from_worker[1]), parallel._Reader(check, "file"),
        folders[4:], "postgres", [f.name for f, _ in folders[:4]]))
    worker.start()
    here = parallel._Channel(from_worker[0], to_worker[1])
    result = parallel._first_half(here, parallel._Reader(check, "file"), folders[:4],
                                  "postgres")
    worker.join()
    here.close()
    os.close(to_worker[0])
    os.close(from_worker[1])
    assert result is not None
    assert [(f.code, f.migration, f.line, f.message) for f in result.findings] == \
        one_process(root, "postgres")


DEPENDS = 'depends_on = ["2024-01-01-000000_create_users"]\n'


@pytest.mark.parametrize("where", ["first", "second"])
def test_depends_on_falls_back_to_one_process(tmp_path: Path, where: str) -> None:
    first, second = list(FIRST), list(SECOND)
    half = first if where == "first" else second
    migration_id, up, down, _ = half[1]
    half[1] = (migration_id, up, down, DEPENDS)
    root = write(tmp_path / "m", first + second)
    assert parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2) is None
    # run_check still reports, through the one-process pipeline.
    report = run_check(str(root), "postgres", use_cache=False, jobs=2)
    assert [(f.code, f.migration, f.line, f.message) for f in report.findings] == \
        one_process(root, "postgres")


def test_a_first_half_migration_for_another_database_falls_back(tmp_path: Path) -> None:
    first = list(FIRST)
    migration_id, up, down, _ = first[0]
    first[0] = (migration_id, up, down, 'dialects = ["sqlite"]\n')
    root = write(tmp_path / "m", first + SECOND)
    assert parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2) is None


def test_a_small_folder_is_checked_in_one_process(tmp_path: Path) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    assert parallel.check_in_two(DirectoryMigrations(root), "postgres") is None


def test_a_process_running_other_threads_is_not_forked(tmp_path: Path) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert parallel.check_in_two(DirectoryMigrations(root), "postgres",
                                     min_folders=2) is None
    finally:
        release.set()
        other.join()


def test_a_bad_file_in_the_second_half_is_reported_as_one_process_would(
    tmp_path: Path,
) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    (root / SECOND[2][0] / "up.sql").write_bytes(b"SELECT '\xff';\n")
    # The worker fails; the split gives up, and the one-process run names the file.
    assert parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2) is None
    with pytest.raises(InputError, match="not valid UTF-8") as caught:
        run_check(str(root), "postgres", use_cache=False, jobs=2)
    assert SECOND[2][0] in str(caught.value)


def test_a_bad_file_in_the_first_half_is_raised_and_the_worker_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    (root / FIRST[1][0] / "up.sql").write_bytes(b"SELECT '\xff';\n")
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(InputError, match="not valid UTF-8") as caught:
        parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2)
    assert FIRST[1][0] in str(caught.value)
    assert len(forked) == 1
    with pytest.raises(ChildProcessError):  # already reaped: no worker is left behind
        os.waitpid(forked[0], os.WNOHANG)


def test_jobs_must_be_a_positive_number(tmp_path: Path) -> None:
    root = write(tmp_path / "m", FIRST)
    result = run_cli("check", "-m", root, "--dialect", "postgres", "--jobs", "0")
    assert result.code == 2
    assert "argument --jobs: must be 1 or more" in result.err


def test_cli_check_of_a_large_folder_in_two_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write(tmp_path / "m", FIRST + SECOND)
    monkeypatch.setattr(parallel, "MIN_FOLDERS", 2)
    monkeypatch.setenv("SWITCHY_CACHE_DIR", str(tmp_path / "cache"))
    calls: list[object] = []
    real = parallel.check_in_two

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(real(*args, **kwargs))  # type: ignore[arg-type]
        return calls[-1]

    monkeypatch.setattr(parallel, "check_in_two", counted)
    one = run_cli("check", "-m", root, "--dialect", "postgres", "--no-cache", "--jobs", "1",
                  "--format", "json")
    assert calls == []  # --jobs 1 keeps the check in this process
    two = run_cli("check", "-m", root, "--dialect", "postgres", "--no-cache", "--jobs", "2",
                  "--format", "json")
    assert len(calls) == 1 and calls[0] is not None  # the split ran and was used
    assert (two.code, two.out) == (one.code, one.out)


def random_corpus(root: Path, seed: int, count: int = 60) -> Path:
    """Migrations that keep changing the same few columns, so facts cross the cut."""
    rng = random.Random(seed)
    tables = ["a", "b", "c"]
    types = ["INT", "BIGINT", "SMALLINT", "TEXT", "VARCHAR(20)", "VARCHAR(200)",
             "NUMERIC(10,2)", "NUMERIC(8,1)"]
    for number in range(count):
        table, column = rng.choice(tables), rng.choice(["x", "y", "z"])
        kind = rng.choice(["create", "type", "not_null", "modify", "add", "drop", "index"])
        sql = {
            "create": f"CREATE TABLE {table}_{number} (x {rng.choice(types)} NOT NULL, "
                      f"y {rng.choice(types)});\n",
            "type": f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {rng.choice(types)};\n",
            "not_null": f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;\n",
            "modify": f"ALTER TABLE {table} MODIFY {column} {rng.choice(types)}"
                      f"{rng.choice(['', ' NOT NULL'])};\n",
            "add": f"ALTER TABLE {table} ADD COLUMN {column}{number} {rng.choice(types)}"
                   f"{rng.choice(['', ' NOT NULL DEFAULT 0'])};\n",
            "drop": f"ALTER TABLE {table} DROP COLUMN {column};\n",
            "index": f"CREATE INDEX i{number} ON {table} ({column});\n",
        }[kind]
        if number < 3:
            sql = f"CREATE TABLE {tables[number]} (x INT NOT NULL, y TEXT, z VARCHAR(50));\n"
        stamp = f"2024-01-01-{number // 2:06d}"  # pairs share a timestamp
        write_migration(root, f"{stamp}_{kind}_{number}", sql,
                        "SELECT 1;\n" if rng.random() < 0.8 else None)
    return root


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_random_corpora_give_the_same_report(tmp_path: Path, seed: int, dialect: str) -> None:
    root = random_corpus(tmp_path / "m", seed)
    assert two_processes(root, dialect) == one_process(root, dialect)


# File layouts (issue 17): the same histories as golang-migrate, sqlx and goose files.
# The versions sort otherwise as text ("10" before "2"): the halves must follow the
# tool's numeric order, which is the order of the list.
VERSIONS = [1, 2, 9, 10, 11, 20, 100, 200, *range(300, 400)]


def write_files(root: Path, layout: str,
                migrations: list[tuple[str, str, str | None, str | None]]) -> Path:
    root.mkdir(parents=True)
    for number, (migration_id, up, down, _) in enumerate(migrations):
        version = str(VERSIONS[number])
        name = f"{version}_{migration_id.partition('_')[2]}"
        if layout == "goose":
            text = f"-- +goose Up\n{up}" + (f"-- +goose Down\n{down}" if down else "")
            (root / f"{name}.sql").write_text(text)
            continue
        if layout == "sqlx" and down is None:  # a simple, irreversible migration
            (root / f"{name}.sql").write_text(up)
            continue
        (root / f"{name}.up.sql").write_text(up)
        if down is not None:
            (root / f"{name}.down.sql").write_text(down)
    return root


def findings_of(root: Path, dialect: str, layout: str, jobs: int) -> list[object]:
    report = run_check(DirectoryMigrations(root, layout=layout), dialect, use_cache=False,
                       jobs=jobs)
    return [(f.code, f.migration, f.file, f.line, f.message, f.rollback_time)
            for f in report.findings] + [report.summary]


# Without metadata.toml the allows of FIRST/SECOND are comments or nothing: keep the SQL.
FILE_HISTORY = FIRST + SECOND


@pytest.mark.parametrize("layout", ["auto", "golang-migrate", "sqlx", "goose"])
@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_a_file_layout_in_two_processes_reports_exactly_what_one_does(
    tmp_path: Path, layout: str, dialect: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = write_files(tmp_path / "m", "golang-migrate" if layout == "auto" else layout,
                       FILE_HISTORY)
    source = DirectoryMigrations(root, layout=layout)
    split = parallel.check_in_two(source, dialect, min_folders=2)
    assert split is not None  # split, not fallen back
    assert source.detected_layout == ("golang-migrate" if layout == "auto" else layout)
    expected = findings_of(root, dialect, layout, jobs=1)
    monkeypatch.setattr(parallel, "MIN_FOLDERS", 2)
    assert findings_of(root, dialect, layout, jobs=2) == expected
    assert [(f.code, f.migration, f.file, f.line, f.message, f.rollback_time)
            for f in split.findings] == expected[:-1]
    codes = [code for code, *_ in expected[:-1]]  # type: ignore[misc]
    # Facts crossed the cut (SG308 on the first-half column), downs were read (SG203).
    assert "SG308" in codes and "SG203" in codes
    # The numeric order: 9 (first half) before 10 and 100 (second half).
    migrations = [m for _, m, *_ in expected[:-1]]  # type: ignore[misc]
    assert migrations.index("9") < migrations.index("10") < migrations.index("100")


def test_the_file_halves_are_whole_versions_in_run_order(tmp_path: Path) -> None:
    root = write_files(tmp_path / "m", "golang-migrate", FILE_HISTORY)
    source = DirectoryMigrations(root)
    tree, label, check = source.tree("postgres")
    found = parallel._version_groups(source, tree, label, check)
    assert found is not None
    layout, groups = found
    assert layout == "golang-migrate"
    assert [group[0][0].name.partition("_")[0] for group in groups] == \
        ["1", "2", "9", "10", "11", "20", "100", "200"]
    assert all(len(group) in (1, 2) for group in groups)  # an up and its down together


@pytest.mark.parametrize("case", ["same-version", "duplicate-id", "bad-file-first",
                                  "bad-file-second", "not-a-layout-file"])
def test_a_file_history_the_split_cannot_reproduce_falls_back(
    tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = write_files(tmp_path / "m", "golang-migrate", FILE_HISTORY)
    if case == "same-version":  # 9 and 09: golang-migrate reads one version twice
        (root / "09_again.up.sql").write_text("SELECT 1;\n")
    elif case == "duplicate-id":
        (root / "100_other.up.sql").write_text("SELECT 1;\n")
    elif case.startswith("bad-file"):
        victim = "2_add_bio.up.sql" if case == "bad-file-first" else "20_modify.up.sql"
        (root / victim).write_bytes(b"SELECT '\xff';\n")
    else:
        (root / "notes.sql").write_text("SELECT 1;\n")
    assert parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2) is None
    monkeypatch.setattr(parallel, "MIN_FOLDERS", 2)
    if case.startswith("bad-file") or case == "not-a-layout-file":
        with pytest.raises(InputError) as caught:
            run_check(str(root), "postgres", use_cache=False, jobs=2)
        assert ("20_modify" if case == "bad-file-second" else
                "2_add_bio" if case == "bad-file-first" else "notes.sql") in str(caught.value)
        return
    two = findings_of(root, "postgres", "auto", jobs=2)
    assert two == findings_of(root, "postgres", "auto", jobs=1)
    assert two[0][0] == "SG004"  # type: ignore[index]


@pytest.mark.parametrize("layout", ["dbmate", "flyway"])
def test_layouts_not_ordered_by_number_are_checked_in_one_process(
    tmp_path: Path, layout: str,
) -> None:
    root = tmp_path / "m"
    root.mkdir()
    for number in range(1, 5):
        if layout == "dbmate":
            (root / f"{number}_x.sql").write_text("-- migrate:up\nSELECT 1;\n"
                                                  "-- migrate:down\nSELECT 1;\n")
        else:
            (root / f"V{number}__x.sql").write_text("SELECT 1;\n")
    source = DirectoryMigrations(root, layout=layout)
    assert parallel.check_in_two(source, "postgres", min_folders=2) is None
    assert parallel.check_in_two(DirectoryMigrations(root), "postgres", min_folders=2) is None


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("dialect", ["postgres", "mysql"])
def test_random_golang_migrate_corpora_give_the_same_report(
    tmp_path: Path, seed: int, dialect: str,
) -> None:
    folders = random_corpus(tmp_path / "folders", seed)
    history = [(p.name, (p / "up.sql").read_text(),
                (p / "down.sql").read_text() if (p / "down.sql").exists() else None, None)
               for p in sorted(folders.iterdir())]
    root = write_files(tmp_path / "m", "golang-migrate", history)
    assert parallel.check_in_two(DirectoryMigrations(root), dialect, min_folders=2) is not None
    assert findings_of(root, dialect, "auto", jobs=2) != []
    one = findings_of(root, dialect, "auto", jobs=1)
    split = parallel.check_in_two(DirectoryMigrations(root), dialect, min_folders=2)
    assert split is not None
    assert [(f.code, f.migration, f.file, f.line, f.message, f.rollback_time)
            for f in split.findings] == one[:-1]
