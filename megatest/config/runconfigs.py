"""`runconfigs.config`: per-target variables (reference section 3).

`[default]` holds variables for every target, `[a/b/c]` those of one target (the target
wins), `[a/%/c]` and `[/regex/]` sections fold into matching sections. The target section
is created before reading (runconfig:read), so pattern sections reach it wherever they are.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from megatest.config.patterns import patt_list_match
from megatest.config.reader import Config, Diagnostic, read_config
from megatest.errors import UsageError

RUNCONFIGS_NAME = "runconfigs.config"


@dataclass
class RunConfigs:
    """The `default` and target sections of runconfigs.config for one target."""

    path: Path
    target: str
    raw: Config | None  # None when the area has no runconfigs.config (only a warning)

    @property
    def exists(self) -> bool:
        return self.raw is not None

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.raw.diagnostics if self.raw is not None else []

    def section(self, name: str) -> dict[str, str]:
        if self.raw is None:
            return {}
        return {k: v for k, v in self.raw.section(name).items() if isinstance(v, str)}

    def variables(self) -> list[tuple[str, str]]:
        """What the runner exports, in order: `[default]` then `[<target>]`, file order
        each. A key in both appears twice; the later (target) one wins when exported."""
        return [*self.section("default").items(), *self.section(self.target).items()]

    def merged(self) -> dict[str, str]:
        """The effective variables: default overridden by target (export order kept)."""
        out: dict[str, str] = {}
        for key, value in self.variables():
            out.pop(key, None)
            out[key] = value
        return out

    def lookup(self, key: str) -> str | None:
        """Target section first, then default (`#{rget}` / TESTPATT lookup)."""
        target_value = self.section(self.target).get(key)
        return target_value if target_value is not None else self.section("default").get(key)

    def resolve_testpatt(self, testpatt: str | None, modepatt: str | None = None) -> str | None:
        """The test pattern a run uses (common:args-get-testpatt).

        `modepatt KEY`: the value of KEY here, mandatory (None when absent: nothing to
        run). Otherwise `testpatt`, default `%`; if that is `%` and TESTPATT is defined,
        TESTPATT.
        """
        if modepatt is not None:
            return self.lookup(modepatt)
        given = testpatt if testpatt is not None else "%"
        if given == "%":
            configured = self.lookup("TESTPATT")
            if configured is not None:
                return configured
        return given


def runconfigs_path(toppath: str | os.PathLike[str]) -> Path:
    # absolute: the reader resolves a relative path against `cwd`, not the process cwd
    return Path(toppath).resolve() / RUNCONFIGS_NAME


def read_runconfigs(
    toppath: str | os.PathLike[str],
    target: str,
    *,
    env: MutableMapping[str, str] | None = None,
    reqtarg: bool = False,
) -> RunConfigs:
    """runconfig:read for `target`: target section pre-created, sections (default, target),
    allow-system on. `env` should be the megatest.config read's env (field values exported);
    keys without a value are exported into it. With `reqtarg`, a section named exactly
    `target` must exist in a plain read first, else UsageError."""
    top = Path(toppath).resolve()
    path = runconfigs_path(top)
    env = dict(os.environ) if env is None else env
    if reqtarg:
        plain = read_config(path, allow=True, env=dict(env), cwd=str(top), toppath=str(top))
        if plain is None or not plain.has_section(target):
            raise UsageError(f"[{target}] not found in {path}")
    raw = read_config(
        path,
        allow=True,
        sections=["default", target],
        precreate=[target],
        env=env,
        cwd=str(top),
        toppath=str(top),
        target=target,
    )
    return RunConfigs(path=path, target=target, raw=raw)


def list_targets(
    toppath: str | os.PathLike[str],
    patterns: str | None = None,
    *,
    env: MutableMapping[str, str] | None = None,
) -> tuple[list[str], list[Diagnostic]]:
    """Every section name of a plain read (`default` included), sorted, filtered by the
    comma/`%` `patterns` (patt-list-match: case-sensitive, full match)."""
    top = Path(toppath).resolve()
    raw = read_config(
        runconfigs_path(top),
        allow=True,
        env=dict(os.environ) if env is None else env,
        cwd=str(top),
        toppath=str(top),
    )
    if raw is None:
        return [], []
    names = sorted(raw.sections())
    return [n for n in names if patt_list_match(n, patterns)], raw.diagnostics
