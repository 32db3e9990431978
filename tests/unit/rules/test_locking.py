"""Locking rules (rules/locking.py, SG401-SG410): a statement that fires and a look-alike
that must not, per dialect; what they say."""

from __future__ import annotations

import pytest

from tests.unit.rules.helpers import (
    Cases,
    M,
    P,
    S,
    assert_fires_and_quiet,
    findings_for,
    fire_params,
    messages,
)

# code: [(dialects, fires, look-alike that must not fire)]
CASES: Cases = {
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
}


@pytest.mark.parametrize(("code", "dialect", "fires", "quiet"), fire_params(CASES))
def test_rule_fires_and_look_alike_does_not(code: str, dialect: str, fires: str,
                                            quiet: str) -> None:
    assert_fires_and_quiet(code, dialect, fires, quiet)


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


VALIDATE_SAME = ("ALTER TABLE users ADD CONSTRAINT ck CHECK (id > 0) NOT VALID;\n"
                 "ALTER TABLE users VALIDATE CONSTRAINT ck")


def test_validate_in_the_transaction_of_its_not_valid_is_reported() -> None:
    assert messages(VALIDATE_SAME, P)["SG406"] == [
        "validates ck in the transaction that added it NOT VALID: the exclusive lock the "
        "ADD took on users is held through the whole validation scan"]
    # Run statement by statement, the ADD committed and released its lock.
    assert "SG406" not in messages(VALIDATE_SAME, P, transactional=False)
    # Another constraint, or the same one validated in a later migration: fine.
    assert "SG406" not in messages(VALIDATE_SAME.replace("CONSTRAINT ck\n", "CONSTRAINT x\n")
                                   .replace("VALIDATE CONSTRAINT ck", "VALIDATE CONSTRAINT x2"),
                                   P)
    assert "SG406" not in messages("ALTER TABLE users VALIDATE CONSTRAINT ck", P)
