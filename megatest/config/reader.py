"""The Megatest config-language reader (reference section 1; contract in notes/reader-api.md).

One `read_config` call reads a file and everything it includes into one `Config`. The parser is
a transcription of the reference pseudo-code (1.14) with the original's crashes turned into
`ConfigError`s and its printed errors turned into `Diagnostic`s; `megatest/config/lines.py`
classifies lines, `directives.py` expands `#{...}`, `scheme.py` evaluates `#{scheme}`.

Paths: `cwd` plays the role of the original process's working directory (Megatest chdirs into
the area before reading): shell commands run in it, `[scriptinc]` scripts are looked up in it,
and a bare file name (no directory part) is taken to be in it, so its relative includes resolve
against it. Any other relative path is relative to the Python process's cwd, as usual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass

from megatest.config import lines as L
from megatest.config.directives import Expander, run_lines
from megatest.config.directives import display as _display
from megatest.config.lines import split_ws
from megatest.config.nicepath import nice_path
from megatest.errors import ConfigError

__all__ = [
    "Config",
    "Deferred",
    "Diagnostic",
    "Value",
    "display",
    "read_config",
    "read_config_text",
    "split_ws",
]


# [include]/[scriptinc] nesting allowed (the original has no limit and ends in a crash);
# each level is a few Python frames, so this stays far from the interpreter's own limit.
MAX_INCLUDE_DEPTH = 64


class Deferred:
    """A `KEY [system cmd]` value read in allow="return-procs" mode; call it to run `cmd`."""

    __slots__ = ("cmd", "_env", "_cwd", "_where", "_diagnostics")

    def __init__(
        self,
        cmd: str,
        env: Mapping[str, str],
        cwd: str | None,
        where: tuple[str, int] = ("", 0),
        diagnostics: list[Diagnostic] | None = None,
    ):
        self.cmd = cmd
        self._env = env
        self._cwd = cwd
        self._where = where  # file and line of the `KEY [system ...]` line
        self._diagnostics = diagnostics  # the read's list: a bad exit is reported there

    def __call__(self) -> str:
        """Run the command via /bin/sh in the reader's env and cwd; output lines joined by " ".
        A non-zero exit keeps the output (as the original) and adds a Diagnostic."""
        try:
            out, status = run_lines(self.cmd, self._env, self._cwd)
        except OSError as exc:
            raise ConfigError(f"[system {self.cmd}] could not run: {exc}",
                              path=self._where[0] or None, line=self._where[1] or None) from None
        if status != 0 and self._diagnostics is not None:
            self._diagnostics.append(Diagnostic(
                self._where[0], self._where[1],
                f"[system {self.cmd}] returned bad exit code {status}"))
        return " ".join(out)

    def __repr__(self) -> str:
        return f"Deferred({self.cmd!r})"


Value = str | None | Deferred  # None is Scheme #f (e.g. a failed environ-patt evaluation)


@dataclass
class Diagnostic:
    """A non-fatal error the original printed while reading."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def display(value: object) -> str:
    """CHICKEN `display`: None/False -> "#f", True -> "#t", lists "(a b)", procedures opaque."""
    return _display(value)


class Config:
    """Sections of ordered keys, the environment after the read, and its diagnostics.

    `dynamic`: the read expanded a `#{...}` directive, ran or deferred a `[system ...]`
    value, or read an [include] or [scriptinc]; a config that is not dynamic reads the same
    whatever the environment (a re-read with other variables set would give the same data).
    """

    __slots__ = ("data", "env", "diagnostics", "dynamic")

    def __init__(self, env: MutableMapping[str, str] | None = None):
        self.data: dict[str, dict[str, Value]] = {}
        self.env: MutableMapping[str, str] = env if env is not None else dict(os.environ)
        self.diagnostics: list[Diagnostic] = []
        self.dynamic = False

    def lookup(self, section: str, key: str) -> Value | None:
        sec = self.data.get(section)
        return None if sec is None else sec.get(key)

    def section(self, name: str) -> dict[str, Value]:
        return self.data.get(name, {})

    def has_section(self, name: str) -> bool:
        return name in self.data

    def sections(self) -> list[str]:
        return list(self.data)

    def set(self, section: str, key: str, value: Value) -> None:
        """Set a key; an existing key is removed first so the new value lands at the end."""
        sec = self.data.get(section)
        if sec is None:
            sec = self.data[section] = {}
        elif key in sec:
            del sec[key]
        sec[key] = value

    def to_json_dict(self) -> dict[str, dict[str, str]]:
        return {s: {k: display(v) for k, v in kv.items()} for s, kv in self.data.items()}

    def __repr__(self) -> str:
        return f"Config({self.data!r})"


PostSectionProc = Callable[[str, str, Config, str], None]


@dataclass
class _Source:
    """Physical lines of one file or of one script's output."""

    name: str  # for messages
    path: str | None  # None when the text came from a pipe ([scriptinc] output)
    lines: list[str]


class _Reader:
    """State shared by one top-level read and every file it includes."""

    def __init__(
        self,
        cfg: Config,
        allow: bool | str,
        environ_patt: str | None,
        sections: Sequence[str] | None,
        cwd: str | None,
        toppath: str | None,
        target: str | None,
        args: Mapping[str, str],
        rget: Callable[[str], Value | None] | None = None,
        defer_system: Collection[str] = (),
    ):
        self.cfg = cfg
        self.allow = allow
        self.defer_system = frozenset(defer_system)
        self.sections = None if sections is None else frozenset(sections)
        self.cwd = cwd
        self.target = target
        self.settings: dict[str, str] = {}
        self.reading: list[str] = []  # real paths of the files being read (include loop check)
        self.depth = 0  # how many [include]/[scriptinc] levels deep the read is
        self.origin: dict[str, tuple[str, int]] = {}  # section -> where its header was read
        self.wild_rx: dict[str, re.Pattern[str]] = {}
        self.environ_rx = None
        if environ_patt is not None:
            try:
                self.environ_rx = re.compile(environ_patt)
            except re.error as exc:
                raise ConfigError(f"invalid environ pattern {environ_patt!r}: {exc}") from None
        self.expander = Expander(
            lookup=cfg.lookup,
            rget=self._rget if rget is None else rget,
            env=cfg.env,
            cwd=cwd,
            toppath=toppath,
            args=args,
            config=cfg,
            warn=self._warn,
        )

    # -- helpers
    def _warn(self, path: str, line: int, message: str) -> None:
        self.cfg.diagnostics.append(Diagnostic(path, line, message))

    def _rget(self, var: str) -> Value:
        target = self.target if self.target is not None else self.cfg.env.get("MT_TARGET")
        if target is not None:
            value = self.cfg.lookup(target, var)
            if value is not None:
                return value
        return self.cfg.lookup("default", var)

    def _perm(self, section: str | None) -> bool | str:
        if self.sections is None:
            return self.allow
        if section == "default" or section in self.sections:
            return self.allow
        return False

    def _setenv(self, key: str, value: Value, path: str, lineno: int) -> None:
        """`safe-setenv`: skip keys with ':' and names the OS cannot hold; refuse non-strings."""
        if ":" in key:
            return
        if not isinstance(value, str):
            self._warn(path, lineno, f"bad value for setenv, key={key}")
            return
        if "=" in key or "\0" in key or "\0" in value:
            return
        self.cfg.env[key] = value

    def _eval_in_shell(self, value: str, path: str, lineno: int) -> str | None:
        """`config:eval-string-in-environment`: first line of `echo VALUE`, None if no output."""
        try:
            out, _status = run_lines("echo " + value, self.cfg.env, self.cwd)
        except OSError as exc:
            self._warn(path, lineno, f"problem evaluating {value!r}: {exc}")
            return None
        if not out:
            self._warn(path, lineno, f"problem evaluating {value!r} in the shell: no output")
            return None
        return out[0]

    def _run_system(self, cmd: str, path: str, lineno: int) -> str:
        try:
            out, status = run_lines(cmd, self.cfg.env, self.cwd)
        except OSError as exc:
            self._warn(path, lineno, f"[system {cmd}] could not run: {exc}")
            return ""
        if status != 0:
            self._warn(path, lineno, f"[system {cmd}] returned bad exit code {status}")
        return " ".join(out)

    def _in_cwd(self, path: str) -> str:
        if self.cwd is not None and not os.path.isabs(path):
            return os.path.join(self.cwd, path)
        return path

    def load(self, path: str, name: str, where: tuple[str, int] | None) -> _Source:
        """Read a file's physical lines; unreadable (e.g. a directory) is a ConfigError."""
        try:
            text = _read_text(path)
        except OSError as exc:
            raise _cannot_read(exc, name, where) from None
        return _Source(name, path, L.split_lines(text))

    # -- wildcards and section filter
    def apply_wildcards(self, name: str) -> None:
        """`configf:apply-wildcards`: merge a closing pattern section into matches, delete it."""
        data = self.cfg.data
        if name not in data:
            return
        if "%" in name:
            pattern = name.replace("%", ".*", 1)  # only the FIRST % (copied quirk, see decisions)
        elif len(name) >= 2 and name[0] == "/" and name[-1] == "/" and "\n" not in name:
            pattern = name[1:-1]
        else:
            return
        rx = self.wild_rx.get(pattern)
        if rx is None:
            try:
                rx = self.wild_rx[pattern] = re.compile(pattern)
            except re.error as exc:
                opath, oline = self.origin.get(name, ("<config>", None))
                raise ConfigError(
                    f"section [{name}] is not a valid pattern: {exc}", path=opath, line=oline
                ) from None
        pairs = list(data[name].items())
        set_ = self.cfg.set
        for other in list(data):
            if other != name and rx.fullmatch(other):
                for k, v in pairs:
                    set_(other, k, v)
        del data[name]

    def drop_unselected(self) -> None:
        if self.sections is None:
            return
        data = self.cfg.data
        for name in [s for s in data if s not in self.sections]:
            del data[name]

    # -- the parser
    def read(
        self,
        src: _Source,
        curr_section: str | None,
        post_procs: Sequence[tuple[re.Pattern[str], PostSectionProc]] = (),
    ) -> None:
        cfg, data = self.cfg, self.cfg.data
        set_, perm, classify = cfg.set, self._perm, L.classify
        settings, expand = self.settings, self.expander.expand
        lines, name = src.lines, src.name
        nlines = len(lines)
        idx = 0
        section = "default" if curr_section is None else curr_section
        var_flag: str | None = None
        lead: str | None = None
        rights = perm(curr_section)  # NB: the argument itself, not "default" (first-line quirk)

        while idx < nlines:
            # ---- read one logical line (configf:read-line)
            lineno = idx + 1
            line = lines[idx]
            idx += 1
            while line and line[-1] == "\\":
                if idx >= nlines:
                    raise ConfigError(
                        "a backslash at the end of the last line has no line to join",
                        path=name,
                        line=lineno,
                    )
                line = line[:-1] + lines[idx]
                idx += 1
            if rights != "return-string" and "#{" in line:
                cfg.dynamic = True
                line = expand(line, rights, name, lineno)
            if settings and settings.get("trim-trailing-spaces", "no") != "no":
                line = line.rstrip(" \t\n")

            # ---- classify and act (read-config)
            kind, groups = classify(line)
            if kind == L.KEY_VAL:
                key, val = groups
                if key[0] == "[":
                    _check_header(line, name, lineno)
                if self.environ_rx is not None and self.environ_rx.search(section):
                    evaluated = self._eval_in_shell(val, name, lineno)
                    self._setenv(key, evaluated, name, lineno)
                    set_(section, key, evaluated)
                else:
                    set_(section, key, val)
                var_flag, lead = key, None
            elif kind == L.BLANK:
                var_flag = lead = None
            elif kind == L.CONT:
                if var_flag is not None:
                    ws, text = groups
                    prefix = "" if lead is None else ws.replace(lead, "", 1)
                    old = display(cfg.lookup(section, var_flag))
                    set_(section, var_flag, old + "\n" + prefix + text)
                    if lead is None:
                        lead = ws
                else:
                    var_flag = lead = None
            elif kind == L.KEY_NOV:
                key, val = groups
                if key[0] == "[":
                    _check_header(line, name, lineno)
                self._setenv(key, val, name, lineno)
                set_(section, key, val)
                var_flag, lead = key, None
            elif kind == L.SECTION:
                new = groups[0]
                for rx, proc in post_procs:
                    if rx.fullmatch(section):
                        proc(section, new, cfg, name)
                self.apply_wildcards(section)
                if new not in data:
                    data[new] = {}
                self.origin[new] = (name, lineno)
                rights = perm(section)  # NB: the OLD section's rights for the next line
                section, var_flag, lead = new, None, None
                continue
            elif kind == L.SETTINGS:
                settings[groups[0]] = groups[1]
                var_flag = lead = None
            elif kind == L.INCLUDE:
                cfg.dynamic = True
                self._include(src, groups[0], section, lineno)
                var_flag = lead = None
            elif kind == L.SCRIPT:
                cfg.dynamic = True
                self._scriptinc(src, groups[0], groups[1], section, lineno)
                var_flag = lead = None
            elif kind == L.KEY_SYS:
                cfg.dynamic = True
                p = perm(section)  # the CURRENT section here, unlike the line reading
                if p is True and section in self.defer_system:
                    p = "return-procs"
                if p:
                    key, cmd = groups
                    if p == "return-procs":
                        set_(section, key, Deferred(cmd, cfg.env, self.cwd, (name, lineno),
                                                    cfg.diagnostics))
                    elif p == "return-string":
                        set_(section, key, cmd)
                    else:
                        set_(section, key, self._run_system(cmd, name, lineno))
                var_flag = lead = None
            else:
                shown = line.replace("\n", "\\n")  # keep the diagnostic on one line
                self._warn(name, lineno, f'problem parsing: "{shown}"')
                var_flag = lead = None
            rights = perm(section)

        self.apply_wildcards(section)  # the end of the text closes the last section
        self.drop_unselected()

    def _include(self, src: _Source, inc: str, section: str, lineno: int) -> None:
        if src.path is None:
            raise ConfigError(
                f"[include {inc}] inside the output of a [scriptinc] is not allowed",
                path=src.name,
                line=lineno,
            )
        if not inc.startswith("/"):
            base = os.path.dirname(src.path) or "."
            inc = nice_path(base + "/" + inc, self.cwd, self.cfg.env)
        if not os.path.exists(inc):
            # the original skips it with a debug message; a warning says what was skipped
            self._warn(src.name, lineno, f"[include] file not found, skipped: {inc!r}")
            return
        if self.depth >= MAX_INCLUDE_DEPTH:
            raise ConfigError(
                f"includes nested more than {MAX_INCLUDE_DEPTH} deep (at {inc})",
                path=src.name,
                line=lineno,
            )
        real = os.path.realpath(inc)
        if real in self.reading:
            raise ConfigError(f"include loop: {inc} is already being read", path=src.name, line=lineno)
        if os.path.isdir(real):
            raise ConfigError(f"[include] names a directory: {inc}", path=src.name, line=lineno)
        source = self.load(inc, inc, (src.name, lineno))
        self.reading.append(real)
        self.depth += 1
        try:
            self.read(source, section)
        finally:
            self.reading.pop()
            self.depth -= 1

    def _scriptinc(self, src: _Source, script: str, params: str, section: str, lineno: int) -> None:
        full = self._in_cwd(script)
        if not (os.path.exists(full) and os.access(full, os.X_OK)):
            self._warn(src.name, lineno, f"Script not found or not executable: {script}")
            return
        try:
            out, status = run_lines(script + " " + params, self.cfg.env, self.cwd)
        except OSError as exc:
            self._warn(src.name, lineno, f"[scriptinc {script}] could not run: {exc}")
            return
        if status != 0:
            self._warn(src.name, lineno, f"[scriptinc {script}] returned bad exit code {status}")
        name = f"{src.name}:{lineno}:[scriptinc {script}{params}]"
        if self.depth >= MAX_INCLUDE_DEPTH:
            raise ConfigError(
                f"includes nested more than {MAX_INCLUDE_DEPTH} deep (at [scriptinc {script}])",
                path=src.name,
                line=lineno,
            )
        self.depth += 1
        try:
            self.read(_Source(name, None, out), section)
        finally:
            self.depth -= 1


def _source_path(path: str, cwd: str | None) -> str:
    """Where a top-level file is: a bare file name is in `cwd` (Megatest reads from the area
    directory it chdirs to); any other relative path is relative to the process cwd."""
    if os.path.isabs(path):
        return path
    if os.path.dirname(path):
        return os.path.abspath(path)
    return os.path.join(cwd, path) if cwd is not None else path


def _check_header(line: str, path: str, lineno: int) -> None:
    """A `[` line without any `]` is an unterminated header (the original made it a key)."""
    if "]" not in line:
        raise ConfigError(f"unterminated section header (no ']'): {line}", path=path, line=lineno)


def _compile_procs(
    procs: Iterable[tuple[str, PostSectionProc]],
) -> list[tuple[re.Pattern[str], PostSectionProc]]:
    out = []
    for patt, proc in procs:
        try:
            out.append((re.compile(patt), proc))
        except re.error as exc:
            raise ConfigError(f"invalid post-section pattern {patt!r}: {exc}") from None
    return out


def _prepare(
    into: Config | None, env: MutableMapping[str, str] | None, precreate: Sequence[str]
) -> Config:
    if into is not None:
        cfg = into
        if env is not None:
            cfg.env = env
    else:
        cfg = Config(env)
    for name in precreate:
        cfg.data.setdefault(name, {})
    return cfg


def read_config(
    path: str | os.PathLike[str],
    *,
    allow: bool | str = True,
    environ_patt: str | None = None,
    sections: Sequence[str] | None = None,
    precreate: Sequence[str] = (),
    env: MutableMapping[str, str] | None = None,
    cwd: str | None = None,
    toppath: str | None = None,
    target: str | None = None,
    post_section_procs: Sequence[tuple[str, PostSectionProc]] = (),
    into: Config | None = None,
    args: Mapping[str, str] | None = None,
    rget: Callable[[str], Value | None] | None = None,
    defer_system: Collection[str] = (),
    _text: str | None = None,
) -> Config | None:
    """Read a config file (and its includes). Returns None when the file does not exist.

    allow: True (run shell directives and [system]), False (shell directives kept as the
    literal `#{(shell) ...}` text, [system] dropped),
    "return-procs" ([system] -> Deferred), "return-string" (no #{} expansion, [system] -> cmd).
    env: read by getenv, written by exports, given to shells; None = a private os.environ copy.
    args: command-line options visible to #{scheme (args:get-arg "-x")}.
    rget: what `#{rget VAR}` looks up (default: the target then `default` section of the
    config being read, as in runconfigs.config).
    defer_system: sections whose [system] values are deferred (as in "return-procs") even
    when allow is True.
    _text: read this text as if it were the file `path` (read_config_text).
    """
    fspath = os.fspath(path)
    phys = _source_path(fspath, cwd)
    text = _text
    unreadable: OSError | None = None
    if text is None:
        # Open first and ask "does it exist?" only when that fails: one system call less per
        # read, the same outcomes (missing -> None; there but unreadable -> load's error,
        # raised after the option checks below, as before).
        try:
            text = _read_text(phys)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path ("missing")
            if not os.path.exists(phys):
                return None
            if not isinstance(exc, OSError):
                raise
            unreadable = exc
    cfg = _prepare(into, env, precreate)
    reader = _Reader(cfg, allow, environ_patt, sections, cwd, toppath, target, args or {}, rget,
                     defer_system)
    procs = _compile_procs(post_section_procs)
    if unreadable is not None:
        raise _cannot_read(unreadable, fspath, None)
    assert text is not None
    source = _Source(fspath, phys, L.split_lines(text))
    if _text is None and _may_include(text):
        # The include-loop check needs the file's real path (an lstat per path component);
        # a text without "[include", "#{" and "\\" has no logical line that can become an
        # [include] (lines are not joined or expanded), so it never looks.
        reader.reading.append(os.path.realpath(phys))
    reader.read(source, None, procs)
    return cfg


def _read_text(path: str) -> str:
    """The file's text (undecodable bytes kept as surrogates). Plain descriptor reads: half
    the cost of a buffered `open()` for the small files configs are; a directory fails on
    the read with the same EISDIR."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunk = os.read(fd, _CHUNK)
        chunks = [chunk]
        while chunk:
            chunk = os.read(fd, _CHUNK)
            chunks.append(chunk)
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 2 else b"".join(chunks)
    return data.decode("utf-8", errors="surrogateescape")


_CHUNK = 1 << 16


def _cannot_read(exc: OSError, name: str, where: tuple[str, int] | None) -> ConfigError:
    wpath, wline = where if where is not None else (name, None)
    reason = exc.strerror or str(exc)
    return ConfigError(f"cannot read {name}: {reason}", path=wpath, line=wline)


def _may_include(text: str) -> bool:
    """Can a logical line of this file be an [include]? Only if one is written out, or lines
    are joined (trailing backslash) or expanded (#{...}) into one."""
    return "[include" in text or "#{" in text or "\\" in text


def read_config_text(text: str, name: str = "<string>", **options: object) -> Config:
    """Read config text as if it were the file `name` (includes resolve against its
    directory); the keyword options are read_config's."""
    cfg = read_config(name, _text=text, **options)  # type: ignore[arg-type]
    assert cfg is not None  # text is never "missing"
    return cfg
