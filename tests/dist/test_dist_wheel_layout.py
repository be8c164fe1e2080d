"""What `pip install .` puts in a wheel: every megatest package, and the migrations.

pyproject.toml lists the packages by hand, because the migrations' folder (the top-level
alembic/) is mapped into the package from outside megatest/, which `find` cannot do. A package
left out of that list would be missing from every non-editable install; a tree left out would
make its databases impossible to migrate.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from megatest.store import migrations

# the project's root, named here: another tests folder's conftest may be the one
# `import conftest` finds, depending on what was collected first
ROOT = Path(__file__).resolve().parents[2]

SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
SHIPPED = f"megatest.store.{migrations.SHIPPED_NAME}"


def test_every_megatest_package_is_in_the_wheel():
    on_disk = {".".join(init.parent.relative_to(ROOT).parts)
               for init in (ROOT / "megatest").rglob("__init__.py")}
    missing = on_disk - set(SETUPTOOLS["packages"])
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"


def test_the_wheel_carries_the_top_level_migrations_where_megatest_looks():
    assert SETUPTOOLS["package-dir"] == {SHIPPED: "alembic"}
    listed = set(SETUPTOOLS["packages"])
    assert SHIPPED in listed  # env.py
    for tree in migrations.TREES:
        assert f"{SHIPPED}.versions.{tree}" in listed
        assert any((ROOT / "alembic" / "versions" / tree).glob(f"{tree}_*.py"))
    # A tree folder not listed above would be left out of the wheel.
    trees = {p.name for p in (ROOT / "alembic" / "versions").iterdir() if p.is_dir()}
    assert trees - {"__pycache__"} == set(migrations.TREES)
