"""The local launcher's own cost: CPU of the supervising process per step, against the CPU
of the steps themselves (`true`), in the same run.

Runs `megatest.launch.bench` (1,000 `true` steps, two tests at a time, no store) and prints
wall time, the supervisor's CPU and the children's CPU per step. Goal: the supervisor spends
less CPU per step than the steps it supervises (a busy-waiting loop would spend the whole
wall time). This was a unit test's 2 ms/step limit once; as a ratio it holds on any machine.

Usage: python scripts/bench/bench_launcher.py [--steps N] [--parallel N]
Exit status 1 when the goal is missed.
"""

from __future__ import annotations

import argparse
import sys

from megatest.launch.bench import measure


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=2)
    args = parser.parse_args()
    r = measure(args.steps, args.parallel)
    steps = r["steps"]
    supervisor = r["supervisor_cpu_s"] / steps * 1000
    children = r["children_cpu_s"] / steps * 1000
    ratio = supervisor / children if children else float("inf")
    print(f"{int(steps)} steps `true`, {args.parallel} at a time: wall {r['wall_s']:.2f} s")
    print(f"  supervisor cpu {supervisor:.3f} ms/step, steps' own cpu {children:.3f} ms/step, "
          f"supervisor / steps = {ratio:.2f} (goal < 1)")
    return 0 if ratio < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
