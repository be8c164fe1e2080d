"""Console-script entry point.

Kept free of heavy imports: tests call `$MT_MEGATEST ...` thousands of times per run, so
`--version` is answered before Typer is imported, and the legacy single-dash form is
translated with nothing but the standard library.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-version"], ["-v"]):
        from megatest import __version__

        print(f"megatest {__version__}")
        return 0

    from megatest.errors import MegatestError

    try:
        if args and _is_legacy(args):
            from megatest.cli.legacy import translate

            args = translate(args)
        from megatest.cli.app import run_app

        return run_app(args)
    except MegatestError as exc:
        print(f"megatest: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("megatest: interrupted", file=sys.stderr)
        return 130


def _is_legacy(args: list[str]) -> bool:
    """The original's options are single-dash words (`-run`, `-target`); ours are `--x`."""
    return any(a.startswith("-") and not a.startswith("--") and len(a) > 2 for a in args)


if __name__ == "__main__":
    raise SystemExit(main())
