"""Physical and logical line handling of the config language: splitting, classification.

Whitespace is exactly space, tab and LF (irregex `\\s`), never Python's wider notion, and line
ends are LF, CRLF or a lone CR. Classification follows the clause order of `read-config`
(reference section 1.3); `classify` has a fast path for the common single-line case and falls
back to the full pattern cascade when an expansion has put a LF into the line.
"""

from __future__ import annotations

import re

WS = r"[ \t\n]"
NWS = r"[^ \t\n]"

COMMENT_RX = re.compile(rf"{WS}*#.*")
BLANK_RX = re.compile(rf"{WS}*")
SETTINGS_RX = re.compile(rf"\[configf:settings{WS}+({NWS}+){WS}+({NWS}+)\]{WS}*")
INCLUDE_RX = re.compile(rf"\[include{WS}+(.*)\]{WS}*")
SCRIPT_RX = re.compile(rf"\[scriptinc{WS}+({NWS}+)([^\]]*)\]{WS}*")
SECTION_RX = re.compile(rf"\[(.*)\]{WS}*")
KEY_SYS_RX = re.compile(rf"({NWS}+){WS}+\[system{WS}+({NWS}.*)\]{WS}*")
KEY_NOV_RX = re.compile(rf"({NWS}+)({WS}*)")
KEY_VAL_RX = re.compile(rf"({NWS}+){WS}+(.*)")
CONT_RX = re.compile(rf"({WS}+)({NWS}.*)")

# A key line without LF: key, the separating blanks, the value (possibly empty).
_FAST_KEY_RX = re.compile(r"([^ \t]+)([ \t]*)(.*)")
_LINE_END_RX = re.compile(r"\r\n|\r|\n")
_WS_SPLIT_RX = re.compile(WS)

# Line classes returned by `classify`.
BLANK = 0  # comment or blank line
SETTINGS = 1
INCLUDE = 2
SCRIPT = 3
SECTION = 4
KEY_SYS = 5
KEY_NOV = 6
KEY_VAL = 7
CONT = 8
BAD = 9


def split_lines(text: str) -> list[str]:
    """Split as CHICKEN's repeated read-line does: LF, CRLF or lone CR; no empty last line."""
    if "\r" in text:
        parts = _LINE_END_RX.split(text)
    else:
        parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return parts


def split_ws(s: str) -> list[str]:
    """Split on space/tab/LF only, dropping empty parts (CHICKEN `string-split` defaults)."""
    return [w for w in _WS_SPLIT_RX.split(s) if w]


def rstrip_ws(s: str) -> str:
    """Remove trailing space/tab/LF only (the `trim-trailing-spaces` setting)."""
    return s.rstrip(" \t\n")


def classify(line: str) -> tuple[int, tuple[str, ...]]:
    """Return (line class, captured groups) for one logical line."""
    if "\n" in line:
        return classify_slow(line)
    if not line:
        return BLANK, ()
    first = line[0]
    if first == " " or first == "\t":
        rest = line.lstrip(" \t")
        if not rest or rest[0] == "#":
            return BLANK, ()
        return CONT, (line[: len(line) - len(rest)], rest)
    if first == "#":
        return BLANK, ()
    if first == "[":
        return classify_slow(line)
    if "[system" in line:
        m = KEY_SYS_RX.fullmatch(line)
        if m:
            return KEY_SYS, (m[1], m[2])
    m = _FAST_KEY_RX.fullmatch(line)
    key, gap, value = m.groups()  # type: ignore[union-attr]  # always matches: line[0] is not blank
    if value:
        return KEY_VAL, (key, value)
    return KEY_NOV, (key, gap)


def classify_slow(line: str) -> tuple[int, tuple[str, ...]]:
    """The full pattern cascade of reference 1.3/1.14, first match wins."""
    if COMMENT_RX.fullmatch(line) or BLANK_RX.fullmatch(line):
        return BLANK, ()
    for kind, rx in _CASCADE:
        m = rx.fullmatch(line)
        if m:
            return kind, m.groups()
    return BAD, ()


_CASCADE = (
    (SETTINGS, SETTINGS_RX),
    (INCLUDE, INCLUDE_RX),
    (SCRIPT, SCRIPT_RX),
    (SECTION, SECTION_RX),
    (KEY_SYS, KEY_SYS_RX),
    (KEY_NOV, KEY_NOV_RX),
    (KEY_VAL, KEY_VAL_RX),
    (CONT, CONT_RX),
)
