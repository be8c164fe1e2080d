"""Shared builders for the work-area tests: a free-space script and a small test source dir."""

from __future__ import annotations

import os


def fake_space(tmp_path, sizes: dict[str, int]) -> str:
    """A free-space-script printing a size per disk name (the last path component)."""
    script = tmp_path / "space.sh"
    cases = "\n".join(f"  */{name}) echo {size} ;;" for name, size in sizes.items())
    script.write_text(f"#!/bin/sh\ncase \"$1\" in\n{cases}\n  *) echo 0 ;;\nesac\n")
    script.chmod(0o755)
    return str(script)


def make_source(tmp_path):
    """A test source dir with a hidden file, an executable, a subdir and a relative symlink."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "testconfig").write_text("[ezsteps]\n")
    (src / ".hidden").write_text("h")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "sub/data.txt").write_text("d")
    os.symlink("sub/data.txt", src / "link")
    return src
