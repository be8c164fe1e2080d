"""How to start megatest again from inside megatest: the command a test's `$MT_MEGATEST`
holds and the one that starts a detached server.

From the sources (a venv's console script) it is the `megatest` next to the interpreter. In
the standalone binary, `sys.executable` names a `megatest` inside the binary's data folder
that is not the program (the program is `megatest.bin`, usually reached through a link), so
there the running executable itself is used.
"""

from __future__ import annotations

import os
import shutil
import sys


def _standalone() -> bool:
    """Nuitka sets `__compiled__` in the modules it compiled: the binary's entry module
    (`scripts/dist/megatest_main.py`) is one; megatest's own modules ship as bytecode."""
    return getattr(sys.modules.get("__main__"), "__compiled__", None) is not None


def megatest_command() -> list[str]:
    """argv to run megatest again with the same code as this process."""
    if _standalone():
        return [os.path.realpath("/proc/self/exe") if os.path.exists("/proc/self/exe")
                else os.path.abspath(sys.argv[0])]
    beside = os.path.join(os.path.dirname(sys.executable), "megatest")
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return [beside]
    found = shutil.which("megatest")
    if found:
        return [found]
    return [sys.executable, "-m", "megatest"]
