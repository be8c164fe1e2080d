"""Scheme values as Python objects.

Numbers are `int`/`float` (never `bool`), strings are `str`, `#t`/`#f` are `True`/`False`.
Symbols, keywords and characters are interned small classes (so `eq?` is `is`), lists are
real pairs ending in `NIL` (so `cdr` is O(1) and dotted pairs exist), and procedures are
Python callables (a Scheme `lambda` is a callable `Lambda` object of the evaluator).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from megatest.scheme.errors import SchemeError


class _Interned:
    """A value made once per name, so identity is equality (`eq?` is `is`)."""

    __slots__ = ("name",)
    _table: dict[str, Any]

    def __init_subclass__(cls) -> None:
        cls._table = {}

    def __init__(self, name: str):
        self.name = name

    @classmethod
    def of(cls, name: str) -> Any:
        value = cls._table.get(name)
        if value is None:
            value = cls._table[name] = cls(name)
        return value


class Symbol(_Interned):
    """An interned symbol: `Symbol.of("x") is Symbol.of("x")`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self.name


class Keyword(_Interned):
    """A CHICKEN keyword (`expires:`): evaluates to itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return self.name + ":"


class Char(_Interned):
    """A character (`#\\a`); strings are Python `str`, so characters need their own type.
    `ch` is the character itself."""

    __slots__ = ()

    @property
    def ch(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return "#\\" + self.name


class Nil:
    """The empty list `()` (true in Scheme, like every value but #f)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "()"

    def __iter__(self) -> Iterator[Any]:
        return iter(())


NIL = Nil()


class Pair:
    """A cons cell; `line` is the source line of a form read from text (0 when built)."""

    __slots__ = ("car", "cdr", "line")

    def __init__(self, car: Any, cdr: Any, line: int = 0):
        self.car = car
        self.cdr = cdr
        self.line = line

    def __iter__(self) -> Iterator[Any]:
        """The elements of a proper list (a dotted tail is not yielded)."""
        x: Any = self
        while type(x) is Pair:
            yield x.car
            x = x.cdr

    def __repr__(self) -> str:
        from megatest.scheme.printer import write

        return write(self)


class Unspecified:
    """The value of forms like `(if #f #f)` or `(set! x 1)`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "#<unspecified>"


UNSPECIFIED = Unspecified()


class Regexp:
    """A compiled regular expression (`#/re/flags` or `(regexp "re")`)."""

    __slots__ = ("source", "flags", "compiled")

    def __init__(self, source: str, flags: str, compiled: re.Pattern[str]):
        self.source = source
        self.flags = flags
        self.compiled = compiled

    def __repr__(self) -> str:
        return f"#/{self.source}/{self.flags}"

    def __deepcopy__(self, memo: dict[int, Any]) -> Regexp:
        return self  # immutable


def make_list(items: Iterable[Any], tail: Any = NIL) -> Any:
    """A Scheme list of `items` (ending in `tail`)."""
    seq = items if isinstance(items, (list, tuple)) else list(items)
    out = tail
    for item in reversed(seq):
        out = Pair(item, out)
    return out


def to_pylist(x: Any, who: str = "list") -> list[Any]:
    """The elements of proper list `x`; anything else is a SchemeError naming `who`."""
    out = []
    while type(x) is Pair:
        out.append(x.car)
        x = x.cdr
    if x is not NIL:
        raise SchemeError(f"({who}) bad argument type - not a proper list")
    return out


def is_list(x: Any) -> bool:
    """`list?`: a proper (finite, NIL-terminated) list."""
    slow = x
    while True:
        if x is NIL:
            return True
        if type(x) is not Pair:
            return False
        x = x.cdr
        if x is NIL:
            return True
        if type(x) is not Pair:
            return False
        x = x.cdr
        slow = slow.cdr
        if x is slow:
            return False


def is_number(x: Any) -> bool:
    t = type(x)
    return t is int or t is float


def is_true(x: Any) -> bool:
    """Scheme truth: only #f is false."""
    return x is not False
