"""The build's docstring stripping: same behaviour as -OO for docstrings, same line numbers."""

from __future__ import annotations

import traceback

SOURCE = '''"""Module doc."""
from __future__ import annotations


class Widget:
    """Class doc,
    on two lines."""

    label = "not a docstring"

    def size(self):
        "Function doc."  # trailing comment
        return len(self.label)

    def only_doc(self):
        """Nothing but a docstring."""

    async def later(self):
        """Async doc."""
        return 1


def boom():
    """Doc."""
    raise ValueError("line 25")
'''


def run(code: str) -> dict:
    namespace: dict = {}
    exec(compile(code, "widget.py", "exec"), namespace)
    return namespace


def test_docstrings_become_none_and_code_still_runs(stripdocs):
    ns = run(stripdocs.strip_docstrings(SOURCE))
    widget = ns["Widget"]
    assert ns.get("__doc__") is None
    assert widget.__doc__ is None
    assert widget.size.__doc__ is None and widget.later.__doc__ is None
    assert widget().size() == len("not a docstring")
    assert widget().only_doc() is None


def test_line_numbers_are_kept(stripdocs):
    stripped = stripdocs.strip_docstrings(SOURCE)
    assert stripped.count("\n") == SOURCE.count("\n")
    ns = run(stripped)
    try:
        ns["boom"]()
    except ValueError as exc:
        line = traceback.extract_tb(exc.__traceback__)[-1].lineno
    assert line == 25 and SOURCE.splitlines()[24].strip() == 'raise ValueError("line 25")'


def test_same_line_code_and_bad_syntax_are_left_alone(stripdocs):
    shared_line = 'def f():\n    "doc"; x = 1\n    return x\n'
    assert stripdocs.strip_docstrings(shared_line) == shared_line
    broken = "def f(:\n    'doc'\n"
    assert stripdocs.strip_docstrings(broken) == broken


def test_megatest_keeps_its_docstrings(stripdocs):
    assert "megatest" in stripdocs.KEPT  # Typer's --help texts come from them
