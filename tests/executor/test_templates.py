"""Command templates: a value reaches the command as exactly itself, never as shell syntax.

Every test runs the filled template through the real /bin/sh; the command is a small Python
script that writes its arguments to args.json, and each hostile value tries to create a
marker file.
"""

import json
import os
import shlex
import subprocess
import sys

import pytest

from megatest.executor.templates import fill_template

HOSTILE = [
    "r;touch {m};",
    "$(touch {m})",
    "`touch {m}`",
    "a'b\"c'; touch {m}; '",
    "x\" ; touch {m} ; \"",
    "two  spaces and a tab\there",
    "*",
    "line1\ntouch {m}\nline3",
    "back\\slash\\ $(touch {m})",
    "$HOME ${PATH} $1 $$",
    "-n",
    "",
    "{m} && touch {m} || touch {m}",
]

CONTEXTS = {
    "plain": "ARGS VALUE",
    "double": 'ARGS "VALUE"',
    "single": "ARGS 'VALUE'",
    "plain, next to text": "ARGS pre-VALUE-post",
    "double, next to text": 'ARGS "pre VALUE post"',
    "single, next to text": "ARGS 'pre VALUE post'",
    "escaped first character": "ARGS \\VALUE",
    "inside $(...)": 'ARGS "$(printf %s VALUE)"',
    "after a comment with a quote": "ARGS VALUE # the author's note",
}


def expected(context: str, value: str) -> list[str]:
    if "next to text" in context:
        sep = "-" if context.startswith("plain") else " "
        return [f"pre{sep}{value}{sep}post"]
    if context == "inside $(...)":
        return [value.rstrip("\n")]  # what $(...) does to any output
    return [value]


@pytest.fixture
def sh(tmp_path):
    """Run a template filled with {"VALUE": value} in tmp_path; return the arguments it got."""
    script = tmp_path / "args.py"
    script.write_text(
        "import json, sys\n"
        "with open('args.json', 'w') as fh:\n"
        "    json.dump(sys.argv[1:], fh)\n"
    )
    base = {"PATH": os.environ["PATH"], "PY": sys.executable, "ARGS_PY": str(script)}

    def run(template: str, values: dict[str, str], *, readable: bool = False) -> list[str]:
        filled = fill_template(template.replace("ARGS", '"$PY" "$ARGS_PY"'), values)
        out = tmp_path / "args.json"
        out.unlink(missing_ok=True)
        if readable:  # the readable form, run as it is, does the same
            argv, env = ["/bin/sh", "-c", filled.display], base
        else:
            argv, env = filled.argv, filled.environ(base)
        proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, (filled, proc.stderr)
        return json.loads(out.read_text())

    return run


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("raw", HOSTILE)
def test_a_value_is_one_argument_with_no_side_effect(sh, tmp_path, context, raw):
    marker = tmp_path / "MARKER"
    value = raw.replace("{m}", str(marker))
    assert sh(CONTEXTS[context], {"VALUE": value}) == expected(context, value)
    assert not marker.exists()
    assert sh(CONTEXTS[context], {"VALUE": value}, readable=True) == expected(context, value)
    assert not marker.exists()


def test_the_value_never_appears_in_the_command_text(tmp_path):
    value = f"r;touch {tmp_path}/MARKER;"
    filled = fill_template("cp -r TEST_SRC_PATH/. 'TEST_TARG_PATH'", {
        "TEST_SRC_PATH": value, "TEST_TARG_PATH": value,
    })
    assert value not in filled.script
    assert filled.script == "cp -r \"${MT_TEMPLATE_1}\"/. ''\"${MT_TEMPLATE_2}\"''"
    assert filled.variables == {"MT_TEMPLATE_1": value, "MT_TEMPLATE_2": value}
    assert filled.display == f"cp -r {shlex.quote(value)}/. '{value}'"


def test_a_path_with_glob_characters_still_globs_the_files_inside(sh, tmp_path):
    src = tmp_path / "src dir*"
    src.mkdir()
    (src / "a").write_text("")
    (src / "b").write_text("")
    decoy = tmp_path / "src dirX"  # would match if the value's own `*` were a pattern
    decoy.mkdir()
    (decoy / "c").write_text("")
    assert sh("ARGS TEST_SRC_PATH/*", {"TEST_SRC_PATH": str(src)}) == [f"{src}/a", f"{src}/b"]


def test_longest_placeholder_first_and_values_are_not_filled_again(sh):
    assert sh("ARGS %f% %file% %file1%", {"%f%": "1", "%file%": "2", "%file1%": "3"}) == ["1", "2", "3"]
    # a value holding another placeholder's name stays as it is
    got = sh("ARGS TEST_SRC_PATH TEST_TARG_PATH",
             {"TEST_SRC_PATH": "/x/TEST_TARG_PATH", "TEST_TARG_PATH": "/y"})
    assert got == ["/x/TEST_TARG_PATH", "/y"]


def test_an_unused_placeholder_is_not_passed_and_a_repeated_one_is_one_variable():
    filled = fill_template("diff %file1% %file1%", {"%file1%": "a", "%waivername%": "w"})
    assert filled.variables == {"MT_TEMPLATE_1": "a"}
    assert filled.script == 'diff "${MT_TEMPLATE_1}" "${MT_TEMPLATE_1}"'


def test_a_template_without_placeholders_is_unchanged():
    filled = fill_template("false", {"TEST_SRC_PATH": "/s"})
    assert (filled.script, filled.display, filled.variables) == ("false", "false", {})


def test_the_environment_keeps_the_base_and_adds_the_values(monkeypatch):
    filled = fill_template("echo X", {"X": "v"})
    assert filled.environ({"A": "1"}) == {"A": "1", "MT_TEMPLATE_1": "v"}
    monkeypatch.setenv("MT_TEMPLATES_TEST", "here")
    assert filled.environ()["MT_TEMPLATES_TEST"] == "here"
