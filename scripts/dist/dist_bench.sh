#!/bin/sh
# Measure a cold and a warm build of the standalone program.
#
# usage: dist_bench.sh PYTHON BUILD_DIR
#
# Cold: empty ccache and empty Nuitka cache (both private to this run), empty output dir.
# Warm: the output dir removed again, the caches of the cold build kept: what a rebuild after
# `make dist-clean`, or a CI run with a kept cache, costs. Writes BUILD_DIR/dist-bench.txt,
# which figures.py (run by `make build`) reports. Takes two full builds: run it on purpose.
set -eu

python=$1
build_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/megatest-dist-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

export CCACHE_DIR="$scratch/ccache" NUITKA_CACHE_DIR="$scratch/nuitka-cache"

seconds_of() {
    sed -n 's/^build_seconds=//p' "$1/last-build.txt"
}

echo "dist-bench: cold build (empty caches)"
sh "$here/build_binary.sh" "$python" "$scratch/cold"
cold=$(seconds_of "$scratch/cold")
cp "$scratch/cold/last-build.txt" "$scratch/cold-build.txt"

echo "dist-bench: warm build (caches kept, output removed)"
rm -rf "$scratch/cold"
sh "$here/build_binary.sh" "$python" "$scratch/warm"
warm=$(seconds_of "$scratch/warm")

mkdir -p "$build_dir"
{
    echo "cold_build_seconds=$cold"
    echo "warm_build_seconds=$warm"
    sed -n 's/^cpu_seconds=/cold_cpu_seconds=/p' "$scratch/cold-build.txt"
    sed -n 's/^cpu_seconds=/warm_cpu_seconds=/p' "$scratch/warm/last-build.txt"
    sed -n 's/^ccache_hits=/warm_ccache_hits=/p; s/^ccache_misses=/warm_ccache_misses=/p' \
        "$scratch/warm/last-build.txt"
} > "$build_dir/dist-bench.txt"
echo "dist-bench: cold ${cold}s, warm ${warm}s (written to $build_dir/dist-bench.txt)"
