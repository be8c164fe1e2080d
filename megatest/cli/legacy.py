"""Translate the original's single-dash command lines onto the sectioned CLI.

`megatest -run -target a/b -runname r -testpatt 't%'` becomes
`megatest runs start --target a/b --runname r --testpatt 't%'`. The original decides what
to do from the *action* flag present (`-run`, `-show-config`, ...); every other single-dash
word is an option with or without a value. Test helpers use `:state S` style parameters,
which become `--state S`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from megatest.errors import UsageError


@dataclass(frozen=True)
class Action:
    command: tuple[str, ...]
    # legacy option -> new option, for options that only make sense with this action
    options: dict[str, str] = field(default_factory=dict)
    # legacy positional words after the action flag become this option (e.g. `-m comment`)
    value_option: str | None = None
    # options the sectioned command always gets for this action
    adds: tuple[str, ...] = ()


# `-q` quiets a run's progress display; for other actions it changes nothing.
_RUN_FLAGS = {"-q": "--quiet"}

# Action flags, in the priority the original checks them when several are given.
ACTIONS: dict[str, Action] = {
    "-run": Action(("runs", "start"), options=_RUN_FLAGS),
    "-runtests": Action(("runs", "start"), options=_RUN_FLAGS, value_option="--testpatt"),
    "-runall": Action(("runs", "start"), options=_RUN_FLAGS),
    "-remove-runs": Action(("runs", "remove")),
    "-set-state-status": Action(("runs", "set-state-status"), value_option="--state-status"),
    "-set-run-status": Action(("runs", "set-status"), value_option="--status"),
    "-get-run-status": Action(("runs", "get-status")),
    "-lock": Action(("runs", "lock")),
    "-unlock": Action(("runs", "unlock")),
    "-kill-runs": Action(("runs", "kill")),
    "-rollup": Action(("runs", "rollup")),
    "-list-runs": Action(("query", "runs"), value_option="--runname", adds=("--tests",)),
    "-test-files": Action(("query", "files"), value_option="--files"),
    "-test-paths": Action(("query", "paths")),
    "-list-disks": Action(("query", "disks")),
    "-show-config": Action(("query", "config")),
    "-show-runconfig": Action(("query", "runconfig")),
    "-show-keys": Action(("query", "keys")),
    "-list-targets": Action(("query", "targets")),
    "-list-db-targets": Action(("query", "targets"), adds=("--db",)),
    "-generate-html": Action(("util", "html")),
    # the original writes its diff as html (-diff-html FILE) or mails it (not supported)
    "-diff-rep": Action(("util", "diff"), adds=("--format", "html")),
    "-test-status": Action(("test", "status")),
    "-step": Action(("test", "step"), value_option="--name"),
    "-runstep": Action(("test", "runstep"), value_option="--name"),
    "-set-values": Action(("test", "set-values")),
    "-load-test-data": Action(("test", "load-data")),
    "-setlog": Action(("test", "setlog"), value_option="--path"),
    "-set-toplog": Action(("test", "set-toplog"), value_option="--path"),
    "-summarize-items": Action(("test", "summarize-items")),
    "-execute": Action(("test", "execute"), value_option="--cmdinfo"),
    # `-server -` stays attached as the original's did (`-daemonize` detaches); its value
    # is the interface to listen on, "-" for the default
    "-server": Action(("server", "start"), options={"-daemonize": "--detach"},
                      value_option="--bind", adds=("--foreground",)),
    "-stop-server": Action(("server", "stop")),
    "-list-servers": Action(("server", "list")),
    "-kill-servers": Action(("server", "kill-all")),
    "-ping": Action(("server", "ping"), value_option="--address"),
    "-cleanup-db": Action(("db", "cleanup")),
    "-rebuild-db": Action(("db", "migrate")),
    # last: with -run it only says "wait" (a run always does); alone it waits on a run
    "-run-wait": Action(("runs", "wait")),
}
# Actions that are plain flags when another action is on the line.
_FLAG_WHEN_COMBINED = {"-run-wait": "--wait"}

# Options with a value: legacy -> sectioned.
VALUE_OPTIONS: dict[str, str] = {
    "-target": "--target",
    "-reqtarg": "--target",  # plus --reqtarg, added below
    "-runname": "--runname",
    "-testpatt": "--testpatt",
    "-itempatt": "--itempatt",
    "-tagexpr": "--tagexpr",
    "-modepatt": "--modepatt",
    "-setvars": "--setvars",
    "-contour": "--contour",
    "-rerun": "--rerun",
    "-dumpmode": "--format",
    "-section": "--section",
    "-var": "--var",
    "-state": "--state",
    "-status": "--status",
    "-m": "--comment",
    "-config": "--config",
    "-start-dir": "--area",
    "-area": "--area",
    "-transport": "--transport",
    "-logpro": "--logpro",
    "-o": "--output",
    "-src-target": "--src-target",
    "-src-runname": "--src-runname",
    "-diff-html": "--output",
}

# Options without a value.
FLAG_OPTIONS: dict[str, str] = {
    "-rerun-clean": "--rerun-clean",
    "-rerun-all": "--rerun-all",
    "-preclean": "--preclean",
    "-force": "--force",
    "-keep-records": "--keep-records",
    "-no-cache": "--no-cache",
    "-repl": "--repl",
}

# Options that the original accepts but that change nothing here.
IGNORED_FLAGS = {"-v", "-q", "-archive-target"}


def action_of(argv: list[str]) -> str | None:
    """The action flag of a legacy line (`-run`, `-execute`, ...), if it has one."""
    found = [a for a in argv if a in ACTIONS]
    main = [a for a in found if a not in _FLAG_WHEN_COMBINED]
    return main[0] if main else next(iter(found), None)


def translate(argv: list[str]) -> list[str]:
    """Map a legacy argument list onto the sectioned CLI; raise UsageError if impossible."""
    action_flag = action_of(argv)
    if action_flag is None and any(a in ("-rerun-clean", "-rerun-all") for a in argv):
        # these two start a run on their own, like -run (reference 1.1 step 8)
        argv, action_flag = ["-run", *argv], "-run"
    if action_flag is None:
        unknown = next((a for a in argv if a.startswith("-") and not a.startswith("--")), argv[0])
        raise UsageError(f"unknown legacy option {unknown!r}; see `megatest --help`")
    action = ACTIONS[action_flag]
    out: list[str] = []
    area_first: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == action_flag:
            i += 1
            # words after the action flag that are not options are its value
            if action.value_option and i < len(argv) and not _is_option(argv[i]):
                out += [action.value_option, argv[i]]
                i += 1
            continue
        if word in _FLAG_WHEN_COMBINED:
            out.append(_FLAG_WHEN_COMBINED[word])
            i += 1
            continue
        if word in ACTIONS:
            raise UsageError(f"{action_flag} and {word} cannot be combined")
        if word.startswith(":") and len(word) > 1:
            # test-helper parameters: `:state RUNNING` -> `--state RUNNING`
            if i + 1 >= len(argv):
                raise UsageError(f"{word} needs a value")
            out += ["--" + word[1:], argv[i + 1]]
            i += 2
            continue
        if word in VALUE_OPTIONS:
            if i + 1 >= len(argv):
                raise UsageError(f"{word} needs a value")
            new = VALUE_OPTIONS[word]
            if new == "--area":
                area_first += [new, argv[i + 1]]
            else:
                out += [new, argv[i + 1]]
                if word == "-reqtarg":
                    out.append("--reqtarg")
            i += 2
            continue
        if word in action.options:
            out.append(action.options[word])
            i += 1
            continue
        if word in FLAG_OPTIONS:
            out.append(FLAG_OPTIONS[word])
            i += 1
            continue
        if word in IGNORED_FLAGS:
            i += 1
            continue
        if word.startswith("--"):
            out.append(word)
            i += 1
            continue
        if word.startswith("-"):
            raise UsageError(f"unknown legacy option {word!r} for {action_flag}")
        out.append(word)
        i += 1
    return [*area_first, *action.command, *action.adds, *out]


def _is_option(word: str) -> bool:
    # a lone "-" is a value (`-server -`: the default interface)
    return word != "-" and (word.startswith("-") or word.startswith(":"))
