"""alembic.ini at the repository root: Alembic by hand on both schema trees of alembic/."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from megatest.errors import StoreError
from megatest.store import migrations
from megatest.store.revisions import HEADS

ROOT = Path(__file__).resolve().parents[2]


def alembic(*args: str) -> subprocess.CompletedProcess:
    # `python -m` from the repository root puts the root first on sys.path, next to alembic/.
    return subprocess.run([sys.executable, "-m", "alembic", "-c", "alembic.ini", *args],
                          cwd=ROOT, capture_output=True, text=True)


def _schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


def test_history_lists_both_trees_up_to_their_heads():
    out = alembic("history")
    assert out.returncode == 0, out.stderr
    for tree in migrations.TREES:
        assert f"-> {HEADS[tree]} ({tree}) (head)" in out.stdout
        for rev in migrations.revisions(tree):
            assert f"-> {rev} ({tree})" in out.stdout


def test_the_top_level_folder_does_not_shadow_the_alembic_package():
    assert not (ROOT / "alembic" / "__init__.py").exists()
    out = subprocess.run([sys.executable, "-c", "import alembic; print(alembic.__file__)"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    found = Path(out.stdout.strip())
    assert found.name == "__init__.py" and found.parent.parent.name in ("site-packages",
                                                                         "dist-packages")


def test_the_source_tree_uses_the_top_level_folder():
    assert migrations.script_location() == ROOT / "alembic"
    assert migrations.version_location("run") == ROOT / "alembic" / "versions" / "run"


@pytest.mark.parametrize(("tree", "oldest"), [("main", "main_0001"), ("run", "run_0001")])
def test_upgrade_by_hand_brings_an_old_db_to_head(tmp_path, tree, oldest):
    db = tmp_path / f"{tree}.db"
    migrations.upgrade(db, tree, oldest)
    out = alembic("-x", f"db={db}", "upgrade", f"{tree}@head")
    assert out.returncode == 0, out.stderr
    assert migrations.current(db) == HEADS[tree]
    made = tmp_path / "made.db"
    migrations.upgrade(made, tree)
    assert _schema(db) == _schema(made)


def test_upgrading_both_trees_into_one_file_is_refused_and_changes_nothing(tmp_path):
    db = tmp_path / "main.db"
    migrations.upgrade(db, "main")
    before = _schema(db)
    out = alembic("-x", f"db={db}", "upgrade", "heads")
    assert out.returncode != 0
    failed = [line for line in out.stdout.splitlines() if line.startswith("FAILED:")]
    assert len(failed) == 1 and "both the main and the run schema" in failed[0]
    assert "Traceback" not in out.stderr
    assert _schema(db) == before and migrations.current(db) == HEADS["main"]


def test_a_missing_or_unnamed_db_is_one_line_and_creates_nothing(tmp_path):
    out = alembic("current")
    assert out.returncode != 0 and "FAILED: name the db file" in out.stdout
    missing = tmp_path / "typo.db"
    out = alembic("-x", f"db={missing}", "current")
    assert out.returncode != 0 and f"FAILED: no db file {missing}" in out.stdout
    assert "Traceback" not in out.stderr and not missing.exists()


def test_a_shipped_copy_is_preferred_to_the_source_tree(tmp_path):
    store_dir = tmp_path / "megatest" / "store"
    (store_dir / "_alembic").mkdir(parents=True)
    (store_dir / "_alembic" / "env.py").write_text("")
    (tmp_path / "alembic").mkdir()
    (tmp_path / "alembic" / "env.py").write_text("")
    (tmp_path / "alembic.ini").write_text("")
    assert migrations.locate_scripts(store_dir) == store_dir / "_alembic"


def test_the_alembic_library_beside_an_installed_megatest_is_not_taken_for_the_scripts(tmp_path):
    store_dir = tmp_path / "site-packages" / "megatest" / "store"
    store_dir.mkdir(parents=True)
    library = tmp_path / "site-packages" / "alembic"
    library.mkdir()
    (library / "__init__.py").write_text("")
    (library / "env.py").write_text("")
    with pytest.raises(StoreError, match="schema migrations are missing"):
        migrations.locate_scripts(store_dir)
