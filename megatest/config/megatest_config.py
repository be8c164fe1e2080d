"""`megatest.config`: how it is read (reference 2.1) and a typed model of it (2.2).

The raw `Config` stays available as `.raw` (any section is allowed, `#{get}` scratch space
included); the model only adds the keys the code acts on, with the original's defaults.
Numbers follow Scheme's `string->number`: a value that is not a number means "unset".
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from megatest.config.patterns import hms_to_seconds, match_test, pattern_entries, split_ws
from megatest.config.reader import Config, Diagnostic, read_config
from megatest.errors import ConfigError, UsageError

CONFIG_NAME = "megatest.config"

DEFAULT_CLEANRERUN_STATES = ("KILLREQ", "KILLED", "UNKNOWN", "INCOMPLETE", "STUCK", "NOT_STARTED")
DEFAULT_CLEANRERUN_STATUSES = ("FAIL", "INCOMPLETE", "ABORT", "CHECK")


_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def parse_number(value: object) -> int | float | None:
    """Scheme string->number for the decimal forms configs use; None if not a number.

    Surrounding spaces/tabs are ignored (a deliberate leniency: string->number rejects
    `"5   "`, which silently turned `priority 5   ` into 0 in the original).
    """
    if not isinstance(value, str):
        return None
    text = value.strip(" \t")
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    return None


def _number(value: object, default: int | float) -> int | float:
    number = parse_number(value)
    return default if number is None else number


def _str(value: object) -> str | None:
    """A plain string value, or None (missing, #f, or a deferred [system] value)."""
    return value if isinstance(value, str) else None


def _comma_list(value: object, default: tuple[str, ...]) -> list[str]:
    text = _str(value)
    return pattern_entries(text) if text is not None else list(default)


def parse_target(target: str, fields: list[str]) -> dict[str, str]:
    """`a/b/c` -> {field1: a, ...}; one part per field, none empty (reference 3.2)."""
    parts = target.split("/")
    if len(parts) != len(fields) or any(part == "" for part in parts):
        shape = "/".join(fields) if fields else "(no [fields] defined)"
        raise UsageError(
            f"invalid target {target!r}: expected {len(fields)} non-empty part(s) {shape}"
        )
    return dict(zip(fields, parts, strict=True))


@dataclass
class Setup:
    """`[setup]`, with the original's defaults."""

    linktree: str | None = None  # $MT_LINKTREE, else [setup] linktree, else <area>/lt
    max_concurrent_jobs: int | float = 1  # not the old manual's "no limit"
    runqueue: int | float = 1
    maxretries: int | float = 100
    reruns: int | float | None = None
    allow_auto_rerun: list[tuple[str, str]] = field(default_factory=list)
    launch_delay: float = 0
    launchwait: bool = True
    run_wait: bool = False
    runtimelim: int | None = None  # seconds, from the `1h 2m 3s` form
    deadtime: int | float = 7200
    incomplete_timeout: int | float | None = None
    give_up_waiting: int | float = 36000
    executable: str | None = None  # None: the running megatest
    testcopycmd: str | None = None  # None: the built-in rsync copy
    minspace: int | float = 10000
    free_space_script: str | None = None
    dbdir_space_required: int | float = 100000
    area_name: str = ""
    use_cache: bool = True
    log_expire_days: int | float = 30

    @property
    def rerun_passes(self) -> int:
        """Extra automatic re-run passes: 1 by default; `reruns N` can only lower it."""
        if self.reruns is None or self.reruns >= 1:
            return 1
        return max(0, int(self.reruns))


@dataclass
class JobTools:
    """`[jobtools]`."""

    launcher: str | None = None  # None: run locally
    useshell: bool = True
    flexi_launcher: bool = False
    maxload: float | None = None
    waitdelay: int | float = 60


@dataclass
class ServerSettings:
    """`[server]`, the keys the server and client act on."""

    transport: str | None = None
    homehost: str | None = None
    hostname: str | None = None
    port: int | None = None
    lowport: int = 32768
    numservers: int = 2
    runtime: int | float = 3600
    timeout_seconds: float = 300  # the value is in hours; 5 minutes when unset
    daemonize: bool = False
    autostart: bool = True  # `runs start` brings a server up when none answers


@dataclass
class ArchiveSettings:
    """`[archive]` and `[archive-disks]`."""

    bup: str = "bup"
    compress: int | float = 9
    minspace_mb: int | float = 1000
    useflavors: bool = False
    targsize: str | None = None
    disks: dict[str, str] = field(default_factory=dict)


@dataclass
class MegatestConfig:
    """The area's megatest.config, read and typed."""

    path: Path
    toppath: Path
    raw: Config
    fields: list[str]
    setup: Setup
    jobtools: JobTools
    launchers: list[tuple[str, str]]  # [launchers] pattern -> host type, in order
    host_types: dict[str, str]
    disks: dict[str, str]
    env_override: dict[str, str]  # shell-evaluated at read time; failed (#f) values left out
    jobgroups: dict[str, int | float]
    tests_paths: list[Path]  # [tests-paths] values that exist, then <toppath>/tests
    missing_tests_paths: list[str]
    server: ServerSettings
    archive: ArchiveSettings
    pre_hook: str | None
    testrollup: dict[str, str]
    validvalues: dict[str, str]
    cleanrerun_states: list[str]
    cleanrerun_statuses: list[str]

    @property
    def env(self) -> dict[str, str]:
        """The environment after the read (env-override and field exports applied)."""
        return self.raw.env

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.raw.diagnostics

    def keyvals(self, target: str) -> dict[str, str]:
        """Validate `target` against `[fields]` and map it to field values."""
        return parse_target(target, self.fields)

    def valid_states(self) -> list[str] | None:
        return _ws_list(self.validvalues.get("state"))

    def valid_statuses(self) -> list[str] | None:
        return _ws_list(self.validvalues.get("status"))

    def valid_values(self, name: str) -> list[str] | None:
        """`[validvalues] NAME` as a whitespace list, None when unrestricted."""
        return _ws_list(self.validvalues.get(name))

    def launcher_for(self, test_name: str, item_path: str = "") -> str | None:
        """common:get-launcher: with flexi-launcher, the host type of the first matching
        `[launchers]` key, looked up in `[host-types]`; else `[jobtools] launcher`."""
        if self.jobtools.flexi_launcher:
            for pattern, host_type in self.launchers:
                if match_test(pattern, test_name, item_path):
                    command = self.host_types.get(host_type)
                    if command is not None:
                        return command
                    break
        return self.jobtools.launcher

    def test_dirs(self) -> dict[str, Path]:
        """Valid tests: name -> dir (a subdirectory holding `testconfig`); the first search
        directory providing a name wins. Sorted by name. A `testconfig` that is a folder or a
        dangling link is a test all the same, whose read fails naming it (that test alone
        fails, it does not vanish); any other non-file (a FIFO would block the read) is a
        ConfigError."""
        found: dict[str, Path] = {}
        for folder in self.tests_paths:
            # names and os.path, not Path objects: an area may hold thousands of tests
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            base = str(folder)
            for name in names:
                if name in found:
                    continue
                path = os.path.join(base, name, "testconfig")
                if os.path.isfile(path) or os.path.isdir(path):
                    found[name] = folder / name
                elif os.path.lexists(path):
                    if os.path.exists(path):
                        raise ConfigError(not_a_testconfig(path), path=path)
                    found[name] = folder / name  # a dangling link
        return dict(sorted(found.items()))


def not_a_testconfig(path: str) -> str:
    """Why a `tests/<name>/testconfig` that exists is not a file the test can be read from."""
    if os.path.islink(path) and not os.path.exists(path):
        return f"testconfig is a link to a missing file ({os.readlink(path)}); fix or remove it"
    if os.path.isdir(path):
        return "testconfig is a folder, not a file; fix or remove it"
    return "testconfig is not a regular file; fix or remove it"


def _ws_list(value: str | None) -> list[str] | None:
    return split_ws(value) if value is not None else None


def _yes(value: object) -> bool:
    return value == "yes"


def _not_no(value: object, default: bool) -> bool:
    return default if value is None else value != "no"


def _str_section(config: Config, name: str) -> dict[str, str]:
    return {k: v for k, v in config.section(name).items() if isinstance(v, str)}


def _auto_rerun(value: str | None) -> list[tuple[str, str]]:
    pairs = []
    for token in split_ws(value or ""):
        state, _, status = token.partition("/")
        pairs.append((state, status))
    return pairs


def build_model(
    config: Config, path: Path, toppath: Path, env: Mapping[str, str] | None = None
) -> MegatestConfig:
    """Type the raw config. `env` (default: the config's own env) supplies MT_LINKTREE and
    MT_TESTSUITE_NAME."""
    env = config.env if env is None else env
    setup = config.section("setup")
    runtimelim = _str(setup.get("runtimelim"))
    area_name = _str(setup.get("area-name"))
    if area_name is None:
        area_name = _str(setup.get("testsuite"))
    if area_name is None:
        area_name = env.get("MT_TESTSUITE_NAME") or toppath.name
    # neither set: the area's `lt` folder, the default the original's author gave linktree
    # (common:get-linktree) so that an area need not set it
    linktree = env.get("MT_LINKTREE") or _str(setup.get("linktree")) or str(toppath / "lt")
    model_setup = Setup(
        linktree=linktree,
        max_concurrent_jobs=_number(setup.get("max_concurrent_jobs"), 1),
        runqueue=_number(setup.get("runqueue"), 1),
        maxretries=_number(setup.get("maxretries"), 100),
        reruns=parse_number(setup.get("reruns")),
        allow_auto_rerun=_auto_rerun(_str(setup.get("allow-auto-rerun"))),
        launch_delay=float(_number(setup.get("launch-delay"), 0)),
        launchwait=_not_no(setup.get("launchwait"), True),
        run_wait=_yes(setup.get("run-wait")),
        runtimelim=hms_to_seconds(runtimelim) if runtimelim is not None else None,
        deadtime=_number(setup.get("deadtime"), 7200),
        incomplete_timeout=parse_number(setup.get("incomplete-timeout")),
        give_up_waiting=_number(setup.get("give-up-waiting"), 36000),
        executable=_str(setup.get("executable")),
        testcopycmd=_str(setup.get("testcopycmd")),
        minspace=_number(setup.get("minspace"), 10000),
        free_space_script=_str(setup.get("free-space-script")),
        dbdir_space_required=_number(setup.get("dbdir-space-required"), 100000),
        area_name=area_name,
        use_cache=_not_no(setup.get("use-cache"), True),
        log_expire_days=_number(setup.get("log-expire-days"), 30),
    )
    jobtools = config.section("jobtools")
    maxload = parse_number(jobtools.get("maxload"))
    model_jobtools = JobTools(
        launcher=_str(jobtools.get("launcher")),
        useshell=_not_no(jobtools.get("useshell"), True),
        flexi_launcher=_not_no(jobtools.get("flexi-launcher"), False),
        maxload=float(maxload) if maxload is not None else None,
        waitdelay=_number(jobtools.get("waitdelay"), 60),
    )
    tests_paths, missing = _tests_paths(config, toppath)
    validvalues = _str_section(config, "validvalues")
    jobgroups = {}
    for group, limit in config.section("jobgroups").items():
        number = parse_number(limit)
        if number is not None:
            jobgroups[group] = number
    return MegatestConfig(
        path=path,
        toppath=toppath,
        raw=config,
        fields=list(config.section("fields")),
        setup=model_setup,
        jobtools=model_jobtools,
        launchers=list(_str_section(config, "launchers").items()),
        host_types=_str_section(config, "host-types"),
        disks=_str_section(config, "disks"),
        env_override=_str_section(config, "env-override"),
        jobgroups=jobgroups,
        tests_paths=tests_paths,
        missing_tests_paths=missing,
        server=_server(config.section("server")),
        archive=_archive(config),
        pre_hook=_str(config.lookup("runs", "pre-hook")),
        testrollup=_str_section(config, "testrollup"),
        validvalues=validvalues,
        cleanrerun_states=_comma_list(validvalues.get("cleanrerun-states"), DEFAULT_CLEANRERUN_STATES),
        cleanrerun_statuses=_comma_list(
            validvalues.get("cleanrerun-statuses"), DEFAULT_CLEANRERUN_STATUSES
        ),
    )


def _tests_paths(config: Config, toppath: Path) -> tuple[list[Path], list[str]]:
    found: list[Path] = []
    missing: list[str] = []
    for value in config.section("tests-paths").values():
        text = _str(value)
        if text is None:
            continue
        folder = Path(text) if os.path.isabs(text) else toppath / text
        (found.append(folder) if folder.is_dir() else missing.append(text))
    found.append(toppath / "tests")
    return found, missing


def _server(section: Mapping[str, object]) -> ServerSettings:
    port = parse_number(section.get("port"))
    timeout = parse_number(section.get("timeout"))
    return ServerSettings(
        transport=_str(section.get("transport")),
        homehost=_str(section.get("homehost")),
        hostname=_str(section.get("hostname")),
        port=int(port) if port is not None else None,
        lowport=int(_number(section.get("lowport"), 32768)),
        numservers=int(_number(section.get("numservers"), 2)),
        runtime=_number(section.get("runtime"), 3600),
        timeout_seconds=float(timeout) * 3600 if timeout is not None else 300.0,
        daemonize=_yes(section.get("daemonize")),
        autostart=_not_no(section.get("autostart"), True),
    )


def _archive(config: Config) -> ArchiveSettings:
    section = config.section("archive")
    bup = _str(section.get("bup"))
    return ArchiveSettings(
        bup=bup if bup is not None else "bup",
        compress=_number(section.get("compress"), 9),
        minspace_mb=_number(section.get("minspace"), 1000),
        useflavors=_yes(section.get("useflavors")),
        targsize=_str(section.get("targsize")),
        disks=_str_section(config, "archive-disks"),
    )


def fields_hook(target: str | None) -> Callable[[str, str, Config, str], None]:
    """The `[fields]` post-section hook: once `[fields]` closes, export each field's part
    of the target into the read's env (keys:target-set-args), so the rest of the file can
    use `#{getenv sysname}`. A target that does not fit is a diagnostic, as the original
    only printed an error there."""

    def hook(closing: str, next_section: str, config: Config, path: str) -> None:
        tgt = target if target is not None else config.env.get("MT_TARGET")
        if tgt is None:
            return
        fields = list(config.section("fields"))
        parts = tgt.split("/")
        if len(parts) == len(fields):
            for name, value in zip(fields, parts, strict=True):
                config.env[name] = value
        else:
            config.diagnostics.append(
                Diagnostic(
                    path,
                    0,
                    f"target {tgt!r} has {len(parts)} part(s) but [fields] has "
                    f"{len(fields)} ({' '.join(fields)})",
                )
            )

    return hook


def read_megatest_config(
    toppath: str | os.PathLike[str],
    *,
    target: str | None = None,
    env: MutableMapping[str, str] | None = None,
    config_name: str = CONFIG_NAME,
) -> MegatestConfig:
    """Read `<toppath>/<config_name>` as launch:setup does: MT_RUN_AREA_HOME (and MT_TARGET
    when a target is given) set in the env mapping first, allow-system on, `[env-override]`
    shell-evaluated and exported, target fields exported when `[fields]` closes, shell
    commands and relative includes run from the area. `env` is updated in place (default: a
    copy of os.environ); os.environ is never touched."""
    top = Path(toppath).resolve()
    path = top / config_name
    env = dict(os.environ) if env is None else env
    env["MT_RUN_AREA_HOME"] = str(top)
    if target is not None:
        env["MT_TARGET"] = target
    config = read_config(
        path,
        allow=True,
        environ_patt="env-override",
        env=env,
        cwd=str(top),
        toppath=str(top),
        target=target,
        post_section_procs=[("^fields$", fields_hook(target))],
    )
    if config is None:
        raise ConfigError("no such file", path=str(path))
    return build_model(config, path, top, env)


def declared_values(toppath: str | os.PathLike[str], name: str,
                    config_name: str = CONFIG_NAME) -> list[str]:
    """`[validvalues] NAME` of the area's megatest.config as a whitespace list ([] when
    absent), read without running anything (no shell, no [system], no exports): a cheap
    look for the states/statuses an area declares beside the original's vocabularies."""
    top = Path(toppath).resolve()
    env = dict(os.environ)
    env["MT_RUN_AREA_HOME"] = str(top)
    config = read_config(top / config_name, allow=False, env=env, cwd=str(top),
                         toppath=str(top))
    if config is None:
        return []
    value = config.lookup("validvalues", name)
    return split_ws(value) if isinstance(value, str) else []
