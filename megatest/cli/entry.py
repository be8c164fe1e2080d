"""Console-script entry point.

Kept free of heavy imports: tests call `$MT_MEGATEST ...` thousands of times per run, so
`--version` is answered before Typer is imported, and the legacy single-dash form is
translated with nothing but the standard library.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing would cost --version 15 ms
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import NoReturn

# Run once before Typer is first imported, by the commands that use it. The standalone
# binary (scripts/dist/megatest_main.py) sets it to load Typer without rich; the helper
# calls and `test execute`, which never import Typer, do not pay for it.
before_typer: Callable[[], None] | None = None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-version"], ["-v"]):
        from megatest import __version__

        print(f"megatest {__version__}")
        return 0

    from megatest.errors import MegatestError

    try:
        nul = next((arg for arg in args if "\0" in arg), None)
        if nul is not None:
            # only an in-process caller can pass one (argv entries are C strings); Typer's
            # path options would end in a ValueError traceback from os.stat
            from megatest.errors import UsageError

            raise UsageError(f"argument {nul!r} holds a NUL character")
        args, options = _global_options(args)
        if "log" not in options:
            return _dispatch(args)
        from megatest.cli.global_options import output_to_log

        with output_to_log(options["log"], stdout_too=_starts_run(args)):
            try:
                return _dispatch(args)
            except (MegatestError, OSError) as exc:
                print(_error_line(exc), file=sys.stderr)  # in the log; the terminal hears it too
                raise
    except MegatestError as exc:
        print(_error_line(exc), file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(_error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("megatest: interrupted", file=sys.stderr)
        return 130


def _global_options(args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Take `-debug`/`-log` (and their `--` forms) out of `args`; apply `-debug` now."""
    if not any(a.lstrip("-").partition("=")[0] in ("debug", "log") for a in args):
        return args, {}
    from megatest import verbosity
    from megatest.cli.global_options import split_global_options

    args, options = split_global_options(args)
    if "debug" in options:
        verbosity.set_current(verbosity.parse_spec(options["debug"]))
    return args, options


def _starts_run(args: list[str]) -> bool:
    from megatest.cli.global_options import is_run

    if args and _is_legacy(args) and not _is_test_helper(args):
        from megatest.cli.legacy import translate

        args = translate(args)
    return is_run(args)


def _dispatch(args: list[str]) -> int:
    """Run the command `args` (without the global options) and return its exit code."""
    if args and _is_test_helper(args):
        # `$MT_MEGATEST -test-status ...` / `megatest test step ...` from inside a test:
        # answered without Typer or SQLAlchemy (megatest.engine.helpers).
        from megatest.engine.helpers import run_helper

        return run_helper(args)
    legacy_action = None
    if args and _is_legacy(args):
        from megatest.cli.legacy import action_of, translate

        legacy_action = action_of(args)
        args = translate(args)
        _say_translation(args)
    if args[:2] == ["test", "execute"] and "--help" not in args:
        # what a batch job runs on its node, hundreds at once: no Typer
        from megatest.engine.execute import main as execute_main

        return execute_main(args[2:])
    if args[:2] == ["query", "config"] or args[2:4] == ["query", "config"]:
        # Called from inside tests (`-show-config -section S -var V`): skip Typer.
        from megatest.cli.query_config import fast_main

        code = fast_main(args)
        if code is not None:
            return code
    if before_typer is not None:
        before_typer()
    from megatest.cli.app import has_command, run_app

    if legacy_action is not None and not has_command(args):
        from megatest.errors import UsageError

        raise UsageError(f"{legacy_action} is not supported by this version of megatest yet")
    return run_app(args)


def _say_translation(args: list[str]) -> None:
    """At `-debug 2`, the sectioned command a legacy line became (to learn the new form)."""
    from megatest import verbosity

    if verbosity.shows(2):
        import shlex

        verbosity.detail(2, "as a sectioned command: megatest " + shlex.join(args))


def _error_line(exc: Exception) -> str:
    # what the system refused (permission, a file where a folder belongs, no space, a
    # vanished directory) is the user's to fix: one line naming the file, not a traceback
    text = os_error_line(exc) if isinstance(exc, OSError) else getattr(exc, "one_line", exc.__str__)()
    return f"megatest: error: {text}"


def os_error_line(exc: OSError) -> str:
    """`<file>: <what the system said>` and, where there is one, what to do about it."""
    import errno

    what = (exc.strerror or str(exc)).lower()
    names = [n for n in (exc.filename, exc.filename2) if n is not None]
    where = " -> ".join(str(n) for n in names)
    hint = {
        errno.ENOSPC: "; free some space and run the command again",
        errno.EDQUOT: "; free some space and run the command again",
        errno.EACCES: "; check the owner and permissions",
        errno.EPERM: "; check the owner and permissions",
        errno.EEXIST: "; something else stands where megatest makes this",
        errno.ENOTDIR: "; a file stands where megatest needs a folder",
        errno.EROFS: "; the file system is read-only",
    }.get(exc.errno or 0, "")
    return f"{where}: {what}{hint}" if where else f"{what}{hint}"


def _is_test_helper(args: list[str]) -> bool:
    if "--help" in args or "-h" in args:
        return False
    if args[0] != "test" and not _is_legacy(args):
        return False  # a sectioned command: no need to import the helpers' table
    from megatest.engine.helpers import ACTIONS, legacy_action

    if args[0] == "test":
        return len(args) > 1 and args[1] in ACTIONS
    return legacy_action(args) is not None


def _is_legacy(args: list[str]) -> bool:
    """The original's options are single-dash words (`-run`, `-target`); ours are `--x`."""
    return any(a.startswith("-") and not a.startswith("--") and len(a) > 2 for a in args)


def exit_now(code: int) -> NoReturn:
    """End the process with `code` once what it printed is out, without tearing the
    interpreter down: freeing every module and object of a run takes 35-50 ms, and
    `megatest` is started once per command and per test helper call.

    Nothing is lost: stores and files are closed by the commands themselves (committed
    SQLite data is in the files, an open transaction rolls back as at any exit), and
    megatest registers no atexit handler. A reader that went away (`| head`) costs nothing
    but the unwritten rest; output that cannot be written otherwise (a full disk) is an error
    and a non-zero exit, as it would be in Python's own teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader is gone (`| head`): the rest is not wanted
        except ValueError:
            pass  # closed by the command itself
        except OSError as exc:  # a full disk: the output is incomplete, say so
            code = code or 1
            if stream is sys.stdout:
                try:
                    print(f"megatest: error: output not written: {exc.strerror or exc}",
                          file=sys.stderr, flush=True)
                except (OSError, ValueError):
                    pass
    os._exit(code)


def run() -> NoReturn:
    """The console script and `python -m megatest`: main(), then exit_now. Only a normal
    return skips the teardown; an unexpected error is reported by Python as usual."""
    exit_now(main())


if __name__ == "__main__":
    run()
