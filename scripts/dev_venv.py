"""Make the development venv run megatest from this source tree (what `make venv` calls).

    .venv/bin/python scripts/dev_venv.py [EXTRA...]

Installs the project's dependencies (and the named extras') with pip, then puts the source
tree on the venv's import path with a plain `.pth` file and writes the `[project.scripts]`
commands. This is what setuptools' `editable_mode=compat` did, which setuptools is removing;
its `lenient` mode installs an import hook that costs every Python start 15-30 ms (a test
helper is a process per call), and its `strict` mode does not see a module added after the
install (see docs/decisions.md, Packaging and distribution).
Only the standard library is used: this runs in a venv that has nothing else yet.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PTH_NAME = "megatest-source-tree.pth"


def requirements(pyproject: dict, extras: list[str]) -> list[str]:
    project = pyproject["project"]
    found = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"dev_venv: pyproject.toml has no extra '{extra}'")
        found += optional[extra]
    return found


def console_script(python: str, target: str) -> str:
    """The text of a command that runs `module:function` with the venv's interpreter."""
    module, _, function = target.partition(":")
    return (f"#!{python}\nimport sys\nfrom {module} import {function}\n"
            f"if __name__ == '__main__':\n    sys.exit({function}())\n")


def write_commands(pyproject: dict, bindir: Path, python: str) -> list[Path]:
    written = []
    for name, target in pyproject["project"].get("scripts", {}).items():
        path = bindir / name
        path.write_text(console_script(python, target))
        path.chmod(0o755)
        written.append(path)
    return written


def write_pth(site_packages: Path, source_root: Path) -> Path:
    path = site_packages / PTH_NAME
    path.write_text(f"{source_root}\n")
    return path


def main(argv: list[str]) -> int:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    needed = requirements(pyproject, argv)
    if needed:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *needed], check=True)
    write_pth(Path(sysconfig.get_paths()["purelib"]), ROOT)
    write_commands(pyproject, Path(sysconfig.get_paths()["scripts"]), sys.executable)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
