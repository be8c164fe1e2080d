"""Head revisions are constants (no Alembic import to open a store) that match Alembic's."""

import subprocess
import sys
import textwrap

import pytest

from megatest.store import migrations
from megatest.store.revisions import HEADS


@pytest.mark.parametrize("tree", migrations.TREES)
def test_head_constant_is_what_alembic_reports(tree):
    # a new migration without a bump of revisions.HEADS fails here
    assert HEADS[tree] == migrations.script_head(tree)
    assert migrations.head(tree) == migrations.revisions(tree)[-1]


def test_unknown_tree_is_refused():
    with pytest.raises(ValueError, match="nope"):
        migrations.head("nope")


OPEN_AND_USE = textwrap.dedent("""
    import sys
    from megatest.store import open_store
    from megatest.store import maintenance
    s = open_store(sys.argv[1], fields=["SYSTEM", "RELEASE"])
    run_id = s.get_or_create_run({"SYSTEM": "a", "RELEASE": "b"}, "r")
    s.register_tests(run_id, [("t", ""), ("u", "x/1")])
    s.get_tests(run_id)
    maintenance.status(sys.argv[1])
    s.close()
    print("alembic" in sys.modules)
    """)


def test_open_and_use_of_an_area_at_head_does_not_import_alembic(store, run_id):
    # the fixture made main.db and one run db; a second run db comes from the template
    out = subprocess.run([sys.executable, "-c", OPEN_AND_USE, str(store.area_root)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_cli_commands_on_an_area_at_head_do_not_import_alembic(store, run_id):
    (store.area_root / "megatest.config").write_text("[fields]\nSYSTEM TEXT\nRELEASE TEXT\n")
    (store.area_root / "runconfigs.config").write_text("[default]\n")
    code = textwrap.dedent("""
        import sys
        from megatest.cli.entry import main
        for argv in (["--area", sys.argv[1], "db", "status"],
                     ["--area", sys.argv[1], "db", "check"],
                     ["--area", sys.argv[1], "query", "runs"],
                     ["--area", sys.argv[1], "query", "tests"]):
            try:
                main(argv)
            except SystemExit:
                pass
        print("alembic" in sys.modules, file=sys.stderr)
        """)
    out = subprocess.run([sys.executable, "-c", code, str(store.area_root)],
                         capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "False", out.stderr
    assert "main_0002" in out.stdout and "nightly" in out.stdout  # the commands did work


def test_a_db_behind_head_is_still_refused_by_open(tmp_path):
    from megatest.errors import StoreError
    from megatest.store import open_store

    open_store(tmp_path, fields=["A"]).close()
    main_db = tmp_path / ".db" / "main.db"
    migrations.downgrade(main_db, "main", "main_0001")
    with pytest.raises(StoreError, match="migrate"):
        open_store(tmp_path)
