"""Getting one test ready to run: work area, source copy, environment, snapshots.

The engine calls `prepare_test` with plain values mapped from its config models, then builds a
TestJob from the result (`PreparedTest.job(...)`). Everything here happens in the runner
process; nothing touches os.environ.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from megatest.executor.deletion import DeletionGuard
from megatest.executor.environment import (
    EnvCache,
    EnvOverrideResolver,
    EnvParts,
    EnvTemplate,
    SnapshotWriter,
    TestEnvInputs,
    build_test_env,
)
from megatest.executor.reporter import Reporter, TestRef
from megatest.executor.steps import StepSpec, TestJob
from megatest.executor.workarea import (
    DEFAULT_MINSPACE_KB,
    DiskChooser,
    SourceCopier,
    WorkArea,
    copy_test_source,
    create_work_area,
    remove_work_area,
)


class PreparedTest(NamedTuple):
    work_area: WorkArea
    env: dict[str, str]
    snapshot_paths: tuple[str, str]  # megatest.sh, megatest.csh
    # how `env` was made, when it came from a run-level template (see PreparedSender)
    env_source: tuple[EnvTemplate, EnvParts] | None = None

    @property
    def snapshots(self) -> tuple[Path, Path]:
        """megatest.sh and megatest.csh."""
        return Path(self.snapshot_paths[0]), Path(self.snapshot_paths[1])

    @property
    def run_dir(self) -> Path:
        return self.work_area.run_dir

    def job(self, test: TestRef, reporter: Reporter, *, steps: Sequence[StepSpec | tuple[str, str]] = (),
            **kwargs: Any) -> TestJob:
        """A TestJob running in this work area with this environment (kwargs: see TestJob)."""
        return TestJob(test, run_dir=self.work_area.run_dir_str, env=self.env, reporter=reporter,
                       steps=steps, **kwargs)


# A PreparedTest as a preparer process sends it back: work area, snapshot paths, the number of
# its environment's template, the template itself the first time (values, slots), and the
# test's own part of the environment.
Wire = tuple[WorkArea, tuple[str, str], int, tuple[dict[str, str], list] | None, EnvParts]


class PreparedSender:
    """A preparer's side of sending PreparedTests: an environment made from a run-level
    template goes as its per-test part, with the template sent once (most of a test's
    variables are the run's), instead of the whole environment for every test."""

    def __init__(self) -> None:
        self._numbers: dict[int, tuple[int, EnvTemplate]] = {}  # id -> number (kept alive)

    def encode(self, prepared: PreparedTest) -> PreparedTest | Wire:
        if prepared.env_source is None:
            return prepared
        template, parts = prepared.env_source
        known = self._numbers.get(id(template))
        shared = None
        if known is None:
            known = self._numbers[id(template)] = (len(self._numbers), template)
            shared = (template.values, template.slots)
        return (prepared.work_area, prepared.snapshot_paths, known[0], shared, parts)


class PreparedReceiver:
    """The runner's side: every result of one sender, in the order sent (a template comes
    with the first test that uses it)."""

    def __init__(self) -> None:
        self._templates: dict[int, EnvTemplate] = {}

    def decode(self, sent: PreparedTest | Wire) -> PreparedTest:
        if isinstance(sent, PreparedTest):
            return sent
        work_area, snapshot_paths, number, shared, parts = sent
        if shared is not None:
            self._templates[number] = EnvTemplate(*shared)
        template = self._templates[number]
        return PreparedTest(work_area, parts.fill(template), snapshot_paths, (template, parts))


class RunPreparer:
    """Prepares the tests of one run, computing what they share once: the disk choice (free
    space re-read every few seconds), each source directory's listing, the run-level part of
    the environment (with the run's `[env-override]` values) and the quoted snapshot lines. Safe to use from worker threads (a race
    only repeats a computation)."""

    def __init__(self) -> None:
        self.disks = DiskChooser()
        self.copier = SourceCopier()
        self.env_cache = EnvCache()
        self.env_overrides = EnvOverrideResolver()
        self.snapshots = SnapshotWriter()

    def prepare(
        self,
        env_inputs: TestEnvInputs,
        *,
        disks: Mapping[str, str],
        test_src_dir: str,
        minspace_kb: int = DEFAULT_MINSPACE_KB,
        free_space_script: str | None = None,
        testcopycmd: str | None = None,
        preclean: bool = False,
    ) -> PreparedTest:
        """Choose the disk, create run dir and link, copy the test source, build env, write
        snapshots (see prepare_test)."""
        disk = (
            self.disks.choose(disks, minspace_kb=minspace_kb, free_space_script=free_space_script)
            if disks else None
        )

        def create() -> WorkArea:
            return create_work_area(
                target=env_inputs.target, runname=env_inputs.runname, test_name=env_inputs.test_name,
                item_path=env_inputs.item_path, disk=disk, linktree=env_inputs.linktree or None,
                test_src_dir=test_src_dir,
            )

        work_area = create()
        if preclean:
            # the directory just named lies on the chosen disk (or is the source's tmp_run)
            guard = DeletionGuard([disk.path if disk is not None else test_src_dir])
            remove_work_area(work_area.real_dir, None, guard=guard)
            work_area = create()
        inputs = env_inputs.with_run_dir(work_area.run_dir_str)
        real_dir = work_area.real_dir_str
        copy_test_source(test_src_dir, real_dir, testcopycmd=testcopycmd, env=inputs.base_env,
                         copier=self.copier)
        # [env-override] as the test's own read of megatest.config gives it
        inputs, own_values = self.env_overrides.resolve(inputs)
        built = None if own_values else self.env_cache.build_with_template(inputs)
        if built is None:  # the test's environment is built on its own (build_test_env)
            env = build_test_env(inputs, cwd=real_dir)
            return PreparedTest(work_area, env, self.snapshots.write_files(env, real_dir))
        env, template, parts = built
        return PreparedTest(
            work_area, env,
            self.snapshots.write_from_template(env, template, parts.moved, real_dir),
            (template, parts),
        )


def prepare_test(
    env_inputs: TestEnvInputs,
    *,
    disks: Mapping[str, str],
    test_src_dir: str,
    minspace_kb: int = DEFAULT_MINSPACE_KB,
    free_space_script: str | None = None,
    testcopycmd: str | None = None,
    preclean: bool = False,
    preparer: RunPreparer | None = None,
) -> PreparedTest:
    """Choose the disk, create run dir and link, copy the test source, build env, write snapshots.

    `disks`: the testconfig [disks] when it has entries, else megatest.config [disks]; empty
    means the test runs in `<test src>/tmp_run`. `env_inputs.run_dir` is filled in here.
    `preclean`: remove an existing run directory of this test first. `preparer`: the run's
    RunPreparer (shared caches); without one, nothing is kept between calls.
    """
    return (preparer or RunPreparer()).prepare(
        env_inputs, disks=disks, test_src_dir=test_src_dir, minspace_kb=minspace_kb,
        free_space_script=free_space_script, testcopycmd=testcopycmd, preclean=preclean,
    )
