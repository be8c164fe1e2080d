"""Helpers for driving the real console script."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _megatest() -> list[str]:
    script = Path(sys.executable).parent / "megatest"
    return [str(script)] if script.exists() else [sys.executable, "-m", "megatest"]


@pytest.fixture
def megatest(tmp_path):
    """Run `megatest ARGS` in a clean environment (no MT_* variables); cwd = tmp_path."""

    def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("MT_")}
        clean.update(env)
        return subprocess.run(
            [*_megatest(), *args],
            cwd=cwd or tmp_path,
            env=clean,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
