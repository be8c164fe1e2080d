"""A test's environment, built as a plain mapping (config-language §6, run-engine §2.5 step 7).

The runner never touches its own os.environ: every test gets its own dict, so many tests (and
several runs) can share one process. Assignment order follows the reference; a re-assigned
variable moves to the end, so the snapshot files read in the order the values were decided.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple, Protocol

from megatest.config.env_override import PER_TEST_NAMES
from megatest.errors import ConfigError

# Written commented out in the snapshots: they belong to whoever sources the file.
SNAPSHOT_COMMENTED = frozenset(
    {"USER", "HOME", "DISPLAY", "LS_COLORS", "XKEYSYMDB", "EDITOR", "MAKEFLAGS", "MAKEF",
     "MAKEOVERRIDES", "PWD", "OLDPWD", "SHLVL", "_"}
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# values `echo` returns unchanged: nothing the shell would expand, split or interpret
_ECHO_LITERAL = re.compile(r"[A-Za-z0-9_./:,=+@%^-]*")


class EnvOverrideSource(Protocol):
    """Where a test's `[env-override]` values come from when they depend on its environment
    (megatest.config read again: `megatest.config.env_override.EnvOverrideSource`)."""

    @property
    def dynamic(self) -> bool:
        """False: the values are the runner's read, whatever the environment."""
        ...

    @property
    def start_env(self) -> Mapping[str, str]: ...

    @property
    def runner_env(self) -> Mapping[str, str]: ...

    def depends_on(self, names: Iterable[str]) -> bool: ...

    def read(self, env: dict[str, str]) -> list[tuple[str, str]]: ...


class OrderedEnv(dict[str, str]):
    """A dict where setting a key moves it to the end (the order the snapshot shows)."""

    def __setitem__(self, key: str, value: str) -> None:
        if key in self:
            super().__delitem__(key)
        super().__setitem__(key, value)

    def update_from(self, pairs: Iterable[tuple[str, str]]) -> None:
        for key, value in pairs:
            self[key] = value


@dataclass
class TestEnvInputs:
    """Everything the environment of one test is made of, as plain values."""

    __test__ = False  # not a pytest test class

    base_env: Mapping[str, str]
    toppath: str  # MT_RUN_AREA_HOME
    area_name: str  # MT_TESTSUITENAME
    keyvals: Sequence[tuple[str, str]]  # [fields] key -> target component, in field order
    runname: str
    test_name: str
    run_dir: str  # MT_TEST_RUN_DIR (the link-tree path when there is a link tree)
    linktree: str
    megatest: str  # MT_MEGATEST
    item_vars: Sequence[tuple[str, str]] = ()
    env_override: Sequence[tuple[str, str]] = ()  # [env-override], already evaluated
    config_vars: Sequence[tuple[str, str]] = ()  # other megatest.config exports (valueless keys)
    runconfig_default: Sequence[tuple[str, str]] = ()  # runconfigs [default], raw values
    runconfig_target: Sequence[tuple[str, str]] = ()  # runconfigs [<target>], raw values
    setvars: str | Sequence[tuple[str, str]] | None = None  # -setvars "A=1,B=2" or pairs
    cmdinfo: str | None = None  # MT_CMDINFO
    debug_mode: str | None = None  # MT_DEBUG_MODE
    extra: Mapping[str, str] = field(default_factory=dict)  # appended last (engine-specific)
    # set: `env_override` is read again for the run or the test (see EnvOverrideResolver)
    env_override_source: EnvOverrideSource | None = None

    @property
    def target(self) -> str:
        return "/".join([v for _, v in self.keyvals])

    def with_run_dir(self, run_dir: str) -> TestEnvInputs:
        """`dataclasses.replace(self, run_dir=run_dir)`: a copy with the same field values
        (`extra` and the sequences shared, as replace shares them), made without re-running
        __init__ since it is done for every test."""
        copy = object.__new__(self.__class__)
        copy.__dict__.update(self.__dict__)
        copy.run_dir = run_dir
        return copy

    def with_env_override(self, pairs: Sequence[tuple[str, str]]) -> TestEnvInputs:
        """A copy (as with_run_dir) whose `env_override` is `pairs`."""
        copy = self.with_run_dir(self.run_dir)
        copy.env_override = pairs
        return copy

    @property
    def item_path(self) -> str:
        return "/".join([v for _, v in self.item_vars]) if self.item_vars else ""


def item_info(item_vars: Sequence[tuple[str, str]]) -> str:
    """MT_ITEM_INFO: the item list displayed the way Scheme displays it, `((A 1) (B 2))`."""
    if not item_vars:
        return "()"
    return "(" + " ".join([f"({k} {v})" for k, v in item_vars]) + ")"


def parse_setvars(spec: str | Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """`-setvars VAR=val,VAR2=val2`: split on `,` then `=`; only exact two-part pairs count."""
    if spec is None:
        return []
    if not isinstance(spec, str):
        return [(k, v) for k, v in spec]
    pairs = []
    for chunk in spec.split(","):
        parts = chunk.split("=")
        if len(parts) == 2:
            pairs.append((parts[0], parts[1]))
    return pairs


def shell_echo_values(
    pairs: Sequence[tuple[str, str]], env: Mapping[str, str], *, cwd: str | None = None
) -> list[tuple[str, str]]:
    """Evaluate each value as `sh -c "echo VALUE"` (first output line), in order.

    Each result is exported before the next value is evaluated, so a later value can use an
    earlier one. Values `echo` would print unchanged skip the shell; the rest are evaluated in
    one `/bin/sh` for the whole list (one process per test, not one per variable).
    """
    if all(_ECHO_LITERAL.fullmatch(v) and not v.startswith("-") for _, v in pairs):
        return [(k, v) for k, v in pairs]
    script = ["set +e", "__mt_nl='\n'"]
    for key, value in pairs:
        # eval sees exactly the text the original passed to `sh -c "echo VALUE"`; a syntax
        # error there spoils only this value (empty), not the rest of the list
        script.append(f"__mt_v=$(eval {sh_quote('echo ' + value)})")
        script.append('__mt_v=${__mt_v%%"$__mt_nl"*}')
        if _IDENT.fullmatch(key):
            script.append(f'{key}=$__mt_v; export {key}')
        script.append('printf "%s\\0" "$__mt_v"')
    proc = subprocess.run(
        ["/bin/sh", "-c", "\n".join(script)],
        env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False,
    )
    values = proc.stdout.decode("utf-8", errors="replace").split("\0")[: len(pairs)]
    if len(values) != len(pairs):
        raise ConfigError(
            f"runconfigs: shell evaluation of the variables stopped after {len(values)} of "
            f"{len(pairs)} values (exit {proc.returncode})"
        )
    return [(k, v) for (k, _), v in zip(pairs, values, strict=True)]


def reread_env(source: EnvOverrideSource, inputs: TestEnvInputs, *, per_test: bool) -> dict[str, str]:
    """The environment a test's `-execute` reads megatest.config in, in the original: the
    runner's start environment with what the runner exported (link tree, keys, run name,
    area, target, runconfigs variables as written), what was exported around the launch
    (`per_test`: test name, item path and variables, run dir, item info and the test's own
    [pre-launch-env-overrides]) and what `-execute` sets first. The runner's own `[env-override]`
    values are not in it, so a value built on itself (`PATH #{getenv PATH}:/x`) is applied once."""
    env = dict(source.start_env)
    if inputs.linktree:
        env["MT_LINKTREE"] = inputs.linktree
    env.update(inputs.keyvals)
    env["MT_RUNNAME"] = inputs.runname
    env["MT_RUN_AREA_HOME"] = inputs.toppath
    env["MT_TARGET"] = inputs.target
    env.update(inputs.runconfig_default)
    env.update(inputs.runconfig_target)
    if per_test:
        runner_env = source.runner_env
        env.update((k, v) for k, v in inputs.base_env.items() if runner_env.get(k) != v)
        env["MT_TEST_NAME"] = inputs.test_name
        env["MT_ITEMPATH"] = inputs.item_path
        env.update(inputs.item_vars)
        env["MT_TEST_RUN_DIR"] = inputs.run_dir
        env["MT_ITEM_INFO"] = item_info(inputs.item_vars)
    if inputs.cmdinfo is not None:
        env["MT_CMDINFO"] = inputs.cmdinfo
    env["MT_TESTSUITENAME"] = inputs.area_name
    return env


class EnvOverrideResolver:
    """A run's `[env-override]` values as the original's tests see them.

    The values come from megatest.config read again (EnvOverrideSource) in the environment
    reread_env gives: once per run when no value can read a per-test variable (so the run's
    tests keep sharing one environment template), else once per test. A source whose
    section has no variable, command or directive is not read again at all."""

    def __init__(self) -> None:
        self._run_values: dict[tuple, list[tuple[str, str]]] = {}

    def resolve(self, inputs: TestEnvInputs) -> tuple[TestEnvInputs, bool]:
        """`inputs` with the test's `env_override`, and whether it is the test's own (True:
        its environment is built on its own, not from the run's template)."""
        source = inputs.env_override_source
        if source is None or not source.dynamic:
            return inputs, False
        if self._per_test(source, inputs):
            values = source.read(reread_env(source, inputs, per_test=True))
            return inputs.with_env_override(values), True
        key = (inputs.runname, tuple(inputs.keyvals), inputs.linktree, inputs.toppath,
               tuple(inputs.runconfig_default), tuple(inputs.runconfig_target), inputs.cmdinfo,
               inputs.area_name)
        values = self._run_values.get(key)
        if values is None:
            values = self._run_values[key] = source.read(reread_env(source, inputs, per_test=False))
        return inputs.with_env_override(values), False

    @staticmethod
    def _per_test(source: EnvOverrideSource, inputs: TestEnvInputs) -> bool:
        """True when a value can read something that is this test's own: a per-test MT_
        variable, an item variable, or a variable exported for this test alone."""
        if source.depends_on(PER_TEST_NAMES) or source.depends_on(k for k, _ in inputs.item_vars):
            return True
        runner_env = source.runner_env
        own = [k for k, v in inputs.base_env.items() if runner_env.get(k) != v] \
            if inputs.base_env is not runner_env else []
        return bool(own) and source.depends_on(own)


def build_test_env(
    inputs: TestEnvInputs, *, cwd: str | None = None, cache: EnvCache | None = None
) -> dict[str, str]:
    """The environment of one test, in the order of config-language §6.

    `cwd` is where the runconfig values are shell-evaluated (the run dir once it exists).
    `cache`: one EnvCache per run computes the part the tests share once (same result).
    """
    if cache is not None:
        env = cache.build(inputs)
        if env is not None:
            return env
    env = _assemble(
        inputs, inputs.run_dir, inputs.test_name, item_info(inputs.item_vars), inputs.item_path,
        lambda pairs, current: shell_echo_values(pairs, current, cwd=cwd),
    )
    env.update_from(inputs.item_vars)
    env.update_from(inputs.extra.items())
    return dict(env)


def _assemble(
    inputs: TestEnvInputs,
    run_dir: str,
    test_name: str,
    info: str,
    item_path: str,
    evaluate: Callable[[list[tuple[str, str]], Mapping[str, str]], list[tuple[str, str]]],
) -> OrderedEnv:
    """Steps 1-12 of the environment (everything but the item variables and `extra`)."""
    env = OrderedEnv(inputs.base_env)
    # 1-5: what -execute exports first
    if inputs.cmdinfo is not None:
        env["MT_CMDINFO"] = inputs.cmdinfo
    env["MT_TESTSUITENAME"] = inputs.area_name
    env["MT_RUN_AREA_HOME"] = inputs.toppath
    env["MT_TEST_RUN_DIR"] = run_dir
    # 6: the config re-read: [env-override], [fields], valueless keys
    env.update_from(inputs.env_override)
    env.update_from(inputs.keyvals)
    env.update_from(inputs.config_vars)
    # 7: runconfigs [default] then [<target>], shell-echo evaluated in the test's own env
    runconfig = list(inputs.runconfig_default) + list(inputs.runconfig_target)
    if runconfig:
        env.update_from(evaluate(runconfig, env))
    # 8: -setvars
    env.update_from(parse_setvars(inputs.setvars))
    # 9: the required set
    target = inputs.target
    env["MT_TEST_RUN_DIR"] = run_dir
    env["MT_TEST_NAME"] = test_name
    env["MT_ITEM_INFO"] = info
    env["MT_ITEMPATH"] = item_path
    env["MT_RUNNAME"] = inputs.runname
    env["MT_MEGATEST"] = inputs.megatest
    env["MT_TARGET"] = target
    env["MT_LINKTREE"] = inputs.linktree
    env["MT_TESTSUITENAME"] = inputs.area_name
    if inputs.debug_mode is not None:
        env["MT_DEBUG_MODE"] = inputs.debug_mode
    # 10: PATH += the megatest binary's directory
    bindir = os.path.dirname(inputs.megatest)
    if bindir:
        path = env.get("PATH")
        env["PATH"] = f"{path}:{bindir}" if path else bindir
    # 11: [env-override] carried from the launching host
    env.update_from(inputs.env_override)
    # 12: runs:set-megatest-env-vars
    env["MT_LINKTREE"] = inputs.linktree
    env.update_from(inputs.keyvals)
    if "MT_TARGET" not in env:
        env["MT_TARGET"] = target
    env.update_from(inputs.env_override)
    env["MT_RUNNAME"] = inputs.runname
    env["MT_RUN_AREA_HOME"] = inputs.toppath
    return env


# Per-test values in a template: NUL cannot occur in a real environment value.
_SLOTS = ("\0run_dir\0", "\0test_name\0", "\0item_info\0", "\0item_path\0")
# runconfig values whose `echo` result depends only on the run-level environment: variable
# references, quotes, braces, `~`; no command substitution, globbing (cwd), `;`/`|`/`&`
_ECHO_RUN_LEVEL = re.compile(r"[A-Za-z0-9_./:,=+@%^~{}$\"' \t-]*")
_ECHO_PER_TEST_NAMES = ("$$", "PWD", "MT_TEST_RUN_DIR", "RANDOM")


def echo_is_run_level(value: str) -> bool:
    """True when `sh -c "echo VALUE"` gives the same text for every test of a run."""
    return bool(_ECHO_RUN_LEVEL.fullmatch(value)) and not any(n in value for n in _ECHO_PER_TEST_NAMES)


class EnvTemplate:
    """The shared part of the environments EnvCache builds from it: `values` in order, with
    the per-test variables at `slots` (name, index into run dir, test name, item info, item
    path); `snapshot_plans` is SnapshotWriter's, kept with the template it was made from."""

    __slots__ = ("values", "slots", "snapshot_plans")

    def __init__(self, values: dict[str, str], slots: list[tuple[str, int]]):
        self.values = values
        self.slots = slots
        self.snapshot_plans: dict[tuple[str, ...], _SnapshotPlan] = {}


_UNKNOWN = EnvTemplate({}, [])  # marks a key whose template has not been made yet


class EnvParts(NamedTuple):
    """What one test's environment adds to its EnvTemplate: the slot values (run dir, test
    name, item info, item path), then its item variables and `extra`, set last in order.
    Small enough to send between processes in place of the whole environment."""

    per_test: tuple[str, str, str, str]
    item_vars: tuple[tuple[str, str], ...]
    extra: tuple[tuple[str, str], ...]

    @property
    def moved(self) -> tuple[str, ...]:
        """The names set after the template's values, in order."""
        return (*(name for name, _ in self.item_vars), *(name for name, _ in self.extra))

    def fill(self, template: EnvTemplate) -> dict[str, str]:
        """The environment: the template's values in order with the slots filled, then the
        item variables and `extra` (a re-assigned variable moves to the end)."""
        env = dict(template.values)
        per_test = self.per_test
        for name, index in template.slots:
            env[name] = per_test[index]
        for name, value in (*self.item_vars, *self.extra):
            env.pop(name, None)
            env[name] = value
        return env


class EnvCache:
    """The run-level part of many tests' environments, computed once per distinct input.

    A template is built by the very same steps with slot markers for the per-test values
    (run dir, test name, item info and path); a test's environment is the template with its
    values filled in and its item variables and `extra` set last, which is the order and the
    values build_test_env gives. The runconfig values are shell-evaluated once per template
    when their result cannot depend on the test (see echo_is_run_level); otherwise each test
    is built on its own, in its run dir, as before.
    """

    def __init__(self) -> None:
        self._templates: dict[tuple, EnvTemplate | None] = {}

    def build(self, inputs: TestEnvInputs) -> dict[str, str] | None:
        """The test's environment, or None when it must be built on its own."""
        built = self.build_with_template(inputs)
        return built[0] if built is not None else None

    def build_with_template(
        self, inputs: TestEnvInputs
    ) -> tuple[dict[str, str], EnvTemplate, EnvParts] | None:
        """build(), with the template the environment was made from and the test's own part
        (`parts.moved`: the names set after the template's values, in order, which
        SnapshotWriter.write_from_template needs)."""
        key = self._key(inputs)
        template = self._templates.get(key, _UNKNOWN)  # one lookup: the key's hash is not kept
        if template is _UNKNOWN:
            template = self._templates[key] = self._template(inputs)
        if template is None:
            return None
        parts = EnvParts(
            (inputs.run_dir, inputs.test_name, item_info(inputs.item_vars), inputs.item_path),
            tuple(inputs.item_vars), tuple(inputs.extra.items()),
        )
        return parts.fill(template), template, parts

    @staticmethod
    def _key(inputs: TestEnvInputs) -> tuple:
        setvars = inputs.setvars
        base_env = inputs.base_env
        return (
            # names and values as two flat tuples: the same content as the items, hashed faster
            tuple(base_env), tuple(base_env.values()), inputs.toppath, inputs.area_name, tuple(inputs.keyvals),
            inputs.runname, inputs.linktree, inputs.megatest, tuple(inputs.env_override),
            tuple(inputs.config_vars), tuple(inputs.runconfig_default),
            tuple(inputs.runconfig_target),
            setvars if setvars is None or isinstance(setvars, str) else tuple(map(tuple, setvars)),
            inputs.cmdinfo, inputs.debug_mode,
        )

    @staticmethod
    def _template(inputs: TestEnvInputs) -> EnvTemplate | None:
        pairs = list(inputs.runconfig_default) + list(inputs.runconfig_target)
        if not all(echo_is_run_level(v) for _, v in pairs):
            return None

        def evaluate(pairs: list[tuple[str, str]], current: Mapping[str, str]) -> list[tuple[str, str]]:
            # the slot markers are not passed on; the values do not read them (see above)
            visible = {k: ("" if "\0" in v else v) for k, v in current.items()}
            return shell_echo_values(pairs, visible)

        env = _assemble(inputs, *_SLOTS, evaluate)
        slots = []
        for name, value in env.items():
            if "\0" in value:
                if value not in _SLOTS:
                    return None  # a slot marker got mixed into another value: build per test
                slots.append((name, _SLOTS.index(value)))
        return EnvTemplate(dict(env), slots)


def launcher_env(inputs: TestEnvInputs, pre_launch_overrides: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """The variables exported around a launcher command (run-engine §2.1 step 10)."""
    env = OrderedEnv(inputs.base_env)
    env["MT_RUN_AREA_HOME"] = inputs.toppath
    env["MT_TEST_NAME"] = inputs.test_name
    env["MT_RUNNAME"] = inputs.runname
    env["MT_ITEMPATH"] = inputs.item_path
    env.update_from(inputs.item_vars)
    env.update_from(inputs.env_override)
    env["MT_TEST_RUN_DIR"] = inputs.run_dir
    env["MT_ITEM_INFO"] = item_info(inputs.item_vars)
    env["MT_TARGET"] = inputs.target
    env.update_from(pre_launch_overrides)
    return dict(env)


def sh_quote(value: str) -> str:
    """Single-quote for sh: the only character needing care is `'` itself."""
    return "'" + value.replace("'", "'\\''") + "'"


def csh_quote(value: str) -> str:
    """Single-quote for csh: `'` closes and reopens, `!` (history) and newlines are escaped."""
    out = value.replace("'", "'\"'\"'").replace("!", "\\!").replace("\n", "\\\n")
    return "'" + out + "'"


def _snapshot_lines(key: str, value: str) -> tuple[str, str] | None:
    """The megatest.sh and megatest.csh lines of one variable (None: not written)."""
    if not _IDENT.fullmatch(key):
        return None  # not expressible as a shell variable
    prefix = "# " if key in SNAPSHOT_COMMENTED else ""
    if prefix and "\n" in value:
        return None  # a multi-line value cannot be commented out line by line safely
    return f"{prefix}export {key}={sh_quote(value)}", f"{prefix}setenv {key} {csh_quote(value)}"


_NOT_WRITTEN = ("", "")
# the per-test variables (always valid names, never commented out): their lines are made for
# every test, so they skip the general quoting when the value needs none
_PLAIN_NAMES = frozenset({"MT_TEST_RUN_DIR", "MT_TEST_NAME", "MT_TEST_ID", "MT_ITEM_INFO",
                          "MT_ITEMPATH", "MT_RUN_ID"})


class SnapshotWriter:
    """Writes many tests' snapshots; the quoted line of each (name, value) is made once.

    The tests of a run share most of their variables, so their lines come from the cache and
    each file is one write.
    """

    MAX_CACHED = 200_000  # (name, value) pairs kept; per-test values make it grow

    def __init__(self) -> None:
        # (name, value) -> the megatest.sh and megatest.csh lines, newline included
        self._lines: dict[tuple[str, str], tuple[str, str]] = {}

    def write(self, env: Mapping[str, str], run_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
        sh_path, csh_path = self.write_files(env, os.fspath(run_dir))
        return Path(sh_path), Path(csh_path)

    def _line_pair(self, item: tuple[str, str]) -> tuple[str, str]:
        """The lines of a (name, value) pair not in the cache, now cached."""
        entry = self._lines[item] = _line_texts(*item)
        return entry

    def write_files(self, env: Mapping[str, str], run_dir: str) -> tuple[str, str]:
        """write() returning the two paths as strings."""
        cache = self._lines
        if len(cache) > self.MAX_CACHED:
            cache.clear()
        items = list(env.items())
        lines = list(map(cache.get, items))  # the loop stays in C: most pairs are known
        index = 0
        for _ in range(lines.count(None)):  # the new pairs (a test's own values)
            index = lines.index(None, index)
            lines[index] = self._line_pair(items[index])
        return self._write_texts(
            run_dir, "".join(map(itemgetter(0), lines)), "".join(map(itemgetter(1), lines))
        )

    def write_from_template(self, env: Mapping[str, str], template: EnvTemplate,
                            moved: tuple[str, ...], run_dir: str) -> tuple[str, str]:
        """write_files() of an environment EnvCache built from `template` (same files).

        `moved`: the names set after the template's values (item variables, then `extra`), in
        order. The lines of the template's fixed values are joined once per template and
        `moved`; only the per-test variables' lines are made for each test.
        """
        plan = template.snapshot_plans.get(moved)
        if plan is None:
            plan = template.snapshot_plans[moved] = self._plan(template, moved)
        sh, csh = plan.sh[:], plan.csh[:]
        # the per-test values are mostly new: their lines are made, not cached
        for hole, name in zip(plan.holes, plan.names, strict=True):
            sh[hole], csh[hole] = _line_texts(name, env[name])
        return self._write_texts(run_dir, "".join(sh), "".join(csh))

    def _plan(self, template: EnvTemplate, moved: tuple[str, ...]) -> _SnapshotPlan:
        """The key order EnvCache.build gives (template order; each moved name popped and set
        again at the end) split into the fixed lines' text and the per-test names between."""
        per_test = {name for name, _ in template.slots} | set(moved)
        order = [name for name in template.values if name not in moved]
        tail: list[str] = []
        for name in moved:
            if name in tail:
                tail.remove(name)
            tail.append(name)
        plan = _SnapshotPlan()
        chunk_sh: list[str] = []
        chunk_csh: list[str] = []
        for name in order + tail:
            if name in per_test:
                plan.sh += ("".join(chunk_sh), "")
                plan.csh += ("".join(chunk_csh), "")
                plan.holes.append(len(plan.sh) - 1)
                plan.names.append(name)
                chunk_sh, chunk_csh = [], []
            else:
                item = (name, template.values[name])
                lines = self._lines.get(item) or self._line_pair(item)
                chunk_sh.append(lines[0])
                chunk_csh.append(lines[1])
        plan.sh.append("".join(chunk_sh))
        plan.csh.append("".join(chunk_csh))
        return plan

    @staticmethod
    def _write_texts(run_dir: str, sh_text: str, csh_text: str) -> tuple[str, str]:
        if run_dir and not run_dir.endswith("/"):
            sh_path, csh_path = f"{run_dir}/megatest.sh", f"{run_dir}/megatest.csh"
        else:
            sh_path = os.path.join(run_dir, "megatest.sh")
            csh_path = os.path.join(run_dir, "megatest.csh")
        # an empty file still holds its one newline, as "\n".join([]) + "\n" gives
        _write_file(sh_path, sh_text or "\n")
        _write_file(csh_path, csh_text or "\n")
        return sh_path, csh_path


class _SnapshotPlan:
    """Snapshot text of one template: the fixed text of each file in order (`sh`, `csh`),
    with an empty hole at `holes[i]` for the lines of per-test variable `names[i]`."""

    __slots__ = ("sh", "csh", "holes", "names")

    def __init__(self) -> None:
        self.sh: list[str] = []
        self.csh: list[str] = []
        self.holes: list[int] = []
        self.names: list[str] = []


def _line_texts(name: str, value: str) -> tuple[str, str]:
    """The megatest.sh and megatest.csh lines of one variable, newline included ("": none)."""
    if name in _PLAIN_NAMES and "'" not in value and "!" not in value and "\n" not in value:
        # what _snapshot_lines gives such a pair (quoting changes nothing inside '...')
        return f"export {name}='{value}'\n", f"setenv {name} '{value}'\n"
    lines = _snapshot_lines(name, value)
    return (f"{lines[0]}\n", f"{lines[1]}\n") if lines is not None else _NOT_WRITTEN


def _write_file(path: str, text: str) -> None:
    """Replace the file's content with `text` (one open, one write)."""
    data = text.encode("utf-8", "surrogateescape")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        written = os.write(fd, data) if data else 0  # all of it, for a regular file
        if written < len(data):  # a short write goes on
            view = memoryview(data)[written:]
            while view:
                view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_env_snapshots(
    env: Mapping[str, str], run_dir: str | os.PathLike[str], writer: SnapshotWriter | None = None
) -> tuple[Path, Path]:
    """Write `megatest.sh` and `megatest.csh` (sourceable copies of the test's environment)."""
    return (writer or SnapshotWriter()).write(env, run_dir)
