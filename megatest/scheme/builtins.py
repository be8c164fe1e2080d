"""The global environment every interpreter starts from: the number, list, string and
regex procedures, equality and type predicates, `error`, and the output procedures
(`display`, `write`, `print`, `newline`, `format #t`), which append to the interpreter's
captured output instead of printing."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any

from megatest.scheme import lists, numbers, regex, strings
from megatest.scheme.equality import eq, equal, eqv
from megatest.scheme.errors import SchemeError
from megatest.scheme.printer import display, write
from megatest.scheme.values import UNSPECIFIED, Symbol


def scheme_error(message: Any = "error", *irritants: Any) -> Any:
    """`(error "message" irritant ...)`: a SchemeError with the irritants written after it."""
    text = display(message)
    if irritants:
        text += ": " + " ".join(write(i) for i in irritants)
    raise SchemeError(text)


_MISC: dict[str, Callable[..., Any]] = {
    "eq?": eq,
    "eqv?": eqv,
    "equal?": equal,
    "not": lambda x: x is False,
    "boolean?": lambda x: x is True or x is False,
    "procedure?": lambda x: callable(x),
    "identity": lambda x: x,
    "void": lambda *args: UNSPECIFIED,
    "error": scheme_error,
    "current-seconds": lambda: float(int(time.time())),
}


@cache
def base_bindings() -> dict[Symbol, Any]:
    """Name -> value for every builtin procedure (shared; interpreters copy it)."""
    out: dict[Symbol, Any] = {}
    for table in (numbers.BUILTINS, lists.BUILTINS, strings.BUILTINS, regex.BUILTINS, _MISC):
        for name, proc in table.items():
            if getattr(proc, "scheme_name", None) is None and getattr(proc, "__name__", "") == "<lambda>":
                try:
                    proc.scheme_name = name  # type: ignore[attr-defined]
                except AttributeError:
                    pass
            out[Symbol.of(name)] = proc
    return out


def output_bindings(output: list[str]) -> dict[str, Callable[..., Any]]:
    """The printing procedures of one interpreter, writing into `output` (a port argument,
    if any, is ignored: there is only the one captured output)."""

    def display_proc(x: Any, *_port: Any) -> Any:
        output.append(display(x))
        return UNSPECIFIED

    def write_proc(x: Any, *_port: Any) -> Any:
        output.append(write(x))
        return UNSPECIFIED

    def newline(*_port: Any) -> Any:
        output.append("\n")
        return UNSPECIFIED

    def print_proc(*args: Any) -> Any:
        output.append("".join(display(a) for a in args) + "\n")
        return UNSPECIFIED

    def format_proc(dest: Any, *args: Any) -> Any:
        return strings.scheme_format(dest, *args, output=output)

    return {"display": display_proc, "write": write_proc, "newline": newline, "print": print_proc,
            "format": format_proc}


def builtin_names() -> list[str]:
    """Every builtin procedure name (for docs and tests)."""
    return sorted([sym.name for sym in base_bindings()] + list(output_bindings([])))
