"""Policies at their edges: each numeric key's error, how a match_urls pattern's host is
read, which spelling of a database a rule matched, and what a target is.

Found by mutation testing (bench/mutation.py): each test pins down behaviour the larger
policy suites left free to change.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url

from switchy_guard.config import Settings
from switchy_guard.errors import ConfigError
from switchy_guard.gates.policy import (
    DatabaseTarget,
    Policy,
    database_identity_target,
    load_policies,
    policies_for,
    policy_from_mapping,
    project_policy_dirs,
)
from switchy_guard.runtime.identity import ServerIdentity


@pytest.mark.parametrize("key", ["lock_timeout", "statement_lock_timeout", "statement_timeout",
                                 "refuse_when_blocked_longer_than"])
def test_every_seconds_key_says_what_it_takes(key: str) -> None:
    with pytest.raises(ConfigError, match=(
            f"^policy key '{key}' must be a number of seconds, 0 or more, finite, not -1$")):
        policy_from_mapping("p", {key: -1})


def test_a_pattern_host_is_normalised_unless_it_is_a_glob() -> None:
    # XDB.localhost is this machine (as every *.localhost is): it matches localhost.
    policy = Policy("p", match_urls=("XDB.localhost/app",))
    assert policy.match("localhost/app") == ("match_urls", "XDB.localhost/app", "localhost/app")
    glob = Policy("p", match_urls=("127.0.0.[1]/app",))
    assert glob.match("localhost/app") is None
    assert glob.match("127.0.0.1/app") is not None


def test_a_pattern_without_a_slash_is_matched_as_written() -> None:
    assert Policy("p", match_urls=("127.0.0.1",)).matches("localhost/") is None
    assert Policy("p", match_urls=("localhost/",)).matches("localhost/") == "localhost/"


def test_the_match_says_which_spelling_of_the_database_it_was() -> None:
    policy = Policy("p", match_urls=("db1/*",))
    assert policy.match(DatabaseTarget(("db1/app", "10.0.0.5/app"))) == (
        "match_urls", "db1/*", "db1/app as the URL says")
    assert policy.match(DatabaseTarget(("10.0.0.5/app", "db1/app"))) == (
        "match_urls", "db1/*", "db1/app as the database says")
    assert policy.match(DatabaseTarget(("db1/app",))) == ("match_urls", "db1/*", "db1/app")


def test_a_target_once_made_cannot_be_changed_and_equal_targets_are_one() -> None:
    target = DatabaseTarget(("db1/app",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        target.names = ("other/app",)  # type: ignore[misc]
    assert len({target, DatabaseTarget(("db1/app",))}) == 1
    assert target.shown == "db1/app" and DatabaseTarget(()).shown == ""


# --- pins naming a SQLite file ---------------------------------------------------------------


def file_identity(path: Path) -> ServerIdentity:
    stat = os.stat(path)
    return ServerIdentity("sqlite", str(path), file_id=(stat.st_dev, stat.st_ino))


def pinned(pin: str) -> Policy:
    return Policy("production", match_servers=(pin,))


def test_a_file_pin_matches_the_same_file_by_any_spelling(tmp_path: Path) -> None:
    real = tmp_path / "app.db"
    real.write_bytes(b"")
    link = tmp_path / "current.db"
    link.symlink_to(real)
    identity = file_identity(real)
    target = DatabaseTarget((str(real),), identity)
    assert pinned(f"sqlite:file={link}").match(target) == (
        "match_servers", f"sqlite:file={link}", identity.describe())
    assert pinned(f"sqlite:file={tmp_path}/*.db").match(target) is not None


def test_a_file_pin_does_not_match_another_file_or_a_database_without_one(
        tmp_path: Path) -> None:
    real, other = tmp_path / "app.db", tmp_path / "other.db"
    real.write_bytes(b"")
    other.write_bytes(b"")
    assert pinned(f"sqlite:file={other}").match(
        DatabaseTarget((str(real),), file_identity(real))) is None
    assert pinned(f"sqlite:file={real}").match(
        DatabaseTarget((":memory:",), ServerIdentity("sqlite", ":memory:"))) is None
    assert pinned(f"sqlite:file={tmp_path}/missing-*.db").match(
        DatabaseTarget((str(real),), file_identity(real))) is None


# --- what a policy file holds ------------------------------------------------------------------


def test_lists_are_kept_as_immutable_values() -> None:
    policy = policy_from_mapping("p", {"require_allow": ["SG301"], "match_urls": ["db/*"],
                                       "block_severities": ["error"]})
    assert policy == Policy("p", require_allow=("SG301",), match_urls=("db/*",),
                            block_severities=frozenset({"error"}))
    assert hash(policy) == hash(Policy("p", require_allow=("SG301",), match_urls=("db/*",),
                                       block_severities=frozenset({"error"})))


def test_session_init_is_parsed_and_says_where_it_was_set(tmp_path: Path) -> None:
    init = policy_from_mapping("p", {"session_init": "SET x = 1"}).session_init
    assert init is not None
    assert (init.origin, init.common) == ("policy key session_init", ("SET x = 1",))
    path = tmp_path / "p.toml"
    from_file = policy_from_mapping("p", {"session_init": ["SET x = 1"]}, path=path)
    assert from_file.session_init is not None
    assert from_file.session_init.origin == f"session_init in {path}"
    with pytest.raises(ConfigError, match=(
            r"^policy key session_init must be a string, a list of strings, or a table of "
            r"dialect = string or list of strings, not 5$")):
        policy_from_mapping("p", {"session_init": 5})


def test_a_policy_file_is_read_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    path = tmp_path / "production.toml"
    path.write_text('description = "déploiement — prod"\n', encoding="utf-8")
    code = ("import sys; from pathlib import Path; from switchy_guard.gates.policy import "
            "load_policy; print(load_policy(Path(sys.argv[1])).description.encode('utf-8')"
            ".hex())")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0",
           "PYTHONCOERCECLOCALE": "0"}
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert bytes.fromhex(done.stdout.strip()).decode("utf-8") == "déploiement — prod"


def test_a_session_init_error_in_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    with pytest.raises(ConfigError, match=(
            f"^{re.escape(str(path))}: session_init must be a string, a list of strings, or a "
            r"table of dialect = string or list of strings, not 5$")):
        policy_from_mapping("p", {"session_init": 5}, path=path)


# --- where a project's policies are found ------------------------------------------------------


PRODUCTION = 'require_confirmation = true\ndescription = "{}"\n'


def project(root: Path, description: str = "ours") -> Path:
    """A project: pyproject.toml, db/migrations, and policies/production.toml."""
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "pyproject.toml").write_text("")
    (root / "policies").mkdir()
    (root / "policies" / "production.toml").write_text(PRODUCTION.format(description))
    return root


def settings(**fields: object) -> Settings:
    values: dict[str, object] = {
        "database_url": None, "migrations_dir": "db/migrations",
        "migration_table": "__switchy_migrations", "dialect": None, "env": "development",
        "policy_dir": None, "lock_timeout": 60.0}
    return Settings(**{**values, **fields})  # type: ignore[arg-type]


def test_a_local_migrations_folder_after_a_remote_one_still_finds_its_project(
        tmp_path: Path) -> None:
    root = project(tmp_path)
    assert project_policy_dirs(None, None, ["https://example.com/m", "db/migrations"],
                               cwd=root) == [root / "policies"]


def test_a_migrations_folder_that_does_not_exist_finds_no_project(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert project_policy_dirs(None, None, ["db/missing"], cwd=root) == []


def test_the_settings_lead_to_the_projects_policies(tmp_path: Path) -> None:
    root = project(tmp_path)
    assert policies_for(settings(), cwd=root).policies["production"].description == "ours"
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "production.toml").write_text(PRODUCTION.format("from the config"))
    chosen = policies_for(settings(config_file=str(root / "switchy-guard.toml"),
                                   config_policy_dir="elsewhere",
                                   migrations_dir="missing"), cwd=tmp_path)
    assert chosen.policies["production"].description == "from the config"


def test_a_policy_defined_differently_in_two_folders_is_refused_naming_both(
        tmp_path: Path) -> None:
    first = project(tmp_path / "a")
    second = project(tmp_path / "b", "theirs")
    with pytest.raises(ConfigError, match="^" + re.escape(
            f"policy 'production' is defined both in {first / 'policies' / 'production.toml'} "
            f"and in {second / 'policies' / 'production.toml'}, differently; a project's "
            "policy is never overridden silently: make them the same, remove one, or point "
            "--policy-dir / SWITCHY_POLICY_DIR at the project's own folder") + "$"):
        load_policies(None, project_dirs=[first / "policies", second / "policies"])


# --- what a database is matched as ---------------------------------------------------------------


def test_an_engine_a_url_and_its_text_are_matched_as_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    text = f"sqlite:///{path}"
    engine = create_engine(text)
    try:
        for database in (text, make_url(text), engine):
            target = database_identity_target(database)
            assert target.names[0] == str(path.resolve()), database
    finally:
        engine.dispose()


def test_policies_beside_the_config_file_are_the_projects(tmp_path: Path) -> None:
    config = tmp_path / "conf"
    (config / "policies").mkdir(parents=True)
    (config / "policies" / "production.toml").write_text(PRODUCTION.format("beside it"))
    chosen = policies_for(settings(config_file=str(config / "switchy-guard.toml"),
                                   migrations_dir="missing"), cwd=tmp_path)
    assert chosen.policies["production"].description == "beside it"
