"""Measure the local launcher's own cost: `python -m megatest.launch.bench [steps] [parallel]`.

Runs `steps` ezsteps of `true` (two per test), `parallel` tests at a time, in a temporary
directory, and prints wall time and the CPU time of this (supervisor) process versus its
children. The supervisor figure is what the launcher adds on top of the work itself.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time

from megatest.executor.reporter import MemoryReporter, TestRef
from megatest.executor.steps import TestJob
from megatest.launch.local import LocalLauncher


def _cpu(who: int) -> float:
    ru = resource.getrusage(who)
    return ru.ru_utime + ru.ru_stime


def measure(steps: int = 1000, parallel: int = 2) -> dict[str, float]:
    tests = max(1, steps // 2)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    with tempfile.TemporaryDirectory(prefix="mt-bench-") as top:
        reporter = MemoryReporter()
        jobs = []
        for i in range(tests):
            run_dir = os.path.join(top, str(i))
            os.mkdir(run_dir)
            jobs.append(TestJob(TestRef(f"t{i}"), run_dir=run_dir, env=env, reporter=reporter,
                                steps=[("a", "true"), ("b", "true")], write_makefile=False))
        launcher = LocalLauncher()
        self0, kids0, wall0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN), time.monotonic()
        pending = list(jobs)
        while pending or launcher.running:
            while pending and launcher.running < parallel:
                launcher.start(pending.pop())
            launcher.poll(None)
        result = {
            "steps": float(tests * 2),
            "wall_s": time.monotonic() - wall0,
            "supervisor_cpu_s": _cpu(resource.RUSAGE_SELF) - self0,
            "children_cpu_s": _cpu(resource.RUSAGE_CHILDREN) - kids0,
        }
        failed = [j.test.test_name for j in jobs if j.result != ("COMPLETED", "PASS")]
        if failed:
            raise SystemExit(f"bench: {len(failed)} tests did not pass, e.g. {failed[0]}")
        return result


def main(argv: list[str]) -> int:
    steps = int(argv[0]) if argv else 1000
    parallel = int(argv[1]) if len(argv) > 1 else 2
    r = measure(steps, parallel)
    print(f"{int(r['steps'])} steps, {parallel} at a time: wall {r['wall_s']:.2f}s, "
          f"supervisor cpu {r['supervisor_cpu_s']:.2f}s "
          f"({r['supervisor_cpu_s'] / r['steps'] * 1000:.2f} ms/step), "
          f"children cpu {r['children_cpu_s']:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
