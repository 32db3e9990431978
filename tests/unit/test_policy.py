"""Policies: the shipped ones, a project's overrides, validation of every key, match_urls."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.errors import ConfigError
from switchy_guard.gates.policy import (
    SHIPPED_DIR,
    DatabaseTarget,
    database_target,
    load_policies,
    load_policy,
    policy_from_mapping,
)
from tests.cli_helpers import run_cli, run_without_sqlalchemy, write_migration


def test_shipped_policies_load_and_grow_stricter(tmp_path: Path) -> None:
    policies = load_policies(None, cwd=tmp_path)
    dev, staging, prod = (policies.get(n) for n in ("development", "staging", "production"))
    assert not dev.require_confirmation and dev.block_severities == frozenset()
    assert staging.block_severities == {"error"} and staging.refuse_dirty
    assert prod.require_confirmation and prod.backup == "ack"
    assert prod.block_severities == {"error"}
    assert prod.requires_allow("SG401", "index-not-concurrent")
    assert not prod.requires_allow("SG601", "non-transactional-ddl")  # MySQL-inherent
    assert prod.requires_allow("SG302", "drop-column") and not dev.requires_allow("SG302", "x")
    assert prod.path == str(SHIPPED_DIR / "production.toml")


def test_every_shipped_key_is_documented() -> None:
    import switchy_guard.gates.policy as module

    keys = set()
    for file in SHIPPED_DIR.glob("*.toml"):
        import tomllib

        keys |= set(tomllib.loads(file.read_text()))
    assert keys, "no shipped policy"
    docs = module.__doc__ or ""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for key in keys | {"backup_command"}:
        assert f"``{key}``" in docs, key
        assert f"`{key}`" in readme, key


def test_a_project_folder_overrides_and_adds(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "production.toml").write_text("require_confirmation = false\n")
    (folder / "qa.toml").write_text('block_severities = ["warning"]\n')
    policies = load_policies(None, cwd=tmp_path)  # ./policies is found by default
    assert not policies.get("production").require_confirmation
    assert policies.get("qa").block_severities == {"warning"}
    assert policies.get("staging").refuse_dirty  # shipped ones stay
    with pytest.raises(ConfigError, match="no policy for environment 'nope'"):
        policies.get("nope")


def test_an_asked_for_folder_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy folder not found"):
        load_policies(tmp_path / "missing")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 'red'\n", "unknown policy key 'colour'"),
        ("require_confirmation = 'yes'\n", "'require_confirmation' must be true or false"),
        ("require_lock = 1\n", "'require_lock' must be true or false"),
        ("lock_timeout = 'long'\n", "'lock_timeout' must be a number of seconds"),
        ("lock_timeout = -1\n", "'lock_timeout' must be a number of seconds"),
        ("lock_timeout = true\n", "'lock_timeout' must be a number of seconds"),
        ("lock_timeout = nan\n", "'lock_timeout' must be a number of seconds"),
        ("block_severities = ['fatal']\n", "'block_severities' must be a list of severities"),
        ("block_severities = 'error'\n", "'block_severities' must be a list of severities"),
        ("require_allow = ['SG999']\n", "require_allow names an unknown rule 'SG999'"),
        ("require_allow = [1]\n", "'require_allow' must be a list of rule codes or names"),
        ("backup = 'tape'\n", "'backup' must be one of none, ack, command"),
        ("backup = 'command'\n", 'backup = "command" needs backup_command'),
        ("backup_command = '  '\n", "'backup_command' must be a non-empty string"),
        ("match_urls = ['']\n", "'match_urls' must be a list of non-empty glob patterns"),
        ("description = 3\n", "'description' must be a string"),
        ("match_servers = 'postgres:database=x'\n", "'match_servers' must be a list of server"),
        ("match_servers = ['oracle:sid=1']\n", "must start with postgres:, mysql: or sqlite:"),
        ("match_servers = ['system_identifier=1']\n", "must start with postgres:, mysql:"),
        ("match_servers = ['postgres:server_uuid=1']\n",
         "unknown postgres fact 'server_uuid' (known: system_identifier, database"),
        ("match_servers = ['mysql:system_identifier=1']\n", "unknown mysql fact"),
        ("match_servers = ['postgres:system_identifier']\n", "is not FACT=VALUE"),
        ("match_servers = ['postgres:system_identifier= ']\n", "is not FACT=VALUE"),
        ("match_servers = ['postgres:database=a, database=b']\n", "names 'database' twice"),
        ("match_servers = ['sqlite:file=/a,']\n", "is not FACT=VALUE"),
        ("match_servers = ['sqlite:file=app.db']\n", "the file must be an absolute path"),
        ("match_server = ['postgres:database=a']\n", "unknown policy key 'match_server'"),
        ("refuse_dirty = [\n", "cannot read policy"),
    ],
)
def test_bad_policies_are_refused_naming_the_file(tmp_path: Path, text: str,
                                                  message: str) -> None:
    file = tmp_path / "production.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_policies(tmp_path).choose("production", None)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{file}: ")


def test_a_bad_policy_is_exit_2_on_the_command_line(tmp_path: Path) -> None:
    policies = tmp_path / "pol"
    policies.mkdir()
    (policies / "staging.toml").write_text("refuse_dirty = 'sometimes'\n")
    write_migration(tmp_path / "m", "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n")
    database = tmp_path / "app.db"
    result = run_cli("migrate", "-m", tmp_path / "m", "-d", f"sqlite:///{database}",
                     "--policy-dir", policies)
    assert result.code == 2
    assert result.error_lines == [
        f"error: {policies / 'staging.toml'}: policy key 'refuse_dirty' must be true or false, "
        "not 'sometimes'"
    ]
    assert not database.exists() or database.stat().st_size == 0  # nothing applied


def test_match_urls_force_a_policy_whatever_the_environment(tmp_path: Path) -> None:
    prod = policy_from_mapping("production", {"match_urls": ["*.PROD.example.com/*"]},
                               path=tmp_path / "production.toml")
    dev = policy_from_mapping("development", {})
    from switchy_guard.gates.policy import PolicySet

    policies = PolicySet({"production": prod, "development": dev})
    chosen = policies.choose("development", "db1.prod.example.com/app")
    assert chosen.policy is prod and chosen.environment == "production"
    assert "match_urls pattern '*.PROD.example.com/*'" in chosen.reason
    assert policies.choose("development", "localhost/app").policy is dev
    both = policy_from_mapping("shadow", {"match_urls": ["*/app"]})
    policies.policies["shadow"] = both
    with pytest.raises(ConfigError, match="several policies: production, shadow"):
        policies.choose("development", "db1.prod.example.com/app")


def test_database_target() -> None:
    assert database_target("postgresql://u:pw@db.example.com:5432/app") == "db.example.com/app"
    assert database_target("mysql+pymysql://u@/app") == "localhost/app"
    assert database_target("sqlite:///:memory:") == ":memory:"
    assert database_target("sqlite:///relative.db") == str(Path("relative.db").resolve())
    # The spellings the rest of the tool accepts name the same file here too.
    assert database_target("sqlite:relative.db") == str(Path("relative.db").resolve())
    assert database_target("sqlite:///file:/srv/prod.db?mode=ro&uri=true") == "/srv/prod.db"


def test_check_gate_with_a_database_reads_urls_as_every_verb_does(tmp_path: Path) -> None:
    """check --gate -d chose its policy through SQLAlchemy's own URL parser: the short
    sqlite: form was 'database error', exit 3, and a mistyped URL exit 3 too."""
    from tests.cli_helpers import run_cli, write_migration

    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_a", "CREATE TABLE a (id INTEGER);\n",
                    "DROP TABLE a;\n")
    ok = run_cli("check", "--gate", "-m", root, "-d", f"sqlite:{tmp_path / 'app.db'}")
    assert ok.code == 0, ok
    bad = run_cli("check", "--gate", "-m", root, "-d", "postgres//u:pw@h/db")
    assert bad.code == 2 and "invalid database URL" in bad.err and "pw" not in bad.err


def test_load_policy_reads_one_file(tmp_path: Path) -> None:
    file = tmp_path / "ci.toml"
    file.write_text('description = "ci"\nbackup = "command"\nbackup_command = "true"\n')
    policy = load_policy(file)
    assert (policy.name, policy.backup, policy.backup_command) == ("ci", "command", "true")


def test_check_gate_judges_findings_by_the_policy_without_a_database(tmp_path: Path) -> None:
    root = tmp_path / "m"
    write_migration(root, "2024-01-01-000000_users", "CREATE TABLE users (id INT, nick TEXT);\n",
                    "DROP TABLE users;\n")
    drop = write_migration(root, "2024-01-02-000000_drop_nick",
                           "ALTER TABLE users DROP COLUMN nick;\n",
                           "ALTER TABLE users ADD COLUMN nick TEXT;\n")
    common = ["check", "-m", root, "--dialect", "postgres", "--no-cache", "--gate"]
    production = run_cli(*common, "--env", "production", "--fail-on", "error")
    # SG302 is an error anyway; under production it also needs a reasoned allow.
    assert production.code == 1
    assert ("gate: policy production would refuse 2024-01-02-000000_drop_nick: "
            "SG302 drop-column: production allows this rule only with an allow and a reason"
            in production.err)
    (drop / "metadata.toml").write_text(
        '[[allow]]\nrule = "drop-column"\nreason = "nick moved to profiles in v3"\n')
    allowed = run_cli(*common, "--env", "production")
    assert allowed.code == 0, allowed.err
    assert "gate: policy production (--env production) would let these findings through" \
        in allowed.err
    (drop / "down.sql").unlink()  # now irreversible: an info finding (SG203)
    assert run_cli(*common, "--env", "development").code == 0
    irreversible = run_cli(*common, "--env", "production")
    assert irreversible.code == 1
    assert "SG203 irreversible: no down script, and the policy refuses" in irreversible.err
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "strict.toml").write_text('block_severities = ["info"]\n')
    strict = run_cli(*common, "--env", "strict", "--policy-dir", tmp_path / "pol")
    assert strict.code == 1 and "info findings block in strict" in strict.err
    # Still no SQLAlchemy for a check without a database, gate included.
    run_without_sqlalchemy(*common, "--env", "production")


def test_match_servers_spellings_that_are_accepted() -> None:
    from switchy_guard.gates.policy import parse_server_pin

    assert parse_server_pin("PostgreSQL: system_identifier = 7345, database=app") == (
        "postgres", {"system_identifier": "7345", "database": "app"})
    assert parse_server_pin("mariadb:server_uid=m+DMWXQq1QkTZT+vXvIuAq6aCmg=") == (
        "mysql", {"server_uid": "m+DMWXQq1QkTZT+vXvIuAq6aCmg="})
    policy = policy_from_mapping("production", {"match_servers": ["sqlite:file=/srv/a.db"]})
    assert policy.match_servers == ("sqlite:file=/srv/a.db",)


@pytest.mark.parametrize(
    ("host", "normal"),
    [("localhost", "localhost"), ("LOCALHOST.", "localhost"), ("127.0.0.1", "localhost"),
     ("127.1", "localhost"), ("127.0.0.2", "localhost"), ("2130706433", "localhost"),
     ("0x7f.1", "localhost"), ("::1", "localhost"), ("[::1]", "localhost"),
     ("::ffff:127.0.0.1", "localhost"), ("0.0.0.0", "localhost"), (None, "localhost"),
     ("/var/run/postgresql", "localhost"), ("app.localhost", "localhost"),
     ("DB1.Prod.Example.com.", "db1.prod.example.com"), ("10.1", "10.0.0.1"),
     ("10.0.0.5", "10.0.0.5"), ("[2001:DB8::1]", "2001:db8::1"), ("1db", "1db")],
)
def test_every_spelling_of_a_host_is_normalised(host: str | None, normal: str) -> None:
    from switchy_guard.runtime.identity import normal_host

    assert normal_host(host) == normal


def _server(database: str, *hosts: str, port: int = 5432, **facts: str) -> DatabaseTarget:
    from switchy_guard.runtime.identity import ServerIdentity

    identity = ServerIdentity("postgres", database, hosts, port,
                              {"database": database, "port": str(port), **facts})
    return DatabaseTarget(("decoy.example.com/other", *identity.names()), identity)


def test_patterns_match_what_the_server_says_and_literal_hosts_are_normalised() -> None:
    from switchy_guard.gates.policy import PolicySet

    def chosen(patterns: list[str], target: DatabaseTarget) -> str:
        prod = policy_from_mapping("production", {"match_urls": patterns}, path=Path("p"))
        policies = PolicySet({"production": prod, "development": policy_from_mapping(
            "development", {})})
        return policies.choose("development", target).environment

    said = _server("prodapp", "localhost", "10.0.0.5")
    assert chosen(["localhost/prodapp"], said) == "production"
    assert chosen(["127.0.0.1/prodapp"], said) == "production"  # normalised pattern
    assert chosen(["[::1]:5432/prodapp"], said) == "production"
    assert chosen(["10.0.0.5/*"], said) == "production"
    assert chosen(["*:5432/prod*"], said) == "production"
    assert chosen(["decoy.example.com/other"], said) == "production"  # the URL's text still
    assert chosen(["localhost:5433/prodapp", "*/devapp"], said) == "development"


def test_match_servers_needs_every_fact_of_a_pin() -> None:
    from switchy_guard.gates.policy import PolicySet

    said = _server("prodapp", "localhost", system_identifier="7345", user="app")
    pins = {
        "postgres:system_identifier=7345": "production",
        "postgres:system_identifier=7345, database=prod*": "production",
        "postgres:system_identifier=7345, database=other": "development",
        "postgres:host=127.0.0.1, port=5432": "production",  # a literal host, normalised
        "postgres:user=APP": "production",
        "mysql:server_id=7345": "development",  # another dialect never matches
        "postgres:system_identifier=9999": "development",
    }
    for pin, environment in pins.items():
        prod = policy_from_mapping("production", {"match_servers": [pin]}, path=Path("p"))
        policies = PolicySet({"production": prod,
                              "development": policy_from_mapping("development", {})})
        choice = policies.choose("development", said)
        assert choice.environment == environment, pin
        assert choice.server == "postgres database 'prodapp' at localhost:5432 " \
            "(system_identifier=7345)"


def test_an_absolute_sqlite_pattern_finds_the_file_under_any_name(tmp_path: Path) -> None:
    import os

    from switchy_guard.gates.policy import PolicySet
    from switchy_guard.runtime.identity import sqlite_identity

    real = tmp_path / "prod" / "app.db"
    real.parent.mkdir()
    real.write_bytes(b"")
    os.link(real, tmp_path / "alias.db")
    identity = sqlite_identity(f"sqlite:///{tmp_path / 'alias.db'}")
    target = DatabaseTarget((str(tmp_path / "alias.db"), *identity.names()), identity)
    for pattern in (str(real), str(tmp_path / "prod" / "*.db"), str(tmp_path / "*" / "app.db")):
        prod = policy_from_mapping("production", {"match_urls": [pattern]}, path=Path("p"))
        policies = PolicySet({"production": prod,
                              "development": policy_from_mapping("development", {})})
        choice = policies.choose("development", target)
        assert choice.environment == "production", pattern
        assert f"the same file as {real}" in choice.reason
    assert sqlite_identity("sqlite://").database == ":memory:"
    missing = sqlite_identity(f"sqlite:///{tmp_path / 'missing.db'}")
    assert missing.file_id is None and not (tmp_path / "missing.db").exists()


def test_the_project_policy_folders(tmp_path: Path) -> None:
    from switchy_guard.gates.policy import project_policy_dirs

    root = tmp_path / "proj"
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "policies").mkdir()
    (root / ".git").write_text("gitdir: elsewhere\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert project_policy_dirs(None, None, str(root / "db" / "migrations"),
                               cwd=elsewhere) == [root / "policies"]
    (root / "db" / "policies").mkdir()  # beside the migrations wins
    assert project_policy_dirs(None, None, [str(root / "db" / "migrations"),
                                            "pkg:migrations", "https://x/index.json"],
                               cwd=elsewhere) == [root / "db" / "policies"]
    assert project_policy_dirs(str(root / "pyproject.toml"), None, "missing",
                               cwd=elsewhere) == [root / "policies"]
    assert project_policy_dirs(None, str(root / "ops"), "missing", cwd=elsewhere) == [
        root / "ops"]
    # No project root above: only the folder beside the migrations counts.
    lone = tmp_path / "lone" / "migrations"
    lone.mkdir(parents=True)
    assert project_policy_dirs(None, None, str(lone), cwd=elsewhere) == []


def test_two_folders_defining_one_environment_differently_is_an_error(tmp_path: Path) -> None:
    project, ambient = tmp_path / "project", tmp_path / "ambient"
    project.mkdir()
    ambient.mkdir()
    (project / "production.toml").write_text('match_urls = ["*/prod"]\n')
    (ambient / "qa.toml").write_text("require_lock = false\n")
    merged = load_policies(ambient, project_dirs=[project, tmp_path / "absent"])
    assert merged.get("production").match_urls == ("*/prod",)
    assert not merged.get("qa").require_lock
    (ambient / "production.toml").write_text('match_urls = ["*/prod"]\n')  # the same: fine
    assert load_policies(ambient, project_dirs=[project]).get("production").match_urls
    (ambient / "production.toml").write_text("match_urls = []\n")
    with pytest.raises(ConfigError) as info:
        load_policies(ambient, project_dirs=[project])
    assert str(project / "production.toml") in str(info.value)
    assert str(ambient / "production.toml") in str(info.value)
    # One folder named twice, or the shipped folder through a link, is no conflict.
    (tmp_path / "shipped-link").symlink_to(SHIPPED_DIR)
    assert load_policies(project, project_dirs=[project, tmp_path / "shipped-link"]).get(
        "production").match_urls == ("*/prod",)
