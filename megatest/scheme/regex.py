"""Regular expressions for `#/re/flags` literals and CHICKEN 4's regex unit procedures.

Patterns are irregex/PCRE spellings; Python's `re` takes them as they are except for POSIX
bracket classes (`[[:digit:]]`), which are translated. Procedures: `regexp`, `regexp?`,
`string-search` (first match anywhere: list of whole match and groups, or #f),
`string-match` (the whole string must match), `string-substitute` (the first match, the
n-th with a number, all with any other mode; `\\N` in the replacement is group N) and
`string-search-positions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from megatest.scheme.errors import SchemeError
from megatest.scheme.values import Regexp, make_list

_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
_FLAGS = {"i": re.IGNORECASE, "x": re.VERBOSE, "s": re.DOTALL, "m": re.MULTILINE}


def _translate(source: str) -> str:
    def posix(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in _POSIX_CLASSES:
            raise SchemeError(f"unknown POSIX class [:{name}:]")
        return _POSIX_CLASSES[name]

    return re.sub(r"\[:(\w+):\]", posix, source)


@lru_cache(maxsize=512)
def compile_regexp(source: str, flags: str = "") -> Regexp:
    """Compile `#/source/flags`; a bad pattern or flag is a SchemeError saying which."""
    reflags = 0
    for flag in flags:
        if flag not in _FLAGS:
            raise SchemeError(f"unknown regex flag {flag!r} in #/{source}/{flags}")
        reflags |= _FLAGS[flag]
    try:
        compiled = re.compile(_translate(source), reflags)
    except re.error as exc:
        raise SchemeError(f"invalid regex #/{source}/{flags}: {exc}") from None
    return Regexp(source, flags, compiled)


def _as_regexp(rx: Any, who: str) -> Regexp:
    if type(rx) is Regexp:
        return rx
    if type(rx) is str:
        return compile_regexp(rx)
    raise SchemeError(f"({who}) bad argument type - not a regular expression")


def _string(s: Any, who: str) -> str:
    if type(s) is not str:
        raise SchemeError(f"({who}) bad argument type - not a string")
    return s


def _groups(m: re.Match[str] | None) -> Any:
    if m is None:
        return False
    return make_list([m.group(0), *(g if g is not None else False for g in m.groups())])


def regexp(source: Any, ignore_case: Any = False, *_ignored: Any) -> Regexp:
    return compile_regexp(_string(source, "regexp"), "i" if ignore_case is not False else "")


def string_search(rx: Any, s: Any, start: Any = 0) -> Any:
    return _groups(_as_regexp(rx, "string-search").compiled.search(_string(s, "string-search"), start))


def string_match(rx: Any, s: Any) -> Any:
    return _groups(_as_regexp(rx, "string-match").compiled.fullmatch(_string(s, "string-match")))


def string_search_positions(rx: Any, s: Any, start: Any = 0) -> Any:
    m = _as_regexp(rx, "string-search-positions").compiled.search(_string(s, "string-search-positions"), start)
    if m is None:
        return False
    spans = [m.span(0), *(m.span(i) for i in range(1, (m.re.groups or 0) + 1))]
    return make_list([make_list(list(span)) if span[0] >= 0 else False for span in spans])


_BACKREF = re.compile(r"\\([0-9])")


def substitution(subst: str) -> Callable[[re.Match[str]], str]:
    """The `re.sub` replacement function for a string-substitute replacement text."""
    # Only \N is special (as in CHICKEN); Python's own replacement syntax would also eat
    # other backslashes and \g<...>.
    def expand(found: re.Match[str]) -> str:
        def group(ref: re.Match[str]) -> str:
            index = int(ref.group(1))
            if index > (found.re.groups or 0):
                return ""
            return found.group(index) or ""

        return _BACKREF.sub(group, subst)

    return expand


def string_substitute(rx: Any, subst: Any, s: Any, mode: Any = 1) -> str:
    pattern = _as_regexp(rx, "string-substitute").compiled
    text = _string(s, "string-substitute")
    expand = substitution(_string(subst, "string-substitute"))
    if type(mode) is not int:
        return pattern.sub(expand, text)
    for index, m in enumerate(pattern.finditer(text), start=1):
        if index == mode:
            return text[: m.start()] + expand(m) + text[m.end():]
    return text


BUILTINS: dict[str, Callable[..., Any]] = {
    "regexp": regexp,
    "regexp?": lambda x: type(x) is Regexp,
    "string-search": string_search,
    "string-match": string_match,
    "string-search-positions": string_search_positions,
    "string-substitute": string_substitute,
}
