"""Starting a step's process: `/bin/bash -c` as the reference does, or the program itself
when bash would only have looked it up on PATH and exec'd it.

The reference runs every step as `/bin/bash -c "C > S.log 2>&1"` (run-engine §3.2). When C
is one plain command (words of safe characters, no quoting, expansion, redirection or
operator) naming an external program, bash does nothing but search PATH and exec it as
the last command of its `-c` string, after setting PWD, OLDPWD, SHLVL and `_`. Doing that
here skips a bash start per step (about 1 ms of CPU each on a small machine) and the program
sees the same argv, environment, directory, descriptors and signal dispositions. Anything
else, and any failure to start the program directly, takes the bash path, which also gives
bash's own messages and exit codes (126, 127) in the step log.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import signal
from collections.abc import Mapping

# The test's launch log in its run directory: the runscript's output, triggers', a batch
# job's (here, not in workarea, so that a step's process needs no work-area code)
LAUNCH_LOG = "mt_launch.log"
# Python ignores SIGPIPE and SIGXFSZ; a test's processes get the default dispositions back
# (`yes | head -1` must end quietly, as it does from a terminal).
_RESTORED_SIGNALS = tuple(
    s for s in (getattr(signal, "SIGPIPE", None), getattr(signal, "SIGXFSZ", None)) if s
)
# The first word may not start with `%` (bash runs `%name` as `fg %name`) nor hold `=` (an
# assignment); no word holds a character bash gives a meaning to (`#` comments, quotes, `$`,
# globs, `~`, braces, operators, redirections).
_PLAIN_WORDS = re.compile(r"[ \t]*[A-Za-z0-9_./:,+@-][A-Za-z0-9_./:,+@%-]*(?:[ \t]+[A-Za-z0-9_./:,=+@%-]+)*[ \t]*")
# bash builtins and reserved words: bash runs these itself, so they keep the bash path,
# except two whose external programs do the same
_BASH_OWN = frozenset("""
    ! [[ ]] { } case coproc do done elif else esac fi for function if in select then time until
    while . : alias bg bind break builtin caller cd command compgen complete compopt continue
    declare dirs disown echo enable eval exec exit export fc fg getopts hash help history jobs
    kill let local logout mapfile popd printf pushd pwd read readarray readonly return set
    shift shopt source suspend test times trap type typeset ulimit umask unalias unset wait
""".split())
# without arguments only: the programs answer `--help`/`--version`, the builtins do not
_SAME_AS_BUILTIN = frozenset({"true", "false"})
# Variables that make `bash -c` do more than the command: a file sourced first (BASH_ENV),
# options such as xtrace (SHELLOPTS, BASHOPTS), POSIX mode, a PATH search that skips
# programs (EXECIGNORE). An exported function (`BASH_FUNC_<name>%%`) is checked per name.
_BASH_STARTUP_VARS = ("BASH_ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT", "EXECIGNORE")


def plain_command(command: str) -> list[str] | None:
    """The words of `command` when bash would exec it as is, else None."""
    if not _PLAIN_WORDS.fullmatch(command):
        return None
    words = command.split()
    first = words[0]
    if first in _BASH_OWN or (first in _SAME_AS_BUILTIN and len(words) > 1):
        return None
    return words


def bash_adds_to(words: list[str], env: Mapping[str, str]) -> bool:
    """True when `env` makes `bash -c` do more than exec `words`: a start-up variable is
    set, or the first word is an exported bash function."""
    if any(env.get(name) for name in _BASH_STARTUP_VARS):
        return True
    return f"BASH_FUNC_{words[0]}%%" in env or f"BASH_FUNC_{words[0]}()" in env


def find_program(word: str, path: str, cwd: str) -> str | None:
    """The name bash's PATH search gives `word` (`entry/word`; an empty entry is `.`), or
    None when no entry holds an executable file. Relative names count from `cwd`."""
    if "/" in word:
        return word
    for entry in path.split(":"):
        name = f"{entry or '.'}/{word}"
        candidate = name if name.startswith("/") else os.path.join(cwd, name)
        if os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return name
    return None


def shlvl_after_bash(value: str | None) -> str:
    """SHLVL as a program exec'd by `bash -c` sees it: bash adds one, then takes it back for
    the exec of its last command (a non-number or negative counts as 0)."""
    try:
        level = int((value or "").strip())
    except ValueError:
        level = 0
    level = max(level, 0) + 1
    if level >= 1000:
        level = 1  # bash resets a level that high
    return str(level - 1)


# Programs found on PATH by spawn_direct, per (word, PATH), when every entry searched before
# the one holding it is absolute (a relative entry's answer depends on the test's directory).
# Like the command hash bash keeps within one shell: a program found once is not searched
# again, so one that appears later in an earlier entry is not seen until the runner restarts;
# one that goes away fails to start and is searched again, by bash (see spawn_direct).
_FOUND: dict[tuple[str, str], str] = {}


def _lookup(word: str, path: str, cwd: str) -> str | None:
    key = (word, path)
    program = _FOUND.get(key)
    if program is None:
        program = find_program(word, path, cwd)
        if program is not None and "/" not in word and _searched_only_absolute(path, program):
            _FOUND[key] = program
    return program


def _searched_only_absolute(path: str, program: str) -> bool:
    """True when the PATH entries up to the one `program` was found in are all absolute."""
    entry = program.rpartition("/")[0]
    for candidate in path.split(":"):
        if not candidate.startswith("/"):
            return False
        if candidate == entry:
            return True
    return False


@functools.cache
def _bash_start_dir(pwd: str | None) -> str:
    """The directory bash starts in, as it names it: an inherited PWD that is this process's
    directory, else the physical path (it becomes OLDPWD after the `cd`)."""
    here = os.getcwd()
    if pwd and os.path.isabs(pwd):
        try:
            if os.path.samefile(pwd, here):
                return pwd
        except OSError:
            pass
    return here


def spawn_direct(
    words: list[str], *, cwd: str, env: Mapping[str, str], log_path: str, append: bool
) -> int | None:
    """Start the program of `words` in `cwd` with stdout+stderr to `log_path`, in its own
    session, with the environment bash would give it. Returns the pid, or None when bash
    must do it (program not found, not executable by the kernel, `cwd` unusable, a variable
    of `env` that changes what bash does: see bash_adds_to).

    The process directory is changed around the spawn (posix_spawn has no chdir before
    Python 3.13): the runner is single-threaded and uses absolute paths, so nothing else
    sees it."""
    if bash_adds_to(words, env):
        return None
    path = env.get("PATH", "")
    program = _lookup(words[0], path, cwd)
    if program is None:
        return None
    child_env = dict(env)
    child_env["OLDPWD"] = _bash_start_dir(env.get("PWD"))
    child_env["PWD"] = cwd
    child_env["SHLVL"] = shlvl_after_bash(env.get("SHLVL"))
    child_env["_"] = program
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    try:
        home = os.open(".", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        os.chdir(cwd)
        try:
            return os.posix_spawn(
                program, words, child_env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_OPEN, 1, log_path, flags, 0o666),
                    (os.POSIX_SPAWN_DUP2, 1, 2),
                ],
                setsid=True, setsigdef=_RESTORED_SIGNALS,
            )
        finally:
            os.fchdir(home)
    except OSError:
        # ENOEXEC (a script without #!), EACCES, a vanished program or dir: bash decides
        _FOUND.pop((words[0], path), None)
        return None
    finally:
        os.close(home)


def spawn_bash(command: str, *, cwd: str, env: Mapping[str, str], redirect: str) -> int:
    """`/bin/bash -c` running `command` in `cwd` with its output sent by `redirect`
    (`> S.log` or `>> mt_launch.log`), in its own session.

    The redirection is applied with `exec` before the command is read, so bash's own
    complaints about the command (syntax errors) land in the log too, and the supervisor
    opens no file per step."""
    script = f"cd -- {shlex.quote(cwd)} || exit 1\nexec {redirect} 2>&1\n{command}"
    return os.posix_spawn(
        "/bin/bash", ["/bin/bash", "-c", script], env,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True, setsigdef=_RESTORED_SIGNALS,
    )
