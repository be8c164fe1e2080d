"""scripts/dev_venv.py: the development venv runs megatest from the source tree."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dev_venv():
    spec = importlib.util.spec_from_file_location("dist_dev_venv", ROOT / "scripts" / "dev_venv.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PYPROJECT = {"project": {"dependencies": ["typer>=0.24"],
                         "optional-dependencies": {"dev": ["pytest>=8"]},
                         "scripts": {"megatest": "megatest.cli.entry:run"}}}


def test_requirements_are_the_dependencies_and_the_named_extras(dev_venv):
    assert dev_venv.requirements(PYPROJECT, ["dev"]) == ["typer>=0.24", "pytest>=8"]
    with pytest.raises(SystemExit, match="no extra 'docs'"):
        dev_venv.requirements(PYPROJECT, ["docs"])


def test_the_written_command_runs_megatest(dev_venv, tmp_path):
    (command,) = dev_venv.write_commands(PYPROJECT, tmp_path, sys.executable)
    result = subprocess.run([str(command), "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("megatest ")


def test_the_path_file_names_the_source_tree(dev_venv, tmp_path):
    pth = dev_venv.write_pth(tmp_path, ROOT)
    assert pth.read_text().splitlines() == [str(ROOT)]
