"""Errors every layer may raise; the CLI turns them into one line and an exit code."""


class MegatestError(Exception):
    """A user-facing error: bad input, not a bug. `exit_code` is what the CLI returns."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}{self.message}"


class ConfigError(MegatestError):
    """A config file cannot be read as the user meant it (names file and line)."""


class UsageError(MegatestError):
    """Bad command-line input: unknown test, bad target, missing option."""


class StoreError(MegatestError):
    """The database is missing, corrupt or at the wrong revision."""


class StoreWriteError(StoreError):
    """A write the store could not make (no space, an I/O error, a lock never released):
    nothing of it was written, and the same write may succeed later."""

    exit_code = 1


class RunFailed(MegatestError):
    """The command worked but some test failed or could not run (exit 1)."""

    exit_code = 1
