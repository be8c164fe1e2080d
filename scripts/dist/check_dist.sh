#!/bin/sh
# End-to-end check of the BUILT program (not the Python sources): version, help, completion,
# then every section that `megatest --help` lists, on a copy of examples/demo (or a small
# area made here while examples/demo does not exist), and `db migrate` on an area left at the
# oldest schema revisions (made beforehand with the source tree's venv: scripts/dist/old_area.py)
# so that the binary has to run the Alembic migrations it ships.
#
# usage: check_dist.sh BINARY
#
# As root, with unshare(1) available, the checks run in a private mount namespace where the
# build venv and the host Python's standard library are hidden under empty tmpfs mounts, so a
# binary that secretly needs either fails here. PYTHONPATH/PYTHONHOME are unset throughout.
# A section not yet registered in `megatest --help` is skipped with a message; a registered
# section that lacks a command this script uses is a failure.
set -eu

[ $# -eq 1 ] || { echo "usage: check_dist.sh BINARY" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$1" in /*) binary=$1 ;; *) binary="$(pwd)/$1" ;; esac
[ -x "$binary" ] || { echo "check-dist: $binary is not an executable; run make first" >&2; exit 2; }
target=${CHECK_DIST_TARGET:-ubuntu/gcc12}
venv=${VENV:-$root/.venv}

# --- an area at the oldest revisions, made while the venv is still visible ------------------
if [ -z "${CHECK_DIST_ISOLATED:-}" ] && [ -x "$venv/bin/python" ]; then
    CHECK_DIST_OLD_AREA=$(mktemp -d "${TMPDIR:-/tmp}/megatest-check-dist-old.XXXXXX")
    export CHECK_DIST_OLD_AREA
    if ! PYTHONPATH="$root" "$venv/bin/python" "$root/scripts/dist/old_area.py" \
            "$CHECK_DIST_OLD_AREA/area" >"$CHECK_DIST_OLD_AREA/made.txt"; then
        rm -rf "$CHECK_DIST_OLD_AREA"
        echo "check-dist: scripts/dist/old_area.py could not make an area at old revisions" >&2
        exit 1
    fi
fi

# --- hide the venv and the host Python, then re-run this script inside -----------------------
if [ -z "${CHECK_DIST_ISOLATED:-}" ]; then
    hide=""
    [ -d "$venv" ] && hide="$venv"
    if [ -x "$venv/bin/python" ]; then
        stdlib=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
        [ -d "$stdlib" ] && hide="$hide $stdlib"
    fi
    if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 &&
        unshare -m true 2>/dev/null; then
        export CHECK_DIST_ISOLATED="$hide"
        # shellcheck disable=SC2016  # expanded by the inner shell
        exec unshare -m sh -c 'for d in $CHECK_DIST_ISOLATED; do mount -t tmpfs none "$d"; done
                               exec sh "$0" "$@"' "$0" "$@"
    fi
    echo "check-dist: note: cannot hide the venv (needs root and unshare); checks run beside it"
    CHECK_DIST_ISOLATED=none
fi

unset PYTHONPATH PYTHONHOME PYTHONSTARTUP
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export COLUMNS=100 TERM=dumb
work=$(mktemp -d "${TMPDIR:-/tmp}/megatest-check-dist.XXXXXX")
trap 'rm -rf "$work" ${CHECK_DIST_OLD_AREA:+"$CHECK_DIST_OLD_AREA"}' EXIT INT TERM
passed=0 failed=0 skipped=0
out="$work/out" err="$work/err"

ok() { passed=$((passed + 1)); echo "  ok    $1"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $1"; sed 's/^/        | /' "$out" "$err" | head -n 20; }
skip() { skipped=$((skipped + 1)); echo "  skip  $1"; }

mt() {
    # Run the binary; stdout to $out, stderr to $err; return its exit code.
    "$binary" "$@" >"$out" 2>"$err"
}

expect() {
    # expect DESCRIPTION PATTERN COMMAND...: the command succeeds and prints PATTERN (grep -E).
    what=$1 pattern=$2
    shift 2
    if mt "$@" && { [ -z "$pattern" ] || grep -Eq -- "$pattern" "$out"; }; then
        ok "$what"
    else
        bad "$what"
    fi
}

has_command() {
    # has_command SECTION NAME: SECTION's help lists NAME as a command.
    "$binary" "$1" --help 2>/dev/null | sed -n '/^Commands:/,$p' | grep -Eq "^  $2( |$)"
}

need_command() {
    # Like has_command, but a missing command of a registered section counts as a failure.
    if has_command "$1" "$2"; then return 0; fi
    : >"$out"
    echo "section '$1' is registered but has no '$2' command" >"$err"
    bad "$1 $2"
    return 1
}

make_area() {
    # make_area DIR: a fresh area in DIR, a copy of the example area (without what runs
    # left in it) or, where there is none, a small one of its own
    area=$1
    if [ -d "$root/examples/demo" ]; then
        cp -R "$root/examples/demo" "$area"
        rm -rf "$area/.db" "$area/links" "$area/runs" "$area/lt"
        # The demo's [disks] entry is <area>/runs, which git does not keep (.gitignore).
        mkdir "$area/runs"
        echo "area: copy of examples/demo"
        return
    fi
    mkdir -p "$area/tests/hello" "$area/tests/after"
    cat >"$area/megatest.config" <<EOF
[fields]
OS TEXT
COMPILER TEXT

[setup]
max_concurrent_jobs 2
linktree $area/links

[disks]
disk0 $area/runs
EOF
    cat >"$area/runconfigs.config" <<'EOF'
[default]
GREETING hello

[ubuntu/gcc12]
EOF
    cat >"$area/tests/hello/testconfig" <<'EOF'
[ezsteps]
greet echo $GREETING from megatest
EOF
    cat >"$area/tests/after/testconfig" <<'EOF'
[requirements]
waiton hello

[ezsteps]
check test -n "$MT_TEST_NAME"
EOF
    echo "area: made in $area (examples/demo does not exist yet)"
}

# --- the checks -----------------------------------------------------------------------------
echo "check-dist: $binary"
case "$CHECK_DIST_ISOLATED" in
    none) ;;
    *) for d in $CHECK_DIST_ISOLATED; do
           if [ -z "$(ls -A "$d")" ]; then ok "hidden from the binary: $d"; else
               : >"$out"; echo "$d is still visible" >"$err"; bad "hide $d"; fi
       done ;;
esac

version=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$root/megatest/__init__.py")
expect "--version reports $version" "^megatest $version\$" --version
expect "--help lists the sections" "^Commands:" --help
# The instruction Typer answers with the completion script (what `make` ships).
completion() { _MEGATEST_COMPLETE=source_$1 "$binary" >"$out" 2>"$err"; }
if completion bash && grep -q "complete .*megatest" "$out"; then ok "bash completion"; else
    bad "bash completion"; fi
if completion zsh && grep -q "compdef" "$out"; then ok "zsh completion"; else
    bad "zsh completion"; fi

sections=$("$binary" --help | sed -n '/^Commands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')
registered() { echo "$sections" | grep -qx "$1"; }

make_area "$work/area"
cd "$area"

section_query() {
    need_command query targets &&
        expect "query targets lists $target" "$target" --area "$area" query targets
    need_command query config &&
        expect "query config --format json" '"setup"' --area "$area" query config --format json
    need_command query area-tests &&
        expect "query area-tests selects tests" "[a-z]" \
            --area "$area" query area-tests --target "$target" --format text
    expect "legacy -list-targets" "$target" -list-targets -area "$area"
}

section_db() {
    need_command db migrate || return 0
    expect "db migrate" "" --area "$area" db migrate
    if [ -s "$area/.db/main.db" ]; then ok "main.db written"; else
        : >"$out"; echo "no $area/.db/main.db" >"$err"; bad "main.db written"; fi
    expect "db migrate again is a no-op" "" --area "$area" db migrate
    section_db_old_area
}

head_of() {
    # head_of TREE: the head revision recorded in megatest/store/revisions.py.
    sed -n "s/^    \"$1\": \"\(.*\)\",\$/\1/p" "$root/megatest/store/revisions.py"
}

section_db_old_area() {
    if [ -z "${CHECK_DIST_OLD_AREA:-}" ]; then
        skip "db migrate of an area at old revisions (no venv to make one with)"
        return 0
    fi
    old=$CHECK_DIST_OLD_AREA/area
    made() { awk -v k="$1" -v f="$2" '$1 == k { print $f }' "$CHECK_DIST_OLD_AREA/made.txt"; }
    main_from=$(made main 3) run_db=$(made run 2) run_from=$(made run 3)
    expect "db status: the old area is behind head" "main\.db +main +$main_from +behind" \
        --area "$old" db status
    # The binary runs its shipped migrations only here: both trees, from their first revision.
    expect "db migrate runs main.db's migrations ($main_from -> $(head_of main))" \
        "/main\.db: $main_from -> $(head_of main)\$" --area "$old" db migrate
    if grep -Eq "/$run_db: $run_from -> $(head_of run)\$" "$out"; then
        ok "db migrate runs the run db's migrations ($run_from -> $(head_of run))"
    else
        bad "db migrate runs the run db's migrations ($run_from -> $(head_of run))"
    fi
    if mt --area "$old" db status && ! grep -q behind "$out" &&
        [ "$(grep -c ' head$' "$out")" -eq 2 ]; then
        ok "db status: both databases at head after the migration"
    else
        bad "db status: both databases at head after the migration"
    fi
    if has_command query tests; then
        expect "query tests reads the migrated run" "$(made runname 2) +hello" \
            --area "$old" query tests --target "$(made target 2)" --runname "$(made runname 2)" \
            --format text
    fi
}

section_runs() {
    need_command runs start || return 0
    wait_flag=""
    "$binary" runs start --help | grep -q -- "--wait" && wait_flag=--wait
    expect "runs start runs the area's tests" "" --area "$area" runs start \
        --target "$target" --runname dist1 --testpatt % $wait_flag
    # runs start exits 0 only when every selected test ended PASS/WARN/WAIVED/SKIP; the
    # query reads the results back from the databases the run wrote.
    if registered query && has_command query tests; then
        expect "query tests shows the run's tests PASS" "PASS" \
            --area "$area" query tests --target "$target" --runname dist1 --format text
        if grep -Eq "FAIL|ABORT" "$out"; then bad "no test of run dist1 failed"; else
            ok "no test of run dist1 failed"; fi
    else
        skip "query tests (no 'query tests' command yet)"
    fi
}

section_server() {
    section_help_only server
    need_command server start || return 0
    # the binary starts itself again as the detached server: its own path, not sys.executable's
    expect "server start answers with host:port" ":[0-9]+" --area "$area" server start
    expect "server ping finds it" "" --area "$area" server ping
    expect "server stop ends it" "" --area "$area" server stop
    if [ -z "$(ls -A "$area/.meta" 2>/dev/null | grep '\.pkt$')" ]; then ok "no packet left"; else
        : >"$out"; ls -l "$area/.meta" >"$err"; bad "no packet left"; fi
}

section_helpers() {
    # A test whose steps call every helper form through $MT_MEGATEST, as tests do: it must
    # name this binary (not the data folder beside it), and each call must reach the run's
    # records, read back below with `query runs --tests`.
    mkdir -p "$area/tests/helpers"
    cat >"$area/tests/helpers/testconfig" <<'TESTCONFIG'
[ezsteps]
self $MT_MEGATEST --version
step_start $MT_MEGATEST -step build :state start :status n/a
step_end $MT_MEGATEST -step build :state end :status 0
values $MT_MEGATEST -set-values :category perf :variable t :value 1.2 :expected 1 :tol 0.5 :units s
loaddata printf 'perf,u,2.0,2,0.1,s\n' | $MT_MEGATEST -load-test-data
runstep $MT_MEGATEST -runstep hello 'echo hello from runstep'
summarize $MT_MEGATEST -summarize-items
toplog $MT_MEGATEST -set-toplog top.html
setlog $MT_MEGATEST -setlog helpers.html
sectioned $MT_MEGATEST test step --name sectioned --state end --status 0
status $MT_MEGATEST -test-status :state COMPLETED :status PASS -m "every helper called"
TESTCONFIG
    expect "a test calls every helper through \$MT_MEGATEST" "" --area "$area" runs start \
        --target "$target" --runname helpers --testpatt helpers
    if need_command query runs; then
        mt --area "$area" query runs --target "$target" --runname helpers --tests --format json
        cp "$out" "$work/helpers.json"
        helper_recorded "-step writes the step row" '"stepname": "build"'
        helper_recorded "-runstep runs the command as a step" '"stepname": "hello"'
        helper_recorded "test step (sectioned form) writes the step row" '"stepname": "sectioned"'
        helper_recorded "-set-values and -load-test-data record data" '"pass_count": 2,'
        helper_recorded "-setlog sets the test's log" '"final_logf": "helpers.html"'
        helper_recorded "-test-status -m sets the comment" '"comment": "every helper called"'
        rundir=$(sed -n 's/^ *"rundir": "\(.*\)",$/\1/p' "$work/helpers.json" | head -n 1)
        helper_wrote "-runstep writes the command's log" "$rundir/hello.log" "hello from runstep"
        helper_wrote "-summarize-items writes the summary page" "$rundir/test-summary.html" "<"
    fi
    rm -rf "$area/tests/helpers"
}

helper_recorded() {
    # helper_recorded WHAT LINE: the run's records (helpers.json) hold LINE (grep -F).
    if grep -Fq -- "$2" "$work/helpers.json"; then ok "$1"; else
        cp "$work/helpers.json" "$out"; echo "no $2 in the run's records" >"$err"; bad "$1"; fi
}

helper_wrote() {
    # helper_wrote WHAT FILE TEXT: FILE exists and holds TEXT.
    if grep -Fq -- "$3" "$2" 2>/dev/null; then ok "$1"; else
        : >"$out"; echo "$2 is missing or lacks '$3'" >"$err"; bad "$1"; fi
}

section_batch() {
    # a batch job runs `$MT_MEGATEST test execute` on its node: with the binary, no Python.
    # A blocking template launcher that runs the job script here stands in for the batch
    # system (the real ones are tested by the suite).
    batch=$work/batch-area
    (make_area "$batch") >/dev/null  # a subshell: $area stays the main area
    printf '\n[jobtools]\nlauncher template\n\n[template]\nsubmit sh {script}\nsync yes\n' \
        >>"$batch/megatest.config"
    expect "a batch job runs the test through the binary's test execute" "" --area "$batch" \
        runs start --target "$target" --runname dist3 --testpatt %
    if ls "$batch"/runs/*/*/dist3/*/.megatest-job-exit >/dev/null 2>&1 ||
        ls "$batch"/runs/*/*/*/dist3/*/.megatest-job-exit >/dev/null 2>&1; then
        ok "the jobs wrote their exit files"
    else
        : >"$out"; find "$batch/runs" -maxdepth 6 >"$err"; bad "the jobs wrote their exit files"
    fi
}

section_help_only() {
    expect "$1 --help" "^Usage:" "$1" --help
}

for section in query db runs test util server dashboard; do
    if ! registered "$section"; then
        skip "section '$section': not registered in 'megatest --help' yet"
        continue
    fi
    echo "section $section"
    case "$section" in
        query) section_query ;;
        db) section_db ;;
        runs) section_runs; section_helpers; section_batch ;;
        server) section_server ;;
        *) section_help_only "$section" ;;
    esac
done

# db before runs matters: the loop order above is query, db, runs.
echo "check-dist: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
