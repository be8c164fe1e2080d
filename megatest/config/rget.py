"""`#{rget VAR}` in a testconfig: the runconfigs value for the target.

The manual defines rget as "variable v from target or default of runconfigs file". Inside
runconfigs.config itself the reader looks in the config being read; a testconfig gets this
lookup instead, which reads the area's runconfigs.config (sections `default` and the
target) the first time a `#{rget}` asks, so testconfigs without rget cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from megatest.config.reader import Value


def runconfigs_rget(toppath: str, target: str | None, env: Mapping[str, str]) -> Callable[[str], Value | None]:
    """A `var -> value` lookup: `[target]` first, then `[default]` (target: the given one,
    else `$MT_TARGET` from `env` when the lookup first runs; none: `[default]` only)."""
    found: dict[str, dict[str, Value]] = {}

    def sections() -> dict[str, Value]:
        if "merged" not in found:
            found["merged"] = _read(toppath, target if target is not None else env.get("MT_TARGET"), env)
        return found["merged"]

    def rget(var: str) -> Value | None:
        return sections().get(var)

    return rget


def _read(toppath: str, target: str | None, env: Mapping[str, str]) -> dict[str, Value]:
    from megatest.config.runconfigs import read_runconfigs

    # a copy: exports of runconfigs.config must not leak into the testconfig's environment
    runconfigs = read_runconfigs(toppath, target if target is not None else "default", env=dict(env))
    if runconfigs.raw is None:
        return {}
    merged: dict[str, Value] = dict(runconfigs.raw.section("default"))
    if target is not None:
        # (or (lookup target var) (lookup "default" var)): a #f in the target falls back
        merged.update((k, v) for k, v in runconfigs.raw.section(target).items() if v is not None)
    return merged
