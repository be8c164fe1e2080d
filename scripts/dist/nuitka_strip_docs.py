"""Nuitka user plugin: drop docstrings from the third-party libraries shipped as bytecode.

SQLAlchemy, pydantic and alembic carry megabytes of docstrings that the binary never shows
(about a quarter of their bytecode). Python's own switch for this (-OO, Nuitka's
no_docstrings) cannot be used: it applies to every module, and Typer builds megatest's --help
from megatest's docstrings. So only the packages named in STRIPPED lose theirs, as under -OO:
their __doc__ becomes None, which these libraries support (checked by `make check-dist`).

Each docstring literal is replaced by `...` padded with newlines in the source Nuitka reads,
so line numbers stay right in tracebacks. Used with --user-plugin=scripts/dist/nuitka_strip_docs.py.
"""

from __future__ import annotations

import ast

from nuitka.plugins.PluginBase import NuitkaPluginBase

STRIPPED = ("sqlalchemy", "alembic", "pydantic", "pydantic_core", "mako", "typing_extensions")

_DOC_HOLDERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def docstring_nodes(tree: ast.AST) -> list[ast.Constant]:
    """The string constants that Python would take as docstrings."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, _DOC_HOLDERS) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                found.append(first.value)
    return found


def strip_docstrings(source: str) -> str:
    """`source` with each docstring replaced by `...` on as many lines; unchanged if unparsable."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.encode("utf-8").splitlines(keepends=True)
    # Last first, so earlier positions stay valid while editing.
    for node in sorted(docstring_nodes(tree), key=lambda n: (n.lineno, n.col_offset), reverse=True):
        first, last = node.lineno - 1, node.end_lineno - 1
        head = lines[first][: node.col_offset]
        tail = lines[last][node.end_col_offset:]
        if tail.strip() and not tail.lstrip().startswith(b"#"):
            continue  # something follows on the same line (`"doc"; x = 1`): leave it alone
        replacement = head + b"..." + b"\n" * (last - first) + b"\n"
        lines[first : last + 1] = [replacement]
    return b"".join(lines).decode("utf-8")


class NuitkaPluginStripDocs(NuitkaPluginBase):
    plugin_name = "megatest-strip-docs"
    plugin_desc = "Drop docstrings of the third-party packages megatest ships as bytecode."

    def onModuleSourceCode(self, module_name, source_filename, source_code):  # noqa: N802
        if module_name.hasOneOfNamespaces(*STRIPPED):
            return strip_docstrings(source_code)
        return source_code
