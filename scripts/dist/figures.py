"""Measure the built program and write the build figures file (and print it).

    figures.py --binary build/megatest --python .venv/bin/python --out build/figures.txt

Figures: the last build's time and ccache counters (from build_binary.sh), the cold and warm
build times measured by `make dist-bench` (kept from an earlier run when present), the
program folder's size, package sizes, and `--version` start-up time of the binary against
`python -m megatest --version`, both measured here, in the same way, back to back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path

GOALS = {
    "cold_build_seconds": 20 * 60,
    "warm_build_seconds": 3 * 60,
    "size_mb": 40,
    "startup_ms": 100,
}


def read_pairs(path: Path) -> dict[str, str]:
    """key=value lines (as build_binary.sh and dist_bench.sh write them)."""
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs


def tree_bytes(root: Path) -> int:
    return sum(p.lstat().st_size for p in root.rglob("*") if p.is_file())


def startup_ms(command: list[str], runs: int, env: dict[str, str]) -> float:
    """Median wall time of `runs` runs, after one untimed run to warm the page cache."""
    subprocess.run(command, check=True, capture_output=True, env=env)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def verdict(value: float, goal: float) -> str:
    return "ok" if value <= goal else "OVER GOAL"


def figures(binary: Path, python: str, build_dir: Path, runs: int) -> list[str]:
    program = binary.resolve()
    dist_dir = program.parent
    last = read_pairs(build_dir / "nuitka" / "last-build.txt")
    bench = read_pairs(build_dir / "dist-bench.txt")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    lines = [f"megatest build figures ({time.strftime('%Y-%m-%d %H:%M:%S %Z')}, "
             f"{os.cpu_count()} cores)"]
    if last:
        cpu = f" (CPU {last['cpu_seconds']} s)" if "cpu_seconds" in last else ""
        lines.append(
            f"last build:            {last['build_seconds']} s{cpu}, {last['c_files']} C files "
            f"compiled, ccache {last['ccache_hits']} hits / {last['ccache_misses']} misses"
        )
    for key, label in (("cold_build_seconds", "cold build"), ("warm_build_seconds", "warm build")):
        if key in bench:
            value = int(bench[key])
            cpu_key = key.replace("build_seconds", "cpu_seconds")
            cpu = f" (CPU {bench[cpu_key]} s)" if cpu_key in bench else ""
            lines.append(f"{label + ':':<23}{value} s{cpu}, by make dist-bench  [goal <= "
                         f"{GOALS[key]} s: {verdict(value, GOALS[key])}]")
        else:
            lines.append(f"{label + ':':<23}not measured yet (run `make dist-bench`)")
    size_mb = tree_bytes(dist_dir) / 1e6
    lines.append(
        f"program folder:        {size_mb:.1f} MB ({dist_dir.name}; executable "
        f"{program.stat().st_size / 1e6:.1f} MB)  [goal <= {GOALS['size_mb']} MB: "
        f"{verdict(size_mb, GOALS['size_mb'])}]"
    )
    for package in sorted(build_dir.glob("megatest*.deb")) + sorted(build_dir.glob("*.rpm")):
        lines.append(f"package:               {package.name} {package.stat().st_size / 1e6:.1f} MB")
    binary_ms = startup_ms([str(binary), "--version"], runs, env)
    python_ms = startup_ms([python, "-m", "megatest", "--version"], runs, env)
    lines.append(
        f"start-up --version:    binary {binary_ms:.1f} ms, python -m megatest "
        f"{python_ms:.1f} ms (median of {runs})  [goal < {GOALS['startup_ms']} ms: "
        f"{verdict(binary_ms, GOALS['startup_ms'])}]"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="figures.py")
    parser.add_argument("--binary", required=True, type=Path)
    parser.add_argument("--python", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    text = "\n".join(figures(args.binary, args.python, args.out.parent, args.runs)) + "\n"
    args.out.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
