"""Property: every command the direct start takes is one `bash -c` would exec as is, with the
same arguments. bash itself is the oracle: each accepted command runs under `/bin/bash -c`
with a probe program under its first word's name, and the probe must run with the words
plain_command gave."""

from __future__ import annotations

import shlex
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from megatest.executor.spawn import _BASH_OWN, bash_adds_to, plain_command, spawn_direct

# writes its arguments, NUL-separated, to $OUT (its name and place vary with the command;
# `#!/bin/sh -` so that a name such as `-/x`, passed on by the kernel, is not an option)
PROBE = '#!/bin/sh -\nfor a in "$@"; do printf "%s\\0" "$a"; done > "$OUT"\n'
SAFE = "abcxyzABZ019_./:,=+@%-"
# everything a shell might give a meaning to, and a few plain characters
ODD = "#%=~!{}[]*?$'\"\\;&|<>()`^\n "


def _words_bash_runs(command: str) -> list[str] | None:
    """The arguments the probe named like the command's first word got under `bash -c`,
    or None when bash did not run it."""
    words = command.split()
    first = words[0] if words else ""
    with tempfile.TemporaryDirectory() as tmp:
        work, bindir = Path(tmp, "work"), Path(tmp, "bin")
        work.mkdir()
        bindir.mkdir()
        # the probe where bash's lookup of the first word finds it: a path is taken from the
        # run directory, a bare name from PATH
        place = work / first if "/" in first else bindir / first
        place.parent.mkdir(parents=True, exist_ok=True)
        place.write_text(PROBE)
        place.chmod(0o755)
        out = Path(tmp, "argv")
        # `--`: the step's text never comes first in our bash script (a `cd` does)
        subprocess.run(["/bin/bash", "-c", "--", command], cwd=work, env={"PATH": str(bindir), "OUT": str(out)},
                       stdin=subprocess.DEVNULL, capture_output=True, check=False)
        if not out.exists():
            return None
        return out.read_bytes().decode().split("\0")[:-1]


def _creatable(first: str) -> bool:
    """A first word whose probe can be made inside the test's own folders."""
    parts = first.split("/")
    return not first.startswith("/") and ".." not in parts and parts[-1] not in ("", ".")


words = st.text(SAFE, min_size=1, max_size=6) | st.text(SAFE + ODD, min_size=1, max_size=6)
firsts = words | st.sampled_from(sorted(_BASH_OWN | {"true", "false", "%1", "%job", "A=1"}))
spacing = st.sampled_from([" ", "\t", "  ", " \t"])
edges = st.sampled_from(["", " ", "\t"])


@st.composite
def commands(draw: st.DrawFn) -> str:
    first = draw(firsts)
    rest = draw(st.lists(words, max_size=4))
    text = first
    for word in rest:
        text += draw(spacing) + word
    return draw(edges) + text + draw(edges)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands())
@example("%1")
@example("%job arg")
@example("grep -v #f")
@example("x #f")
@example("true --help")
@example("false --version")
@example("A=1 prog")
@example("ok a=b --c=d e,f g:h i@j k%l")
def test_a_command_started_directly_is_one_bash_would_exec_with_the_same_words(command):
    words = plain_command(command)
    if words is None:
        return  # bash runs it: nothing to compare
    if words[0] in ("true", "false"):
        # the builtin runs, not the program: the same only without arguments
        assert words == [words[0]]
        return
    if not _creatable(words[0]):
        return
    assert _words_bash_runs(command) == words[1:], command


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(SAFE + ODD, min_size=1, max_size=12))
@example("%runit")
@example("run#1.sh")
@example("A=b.sh")
def test_a_runscript_name_quoted_for_bash_is_started_as_bash_would(name):
    """The runscript is handed over shell-quoted; what the direct start takes of it must be
    what bash does with the quoted text."""
    command = shlex.quote(name)
    words = plain_command(command)
    if words is None or not _creatable(words[0]):
        return
    assert words == [name]
    assert _words_bash_runs(command) == [], command


def test_every_bash_builtin_and_keyword_keeps_the_bash_path():
    names = subprocess.run(["/bin/bash", "-c", "compgen -b; compgen -k"], capture_output=True,
                           text=True, check=True).stdout.split()
    assert set(names) - {"true", "false"} <= _BASH_OWN | {"[", "[[", "]]"}
    for name in names:
        if name not in ("true", "false"):
            assert plain_command(f"{name} x") is None, name


@pytest.mark.parametrize("variable,value", [
    ("BASH_ENV", "/some/file"), ("SHELLOPTS", "xtrace"), ("BASHOPTS", "extglob"),
    ("POSIXLY_CORRECT", "1"), ("EXECIGNORE", "*/tool"), ("BASH_FUNC_tool%%", "() { :; }"),
])
def test_a_variable_that_changes_what_bash_does_keeps_the_bash_path(tmp_path, variable, value):
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", variable: value}
    assert bash_adds_to(["tool"], env)
    assert spawn_direct(["tool"], cwd=str(tmp_path), env=env, log_path=str(tmp_path / "x.log"),
                        append=False) is None
    assert not bash_adds_to(["tool"], {"PATH": "/bin", "BASH_FUNC_other%%": "() { :; }"})

