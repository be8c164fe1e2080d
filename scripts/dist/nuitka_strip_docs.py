"""Nuitka user plugin: drop the docstrings of the libraries the binary ships as bytecode.

SQLAlchemy, pydantic, alembic and the standard library carry megabytes of docstrings that the
binary never shows (4.3 MB of its 20 MB of bytecode). Python's own switch for this (-OO,
Nuitka's no_docstrings) cannot be used: it applies to every module, and Typer builds
megatest's --help from megatest's docstrings. So every module except those in KEPT loses
them, as under -OO: __doc__ becomes None, which these libraries support (`make check-dist`
runs migrations, a run and queries on the result).

Each docstring literal is replaced by `...` (a module's by nothing) padded with newlines in the
source Nuitka reads, so line numbers stay right in tracebacks. Used with --user-plugin=scripts/dist/nuitka_strip_docs.py.
"""

from __future__ import annotations

import ast
import sys

if "nuitka.plugins.PluginBase" in sys.modules:  # loaded by Nuitka as a user plugin
    from nuitka.plugins.PluginBase import NuitkaPluginBase
else:  # imported by the tests, which need neither Nuitka nor its import side effects
    NuitkaPluginBase = object

# megatest's docstrings are its help texts; Typer's are kept too, as they cost little.
KEPT = ("megatest", "typer", "__main__", "__parents_main__")

_DOC_HOLDERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def docstring_nodes(tree: ast.AST) -> list[tuple[ast.Constant, bool]]:
    """The string constants Python would take as docstrings, each with "is the module's"."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, _DOC_HOLDERS) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                found.append((first.value, isinstance(node, ast.Module)))
    return found


def strip_docstrings(source: str) -> str:
    """`source` with each docstring replaced by `...` on as many lines; unchanged if unparsable."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    lines = source.encode("utf-8").splitlines(keepends=True)
    # Last first, so earlier positions stay valid while editing.
    nodes = sorted(docstring_nodes(tree), key=lambda n: (n[0].lineno, n[0].col_offset))
    for node, of_module in reversed(nodes):
        first, last = node.lineno - 1, node.end_lineno - 1
        head = lines[first][: node.col_offset]
        tail = lines[last][node.end_col_offset:]
        if tail.strip() and not tail.lstrip().startswith(b"#"):
            continue  # something follows on the same line (`"doc"; x = 1`): leave it alone
        # A module's goes entirely (`from __future__` must stay first); a function or class
        # body keeps `...` in its place, which may be all the body there is.
        keep = b"" if of_module else b"..."
        replacement = head + keep + b"\n" * (last - first) + b"\n"
        lines[first : last + 1] = [replacement]
    return b"".join(lines).decode("utf-8")


class NuitkaPluginStripDocs(NuitkaPluginBase):
    plugin_name = "megatest-strip-docs"
    plugin_desc = "Drop docstrings of the third-party packages megatest ships as bytecode."

    def onModuleSourceCode(self, module_name, source_filename, source_code):  # noqa: N802
        if module_name.hasOneOfNamespaces(*KEPT):
            return source_code
        return strip_docstrings(source_code)
