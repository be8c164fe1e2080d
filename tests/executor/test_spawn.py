"""Starting a step: a plain command started directly must see what `bash -c` would give it."""

from __future__ import annotations

import os
import stat
import time

import pytest

from megatest.executor.spawn import (
    find_program,
    plain_command,
    shlvl_after_bash,
    spawn_bash,
    spawn_direct,
)

# A program that reports everything it was given: argv, directory, environment, signal
# dispositions and mask, open descriptors (fd 0-2 targets).
PROBE = """#!/bin/sh
printf 'argv:%s\\n' "$0" "$@"
printf 'cwd:%s\\n' "$(pwd -P)"
env | LC_ALL=C sort
grep -E '^(SigIgn|SigBlk)' /proc/self/status
for fd in 0 1 2; do printf "fd%s:%s\\n" "$fd" "$(readlink /proc/$$/fd/$fd)"; done
"""


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _run_both(tmp_path, command: str, env: dict[str, str]) -> tuple[str, str]:
    """The probe's report started directly and through bash, in the same directory."""
    words = plain_command(command)
    assert words is not None, command
    out = []
    for way in ("direct", "bash"):
        log = tmp_path / "work" / f"{way}.log"
        if way == "direct":
            pid = spawn_direct(words, cwd=str(tmp_path / "work"), env=env, log_path=str(log),
                               append=False)
            assert pid is not None
        else:
            pid = spawn_bash(command, cwd=str(tmp_path / "work"), env=env, redirect=f"> {log.name}")
        assert _wait(pid) == 0
        out.append(log.read_text().replace(f"{way}.log", "LOG"))
    return out[0], out[1]


@pytest.fixture
def probe_area(tmp_path):
    work = tmp_path / "work"
    bindir = tmp_path / "bin"
    work.mkdir()
    bindir.mkdir()
    for place in (work / "probe", bindir / "probe-on-path"):
        place.write_text(PROBE)
        place.chmod(0o755)
    env = {
        "PATH": f"{bindir}:/usr/bin:/bin:.",
        "HOME": str(tmp_path),
        "PWD": os.getcwd(),
        "SHLVL": "2",
        "MT_TEST_NAME": "a test",
        "ODD": "spaces and 'quotes'\nand a newline",
    }
    return tmp_path, env


@pytest.mark.parametrize("command", [
    "probe-on-path", "probe-on-path one two", "./probe --flag=x a,b", "probe", "\tprobe  -v ",
])
def test_a_plain_command_sees_what_bash_would_give_it(probe_area, command):
    tmp_path, env = probe_area
    direct, via_bash = _run_both(tmp_path, command, env)
    assert direct == via_bash
    assert "SHLVL=2\n" in direct and f"PWD={tmp_path / 'work'}\n" in direct


def test_shlvl_and_missing_pwd_match_bash(probe_area):
    tmp_path, env = probe_area
    for shlvl in (None, "x", "-4", "998", "999"):
        env2 = {k: v for k, v in env.items() if k not in ("SHLVL", "PWD")}
        if shlvl is not None:
            env2["SHLVL"] = shlvl
        direct, via_bash = _run_both(tmp_path, "probe", env2)
        assert direct == via_bash, shlvl


def test_shlvl_rule():
    assert [shlvl_after_bash(v) for v in (None, "", "3", " 7 ", "x", "-2", "999")] == [
        "0", "0", "3", "7", "0", "0", "0"]


@pytest.mark.parametrize("command,plain", [
    ("true", ["true"]),
    ("make -j4 all", ["make", "-j4", "all"]),
    ("./run_unit.sh --fast", ["./run_unit.sh", "--fast"]),
    ("echo hi", None),  # a builtin that differs from /bin/echo (--help, -e)
    ("exit 3", None),
    ("cd sub", None),
    ("A=1 make", None),
    ("make $TARGET", None),
    ("make 'all'", None),
    ("ls *.c", None),
    ("a; b", None),
    ("a | b", None),
    ("a > x", None),
    ("a && b", None),
    ("~/bin/x", None),
    ("x # comment", None),
    ("", None),
    ("run\\ it", None),
    ("(sub)", None),
])
def test_which_commands_are_plain(command, plain):
    assert plain_command(command) == plain


def test_find_program_follows_path_order_and_dot_entries(tmp_path):
    first, second, work = tmp_path / "first", tmp_path / "second", tmp_path / "work"
    for d in (first, second, work):
        d.mkdir()
    (first / "tool").write_text("#!/bin/sh\n")  # not executable: skipped, as bash does
    (second / "tool").write_text("#!/bin/sh\n")
    (second / "tool").chmod(0o755)
    (first / "dir").mkdir()  # a directory is not a program
    (work / "local").write_text("#!/bin/sh\n")
    (work / "local").chmod(0o755)
    path = f"{first}:{second}::"
    assert find_program("tool", path, str(work)) == f"{second}/tool"
    assert find_program("local", path, str(work)) == "./local"  # the empty entry is "."
    assert find_program("dir", path, str(work)) is None
    assert find_program("nothing", path, str(work)) is None
    assert find_program("./x", path, str(work)) == "./x"


def test_what_direct_start_cannot_do_is_left_to_bash(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    script = work / "noshebang"
    script.write_text("echo ran by a shell\n")
    script.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin:."}
    # a script without #! : the kernel will not exec it, bash runs it itself
    assert spawn_direct(["./noshebang"], cwd=str(work), env=env,
                        log_path=str(work / "x.log"), append=False) is None
    assert spawn_direct(["no-such-program"], cwd=str(work), env=env,
                        log_path=str(work / "x.log"), append=False) is None
    assert spawn_direct(["true"], cwd=str(tmp_path / "gone"), env=env,
                        log_path=str(work / "x.log"), append=False) is None
    pid = spawn_bash("./noshebang", cwd=str(work), env=env, redirect="> y.log")
    assert _wait(pid) == 0 and (work / "y.log").read_text() == "ran by a shell\n"
    assert os.getcwd() != str(work)  # the runner's own directory is back


def test_append_keeps_what_the_log_had(tmp_path):
    log = tmp_path / "mt_launch.log"
    log.write_text("before\n")
    pid = spawn_direct(["printf", "%s\\n", "after"], cwd=str(tmp_path),
                       env={"PATH": "/usr/bin:/bin"}, log_path=str(log), append=True)
    assert pid is not None and _wait(pid) == 0
    assert log.read_text() == "before\nafter\n"
    assert stat.S_IMODE(log.stat().st_mode) & 0o600 == 0o600


def test_a_broken_pipe_ends_a_pipeline_quietly(tmp_path):
    """Python ignores SIGPIPE; a test's processes must not inherit that (`yes | head`)."""
    pid = spawn_bash("yes | head -n 1", cwd=str(tmp_path), env={"PATH": "/usr/bin:/bin"},
                     redirect="> p.log")
    started = time.monotonic()
    assert _wait(pid) == 0
    assert (tmp_path / "p.log").read_text() == "y\n"
    assert time.monotonic() - started < 10



def _tool(where, text: str):
    where.mkdir(exist_ok=True)
    (where / "tool").write_text(f"#!/bin/sh\necho {text}\n")
    (where / "tool").chmod(0o755)


def _started(words, cwd, path, log) -> str:
    """What a step running `words` logs: started directly, or by bash when it must (as
    TestJob does)."""
    env = {"PATH": path}
    pid = spawn_direct(words, cwd=str(cwd), env=env, log_path=str(log), append=False)
    if pid is None:
        pid = spawn_bash(" ".join(words), cwd=str(cwd), env=env, redirect=f"> {log.name}")
    assert _wait(pid) == 0
    return log.read_text().strip()


def test_a_program_that_moved_is_found_in_its_new_place(tmp_path):
    first, second, work = tmp_path / "first", tmp_path / "second", tmp_path / "work"
    work.mkdir()
    _tool(first, "first")
    path = f"{first}:{second}"
    assert _started(["tool"], work, path, work / "a.log") == "first"
    (first / "tool").unlink()
    _tool(second, "second")
    assert _started(["tool"], work, path, work / "b.log") == "second"
    assert _started(["tool"], work, path, work / "c.log") == "second"


def test_a_relative_path_entry_is_searched_in_each_test_directory(tmp_path):
    bindir, one, two = tmp_path / "bin", tmp_path / "one", tmp_path / "two"
    one.mkdir()
    _tool(bindir, "on path")
    _tool(two, "in the test directory")
    path = f".:{bindir}"  # `.` comes first: what it finds depends on the directory
    assert _started(["tool"], one, path, one / "a.log") == "on path"
    assert _started(["tool"], two, path, two / "a.log") == "in the test directory"
