"""A deterministic corpus of realistic migrations, valid on SQLite and PostgreSQL.

Tables with keys and foreign keys, added columns, indexes, inserts, updates and a few
drops, each migration with a down script that reverses it. About 100 bytes of SQL per
migration, so 1,000 migrations are about 100 KB.

    python bench/corpus.py N OUT_DIR [--layout golang-migrate]

``golang-migrate``: the same migrations (same SQL, same order) as golang-migrate files,
``{n:06d}_{name}.up.sql`` and ``{n:06d}_{name}.down.sql``, all in ``OUT_DIR``.
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


def _migration(index: int, tables: list[str], rng: random.Random) -> tuple[str, str, str]:
    """(name, up, down) of migration ``index``; ``tables`` holds the tables made so far."""
    kind = index % 8 if tables else 0
    base = tables[-1] if tables else ""
    if kind == 0:
        table = f"t{index}"
        tables.append(table)
        return (
            f"create_{table}",
            f"CREATE TABLE {table} (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT "
            f"NULL,\n    created_at VARCHAR(32)\n);\n",
            f"DROP TABLE {table};\n",
        )
    if kind == 1:
        return (
            f"add_c{index}_to_{base}",
            f"ALTER TABLE {base} ADD COLUMN c{index} INTEGER;\n",
            f"ALTER TABLE {base} DROP COLUMN c{index};\n",
        )
    if kind == 2:
        return (
            f"index_{base}_name",
            f"CREATE INDEX ix{index}_{base} ON {base} (name);\n",
            f"DROP INDEX ix{index}_{base};\n",
        )
    if kind in (3, 6):
        ids = [index * 10 + n for n in range(3)]
        values = ", ".join(f"({i}, '{rng.choice(WORDS)}; {i}')" for i in ids)
        return (
            f"seed_{base}",
            f"-- seed rows\nINSERT INTO {base} (id, name) VALUES {values};\n",
            f"DELETE FROM {base} WHERE id IN ({', '.join(map(str, ids))});\n",
        )
    if kind == 4:
        return (
            f"touch_{base}",
            f"UPDATE {base} SET created_at = '2024-01-01' WHERE created_at IS NULL;\n",
            f"UPDATE {base} SET created_at = NULL WHERE created_at = '2024-01-01';\n",
        )
    if kind == 5:
        child = f"c{index}"  # not a base for later steps: it has no name column
        return (
            f"create_{child}",
            f"CREATE TABLE {child} (\n    id INTEGER PRIMARY KEY,\n    {base}_id INTEGER "
            f"REFERENCES {base} (id)\n);\n",
            f"DROP TABLE {child};\n",
        )
    # kind 7: a scratch table made and dropped again (a destructive step, allowed).
    return (
        f"scratch_{index}",
        f"CREATE TABLE scratch{index} (id INTEGER);\n"
        f"-- switchy-guard: allow drop-table -- scratch table of this migration\n"
        f"DROP TABLE scratch{index};\n",
        "-- switchy-guard: noop-down -- the up drops the table it creates\n",
    )


def generate(count: int, out: Path, seed: int = 7, layout: str = "switchy") -> Path:
    """Write ``count`` migrations under ``out`` (replaced) in ``layout`` (``switchy``:
    a folder per migration; ``golang-migrate``: an up and a down file per migration)
    and return it."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    rng = random.Random(seed)
    tables: list[str] = []
    for index in range(count):
        name, up, down = _migration(index, tables, rng)
        if layout == "golang-migrate":
            version = f"{index + 1:06d}_{name}"
            (out / f"{version}.up.sql").write_text(up, encoding="utf-8")
            (out / f"{version}.down.sql").write_text(down, encoding="utf-8")
            continue
        day, rest = divmod(index, 86400)
        stamp = f"2024-{1 + day // 28:02d}-{1 + day % 28:02d}-{rest // 3600:02d}" \
                f"{rest // 60 % 60:02d}{rest % 60:02d}"
        folder = out / f"{stamp}_{name}"
        folder.mkdir()
        (folder / "up.sql").write_text(up, encoding="utf-8")
        (folder / "down.sql").write_text(down, encoding="utf-8")
    return out


if __name__ == "__main__":
    chosen = sys.argv[4] if sys.argv[3:4] == ["--layout"] else "switchy"
    target = generate(int(sys.argv[1]), Path(sys.argv[2]), layout=chosen)
    size = sum(p.stat().st_size for p in target.rglob("*up.sql"))
    print(f"{sys.argv[1]} migrations in {target} ({size / 1024:.0f} KB of up.sql)")
