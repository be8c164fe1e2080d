"""`tests/<name>/testconfig`: how it is read (reference 4.1) and a typed model (4.2).

The same file is read in different environments: for planning (mode "return-procs", so a
`KEY [system cmd]` value stays a callable until the queue needs it, item variables not yet
set) and at launch (mode True, item variables set). `[pre-launch-env-vars]` values are
shell-evaluated and exported into the env mapping given to the read, on purpose: the
original leaks them into the runner's environment.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Collection, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from stat import S_ISLNK
from typing import Literal, NamedTuple

from megatest.config.items import (
    Item,
    ItemMaps,
    check_itemmap,
    expand_items,
    has_deferred,
    itemmaps_from,
    lookup_itemmap,
)
from megatest.config.megatest_config import not_a_testconfig, parse_number
from megatest.config.patterns import hms_to_seconds, split_tags, split_ws
from megatest.config.reader import Config, Diagnostic, read_config
from megatest.config.rget import runconfigs_rget
from megatest.errors import ConfigError

TESTCONFIG_NAME = "testconfig"
PRE_LAUNCH_ENV_PATT = "pre-launch-env-vars"

# [requirements] mode words; `itemmatch` is another name for `itemwait`.
MODES = ("normal", "toplevel", "itemwait", "exclusive")
_MODE_ALIASES = {"itemmatch": "itemwait"}

# [skip] keys in the order they are checked; only the first present one counts.
SKIP_KEYS = ("prevrunning", "fileexists", "rundelay")

# `stepname [{params}] command`: the {params} prefix is parsed and ignored.
_STEP_RX = re.compile(r"(\{([^}]*)\}[ \t]*|)(.*)", re.DOTALL)

ReadMode = Literal["plan", "launch", "raw"]


class EzStep(NamedTuple):
    name: str
    command: str
    params: str | None  # the text inside `{...}`, "for future use" in the original


class SkipRule(NamedTuple):
    """The `[skip]` check that applies: kind is prevrunning, fileexists or rundelay."""

    kind: str
    value: str
    path: Path | None = None  # fileexists: resolved against the test's source dir
    seconds: int | None = None  # rundelay: the `15m 15s` form in seconds


@dataclass
class TestConfig:
    """One test's testconfig, read in one environment."""

    __test__ = False  # not a pytest test class

    name: str
    test_dir: Path
    raw: Config
    waiton: list[str]
    waitor: list[str]
    modes: list[str]
    priority: int | float
    runtimelim: int | None  # seconds; None: use [setup] runtimelim
    itemmaps: ItemMaps
    skip: SkipRule | None
    ezsteps: list[EzStep]
    logpro: dict[str, str]
    test_meta: dict[str, str]
    tags: list[str]
    jobgroup: str | None
    triggers: dict[str, str]
    disks: dict[str, str] | None  # replaces megatest.config [disks] when present
    runscript: str | None
    # what the launch exports for the test (its env and megatest.sh inherit it):
    # [pre-launch-env-vars] (shell-evaluated at the read), then [pre-launch-env-overrides]
    pre_launch_env_overrides: dict[str, str]
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.test_dir / TESTCONFIG_NAME

    @property
    def itemized(self) -> bool:
        """Has `[items]` or `[itemstable]` (even empty): the runner then expands items."""
        return self.raw.has_section("items") or self.raw.has_section("itemstable")

    @property
    def items_deferred(self) -> bool:
        """Some item value is a `[system]` call that `items()` will run."""
        return has_deferred(self.raw.section("items"), self.raw.section("itemstable"))

    def items(self) -> list[Item]:
        """The expanded items (section 5); `[Item(())]` for a non-itemized test, `[]` for
        zero items. Deferred values are run now, in the env/cwd of the read."""
        items = self.raw.section("items") if self.raw.has_section("items") else None
        table = self.raw.section("itemstable") if self.raw.has_section("itemstable") else None
        return expand_items(items, table)

    def itemmap_for(self, prerequisite: str) -> str | None:
        """The map turning this (waiting) test's item path into `prerequisite`'s.

        Rows are selected by the prerequisite's name everywhere (the manual's reading; the
        original used the waiting test's own name in db:compare-itempaths, see decisions).
        """
        return lookup_itemmap(self.itemmaps, prerequisite)

    def map_item_path(self, prerequisite: str, item_path: str) -> str:
        from megatest.config.items import apply_itemmap

        mapping = self.itemmap_for(prerequisite)
        return item_path if mapping is None else apply_itemmap(mapping, item_path)

    def logpro_for(self, step: str) -> str | None:
        return self.logpro.get(step)

    def triggers_for(self, state: str, status: str) -> list[str]:
        """Trigger commands for a change to STATE/STATUS: keys `STATE/STATUS`, `STATE/`,
        `/STATUS`, in that order."""
        keys = (f"{state}/{status}", f"{state}/", f"/{status}")
        return [self.triggers[k] for k in keys if k in self.triggers]


def _str(value: object) -> str | None:
    if callable(value):
        value = value()
    return value if isinstance(value, str) else None


def _words(value: object) -> list[str]:
    text = _str(value)
    return split_ws(text) if text is not None else []


def _strs(section: Mapping[str, object] | None) -> dict[str, str]:
    """A section's string values (a new dict; empty for a missing section)."""
    if not section:
        return {}
    return {k: v for k, v in section.items() if isinstance(v, str)}


def _launch_exports(data: Mapping[str, Mapping[str, object]]) -> dict[str, str]:
    """The variables a launch exports (reference 4.2, 6): the original exports
    [pre-launch-env-vars] into the launching process as the testconfig is read, so the test
    inherits them; [pre-launch-env-overrides] are exported just before the launcher runs,
    over them. Keys the original would not export (with ':' or '=') are left out."""
    out = _strs(data.get(PRE_LAUNCH_ENV_PATT))
    out.update(_strs(data.get("pre-launch-env-overrides")))
    return {k: v for k, v in out.items() if ":" not in k and "=" not in k and "\0" not in k + v}


def build_testconfig(
    name: str,
    test_dir: Path,
    config: Config,
    *,
    known_tests: Collection[str] | None = None,
) -> TestConfig:
    """Type a read testconfig. `known_tests` (all test names of the area) drops unknown
    waitons with a diagnostic; None keeps every name."""
    return _build(name, test_dir, str(test_dir / TESTCONFIG_NAME), config, known_tests)


def _build(
    name: str,
    test_dir: Path,
    path: str,
    config: Config,
    known_tests: Collection[str] | None,
) -> TestConfig:
    """build_testconfig with the file's path (for messages) already known. Deferred values
    are run in the order the fields are listed (waiton, waitor, mode, ..., runscript)."""
    diags = config.diagnostics
    data = config.data
    req = data.get("requirements")
    modes = []
    if req:
        waiton = _dependencies(req.get("waiton"), name, known_tests, "waiton", path, diags)
        waitor = _dependencies(req.get("waitor"), name, known_tests, "waitor", path, diags)
        for word in _words(req.get("mode")):
            mode = _MODE_ALIASES.get(word, word)
            if mode in MODES:
                modes.append(mode)
            else:
                diags.append(Diagnostic(path, 0, f"unknown [requirements] mode {word!r} ignored"))
        priority = parse_number(_str(req.get("priority")))
        runtimelim = _str(req.get("runtimelim"))
        itemmap = _str(req.get("itemmap"))
    else:  # what each line above gives for an absent or empty [requirements]
        waiton, waitor, priority, runtimelim, itemmap = [], [], None, None, None
    itemmaps = itemmaps_from(itemmap, data.get("itemmap"))
    for _, mapping in itemmaps:
        try:
            check_itemmap(mapping)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=path) from None
    meta = _strs(data.get("test_meta"))
    skip = data.get("skip")
    ezsteps = data.get("ezsteps")
    setup = data.get("setup")
    return TestConfig(
        name=name,
        test_dir=test_dir,
        raw=config,
        waiton=waiton,
        waitor=waitor,
        modes=modes or ["normal"],
        priority=priority if priority is not None else 0,
        runtimelim=hms_to_seconds(runtimelim) if runtimelim is not None else None,
        itemmaps=itemmaps,
        skip=_skip_rule(skip, test_dir) if skip else None,
        ezsteps=_ezsteps(ezsteps, path) if ezsteps else [],
        logpro=_strs(data.get("logpro")),
        test_meta=meta,
        tags=split_tags(meta.get("tags")),
        jobgroup=meta.get("jobgroup"),
        triggers=_strs(data.get("triggers")),
        disks=_strs(data["disks"]) if "disks" in data else None,
        runscript=_str(setup.get("runscript")) if setup else None,
        pre_launch_env_overrides=_launch_exports(data),
        diagnostics=diags,
    )


def _dependencies(
    value: object,
    name: str,
    known: Collection[str] | None,
    what: str,
    path: str,
    diags: list[Diagnostic],
) -> list[str]:
    """waiton/waitor names: a deferred value is run now; self and unknown names dropped."""
    out: list[str] = []
    for dep in _words(value):
        if dep == name:
            diags.append(Diagnostic(path, 0, f"test {name} lists itself in {what}; ignored"))
        elif known is not None and dep not in known:
            diags.append(Diagnostic(path, 0, f"{what} {dep!r}: no such test; ignored"))
        elif dep not in out:
            out.append(dep)
    return out


def _skip_rule(section: Mapping[str, object], test_dir: Path) -> SkipRule | None:
    for kind in SKIP_KEYS:
        if kind not in section:
            continue
        value = _str(section[kind]) or ""
        if kind == "fileexists":
            return SkipRule(kind, value, path=test_dir / value if value else test_dir)
        if kind == "rundelay":
            return SkipRule(kind, value, seconds=hms_to_seconds(value))
        return SkipRule(kind, value)
    return None


def _ezsteps(section: Mapping[str, object], path: str) -> list[EzStep]:
    steps = []
    for step, value in section.items():
        text = _str(value) or ""
        # a multi-line value (continuation lines) is one script, its indentation kept as
        # the reader's baseline rule gives it (the original's parser failed at run time)
        found = _STEP_RX.fullmatch(text)
        assert found is not None  # the pattern matches any text
        steps.append(EzStep(step, found.group(3), found.group(2)))
    return steps


def testconfig_env(
    base: Mapping[str, str],
    *,
    toppath: Path,
    test_name: str,
    runname: str | None = None,
    item: Item | None = None,
) -> dict[str, str]:
    """The env a testconfig is read in: base + MT_RUN_AREA_HOME, MT_TEST_NAME, and for a
    launch MT_RUNNAME, MT_ITEMPATH, MT_ITEM_INFO and every item variable."""
    env = dict(base)
    env["MT_RUN_AREA_HOME"] = str(toppath)
    env["MT_TEST_NAME"] = test_name
    if runname is not None:
        env["MT_RUNNAME"] = runname
    if item is not None:
        env.update(item.env())
    return env


def read_testconfig(
    test_dir: str | os.PathLike[str],
    *,
    toppath: str | os.PathLike[str],
    mode: ReadMode = "plan",
    env: MutableMapping[str, str] | None = None,
    target: str | None = None,
    runname: str | None = None,
    item: Item | None = None,
    known_tests: Collection[str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> TestConfig:
    """Read `<test_dir>/testconfig` (test name = the dir's name).

    mode "plan": allow "return-procs" ([system] values deferred), item vars not set;
    "launch": allow True with `item`'s variables set, except the [system] values of [items]
    and [itemstable] (the items were expanded when the run was planned: running their
    command again for each of n items would cost O(n) per launch); "raw": allow False, no
    environ-patt
    (triggers/test_meta reads). MT_TEST_NAME (and the rest of `testconfig_env`) is set in `env`
    before reading; `env` is updated in place ([pre-launch-env-vars] exports). cwd defaults
    to the area. Raises ConfigError when the file is missing.
    """
    # absolute: the reader resolves a relative path against `cwd`, not the process cwd
    folder, top = _resolve_pair(test_dir, toppath)
    name = os.path.basename(folder)
    path = os.path.join(folder, TESTCONFIG_NAME)
    env = dict(os.environ) if env is None else env
    _set_testconfig_vars(env, top, name, runname, item)
    allow: bool | str = _ALLOW[mode]
    try:
        config = read_config(
            path,
            allow=allow,
            environ_patt=PRE_LAUNCH_ENV_PATT if allow else None,
            env=env,
            cwd=top if cwd is None else str(cwd),
            toppath=top,
            target=target,
            rget=runconfigs_rget(top, target, env),  # #{rget V}: the runconfigs value
            defer_system=_ITEMS_SECTIONS if mode == "launch" else (),
        )
    except ConfigError:
        _not_a_file(path)
        raise
    if config is None:
        _not_a_file(path)
        raise ConfigError(f"test {name!r} has no testconfig", path=path)
    # the caller's Path when it already names the real folder (a Path is immutable)
    same = type(test_dir) is _PATH_TYPE and str(test_dir) == folder
    return _build(name, test_dir if same else Path(folder), path, config, known_tests)  # type: ignore[arg-type]


def _not_a_file(path: str) -> None:
    """A `testconfig` that is there but is not a file (a folder, a dangling link): a
    ConfigError saying so, the fix plain (looked at only once a read has failed)."""
    if os.path.lexists(path) and not os.path.isfile(path):
        raise ConfigError(not_a_testconfig(path), path=path)


_PATH_TYPE = type(Path())
_ALLOW: dict[str, bool | str] = {"plan": "return-procs", "launch": True, "raw": False}
_ITEMS_SECTIONS = ("items", "itemstable")


def _set_testconfig_vars(
    env: MutableMapping[str, str], top: str, name: str, runname: str | None, item: Item | None
) -> None:
    """`env.update(testconfig_env(env, ...))` without copying `env`: the same keys set in the
    same order, so the same values and key order."""
    env["MT_RUN_AREA_HOME"] = top
    env["MT_TEST_NAME"] = name
    if runname is not None:
        env["MT_RUNNAME"] = runname
    if item is not None:
        env.update(item.env())


def _resolve_pair(
    test_dir: str | os.PathLike[str], toppath: str | os.PathLike[str]
) -> tuple[str, str]:
    """`str(Path(test_dir).resolve())`, `str(Path(toppath).resolve())`, in that order (so the
    same error if both fail). A test dir inside the area is walked on from the area's real
    path: only its own components (`tests`, the name) are looked at again."""
    top_text = _path_text(toppath)
    top = _real_top(top_text) if top_text is not None else None
    dir_text = _path_text(test_dir)
    folder = None
    if dir_text is not None:
        if top is not None and top_text is not None and _is_under(dir_text, top_text):
            folder = _real_or_none("" if top == "/" else top, dir_text[len(top_text) :])
        else:
            folder = _real_or_none("", dir_text)
    if folder is None:
        folder = str(Path(test_dir).resolve())
    if top is None:
        top = str(Path(toppath).resolve())
    return folder, top


@functools.lru_cache(maxsize=32)
def _real_top(top_text: str) -> str | None:
    """_real_or_none of an area's top folder, looked at once per process: a run reads every
    testconfig against the same one."""
    return _real_or_none("", top_text)


def _path_text(path: object) -> str | None:
    """The text `Path(path)` would resolve, when it is an absolute str path; else None."""
    if isinstance(path, str):
        text = path
    elif isinstance(path, PurePath):
        text = str(path)
    else:
        return None
    return text if text[:1] == "/" else None


def _is_under(path: str, top: str) -> bool:
    """`top` is a leading run of whole components of `path` (the texts, as written)."""
    if not path.startswith(top):
        return False
    return len(path) == len(top) or top[-1] == "/" or path[len(top)] == "/"


def _real_or_none(real: str, rest: str) -> str | None:
    """The real path of `real` + "/" + `rest`, when `real` is a real path ("" for "/") and
    every component of `rest` exists and is not a symlink: os.path.realpath then keeps each
    component as it is (skipping empty and "." ones) and Path.resolve's loop check cannot
    fail. None for anything else ("..", a symlink, a missing or unreadable component), which
    the caller hands to Path.resolve."""
    for part in rest.split("/"):
        if not part or part == ".":
            continue
        if part == "..":
            return None
        real = real + "/" + part
        try:
            if S_ISLNK(os.lstat(real).st_mode):
                return None
        except (OSError, ValueError):
            return None
    return real or "/"
