"""`display` and `write`, as CHICKEN prints values.

`display` shows strings and characters bare; `write` quotes them so they read back. Flonums
print with 15 significant digits and keep a `.0` when integral (`2.5`, `100.0`, `1e+21`).
"""

from __future__ import annotations

from typing import Any

from megatest.scheme.values import NIL, Char, Keyword, Pair, Regexp, Symbol, Unspecified

_CHAR_NAMES = {" ": "space", "\n": "newline", "\t": "tab", "\r": "return", "\0": "nul", "\x7f": "delete",
               "\a": "alarm", "\b": "backspace", "\x1b": "escape"}
_STRING_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def format_float(x: float) -> str:
    if x != x:
        return "+nan.0"
    if x in (float("inf"), float("-inf")):
        return "+inf.0" if x > 0 else "-inf.0"
    text = f"{x:.15g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text


def display(x: Any) -> str:
    """The text `(display x)` prints."""
    return _show(x, False)


def write(x: Any) -> str:
    """The text `(write x)` prints."""
    return _show(x, True)


def _show(x: Any, quoted: bool) -> str:
    t = type(x)
    if t is str:
        if not quoted:
            return x
        return '"' + "".join(_STRING_ESCAPES.get(c, c) for c in x) + '"'
    if x is True:
        return "#t"
    if x is False or x is None:
        return "#f"
    if t is int:
        return str(x)
    if t is float:
        return format_float(x)
    if t is Symbol:
        return x.name
    if t is Pair or x is NIL:
        return _show_list(x, quoted)
    if t is Char:
        if not quoted:
            return x.ch
        return "#\\" + _CHAR_NAMES.get(x.ch, x.ch)
    if t is Keyword:
        return x.name + ":"
    if t is Regexp or t is Unspecified:
        return repr(x)
    if callable(x):
        name = getattr(x, "scheme_name", None) or getattr(x, "__name__", None)
        return f"#<procedure ({name} ...)>" if name and name != "<lambda>" else "#<procedure>"
    return str(x)


def _show_list(x: Any, quoted: bool) -> str:
    parts = []
    while type(x) is Pair:
        parts.append(_show(x.car, quoted))
        x = x.cdr
    if x is not NIL:
        parts.append(".")
        parts.append(_show(x, quoted))
    return "(" + " ".join(parts) + ")"
