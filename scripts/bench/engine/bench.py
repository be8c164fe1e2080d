"""Run-engine benchmark: 1,000 tests whose only step is `true`, two at a time.

Generates, in a temp dir, a Megatest area and the same 1,000 commands for the peers, then
times (wall clock, best of --repeat rounds, each round timing every tool once in turn):

  megatest   `megatest runs start` on the area, every state change recorded in the store
  xargs      `xargs -P2` on the bare commands (the lower bound: nothing kept)
  make       `make -j2` with one phony target per command
  lit        LLVM `lit -j2` (PyPI lit) with one ShTest file per command
  ctest      `ctest -j2` (CMake) with one add_test per command

and two more Megatest shapes: 10 tests x 100 items, and 300 tests at 50 jobs against
`xargs -P50` (a launch must never queue behind work made ahead). Prints each time and every
ratio; a missing peer is reported instead of a number.

    .venv/bin/python scripts/bench/engine/bench.py [--tests 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    # every tool starts from a quiet file system: the files the setup (or the previous tool)
    # left in the page cache are written out first, not during the next tool's run
    os.sync()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed


def write_area(root: Path, tests: int, items: int = 0, jobs: int = 2) -> Path:
    area = root / ("area" if not items else f"area_items{items}")
    (area / "runs").mkdir(parents=True)
    (area / "megatest.config").write_text(
        "[fields]\nSYSTEM TEXT\nRELEASE TEXT\n\n"
        f"[setup]\nmax_concurrent_jobs {jobs}\nlinktree #{{getenv MT_RUN_AREA_HOME}}/lt\n\n"
        "[disks]\ndisk0 #{getenv MT_RUN_AREA_HOME}/runs\n"
    )
    (area / "runconfigs.config").write_text("[default]\n\n[bench/x]\n")
    item_text = ""
    if items:
        item_text = "[items]\nN " + " ".join(str(i) for i in range(items)) + "\n\n"
    for i in range(tests):
        test = area / "tests" / f"t{i:04d}"
        test.mkdir(parents=True)
        (test / "testconfig").write_text(f"{item_text}[ezsteps]\nstep true\n")
    return area


def megatest_run(area: Path, runname: str) -> float:
    cmd = [str(VENV_BIN / "megatest"), "--area", str(area), "runs", "start",
           "--target", "bench/x", "--runname", runname, "--quiet"]
    return timed(cmd, area)


def peers(root: Path, count: int) -> dict[str, float | str]:
    out: dict[str, float | str] = {}
    args_file = root / "args.txt"
    args_file.write_text("x\n" * count)
    # `true x` 1,000 times, two at a time: the bare cost of starting the commands
    out["xargs"] = lambda: timed(["xargs", "-P2", "-n1", "-a", str(args_file), "true"], root)  # type: ignore[assignment]

    mk = root / "make"
    mk.mkdir()
    names = [f"t{i:04d}" for i in range(count)]
    (mk / "Makefile").write_text(
        ".PHONY: all " + " ".join(names) + "\nall: " + " ".join(names) + "\n"
        + "".join(f"{n}:\n\t@true\n" for n in names)
    )
    out["make"] = lambda: timed(["make", "-s", "-j2"], mk)  # type: ignore[assignment]

    lit = shutil.which("lit", path=str(VENV_BIN)) or shutil.which("lit")
    if lit:
        suite = root / "lit"
        suite.mkdir()
        (suite / "lit.cfg.py").write_text(
            "import lit.formats\nconfig.name = 'bench'\nconfig.suffixes = ['.test']\n"
            "config.test_format = lit.formats.ShTest()\n"
        )
        for n in names:
            (suite / f"{n}.test").write_text("RUN: true\n")
        out["lit"] = lambda: timed([lit, "-j2", "-q", str(suite)], root)  # type: ignore[assignment]
    else:
        out["lit"] = "not installed (pip install lit)"

    cmake, ctest = shutil.which("cmake"), shutil.which("ctest")
    if cmake and ctest:
        src, build = root / "ctest-src", root / "ctest-build"
        src.mkdir()
        build.mkdir()
        (src / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.10)\nproject(bench NONE)\nenable_testing()\n"
            + "".join(f"add_test(NAME {n} COMMAND true)\n" for n in names)
        )
        subprocess.run([cmake, "-S", str(src), "-B", str(build)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out["ctest"] = lambda: timed([ctest, "-j2", "-Q"], build)  # type: ignore[assignment]
    else:
        out["ctest"] = "not installed (cmake/ctest)"
    return out


def inode_cost_us(root: Path, probe: int, tests: int) -> float:
    """Microseconds per new folder or file, made the way a run makes them: `tests` folders
    of 6 files each, 5 levels under `root` (the same block groups as the runs' folders).
    Fewer would not do: the first few hundred inodes come from the free ones ahead of any
    recently deleted ones, so a small probe is fast even when a run is not."""
    folder = root / f"fs-probe-{probe}" / "runs" / "bench" / "x"
    folder.mkdir(parents=True)
    start = time.perf_counter()
    for i in range(tests):
        sub = folder / f"t{i:04d}"
        sub.mkdir()
        for name in ("a", "b", "c", "d", "e", "f"):
            os.close(os.open(sub / name, os.O_WRONLY | os.O_CREAT, 0o644))
    return (time.perf_counter() - start) / (tests * 7) * 1e6


SLOW_FS_US = 100.0  # per new inode; a settled ext4 takes 20-40 us here, tmpfs about 20


def wait_for_quiet_fs(root: Path, tests: int, max_wait: float, slow_us: float = SLOW_FS_US) -> float:
    """Wait (up to `max_wait` s) until making a file in `root` costs less than `slow_us`.

    On ext4 without a journal, an inode freed in the last 5 minutes (10 while its table
    block is dirty) is skipped when a new one is allocated: right after a big deletion (a
    previous benchmark's temp dir, a test suite's tmp folders) a new file costs up to a few
    ms instead of 20-40 us. A run makes a few files per test and the peers almost
    none, so such a moment measures the file system, not the tools. Returns the last cost."""
    probe = 0
    cost = inode_cost_us(root, probe, tests)
    deadline = time.monotonic() + max_wait
    while cost > slow_us and time.monotonic() < deadline:
        print(f"  the file system is slow to make files ({cost:.0f} us each, recent deletions?); "
              "waiting for it to settle", flush=True)
        time.sleep(min(30.0, max(0.0, deadline - time.monotonic())))
        probe += 1
        cost = inode_cost_us(root, probe, tests)
    return cost


def interleaved_runs(jobs: dict[str, object], repeat: int) -> dict[str, list[float] | str]:
    """`repeat` rounds, each timing every job once in turn; per job its times, fastest first
    (a job that is a str is a reason it cannot run, kept as is). The ratios use the best
    run, and every run is printed: this VM's speed drifts over a minute, so a tool timed only
    at the start or only at the end would see another machine than the rest."""
    times: dict[str, list[float] | str] = {
        name: job if isinstance(job, str) else [] for name, job in jobs.items()}
    for _ in range(repeat):
        for name, job in jobs.items():
            if not isinstance(job, str):
                times[name].append(job())  # type: ignore[union-attr, operator]
    return {name: sorted(t) if isinstance(t, list) else t for name, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("--dir", type=Path, default=None,
                        help="make the temp dir in this folder (default: the system's temp dir)")
    parser.add_argument("--fs-wait", type=float, default=600.0, metavar="SECONDS",
                        help="wait up to this long for a file system slowed by recent "
                             "deletions to settle (0: measure at once)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="mt-bench-", dir=args.dir))
    # this environment may set PYTHONDONTWRITEBYTECODE: without .pyc files every megatest
    # start would compile the package first, which is not what users run
    import megatest

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(megatest.__file__).parent)],
                   stdout=subprocess.DEVNULL, check=False)
    try:
        print(f"{args.tests} commands `true`, 2 at a time, best of {args.repeat}; "
              f"{os.cpu_count()} cores; in {root}")
        cost = wait_for_quiet_fs(root, args.tests, args.fs_wait)
        print(f"  making a file: {cost:.0f} us"
              + (" (still slow: megatest's times below include the file system's delay)"
                 if cost > SLOW_FS_US else ""))
        jobs: dict[str, object] = dict(peers(root, args.tests))
        area = write_area(root, args.tests)
        # every run is a fresh run (a new run name), so all tests really run
        counter = iter(range(1000))
        jobs["megatest"] = lambda: megatest_run(area, f"r{next(counter)}")
        # the fixed cost of one `megatest runs start` (interpreter, imports, store open)
        one = write_area(root / "one", 1)
        jobs["megatest 1 test"] = lambda: megatest_run(one, f"r{next(counter)}")
        items_area = write_area(root, 10, items=args.tests // 10)
        jobs[f"megatest 10x{args.tests // 10} items"] = lambda: megatest_run(
            items_area, f"r{next(counter)}")
        # wide: many jobs at once (launches must not queue behind anything), against xargs
        wide_n = max(1, args.tests * 3 // 10)
        wide_args = root / "wide-args.txt"
        wide_args.write_text("x\n" * wide_n)
        jobs[f"xargs -P50, {wide_n}"] = lambda: timed(
            ["xargs", "-P50", "-n1", "-a", str(wide_args), "true"], root)
        wide_area = write_area(root / "wide", wide_n, jobs=50)
        jobs[f"megatest -j50, {wide_n}"] = lambda: megatest_run(wide_area, f"r{next(counter)}")
        times = interleaved_runs(jobs, args.repeat)

        width = max(len(k) for k in times)
        for name, runs in times.items():
            shown = runs if isinstance(runs, str) else f"{runs[0]:8.2f} s"
            if not isinstance(runs, str) and len(runs) > 1:
                shown += f"   (every run: {' '.join(f'{t:.2f}' for t in runs)})"
            print(f"  {name:<{width}}  {shown}")
        best = {k: v[0] for k, v in times.items() if not isinstance(v, str)}
        print("ratios (megatest / peer, best runs):")
        wide = f"megatest -j50, {wide_n}"
        wide_base = f"xargs -P50, {wide_n}"
        if wide in best and wide_base in best:
            print(f"  {wide} / xargs -P50 = {best[wide] / best[wide_base]:6.2f}")
        for mt_name in ("megatest", f"megatest 10x{args.tests // 10} items"):
            for peer in ("xargs", "make", "lit", "ctest"):
                if mt_name in best and peer in best:
                    print(f"  {mt_name} / {peer:<5} = {best[mt_name] / best[peer]:6.2f}")
                else:
                    print(f"  {mt_name} / {peer:<5} = n/a ({times[peer]})")
        return 0
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
