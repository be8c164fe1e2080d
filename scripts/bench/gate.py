"""A start gate for benchmarks whose workers are processes: each worker gets ready (opens its
writer, imports what it needs), says so, and waits; they are released together, so the time
measured is their work and not their start-up.

The workers are `python <script> --worker ... <gate>`: they call `wait_at_gate(gate, name)`
when ready and print one JSON line last, which `run_gated` collects.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def wait_at_gate(gate: str, name: str) -> None:
    """In a worker: say it is ready, then wait until the gate opens."""
    Path(f"{gate}.ready.{name}").touch()
    while not Path(gate).exists():
        time.sleep(0.005)


def run_gated(script: str, worker_args: list[list[str]], gate: Path,
              label: str = "") -> tuple[list[dict], float]:
    """Start one `script --worker ARGS... gate` process per ARGS, open the gate once all are
    ready, and wait for them: (each worker's last JSON line, seconds from the opening to the
    last exit). A worker that fails stops the benchmark with its last error line."""
    children = [subprocess.Popen([sys.executable, script, "--worker", *args, str(gate)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for args in worker_args]
    while len(list(gate.parent.glob(f"{gate.name}.ready.*"))) < len(children):
        if any(c.poll() not in (None, 0) for c in children):
            break
        time.sleep(0.01)
    started = time.monotonic()
    gate.touch()
    results = []
    for c in children:
        out, err = c.communicate()
        if c.returncode != 0:
            where = f"[{label}] " if label else ""
            raise SystemExit(f"{where}worker failed: {err.strip().splitlines()[-1:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results, time.monotonic() - started
