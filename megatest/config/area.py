"""A Megatest area: where it is, and its configs read together as a run reads them.

`open_area` does what launch:setup does before a run (reference 2.1, run engine 1.2):
megatest.config with the target's fields exported, then runconfigs.config for the target.
Which tests a run selects is `megatest.engine.selection`'s job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from megatest.errors import UsageError

if TYPE_CHECKING:  # the reader loads on first use, so `find_area` stays cheap to import
    from megatest.config.env_override import EnvOverrideSource
    from megatest.config.megatest_config import MegatestConfig
    from megatest.config.reader import Diagnostic
    from megatest.config.runconfigs import RunConfigs
    from megatest.config.testconfig import TestConfig

CONFIG_NAME = "megatest.config"


def find_area(start: Path | None = None, config_name: str = CONFIG_NAME) -> Path | None:
    """Walk up from `start` (default: cwd) to the first folder holding `config_name`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / config_name).is_file():
            return folder
    return None


def locate_area(
    area: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    config_name: str = CONFIG_NAME,
) -> Path:
    """The area to use: `area` if given, else $MT_RUN_AREA_HOME, else walk up from cwd."""
    env = os.environ if env is None else env
    chosen = Path(area) if area is not None else None
    if chosen is None and env.get("MT_RUN_AREA_HOME"):
        chosen = Path(env["MT_RUN_AREA_HOME"])
    if chosen is None:
        found = find_area(config_name=config_name)
        if found is None:
            raise UsageError(
                f"no {config_name} in {Path.cwd()} or any parent folder; use --area DIR"
            )
        return found
    chosen = chosen.expanduser().resolve()
    if not (chosen / config_name).is_file():
        raise UsageError(f"{chosen}: not a Megatest area (no {config_name})")
    return chosen


@dataclass
class Area:
    """megatest.config and, with a target, runconfigs.config, read as a run reads them."""

    toppath: Path
    config: MegatestConfig
    env: dict[str, str]  # after the reads: env-override, fields, valueless keys exported
    target: str | None = None
    runconfigs: RunConfigs | None = None
    # the environment before the reads: a test's own read of megatest.config starts from it
    start_env: dict[str, str] | None = None
    config_name: str = CONFIG_NAME
    _test_dirs: dict[str, Path] | None = field(default=None, init=False, repr=False)
    _env_override: EnvOverrideSource | None = field(default=None, init=False, repr=False)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        out = list(self.config.diagnostics)
        if self.runconfigs is not None:
            out += self.runconfigs.diagnostics
        return out

    def keyvals(self) -> dict[str, str]:
        return self.config.keyvals(self.target) if self.target is not None else {}

    def run_env(self, runname: str | None = None) -> dict[str, str]:
        """The runner's environment (runs:set-megatest-env-vars, setup-env-defaults):
        MT_LINKTREE, the fields, [env-override], MT_TARGET, MT_RUNNAME, MT_RUN_AREA_HOME,
        then the runconfigs variables, default then target, raw (not shell-evaluated)."""
        env = dict(self.env)
        if self.config.setup.linktree is not None:
            env["MT_LINKTREE"] = self.config.setup.linktree
        env.update(self.keyvals())
        env.update(self.config.env_override)
        if self.target is not None:
            env["MT_TARGET"] = self.target
        if runname is not None:
            env["MT_RUNNAME"] = runname
        env["MT_RUN_AREA_HOME"] = str(self.toppath)
        if self.runconfigs is not None:
            env.update(self.runconfigs.variables())
        return env

    def env_override_source(self) -> EnvOverrideSource:
        """How a test gets its `[env-override]` values (megatest.config read again in its
        environment, when the section's text says the values can differ); made once."""
        if self._env_override is None:
            from megatest.config.env_override import EnvOverrideSource, scan_env_override

            self._env_override = EnvOverrideSource(
                toppath=str(self.toppath), config_name=self.config_name, target=self.target,
                start_env=self.start_env if self.start_env is not None else self.env,
                runner_env=self.env,
                text=scan_env_override(str(self.toppath / self.config_name)),
            )
        return self._env_override

    def test_dirs(self) -> dict[str, Path]:
        """name -> test dir (scanned once per Area: runs read many testconfigs)."""
        if self._test_dirs is None:
            self._test_dirs = self.config.test_dirs()
        return self._test_dirs

    def read_test(self, name: str, **kwargs: object) -> TestConfig:
        """Read one test's testconfig (see testconfig.read_testconfig for kwargs); the
        env defaults to a copy of `run_env()`."""
        from megatest.config.testconfig import read_testconfig

        dirs = self.test_dirs()
        if name not in dirs:
            raise UsageError(f"no test named {name!r} in {self.toppath}")
        # built only when not given (run_env copies the env; the name list would be rebuilt
        # and searched linearly per read); the dict answers `in` for the same names
        if "env" not in kwargs:
            kwargs["env"] = self.run_env()
        kwargs.setdefault("known_tests", dirs)
        kwargs.setdefault("target", self.target)
        return read_testconfig(dirs[name], toppath=self.toppath, **kwargs)  # type: ignore[arg-type]


def open_area(
    toppath: str | os.PathLike[str] | None = None,
    *,
    target: str | None = None,
    reqtarg: bool = False,
    env: MutableMapping[str, str] | None = None,
    config_name: str = CONFIG_NAME,
) -> Area:
    """Locate and read the area. With `target`: it is validated against `[fields]`
    (UsageError naming the fields), its field values exported, runconfigs read for it
    (`reqtarg`: the section must exist exactly, else UsageError)."""
    from megatest.config.megatest_config import read_megatest_config
    from megatest.config.runconfigs import read_runconfigs

    top = locate_area(toppath, env, config_name)
    env = dict(os.environ) if env is None else env
    start_env = dict(env)
    config = read_megatest_config(top, target=target, env=env, config_name=config_name)
    runconfigs = None
    if target is not None:
        keyvals = config.keyvals(target)
        env.update(keyvals)  # also when [fields] was the last section (the hook never ran)
        runconfigs = read_runconfigs(top, target, env=env, reqtarg=reqtarg)
    return Area(top, config, dict(env), target, runconfigs, start_env, config_name)
