"""Fixtures for the distribution checks: the scripts under scripts/dist are loaded by path
(they are build tools, not part of the megatest package)."""

from __future__ import annotations

import importlib.util
import os
import stat
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST_SCRIPTS = ROOT / "scripts" / "dist"
# distpkg imports its sibling modules (elfdeps, pkgdocs) as a script run from that folder does
if str(DIST_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(DIST_SCRIPTS))


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"dist_{name}", DIST_SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def distpkg() -> ModuleType:
    return load_script("distpkg")


@pytest.fixture(scope="session")
def elfdeps() -> ModuleType:
    return load_script("elfdeps")


@pytest.fixture(scope="session")
def pkgdocs() -> ModuleType:
    return load_script("pkgdocs")


@pytest.fixture(scope="session")
def manpage() -> ModuleType:
    return load_script("make_manpage")


@pytest.fixture
def fake_tools(tmp_path: Path) -> dict[str, str]:
    """Environment naming stand-in build tools, so configure's checks pass on any host."""
    bindir = tmp_path / "fake-tools"
    bindir.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for var, name in (("CC", "cc"), ("PATCHELF", "patchelf"), ("STRIP", "strip"), ("OBJDUMP", "objdump"),
                      ("DPKG_DEB", "dpkg-deb"),
                      ("RPMBUILD", "rpmbuild"), ("CCACHE", "ccache")):
        tool = bindir / name
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
        env[var] = str(tool)
    return env


@pytest.fixture(scope="session")
def stripdocs() -> ModuleType:
    return load_script("nuitka_strip_docs")
