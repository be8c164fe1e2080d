"""The errors the Scheme evaluator raises.

`SchemeError` is a runtime or syntax error inside the language (the original Megatest's
`handle-exceptions` would catch it). Its subclasses say why a caller may want to treat it
differently: a name the evaluator does not have (`UnboundName`) and a resource limit
(`SchemeLimitError`: too many steps, too deep a recursion), which CHICKEN would not report
at all (it would loop or grow without end).
"""

from __future__ import annotations


class SchemeError(Exception):
    """An error while reading or evaluating Scheme text; `line` is the form's line, if known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return self.message


class UnboundName(SchemeError):
    """A variable or procedure the evaluator does not define (`called`: in operator position)."""

    def __init__(self, name: str, called: bool, line: int | None = None):
        self.name = name
        self.called = called
        super().__init__(unbound_message(name, called), line)


class SchemeLimitError(SchemeError):
    """The evaluation ran too long or recursed too deep."""


def is_megatest_internal(name: str) -> bool:
    """Names like `rmt:get-tests`, `db:...`, `tests:...`: Megatest's own procedures."""
    prefix, sep, rest = name.partition(":")
    return bool(sep and prefix and rest and prefix not in ("string", "char"))


def unbound_message(name: str, called: bool) -> str:
    if is_megatest_internal(name):
        return f"Megatest-internal procedure '{name}' is not supported here"
    if called:
        return f"unsupported form ({name} ...): no procedure or form named '{name}'"
    return f"unbound variable {name}"
