"""Launcher name -> implementation: how `[jobtools] launcher` becomes a Launcher.

A launcher line is a command in the original (`nbfake`, `bsub -q normal -o ...`); its first
word names the implementation here and the other words are handed to it. An implementation
is one module with a factory taking a LauncherContext, and one entry below (or a
`register()` call, which is how the tests add a fake one). Entries name their module as
text so that choosing a launcher imports only that one. A run whose tests are sent to lines
of different kinds gets one launcher of each kind, under a MixedLauncher.
"""

from __future__ import annotations

import importlib
import shlex
from collections.abc import Callable, Iterable

from megatest.errors import UsageError
from megatest.executor.reporter import TestRef
from megatest.launch.base import Launcher, LauncherContext

Factory = Callable[[LauncherContext], Launcher]

LOCAL = "local"
# name -> "module:callable" or the factory itself
_ENTRIES: dict[str, str | Factory] = {
    LOCAL: "megatest.launch.local:LocalLauncher.from_context",
    "slurm": "megatest.launch.slurm:from_context",
    "bsub": "megatest.launch.template:lsf",
    "qsub": "megatest.launch.template:pbs",
    "srun": "megatest.launch.template:srun",
    "template": "megatest.launch.template:generic",
}
# Words of existing areas' launcher lines that ran each test in the background on the
# runner's own host: the local launcher does exactly that.
_ALIASES: dict[str, str] = {"nbfake": LOCAL, "nbfind": LOCAL, "nohup": LOCAL}


def register(name: str, factory: str | Factory, *, aliases: tuple[str, ...] = ()) -> None:
    """Add (or replace) an implementation under `name` and its aliases."""
    _ENTRIES[name] = factory
    for alias in aliases:
        _ALIASES[alias] = name


def unregister(name: str) -> None:
    _ENTRIES.pop(name, None)
    for alias in [a for a, target in _ALIASES.items() if target == name]:
        del _ALIASES[alias]


def known_names() -> list[str]:
    return sorted(_ENTRIES)


def parse(line: str | None, where: str = "[jobtools] launcher") -> tuple[str, tuple[str, ...]]:
    """(implementation name, the other words) of a launcher line; no line: the local one.
    An unknown name is a UsageError listing the known ones."""
    try:
        words = shlex.split(line or "")
    except ValueError as exc:
        raise UsageError(f"{where} {line!r}: {exc}") from None
    if not words:
        return LOCAL, ()
    name = _ALIASES.get(words[0], words[0])
    if name not in _ENTRIES:
        known = ", ".join(
            f"{n} (also {', '.join(sorted(a for a, t in _ALIASES.items() if t == n))})"
            if any(t == n for t in _ALIASES.values()) else n
            for n in known_names()
        )
        raise UsageError(f"{where}: unknown launcher {words[0]!r}; known launchers: {known}")
    return name, tuple(words[1:])


def create(line: str | None, context: LauncherContext, *,
           other_lines: Iterable[tuple[str, str]] = ()) -> Launcher:
    """The launcher a launcher line names, built with `context` (its words filled in).
    `other_lines`: (where, line) of the lines tests of the run may be sent to instead
    (`[host-types]` lines that `[launchers]` patterns name); when they name other kinds, a
    MixedLauncher sends each test to a launcher of its own line's kind. An unusable line is
    a UsageError naming where it is."""
    name, words = parse(line)
    kinds = {name: words}
    for where, other in other_lines:
        kind, other_words = parse(other, where=where)
        kinds.setdefault(kind, other_words)
    if len(kinds) == 1:
        return _factory(name)(context._replace(words=words))
    from megatest.launch.mixed import MixedLauncher

    members = {kind: _factory(kind)(context._replace(words=kind_words))
               for kind, kind_words in kinds.items()}
    known: dict[str, str] = {}

    def kind_of(test: TestRef) -> str:
        own = context.line_for(test) or line or ""
        if own not in known:
            known[own] = parse(own)[0]
        return known[own]

    return MixedLauncher(members, kind_of)


def _factory(name: str) -> Factory:
    entry = _ENTRIES[name]
    if not isinstance(entry, str):
        return entry
    module_name, _, attr = entry.partition(":")
    target: object = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    return target  # type: ignore[return-value]
