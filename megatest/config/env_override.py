"""`[env-override]` as a test sees it: megatest.config read again in the test's environment.

The original reads megatest.config again in every test's `-execute` process, where the run
name, target, keys, test name, item path and run dir are already exported, and exports the
`[env-override]` values of that read. The runner's own read (`open_area`) happens before any
of them exist, so a value such as `#{getenv MT_RUNNAME}` needs that second read.

A second read per test costs a read of the file (and its shell calls) per test, so the
section's text is looked at once, without running anything, to tell how far its values can
vary: not at all (no directive, variable or command), per run (none names a per-test
variable), or per test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from megatest.config import lines as L

SECTION_RX = re.compile("env-override")  # the reader's environ pattern for megatest.config
# set for each test before its read: a value naming one of them is read per test
PER_TEST_NAMES = frozenset({"MT_TEST_NAME", "MT_ITEMPATH", "MT_ITEM_INFO", "MT_TEST_RUN_DIR",
                            "MT_CMDINFO"})
# what makes a value more than its literal text: variables, commands, directives
_DYNAMIC_MARKS = ("$", "`", "#{", "[system")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_DEPTH = 16  # includes followed by the scan (the reader stops loops and depth itself)


@dataclass(frozen=True)
class SectionText:
    """What the text of the `[env-override]` entries (with literal includes) tells.

    `dynamic`: some value can differ from the runner's read. `names`: every identifier the
    entries mention (with `#{get}`/`#{rget}`, those of the whole config); None when part of
    the text cannot be known without running something (an include whose name holds a
    directive, a `[scriptinc]`)."""

    dynamic: bool
    names: frozenset[str] | None


def scan_env_override(path: str) -> SectionText:
    """Look at megatest.config's `[env-override]` entries without expanding or running
    anything."""
    scan = _Scan()
    scan.read(path, "default", 0)
    section = "\n".join(scan.section_lines)
    if scan.unknown:
        return SectionText(True, None)
    if not any(mark in section for mark in _DYNAMIC_MARKS):
        return SectionText(False, frozenset())
    text = "\n".join(scan.all_lines) if ("#{get" in section or "#{rget" in section) else section
    return SectionText(True, frozenset(_IDENT.findall(text)))


@dataclass
class _Scan:
    section_lines: list[str] = field(default_factory=list)
    all_lines: list[str] = field(default_factory=list)
    unknown: bool = False
    reading: list[str] = field(default_factory=list)

    def read(self, path: str, section: str, depth: int) -> None:
        real = os.path.realpath(path)
        if depth > _MAX_DEPTH or real in self.reading:
            return  # the reader itself reports loops and depth
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as handle:
                lines = L.split_lines(handle.read())
        except OSError:
            return  # a missing include is skipped by the reader too
        self.reading.append(real)
        for line in _logical_lines(lines):
            kind, groups = L.classify(line)
            if kind == L.SECTION:
                section = groups[0]
            elif kind == L.INCLUDE:
                self._include(path, groups[0], section, depth)
            elif kind == L.SCRIPT:
                self.unknown = True  # its output could hold any section
            elif kind != L.BLANK:
                self.all_lines.append(line)
                if SECTION_RX.search(section):
                    self.section_lines.append(line)
        self.reading.pop()

    def _include(self, path: str, name: str, section: str, depth: int) -> None:
        if "#{" in name:
            self.unknown = True  # which file it reads depends on the environment
            return
        if not name.startswith("/"):
            name = os.path.join(os.path.dirname(path) or ".", name)
        self.read(name, section, depth + 1)


def _logical_lines(lines: list[str]) -> Iterable[str]:
    """Physical lines joined at a trailing backslash, as the reader joins them."""
    joined = ""
    for line in lines:
        if line.endswith("\\"):
            joined += line[:-1]
            continue
        yield joined + line
        joined = ""
    if joined:
        yield joined


@dataclass(frozen=True)
class EnvOverrideSource:
    """How to get a test's `[env-override]` values: the area's config read again.

    `start_env` is the environment the runner started with (before its own read exported
    anything), `runner_env` the one after its reads; a test's values differing from the
    latter are the ones exported for it alone ([pre-launch-env-overrides])."""

    toppath: str
    config_name: str
    target: str | None
    start_env: Mapping[str, str]
    runner_env: Mapping[str, str]
    text: SectionText

    @property
    def dynamic(self) -> bool:
        return self.text.dynamic

    def depends_on(self, names: Iterable[str]) -> bool:
        """True when a value can read one of `names` (or the text is not fully known)."""
        mentioned = self.text.names
        return mentioned is None or not mentioned.isdisjoint(names)

    def read(self, env: dict[str, str]) -> list[tuple[str, str]]:
        """The `[env-override]` pairs of megatest.config read in `env` (a copy is used)."""
        from megatest.config.megatest_config import read_megatest_config

        config = read_megatest_config(self.toppath, target=self.target, env=dict(env),
                                      config_name=self.config_name)
        return list(config.env_override.items())
