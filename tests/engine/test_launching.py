"""What a launch reads: the testconfig at launch time."""

from __future__ import annotations

import os


def _context(tmp_path, tests: dict[str, str]):
    from megatest.config.area import open_area
    from megatest.engine.launching import LaunchContext
    from megatest.engine.request import RunRequest

    (tmp_path / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\n\n[setup]\nlinktree #{getenv MT_RUN_AREA_HOME}/lt\n"
    )
    (tmp_path / "runconfigs.config").write_text("[default]\n\n[x]\n")
    for name, text in tests.items():
        (tmp_path / "tests" / name).mkdir(parents=True)
        (tmp_path / "tests" / name / "testconfig").write_text(text)
    area = open_area(tmp_path, target="x", reqtarg=False, env=dict(os.environ))
    return LaunchContext.build(area, RunRequest(area=tmp_path, target="x", runname="r"), 1)


def test_an_item_reuses_the_plan_read_only_when_nothing_depends_on_the_environment(tmp_path):
    from megatest.config.items import Item
    from megatest.engine.launching import launch_config

    ctx = _context(tmp_path, {
        "plain": "[items]\nN 1 2\n\n[ezsteps]\nrun echo $N\n",
        "getenv": "[items]\nN 1 2\n\n[ezsteps]\nrun echo #{getenv N}\n",
    })
    item = Item((("N", "2"),))
    plain = ctx.read_test("plain")
    assert launch_config(ctx, plain, item) is plain
    reread = ctx.read_test("plain", mode="launch", item=item)
    assert [(s.name, s.command) for s in reread.ezsteps] == [(s.name, s.command) for s in plain.ezsteps]
    assert reread.raw.data == plain.raw.data

    dynamic = ctx.read_test("getenv")
    at_launch = launch_config(ctx, dynamic, item)
    assert at_launch is not dynamic
    assert [s.command for s in at_launch.ezsteps] == ["echo 2"]


def test_mt_megatest_names_the_program_that_is_running(monkeypatch):
    import sys
    import types

    from megatest.engine.launching import megatest_executable

    assert megatest_executable("/opt/mt/bin/megatest") == "/opt/mt/bin/megatest"
    from_sources = megatest_executable(None)
    assert os.access(from_sources.split()[0], os.X_OK)
    # the standalone binary: its entry module is compiled; sys.executable names no program
    main = types.ModuleType("__main__")
    main.__compiled__ = object()
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "executable", "/nowhere/megatest.dist/megatest")
    assert megatest_executable(None) == os.path.realpath("/proc/self/exe")
