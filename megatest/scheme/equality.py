"""`eq?`, `eqv?` and `equal?`.

Symbols, keywords, characters, `()` and booleans are interned, so identity is their
equality. Numbers are `eqv?` when of the same exactness and value. Strings and pairs are
`eqv?` only when they are the same object; `equal?` compares their contents.
"""

from __future__ import annotations

from typing import Any

from megatest.scheme.values import Pair


def eqv(a: Any, b: Any) -> bool:
    if a is b:
        return True
    ta = type(a)
    if (ta is int or ta is float) and type(b) is ta:
        return bool(a == b)
    return False


eq = eqv  # fixnums and flonums compare by value in eq? too, as far as programs can tell


def equal(a: Any, b: Any) -> bool:
    while type(a) is Pair and type(b) is Pair:
        if not equal(a.car, b.car):
            return False
        a, b = a.cdr, b.cdr
    if type(a) is str and type(b) is str:
        return bool(a == b)
    return eqv(a, b)
