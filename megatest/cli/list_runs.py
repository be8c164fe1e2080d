"""The original's `-list-runs` text layout (megatest.scm, block `-list-runs`), which release
rule files parse with patterns such as `^\\s+Test: NAME(\\(.*|\\s+)\\s+State: S\\s+Status: S\\s+
Runtime:\\s+(\\d+)s` and `egrep ^Run:`:

    Run: ubuntu/v1/r1 SYSTEM: ubuntu RELEASE: v1 id: 1 runname: r1 state: ... pass_count: 2
      Test: t1                        State: COMPLETED       Status: PASS            Runtime:     1s Time: 1796540851             Host: node1
      Test: t2(a/b)                   State: COMPLETED       Status: FAIL            Runtime:     1s Time: ...
             cpuload:  0.5
             diskfree: 1234
             uname:    Linux ...
             rundir:   /path/to/run/dir
        Step: build                State: end        Status: 1          Time 1796540851

A test that is not PASS, WARN or NOT_STARTED gets its host details and steps, as there.
"""

from __future__ import annotations

from typing import Any

# the run fields the original prints after the key fields, in its order
RUN_FIELDS = ("id", "runname", "state", "status", "owner", "event_time", "comment", "fail_count",
              "pass_count")


def listing(runs: list[dict[str, Any]], keys: list[str]) -> str:
    """The text for `runs` (run dicts with their `tests`, each with its `steps`)."""
    out: list[str] = []
    for run in runs:
        fields = [f"{key}: {_text(run['keys'].get(key))}" for key in keys]
        fields += [f"{name}: {_text(run.get(name))}" for name in RUN_FIELDS]
        out.append(f"Run: {run['target']}/{run['runname']} " + " ".join(fields) + " ")
        for test in run["tests"]:
            out += _test_lines(test)
    return "".join(line + "\n" for line in out)


def _test_lines(test: dict[str, Any]) -> list[str]:
    name = test["testname"] + (f"({test['item_path']})" if test["item_path"] else "")
    lines = [
        f"  Test: {name:<25} State: {test['state']:<15} Status: {test['status']:<15} "
        f"Runtime: {_text(test['run_duration'] or 0):>5}s Time: {_text(test['event_time']):<22} "
        f"Host: {_text(test['host']):<10}"
    ]
    if test["status"] in ("PASS", "WARN") or test["state"] == "NOT_STARTED":
        return lines
    details = [("cpuload: ", test["cpuload"]), ("diskfree:", test["diskfree"]),
               ("uname:   ", test["uname"]), ("rundir:  ", test["rundir"])]
    lines += [f"         {label} {_text(value)}" for label, value in details if value is not None]
    lines += [
        f"    Step: {step['stepname']:<20} State: {step['state']:<10} Status: {step['status']:<10} "
        f"Time {_text(step['event_time']):<22}"
        for step in test["steps"]
    ]
    return lines


def _text(value: Any) -> str:
    return "" if value is None else str(value)
