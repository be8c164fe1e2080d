"""Entry module of the standalone binary (the Nuitka build compiles this file as __main__).

The binary leaves rich (and the pygments/markdown-it it pulls in) out to stay small, so Typer
must be told not to use it: Typer reads TYPER_USE_RICH once, when typer.core is imported. The
variable is set only around that import, so the test processes megatest starts do not inherit
it; and the import is made only when a command is about to use Typer (the entry's
`before_typer` hook), so `--version`, the test helpers and `test execute` never load it.
"""

from __future__ import annotations

import os

from megatest.cli import entry
from megatest.cli.entry import exit_now, main


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
    entry.before_typer = _load_typer_without_rich
    return main()


if __name__ == "__main__":
    exit_now(run())
