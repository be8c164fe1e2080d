"""String, character and symbol procedures, with the CHICKEN extras areas use
(`conc`, `->string`, `string-split`, `string-intersperse`, `string-translate`, srfi-13's
`string-join`, `string-contains`, `string-prefix?`, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from megatest.scheme.errors import SchemeError
from megatest.scheme.printer import display, write
from megatest.scheme.values import Char, Keyword, Symbol, make_list, to_pylist

_WHITESPACE = " \t\n\r\f\v"
_SPACE = Char.of(" ")


def string(x: Any, who: str) -> str:
    if type(x) is not str:
        raise SchemeError(f"({who}) bad argument type - not a string: {write(x)}")
    return x


def char(x: Any, who: str) -> str:
    if type(x) is not Char:
        raise SchemeError(f"({who}) bad argument type - not a character: {write(x)}")
    return x.ch


def conc(*args: Any) -> str:
    return "".join(display(a) for a in args)


def string_append(*args: Any) -> str:
    return "".join(string(a, "string-append") for a in args)


def substring(s: Any, start: Any, end: Any = None) -> str:
    text = string(s, "substring")
    stop = len(text) if end is None else end
    if not (type(start) is int and type(stop) is int and 0 <= start <= stop <= len(text)):
        raise SchemeError(f"(substring) index out of range: {start} {stop} for {write(text)}")
    return text[start:stop]


def string_split(s: Any, delims: Any = " \t\n", keep_empty: Any = False) -> Any:
    text, seps = string(s, "string-split"), string(delims, "string-split")
    parts, current = [], []
    for c in text:
        if c in seps:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    if keep_empty is False:
        parts = [p for p in parts if p]
    return make_list(parts)


def string_intersperse(lst: Any, sep: Any = " ") -> str:
    items = to_pylist(lst, "string-intersperse")
    return string(sep, "string-intersperse").join(string(x, "string-intersperse") for x in items)


def string_translate(s: Any, source: Any, target: Any = False) -> str:
    """CHICKEN: characters of `source` become those of `target` at the same place; without a
    target (or beyond its length) they are deleted."""
    text = string(s, "string-translate")
    src = source.ch if type(source) is Char else string(source, "string-translate")
    dst = "" if target is False else (target.ch if type(target) is Char else string(target, "string-translate"))
    out = []
    for c in text:
        index = src.find(c)
        if index < 0:
            out.append(c)
        elif index < len(dst):
            out.append(dst[index])
    return "".join(out)


def string_index(s: Any, pred: Any) -> Any:
    text = string(s, "string-index")
    for i, c in enumerate(text):
        if (c == pred.ch) if type(pred) is Char else pred(Char.of(c)) is not False:
            return i
    return False


def string_contains(s: Any, pattern: Any) -> Any:
    index = string(s, "string-contains").find(string(pattern, "string-contains"))
    return False if index < 0 else index


def _trim(name: str, how: Callable[[str, str], str]) -> Callable[..., str]:
    def trim(s: Any, chars: Any = None) -> str:
        text = string(s, name)
        which = _WHITESPACE if chars is None else (chars.ch if type(chars) is Char else string(chars, name))
        return how(text, which)

    trim.scheme_name = name  # type: ignore[attr-defined]
    return trim


def to_string(x: Any) -> str:
    """CHICKEN's `->string`: a string as it is, anything else displayed."""
    return display(x)


def symbol_to_string(x: Any) -> str:
    if type(x) is not Symbol:
        raise SchemeError(f"(symbol->string) bad argument type - not a symbol: {write(x)}")
    return x.name


def scheme_format(dest: Any, template: Any = None, *args: Any, output: list[str] | None = None) -> Any:
    """`(format #f "~a ..." args)` with ~a ~s ~d ~% ~~ (and `#t` for the output)."""
    if type(dest) is str:  # (format "template" args...): CHICKEN takes a string as no destination
        template, args, dest = dest, (template, *args) if template is not None else args, False
    text = string(template, "format")
    out, values, i = [], list(args), 0
    while i < len(text):
        c = text[i]
        if c == "~" and i + 1 < len(text):
            directive = text[i + 1].lower()
            i += 2
            if directive in "asdbox":
                if not values:
                    raise SchemeError("(format) too few arguments for the template")
                value = values.pop(0)
                out.append(write(value) if directive == "s" else display(value))
            elif directive == "%" or directive == "n":
                out.append("\n")
            elif directive == "~":
                out.append("~")
            else:
                raise SchemeError(f"(format) unsupported directive ~{directive}")
            continue
        out.append(c)
        i += 1
    result = "".join(out)
    if dest is False:
        return result
    if output is not None:
        output.append(result)
    from megatest.scheme.values import UNSPECIFIED

    return UNSPECIFIED


def _string_compare(name: str, op: Callable[[str, str], bool], fold: bool = False) -> Callable[..., bool]:
    def compare(*args: Any) -> bool:
        texts = [string(a, name).lower() if fold else string(a, name) for a in args]
        return all(op(texts[i], texts[i + 1]) for i in range(len(texts) - 1))

    compare.scheme_name = name  # type: ignore[attr-defined]
    return compare


def _char_compare(name: str, op: Callable[[str, str], bool]) -> Callable[..., bool]:
    def compare(*args: Any) -> bool:
        chars = [char(a, name) for a in args]
        return all(op(chars[i], chars[i + 1]) for i in range(len(chars) - 1))

    compare.scheme_name = name  # type: ignore[attr-defined]
    return compare


def _eq(a: str, b: str) -> bool:
    return a == b


def _lt(a: str, b: str) -> bool:
    return a < b


def _gt(a: str, b: str) -> bool:
    return a > b


def _le(a: str, b: str) -> bool:
    return a <= b


def _ge(a: str, b: str) -> bool:
    return a >= b


BUILTINS: dict[str, Callable[..., Any]] = {
    "string?": lambda x: type(x) is str,
    "symbol?": lambda x: type(x) is Symbol,
    "char?": lambda x: type(x) is Char,
    "keyword?": lambda x: type(x) is Keyword,
    "string-append": string_append,
    "conc": conc,
    "->string": to_string,
    "string-length": lambda s: len(string(s, "string-length")),
    "string-null?": lambda s: string(s, "string-null?") == "",
    "string-ref": lambda s, k: Char.of(string(s, "string-ref")[k]),
    "substring": substring,
    "string-upcase": lambda s: string(s, "string-upcase").upper(),
    "string-downcase": lambda s: string(s, "string-downcase").lower(),
    "string-reverse": lambda s: string(s, "string-reverse")[::-1],
    "string-copy": lambda s, start=0, end=None: substring(s, start, end),
    "string": lambda *cs: "".join(char(c, "string") for c in cs),
    "make-string": lambda n, c=_SPACE: char(c, "make-string") * n,
    "string->list": lambda s: make_list([Char.of(c) for c in string(s, "string->list")]),
    "list->string": lambda lst: "".join(char(c, "list->string") for c in to_pylist(lst, "list->string")),
    "string->symbol": lambda s: Symbol.of(string(s, "string->symbol")),
    "symbol->string": symbol_to_string,
    "string->keyword": lambda s: Keyword.of(string(s, "string->keyword")),
    "keyword->string": lambda k: k.name if type(k) is Keyword else string(k, "keyword->string"),
    "string-split": string_split,
    "string-intersperse": string_intersperse,
    "string-join": lambda lst, sep=" ": string_intersperse(lst, sep),
    "string-translate": string_translate,
    "string-index": string_index,
    "string-contains": string_contains,
    "string-prefix?": lambda p, s: string(s, "string-prefix?").startswith(string(p, "string-prefix?")),
    "string-suffix?": lambda p, s: string(s, "string-suffix?").endswith(string(p, "string-suffix?")),
    "string-trim": _trim("string-trim", lambda t, w: t.lstrip(w)),
    "string-trim-right": _trim("string-trim-right", lambda t, w: t.rstrip(w)),
    "string-trim-both": _trim("string-trim-both", lambda t, w: t.strip(w)),
    "string=?": _string_compare("string=?", _eq),
    "string<?": _string_compare("string<?", _lt),
    "string>?": _string_compare("string>?", _gt),
    "string<=?": _string_compare("string<=?", _le),
    "string>=?": _string_compare("string>=?", _ge),
    "string-ci=?": _string_compare("string-ci=?", _eq, fold=True),
    "char=?": _char_compare("char=?", _eq),
    "char<?": _char_compare("char<?", _lt),
    "char>?": _char_compare("char>?", _gt),
    "char->integer": lambda c: ord(char(c, "char->integer")),
    "integer->char": lambda n: Char.of(chr(n)),
    "char-upcase": lambda c: Char.of(char(c, "char-upcase").upper()),
    "char-downcase": lambda c: Char.of(char(c, "char-downcase").lower()),
    "char-alphabetic?": lambda c: char(c, "char-alphabetic?").isalpha(),
    "char-numeric?": lambda c: char(c, "char-numeric?").isdigit(),
    "char-whitespace?": lambda c: char(c, "char-whitespace?") in _WHITESPACE,
    "char-upper-case?": lambda c: char(c, "char-upper-case?").isupper(),
    "char-lower-case?": lambda c: char(c, "char-lower-case?").islower(),
}
