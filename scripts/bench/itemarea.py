"""The area the run benchmarks time: one test `t` whose N items each run the step `true`."""

from __future__ import annotations

from pathlib import Path


def items_area(area: Path, items: int, *, jobs: int, fields: tuple[str, ...] = ("SYSTEM",),
               targets: tuple[str, ...] = (), extra: str = "") -> Path:
    """Write the area into `area` (made): `jobs` at a time, `extra` megatest.config text."""
    (area / "runs").mkdir(parents=True)
    (area / "megatest.config").write_text(
        "[fields]\n" + "".join(f"{field} TEXT\n" for field in fields) + "\n"
        f"[setup]\nmax_concurrent_jobs {jobs}\nlinktree #{{getenv MT_RUN_AREA_HOME}}/lt\n\n"
        "[disks]\ndisk0 #{getenv MT_RUN_AREA_HOME}/runs\n" + extra)
    (area / "runconfigs.config").write_text(
        "[default]\n" + "".join(f"\n[{target}]\n" for target in targets))
    test = area / "tests" / "t"
    test.mkdir(parents=True)
    # the items come from a command, as big item lists do: a literal list of 100,000 values
    # would make the testconfig (copied into every item's work area) 600 kB, 60 GB in all
    (test / "testconfig").write_text(
        f"[items]\nN [system seq 0 {items - 1}]\n\n[ezsteps]\nstep true\n")
    return area
