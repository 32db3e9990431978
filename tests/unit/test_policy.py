"""Policies: the shipped ones, a project's overrides, validation of every key, match_urls."""

from __future__ import annotations

from pathlib import Path

import pytest

from switchy_guard.errors import ConfigError
from switchy_guard.policy import (
    SHIPPED_DIR,
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
    import switchy_guard.policy as module

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
    from switchy_guard.policy import PolicySet

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
