"""Entry module of the standalone binary (the Nuitka build compiles this file as __main__).

The binary leaves rich (and the pygments/markdown-it it pulls in) out to stay small, so Typer
must be told not to use it: Typer reads TYPER_USE_RICH once, when typer.core is imported. The
variable is set only around that import, so the test processes megatest starts do not inherit
it, and `--version` still answers before Typer is imported at all.
"""

from __future__ import annotations

import os
import sys

from megatest.cli.entry import exit_now, main

_FAST_VERSION = (["--version"], ["-version"], ["-v"])


def _load_typer_without_rich() -> None:
    previous = os.environ.get("TYPER_USE_RICH")
    os.environ["TYPER_USE_RICH"] = "0"
    try:
        import typer.core  # noqa: F401  (imported for its side effect: reads the variable)
    finally:
        if previous is None:
            del os.environ["TYPER_USE_RICH"]
        else:
            os.environ["TYPER_USE_RICH"] = previous


def run() -> int:
    if sys.argv[1:] not in _FAST_VERSION:
        _load_typer_without_rich()
    return main()


if __name__ == "__main__":
    exit_now(run())
