"""Test helpers called from inside a running test, legacy and sectioned forms alike:

    $MT_MEGATEST -test-status :state COMPLETED :status PASS -m "all good"
    $MT_MEGATEST -step compile :state end :status 0
    $MT_MEGATEST -set-values :category perf :variable t :value 1.2 :expected 1 :tol 0.5
    megatest test status --state RUNNING --status WARN

They run thousands of times per run, so this module imports neither Typer nor SQLAlchemy on
the common path: the runner puts MT_RUN_ID and MT_TEST_ID in every test's environment and
writes go through the run's writer of the area's store. Without those variables (a test
started by hand from its `megatest.sh`), the run is found from MT_RUN_AREA_HOME, MT_TARGET,
MT_RUNNAME, MT_TEST_NAME and MT_ITEMPATH.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from megatest.errors import UsageError

# not `from typing import TYPE_CHECKING`: importing typing costs a helper call several ms
TYPE_CHECKING = False
if TYPE_CHECKING:
    from megatest.store.interface import RunWriter
    from megatest.store.records import TestRecord

# legacy action flag -> action
LEGACY_ACTIONS = {
    "-test-status": "status",
    "-step": "step",
    "-runstep": "runstep",
    "-set-values": "set-values",
    "-load-test-data": "load-data",
    "-setlog": "setlog",
    "-set-toplog": "set-toplog",
    "-summarize-items": "summarize-items",
}
ACTIONS = frozenset({*LEGACY_ACTIONS.values(), "comment"})
# The order the original does the actions of one call in (`-step x ... -setlog f` writes the
# step row, then points the test's log at f).
ORDER = ("step", "load-data", "setlog", "set-toplog", "summarize-items", "runstep", "status",
         "set-values", "comment")
# actions whose value follows the flag directly (`-step NAME`, `-setlog FILE`)
_VALUE_ACTIONS = {"step": "name", "runstep": "name", "setlog": "setlog", "set-toplog": "toplog"}
_OPTION_NAMES = {
    "state", "status", "category", "variable", "value", "expected", "tol", "units", "type",
    "comment", "name", "path", "m", "setlog", "toplog", "logpro", "first_err", "first_warn",
    "data_comment",
}
# other spellings of an option: the original's help calls the expected value `expected_value`
# and areas pass it so; `--first-err` is the sectioned form of `:first_err`
_ALIASES = {"m": "comment", "expected_value": "expected", "path": "setlog",
            "first-err": "first_err", "first-warn": "first_warn"}
# A helper that writes the test's own state drops this file in the run directory, so the
# runner reads the row back before writing a final status (instead of reading every row).
SELF_STATUS_MARK = ".megatest-self-status"
DATA_FIELDS = ("category", "variable", "value", "expected", "tol", "units", "comment", "status",
               "type")


class HelperCall:
    """One helper command line: its actions (in ORDER), options, and the command words of
    `-runstep`."""

    __slots__ = ("actions", "opts", "command")

    def __init__(self, actions: tuple[str, ...], opts: dict[str, str], command: list[str]):
        self.actions = actions
        self.opts = opts
        self.command = command

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HelperCall) and (
            (self.actions, self.opts, self.command) == (other.actions, other.opts, other.command))

    def __repr__(self) -> str:
        return f"HelperCall({self.actions!r}, {self.opts!r}, {self.command!r})"


def legacy_action(argv: Sequence[str]) -> str | None:
    """The first helper action of a legacy command line, None when it is not a helper call."""
    if any(a in ("-run", "-runall", "-execute", "-remove-runs") for a in argv):
        return None
    actions = _legacy_actions(argv)
    if actions:
        return actions[0]
    if argv and argv[0] == "-m" and len(argv) == 2:
        return "comment"  # `-m text` alone: set the test's comment
    return None


def _legacy_actions(argv: Sequence[str]) -> tuple[str, ...]:
    present = {LEGACY_ACTIONS[w] for w in argv if w in LEGACY_ACTIONS}
    if "runstep" in present:
        # the words after `-runstep NAME` are the step's command: a `-step` among them is not
        # an action of this call
        present = {"runstep", *(a for a in present if a != "step" or _step_before_runstep(argv))}
    return tuple(a for a in ORDER if a in present)


def _step_before_runstep(argv: Sequence[str]) -> bool:
    words = list(argv)
    return "-step" in words and words.index("-step") < words.index("-runstep")


def parse(argv: Sequence[str]) -> HelperCall:
    """The call from either form; `:opt v`, `-opt v` and `--opt v` are all accepted."""
    words = list(argv)
    if words and words[0] == "test":
        if len(words) < 2 or words[1] not in ACTIONS:
            raise UsageError(f"unknown test helper {' '.join(words[:2])!r}")
        actions, rest = (words[1],), words[2:]
    else:
        actions = _legacy_actions(words)
        if not actions and legacy_action(words) == "comment":
            actions = ("comment",)
        if not actions:
            raise UsageError("not a test helper call")
        rest = words
    opts: dict[str, str] = {}
    command: list[str] = []
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--" and "runstep" in actions:
            command += rest[i + 1:]
            break
        if word in LEGACY_ACTIONS and LEGACY_ACTIONS[word] in actions:
            i += 1
            key = _VALUE_ACTIONS.get(LEGACY_ACTIONS[word])
            if key:
                if i >= len(rest) or rest[i].startswith(("-", ":")):
                    raise UsageError(f"{word} needs a value")
                opts[key] = rest[i]
                i += 1
            continue
        raw = word.lstrip("-:")
        name = _ALIASES.get(raw, raw)
        if raw == "path" and actions == ("set-toplog",):
            name = "toplog"  # `test set-toplog --path F`
        elif word == ":comment":
            name = "data_comment"  # the value's comment; `-m` is the test's
        if word[:1] in "-:" and name in _OPTION_NAMES:
            if i + 1 >= len(rest):
                raise UsageError(f"{word} needs a value")
            opts[name] = rest[i + 1]
            i += 2
            continue
        if "runstep" in actions:
            command.append(word)  # as the original: words it does not know make the command
            i += 1
            continue
        if actions == ("comment",) and "comment" not in opts:
            opts["comment"] = word
            i += 1
            continue
        raise UsageError(f"unexpected {word!r} in a test helper call")
    if "setlog" in opts and ("step" in actions or "status" in actions) and "setlog" not in actions:
        # `-step x -setlog f`: the step's log, and (as the original) the test's log too
        actions = tuple(a for a in ORDER if a in (*actions, "setlog"))
    if "toplog" in opts and "set-toplog" not in actions:
        actions = tuple(a for a in ORDER if a in (*actions, "set-toplog"))
    if "runstep" in actions:
        _check_runstep(opts.get("name", ""), command)
    return HelperCall(actions, opts, command)


def _check_runstep(name: str, command: Sequence[str]) -> None:
    """Before anything is written: the step name makes a file name (NAME.log), and there must
    be something to run."""
    if not name or "/" in name or name in (".", ".."):
        raise UsageError(f"-runstep needs a step name (NAME.log is its log), got {name!r}")
    if not command:
        raise UsageError(f"-runstep {name}: nothing to run (give the command after the step name)")


class TestContext:
    """Which test a helper call is about. A plain class: `dataclasses` brings `inspect`,
    10-12 ms of every helper call."""

    __slots__ = ("area", "run_id", "test_id", "test_name", "item_path")

    def __init__(self, area: str, run_id: int, test_id: int, test_name: str,
                 item_path: str) -> None:
        self.area, self.run_id, self.test_id = area, run_id, test_id
        self.test_name, self.item_path = test_name, item_path

    def label(self) -> str:
        return f"{self.test_name}/{self.item_path}" if self.item_path else self.test_name

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TestContext:
        area, name = _area(env), env["MT_TEST_NAME"]
        item = env.get("MT_ITEMPATH", "")
        if env.get("MT_RUN_ID") and env.get("MT_TEST_ID"):
            return cls(area, _id_var(env, "MT_RUN_ID"), _id_var(env, "MT_TEST_ID"), name, item)
        return cls._lookup(area, name, item, env)

    @classmethod
    def _lookup(cls, area: str, name: str, item: str, env: Mapping[str, str]) -> TestContext:
        from megatest.store import open_store

        target, runname = env.get("MT_TARGET"), env.get("MT_RUNNAME")
        if not target or not runname:
            raise UsageError("MT_TARGET and MT_RUNNAME are not set: cannot find the run")
        with open_store(area, create=False) as store:
            runs = [r for r in store.find_runs(None, runname) if r.target == target]
            if not runs:
                raise UsageError(f"no run {target}/{runname} in {area}")
            rec = store.get_test_by_name(runs[0].id, name, item)
            if rec is None:
                raise UsageError(f"run {target}/{runname} has no test {name} {item}".rstrip())
            return cls(area, runs[0].id, rec.id, name, item)


def _id_var(env: Mapping[str, str], name: str) -> int:
    value = env[name]
    if not value.strip().isdigit():
        raise UsageError(f"{name}={value!r} is not a run or test id (the runner sets it)")
    return int(value)


def _area(env: Mapping[str, str]) -> str:
    area = env.get("MT_RUN_AREA_HOME")
    if not area or not env.get("MT_TEST_NAME"):
        raise UsageError(
            "test helpers run inside a test: MT_RUN_AREA_HOME and MT_TEST_NAME are not set"
        )
    return area


def run_helper(argv: Sequence[str], env: Mapping[str, str] | None = None) -> int:
    """Do what the helper call asks; returns the exit code (`-runstep`: its command's)."""
    call = parse(argv)
    opts = call.opts
    ctx = TestContext.from_env(os.environ if env is None else env)
    code = 0
    # the run's writer alone: no main db, no store (a run calls helpers thousands of times)
    with open_writer(ctx.area, ctx.run_id) as writer:
        for action in call.actions:
            if action == "step":
                if "name" not in opts or "state" not in opts:
                    raise UsageError("-step needs a step name and :state start|end")
                writer.add_step(ctx.test_id, opts["name"], opts["state"], opts.get("status", "n/a"),
                                opts.get("setlog", ""), opts.get("comment", ""))
                _say(f"step {opts['name']} {opts['state']} {opts.get('status', 'n/a')} of {ctx.label()}")
            elif action == "runstep":
                from megatest.engine.runstep import run_step

                code = run_step(writer, ctx.test_id, opts, call.command)
            elif action == "status":
                _status(writer, ctx, opts)
            elif action == "set-values":
                if "status" not in call.actions:  # -test-status records the value itself
                    _check_data(opts)
                    writer.add_test_data(ctx.test_id, [_data_row(opts)])
            elif action == "load-data":
                writer.add_test_data(ctx.test_id, read_csv_rows(sys.stdin.read()))
            elif action == "comment":
                writer.set_state_status(ctx.test_id, None, None, opts.get("comment", ""))
            elif action == "setlog":
                _setlog(ctx, opts.get("setlog", ""), top=False, writer=writer)
            elif action == "set-toplog":
                _setlog(ctx, opts.get("toplog", ""), top=True, writer=writer)
            elif action == "summarize-items":
                _summarize(ctx)
    return code


def open_writer(area: str, run_id: int, *, write_behind: bool = False) -> RunWriter:
    """Through the area's server when one is up (a live packet; a server that does not
    answer passes the writes on, in the end to the db), else the run db directly. Helpers
    never start a server: the runner does. `write_behind`: for a writer that lives long and
    writes often (a test executing on a node), see megatest.server.remote."""
    if os.path.isdir(os.path.join(area, ".meta")):  # no server ever ran here: no imports
        from megatest.server.remote import open_remote_writer

        remote = open_remote_writer(area, run_id, write_behind=write_behind)
        if remote is not None:
            return remote
    from megatest.store import open_run_writer

    return open_run_writer(area, run_id)


def _say(message: str) -> None:
    from megatest import verbosity

    verbosity.detail(2, message)


def _data_row(opts: Mapping[str, str], *, with_status: bool = True) -> dict[str, str | None]:
    row = {k: opts.get(k) for k in DATA_FIELDS if with_status or k != "status"}
    row["comment"] = opts.get("data_comment", opts.get("comment"))
    return row


def _status(writer: RunWriter, ctx: TestContext, opts: dict[str, str]) -> None:
    from megatest.store.state import status_from_helper_arg

    if opts.get("state") is not None:
        check_test_state(opts["state"], ctx.area)  # before anything is written
    if "value" in opts:
        _check_data(opts)
        writer.add_test_data(ctx.test_id, [_data_row(opts, with_status=False)])
    state = opts.get("state")
    status = opts.get("status")
    if status is not None:
        status = status_from_helper_arg(status)
    # :first_err / :first_warn say what went wrong; with no -m they are the test's comment
    comment = opts.get("comment", opts.get("first_err", opts.get("first_warn")))
    if state is None and status is None and comment is None:
        raise UsageError("-test-status needs :state and/or :status")
    writer.set_state_status(ctx.test_id, state, status, comment)
    _say(f"{ctx.label()} set to {state or '-'}/{status or '-'}")
    _mark_self_status()


def check_test_state(state: str, area: str) -> None:
    """UsageError for a test state that is neither one of the original's states nor declared
    by the area (`[validvalues] state`): a typo would leave the test in a state no rollup,
    rerun or query knows. Statuses are not checked (tests write their own)."""
    from megatest.store.state import KNOWN_STATES

    if state in KNOWN_STATES:
        return
    from megatest.config.megatest_config import declared_values

    declared = declared_values(area, "state")  # only read for an unknown state
    if state not in declared:
        known = ", ".join(dict.fromkeys([*KNOWN_STATES, *declared]))
        raise UsageError(f"unknown test state {state!r}; known states: {known}")


def _mark_self_status() -> None:
    """Tell the runner this test wrote its own state (see SELF_STATUS_MARK)."""
    run_dir = os.environ.get("MT_TEST_RUN_DIR")
    if run_dir and os.path.isdir(run_dir):
        with open(os.path.join(run_dir, SELF_STATUS_MARK), "w") as fh:
            fh.write(f"{os.getpid()}\n")


def _check_data(opts: Mapping[str, str]) -> None:
    missing = [k for k in ("value", "expected", "tol") if k not in opts]
    if missing:
        raise UsageError(f"-set-values needs :{', :'.join(missing)}")


def read_csv_rows(text: str) -> list[dict[str, str | None]]:
    """`-load-test-data` input: category,variable,value,expected,tol,units,comment,status,type."""
    import csv  # only -load-test-data needs it

    rows = []
    lines = (line for line in text.splitlines() if line.strip())
    for raw in csv.reader(lines, skipinitialspace=True):
        fields = [f.strip() for f in raw]  # `perf, speed , 10`: the original trims each field
        padded = [*fields, *[""] * (len(DATA_FIELDS) - len(fields))][: len(DATA_FIELDS)]
        row: dict[str, str | None] = {k: (v if v != "" else None) for k, v in zip(DATA_FIELDS, padded, strict=True)}
        if not row["variable"]:
            raise UsageError(f"-load-test-data: a line needs at least category,variable: {fields}")
        rows.append(row)
    return rows


def _setlog(ctx: TestContext, path: str, *, top: bool, writer: RunWriter) -> None:
    if not path:
        raise UsageError(f"{'-set-toplog' if top else '-setlog'} needs a file name")
    test_id = ctx.test_id
    if top:
        found = writer.test_id(ctx.test_name, "")
        if found is None:
            raise UsageError(f"no top-level row for {ctx.test_name}")
        test_id = found
    writer.update_fields(test_id, final_logf=path)


def _summarize(ctx: TestContext) -> None:
    """Write the parent's items summary page (items, state, status, comment) and point its
    log at it."""
    from megatest.store import open_store

    with open_store(ctx.area, create=False) as store:
        top = store.get_test_by_name(ctx.run_id, ctx.test_name, "")
        if top is None or not top.rundir or top.rundir == "n/a":
            raise UsageError(f"{ctx.test_name}: no top-level run directory to write to")
        items = [t for t in store.get_tests(ctx.run_id, f"{ctx.test_name}/%") if t.item_path]
        with open(os.path.join(top.rundir, "test-summary.html"), "w") as fh:
            fh.write(_summary_page(ctx.test_name, top, items))
        store.update_test_fields(ctx.run_id, top.id, final_logf="test-summary.html")


def _summary_page(name: str, top: TestRecord, items: list[TestRecord]) -> str:
    from html import escape

    rows = "".join(
        f"<tr><td><a href='{escape(t.item_path)}/'>{escape(t.item_path)}</a></td>"
        f"<td>{escape(t.state)}</td><td>{escape(t.status)}</td>"
        f"<td>{escape(t.comment or '')}</td></tr>"
        for t in items
    )
    return (
        f"<html><head><title>{escape(name)}</title></head><body>"
        f"<h1>{escape(name)}: {escape(top.state)}/{escape(top.status)}</h1>"
        "<table border=1><tr><th>Item</th><th>State</th><th>Status</th><th>Comment</th></tr>"
        f"{rows}</table></body></html>\n"
    )
