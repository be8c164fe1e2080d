#!/bin/sh
# Stop the single-node Slurm that scripts/slurm/up.sh started: each daemon by the pid its
# pid file names (never by process name: other Slurms or munges on the machine are left
# alone), SIGTERM, then SIGKILL after a grace period. Jobs still running end with slurmd.
set -eu

dir=${MT_SLURM_DIR:-/tmp/megatest-slurm}

stop() {  # stop PIDFILE
    [ -s "$1" ] || return 0
    pid=$(cat "$1")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

# slurmd first (it ends its jobs' slurmstepd), then the controller, then munge
stop "$dir/slurmd.pid"
stop "$dir/slurmctld.pid"
stop "$dir/munged.pid"
# job steps whose slurmd is gone: slurmstepd processes of this folder (a fixed string
# ending in /: /tmp/megatest-slurm does not match /tmp/megatest-slurm2)
for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    cmd=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null || true)
    case "$cmd" in
        *slurmstepd*) grep -qsF -- "$dir/" "$p/environ" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true ;;
    esac
done
echo "slurm-down: stopped ($dir)" >&2
