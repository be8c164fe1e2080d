import os

from megatest.executor.reporter import TestRef
from megatest.executor.waivers import PreviousRecord, make_waiver_hook, waiver_applies

ENV = {"PATH": os.environ["PATH"]}
T = TestRef("t")


def dirs(tmp_path, now: str, before: str):
    cur, prev = tmp_path / "cur", tmp_path / "prev"
    cur.mkdir()
    prev.mkdir()
    (cur / "out.txt").write_text(now)
    (prev / "out.txt").write_text(before)
    return str(cur), str(prev)


def test_default_diff_rule(tmp_path):
    cur, prev = dirs(tmp_path, "same\n", "same\n")
    assert waiver_applies({"w1": "diffrule out.*"}, {}, run_dir=cur, previous_run_dir=prev, env=ENV)
    (tmp_path / "x").mkdir()
    cur, prev = dirs(tmp_path / "x", "new\n", "old\n")
    assert not waiver_applies({"w1": "diffrule out.txt"}, {}, run_dir=cur, previous_run_dir=prev, env=ENV)


def test_named_rule_and_builtin_logpro_rule(tmp_path):
    cur, prev = dirs(tmp_path, "value 1\n", "value 2\n")
    rules = {"lenient": "test -f %file1% && test -f %file2%"}
    assert waiver_applies({"w": "lenient out.txt"}, rules, run_dir=cur, previous_run_dir=prev, env=ENV)
    # <waivername>.logpro judges the diff in-process
    with open(os.path.join(cur, "w.logpro"), "w") as fh:
        fh.write('(expect:error in "LogFileBody" = 0 "changed value" #/^[<>] value/)\n')
    assert not waiver_applies({"w": "logpro out.txt"}, {}, run_dir=cur, previous_run_dir=prev, env=ENV)
    with open(os.path.join(cur, "w.logpro"), "w") as fh:
        fh.write('(expect:ignore in "LogFileBody" < 99 "values may change" #/value/)\n')
    assert waiver_applies({"w": "logpro out.txt"}, {}, run_dir=cur, previous_run_dir=prev, env=ENV)


def test_hook_needs_previous_waived_record(tmp_path):
    cur, prev = dirs(tmp_path, "same\n", "same\n")
    assert make_waiver_hook({}, {}, run_dir=cur, env=ENV, previous=lambda t: None) is None
    records = {"rec": PreviousRecord("COMPLETED", "WAIVED", "waived last time", prev)}
    hook = make_waiver_hook({"w": "diff out.txt"}, {}, run_dir=cur, env=ENV,
                            previous=lambda t: records["rec"])
    assert hook(T, None) == ("WAIVED", "waived last time")
    assert hook(T, "new comment") == ("WAIVED", "new comment")
    records["rec"] = PreviousRecord("COMPLETED", "FAIL", None, prev)
    assert hook(T, None) is None


def test_rule_file_names_and_waiver_name_are_data_not_commands(tmp_path):
    # run directories named after a run name that would run commands if pasted into the shell
    base = tmp_path / "r;touch MARKER;" / "$(touch MARKER2)"
    base.mkdir(parents=True)
    cur, prev = dirs(base, "same\n", "same\n")
    assert waiver_applies({"w": "diffrule out.txt"}, {}, run_dir=cur, previous_run_dir=prev, env=ENV)
    rules = {"quoted": "cmp \"%file1%\" '%file2%' && test %waivername% = 'w;touch MARKER3;'"}
    assert waiver_applies({"w;touch MARKER3;": "quoted out.txt"}, rules, run_dir=cur,
                          previous_run_dir=prev, env=ENV)
    with open(os.path.join(cur, "out.txt"), "w") as fh:
        fh.write("changed\n")
    assert not waiver_applies({"w": "diffrule out.txt"}, {}, run_dir=cur, previous_run_dir=prev, env=ENV)
    assert list(tmp_path.rglob("MARKER*")) == []
