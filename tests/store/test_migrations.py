"""Both Alembic trees: every revision up and down, and head == the Core schema definition."""

import sqlite3

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from megatest.store import migrations, schema


def _tables(path) -> dict[str, list[str]]:
    c = sqlite3.connect(path)
    names = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name != 'alembic_version' ORDER BY name")]
    out = {n: [r[1] for r in c.execute(f"PRAGMA table_info({n})")] for n in names}
    c.close()
    return out


@pytest.mark.parametrize("tree", migrations.TREES)
def test_every_revision_up_and_down(tmp_path, tree):
    db = tmp_path / f"{tree}.db"
    revs = migrations.revisions(tree)
    assert revs[-1] == migrations.head(tree) and len(revs) >= 2
    shapes = {}
    for rev in revs:  # one step up at a time
        migrations.upgrade(db, tree, rev)
        assert migrations.current(db) == rev
        shapes[rev] = _tables(db)
    for older, newer in reversed(list(zip(revs, revs[1:], strict=False))):  # one step down
        migrations.downgrade(db, tree, older)
        assert migrations.current(db) == older
        assert _tables(db) == shapes[older], f"downgrade {newer} -> {older} is not exact"
    migrations.downgrade(db, tree, "base")
    assert migrations.current(db) is None and _tables(db) == {}
    migrations.upgrade(db, tree)
    assert _tables(db) == shapes[revs[-1]]


@pytest.mark.parametrize(("tree", "metadata"), [("main", schema.main_metadata),
                                                ("run", schema.run_metadata)])
def test_head_matches_core_schema(tmp_path, tree, metadata):
    db = tmp_path / "x.db"
    migrations.upgrade(db, tree)
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_server_default": True, "compare_type": True})
        diffs = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diffs == []


def test_main_0002_moves_locked_state_to_the_flag(tmp_path):
    db = tmp_path / "main.db"
    migrations.upgrade(db, "main", "main_0001")
    c = sqlite3.connect(db)
    c.execute("INSERT INTO runs (runname, state) VALUES ('r', 'locked')")
    c.commit()
    c.close()
    migrations.upgrade(db, "main")
    c = sqlite3.connect(db)
    assert c.execute("SELECT state, locked FROM runs").fetchone() == ("locked", 1)
    c.close()
    migrations.downgrade(db, "main", "main_0001")
    c = sqlite3.connect(db)
    assert c.execute("SELECT state FROM runs").fetchone() == ("locked",)
