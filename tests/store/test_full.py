"""A database that cannot grow (SQLite's own "database or disk is full", made with
max_page_count): every write says so in one line and leaves what was there."""

from __future__ import annotations

import pytest

from megatest.errors import StoreWriteError
from megatest.store import open_store


def _cap(conn) -> None:
    """The file may not grow past its current size, as on a full disk."""
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_main_db_write_that_does_not_fit_is_one_line_and_changes_nothing(tmp_path):
    with open_store(tmp_path, fields=["A"]) as store:
        store.set_var("kept", "yes")
        _cap(store._conn)
        with pytest.raises(StoreWriteError) as err:
            store.set_var("big", "x" * 200_000)
        assert "could not write this database: no space left" in err.value.one_line()
        assert str(tmp_path / ".db" / "main.db") in err.value.one_line()
        assert store.get_var("kept") == "yes" and store.get_var("big") is None


def test_registering_tests_that_do_not_fit_is_one_line_and_registers_none(tmp_path, monkeypatch):
    from megatest.store import register, sqlite_conn

    def attach_capped(conn, path, schema):  # registration's own connection, run db capped
        attach(conn, path, schema)
        (pages,) = conn.execute(f"PRAGMA {schema}.page_count").fetchone()
        conn.execute(f"PRAGMA {schema}.max_page_count = {pages}")

    attach = sqlite_conn.attach
    monkeypatch.setattr(register.sqlite_conn, "attach", attach_capped)
    with open_store(tmp_path, fields=["A"]) as store:
        run_id = store.get_or_create_run({"A": "x"}, "r")
        with pytest.raises(StoreWriteError, match="no space left"):
            store.register_tests(run_id, [(f"t{i}", "") for i in range(5000)])
        assert store.get_tests(run_id) == []


def test_a_batch_that_does_not_fit_is_rolled_back_whole_and_can_be_tried_again(tmp_path):
    with open_store(tmp_path, fields=["A"]) as store:
        run_id = store.get_or_create_run({"A": "x"}, "r")
        test_id = store.get_or_create_test(run_id, "t")
        writer = store.run_writer(run_id)
        (pages,) = writer.conn.execute("PRAGMA page_count").fetchone()
        _cap(writer.conn)
        with pytest.raises(StoreWriteError, match="no space left"):
            with writer.batch():
                writer.set_state_status(test_id, "RUNNING", "n/a")
                writer.add_test_data(test_id, [{"category": "c", "variable": f"v{i}",
                                                "value": "1" * 500} for i in range(2000)])
        assert store.get_test(run_id, test_id).state == "NOT_STARTED"
        writer.conn.execute(f"PRAGMA max_page_count = {pages * 1000}")  # space freed
        with writer.batch():
            writer.set_state_status(test_id, "RUNNING", "n/a")
        assert store.get_test(run_id, test_id).state == "RUNNING"
