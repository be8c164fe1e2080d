"""`#{scheme expr}` / `#{scm expr}` directives: Megatest's names on top of `megatest.scheme`.

As in the original, the directive's text is read as the body of `(lambda (ht) TEXT)` (first
datum only, so a `;` comment or a stray parenthesis has the same effect) and the procedure
is applied to the config being read. The evaluator is the shared sandboxed Scheme
(`megatest.scheme`, imported only when a config has a `#{scheme}`); this module adds what
Megatest itself offers configs: the environment (`getenv`, `setenv`, ... on the read's env
mapping, never `os.environ`), `args:get-arg`, `*toppath*`, `ht` with
`config-lookup`/`configf:lookup`, `runconfigs-get`, `nice-path`, `create-directory`
(relative to the read's cwd), `current-directory`, `get-host-name`, `file-exists?`,
`db:dbfile-path` (the area's database folder).

Errors: a name neither provides (e.g. `rmt:get-tests`) raises `UnboundName`, a runaway
evaluation `SchemeLimitError`; the directive code turns both into a ConfigError naming
file:line. Any other `SchemeError` is what the original's `handle-exceptions` catches: the
directive's fallback text is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from megatest.config.nicepath import nice_path
from megatest.scheme import NIL, UNSPECIFIED, Interpreter, Pair, Reader, SchemeError, Symbol
from megatest.scheme.evaluator import DEFAULT_STEP_LIMIT


@dataclass
class SchemeContext:
    """What a `#{scheme}` expression may see and touch."""

    env: MutableMapping[str, str]
    cwd: str | None = None
    toppath: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    config: Any = None  # the config being read (`ht`)
    lookup: Callable[[str, str], Any] | None = None  # (section, key) -> value or None
    rget: Callable[[str], Any] | None = None  # runconfigs-get: var -> value or None
    output: list[str] = field(default_factory=list)  # what display/print wrote
    step_limit: int = DEFAULT_STEP_LIMIT


def evaluate(text: str, ctx: SchemeContext) -> Any:
    """Apply `(lambda (ht) TEXT)` to the config; return its value (SchemeError on failure)."""
    proc_form = Reader("(lambda (ht)" + text + ")").read()
    interp = Interpreter(megatest_bindings(ctx), step_limit=ctx.step_limit)
    try:
        return interp.run(Pair(proc_form, Pair(Symbol.of("ht"), NIL)))
    finally:
        ctx.output.extend(interp.output)


def _string(x: Any, who: str) -> str:
    if type(x) is not str:
        raise SchemeError(f"({who}) bad argument type - not a string")
    return x


def _or_false(value: Any) -> Any:
    return False if value is None else value


def megatest_bindings(ctx: SchemeContext) -> dict[str, Any]:
    """The Megatest-side names a config's Scheme sees, bound to this read's context."""

    def getenv(name: Any) -> Any:
        return _or_false(ctx.env.get(_string(name, "get-environment-variable")))

    def setenv(name: Any, value: Any) -> Any:
        _string(name, "setenv")
        _string(value, "setenv")
        if not name or "=" in name or "\0" in name or "\0" in value:
            raise SchemeError(f"(setenv) invalid name or value: {name}")
        ctx.env[name] = value
        return UNSPECIFIED

    def unsetenv(name: Any) -> Any:
        ctx.env.pop(_string(name, "unsetenv"), None)
        return UNSPECIFIED

    def get_arg(name: Any, default: Any = False) -> Any:
        value = ctx.args.get(_string(name, "args:get-arg"))
        return default if value is None else value

    def in_cwd(path: str) -> str:
        return path if os.path.isabs(path) or ctx.cwd is None else os.path.join(ctx.cwd, path)

    def create_directory(path: Any, parents: Any = False) -> Any:
        full = in_cwd(_string(path, "create-directory"))
        try:
            if parents is not False:
                os.makedirs(full, exist_ok=True)
            else:
                os.mkdir(full)
        except OSError as exc:
            raise SchemeError(f"(create-directory) cannot create directory: {exc}") from exc
        return path

    def config_lookup(cfg: Any, section: Any, key: Any) -> Any:
        _string(section, "config-lookup")
        _string(key, "config-lookup")
        if cfg is not ctx.config or ctx.lookup is None:
            raise SchemeError("(config-lookup) not a config")
        return _or_false(ctx.lookup(section, key))

    def runconfigs_get(cfg: Any, var: Any) -> Any:
        _string(var, "runconfigs-get")
        if cfg is not ctx.config or ctx.rget is None:
            raise SchemeError("(runconfigs-get) not a config")
        return _or_false(ctx.rget(var))

    def nice(path: Any) -> str:
        return nice_path(_string(path, "nice-path"), ctx.cwd, ctx.env)

    def file_exists(path: Any) -> Any:
        name = _string(path, "file-exists?")
        return name if os.path.exists(in_cwd(name)) else False

    def dbfile_path(*_ignored: Any) -> str:
        # the folder holding the area's main.db and <run-id>.db files, made if missing, as
        # the original's db:dbfile-path (its arguments are ignored there too)
        if ctx.toppath is None:
            raise SchemeError("(db:dbfile-path) not in a megatest area")
        from megatest.store.paths import db_dir  # only configs that ask pay for it

        folder = db_dir(ctx.toppath)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SchemeError(f"(db:dbfile-path) cannot create {folder}: {exc}") from exc
        return str(folder)

    return {
        "ht": ctx.config,
        "*toppath*": _or_false(ctx.toppath),
        "getenv": getenv,
        "get-environment-variable": getenv,
        "setenv": setenv,
        "set-environment-variable!": setenv,
        "unsetenv": unsetenv,
        "unset-environment-variable!": unsetenv,
        "args:get-arg": get_arg,
        "create-directory": create_directory,
        "current-directory": lambda: ctx.cwd if ctx.cwd is not None else os.getcwd(),
        "config-lookup": config_lookup,
        "configf:lookup": config_lookup,
        "runconfigs-get": runconfigs_get,
        "nice-path": nice,
        "common:nice-path": nice,
        "get-host-name": _host_name,
        "file-exists?": file_exists,
        "db:dbfile-path": dbfile_path,
    }


def _host_name() -> str:
    import socket  # only a few configs ask

    return socket.gethostname()
