"""List procedures: pairs, access, search, and the higher-order ones (map, sort, fold, ...).

Procedure arguments are Python callables (builtins, or the evaluator's closures), so these
call them directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from megatest.scheme.equality import eq, equal, eqv
from megatest.scheme.errors import SchemeError
from megatest.scheme.values import NIL, Pair, is_list, make_list, to_pylist


def pair(x: Any, who: str) -> Pair:
    if type(x) is not Pair:
        from megatest.scheme.printer import write

        raise SchemeError(f"({who}) bad argument type - not a pair: {write(x)}")
    return x


def _cxr(path: str) -> Callable[[Any], Any]:
    """`cadr` and friends: apply the letters right to left."""
    name = f"c{path}r"

    def cxr(x: Any) -> Any:
        for letter in reversed(path):
            p = pair(x, name)
            x = p.car if letter == "a" else p.cdr
        return x

    cxr.scheme_name = name  # type: ignore[attr-defined]
    return cxr


def length(x: Any) -> int:
    return len(to_pylist(x, "length"))


def append(*lists: Any) -> Any:
    if not lists:
        return NIL
    out = lists[-1]
    for lst in reversed(lists[:-1]):
        out = make_list(to_pylist(lst, "append"), out)
    return out


def list_tail(x: Any, k: Any) -> Any:
    for _ in range(k):
        x = pair(x, "list-tail").cdr
    return x


def list_ref(x: Any, k: Any) -> Any:
    return pair(list_tail(x, k), "list-ref").car


def last_pair(x: Any) -> Pair:
    p = pair(x, "last-pair")
    while type(p.cdr) is Pair:
        p = p.cdr
    return p


def _member(test: Callable[[Any, Any], Any], name: str) -> Callable[..., Any]:
    def member(item: Any, lst: Any, compare: Any = None) -> Any:
        check = test if compare is None else compare
        while type(lst) is Pair:
            if check(item, lst.car) is not False:
                return lst
            lst = lst.cdr
        return False

    member.scheme_name = name  # type: ignore[attr-defined]
    return member


def _assoc(test: Callable[[Any, Any], Any], name: str) -> Callable[..., Any]:
    def assoc(key: Any, alist: Any, compare: Any = None) -> Any:
        check = test if compare is None else compare
        for entry in to_pylist(alist, name):
            if check(key, pair(entry, name).car) is not False:
                return entry
        return False

    assoc.scheme_name = name  # type: ignore[attr-defined]
    return assoc


def alist_ref(key: Any, alist: Any, compare: Any = eqv, default: Any = False) -> Any:
    """CHICKEN's `(alist-ref key alist [test default])`: the cdr of the entry, or default."""
    entry = _assoc(eqv, "alist-ref")(key, alist, compare)
    return default if entry is False else entry.cdr


def _columns(lists: tuple[Any, ...], who: str) -> list[list[Any]]:
    """The argument rows of a multi-list map/for-each, stopping at the shortest list."""
    if not lists:
        raise SchemeError(f"({who}) bad argument count")
    pylists = [to_pylist(lst, who) for lst in lists]
    return [list(row) for row in zip(*pylists, strict=False)]  # the shortest list ends it


def scheme_map(proc: Any, *lists: Any) -> Any:
    return make_list([proc(*row) for row in _columns(lists, "map")])


def for_each(proc: Any, *lists: Any) -> Any:
    from megatest.scheme.values import UNSPECIFIED

    for row in _columns(lists, "for-each"):
        proc(*row)
    return UNSPECIFIED


def apply(proc: Any, *args: Any) -> Any:
    if not args:
        return proc()
    spread = [*args[:-1], *to_pylist(args[-1], "apply")]
    return proc(*spread)


def filter_list(pred: Any, lst: Any) -> Any:
    return make_list([x for x in to_pylist(lst, "filter") if pred(x) is not False])


def remove_list(pred: Any, lst: Any) -> Any:
    return make_list([x for x in to_pylist(lst, "remove") if pred(x) is False])


def delete(item: Any, lst: Any, compare: Any = equal) -> Any:
    return make_list([x for x in to_pylist(lst, "delete") if compare(item, x) is False])


def delete_duplicates(lst: Any, compare: Any = equal) -> Any:
    kept: list[Any] = []
    for x in to_pylist(lst, "delete-duplicates"):
        if not any(compare(k, x) is not False for k in kept):
            kept.append(x)
    return make_list(kept)


def sort(seq: Any, less: Any) -> Any:
    """`(sort list less?)`: a stable sort by the `less?` procedure."""
    if not callable(less):
        raise SchemeError("(sort) bad argument type - not a procedure")

    def compare(a: Any, b: Any) -> int:
        if less(a, b) is not False:
            return -1
        return 1 if less(b, a) is not False else 0

    return make_list(sorted(to_pylist(seq, "sort"), key=functools.cmp_to_key(compare)))


def fold(kons: Any, knil: Any, *lists: Any) -> Any:
    acc = knil
    for row in _columns(lists, "fold"):
        acc = kons(*row, acc)
    return acc


def fold_right(kons: Any, knil: Any, *lists: Any) -> Any:
    acc = knil
    for row in reversed(_columns(lists, "fold-right")):
        acc = kons(*row, acc)
    return acc


def reduce(f: Any, ridentity: Any, lst: Any) -> Any:
    items = to_pylist(lst, "reduce")
    if not items:
        return ridentity
    acc = items[0]
    for x in items[1:]:
        acc = f(x, acc)
    return acc


def any_of(pred: Any, *lists: Any) -> Any:
    for row in _columns(lists, "any"):
        value = pred(*row)
        if value is not False:
            return value
    return False


def every(pred: Any, *lists: Any) -> Any:
    value: Any = True
    for row in _columns(lists, "every"):
        value = pred(*row)
        if value is False:
            return False
    return value


def count(pred: Any, lst: Any) -> int:
    return sum(1 for x in to_pylist(lst, "count") if pred(x) is not False)


def list_index(pred: Any, lst: Any) -> Any:
    for index, x in enumerate(to_pylist(lst, "list-index")):
        if pred(x) is not False:
            return index
    return False


def filter_map(proc: Any, lst: Any) -> Any:
    out = []
    for x in to_pylist(lst, "filter-map"):
        value = proc(x)
        if value is not False:
            out.append(value)
    return make_list(out)


def append_map(proc: Any, lst: Any) -> Any:
    return append(*[proc(x) for x in to_pylist(lst, "append-map")], NIL)


def iota(n: Any, start: Any = 0, step: Any = 1) -> Any:
    return make_list([start + i * step for i in range(n)])


def flatten(*items: Any) -> Any:
    out: list[Any] = []

    def walk(x: Any) -> None:
        while type(x) is Pair:
            walk(x.car) if type(x.car) is Pair or x.car is NIL else out.append(x.car)
            x = x.cdr
        if x is not NIL:
            out.append(x)

    for item in items:
        walk(item) if type(item) is Pair or item is NIL else out.append(item)
    return make_list(out)


def intersperse(lst: Any, sep: Any) -> Any:
    out: list[Any] = []
    for x in to_pylist(lst, "intersperse"):
        if out:
            out.append(sep)
        out.append(x)
    return make_list(out)


def last(lst: Any) -> Any:
    return last_pair(lst).car


def set_car(p: Any, value: Any) -> Any:
    pair(p, "set-car!").car = value
    from megatest.scheme.values import UNSPECIFIED

    return UNSPECIFIED


def set_cdr(p: Any, value: Any) -> Any:
    pair(p, "set-cdr!").cdr = value
    from megatest.scheme.values import UNSPECIFIED

    return UNSPECIFIED


def _nth(index: int, name: str) -> Callable[[Any], Any]:
    def nth(lst: Any) -> Any:
        return pair(list_tail(lst, index), name).car

    nth.scheme_name = name  # type: ignore[attr-defined]
    return nth


BUILTINS: dict[str, Callable[..., Any]] = {
    "cons": lambda a, b: Pair(a, b),
    "car": lambda x: pair(x, "car").car,
    "cdr": lambda x: pair(x, "cdr").cdr,
    **{f"c{p}r": _cxr(p) for p in ("aa", "ad", "da", "dd", "aaa", "aad", "ada", "add", "daa", "dad",
                                    "dda", "ddd", "addd", "dddd")},
    "list": lambda *items: make_list(items),
    "cons*": lambda first, *rest: make_list([first, *rest[:-1]], rest[-1]) if rest else first,
    "length": length,
    "append": append,
    "reverse": lambda x: make_list(list(reversed(to_pylist(x, "reverse")))),
    "list-tail": list_tail,
    "list-ref": list_ref,
    "list-copy": lambda x: make_list(to_pylist(x, "list-copy")),
    "last-pair": last_pair,
    "last": last,
    **{name: _nth(i, name) for i, name in enumerate(("first", "second", "third", "fourth", "fifth"))},
    "null?": lambda x: x is NIL,
    "pair?": lambda x: type(x) is Pair,
    "list?": is_list,
    "member": _member(equal, "member"),
    "memv": _member(eqv, "memv"),
    "memq": _member(eq, "memq"),
    "assoc": _assoc(equal, "assoc"),
    "assv": _assoc(eqv, "assv"),
    "assq": _assoc(eq, "assq"),
    "alist-ref": alist_ref,
    "map": scheme_map,
    "for-each": for_each,
    "apply": apply,
    "filter": filter_list,
    "remove": remove_list,
    "delete": delete,
    "delete-duplicates": delete_duplicates,
    "sort": sort,
    "fold": fold,
    "fold-right": fold_right,
    "reduce": reduce,
    "any": any_of,
    "every": every,
    "count": count,
    "list-index": list_index,
    "filter-map": filter_map,
    "append-map": append_map,
    "iota": iota,
    "flatten": flatten,
    "intersperse": intersperse,
    "set-car!": set_car,
    "set-cdr!": set_cdr,
}
