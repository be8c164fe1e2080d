"""Two runners opening a fresh area at the same instant: neither crashes."""

import subprocess
import sys

CHILD = r"""
import sys
from megatest.store import open_store
print("ready", flush=True)
sys.stdin.read(1)  # the barrier: both children are released by one write each
with open_store(sys.argv[1], fields=["A"]) as s:
    run_id = s.get_or_create_run({"A": "x"}, "nightly")
    s.run_writer(run_id)
print("opened", run_id, flush=True)
"""


def _pair(area):
    kids = [subprocess.Popen([sys.executable, "-c", CHILD, str(area)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    for kid in kids:
        assert kid.stdout.readline().strip() == "ready"
    for kid in kids:
        kid.stdin.write("go")
        kid.stdin.flush()
    return [(kid.wait(), *kid.communicate()) for kid in kids]


def test_simultaneous_openers_of_a_fresh_area_both_succeed(tmp_path):
    for attempt in range(20):
        area = tmp_path / f"area{attempt}"
        area.mkdir()
        results = _pair(area)
        for rc, _out, err in results:
            assert rc == 0 and "Traceback" not in err, (attempt, rc, err)
        assert {out.strip() for _, out, _ in results} == {"opened 1"}
