#!/usr/bin/env python3
"""Benchmark the config reader against Python's configparser on an equivalent 20,000-line input.

Generates, in a temp dir, a megatest.config split over a few `[include]` files (sections,
key/values, continuation lines, comments; no shell directives) and an INI file with the same
sections, keys and values, then times both readers (best of several repeats) and prints the
ratio ours/configparser. Goal: at most 3x.

Usage: .venv/bin/python scripts/bench/bench_config.py [--lines 20000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import configparser
import os
import tempfile
import time

from megatest.config.reader import read_config

N_INCLUDES = 4


def _section_lines(sec: int, megatest_style: bool) -> list[str]:
    """One section of about 50 lines: comments, blank lines, key/values, a continued value."""
    out = [f"[section{sec}]", "# settings for this block"]
    for k in range(40):
        sep = " " if megatest_style else " = "
        if k % 10 == 9:
            # a three-line value; INI continuation lines are indented the same way
            out.append(f"key{k}{sep}first line of value {sec}-{k}")
            out.append("    second line of the value")
            out.append("    third line with more text")
        else:
            out.append(f"key{k}{sep}value number {k} in section {sec} /some/path/{sec}/{k}")
        if k % 8 == 7:
            out.append("; a comment" if not megatest_style else "# a comment")
    out.append("")
    return out


def generate(directory: str, total_lines: int) -> tuple[str, str, int]:
    """Write megatest.config (+ includes) and bench.ini; return their paths and the line count."""
    mt_lines: list[list[str]] = [[] for _ in range(N_INCLUDES + 1)]
    ini_lines: list[str] = []
    sec = 0
    count = 0
    while count < total_lines:
        part = sec % (N_INCLUDES + 1)
        block = _section_lines(sec, True)
        mt_lines[part].extend(block)
        ini_lines.extend(_section_lines(sec, False))
        count += len(block)
        sec += 1
    main = os.path.join(directory, "megatest.config")
    with open(main, "w") as fh:
        fh.write("# generated benchmark config\n")
        fh.write("\n".join(mt_lines[0]) + "\n")
        for i in range(1, N_INCLUDES + 1):
            name = f"inc{i}.config"
            with open(os.path.join(directory, name), "w") as inc:
                inc.write("\n".join(mt_lines[i]) + "\n")
            fh.write(f"[include {name}]\n")
    ini = os.path.join(directory, "bench.ini")
    with open(ini, "w") as fh:
        fh.write("\n".join(ini_lines) + "\n")
    return main, ini, count


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=7)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        main_cfg, ini, count = generate(tmp, opts.lines)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}

        def ours() -> None:
            cfg = read_config(main_cfg, env=dict(env), cwd=tmp)
            assert cfg is not None and cfg.diagnostics == []

        def theirs() -> None:
            cp = configparser.ConfigParser(interpolation=None)
            with open(ini) as fh:
                cp.read_file(fh)

        # Sanity: both readers see the same sections and keys.
        cfg = read_config(main_cfg, env=dict(env), cwd=tmp)
        cp = configparser.ConfigParser(interpolation=None)
        cp.read(ini)
        assert cfg is not None
        ours_keys = sum(len(v) for v in cfg.data.values())
        theirs_keys = sum(len(cp[s]) for s in cp.sections())
        assert set(cfg.data) == set(cp.sections()), "section sets differ"
        assert ours_keys == theirs_keys, (ours_keys, theirs_keys)
        for s in cp.sections():
            assert dict(cp[s]) == cfg.data[s], f"values differ in [{s}]"

        t_ours = best_of(ours, opts.repeats)
        t_theirs = best_of(theirs, opts.repeats)
        print(f"lines: {count} in {N_INCLUDES + 1} files, sections: {len(cfg.data)}, keys: {ours_keys}")
        print(f"megatest reader : {t_ours * 1000:8.1f} ms (best of {opts.repeats})")
        print(f"configparser    : {t_theirs * 1000:8.1f} ms (best of {opts.repeats})")
        print(f"ratio ours/configparser: {t_ours / t_theirs:.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
