"""Shared helpers for the config-reader tests: a minimal env and reading text as a named file."""

from __future__ import annotations

import os

from megatest.config.reader import Config, read_config_text


def env_with(**extra: str) -> dict[str, str]:
    """A private environment: PATH (for shell directives) plus the given variables."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(extra)
    return env


def read_text(text: str, name: str, **kw) -> Config:
    kw.setdefault("env", env_with())
    return read_config_text(text, name, **kw)
