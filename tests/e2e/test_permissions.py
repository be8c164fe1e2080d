"""What a user without write access sees: run as another user (the suite runs as root, so a
real permission refusal needs a second user: `nobody`, through setpriv)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.e2e.conftest import MEGATEST

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def as_nobody():
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a command as another user")

    def run(area, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*NOBODY, MEGATEST, *args], cwd=area, capture_output=True,
                              text=True, timeout=60)

    return run


def readable_by_all(path) -> None:
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    os.chmod(path, 0o755)


def test_a_user_who_may_not_write_the_areas_db_gets_one_line_saying_so(make_area, tmp_path, as_nobody):
    for folder in (tmp_path, tmp_path.parent, tmp_path.parent.parent):  # pytest's own, 0700
        os.chmod(folder, 0o755)
    area = make_area("resume")
    area.mt("runs", "start", "--target", "ubuntu/v1", "--runname", "r", "-q", check=0)
    readable_by_all(area.root)
    before = sorted(p.name for p in (area.root / ".db").iterdir())
    for args in (["runs", "start", "--target", "ubuntu/v1", "--runname", "r2"],
                 ["runs", "remove", "--target", "ubuntu/v1", "--runname", "r"]):
        done = as_nobody(area.root, *args)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert "no permission to write in the folder" in done.stderr
        assert str(area.root / ".db") in done.stderr
    assert sorted(p.name for p in (area.root / ".db").iterdir()) == before  # nothing changed
    assert area.table("ubuntu/v1", "r") == {f"t{i}": ("COMPLETED", "PASS") for i in range(1, 7)}
