"""Every statement rule: a statement that fires and a look-alike that must not, per dialect.

Each case is run as a one-migration plan whose earlier statements (the ``setup``) record
an existing table, so schema-awareness is exercised too.
"""

from __future__ import annotations

import pytest

from switchy_guard.migration import Migration
from switchy_guard.rules import all_rules
from switchy_guard.validation import validate

P, M, S = "postgres", "mysql", "sqlite"

# code: [(dialects, fires, look-alike that must not fire)]
CASES: dict[str, list[tuple[tuple[str, ...], str, str]]] = {
    "SG301": [((P, M, S), "DROP TABLE users", "DROP VIEW users_view"),
              ((M,), "ALTER TABLE users DROP PARTITION p2019, p2020",
               "ALTER TABLE users ADD PARTITION (PARTITION p3 VALUES LESS THAN (2025))")],
    "SG302": [((P, M, S), "ALTER TABLE users DROP COLUMN email",
               "ALTER TABLE users ADD COLUMN email_2 TEXT")],
    "SG303": [((P, M), "DROP SCHEMA reporting", "CREATE SCHEMA reporting"),
              ((M,), "DROP DATABASE app", "CREATE DATABASE app")],
    "SG304": [((P, M, S), "TRUNCATE TABLE users", "DELETE FROM users WHERE id = 1"),
              ((P,), "TRUNCATE users CASCADE", "SELECT 1"),
              ((M,), "ALTER TABLE users TRUNCATE PARTITION ALL",
               "ALTER TABLE users ANALYZE PARTITION p2020")],
    "SG305": [((P, M, S), "DELETE FROM users", "DELETE FROM users WHERE id = 1")],
    "SG306": [((P, M, S), "UPDATE users SET email = lower(email)",
               "UPDATE users SET email = lower(email) WHERE id > 10")],
    "SG307": [((P, M, S), "DROP VIEW active_users", "CREATE VIEW active_users AS SELECT 1"),
              ((P,), "DROP FUNCTION f", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ "
                                        "LANGUAGE sql")],
    "SG308": [((P, S), "ALTER TABLE users ALTER COLUMN email TYPE varchar(10)",
               "ALTER TABLE users ALTER COLUMN email TYPE varchar(500)"),
              ((M,), "ALTER TABLE users MODIFY COLUMN id SMALLINT",
               "ALTER TABLE users MODIFY COLUMN id BIGINT"),
              # An int has up to 10 digits: numeric(12, 2) keeps them, numeric(9) does not.
              ((P,), "ALTER TABLE users ALTER COLUMN id TYPE numeric(9)",
               "ALTER TABLE users ALTER COLUMN id TYPE numeric(12, 2)"),
              ((M,), "ALTER TABLE users MODIFY COLUMN id DECIMAL(9)",
               "ALTER TABLE users MODIFY COLUMN id DECIMAL(10)")],
    "SG401": [((P,), "CREATE INDEX users_email ON users (email)",
               "CREATE INDEX CONCURRENTLY users_email ON users (email)"),
              ((P,), "DROP INDEX users_old", "DROP INDEX CONCURRENTLY users_old"),
              ((P,), "REINDEX INDEX users_email", "REINDEX INDEX CONCURRENTLY users_email"),
              ((P,), "REINDEX (VERBOSE) TABLE users", "REINDEX TABLE CONCURRENTLY users")],
    "SG402": [((P,), "CREATE INDEX CONCURRENTLY users_e ON users (email);\nSELECT 1",
               "CREATE INDEX CONCURRENTLY users_e ON users (email)"),
              ((P,), "REINDEX (VERBOSE) INDEX CONCURRENTLY users_e;\nANALYZE users",
               "REINDEX INDEX users_e;\nANALYZE users")],
    "SG403": [((P, M, S), "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL",
               "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT 'free'"),
              # DEFAULT NULL is no default: existing rows still get NULL.
              ((P, M, S), "ALTER TABLE users ADD COLUMN plan TEXT NOT NULL DEFAULT NULL",
               "ALTER TABLE users ADD COLUMN plan TEXT NULL DEFAULT NULL")],
    "SG404": [((P,), "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
               "ALTER TABLE users ALTER COLUMN email DROP DEFAULT"),
              ((M,), "ALTER TABLE users MODIFY COLUMN email VARCHAR(255) NOT NULL",
               "ALTER TABLE users MODIFY COLUMN email VARCHAR(255) NULL")],
    "SG405": [((P,), "ALTER TABLE users ALTER COLUMN id TYPE bigint",
               "ALTER TABLE users ALTER COLUMN email TYPE text"),
              ((M,), "ALTER TABLE users MODIFY COLUMN id BIGINT",
               "ALTER TABLE users MODIFY COLUMN email VARCHAR(300)")],
    "SG406": [((P,), "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES orgs (id)",
               "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (org) REFERENCES orgs (id) "
               "NOT VALID"),
              ((P,), "ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0)",
               "ALTER TABLE users VALIDATE CONSTRAINT ck"),
              # NOT and VALID inside the check are not NOT VALID.
              ((P,), "ALTER TABLE users ADD CONSTRAINT ck CHECK (email IS NOT NULL OR valid)",
               "ALTER TABLE users ADD CONSTRAINT ck CHECK (email IS NOT NULL OR valid) NOT VALID"),
              # A column constraint validates at once: it cannot be NOT VALID.
              ((P,), "ALTER TABLE users ADD COLUMN org int REFERENCES orgs (id) ON DELETE CASCADE",
               "ALTER TABLE users ADD COLUMN org int"),
              ((P,), "ALTER TABLE users ADD COLUMN age int CONSTRAINT age_ck CHECK (age > 0)",
               "ALTER TABLE users ADD COLUMN age int DEFAULT 0 COMMENT 'check'")],
    "SG407": [((P,), "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email)",
               "ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX users_email_idx"),
              ((M,), "ALTER TABLE users ADD UNIQUE (email)",
               "ALTER TABLE users ADD INDEX users_email (email)"),
              # USING INDEX TABLESPACE places the index it builds; USING INDEX i adopts one.
              ((P,), "ALTER TABLE users ADD CONSTRAINT u UNIQUE (email) USING INDEX TABLESPACE t",
               "ALTER TABLE users ADD CONSTRAINT u PRIMARY KEY USING INDEX users_pk"),
              ((P, M), "ALTER TABLE users ADD COLUMN code varchar(10) UNIQUE",
               "ALTER TABLE users ADD COLUMN code varchar(10) DEFAULT 'unique'"),
              ((M,), "ALTER TABLE users ADD UNIQUE INDEX u (email), LOCK=EXCLUSIVE",
               "ALTER TABLE users ADD UNIQUE INDEX u (email), ALGORITHM=INPLACE, LOCK=NONE")],
    "SG408": [((P,), "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()",
               "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now()"),
              ((M,), "ALTER TABLE users ADD COLUMN token CHAR(36) DEFAULT (UUID())",
               "ALTER TABLE users ADD COLUMN token CHAR(36) DEFAULT 'x'"),
              ((P, M), "ALTER TABLE users ADD COLUMN n float DEFAULT floor(random() * 10)",
               "ALTER TABLE users ADD COLUMN note text DEFAULT 'see random() and uuid()'")],
    "SG409": [((M,), "ALTER TABLE users MODIFY COLUMN email VARCHAR(500)",
               "ALTER TABLE users MODIFY COLUMN email VARCHAR(500), ALGORITHM=INPLACE, LOCK=NONE"),
              ((M,), "ALTER TABLE users ADD COLUMN x INT, ALGORITHM=COPY",
               "ALTER TABLE users ADD COLUMN x INT, ALGORITHM=INSTANT"),
              # LOCK=NONE: the server refuses what would block writes (a copy included).
              ((M,), "ALTER TABLE users MODIFY COLUMN email TEXT, LOCK=SHARED",
               "ALTER TABLE users MODIFY COLUMN email TEXT, LOCK=NONE"),
              # FULLTEXT and SPATIAL indexes block writes even with ALGORITHM=INPLACE.
              ((M,), "ALTER TABLE users ADD FULLTEXT INDEX ft (email), ALGORITHM=INPLACE",
               "ALTER TABLE users ADD INDEX i (email), ALGORITHM=INPLACE"),
              ((M,), "CREATE SPATIAL INDEX sp ON users (email)",
               "CREATE FULLTEXT INDEX ft ON users (email) LOCK = NONE")],
    "SG410": [((S,), "ALTER TABLE users ALTER COLUMN email TYPE TEXT",
               "ALTER TABLE users ADD COLUMN bio TEXT"),
              ((S,), "CREATE TABLE users_new (id INTEGER);\nINSERT INTO users_new SELECT id FROM "
                     "users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users",
               "CREATE TABLE users_new (id INTEGER);\nALTER TABLE users_new RENAME TO users2"),
              # What SQLite's ADD COLUMN refuses (https://sqlite.org/lang_altertable.html).
              ((S,), "ALTER TABLE users ADD COLUMN code TEXT UNIQUE",
               "ALTER TABLE users ADD COLUMN code TEXT DEFAULT 'unique'"),
              ((S,), "ALTER TABLE users ADD COLUMN seen TEXT DEFAULT CURRENT_TIMESTAMP",
               "ALTER TABLE users ADD COLUMN seen TEXT DEFAULT 'CURRENT_TIMESTAMP'"),
              ((S,), "ALTER TABLE users ADD COLUMN n INT DEFAULT (abs(id))",
               "CREATE TABLE t (id INT);\nALTER TABLE t ADD COLUMN n INT DEFAULT (abs(id))")],
    "SG104": [((P, M), "CREATE INDEX " + "i" * 65 + " ON users (email)",
               "CREATE INDEX " + "i" * 63 + " ON users (email)"),
              ((P, M), "ALTER TABLE users ADD COLUMN " + "c" * 70 + " int",
               "ALTER TABLE users ADD COLUMN c int COMMENT '" + "c" * 70 + "'")],
    "SG411": [((P, M), "ALTER TABLE users ADD PRIMARY KEY (id)",
               "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_pk"),
              ((P, M), "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY (id)",
               "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)"),
              ((P, M), "ALTER TABLE users ADD COLUMN n int PRIMARY KEY",
               "ALTER TABLE users ADD COLUMN n int"),
              ((M,), "ALTER TABLE users ADD PRIMARY KEY (id), LOCK=SHARED",
               "ALTER TABLE users ADD PRIMARY KEY (id), ALGORITHM=INPLACE, LOCK=NONE")],
    "SG412": [((P,), "VACUUM FULL users", "VACUUM users"),
              ((P,), "VACUUM (FULL, VERBOSE) users", "VACUUM (FULL false, VERBOSE) users"),
              ((P,), "CLUSTER users USING users_email", "ALTER TABLE users CLUSTER ON users_email"),
              ((P,), "ALTER TABLE users SET UNLOGGED", "ALTER TABLE users SET (fillfactor = 70)"),
              ((P,), "ALTER TABLE users SET TABLESPACE fast",
               "ALTER TABLE users ALTER COLUMN email SET STATISTICS 500"),
              ((P,), "ALTER TABLE users ADD COLUMN d text GENERATED ALWAYS AS (lower(email)) "
                     "STORED", "ALTER TABLE users ADD COLUMN d text"),
              ((M,), "OPTIMIZE TABLE users", "ANALYZE TABLE users"),
              ((M,), "ALTER TABLE users FORCE", "ALTER TABLE users FORCE, ALGORITHM=INPLACE, "
                                                "LOCK=NONE"),
              ((M,), "ALTER TABLE users ENGINE=InnoDB", "ALTER TABLE users COMMENT 'engine'"),
              ((M,), "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4",
               "ALTER TABLE users DEFAULT CHARACTER SET utf8mb4"),
              ((M,), "ALTER TABLE users ADD COLUMN d VARCHAR(255) AS (lower(email)) STORED",
               "ALTER TABLE users ADD COLUMN d VARCHAR(255) AS (lower(email)) VIRTUAL"),
              ((S,), "VACUUM", "VACUUM INTO '/backups/app.db'")],
    "SG413": [((P, M), "LOCK TABLE users IN SHARE MODE", "UNLOCK TABLES"),
              ((M,), "LOCK TABLES users WRITE", "SELECT 1 FROM users FOR UPDATE"),
              ((M,), "FLUSH TABLES WITH READ LOCK", "FLUSH TABLES")],
    "SG501": [((P, M, S), "ALTER TABLE users RENAME COLUMN email TO mail",
               "ALTER TABLE users ADD COLUMN mail TEXT"),
              ((M,), "ALTER TABLE users CHANGE email mail VARCHAR(255)",
               "ALTER TABLE users CHANGE email email VARCHAR(255)")],
    "SG502": [((P, M, S), "ALTER TABLE users RENAME TO accounts",
               "CREATE TABLE accounts (id INT)"),
              ((M,), "RENAME TABLE users TO accounts", "SELECT 1"),
              ((P,), "ALTER TABLE users RENAME TO accounts",
               "ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk")],
    "SG503": [((P, M, S), "ALTER TABLE users ALTER COLUMN email DROP DEFAULT",
               "ALTER TABLE users ALTER COLUMN email SET DEFAULT 'x'"),
              ((P,), "ALTER TABLE users ALTER COLUMN email DROP NOT NULL",
               "ALTER TABLE users ALTER COLUMN email SET NOT NULL"),
              ((P,), "ALTER TABLE users DROP CONSTRAINT users_email_key",
               "ALTER TABLE users ADD COLUMN x INT")],
    "SG601": [((M,), "ALTER TABLE users ADD COLUMN x INT;\nUPDATE users SET x = 1 WHERE x IS NULL",
               "ALTER TABLE users ADD COLUMN x INT"),
              # Session settings, reads and locks end with the session (mysqldump headers).
              ((M,), "SET GLOBAL event_scheduler = ON;\nCREATE TABLE t (id INT)",
               "/*!40101 SET NAMES utf8mb4 */;\nSET @x = 1;\nLOCK TABLES users WRITE;\n"
               "ALTER TABLE users ADD COLUMN y INT;\nSELECT 1;\nUNLOCK TABLES")],
    "SG602": [((P, M, S), "BEGIN;\nUPDATE users SET email = '' WHERE id = 1;\nCOMMIT",
               "UPDATE users SET email = '' WHERE id = 1"),
              ((M,), "START TRANSACTION", "SAVEPOINT a"),
              ((P,), "ABORT", "ROLLBACK WORK TO SAVEPOINT a")],
    "SG603": [((P, M, S), "FROBNICATE users", "INSERT INTO users (id) VALUES (1)")],
}

SETUP = "CREATE TABLE users (id INT, email VARCHAR(255));\n"


def findings_for(sql: str, dialect: str) -> set[str]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    result = validate([existing, migration], dialect, plan_ids={migration.id})
    return {f.code for f in result.findings}


PARAMS = [
    pytest.param(code, dialect, fires, quiet, id=f"{code}-{dialect}-{n}")
    for code, cases in CASES.items()
    for n, (dialects, fires, quiet) in enumerate(cases)
    for dialect in dialects
]


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), PARAMS)
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert code in findings_for(fires, dialect), f"{code} should fire on: {fires}"
    assert code not in findings_for(quiet, dialect), f"{code} must not fire on: {quiet}"


#: Rules that fire only for a known server version, with their cases elsewhere.
VERSION_ONLY = {"SG604": "tests/unit/test_server_version.py"}


def test_every_statement_rule_has_cases_in_each_of_its_dialects() -> None:
    for rule in all_rules():
        if rule.check is None or rule.code in VERSION_ONLY:
            continue
        covered = {d for dialects, _, _ in CASES.get(rule.code, []) for d in dialects}
        assert covered >= rule.dialects, rule.code


def test_rules_stay_quiet_on_tables_created_in_the_plan() -> None:
    sql = (
        "CREATE TABLE fresh (id INT, email VARCHAR(255));\n"
        "CREATE INDEX fresh_email ON fresh (email);\n"
        "ALTER TABLE fresh ADD COLUMN plan TEXT NOT NULL;\n"
        "ALTER TABLE fresh ALTER COLUMN email SET NOT NULL;\n"
        "ALTER TABLE fresh ADD CONSTRAINT u UNIQUE (email);\n"
        "ALTER TABLE fresh ADD CONSTRAINT fk FOREIGN KEY (id) REFERENCES users (id);\n"
        "ALTER TABLE fresh ALTER COLUMN id TYPE bigint;\n"
        "ALTER TABLE fresh ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"
        "DELETE FROM fresh"
    )
    assert findings_for(sql, P) == set()


def test_a_table_created_by_an_earlier_migration_of_the_plan_is_new() -> None:
    first = Migration("2024-01-01-000000_a", "CREATE TABLE t (id INT)", "", "a", "b",
                      noop_down=True)
    second = Migration("2024-01-02-000000_b", "CREATE INDEX t_id ON t (id)", "", "a", "b",
                       noop_down=True)
    assert validate([first, second], P, plan_ids={first.id, second.id}).findings == []
    applied_first = validate([first, second], P, plan_ids={second.id})
    assert [f.code for f in applied_first.findings] == ["SG401"]
    # Without a plan each migration stands alone, as a linter reading one file sees it.
    assert [f.code for f in validate([first, second], P).findings] == ["SG401"]


def test_without_a_dialect_every_dialects_rules_run() -> None:
    base = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", "CREATE INDEX i ON users (id)", "", "a", "b",
                          noop_down=True)
    assert "SG401" in {f.code for f in validate([base, migration], None).findings}
    assert "SG401" not in {f.code for f in validate([base, migration], S).findings}


def test_finding_fields() -> None:
    migration = Migration("2024-01-02-000000_case", "SELECT 1;\n\n  DROP TABLE users;", "",
                          "a", "b", up_path="m/case/up.sql", noop_down=True)
    (finding,) = validate([migration], P).findings
    assert (finding.code, finding.name, finding.severity.value) == ("SG301", "drop-table",
                                                                     "error")
    assert (finding.file, finding.line, finding.column) == ("m/case/up.sql", 3, 3)
    assert finding.statement == "DROP TABLE users"
    assert finding.migration == "2024-01-02-000000_case"
    assert finding.hint and "backup" in finding.hint


def test_mariadb_begin_not_atomic_is_not_transaction_control() -> None:
    block = ("BEGIN NOT ATOMIC\n  IF 1 = 1 THEN\n    SELECT 1;\n  END IF;\nEND;\n"
             "INSERT INTO users (id) VALUES (1)")
    assert "SG602" not in findings_for(block, "mysql")
    assert "SG602" in findings_for("BEGIN;\nINSERT INTO users (id) VALUES (1)", "mysql")


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        (P, "ALTER TABLE users ADD COLUMN n bigint NOT NULL GENERATED ALWAYS AS IDENTITY"),
        (P, "ALTER TABLE users ADD COLUMN lower_email text GENERATED ALWAYS AS "
            "(lower(email)) STORED NOT NULL"),
        (M, "ALTER TABLE users ADD COLUMN domain VARCHAR(255) AS "
            "(SUBSTRING_INDEX(email, '@', -1)) VIRTUAL NOT NULL"),
        (M, "ALTER TABLE users ADD COLUMN n BIGINT NOT NULL AUTO_INCREMENT UNIQUE"),
    ],
)
def test_generated_not_null_columns_need_no_default(dialect: str, sql: str) -> None:
    """The database computes their values for the existing rows: nothing is left NULL."""
    assert "SG403" not in findings_for(sql, dialect)


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE users ADD COLUMN seq bigserial",
        "ALTER TABLE users ADD COLUMN seq serial NOT NULL",
        "ALTER TABLE users ADD COLUMN n bigint GENERATED BY DEFAULT AS IDENTITY",
    ],
)
def test_sequence_backed_new_columns_rewrite_the_table(sql: str) -> None:
    """serial and identity columns fill existing rows from nextval(): a volatile default."""
    assert "SG408" in findings_for(sql, P)
    assert "SG408" not in findings_for("ALTER TABLE users ADD COLUMN n bigint", P)


def test_a_delete_inside_a_cte_is_checked_like_a_plain_one() -> None:
    unbounded = "WITH gone AS (DELETE FROM users RETURNING id) SELECT count(*) FROM gone"
    bounded = "WITH gone AS (DELETE FROM users WHERE id = 1 RETURNING id) SELECT 1 FROM gone"
    for dialect in (P, S):
        assert "SG305" in findings_for(unbounded, dialect)
        assert "SG305" not in findings_for(bounded, dialect)


def test_narrowing_a_column_of_a_table_created_in_the_plan_loses_nothing() -> None:
    narrowing = "ALTER TABLE users ALTER COLUMN email TYPE varchar(10)"
    assert "SG308" in findings_for(narrowing, P)
    created_here = "CREATE TABLE fresh (email varchar(255));\n" + narrowing.replace(
        "users", "fresh")
    assert "SG308" not in findings_for(created_here, P)


def test_an_index_on_a_materialized_view_of_the_plan_is_not_flagged() -> None:
    sql = ("CREATE MATERIALIZED VIEW totals AS SELECT 1 AS n;\n"
           "CREATE INDEX totals_n ON totals (n);\n")
    assert findings_for(sql, P) == set()
    # A view that exists already is read by someone: indexing it blocks them.
    assert findings_for("CREATE INDEX totals_n ON totals (n);\n", P) == {"SG401"}


def messages_for(sql: str, dialect: str) -> dict[str, list[str]]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b",
                          noop_down=True, up_path="case/up.sql")
    found: dict[str, list[str]] = {}
    for finding in validate([existing, migration], dialect, plan_ids={migration.id}).findings:
        found.setdefault(finding.code, []).append(finding.message)
    return found


@pytest.mark.parametrize(
    ("fires", "quiet", "code", "message"),
    [
        ("DROP TABLE IF EXISTS [users]", "DROP VIEW [users]", "SG301",
         "drops table users and every row in it"),
        ("DELETE FROM [users]", "DELETE FROM [users] WHERE [id] = 1", "SG305",
         "deletes every row of users (no WHERE clause)"),
        ("ALTER TABLE [users] DROP COLUMN [email]", "ALTER TABLE [users] ADD COLUMN [bio] TEXT",
         "SG302", "drops column users.email and its data"),
    ],
)
def test_sqlite_bracket_quoted_names(fires: str, quiet: str, code: str, message: str) -> None:
    """SQLite quotes names in [brackets]: DROP TABLE [users] drops users."""
    assert messages_for(fires, S).get(code) == [message]
    assert code not in messages_for(quiet, S)


def test_an_allow_trailing_a_statement_is_that_statements() -> None:
    """``-- switchy-guard: allow`` on the line a statement ends covers it, not the next one."""
    sql = ("DROP TABLE users; -- switchy-guard: allow drop-table -- unused since v2\n"
           "DROP TABLE orders;")
    assert messages_for(sql, P) == {"SG301": ["drops table orders and every row in it"]}
    sql = ("DELETE FROM users; /* switchy-guard: allow delete-without-where -- test data */\n"
           "DELETE FROM orders")
    assert messages_for(sql, S) == {"SG305": ["deletes every row of orders (no WHERE clause)"]}
    trailing_no_reason = "ALTER TABLE users DROP COLUMN email; -- switchy-guard: allow SG302"
    migration = Migration("2024-01-02-000000_case", trailing_no_reason, "", "a", "b",
                          noop_down=True)
    found = validate([migration], M).findings
    assert [(f.code, f.line) for f in found] == [("SG900", 1), ("SG302", 1)]


def test_mysql_partition_maintenance_names_the_partitions() -> None:
    assert messages_for("ALTER TABLE users DROP PARTITION p2019, p2020", M) == {
        "SG301": ["drops partition p2019, p2020 of users and every row in it"]}
    assert messages_for("ALTER TABLE users TRUNCATE PARTITION p2020", M) == {
        "SG304": ["empties partition p2020 of users"]}


@pytest.mark.parametrize(
    ("sql", "codes"),
    [
        # MySQL's MODIFY/CHANGE replace the whole definition: a NOT NULL left out is dropped.
        ("ALTER TABLE t MODIFY email VARCHAR(500)", {"SG409", "SG503"}),
        ("ALTER TABLE t CHANGE COLUMN email email VARCHAR(500) NULL", {"SG409", "SG503"}),
        ("ALTER TABLE t MODIFY email VARCHAR(500) NOT NULL DEFAULT ''", {"SG409"}),
        ("ALTER TABLE t MODIFY id BIGINT AUTO_INCREMENT", {"SG405", "SG409"}),
        # What the schema model learns: NOT NULL dropped, so setting it again scans. The
        # type stays: MySQL changes NULL / NOT NULL in place, with writes going on.
        ("ALTER TABLE t MODIFY email VARCHAR(255) NULL;\n"
         "ALTER TABLE t MODIFY email VARCHAR(255) NOT NULL", {"SG503", "SG404"}),
    ],
)
def test_mysql_modify_without_not_null_drops_it(sql: str, codes: set[str]) -> None:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE t (id INT PRIMARY KEY, "
                     "email VARCHAR(255) NOT NULL DEFAULT '')", "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    found = validate([base, migration], M, plan_ids={migration.id}).findings
    assert {f.code for f in found} - {"SG601"} == codes


@pytest.mark.parametrize(
    ("dialect", "sql", "codes"),
    [
        # A rename that restates the column's type (vaultwarden's MySQL history) changes
        # no type: MySQL renames in place, without copying the table.
        (M, "ALTER TABLE devices CHANGE COLUMN type atype INTEGER NOT NULL", {"SG501"}),
        (M, "ALTER TABLE devices CHANGE COLUMN `key` akey TEXT", {"SG501", "SG503"}),
        (M, "ALTER TABLE devices MODIFY type INT NOT NULL", set()),
        (M, "ALTER TABLE devices MODIFY `key` TEXT CHARACTER SET latin1 NOT NULL", {"SG409"}),
        # Negative values do not fit an unsigned int: rejected (SG308).
        (M, "ALTER TABLE devices MODIFY type INT UNSIGNED NOT NULL", {"SG308", "SG405", "SG409"}),
        (P, "ALTER TABLE devices ALTER COLUMN type TYPE int4", set()),
        (P, "ALTER TABLE devices ALTER COLUMN type TYPE integer USING type + 1", {"SG405"}),
        (P, "ALTER TABLE devices ALTER COLUMN type TYPE bigint", {"SG405"}),
    ],
)
def test_restating_a_columns_type_is_no_type_change(dialect: str, sql: str,
                                                     codes: set[str]) -> None:
    base = Migration("2024-01-01-000000_base", "CREATE TABLE devices (uuid CHAR(36) NOT NULL "
                     "PRIMARY KEY, type INTEGER NOT NULL, `key` TEXT NOT NULL)".replace(
                         "`", "`" if dialect == M else '"'), "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True)
    found = validate([base, migration], dialect, plan_ids={migration.id}).findings
    assert {f.code for f in found} - {"SG601"} == codes


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("DELETE LOW_PRIORITY QUICK IGNORE FROM users", ["users"]),
        ("DELETE u FROM users u JOIN orgs o ON o.id = u.org_id", ["users"]),
        # Every target of a multi-table DELETE loses its rows, aliases resolved.
        ("DELETE u, o FROM users u JOIN orgs o ON o.id = u.org_id", ["users", "orgs"]),
        ("DELETE o FROM users AS u INNER JOIN orgs AS o ON o.id = u.org_id", ["orgs"]),
        ("DELETE FROM o, u USING users u LEFT JOIN orgs o ON o.id = u.org_id",
         ["orgs", "users"]),
    ],
)
def test_mysql_delete_forms_name_the_table(sql: str, tables: list[str]) -> None:
    assert messages_for(sql, M) == {
        "SG305": [f"deletes every row of {t} (no WHERE clause)" for t in tables]}
    assert messages_for(sql + " WHERE u.id = 1", M) == {}


def test_every_object_of_a_drop_list_is_named() -> None:
    assert messages_for("DROP VIEW IF EXISTS a, s.b CASCADE", P) == {
        "SG307": ["drops view a", "drops view s.b"]}
    assert messages_for("DROP FUNCTION f(int), g(text, int)", P) == {
        "SG307": ["drops function f", "drops function g"]}
    assert messages_for("DROP SCHEMA a, b CASCADE", P) == {
        "SG303": ["drops schema a and everything in it", "drops schema b and everything in it"]}
    assert messages_for("DROP USER 'app'@'%'", M) == {"SG307": ["drops user"]}


def test_sg602_says_what_a_transaction_does_on_each_database() -> None:
    def message(dialect: str) -> str:
        migration = Migration("2024-01-02-000000_case", "START TRANSACTION;\nSELECT 1;\nCOMMIT",
                              "", "a", "b", noop_down=True, up_path="case/up.sql")
        (first, *_) = [f for f in validate([migration], dialect).findings if f.code == "SG602"]
        return first.message

    assert message("postgres") == ("START inside a migration that switchy-guard already runs "
                                   "in a transaction")
    # MySQL migrations run statement by statement: no transaction of the runner's there.
    assert "records each statement as applied when it ends" in message("mysql")
    assert "already runs in a transaction" not in message("mysql")


@pytest.mark.parametrize("dialect", [P, M, S, None])
def test_a_type_length_of_thousands_of_digits_is_read_not_a_crash(dialect: str | None) -> None:
    """int() refuses more than 4,300 digits: the type comparison raised ValueError."""
    huge = "9" * 5000
    assert "SG308" not in findings_for(
        f"ALTER TABLE users ALTER COLUMN email TYPE varchar({huge})", dialect)
    assert "SG308" in findings_for(
        f"ALTER TABLE users ALTER COLUMN email TYPE varchar(10);\n"
        f"ALTER TABLE users ALTER COLUMN id TYPE numeric({huge}, {huge})", dialect)


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("postgres", "CREATE FUNCTION tmp_fill() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;\n"
                     "SELECT tmp_fill();\nDROP FUNCTION tmp_fill();", []),
        ("mysql", "CREATE PROCEDURE backfill() BEGIN UPDATE t SET a = 1 WHERE a IS NULL; END;\n"
                  "CALL backfill();\nDROP PROCEDURE IF EXISTS backfill;", []),
        ("sqlite", "CREATE VIEW v AS SELECT 1;\nDROP VIEW v;", []),
        # Made by another migration, or another object of the same name: still SG307.
        ("postgres", "DROP FUNCTION compute_totals();", ["drops function compute_totals"]),
        ("postgres", "CREATE VIEW f AS SELECT 1;\nDROP FUNCTION f();", ["drops function f"]),
        ("mysql", "DROP PROCEDURE backfill;\nCREATE PROCEDURE backfill() SELECT 1;",
         ["drops procedure backfill"]),
    ],
)
def test_sg307_spares_objects_the_same_migration_created(dialect: str, sql: str,
                                                         expected: list[str]) -> None:
    migration = Migration("2024-01-01-000000_m", sql, "", "a", "b", noop_down=True)
    found = validate([migration], dialect).findings
    assert [f.message for f in found if f.code == "SG307"] == expected


@pytest.mark.parametrize(("sql", "dialect", "codes"), [
    ("PREPARE s FROM 'DROP TABLE users';\nEXECUTE s;\nDEALLOCATE PREPARE s;", M, {"SG301"}),
    ("SET @q = 'DELETE FROM users';\nPREPARE s FROM @q;\nEXECUTE s;", M, {"SG305"}),
    ("PREPARE s FROM @built;\nEXECUTE s;\nDEALLOCATE PREPARE s;", M, {"SG603"}),
    ("PREPARE s FROM 'SELECT 1';\nEXECUTE s;\nDEALLOCATE PREPARE s;", M, set()),
    ("PREPARE s AS DELETE FROM users;\nEXECUTE s;", P, {"SG305"}),
    ("PREPARE s AS DELETE FROM users;\nDEALLOCATE s;", P, set()),  # never run
    ("CREATE STATISTICS st ON id, email FROM users;\n"
     "ALTER TRIGGER tr ON users RENAME TO tr2;", P, set()),
])
def test_prepared_statements_are_checked_where_they_run(sql: str, dialect: str,
                                                        codes: set[str]) -> None:
    assert findings_for(sql, dialect) - {"SG601"} == codes
