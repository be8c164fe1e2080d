"""New databases are made from the recorded head schema, which must be what the migrations build."""

import sqlite3

import pytest

from megatest.store import head_schema, migrations
from megatest.store.revisions import HEADS


def _schema(path) -> tuple[list[tuple], list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        entries = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").fetchall()
        return entries, conn.execute("SELECT * FROM alembic_version").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("tree", migrations.TREES)
def test_the_record_is_what_the_migrations_build(tree):
    # a new migration without `python scripts/store/gen_head_schema.py` fails here
    assert head_schema.REVISIONS[tree] == HEADS[tree]
    assert list(head_schema.STATEMENTS[tree]) == migrations.head_statements(tree)


@pytest.mark.parametrize("tree", migrations.TREES)
def test_a_db_made_from_the_record_equals_one_made_by_alembic(tmp_path, tree):
    migrations.upgrade(tmp_path / "alembic.db", tree)
    migrations.create_at_head(tmp_path / "record.db", tree)
    assert _schema(tmp_path / "record.db") == _schema(tmp_path / "alembic.db")
    assert migrations.current(tmp_path / "record.db") == HEADS[tree]


def test_a_stale_record_falls_back_to_the_migrations(tmp_path, monkeypatch):
    monkeypatch.setitem(head_schema.REVISIONS, "run", "run_0002")
    monkeypatch.setitem(head_schema.STATEMENTS, "run", ("CREATE TABLE wrong (x)",))
    migrations.create_at_head(tmp_path / "run.db", "run")
    migrations.upgrade(tmp_path / "alembic.db", "run")
    assert _schema(tmp_path / "run.db") == _schema(tmp_path / "alembic.db")
