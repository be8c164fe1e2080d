"""Turning a launch decision into a LaunchSpec for the launcher (reference 1.12 steps 5-6,
2.1-2.2).

For one test or item: the `[skip]` check, then the executor's `prepare_test` (`--preclean`,
work area on the best disk, link tree, source copy, the test's environment and
`megatest.sh`/`.csh`) from the engine's config models, then what the launcher runs there.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from megatest.config.area import Area
from megatest.config.items import Item
from megatest.config.testconfig import TestConfig
from megatest.engine.request import RunRequest
from megatest.executor.environment import TestEnvInputs
from megatest.executor.prepare import PreparedTest, RunPreparer
from megatest.executor.reporter import TestRef
from megatest.executor.stepexit import drop_record
from megatest.executor.steps import StepSpec, write_step_files
from megatest.executor.waivers import PreviousRecord
from megatest.launch.base import LaunchSpec


def megatest_executable(configured: str | None) -> str:
    """MT_MEGATEST: `[setup] executable`, else this megatest's own program (megatest.selfpath:
    the console script beside the interpreter, or the standalone binary itself)."""
    if configured:
        return configured
    from megatest.selfpath import megatest_command

    command = megatest_command()
    return command[0] if len(command) == 1 else shlex.join(command)


@dataclass
class LaunchContext:
    """What every launch of one run shares."""

    area: Area
    request: RunRequest
    run_env: dict[str, str]
    megatest: str
    run_id: int
    test_dirs: dict[str, Path]
    # the run's shared caches for preparing work areas (disk choice, listings, env, snapshots)
    preparer: RunPreparer = field(default_factory=RunPreparer)

    @cached_property
    def run_inputs(self) -> dict[str, Any]:
        """The TestEnvInputs fields every test of the run shares, read from the config once."""
        setup = self.area.config.setup
        runconfigs = self.area.runconfigs
        return dict(
            toppath=str(self.area.toppath),
            area_name=setup.area_name,
            keyvals=list(self.area.keyvals().items()),
            runname=self.request.runname,
            linktree=setup.linktree or "",
            megatest=self.megatest,
            env_override=list(self.area.config.env_override.items()),
            env_override_source=self.area.env_override_source(),
            runconfig_default=list(runconfigs.section("default").items()) if runconfigs else [],
            runconfig_target=(
                list(runconfigs.section(self.request.target).items()) if runconfigs else []
            ),
            setvars=self.request.setvars,
        )

    @classmethod
    def build(cls, area: Area, request: RunRequest, run_id: int) -> LaunchContext:
        return cls(
            area=area,
            request=request,
            run_env=area.run_env(request.runname),
            megatest=megatest_executable(area.config.setup.executable),
            run_id=run_id,
            test_dirs=area.test_dirs(),
        )

    def read_test(self, name: str, mode: str = "plan", item: Item | None = None) -> TestConfig:
        """Read a testconfig in the run's environment (the test folders are listed once)."""
        from megatest.config.testconfig import read_testconfig

        return read_testconfig(
            self.test_dirs[name], toppath=self.area.toppath, mode=mode,  # type: ignore[arg-type]
            env=dict(self.run_env), target=self.request.target, runname=self.request.runname,
            item=item, known_tests=self.test_dirs,
        )


def skip_reason(
    config: TestConfig, full_name: str, running_elsewhere: Callable[[str], bool],
    last_completed: Callable[[str], float | None],
) -> str | None:
    """The `[skip]` rule that applies (only the first present key counts), or None."""
    rule = config.skip
    if rule is None:
        return None
    if rule.kind == "prevrunning":
        if running_elsewhere(full_name):
            return f"Skipping due to previous test {full_name} still running"
        return None
    if rule.kind == "fileexists":
        if rule.path is not None and rule.path.exists():
            return f"Skipping due to existance of file {rule.value}"
        return None
    if rule.kind == "rundelay" and rule.seconds:
        if running_elsewhere(full_name):
            return f"Skipping due to previous test {full_name} still running"
        last = last_completed(full_name)
        if last is not None and time.time() - last < rule.seconds:
            return f"Skipping due to previous test run less than {rule.value} ago"
    return None


def launch_config(ctx: LaunchContext, plan_config: TestConfig, item: Item | None) -> TestConfig:
    """The testconfig as the launch reads it: shell calls run, item variables set.

    A config with no deferred value reads the same either way for a plain test, and for an
    item too when nothing in it depends on the environment (no `#{...}`, [system],
    [include], [scriptinc]: Config.dynamic), so the planning read is reused (this keeps big
    runs cheap).
    """
    deferred = any(callable(v) for s in plan_config.raw.data.values() for v in s.values())
    if not deferred and (item is None or not plan_config.raw.dynamic):
        return plan_config
    return ctx.read_test(plan_config.name, mode="launch", item=item)


def prepare_work(ctx: LaunchContext, config: TestConfig, ref: TestRef, item: Item | None) -> PreparedTest:
    """The work area, environment and snapshots of one test/item (the executor's prepare_test).

    Only files and directories are touched, nothing of the runner's state, so the driver has
    this done by its forked preparer while its loop goes on with other tests. The step files
    (`S.logpro` from `[logpro]`, `Makefile.ezsteps`) are written here too.
    """
    setup = ctx.area.config.setup
    inputs = _env_inputs(ctx, config, ref, item)
    # prepare_test with the run's preparer, called directly (this runs for every test)
    prepared = ctx.preparer.prepare(
        inputs,
        disks=config.disks if config.disks is not None else ctx.area.config.disks,
        test_src_dir=str(config.test_dir),
        minspace_kb=int(setup.minspace),  # 0 means no minimum (the default is 10000)
        free_space_script=setup.free_space_script,
        testcopycmd=setup.testcopycmd,
        preclean=ctx.request.cleans,
    )
    write_step_files(prepared.work_area.run_dir_str, step_specs(config),
                     first_log=not config.runscript)
    # a record a dead runner's keeper left here is about an earlier life of this directory
    drop_record(prepared.work_area.real_dir_str)
    return prepared


def resume_work(ctx: LaunchContext, config: TestConfig, ref: TestRef, item: Item | None,
                link_dir: str, real_dir: str) -> PreparedTest:
    """The work area a dead runner made for this test, as it is (its step files and the
    logs of the steps it ran are kept), with the environment its steps had."""
    from megatest.executor.environment import build_test_env
    from megatest.executor.workarea import WorkArea

    work_area = WorkArea(real_dir, link_dir if link_dir and link_dir != real_dir else None, None)
    inputs = _env_inputs(ctx, config, ref, item).with_run_dir(work_area.run_dir_str)
    env = build_test_env(inputs, cwd=real_dir)
    snapshots = (str(Path(real_dir) / "megatest.sh"), str(Path(real_dir) / "megatest.csh"))
    return PreparedTest(work_area, env, snapshots)


def _env_inputs(ctx: LaunchContext, config: TestConfig, ref: TestRef,
                item: Item | None) -> TestEnvInputs:
    overrides = config.pre_launch_env_overrides
    return TestEnvInputs(
        # [pre-launch-env-overrides] are exported around the launch: the test inherits them
        base_env={**ctx.area.env, **overrides} if overrides else ctx.area.env,
        test_name=ref.test_name,
        run_dir="",  # filled in by prepare_test
        item_vars=list(item.data) if item is not None else [],
        extra={"MT_RUN_ID": str(ctx.run_id), "MT_TEST_ID": str(ref.test_id)},
        **ctx.run_inputs,
    )


def step_specs(config: TestConfig) -> list[StepSpec]:
    """The test's `[ezsteps]`, each with its inline `[logpro]` rules."""
    return [StepSpec(s.name, s.command, config.logpro_for(s.name)) for s in config.ezsteps]


def launch_spec(
    ctx: LaunchContext,
    config: TestConfig,
    ref: TestRef,
    prepared: PreparedTest,
    previous: Callable[[TestRef], PreviousRecord | None] | None = None,
) -> LaunchSpec:
    """What the launcher runs in the prepared work area: the test's runscript and ezsteps,
    its runtime limit, triggers and waivers.

    `previous` finds the test's record in an earlier run of the target, for waiver
    propagation (reference 3.5) when the testconfig has `[waivers]`.
    """
    from megatest.executor.waivers import make_waiver_hook

    setup = ctx.area.config.setup
    runtimelim = config.runtimelim if config.runtimelim is not None else setup.runtimelim
    waiver_hook = None
    if previous is not None and config.raw.section("waivers"):
        waiver_hook = make_waiver_hook(
            _str_section(config, "waivers"),
            _str_section(config, "waiver_rules"),
            run_dir=prepared.work_area.run_dir_str,
            env=prepared.env,
            previous=previous,
        )
    return LaunchSpec(
        ref,
        prepared,
        steps=step_specs(config),
        runscript=config.runscript,
        test_src_dir=str(config.test_dir),
        runtimelim=runtimelim or None,
        triggers=config.triggers,
        waiver_hook=waiver_hook,
    )


def _str_section(config: TestConfig, name: str) -> dict[str, str]:
    return {k: v for k, v in config.raw.section(name).items() if isinstance(v, str)}
