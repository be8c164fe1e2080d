#!/bin/sh
# Build the standalone megatest program folder with Nuitka and record how long it took.
#
# usage: build_binary.sh PYTHON OUTDIR [EXTRA_NUITKA_FLAG...]
#   PYTHON  the venv interpreter that has megatest, its dependencies and Nuitka installed
#   OUTDIR  Nuitka's output dir; the program lands in OUTDIR/megatest.dist/megatest.bin
#           (not .../megatest: that name is the package's folder, which holds data files too:
#           megatest/store/_alembic, the migrations)
# Writes "build_seconds=..." and the ccache counters of this build to OUTDIR/last-build.txt.
#
# What is compiled to C, and why so little: only the entry module. Every package, megatest
# included, is shipped as bytecode (Nuitka's per-package "bytecode" mode), as the standard
# library already is: compiling SQLAlchemy/pydantic/alembic to C is what makes such builds
# take half an hour, and compiling megatest's own modules cost 4 of a warm rebuild's 5 minutes,
# for no visible gain in a CLI that spends its time in SQLite and child processes. Docstrings
# are dropped except megatest's, which are its --help (nuitka_strip_docs.py). Modules with a
# fallback or no use here are left out (list below).
#
# --no-deployment-flag=self-execution: without it the program exits 2 when any argument is
# `-m` or `-c` (Nuitka's guard against a program that runs `sys.executable -m ...` starting
# itself over and over), and `-m` is the comment option of the test helpers
# (`$MT_MEGATEST -test-status :state COMPLETED :status PASS -m "all good"`).
set -eu

python=$1
outdir=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

# Packages shipped as bytecode, not compiled to C (all that the program uses).
bytecode_packages="megatest sqlalchemy alembic mako markupsafe pydantic pydantic_core typer
    typing_extensions typing_inspection annotated_types annotated_doc shellingham"
# Never shipped (each has a fallback or is unusable here; see docs/decisions.md, Distribution):
# - rich and its pygments/markdown-it: Typer prints plain help without them;
# - ssl, _hashlib (OpenSSL, 6 MB): no TLS client or server; hashlib uses its built-in hashes;
# - pydantic.v1, pydantic.mypy, sqlalchemy.ext.asyncio and greenlet (SQLAlchemy's asyncio
#   support only; a C++ extension that would bring libstdc++; the dev venv has it through
#   playwright);
# - test-only modules.
excluded_modules="rich pygments markdown_it mdurl ssl _ssl _hashlib pydantic.v1 pydantic.mypy sqlalchemy.ext.asyncio greenlet *.tests *.testing"

set --  --mode=standalone \
    --output-dir="$outdir" --output-folder-name=megatest.dist --output-filename=megatest.bin \
    --jobs="${NUITKA_JOBS:-2}" --lto=no --update-check=never \
    --python-flag=no_site --python-flag=isolated \
    --include-package=megatest --include-package-data=megatest \
    --noinclude-default-mode=nofollow \
    --report="$outdir/nuitka-report.xml" --report-diffable \
    --user-plugin="$here/nuitka_strip_docs.py" \
    --include-module=_json --include-module=_bisect --no-prefer-source-code \
    --no-deployment-flag=self-execution \
    "$@"
for pkg in $bytecode_packages; do
    set -- "$@" "--noinclude-custom-mode=$pkg:bytecode"
done
for mod in $excluded_modules; do
    set -- "$@" "--nofollow-import-to=$mod"
done
# Alembic loads the migration scripts (env.py, versions/*/*.py) from disk at run time, so the
# top-level alembic/ folder ships as plain files inside the package folder, where a wheel has
# it too (pyproject.toml) and megatest.store.migrations looks first: megatest/store/_alembic.
[ -f alembic/env.py ] || { echo "build_binary: $root/alembic/env.py is missing" >&2; exit 1; }
set -- "$@" --include-raw-dir=alembic=megatest/store/_alembic

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
mkdir -p "$outdir" "$CCACHE_DIR"
stats_before=$(ccache --print-stats 2>/dev/null || true)

start=$(date +%s)
# Nuitka asks before downloading anything; a build must never download: answer "no".
# Each output line gets the seconds since the start, to show where the time goes (the Python
# phase ends at "Completed Python level compilation"); the status is kept past the pipe.
status_file="$outdir/.nuitka-status"
{
    PYTHONUNBUFFERED=1 nice -n 19 "$python" -m nuitka "$@" scripts/dist/megatest_main.py \
        </dev/null 2>&1
    echo $? > "$status_file"
} | while IFS= read -r line; do
    printf '[%4ds] %s\n' $(( $(date +%s) - start )) "$line"
done
status=$(cat "$status_file")
rm -f "$status_file"
[ "$status" -eq 0 ] || { echo "build_binary: Nuitka failed (exit $status)" >&2; exit "$status"; }
# CPU time of the build (user+sys of Nuitka and its compilers): unlike wall time, it does not
# depend on how busy the shared machine was.
# (`times` must run in this shell, not in a pipe or $(...), to see this shell's children.)
times > "$outdir/.times"
cpu_seconds=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/);
                             printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$outdir/.times")
rm -f "$outdir/.times"
# Python's and SQLAlchemy's extension modules come with debug info (SQLAlchemy's Cython
# modules shrink from 9 MB to 2 MB): strip them. The executable Nuitka links is stripped already.
find "$outdir/megatest.dist" -type f -name '*.so*' -exec "${STRIP:-strip}" --strip-unneeded {} +
seconds=$(( $(date +%s) - start ))

stats_after=$(ccache --print-stats 2>/dev/null || true)
counter() {
    # counter NAME STATS: the value of one ccache --print-stats counter (0 when absent).
    printf '%s\n' "$2" | awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }'
}
hits=$(( $(counter direct_cache_hit "$stats_after") + $(counter preprocessed_cache_hit "$stats_after") \
       - $(counter direct_cache_hit "$stats_before") - $(counter preprocessed_cache_hit "$stats_before") ))
misses=$(( $(counter cache_miss "$stats_after") - $(counter cache_miss "$stats_before") ))
# The exact inputs, so the same binary can be built again from the same venv contents.
{
    "$python" -c 'import platform, sys; print("python", platform.python_version(), sys.executable)'
    "$python" -m pip freeze --exclude-editable 2>/dev/null
} > "$outdir/build-env.txt"
c_files=$(find "$outdir/megatest.dist.build" -name '*.c' 2>/dev/null | wc -l)

{
    echo "build_seconds=$seconds"
    echo "cpu_seconds=$cpu_seconds"
    echo "c_files=$c_files"
    echo "ccache_hits=$hits"
    echo "ccache_misses=$misses"
} > "$outdir/last-build.txt"
echo "build_binary: ${seconds}s (CPU ${cpu_seconds}s), $c_files C files, ccache $hits hits / $misses misses"
