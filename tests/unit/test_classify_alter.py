"""The ALTER TABLE reader of sql/classify.py: the actions classify() returns per dialect.

The locking, rewrite and destruction rules (SG3xx, SG401-SG412, SG603), the lock levels
(sql/locks.py) and the runner read these actions. Each case pins what a statement does as
the server runs it (the PostgreSQL and MariaDB/MySQL ALTER TABLE syntax), compared as a
whole: a wrong column, name, flag or kind is a wrong answer to the rules.
"""

from __future__ import annotations

import dataclasses

import pytest

from switchy_guard.sql.classify import AlterAction as A
from switchy_guard.sql.classify import Name, classify
from tests.unit.rules.helpers import messages_for

P, M, S = "postgres", "mysql", "sqlite"


def actions(sql: str, dialect: str | None = None) -> tuple[A, ...]:
    info = classify(sql, dialect)
    assert info.kind == "alter_table", info
    return info.actions


# (dialects, statement, the actions in order)
CASES: list[tuple[tuple[str | None, ...], str, tuple[A, ...]]] = [
    # -- columns ---------------------------------------------------------------------
    ((P, M, S, None), "ALTER TABLE t ADD COLUMN c int",
     (A("add_column", column="c", type="int"),)),
    ((P, M, S, None), "ALTER TABLE t ADD c varchar(20) NOT NULL DEFAULT 'x'",
     (A("add_column", column="c", type="varchar(20)", not_null=True, default="'x'"),)),
    ((P, M), "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int NULL",
     (A("add_column", column="c", type="int"),)),
    ((P,), 'ALTER TABLE t ADD COLUMN "Mixed" text',
     (A("add_column", column="Mixed", type="text"),)),
    ((M,), "ALTER TABLE t ADD COLUMN c int NOT NULL AFTER b",
     (A("add_column", column="c", type="int", not_null=True, position=True),)),
    ((M,), "ALTER TABLE t ADD COLUMN c int FIRST",
     (A("add_column", column="c", type="int", position=True),)),
    # FIRST/AFTER inside a default or a check is no position
    ((M,), "ALTER TABLE t ADD COLUMN c varchar(9) DEFAULT 'FIRST' CHECK (c <> 'AFTER')",
     (A("add_column", column="c", type="varchar(9)", default="'FIRST'", inline=("check",)),)),
    ((M,), "ALTER TABLE t ADD COLUMN first_seen int",
     (A("add_column", column="first_seen", type="int"),)),
    ((P,), 'ALTER TABLE t ADD COLUMN c int REFERENCES "AFTER" (id)',
     (A("add_column", column="c", type="int", inline=("foreign_key",)),)),
    # a column named identity in a check generates nothing
    ((P, M), "ALTER TABLE t ADD COLUMN c int CHECK (identity > 0)",
     (A("add_column", column="c", type="int", inline=("check",)),)),
    ((M,), "ALTER TABLE t ADD COLUMN c int CHECK (auto_increment > 0)",
     (A("add_column", column="c", type="int", inline=("check",)),)),
    ((P, M), "ALTER TABLE t ADD COLUMN c int AS",
     (A("add_column", column="c", type="int"),)),
    # SQLite: the type may be left out
    ((S,), "ALTER TABLE t ADD COLUMN c REFERENCES u (id)",
     (A("add_column", column="c", type="", inline=("foreign_key",)),)),
    ((S,), "ALTER TABLE t ADD COLUMN c AS (a * 2)",
     (A("add_column", column="c", type="", generated="expression"),)),
    ((M,), "ALTER TABLE t ADD COLUMN c decimal(10, 2) AS (a * 2) STORED",
     (A("add_column", column="c", type="decimal(10, 2)", generated="expression",
        storage="stored"),)),
    ((M,), "ALTER TABLE t ADD COLUMN id int COMMENT 'key' AUTO_INCREMENT",
     (A("add_column", column="id", type="int", generated="auto_increment"),)),
    # An identity column is NOT NULL (PostgreSQL adds the constraint itself).
    ((P,), "ALTER TABLE t ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY",
     (A("add_column", column="id", type="bigint", generated="identity", not_null=True),)),
    ((P,), "ALTER TABLE t ADD COLUMN c int UNIQUE REFERENCES u (id) CHECK (c > 0)",
     (A("add_column", column="c", type="int", inline=("unique", "foreign_key", "check")),)),
    ((P, M), "ALTER TABLE t ADD COLUMN id int PRIMARY KEY",
     (A("add_column", column="id", type="int", not_null=True, inline=("primary_key",)),)),
    # the words of a generated expression are not the column's constraints
    ((P,), "ALTER TABLE t ADD COLUMN c boolean GENERATED ALWAYS AS (a IN (SELECT 1) "
           "AND unique_ok(a)) STORED",
     (A("add_column", column="c", type="boolean", generated="expression",
        storage="stored"),)),
    ((P, M, S, None), "ALTER TABLE t DROP COLUMN c",
     (A("drop_column", column="c"),)),
    ((P, M), "ALTER TABLE t DROP COLUMN IF EXISTS c CASCADE",
     (A("drop_column", column="c"),)),
    ((M,), "ALTER TABLE t DROP c",
     (A("drop_column", column="c"),)),
    ((P,), 'ALTER TABLE t DROP "Email"',
     (A("drop_column", column="Email"),)),
    ((P,), "ALTER TABLE t ALTER COLUMN c TYPE numeric(10, 2) USING c::numeric",
     (A("alter_type", column="c", type="numeric(10, 2)"),)),
    ((P,), 'ALTER TABLE t ALTER c SET DATA TYPE VARCHAR(30) COLLATE "C"',
     (A("alter_type", column="c", type="varchar(30)"),)),
    ((P,), "ALTER TABLE t ALTER COLUMN c TYPE bigint",
     (A("alter_type", column="c", type="bigint"),)),
    ((P,), "ALTER TABLE t ALTER COLUMN c SET NOT NULL, ALTER COLUMN d DROP NOT NULL",
     (A("set_not_null", column="c"), A("drop_not_null", column="d"))),
    ((P, M), "ALTER TABLE t ALTER COLUMN c SET DEFAULT now(), ALTER d DROP DEFAULT",
     (A("set_default", column="c", default="now()"), A("drop_default", column="d"))),
    ((P,), "ALTER TABLE t ALTER COLUMN c SET STATISTICS 100",
     (A("other", column="c"),)),
    ((P,), "ALTER TABLE t ALTER COLUMN c RESET (n_distinct)",
     (A("other", column="c"),)),
    ((P,), "ALTER TABLE t ALTER COLUMN c DROP IDENTITY",
     (A("unknown", column="c", default="ALTER COLUMN c DROP IDENTITY"),)),
    ((M,), "ALTER TABLE t MODIFY COLUMN c bigint NOT NULL DEFAULT 0",
     (A("alter_type", column="c", type="bigint", not_null=True, default="0",
        redefines=True),)),
    ((M,), "ALTER TABLE t MODIFY c int",
     (A("alter_type", column="c", type="int", redefines=True),)),
    ((M,), "ALTER TABLE t MODIFY c int AS (a * 2) PERSISTENT",
     (A("alter_type", column="c", type="int", generated="expression", redefines=True),)),
    ((M,), "ALTER TABLE t MODIFY c int AUTO_INCREMENT",
     (A("alter_type", column="c", type="int", generated="auto_increment",
        redefines=True),)),
    ((M,), "ALTER TABLE t CHANGE COLUMN a b varchar(20) NULL",
     (A("alter_type", column="a", type="varchar(20)", new_name="b", redefines=True),)),
    ((M,), "ALTER TABLE t CHANGE a b int NOT NULL DEFAULT 7",
     (A("alter_type", column="a", type="int", not_null=True, default="7", new_name="b",
        redefines=True),)),
    ((M,), "ALTER TABLE t CHANGE a a bigint NOT NULL",
     (A("alter_type", column="a", type="bigint", not_null=True, redefines=True),)),
    ((M,), "ALTER TABLE t CHANGE a b int AS (x + 1) STORED",
     (A("alter_type", column="a", type="int", new_name="b", generated="expression",
        redefines=True),)),
    # not a column list as MySQL takes it: not known to be harmless
    ((M,), "ALTER TABLE t ADD COLUMN (a int",
     (A("unknown", default="ADD COLUMN(a int"),)),
    ((M,), "ALTER TABLE t ADD COLUMN ()",
     (A("unknown", default="ADD COLUMN()"),)),
    ((M,), "ALTER TABLE t ADD COLUMN (a int) b",
     (A("unknown", default="ADD COLUMN(a int)b"),)),
    ((M,), "ALTER TABLE t MODIFY (c int)",
     (A("unknown", default="MODIFY(c int)"),)),
    ((M,), "ALTER TABLE t CHANGE COLUMN a",
     (A("unknown", default="CHANGE COLUMN a"),)),
    ((P, M, S, None), "ALTER TABLE t RENAME COLUMN a TO b",
     (A("rename_column", column="a", new_name="b"),)),
    ((P,), "ALTER TABLE t RENAME a TO b",
     (A("rename_column", column="a", new_name="b"),)),
    ((P,), 'ALTER TABLE t RENAME COLUMN "Old" TO "New"',
     (A("rename_column", column="Old", new_name="New"),)),
    # -- the table ---------------------------------------------------------------------
    ((P, M, S, None), "ALTER TABLE t RENAME TO u",
     (A("rename_table", new_name="u"),)),
    ((M,), "ALTER TABLE t RENAME AS u",
     (A("rename_table", new_name="u"),)),
    ((M,), "ALTER TABLE t RENAME u",
     (A("rename_table", new_name="u"),)),
    # a table named to, quoted
    ((P,), 'ALTER TABLE t RENAME TO "to"',
     (A("rename_table", new_name="to"),)),
    ((M,), "ALTER TABLE t RENAME TO `to`",
     (A("rename_table", new_name="to"),)),
    ((M,), "ALTER TABLE t RENAME INDEX a TO b",
     (A("other"),)),
    ((M,), "ALTER TABLE t RENAME KEY a TO b",
     (A("other"),)),
    ((P,), "ALTER TABLE t RENAME CONSTRAINT a TO b",
     (A("other"),)),
    ((P,), "ALTER TABLE t SET UNLOGGED",
     (A("rewrite", default="SET UNLOGGED"),)),
    ((P,), "ALTER TABLE t SET LOGGED",
     (A("rewrite", default="SET LOGGED"),)),
    ((P,), "ALTER TABLE t SET TABLESPACE fast",
     (A("rewrite", default="SET TABLESPACE fast"),)),
    ((P,), "ALTER TABLE t SET ACCESS METHOD heap2",
     (A("rewrite", default="SET ACCESS METHOD heap2"),)),
    ((P,), "ALTER TABLE t SET SCHEMA archive",
     (A("unknown", default="SET SCHEMA archive"),)),
    ((P,), "ALTER TABLE t SET WITHOUT CLUSTER",
     (A("other"),)),
    ((P,), "ALTER TABLE t SET (fillfactor = 70)",
     (A("other"),)),
    ((P,), "ALTER TABLE t OWNER TO bob",
     (A("other"),)),
    ((P,), "ALTER TABLE t ENABLE ALWAYS TRIGGER audit",
     (A("other"),)),
    ((P,), "ALTER TABLE t DISABLE TRIGGER audit",
     (A("unknown", default="DISABLE TRIGGER audit"),)),
    ((M,), "ALTER TABLE t ENGINE = InnoDB",
     (A("table_option", default="ENGINE"),)),
    ((M,), "ALTER TABLE t FORCE",
     (A("table_option", default="FORCE"),)),
    ((M,), "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4",
     (A("table_option", default="CONVERT"),)),
    ((M,), "ALTER TABLE t CONVERT",
     (A("unknown", default="CONVERT"),)),
    ((M,), "ALTER TABLE t COMMENT = 'users'",
     (A("other"),)),
    ((M,), "ALTER TABLE t COMMENT 'x' AUTO_INCREMENT = 5 DEFAULT CHARSET utf8mb4",
     (A("other"),)),
    ((M,), "ALTER TABLE t DEFAULT CHARACTER SET = utf8mb4 COLLATE utf8mb4_bin",
     (A("other"),)),
    # an option off the list among listed ones: not known to be harmless
    ((M,), "ALTER TABLE t COMMENT = 'x' ROW_FORMAT = DYNAMIC",
     (A("unknown", default="COMMENT = 'x' ROW_FORMAT = DYNAMIC"),)),
    ((M,), "ALTER TABLE t COMMENT = 'x' ENABLE KEYS",
     (A("unknown", default="COMMENT = 'x' ENABLE KEYS"),)),
    ((M,), "ALTER TABLE t ENABLE KEYS",
     (A("other"),)),
    ((M,), "ALTER TABLE t ALTER INDEX i INVISIBLE",
     (A("other"),)),
    ((P,), "ALTER TABLE t ALTER CONSTRAINT fk DEFERRABLE",
     (A("other"),)),
    ((M,), "ALTER TABLE t ALTER KEY i NOT IGNORED",
     (A("other"),)),
    ((P, M), "ALTER TABLE t FROBNICATE",
     (A("unknown", default="FROBNICATE"),)),
    # the first words of a harmless action, not all of them
    ((P, M), "ALTER TABLE t ENABLE",
     (A("unknown", default="ENABLE"),)),
    ((P,), "ALTER TABLE t ENABLE REPLICA",
     (A("unknown", default="ENABLE REPLICA"),)),
    ((M,), "ALTER TABLE t AUTO_INCREMENT",
     (A("other"),)),
    # -- constraints and indexes --------------------------------------------------------
    ((P,), "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID",
     (A("add_constraint", constraint="foreign_key", not_valid=True, name="fk"),)),
    ((P, M), "ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id)",
     (A("add_constraint", constraint="foreign_key", name="fk"),)),
    ((P, M), "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id) ON DELETE SET NULL",
     (A("add_constraint", constraint="foreign_key"),)),
    ((P,), "ALTER TABLE t ADD CONSTRAINT ck CHECK (a > 0) NOT VALID",
     (A("add_constraint", constraint="check", not_valid=True, name="ck"),)),
    # NOT VALID inside the check's expression is the expression's
    ((P,), "ALTER TABLE t ADD CHECK (NOT valid)",
     (A("add_constraint", constraint="check"),)),
    ((P,), "ALTER TABLE t ADD CONSTRAINT \"Ck\" CHECK (a NOT IN (1))",
     (A("add_constraint", constraint="check", name="Ck"),)),
    ((P,), "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i",
     (A("add_constraint", constraint="unique", using_index=True, name="u"),)),
    ((P,), "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX i",
     (A("add_constraint", constraint="primary_key", using_index=True, name="pk"),)),
    # PostgreSQL builds this one (the index's tablespace, not an existing index)
    ((P,), "ALTER TABLE t ADD UNIQUE (a) USING INDEX TABLESPACE fast",
     (A("add_constraint", constraint="unique"),)),
    ((P, M), "ALTER TABLE t ADD PRIMARY KEY (id)",
     (A("add_constraint", constraint="primary_key"),)),
    ((M,), "ALTER TABLE t ADD PRIMARY KEY USING BTREE (id)",
     (A("add_constraint", constraint="primary_key"),)),
    ((P,), "ALTER TABLE t ADD CONSTRAINT ex EXCLUDE USING gist (r WITH &&)",
     (A("add_constraint", constraint="exclude", name="ex"),)),
    ((M,), "ALTER TABLE t ADD UNIQUE INDEX ui (a)",
     (A("add_constraint", constraint="unique"),)),
    ((M,), "ALTER TABLE t ADD UNIQUE KEY (a)",
     (A("add_constraint", constraint="unique"),)),
    ((M,), "ALTER TABLE t ADD UNIQUE (a)",
     (A("add_constraint", constraint="unique"),)),
    ((M,), "ALTER TABLE t ADD CONSTRAINT uq UNIQUE KEY (a)",
     (A("add_constraint", constraint="unique", name="uq"),)),
    ((M,), "ALTER TABLE t ADD INDEX i (a)",
     (A("add_index", constraint="index"),)),
    ((M,), "ALTER TABLE t ADD KEY i (a)",
     (A("add_index", constraint="index"),)),
    ((M,), "ALTER TABLE t ADD FULLTEXT INDEX ft (body)",
     (A("add_index", constraint="fulltext"),)),
    ((M,), "ALTER TABLE t ADD FULLTEXT ft (body)",
     (A("add_index", constraint="fulltext"),)),
    ((M,), "ALTER TABLE t ADD SPATIAL KEY sp (g)",
     (A("add_index", constraint="spatial"),)),
    ((P,), "ALTER TABLE t VALIDATE CONSTRAINT fk",
     (A("validate_constraint", constraint="fk"),)),
    ((P, M), "ALTER TABLE t DROP CONSTRAINT fk",
     (A("drop_constraint", constraint="fk"),)),
    ((P,), "ALTER TABLE t DROP CONSTRAINT IF EXISTS fk CASCADE",
     (A("drop_constraint", constraint="fk"),)),
    ((M,), "ALTER TABLE t DROP FOREIGN KEY fk",
     (A("drop_constraint", constraint="fk"),)),
    ((M,), "ALTER TABLE t DROP FOREIGN KEY IF EXISTS fk",
     (A("drop_constraint", constraint="fk"),)),
    ((M,), "ALTER TABLE t DROP CHECK ck",
     (A("drop_constraint", constraint="ck"),)),
    ((M,), "ALTER TABLE t DROP PRIMARY KEY",
     (A("drop_constraint", constraint="primary_key"),)),
    ((M,), "ALTER TABLE t DROP INDEX i",
     (A("drop_index", constraint="i"),)),
    ((M,), "ALTER TABLE t DROP KEY `I`",
     (A("drop_index", constraint="I"),)),
    # -- MySQL's partitions --------------------------------------------------------------
    ((M,), "ALTER TABLE t DROP PARTITION p1",
     (A("drop_partition", constraint="p1"),)),
    ((M,), "ALTER TABLE t DROP PARTITION p1, p2, `P3`",
     (A("drop_partition", constraint="p1, p2, P3"),)),
    ((M,), "ALTER TABLE t TRUNCATE PARTITION ALL",
     (A("truncate_partition", constraint="all"),)),
    ((M,), "ALTER TABLE t TRUNCATE PARTITION p1, p2",
     (A("truncate_partition", constraint="p1, p2"),)),
    # a listed partition, then an action of its own
    ((M,), "ALTER TABLE t TRUNCATE PARTITION p1, FORCE",
     (A("truncate_partition", constraint="p1"), A("table_option", default="FORCE"))),
    ((M,), "ALTER TABLE t DROP PARTITION p1, DROP c",
     (A("drop_partition", constraint="p1"), A("drop_column", column="c"))),
    ((M,), "ALTER TABLE t DISCARD TABLESPACE",
     (A("discard_tablespace"),)),
    ((M,), "ALTER TABLE t DISCARD PARTITION p1 TABLESPACE",
     (A("discard_tablespace", constraint="p1"),)),
    ((M,), "ALTER TABLE t DISCARD PARTITION p1, p2, p3 TABLESPACE",
     (A("discard_tablespace", constraint="p1, p2, p3"),)),
    ((M,), "ALTER TABLE t IMPORT PARTITION p1, p2 TABLESPACE",
     (A("other"),)),
    ((M,), "ALTER TABLE t ANALYZE PARTITION p1, p2",
     (A("other"),)),
    ((M,), "ALTER TABLE t REBUILD PARTITION p1, p2",
     (A("other"),)),
    ((M,), "ALTER TABLE t COALESCE PARTITION 2",
     (A("other"),)),
    ((M,), "ALTER TABLE t EXCHANGE PARTITION p1 WITH TABLE s.u WITHOUT VALIDATION",
     (A("exchange_partition", constraint="p1", new_name="s.u"),)),
    ((M,), "ALTER TABLE t EXCHANGE PARTITION p1 WITH TABLE u",
     (A("exchange_partition", constraint="p1", new_name="u"),)),
    ((M,), "ALTER TABLE t ADD PARTITION (PARTITION p4 VALUES LESS THAN (20))",
     (A("other"),)),
    # -- PostgreSQL's partitions -----------------------------------------------------------
    ((P,), "ALTER TABLE t ATTACH PARTITION p FOR VALUES IN (1)",
     (A("unknown", default="ATTACH PARTITION p FOR VALUES IN(1)"),)),
    ((P,), "ALTER TABLE t DETACH PARTITION p CONCURRENTLY",
     (A("unknown", default="DETACH PARTITION p CONCURRENTLY"),)),
    # -- several actions: the interesting one second -------------------------------------
    ((P,), "ALTER TABLE t ADD COLUMN a int, ALTER COLUMN b SET NOT NULL",
     (A("add_column", column="a", type="int"), A("set_not_null", column="b"))),
    ((P,), "ALTER TABLE t OWNER TO bob, DROP COLUMN c",
     (A("other"), A("drop_column", column="c"))),
    ((M,), "ALTER TABLE t COMMENT = 'x', ADD UNIQUE (a), DROP INDEX i",
     (A("other"), A("add_constraint", constraint="unique"), A("drop_index", constraint="i"))),
    ((P,), "ALTER TABLE t VALIDATE CONSTRAINT a, ADD CONSTRAINT b CHECK (x > 0)",
     (A("validate_constraint", constraint="a"),
      A("add_constraint", constraint="check", name="b"))),
    ((M,), "ALTER TABLE t ALGORITHM = INPLACE, LOCK NONE, ADD INDEX i (a)",
     (A("add_index", constraint="index"),)),
]


@pytest.mark.parametrize(("dialect", "sql", "expected"), [
    pytest.param(dialect, sql, expected, id=f"{dialect}-{n}")
    for n, (dialects, sql, expected) in enumerate(CASES) for dialect in dialects
])
def test_alter_table_actions(dialect: str | None, sql: str,
                             expected: tuple[A, ...]) -> None:
    assert actions(sql, dialect) == expected


def test_an_action_is_a_frozen_value() -> None:
    action = actions("ALTER TABLE t ADD COLUMN c int")[0]
    assert hash(action) == hash(A("add_column", column="c", type="int"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        action.kind = "drop_column"  # type: ignore[misc]


def test_the_flags_of_a_plain_action_are_false_not_none() -> None:
    (action,) = actions("ALTER TABLE t ADD COLUMN c int")
    assert action.not_null is False
    assert action.not_valid is False
    assert action.using_index is False
    assert action.position is False
    assert action.redefines is False
    assert action.inline == ()


# -- the statement around the actions ------------------------------------------------------


@pytest.mark.parametrize(("sql", "table", "if_exists"), [
    ("ALTER TABLE t DROP COLUMN c", Name("t"), False),
    ("ALTER TABLE IF EXISTS t DROP COLUMN c", Name("t"), True),
    ("ALTER TABLE IF EXISTS ONLY app.t DROP COLUMN c", Name("t", "app"), True),
    ("ALTER TABLE ONLY t DROP COLUMN c", Name("t"), False),
    ('ALTER TABLE "App"."T" DROP COLUMN c', Name("T", "App"), False),
    ("ALTER ONLINE TABLE t DROP COLUMN c", Name("t"), False),
    ("ALTER IGNORE TABLE t DROP COLUMN c", Name("t"), False),
])
def test_the_altered_table(sql: str, table: Name, if_exists: bool) -> None:
    info = classify(sql, P)
    assert (info.kind, info.table, info.if_exists) == ("alter_table", table, if_exists)
    assert info.table is not None and info.table.schema == table.schema
    assert info.actions == (A("drop_column", column="c"),)


@pytest.mark.parametrize(("sql", "object_type"), [
    ("ALTER INDEX i RENAME TO j", "index"),
    ("ALTER VIEW v OWNER TO bob", "view"),
    ("ALTER MATERIALIZED VIEW v SET SCHEMA s", "materialized"),
    ("ALTER SEQUENCE s RESTART", "sequence"),
    ("ALTER RULE r ON t RENAME TO q", "rule"),
])
def test_alter_of_other_objects(sql: str, object_type: str) -> None:
    info = classify(sql, P)
    assert (info.kind, info.object_type, info.actions) == ("alter_other", object_type, ())


@pytest.mark.parametrize("sql", [
    "ALTER FROBNICATOR x", "ALTER TABLE", "ALTER TABLE (t) ADD c int",
])
def test_alter_of_nothing_known_is_unknown(sql: str) -> None:
    assert classify(sql, M).kind == "unknown"


def test_rename_table_names_the_new_table() -> None:
    assert classify("ALTER TABLE t RENAME TO u", P).new_name == Name("u")
    assert classify("ALTER TABLE t ADD COLUMN c int, RENAME TO u", M).new_name == Name("u")
    assert classify("ALTER TABLE t RENAME COLUMN a TO b", P).new_name is None
    assert classify("ALTER TABLE t RENAME TO", P).new_name is None


@pytest.mark.parametrize(("sql", "dialect", "options"), [
    ("ALTER TABLE t ADD INDEX i (a), ALGORITHM=INPLACE, LOCK=NONE", M,
     {"ALGORITHM": "INPLACE", "LOCK": "NONE"}),
    ("ALTER TABLE t ALGORITHM = COPY", M, {"ALGORITHM": "COPY"}),
    ("ALTER TABLE t LOCK SHARED, ADD INDEX i (a)", M, {"LOCK": "SHARED"}),
    ("ALTER TABLE t ALGORITHM instant, ADD COLUMN c int", M, {"ALGORITHM": "INSTANT"}),
    ("ALTER TABLE t ADD COLUMN lock_id int", M, {}),
    ("ALTER TABLE t ADD COLUMN c int", M, {}),
])
def test_algorithm_and_lock_options(sql: str, dialect: str, options: dict[str, str]) -> None:
    info = classify(sql, dialect)
    assert info.options == options
    assert all(a.kind != "unknown" for a in info.actions)


def test_options_alone_are_no_action() -> None:
    info = classify("ALTER TABLE t ALGORITHM=INPLACE, LOCK=NONE", M)
    assert (info.actions, info.options) == ((), {"ALGORITHM": "INPLACE", "LOCK": "NONE"})


def test_a_lone_option_word_is_an_unknown_action() -> None:
    info = classify("ALTER TABLE t LOCK", M)
    assert (info.actions, info.options) == ((A("unknown", default="LOCK"),), {})


@pytest.mark.parametrize(("sql", "options"), [
    ("CREATE INDEX i ON t (c) ALGORITHM = INPLACE LOCK=NONE",
     {"ALGORITHM": "INPLACE", "LOCK": "NONE"}),
    ("CREATE INDEX i ON t (c) ALGORITHM INPLACE LOCK DEFAULT",
     {"ALGORITHM": "INPLACE", "LOCK": "DEFAULT"}),
    ("CREATE INDEX i ON t (c) LOCK = SHARED", {"LOCK": "SHARED"}),
    ("CREATE INDEX i ON t (c)", {}),
    ("CREATE INDEX i ON t (c) ALGORITHM =", {}),
    ("CREATE INDEX i ON t (c) ALGORITHM", {}),
    # ALGORITHM is no reserved word: a column may be named so (LOCK must be quoted)
    ("CREATE INDEX i ON t (algorithm)", {}),
    ("CREATE INDEX i ON t (algorithm, `lock`) LOCK = NONE", {"LOCK": "NONE"}),
    ("CREATE INDEX i ON t ((algorithm + 1)) ALGORITHM = COPY", {"ALGORITHM": "COPY"}),
])
def test_create_index_lock_options(sql: str, options: dict[str, str]) -> None:
    assert classify(sql, M).options == options


@pytest.mark.parametrize(("sql", "dialect", "concurrently"), [
    ("ALTER TABLE t DETACH PARTITION p CONCURRENTLY", P, True),
    ("ALTER TABLE t DETACH PARTITION p CONCURRENTLY", None, True),
    ("ALTER TABLE t DETACH PARTITION p CONCURRENTLY", M, False),
    ("ALTER TABLE t DETACH PARTITION p", P, False),
    ("ALTER TABLE t DETACH PARTITION p FINALIZE", P, False),
    ("ALTER TABLE t RENAME COLUMN concurrently TO c", P, False),
    ("ALTER TABLE t ADD COLUMN concurrently int, DETACH PARTITION p", P, False),
    ("ALTER TABLE t SET (fillfactor = 70), DETACH PARTITION p CONCURRENTLY", P, True),
])
def test_detach_concurrently_runs_outside_a_transaction(
        sql: str, dialect: str | None, concurrently: bool) -> None:
    assert classify(sql, dialect).concurrently is concurrently


# -- statements the reader misread (each failed before its fix) --------------------------


@pytest.mark.parametrize(("sql", "expected"), [
    # MySQL/MariaDB: ADD [CONSTRAINT [symbol]] PRIMARY KEY | UNIQUE | FOREIGN KEY | CHECK
    ("ALTER TABLE t ADD CONSTRAINT PRIMARY KEY (id)",
     A("add_constraint", constraint="primary_key")),
    ("ALTER TABLE t ADD CONSTRAINT UNIQUE KEY (a)", A("add_constraint", constraint="unique")),
    ("ALTER TABLE t ADD CONSTRAINT FOREIGN KEY (a) REFERENCES u (id)",
     A("add_constraint", constraint="foreign_key")),
    ("ALTER TABLE t ADD CONSTRAINT CHECK (a > 0)", A("add_constraint", constraint="check")),
])
def test_mysql_constraint_without_a_name(sql: str, expected: A) -> None:
    assert actions(sql, M) == (expected,)


@pytest.mark.parametrize(("sql", "expected"), [
    # MariaDB: ALTER TABLE tbl_name [WAIT n | NOWAIT] alter_specification, ...
    ("ALTER TABLE t WAIT 10 DROP COLUMN c", (A("drop_column", column="c"),)),
    ("ALTER TABLE t NOWAIT DROP COLUMN c, ADD INDEX i (a)",
     (A("drop_column", column="c"), A("add_index", constraint="index"))),
    ("ALTER TABLE IF EXISTS t NOWAIT ADD COLUMN c int",
     (A("add_column", column="c", type="int"),)),
])
def test_mariadb_wait_and_nowait_before_the_actions(sql: str, expected: tuple[A, ...]) -> None:
    assert actions(sql, M) == expected


def test_mariadb_alter_online_ignore_table() -> None:
    info = classify("ALTER ONLINE IGNORE TABLE t DROP COLUMN c", M)
    assert (info.kind, info.table, info.actions) == (
        "alter_table", Name("t"), (A("drop_column", column="c"),))


@pytest.mark.parametrize(("sql", "expected"), [
    # MariaDB: MODIFY / CHANGE [COLUMN] [IF EXISTS], DROP {INDEX|KEY} [IF EXISTS],
    # DROP PARTITION [IF EXISTS]
    ("ALTER TABLE t MODIFY COLUMN IF EXISTS c bigint NOT NULL",
     A("alter_type", column="c", type="bigint", not_null=True, redefines=True)),
    ("ALTER TABLE t MODIFY IF EXISTS c int",
     A("alter_type", column="c", type="int", redefines=True)),
    ("ALTER TABLE t CHANGE COLUMN IF EXISTS a b bigint",
     A("alter_type", column="a", type="bigint", new_name="b", redefines=True)),
    ("ALTER TABLE t DROP INDEX IF EXISTS i", A("drop_index", constraint="i")),
    ("ALTER TABLE t DROP KEY IF EXISTS i", A("drop_index", constraint="i")),
    ("ALTER TABLE t DROP PARTITION IF EXISTS p1, p2",
     A("drop_partition", constraint="p1, p2")),
])
def test_mariadb_if_exists_of_an_action(sql: str, expected: A) -> None:
    assert actions(sql, M) == (expected,)


@pytest.mark.parametrize("sql", [
    # PostgreSQL: ALTER TABLE [ IF EXISTS ] [ ONLY ] name [ * ] action, ...
    "ALTER TABLE t * DROP COLUMN c",
    "ALTER TABLE IF EXISTS app.t * DROP COLUMN c",
])
def test_postgres_star_after_the_table_name(sql: str) -> None:
    assert actions(sql, P) == (A("drop_column", column="c"),)


def test_mysql_reorganize_partition_list_into() -> None:
    # REORGANIZE PARTITION partition_names INTO (partition_definitions): one action
    sql = ("ALTER TABLE t REORGANIZE PARTITION p1, `p2`, p3 INTO "
           "(PARTITION p4 VALUES LESS THAN (9))")
    assert actions(sql, M) == (A("other"),)


@pytest.mark.parametrize(("sql", "dialect", "expected"), [
    ("ALTER TABLE users ADD CONSTRAINT PRIMARY KEY (id)", M, {"SG411": [
        "adds a primary key to users: MySQL/MariaDB rebuild the whole table around it (a "
        "nullable key column makes it a copy that blocks writes)"]}),
    ("ALTER TABLE users NOWAIT DROP COLUMN email", M, {
        "SG302": ["drops column users.email and its data"]}),
    ("ALTER TABLE users * DROP COLUMN email", P, {
        "SG302": ["drops column users.email and its data"]}),
    ("ALTER TABLE users MODIFY COLUMN IF EXISTS email varchar(255) NOT NULL", M, {
        "SG404": ["makes users.email NOT NULL: every row is checked while the table is "
                  "locked"]}),
    ("ALTER TABLE users REORGANIZE PARTITION p1, p2 INTO (PARTITION p3 VALUES LESS "
     "THAN (9))", M, {}),
])
def test_the_findings_of_the_statements_once_misread(
        sql: str, dialect: str, expected: dict[str, list[str]]) -> None:
    assert messages_for(sql, dialect) == expected


# -- SG412: STORED or VIRTUAL is a column's, not the statement's -------------------------

STORED_TEXT = ("adds stored generated column users.{}: every row is rewritten under an "
               "exclusive lock to compute it")


@pytest.mark.parametrize(("sql", "dialect", "stored"), [
    # a column named virtual beside a stored one
    ("ALTER TABLE users ADD COLUMN a int GENERATED ALWAYS AS (id * 2) STORED, "
     "ADD COLUMN virtual int", P, ["a"]),
    ("ALTER TABLE users ADD COLUMN a int GENERATED ALWAYS AS (id * 2) STORED, "
     "ADD COLUMN b int GENERATED ALWAYS AS (id * 3) VIRTUAL", P, ["a"]),
    ("ALTER TABLE users ADD COLUMN b int GENERATED ALWAYS AS (id * 3) VIRTUAL, "
     "ADD COLUMN a int GENERATED ALWAYS AS (id * 2) STORED", P, ["a"]),
    ("ALTER TABLE users ADD COLUMN a int AS (id * 2) STORED, "
     "ADD COLUMN b int AS (id * 3) VIRTUAL", M, ["a"]),
    ("ALTER TABLE users ADD COLUMN a int AS (id * 2), "
     "ADD COLUMN b int AS (id * 3) PERSISTENT", M, ["b"]),
    ("ALTER TABLE users ADD COLUMN a int AS (id * 2) STORED, ADD COLUMN b int AS (id * 3)",
     M, ["a"]),
    # the words of the expression are not the column's
    ("ALTER TABLE users ADD COLUMN a int AS (CASE WHEN id > 0 THEN 1 END) VIRTUAL, "
     "ADD COLUMN stored int", M, []),
    ("ALTER TABLE users ADD COLUMN a int GENERATED ALWAYS AS (id + 1) STORED, "
     "ADD COLUMN b int GENERATED ALWAYS AS (id + 2) STORED", P, ["a", "b"]),
])
def test_sg412_judges_each_generated_column(sql: str, dialect: str,
                                           stored: list[str]) -> None:
    found = messages_for(sql, dialect).get("SG412", [])
    assert found == [STORED_TEXT.format(column) for column in stored]


@pytest.mark.parametrize(("sql", "storage"), [
    ("ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a + 1) STORED", "stored"),
    ("ALTER TABLE t ADD COLUMN c int AS (a + 1) PERSISTENT", "stored"),
    ("ALTER TABLE t ADD COLUMN c int AS (a + 1) VIRTUAL NOT NULL", "virtual"),
    ("ALTER TABLE t ADD COLUMN c int AS (a + 1)", None),
    ("ALTER TABLE t ADD COLUMN virtual int AS (stored + 1)", None),
    ("ALTER TABLE t ADD COLUMN c int COMMENT 'STORED'", None),
])
def test_the_storage_a_generated_column_names(sql: str, storage: str | None) -> None:
    (action,) = actions(sql, M)
    assert action.storage == storage


@pytest.mark.parametrize("sql", [
    # MySQL/MariaDB: ADD [COLUMN] [IF NOT EXISTS] (col_name column_definition, ...)
    "ALTER TABLE t ADD COLUMN (a int, b decimal(5, 2) NOT NULL)",
    "ALTER TABLE t ADD (a int, b decimal(5, 2) NOT NULL)",
    "ALTER TABLE t ADD COLUMN IF NOT EXISTS (a int, b decimal(5, 2) NOT NULL)",
])
def test_mysql_adds_a_list_of_columns(sql: str) -> None:
    assert actions(sql, M) == (A("add_column", column="a", type="int"),
                               A("add_column", column="b", type="decimal(5, 2)",
                                 not_null=True))


def test_a_list_of_added_columns_is_checked_column_by_column() -> None:
    found = messages_for("ALTER TABLE users ADD COLUMN (a int, b int NOT NULL)", M)
    assert found == {"SG403": ["adds NOT NULL column users.b without a default"]}


@pytest.mark.parametrize(("sql", "dialect", "text"), [
    # MariaDB's system-versioned tables and periods: no column of that name (DROP SYSTEM
    # VERSIONING deletes the history rows)
    ("ALTER TABLE t ADD SYSTEM VERSIONING", M, "ADD SYSTEM VERSIONING"),
    ("ALTER TABLE t DROP SYSTEM VERSIONING", M, "DROP SYSTEM VERSIONING"),
    ("ALTER TABLE t ADD PERIOD FOR SYSTEM_TIME (s, e)", M, "ADD PERIOD FOR SYSTEM_TIME(s, e)"),
    ("ALTER TABLE t DROP PERIOD FOR SYSTEM_TIME", M, "DROP PERIOD FOR SYSTEM_TIME"),
    # [NOT] ENFORCED (MySQL's CHECK constraints, PostgreSQL 18's): ENFORCED checks every
    # row, NOT ENFORCED lets later writes break the constraint
    ("ALTER TABLE t ALTER CONSTRAINT ck NOT ENFORCED", M, "ALTER CONSTRAINT ck NOT ENFORCED"),
    ("ALTER TABLE t ALTER CONSTRAINT fk ENFORCED", P, "ALTER CONSTRAINT fk ENFORCED"),
    ("ALTER TABLE t ALTER CHECK ck ENFORCED", M, "ALTER CHECK ck ENFORCED"),
])
def test_actions_that_only_look_like_known_ones(sql: str, dialect: str, text: str) -> None:
    assert actions(sql, dialect) == (A("unknown", default=text),)


def test_a_column_named_system_or_period() -> None:
    assert actions("ALTER TABLE t ADD COLUMN system int, DROP period", M) == (
        A("add_column", column="system", type="int"), A("drop_column", column="period"))


@pytest.mark.parametrize(("sql", "expected"), [
    # a name after a comma continues only a partition list: elsewhere it is no action
    # the reader knows, reported (SG603), never dropped in silence
    ("ALTER TABLE t DROP COLUMN a, b",
     (A("drop_column", column="a"), A("unknown", default="b"))),
    ("ALTER TABLE t REORGANIZE PARTITION p1 INTO (PARTITION p2 VALUES LESS THAN (5)), b",
     (A("other"), A("unknown", default="b"))),
    ("ALTER TABLE t ANALYZE PARTITION p1, p2, DROP COLUMN c",
     (A("other"), A("drop_column", column="c"))),
])
def test_a_stray_name_is_never_swallowed(sql: str, expected: tuple[A, ...]) -> None:
    assert actions(sql, M) == expected


@pytest.mark.parametrize(("sql", "expected"), [
    # a statement cut short: the reader invents no name and does not fail
    ("ALTER TABLE t DROP PARTITION", A("drop_partition")),
    ("ALTER TABLE t EXCHANGE PARTITION", A("exchange_partition")),
    ("ALTER TABLE t DROP CONSTRAINT", A("drop_constraint")),
    ("ALTER TABLE t DROP INDEX", A("drop_index")),
    ("ALTER TABLE t DROP COLUMN", A("drop_column")),
    ("ALTER TABLE t RENAME COLUMN a TO", A("rename_column", column="a")),
    ("ALTER TABLE t RENAME a TO", A("rename_column", column="a")),
    ("ALTER TABLE t VALIDATE CONSTRAINT", A("validate_constraint")),
    ("ALTER TABLE t ALTER COLUMN", A("unknown", default="ALTER COLUMN")),
    # DEFAULT is a reserved word, no column's name: nothing to drop the data of
    ("ALTER TABLE t DROP DEFAULT", A("drop_default")),
])
def test_a_statement_cut_short(sql: str, expected: A) -> None:
    assert actions(sql, None) == (expected,)


def test_an_option_without_its_value() -> None:
    assert classify("ALTER TABLE t ALGORITHM =", M).options == {"ALGORITHM": ""}


def test_an_unknown_action_quotes_at_most_80_characters() -> None:
    words = " ".join(f"word{n}" for n in range(40))
    (action,) = actions(f"ALTER TABLE t FROBNICATE {words}", P)
    assert action == A("unknown", default=f"FROBNICATE {words}"[:80])


def test_a_rewrite_quotes_at_most_80_characters() -> None:
    method = "m" * 63  # PostgreSQL's longest name
    (action,) = actions(f"ALTER TABLE t SET ACCESS METHOD {method}", P)
    assert action == A("rewrite", default=f"SET ACCESS METHOD {method}"[:80])


def test_a_reference_to_a_table_named_identity_generates_nothing() -> None:
    # IDENTITY is no reserved word: only GENERATED ... AS IDENTITY makes an identity
    sql = "ALTER TABLE users ADD COLUMN c int NOT NULL REFERENCES identity (id)"
    assert actions(sql, P) == (A("add_column", column="c", type="int", not_null=True,
                                 inline=("foreign_key",)),)
    assert messages_for(sql, P)["SG403"] == [
        "adds NOT NULL column users.c without a default"]
