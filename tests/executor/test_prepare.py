import os

from megatest.executor.environment import TestEnvInputs
from megatest.executor.prepare import prepare_test
from megatest.executor.reporter import MemoryReporter, TestRef


def area(tmp_path):
    src = tmp_path / "area/tests/t1"
    src.mkdir(parents=True)
    (src / "testconfig").write_text("[ezsteps]\nstep1 ./check.sh\n")
    (src / "check.sh").write_text("#!/bin/sh\necho \"$MT_TEST_NAME $MT_ITEMPATH $GREETING $(pwd -P)\"\n")
    (src / "check.sh").chmod(0o755)
    (src / "step1.logpro").write_text('(expect:required in "LogFileBody" > 0 "greets" #/hello/)\n')
    (tmp_path / "disk").mkdir()
    return src


def inputs(tmp_path, **kw):
    base = dict(base_env={"PATH": os.environ["PATH"]}, toppath=str(tmp_path / "area"),
                area_name="area", keyvals=[("ARCH", "x86")], runname="r1", test_name="t1",
                run_dir="", linktree=str(tmp_path / "lt"), megatest="/usr/bin/megatest",
                item_vars=[("SIZE", "big")], runconfig_default=[("GREETING", "hello $ARCH")])
    base.update(kw)
    return TestEnvInputs(**base)


def test_prepare_then_run_a_test_end_to_end(tmp_path):
    src = area(tmp_path)
    prepared = prepare_test(inputs(tmp_path), disks={"d": str(tmp_path / "disk")},
                            test_src_dir=str(src), minspace_kb=0)
    real = tmp_path / "disk/x86/r1/t1/big"
    assert prepared.work_area.real_dir == real
    assert prepared.run_dir == tmp_path / "lt/x86/r1/t1/big"
    assert prepared.env["MT_TEST_RUN_DIR"] == str(prepared.run_dir)
    assert (real / "testconfig").exists() and (real / "megatest.sh").exists()
    rep = MemoryReporter()
    job = prepared.job(TestRef("t1", "big"), rep, steps=[("step1", "./check.sh")])
    assert job.run_to_completion(poll_interval=0.05) == ("COMPLETED", "PASS")
    assert (real / "step1.log").read_text() == f"t1 big hello x86 {real}\n"
    assert (real / "step1.html").exists()


def test_preclean_removes_old_results(tmp_path):
    src = area(tmp_path)
    disks = {"d": str(tmp_path / "disk")}
    first = prepare_test(inputs(tmp_path), disks=disks, test_src_dir=str(src), minspace_kb=0)
    (first.work_area.real_dir / "old.log").write_text("old")
    again = prepare_test(inputs(tmp_path), disks=disks, test_src_dir=str(src), minspace_kb=0)
    assert (again.work_area.real_dir / "old.log").exists()
    clean = prepare_test(inputs(tmp_path), disks=disks, test_src_dir=str(src), minspace_kb=0, preclean=True)
    assert not (clean.work_area.real_dir / "old.log").exists()
    assert (clean.work_area.real_dir / "check.sh").exists()


def test_no_disks_runs_in_source_tmp_run(tmp_path):
    src = area(tmp_path)
    prepared = prepare_test(inputs(tmp_path, item_vars=[]), disks={}, test_src_dir=str(src))
    assert prepared.run_dir == src / "tmp_run"
    assert prepared.env["MT_TEST_RUN_DIR"] == str(src / "tmp_run")
    assert not (tmp_path / "lt").exists()


def test_a_test_prepared_in_another_process_gets_the_same_environment(tmp_path):
    """What a preparer sends back decodes to the PreparedTest it made, environment in order;
    the run's shared variables travel once, not with every test."""
    import pickle

    from megatest.executor.prepare import PreparedReceiver, PreparedSender, RunPreparer

    src = area(tmp_path)
    # a user's environment: what every test of the run inherits
    user_env = {"PATH": os.environ["PATH"], **{f"TOOL_{i}_HOME": f"/opt/tool{i}/x" for i in range(40)}}
    preparer, sender, receiver = RunPreparer(), PreparedSender(), PreparedReceiver()
    sizes = []
    for name, items in (("t1", [("SIZE", "big")]), ("t2", [("SIZE", "small"), ("PATH", "x")]),
                        ("t3", [])):
        made = preparer.prepare(inputs(tmp_path, test_name=name, item_vars=items,
                                       base_env=user_env),
                                disks={"d": str(tmp_path / "disk")}, test_src_dir=str(src),
                                minspace_kb=0)
        wire = pickle.dumps(sender.encode(made))
        sizes.append(len(wire))
        got = receiver.decode(pickle.loads(wire))
        assert list(got.env.items()) == list(made.env.items())
        assert got.env["MT_TEST_NAME"] == name
        assert got.run_dir == made.run_dir and got.snapshot_paths == made.snapshot_paths
    assert sizes[1] < sizes[0] / 2 and sizes[2] < sizes[0] / 2
