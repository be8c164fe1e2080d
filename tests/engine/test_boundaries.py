"""The seams hold: no engine module names a launcher implementation, and nothing outside the
store builds or imports a concrete store (it asks megatest.store.open_store)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "megatest"
CONCRETE_STORE = ("megatest.store.api", "megatest.store.lean", "megatest.store.testwrite",
                  "megatest.store.runlock", "megatest.store.sqlite_conn")
LAUNCHER_IMPLEMENTATIONS = ("megatest.launch.local",)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


def test_no_engine_module_names_a_launcher_implementation():
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(name for name in _imports(path)
                                               if name.startswith(LAUNCHER_IMPLEMENTATIONS))
        for path in _modules("engine")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_store_package_imports_a_concrete_store():
    outside = [p for p in PACKAGE.rglob("*.py") if "store" not in p.relative_to(PACKAGE).parts[:1]]
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(name for name in _imports(path)
                                               if name.startswith(CONCRETE_STORE))
        for path in outside
    }
    assert outside and {k: v for k, v in offenders.items() if v} == {}
