"""Number procedures: arithmetic, comparison, conversion.

Exact integers are Python ints and inexact numbers floats. Division of integers that do not
divide gives a float, as CHICKEN 4 (the original's Scheme, without the numbers egg) does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from megatest.scheme.errors import SchemeError
from megatest.scheme.printer import format_float
from megatest.scheme.reader import parse_number
from megatest.scheme.values import Symbol, is_number


def num(x: Any, who: str) -> Any:
    if not is_number(x):
        from megatest.scheme.printer import write

        raise SchemeError(f"({who}) bad argument type - not a number: {write(x)}")
    return x


def integer(x: Any, who: str) -> int:
    num(x, who)
    if type(x) is float:
        if not x.is_integer():
            raise SchemeError(f"({who}) bad argument type - not an integer: {format_float(x)}")
        return int(x)
    return x


def _result(value: int, *inputs: Any) -> Any:
    """An integer result is inexact when any input was."""
    return float(value) if any(type(i) is float for i in inputs) else value


def add(*args: Any) -> Any:
    total: Any = 0
    for a in args:
        total += num(a, "+")
    return total


def multiply(*args: Any) -> Any:
    total: Any = 1
    for a in args:
        total *= num(a, "*")
    return total


def subtract(first: Any, *rest: Any) -> Any:
    num(first, "-")
    if not rest:
        return -first
    for a in rest:
        first -= num(a, "-")
    return first


def divide(first: Any, *rest: Any) -> Any:
    num(first, "/")
    if not rest:
        first, rest = 1, (first,)
    for d in rest:
        num(d, "/")
        if d == 0:
            raise SchemeError("(/) division by zero")
        if type(first) is int and type(d) is int and first % d == 0:
            first //= d
        else:
            first = first / d
    return first


def quotient(a: Any, b: Any) -> Any:
    x, y = integer(a, "quotient"), integer(b, "quotient")
    if y == 0:
        raise SchemeError("(quotient) division by zero")
    q = abs(x) // abs(y)
    return _result(q if (x >= 0) == (y >= 0) else -q, a, b)


def remainder(a: Any, b: Any) -> Any:
    x, y = integer(a, "remainder"), integer(b, "remainder")
    if y == 0:
        raise SchemeError("(remainder) division by zero")
    r = abs(x) % abs(y)
    return _result(r if x >= 0 else -r, a, b)


def modulo(a: Any, b: Any) -> Any:
    x, y = integer(a, "modulo"), integer(b, "modulo")
    if y == 0:
        raise SchemeError("(modulo) division by zero")
    return _result(x % y, a, b)


def _comparison(name: str, op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(*args: Any) -> bool:
        for a in args:
            num(a, name)
        return all(op(args[i], args[i + 1]) for i in range(len(args) - 1))

    compare.scheme_name = name  # type: ignore[attr-defined]
    return compare


def _rounding(name: str, op: Callable[[float], Any]) -> Callable[[Any], Any]:
    def rounding(x: Any) -> Any:
        num(x, name)
        return x if type(x) is int else float(op(x))

    return rounding


def exact(x: Any) -> int:
    num(x, "inexact->exact")
    if type(x) is float:
        if not x.is_integer():
            raise SchemeError(f"(inexact->exact) cannot represent {format_float(x)} exactly")
        return int(x)
    return x


def square_root(x: Any) -> Any:
    num(x, "sqrt")
    if x < 0:
        raise SchemeError("(sqrt) negative argument")
    if type(x) is int:
        root = math.isqrt(x)
        if root * root == x:
            return root
    return math.sqrt(x)


def expt(base: Any, power: Any) -> Any:
    num(base, "expt")
    num(power, "expt")
    if type(power) is int and power < 0 and type(base) is int:
        return float(base) ** power
    return base**power


def number_to_string(n: Any, radix: Any = 10) -> str:
    num(n, "number->string")
    if radix == 10:
        from megatest.scheme.printer import display

        return display(n)
    if type(n) is not int or radix not in (2, 8, 16):
        raise SchemeError("(number->string) bad radix")
    text = format(abs(n), {2: "b", 8: "o", 16: "x"}[radix])
    return "-" + text if n < 0 else text


def string_to_number(s: Any, radix: Any = 10) -> Any:
    if type(s) is not str:
        raise SchemeError("(string->number) bad argument type - not a string")
    if radix != 10:
        try:
            return int(s, radix)
        except (ValueError, TypeError):
            return False
    n = parse_number(s)
    return False if n is None else n


def any_to_number(x: Any) -> Any:
    """Megatest's `any->number`: numbers as they are, strings and symbols parsed, else #f."""
    if is_number(x):
        return x
    if type(x) is Symbol:
        x = x.name
    if type(x) is str:
        return string_to_number(x)
    return False


def _fold_gcd(*args: Any) -> int:
    out = 0
    for a in args:
        out = math.gcd(out, integer(a, "gcd"))
    return out


def _fold_lcm(*args: Any) -> int:
    out = 1
    for a in args:
        out = math.lcm(out, integer(a, "lcm"))
    return out


def _min_max(name: str, pick: Callable[..., Any]) -> Callable[..., Any]:
    def choose(first: Any, *rest: Any) -> Any:
        values = [num(a, name) for a in (first, *rest)]
        chosen = pick(values)
        # Scheme: the result is inexact when any argument is
        return float(chosen) if any(type(v) is float for v in values) else chosen

    return choose


BUILTINS: dict[str, Callable[..., Any]] = {
    "+": add,
    "-": subtract,
    "*": multiply,
    "/": divide,
    "quotient": quotient,
    "remainder": remainder,
    "modulo": modulo,
    "=": _comparison("=", lambda a, b: a == b),
    "<": _comparison("<", lambda a, b: a < b),
    ">": _comparison(">", lambda a, b: a > b),
    "<=": _comparison("<=", lambda a, b: a <= b),
    ">=": _comparison(">=", lambda a, b: a >= b),
    "max": _min_max("max", max),
    "min": _min_max("min", min),
    "abs": lambda x: abs(num(x, "abs")),
    "add1": lambda x: num(x, "add1") + 1,
    "sub1": lambda x: num(x, "sub1") - 1,
    "zero?": lambda x: num(x, "zero?") == 0,
    "positive?": lambda x: num(x, "positive?") > 0,
    "negative?": lambda x: num(x, "negative?") < 0,
    "odd?": lambda x: integer(x, "odd?") % 2 == 1,
    "even?": lambda x: integer(x, "even?") % 2 == 0,
    "number?": is_number,
    "real?": is_number,
    "integer?": lambda x: type(x) is int or (type(x) is float and x.is_integer()),
    "exact?": lambda x: type(num(x, "exact?")) is int,
    "inexact?": lambda x: type(num(x, "inexact?")) is float,
    "exact->inexact": lambda x: float(num(x, "exact->inexact")),
    "inexact": lambda x: float(num(x, "inexact")),
    "inexact->exact": exact,
    "exact": exact,
    "floor": _rounding("floor", math.floor),
    "ceiling": _rounding("ceiling", math.ceil),
    "truncate": _rounding("truncate", math.trunc),
    "round": _rounding("round", round),  # Python's round is round-half-even, as Scheme's
    "sqrt": square_root,
    "expt": expt,
    "exp": lambda x: math.exp(num(x, "exp")),
    "log": lambda x: math.log(num(x, "log")),
    "gcd": _fold_gcd,
    "lcm": _fold_lcm,
    "number->string": number_to_string,
    "string->number": string_to_number,
    "any->number": any_to_number,
}
