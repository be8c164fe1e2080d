"""Turning a launch decision into a supervised TestJob (reference 1.12 steps 5-6, 2.1-2.2).

For one test or item: the `[skip]` check, `--preclean`, the work area (disk, link tree,
source copy), the test's environment and `megatest.sh`/`.csh`, then a TestJob handed to the
LocalLauncher. No interpreter is started: the job's steps are plain child processes.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from megatest.config.area import Area
from megatest.config.items import Item
from megatest.config.testconfig import TestConfig
from megatest.engine.request import RunRequest
from megatest.executor.environment import TestEnvInputs, build_test_env, write_env_snapshots
from megatest.executor.reporter import Reporter, TestRef
from megatest.executor.steps import StepSpec, TestJob
from megatest.executor.workarea import (
    DEFAULT_MINSPACE_KB,
    choose_disk,
    copy_test_source,
    create_work_area,
    remove_work_area,
)


def megatest_executable(configured: str | None) -> str:
    """MT_MEGATEST: `[setup] executable`, else the `megatest` next to this interpreter."""
    if configured:
        return configured
    beside = Path(sys.executable).with_name("megatest")
    if beside.exists():
        return str(beside)
    found = shutil.which("megatest")
    return found or str(beside)


@dataclass
class LaunchContext:
    """What every launch of one run shares."""

    area: Area
    request: RunRequest
    run_env: dict[str, str]
    megatest: str
    run_id: int
    test_dirs: dict[str, Path]

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

    A plain test whose config has no deferred value reads the same either way, so the
    planning read is reused (this keeps big runs cheap).
    """
    deferred = any(callable(v) for s in plan_config.raw.data.values() for v in s.values())
    if item is None and not deferred:
        return plan_config
    return ctx.read_test(plan_config.name, mode="launch", item=item)


def prepare_job(
    ctx: LaunchContext,
    config: TestConfig,
    ref: TestRef,
    item: Item | None,
    reporter: Reporter,
    *,
    old_dirs: tuple[str, str] | None,
    set_dirs: Callable[[str, str], None],
) -> TestJob:
    """Create the work area and the job for one test/item (the caller submits it)."""
    setup = ctx.area.config.setup
    if ctx.request.cleans and old_dirs is not None:
        real, link = old_dirs
        if real and real not in ("n/a", "/tmp/badname"):
            remove_work_area(real, link or None)
    disks = config.disks if config.disks is not None else ctx.area.config.disks
    disk = None
    if disks:
        disk = choose_disk(
            disks,
            minspace_kb=int(setup.minspace or DEFAULT_MINSPACE_KB),
            free_space_script=setup.free_space_script,
        )
    area = create_work_area(
        target=ctx.request.target,
        runname=ctx.request.runname,
        test_name=ref.test_name,
        item_path=ref.item_path,
        disk=disk,
        linktree=setup.linktree,
        test_src_dir=str(config.test_dir),
    )
    copy_test_source(config.test_dir, area.real_dir, testcopycmd=setup.testcopycmd, env=ctx.run_env)
    set_dirs(str(area.run_dir), str(area.real_dir))
    item_vars = list(item.data) if item is not None else []
    runconfigs = ctx.area.runconfigs
    inputs = TestEnvInputs(
        base_env=ctx.area.env,
        toppath=str(ctx.area.toppath),
        area_name=setup.area_name,
        keyvals=list(ctx.area.keyvals().items()),
        runname=ctx.request.runname,
        test_name=ref.test_name,
        run_dir=str(area.run_dir),
        linktree=setup.linktree or "",
        megatest=ctx.megatest,
        item_vars=item_vars,
        env_override=list(ctx.area.config.env_override.items()),
        runconfig_default=list(runconfigs.section("default").items()) if runconfigs else [],
        runconfig_target=list(runconfigs.section(ctx.request.target).items()) if runconfigs else [],
        setvars=ctx.request.setvars,
        extra={"MT_RUN_ID": str(ctx.run_id), "MT_TEST_ID": str(ref.test_id)},
    )
    env = build_test_env(inputs, cwd=str(area.real_dir))
    env.update(config.pre_launch_env_overrides)
    write_env_snapshots(env, area.real_dir)
    steps = [StepSpec(s.name, s.command, config.logpro_for(s.name)) for s in config.ezsteps]
    runtimelim = config.runtimelim if config.runtimelim is not None else setup.runtimelim
    return TestJob(
        ref,
        run_dir=area.run_dir,
        env=env,
        reporter=reporter,
        steps=steps,
        runscript=config.runscript,
        test_src_dir=str(config.test_dir),
        runtimelim=runtimelim or None,
        triggers=config.triggers,
    )


def env_pid_matches(pid: int, area: str, test_name: str, item_path: str) -> bool:
    """Is process `pid` still one of this area's test processes (not a reused pid)?"""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    env = dict(
        entry.split(b"=", 1) for entry in raw.split(b"\0") if b"=" in entry
    )
    return (
        env.get(b"MT_RUN_AREA_HOME") == os.fsencode(area)
        and env.get(b"MT_TEST_NAME") == os.fsencode(test_name)
        and env.get(b"MT_ITEMPATH", b"") == os.fsencode(item_path)
    )
