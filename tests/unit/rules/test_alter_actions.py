"""An ALTER TABLE action switchy-guard does not know to be harmless is SG603, never silent.

The harmless list (sql/classify.py _HARMLESS_POSTGRES, _HARMLESS_MYSQL,
_HARMLESS_COLUMN_ACTIONS) is tested entry by entry to stay quiet; actions left off it on
purpose, and made-up ones, fire.
"""

from __future__ import annotations

import pytest

from switchy_guard.check.pipeline import validate
from switchy_guard.model.migration import Migration

P, M = "postgres", "mysql"
SETUP = "CREATE TABLE t (id INT NOT NULL, c VARCHAR(20));\n"


def codes(sql: str, dialect: str) -> list[str]:
    existing = Migration("2024-01-01-000000_base", SETUP, "", "a", "b", noop_down=True)
    migration = Migration("2024-01-02-000000_case", sql, "", "a", "b", noop_down=True,
                          up_path="case/up.sql")
    return [f.code for f in validate([existing, migration], dialect,
                                     plan_ids={migration.id}).findings]


HARMLESS = [
    (P, "ALTER TABLE t OWNER TO app_owner"),
    (P, "ALTER TABLE t CLUSTER ON t_pkey"),
    (P, "ALTER TABLE t SET WITHOUT CLUSTER"),
    (P, "ALTER TABLE t SET WITHOUT OIDS"),
    (P, "ALTER TABLE t SET (fillfactor = 70, autovacuum_enabled = false)"),
    (P, "ALTER TABLE t RESET (fillfactor)"),
    (P, "ALTER TABLE t REPLICA IDENTITY FULL"),
    (P, "ALTER TABLE t ENABLE TRIGGER audit"),
    (P, "ALTER TABLE t ENABLE REPLICA TRIGGER audit"),
    (P, "ALTER TABLE t ENABLE ALWAYS TRIGGER audit"),
    (P, "ALTER TABLE t ENABLE RULE r"),
    (P, "ALTER TABLE t ENABLE REPLICA RULE r"),
    (P, "ALTER TABLE t ENABLE ALWAYS RULE r"),
    (P, "ALTER TABLE t ALTER CONSTRAINT t_fk DEFERRABLE INITIALLY DEFERRED"),
    (P, "ALTER TABLE t ALTER COLUMN c SET STATISTICS 500"),
    (P, "ALTER TABLE t ALTER c SET STORAGE EXTERNAL"),
    (P, "ALTER TABLE t ALTER COLUMN c SET COMPRESSION lz4"),
    (P, "ALTER TABLE t ALTER COLUMN c SET (n_distinct = 100)"),
    (P, "ALTER TABLE t ALTER COLUMN c RESET (n_distinct)"),
    (P, "ALTER TABLE t RENAME CONSTRAINT a TO b"),
    (M, "ALTER TABLE t COMMENT = 'users of the app'"),
    (M, "ALTER TABLE t AUTO_INCREMENT = 1000"),
    (M, "ALTER TABLE t AVG_ROW_LENGTH = 100"),
    (M, "ALTER TABLE t CHECKSUM = 1"),
    (M, "ALTER TABLE t TABLE_CHECKSUM = 1"),
    (M, "ALTER TABLE t DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    (M, "ALTER TABLE t CHARACTER SET = utf8mb4"),
    (M, "ALTER TABLE t DEFAULT CHARSET = utf8mb4"),
    (M, "ALTER TABLE t CHARSET utf8mb4"),
    (M, "ALTER TABLE t DEFAULT COLLATE utf8mb4_bin"),
    (M, "ALTER TABLE t COLLATE = utf8mb4_bin"),
    (M, "ALTER TABLE t DELAY_KEY_WRITE = 1"),
    (M, "ALTER TABLE t MAX_ROWS = 10"),
    (M, "ALTER TABLE t MIN_ROWS = 1"),
    (M, "ALTER TABLE t PACK_KEYS = 0"),
    (M, "ALTER TABLE t STATS_AUTO_RECALC = 1"),
    (M, "ALTER TABLE t STATS_PERSISTENT = 1 STATS_SAMPLE_PAGES = 20"),
    (M, "ALTER TABLE t COMMENT 'x' AUTO_INCREMENT 5"),
    (M, "ALTER TABLE t ENABLE KEYS"),
    (M, "ALTER TABLE t DISABLE KEYS"),
    (M, "ALTER TABLE t ALTER INDEX i NOT IGNORED"),
    (M, "ALTER TABLE t ALTER KEY i IGNORED"),
    (M, "ALTER TABLE t ANALYZE PARTITION p1, p2"),
    (M, "ALTER TABLE t CHECK PARTITION ALL"),
    (M, "ALTER TABLE t REORGANIZE PARTITION p1 INTO (PARTITION p3 VALUES LESS THAN (9))"),
    (M, "ALTER TABLE t COALESCE PARTITION 2"),
    (M, "ALTER TABLE t REBUILD PARTITION p1, p2"),
    (M, "ALTER TABLE t OPTIMIZE PARTITION p1"),
    (M, "ALTER TABLE t REMOVE PARTITIONING"),
    (M, "ALTER TABLE t PARTITION BY HASH(id) PARTITIONS 4"),
    (M, "ALTER TABLE t IMPORT TABLESPACE"),
    (M, "ALTER TABLE t IMPORT PARTITION p1, p2 TABLESPACE"),
    (M, "ALTER TABLE t ADD PARTITION (PARTITION p4 VALUES LESS THAN (20))"),
    (M, "ALTER TABLE t RENAME INDEX a TO b"),
]


@pytest.mark.parametrize(("dialect", "sql"), HARMLESS)
def test_actions_on_the_harmless_list_stay_quiet(dialect: str, sql: str) -> None:
    assert [c for c in codes(sql, dialect) if c != "SG409"] == [], sql


UNKNOWN = [
    (P, "ALTER TABLE t DISABLE TRIGGER ALL"),
    (P, "ALTER TABLE t DISABLE RULE r"),
    (P, "ALTER TABLE t DISABLE ROW LEVEL SECURITY"),
    (P, "ALTER TABLE t ENABLE ROW LEVEL SECURITY"),
    (P, "ALTER TABLE t SET SCHEMA archive"),
    (P, "ALTER TABLE t NO INHERIT parent"),
    (P, "ALTER TABLE t DETACH PARTITION t_2020"),
    # SET UNLOGGED / TABLESPACE are reported as table rewrites (SG412): test_rewrites.py
    (P, "ALTER TABLE t ALTER COLUMN id DROP IDENTITY"),
    (P, "ALTER TABLE t ALTER COLUMN id SET GENERATED ALWAYS"),
    (P, "ALTER TABLE t FROBNICATE c"),
    (P, "ALTER TABLE t OWNER TO a, FROBNICATE"),
    (M, "ALTER TABLE t COMMENT = 'x' ROW_FORMAT = COMPRESSED"),
    (M, "ALTER TABLE t ORDER BY c"),
    (M, "ALTER TABLE t REPAIR PARTITION p1"),
    (M, "ALTER TABLE t ENCRYPTED = YES"),
    (M, "ALTER TABLE t FROBNICATE c"),
    (M, "ALTER TABLE t ADD COLUMN"),
]


@pytest.mark.parametrize(("dialect", "sql"), UNKNOWN)
def test_other_actions_are_reported(dialect: str, sql: str) -> None:
    assert "SG603" in codes(sql, dialect), sql


def test_the_finding_names_the_action() -> None:
    migration = Migration("2024-01-02-000000_case", "ALTER TABLE t DISABLE TRIGGER ALL", "",
                          "a", "b")
    (finding,) = [f for f in validate([migration], P).findings if f.code == "SG603"]
    assert "ALTER TABLE t DISABLE TRIGGER ALL: not an action" in finding.message
