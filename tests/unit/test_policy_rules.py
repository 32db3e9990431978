"""Policies by what a user sees: every validation message in full (file, key, what is
expected, the value given), the documented defaults, which settings make a verdict depend
on the plan, and how a policy is chosen (the reason shown, the conflicts refused)."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

import pytest

from switchy_guard.config import Settings
from switchy_guard.errors import ConfigError
from switchy_guard.gates.policy import (
    DatabaseTarget,
    Policy,
    PolicySet,
    choose_policy,
    database_identity_target,
    database_target,
    load_policies,
    load_policy,
    policy_from_mapping,
)
from switchy_guard.runtime.identity import ServerIdentity

NUMBER = "a number of seconds, 0 or more, finite"

# (policy file text, the error after "FILE: ")
BAD = [
    ("require_confirmation = 'yes'",
     "policy key 'require_confirmation' must be true or false, not 'yes'"),
    ("require_lock = 1", "policy key 'require_lock' must be true or false, not 1"),
    ("refuse_dirty = 0", "policy key 'refuse_dirty' must be true or false, not 0"),
    ("refuse_checksum_drift = 'no'",
     "policy key 'refuse_checksum_drift' must be true or false, not 'no'"),
    ("refuse_out_of_order = 1.5",
     "policy key 'refuse_out_of_order' must be true or false, not 1.5"),
    ("refuse_irreversible = []", "policy key 'refuse_irreversible' must be true or false, not []"),
    ("lock_timeout = inf", f"policy key 'lock_timeout' must be {NUMBER}, not inf"),
    ("lock_timeout = -0.5", f"policy key 'lock_timeout' must be {NUMBER}, not -0.5"),
    ("statement_timeout = 'x'", f"policy key 'statement_timeout' must be {NUMBER}, not 'x'"),
    ("statement_lock_timeout = -1",
     f"policy key 'statement_lock_timeout' must be {NUMBER}, not -1"),
    ("lock_retries = -1", "policy key 'lock_retries' must be a whole number, 0 or more, not -1"),
    ("lock_retries = true",
     "policy key 'lock_retries' must be a whole number, 0 or more, not True"),
    ("lock_retries = 1.5",
     "policy key 'lock_retries' must be a whole number, 0 or more, not 1.5"),
    ("description = 3", "policy key 'description' must be a string, not 3"),
    ("backup = 'tape'", "policy key 'backup' must be one of none, ack, command, not 'tape'"),
    ("backup_command = ' '", "policy key 'backup_command' must be a non-empty string, not ' '"),
    ("match_urls = 'x'",
     "policy key 'match_urls' must be a list of non-empty glob patterns, not 'x'"),
    ("block_severities = ['error', 'fatal']",
     "policy key 'block_severities' must be a list of severities (error, warning, info), "
     "not ['error', 'fatal']"),
    ("require_allow = ['SG301', 'drop-column', 'nope', 'other']",
     "require_allow names an unknown rule 'nope'"),
    ("colour = 1",
     "unknown policy key 'colour' (known: description, block_severities, require_allow, "
     "require_confirmation, require_lock, lock_timeout, refuse_dirty, refuse_checksum_drift, "
     "refuse_out_of_order, refuse_irreversible, backup, backup_command, match_urls, "
     "match_servers, session_init, statement_lock_timeout, statement_timeout, lock_retries, "
     "refuse_when_blocked_longer_than)"),
    ("backup = 'command'", 'backup = "command" needs backup_command'),
    ("backup = 'command'\nbackup_command = ''",
     "policy key 'backup_command' must be a non-empty string, not ''"),
    ("match_servers = ['oracle:sid=1']",
     "policy key 'match_servers': 'oracle:sid=1' must start with postgres:, mysql: or sqlite:"),
    ("match_servers = ['postgres:server_uuid=1']",
     "policy key 'match_servers': 'postgres:server_uuid=1': unknown postgres fact "
     "'server_uuid' (known: system_identifier, database, host, port, user)"),
    ("match_servers = ['postgres:database=a, x']",
     "policy key 'match_servers': 'postgres:database=a, x': 'x' is not FACT=VALUE"),
    ("match_servers = ['postgres:database=a, database=b']",
     "policy key 'match_servers': 'postgres:database=a, database=b' names 'database' twice"),
    ("match_servers = ['sqlite:file=app.db']",
     "policy key 'match_servers': 'sqlite:file=app.db': the file must be an absolute path "
     "(or pattern)"),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[t for t, _ in BAD])
def test_each_bad_value_is_one_exact_error_naming_the_file(tmp_path: Path, text: str,
                                                            message: str) -> None:
    file = tmp_path / "production.toml"
    file.write_text(text + "\n")
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path).choose("production", None)
    assert str(info.value) == f"{file}: {message}"


def test_a_file_that_is_not_utf8_or_nests_too_deeply_cannot_be_read(tmp_path: Path) -> None:
    file = tmp_path / "qa.toml"
    file.write_bytes(b"description = '\xff'\n")
    with pytest.raises(ConfigError) as info:
        load_policy(file)
    assert str(info.value).startswith(f"{file}: cannot read policy: 'utf-8' codec can't decode")
    file.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError) as info:
        load_policy(file)
    assert str(info.value) in (f"{file}: cannot read policy: invalid TOML, nested too deeply",)


def test_a_missing_policy_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path / "missing")
    assert str(info.value) == f"{tmp_path / 'missing'}: policy folder not found"


def test_an_empty_policy_takes_the_documented_defaults() -> None:
    policy = policy_from_mapping("qa", {})
    assert policy == Policy(
        name="qa", description="", block_severities=frozenset(), require_allow=(),
        require_confirmation=False, require_lock=True, lock_timeout=60.0, refuse_dirty=False,
        refuse_checksum_drift=False, refuse_out_of_order=False, refuse_irreversible=False,
        backup="none", backup_command=None, match_urls=(), match_servers=(), path=None,
        session_init=None, statement_lock_timeout=None, statement_timeout=None,
        lock_retries=None)
    assert (policy.description, policy.block_severities, policy.require_allow) == (
        "", frozenset(), ())
    assert (policy.require_confirmation, policy.require_lock, policy.lock_timeout) == (
        False, True, 60.0)
    assert (policy.refuse_dirty, policy.refuse_checksum_drift, policy.refuse_out_of_order,
            policy.refuse_irreversible) == (False, False, False, False)
    assert (policy.backup, policy.backup_command, policy.match_urls,
            policy.match_servers) == ("none", None, (), ())
    assert (policy.timeouts.statement_lock_timeout, policy.timeouts.statement_timeout,
            policy.timeouts.lock_retries) == (None, None, None)
    assert not policy.judges_the_plan


def test_numbers_of_seconds_may_be_zero_and_are_read_as_floats() -> None:
    policy = policy_from_mapping("qa", {"lock_timeout": 0, "statement_timeout": 5,
                                        "statement_lock_timeout": 2.5, "lock_retries": 0})
    assert policy.lock_timeout == 0.0 and isinstance(policy.lock_timeout, float)
    assert policy.timeouts.statement_timeout == 5.0
    assert isinstance(policy.timeouts.statement_timeout, float)
    assert (policy.timeouts.statement_lock_timeout, policy.timeouts.lock_retries) == (2.5, 0)


def test_a_policy_is_immutable_and_hashable() -> None:
    policy = policy_from_mapping("qa", {"block_severities": ["error"]})
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.require_lock = False  # type: ignore[misc]
    assert hash(policy) == hash(policy_from_mapping("qa", {"block_severities": ["error"]}))
    choice = PolicySet({"qa": policy}).choose("qa", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        choice.environment = "production"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("settings", "judges"),
    [({}, False), ({"block_severities": ["info"]}, True), ({"require_allow": ["SG301"]}, True),
     ({"refuse_irreversible": True}, True), ({"backup": "ack"}, True),
     ({"backup": "command", "backup_command": "true"}, True), ({"backup": "none"}, False),
     ({"require_confirmation": True}, True), ({"refuse_dirty": True, "require_lock": False,
                                              "lock_timeout": 1}, False)],
)
def test_which_settings_make_the_verdict_depend_on_the_plan(settings: dict[str, object],
                                                            judges: bool) -> None:
    assert policy_from_mapping("qa", settings).judges_the_plan is judges


def test_require_allow_takes_rule_codes_and_names() -> None:
    policy = policy_from_mapping("qa", {"require_allow": ["SG301", "drop-column"]})
    assert PolicySet({"qa": policy}).get("qa") is policy
    assert policy.requires_allow("SG301", "drop-table")
    assert policy.requires_allow("SG302", "drop-column")
    assert not policy.requires_allow("SG303", "drop-schema-or-database")


def _identity() -> ServerIdentity:
    return ServerIdentity("postgres", "prodapp", ("localhost",), 5432,
                          {"database": "prodapp", "port": "5432", "system_identifier": "7345"})


def _policies(**rules: list[str]) -> PolicySet:
    prod = policy_from_mapping("production", rules, path=Path("/p/production.toml"))
    return PolicySet({"production": prod, "development": policy_from_mapping("development", {})})


def test_the_reason_a_policy_was_chosen() -> None:
    identity = _identity()
    target = DatabaseTarget(("db.example.com/prodapp", *identity.names()), identity)
    by_url = _policies(match_urls=["LOCALHOST/prodapp"])
    choice = by_url.choose("development", target)
    server = "postgres database 'prodapp' at localhost:5432 (system_identifier=7345)"
    assert (choice.environment, choice.reason, choice.server) == (
        "production", "match_urls pattern 'LOCALHOST/prodapp' in /p/production.toml "
        "(localhost/prodapp as the database says)", server)
    text = by_url.choose("development", "LocalHost/prodapp")
    assert (text.environment, text.reason, text.server) == (
        "production", "match_urls pattern 'LOCALHOST/prodapp' in /p/production.toml "
        "(LocalHost/prodapp)", None)
    url_text = _policies(match_urls=["db.example.com/*"]).choose("development", target)
    assert url_text.reason == ("match_urls pattern 'db.example.com/*' in /p/production.toml "
                               "(db.example.com/prodapp as the URL says)")
    by_pin = _policies(match_servers=["postgres:system_identifier=7345"])
    choice = by_pin.choose("development", target)
    assert (choice.environment, choice.reason, choice.server) == (
        "production", "match_servers 'postgres:system_identifier=7345' in /p/production.toml",
        server)
    none = by_url.choose("development", "other/app")
    assert (none.environment, none.reason, none.server) == ("development", "--env development",
                                                            None)
    assert none.policy is by_url.policies["development"]
    unmatched = by_url.choose("development", DatabaseTarget(("x/y",), identity=None))
    assert (unmatched.environment, unmatched.server) == ("development", None)


def test_what_a_policy_matches() -> None:
    identity = _identity()
    target = DatabaseTarget(("db.example.com/prodapp", *identity.names()), identity)
    by_url = _policies(match_urls=["nothing/*", "LOCALHOST/prodapp"]).policies["production"]
    assert by_url.match("localhost/prodapp") == ("match_urls", "LOCALHOST/prodapp",
                                                 "localhost/prodapp")
    assert by_url.matches("localhost/prodapp") == "LOCALHOST/prodapp"
    assert by_url.matches("localhost/other") is None
    by_pin = _policies(match_servers=["postgres:system_identifier=1",
                                      "postgres:system_identifier=7345"]).policies["production"]
    assert by_pin.match(target) == ("match_servers", "postgres:system_identifier=7345",
                                    identity.describe())
    assert by_pin.matches(target) is None  # matches() is match_urls only
    assert by_pin.match("localhost/prodapp") is None  # a text has no identity
    assert _policies(match_urls=["*"]).has_match_rules
    assert _policies(match_servers=["postgres:database=x"]).has_match_rules
    assert not _policies().has_match_rules


@pytest.mark.parametrize(
    ("pattern", "database", "hit"),
    [("[::1]:5432/app", "localhost:5432/app", True), ("127.0.0.1:5432/app", "localhost:5432/app",
                                                       True),
     ("127.0.0.1/app", "localhost/app", True), ("[::1]/app", "localhost/app", True),
     ("127.0.0.*/app", "localhost/app", False), ("127.0.0.*/app", "127.0.0.9/app", True),
     ("/app", "/app", True), ("127.0.0.1:5432/app", "localhost/app", False)],
)
def test_a_literal_host_in_a_pattern_is_normalised(pattern: str, database: str,
                                                    hit: bool) -> None:
    policy = _policies(match_urls=[pattern]).policies["production"]
    assert (policy.matches(database) == pattern) is hit


def test_several_matching_policies_are_refused_by_name() -> None:
    policies = PolicySet({
        "b": policy_from_mapping("b", {"match_urls": ["x*"]}),
        "a": policy_from_mapping("a", {"match_urls": ["*"]}),
        "c": policy_from_mapping("c", {"match_urls": ["nothing"]})})
    with pytest.raises(ConfigError) as info:
        policies.choose("c", "xy/z")
    assert str(info.value) == ("the database 'xy/z' matches match_urls or match_servers of "
                               "several policies: a, b; make them exclusive")


def test_an_unknown_environment_lists_the_known_ones() -> None:
    policies = PolicySet({"staging": policy_from_mapping("staging", {}),
                          "dev": policy_from_mapping("dev", {})})
    with pytest.raises(ConfigError) as info:
        policies.get("prod")
    assert str(info.value) == ("no policy for environment 'prod' (known: dev, staging); add "
                               "prod.toml to the policy folder")
    assert PolicySet().policies == {} and PolicySet().policies is not PolicySet().policies


def test_the_target_text_of_a_server_url() -> None:
    assert database_target("postgresql://u@db.example.com/") == "db.example.com/"
    assert database_target("postgresql://u@db.example.com") == "db.example.com/"
    assert DatabaseTarget(()).shown == ""
    assert DatabaseTarget(("a/b", "c/d")).shown == "a/b"


def _settings(tmp_path: Path, env: str = "development") -> Settings:
    return Settings(database_url=None, migrations_dir=str(tmp_path / "migrations"),
                    migration_table="t", dialect=None, env=env,
                    policy_dir=str(tmp_path / "pol"), lock_timeout=1.0)


def test_a_command_chooses_by_what_the_database_file_is(tmp_path: Path) -> None:
    real = tmp_path / "prod.db"
    sqlite3.connect(real).close()
    os.link(real, tmp_path / "alias.db")
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "production.toml").write_text(f'match_urls = ["{real}"]\n')
    settings = _settings(tmp_path)
    choice = choose_policy(settings, f"sqlite:///{tmp_path / 'alias.db'}")
    assert choice.environment == "production"
    policy_file = tmp_path / "pol" / "production.toml"
    assert choice.reason == (f"match_urls pattern '{real}' in {policy_file} "
                             f"({tmp_path / 'alias.db'}, the same file as {real})")
    assert choose_policy(settings, None).reason == "--env development"
    other = tmp_path / "dev.db"
    sqlite3.connect(other).close()
    assert choose_policy(settings, f"sqlite:///{other}").environment == "development"
    target = database_identity_target(f"sqlite:///{tmp_path / 'alias.db'}")
    assert target.names[0] == str(tmp_path / "alias.db")
    assert len(set(target.names)) == len(target.names)
    assert target.identity is not None and target.identity.dialect == "sqlite"


def test_without_match_rules_a_url_is_not_even_opened(tmp_path: Path) -> None:
    (tmp_path / "pol").mkdir()
    # A URL no driver could open: only a policy with match rules would need to ask it.
    choice = choose_policy(_settings(tmp_path, "staging"), "postgresql://u@unreachable.invalid/x")
    assert (choice.environment, choice.reason) == ("staging", "--env staging")


def test_a_pin_matches_only_its_own_dialect_and_every_fact(tmp_path: Path) -> None:
    from switchy_guard.gates.policy import parse_server_pin

    assert parse_server_pin("postgresql:database=app") == ("postgres", {"database": "app"})
    assert parse_server_pin("MySQL: hostname = DB1 ") == ("mysql", {"hostname": "DB1"})
    identity = ServerIdentity("mysql", "billing", ("db1.internal",), 3306,
                              {"database": "billing", "server_id": "7", "hostname": "DB1"})
    target = DatabaseTarget(("db1.internal/billing",), identity)
    for pin, hit in [("mysql:server_id=7", True), ("mariadb:hostname=db1", True),
                     ("mysql:host=DB1.internal", True), ("mysql:host=db*", True),
                     ("mysql:host=db2.internal", False), ("mysql:server_uuid=7", False),
                     ("postgres:database=billing", False),
                     ("mysql:server_id=7, database=other", False)]:
        policy = policy_from_mapping("production", {"match_servers": [pin]})
        assert (policy.match(target) is not None) is hit, pin
    with pytest.raises(ValueError) as info:
        parse_server_pin("postgres")
    assert str(info.value) == "'postgres' must start with postgres:, mysql: or sqlite:"


@pytest.mark.parametrize("marker", ["pyproject.toml", "switchy-guard.toml", ".git"])
def test_each_project_marker_makes_its_folder_the_projects_root(tmp_path: Path,
                                                                 marker: str) -> None:
    from switchy_guard.gates.policy import project_policy_dirs

    root = tmp_path / "proj"
    (root / "db" / "migrations").mkdir(parents=True)
    (root / marker).write_text("")
    assert project_policy_dirs(None, None, str(root / "db" / "migrations"),
                               cwd=tmp_path) == [root / "policies"]
