"""Many processes writing one run: nothing lost, no 'database is locked'."""

import subprocess
import sys
import textwrap

WORKER = textwrap.dedent("""
    import sys
    from megatest.store.testwrite import TestWriter
    area, run_id, test_id, n, lean = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    if lean == "1":
        w = TestWriter(area, run_id)
        for i in range(n):
            w.set_state_status(test_id, "RUNNING", "n/a")
            w.add_step(test_id, f"s{i}", "end", "0")
    else:
        from megatest.store import open_store
        s = open_store(area)
        for i in range(n):
            s.set_test_state_status(run_id, test_id, "RUNNING", "n/a")
            s.add_step(run_id, test_id, f"s{i}", "end", "0")
    """)


def test_parallel_writers_lose_nothing(store, run_id):
    procs, n, items = [], 40, []
    for k in range(6):
        items.append(store.get_or_create_test(run_id, "t", f"i{k}"))
    for k, test_id in enumerate(items):
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, str(store.area_root), str(run_id), str(test_id), str(n),
             "1" if k % 2 else "0"],
            stderr=subprocess.PIPE, text=True))
    errors = [p.communicate()[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert not any("locked" in e for e in errors)
    for test_id in items:
        assert len(store.get_steps(run_id, test_id)) == n
    parent = store.get_test_by_name(run_id, "t")
    assert (parent.state, parent.status) == ("RUNNING", "n/a")


REGISTER = textwrap.dedent("""
    import sys
    from megatest.store import open_store
    s = open_store(sys.argv[1])
    print(",".join(str(s.get_or_create_test(int(sys.argv[2]), f"t{k}", "i")) for k in range(15)))
    """)


def test_parallel_registration_gives_one_id_per_test(store, run_id):
    procs = [subprocess.Popen([sys.executable, "-c", REGISTER, str(store.area_root), str(run_id)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outs = [p.communicate() for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    assert len({o for o, _ in outs}) == 1  # every process got the same ids
    tests = store.get_tests(run_id)
    assert len(tests) == 30  # 15 parents + 15 items
    import sqlite3

    main = sqlite3.connect(store.main_path)
    assert main.execute("SELECT count(*) FROM test_ids").fetchone()[0] == 30
