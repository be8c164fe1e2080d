"""A small, safe reader and whitelist evaluator for `#{scheme expr}` directives.

The original evaluates arbitrary CHICKEN code with all of Megatest's globals in scope; we only
support the forms real areas use (reference section 9 item 11; the full list is in
docs/decisions.md, "Config language"). Anything outside the whitelist raises `UnsupportedForm`,
which the reader turns into a ConfigError naming file:line. Runtime errors inside supported
forms (wrong types, unbalanced parentheses, ...) raise `SchemeError`, which the reader treats
like the original's caught exception: the directive's fallback text is substituted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from megatest.config.directives import display


class SchemeError(Exception):
    """A runtime or syntax error in a supported expression (the original would catch it)."""


class UnsupportedForm(Exception):
    """The expression uses something outside the whitelist."""


class Symbol(str):
    """A Scheme symbol (a string subclass so it displays as its name)."""

    __slots__ = ()


class _Unspecified:
    """The value of forms like `(unsetenv "X")`; displays as the original's `#<unspecified>`."""

    def __repr__(self) -> str:
        return "#<unspecified>"


UNSPECIFIED = _Unspecified()
_EMPTY_BODY_ERR = "lambda body is empty"


# ----------------------------------------------------------------------------- reader

_DELIMS = set("()[];\"'")
_STRING_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "a": "\a", "b": "\b", "v": "\v", "f": "\f"}


def read_all(text: str) -> list[Any]:
    """Read every datum in `text`."""
    reader = _Reader(text)
    out = []
    while True:
        reader.skip_space()
        if reader.pos >= len(text):
            return out
        out.append(reader.datum())


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        t, n = self.text, len(self.text)
        while self.pos < n:
            c = t[self.pos]
            if c.isspace():
                self.pos += 1
            elif c == ";":
                while self.pos < n and t[self.pos] != "\n":
                    self.pos += 1
            else:
                return

    def datum(self) -> Any:
        self.skip_space()
        if self.pos >= len(self.text):
            raise SchemeError("unexpected end of expression")
        c = self.text[self.pos]
        if c in "([":
            self.pos += 1
            return self._list(")" if c == "(" else "]")
        if c in ")]":
            raise SchemeError(f"unexpected '{c}'")
        if c == "'":
            self.pos += 1
            return [Symbol("quote"), self.datum()]
        if c == '"':
            self.pos += 1
            return self._string()
        if c in "`,":
            raise UnsupportedForm("quasiquote")
        return self._atom()

    def _list(self, close: str) -> list[Any]:
        items = []
        while True:
            self.skip_space()
            if self.pos >= len(self.text):
                raise SchemeError("missing closing parenthesis")
            if self.text[self.pos] in ")]":
                if self.text[self.pos] != close:
                    raise SchemeError("mismatched parenthesis")
                self.pos += 1
                return items
            items.append(self.datum())

    def _string(self) -> str:
        t, out = self.text, []
        while self.pos < len(t):
            c = t[self.pos]
            self.pos += 1
            if c == '"':
                return "".join(out)
            if c == "\\":
                if self.pos >= len(t):
                    break
                e = t[self.pos]
                self.pos += 1
                out.append(_STRING_ESCAPES.get(e, e))
            else:
                out.append(c)
        raise SchemeError("unterminated string")

    def _atom(self) -> Any:
        t, start = self.text, self.pos
        while self.pos < len(t) and not t[self.pos].isspace() and t[self.pos] not in _DELIMS:
            self.pos += 1
        tok = t[start : self.pos]
        if tok in ("#t", "#true"):
            return True
        if tok in ("#f", "#false"):
            return False
        if tok.startswith("#\\"):
            return _char(tok)
        num = _number(tok)
        if num is not None:
            return num
        if tok.startswith("#"):
            raise UnsupportedForm(tok)
        return Symbol(tok)


def _char(tok: str) -> str:
    name = tok[2:]
    named = {"space": " ", "newline": "\n", "tab": "\t", "nul": "\0"}
    if len(name) == 1:
        return name
    if name in named:
        return named[name]
    raise UnsupportedForm(tok)


def _number(tok: str) -> int | float | None:
    try:
        return int(tok, 10)
    except ValueError:
        pass
    if any(ch.isdigit() for ch in tok):
        try:
            return float(tok)
        except ValueError:
            return None
    return None


def write(x: Any) -> str:
    """`write` representation, used to name an unsupported form in error messages."""
    if isinstance(x, list):
        return "(" + " ".join(write(e) for e in x) + ")"
    if isinstance(x, Symbol):
        return str(x)
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return display(x)


# ----------------------------------------------------------------------------- evaluator


@dataclass
class SchemeContext:
    """What a `#{scheme}` expression may see and touch."""

    env: MutableMapping[str, str]
    cwd: str | None = None
    toppath: str | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    config: Any = None  # the config being read (`ht`)
    lookup: Callable[[str, str], Any] | None = None  # (section, key) -> value or None


def evaluate(text: str, ctx: SchemeContext) -> Any:
    """Evaluate the body of `(lambda (ht) TEXT)` applied to the config; return the last value."""
    # Read the same text the original evaluates, so a `;` comment or a stray parenthesis in
    # the argument has the same effect on the generated lambda as it has there.
    # Only the first datum is read, as the original does: trailing text is ignored.
    body = _Reader("(lambda (ht)" + text + ")").datum()[2:]
    if not body:
        raise SchemeError(_EMPTY_BODY_ERR)
    scope = _Scope({"ht": ctx.config, "*toppath*": ctx.toppath if ctx.toppath is not None else False})
    return _Evaluator(ctx)._body(body, scope)


class _Scope:
    __slots__ = ("vars", "parent")

    def __init__(self, vars: dict[str, Any], parent: _Scope | None = None):
        self.vars = vars
        self.parent = parent

    def find(self, name: str) -> tuple[bool, Any]:
        s: _Scope | None = self
        while s is not None:
            if name in s.vars:
                return True, s.vars[name]
            s = s.parent
        return False, None


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _nums(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    for a in args:
        if not _is_num(a):
            raise SchemeError(f"({name}) bad argument type - not a number: {display(a)}")
    return args


def _strs(name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    for a in args:
        if not isinstance(a, str):
            raise SchemeError(f"({name}) bad argument type - not a string: {display(a)}")
    return args


def _truthy(x: Any) -> bool:
    return x is not False


def _eqv(a: Any, b: Any) -> bool:
    if isinstance(a, Symbol) and isinstance(b, Symbol):
        return str(a) == str(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if _is_num(a) and _is_num(b):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return not a and not b
    return a is b


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is str and type(b) is str:
        return a == b
    return _eqv(a, b)


def _divide(*args: Any) -> Any:
    _nums("/", args)
    if not args:
        raise SchemeError("(/) bad argument count")
    if len(args) == 1:
        args = (1, args[0])
    acc = args[0]
    for d in args[1:]:
        if d == 0:
            raise SchemeError("(/) division by zero")
        if isinstance(acc, int) and isinstance(d, int) and acc % d == 0:
            acc = acc // d
        else:
            acc = acc / d  # CHICKEN 4 (no numbers egg) gives a flonum for an inexact quotient
    return acc


def _minus(*args: Any) -> Any:
    _nums("-", args)
    if not args:
        raise SchemeError("(-) bad argument count")
    if len(args) == 1:
        return -args[0]
    acc = args[0]
    for a in args[1:]:
        acc -= a
    return acc


def _compare(name: str, op: Callable[[Any, Any], bool], check: Callable) -> Callable[..., bool]:
    def cmp(*args: Any) -> bool:
        check(name, args)
        return all(op(args[i], args[i + 1]) for i in range(len(args) - 1))

    return cmp


def _conc(*args: Any) -> str:
    return "".join(display(a) for a in args)


def _string_intersperse(lst: Any, sep: Any = " ") -> str:
    if not isinstance(lst, list):
        raise SchemeError("(string-intersperse) bad argument type - not a list")
    _strs("string-intersperse", (*lst, sep))
    return sep.join(lst)


def _string_split(s: Any, delims: Any = " \t\n", keep_empty: Any = False) -> list[str]:
    _strs("string-split", (s, delims))
    parts, cur = [], []
    for ch in s:
        if ch in delims:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts if _truthy(keep_empty) else [p for p in parts if p]


def _number_to_string(n: Any, radix: Any = 10) -> str:
    _nums("number->string", (n,))
    if radix != 10:
        if not isinstance(n, int) or radix not in (2, 8, 16):
            raise SchemeError("(number->string) bad radix")
        return format(n, {2: "b", 8: "o", 16: "x"}[radix])
    return display(n)


def _string_to_number(s: Any) -> Any:
    _strs("string->number", (s,))
    n = _number(s)
    return False if n is None else n


def _substring(s: Any, start: Any, end: Any = None) -> str:
    _strs("substring", (s,))
    stop = len(s) if end is None else end
    if not (isinstance(start, int) and isinstance(stop, int) and 0 <= start <= stop <= len(s)):
        raise SchemeError("(substring) index out of range")
    return s[start:stop]


def _car(x: Any) -> Any:
    if not isinstance(x, list) or not x:
        raise SchemeError("(car) bad argument type")
    return x[0]


def _cdr(x: Any) -> Any:
    if not isinstance(x, list) or not x:
        raise SchemeError("(cdr) bad argument type")
    return x[1:]


def _cons(a: Any, b: Any) -> list[Any]:
    if not isinstance(b, list):
        raise UnsupportedForm("cons onto a non-list (dotted pairs)")
    return [a, *b]


def _length(x: Any) -> int:
    if not isinstance(x, list):
        raise SchemeError("(length) bad argument type")
    return len(x)


def _append(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for lst in lists:
        if not isinstance(lst, list):
            raise SchemeError("(append) bad argument type")
        out.extend(lst)
    return out


def _pure_builtins() -> dict[str, Callable[..., Any]]:
    nums, strs = _nums, _strs
    return {
        "+": lambda *a: sum(nums("+", a)),
        "-": _minus,
        "*": lambda *a: _product(nums("*", a)),
        "/": _divide,
        "quotient": lambda a, b: _int_div("quotient", a, b, lambda x, y: int(x / y)),
        "remainder": lambda a, b: _int_div("remainder", a, b, lambda x, y: x - y * int(x / y)),
        "modulo": lambda a, b: _int_div("modulo", a, b, lambda x, y: x % y),
        "max": lambda *a: max(nums("max", a)),
        "min": lambda *a: min(nums("min", a)),
        "abs": lambda a: abs(nums("abs", (a,))[0]),
        "=": _compare("=", lambda x, y: x == y, nums),
        "<": _compare("<", lambda x, y: x < y, nums),
        ">": _compare(">", lambda x, y: x > y, nums),
        "<=": _compare("<=", lambda x, y: x <= y, nums),
        ">=": _compare(">=", lambda x, y: x >= y, nums),
        "string=?": _compare("string=?", lambda x, y: x == y, strs),
        "string<?": _compare("string<?", lambda x, y: x < y, strs),
        "string>?": _compare("string>?", lambda x, y: x > y, strs),
        "string<=?": _compare("string<=?", lambda x, y: x <= y, strs),
        "string>=?": _compare("string>=?", lambda x, y: x >= y, strs),
        "string-ci=?": _compare("string-ci=?", lambda x, y: x.lower() == y.lower(), strs),
        "string-append": lambda *a: "".join(strs("string-append", a)),
        "conc": _conc,
        "string-intersperse": _string_intersperse,
        "string-split": _string_split,
        "string-null?": lambda s: strs("string-null?", (s,))[0] == "",
        "string-length": lambda s: len(strs("string-length", (s,))[0]),
        "string-upcase": lambda s: strs("string-upcase", (s,))[0].upper(),
        "string-downcase": lambda s: strs("string-downcase", (s,))[0].lower(),
        "substring": _substring,
        "number->string": _number_to_string,
        "string->number": _string_to_number,
        "string->symbol": lambda s: Symbol(strs("string->symbol", (s,))[0]),
        "symbol->string": lambda s: _symbol_to_string(s),
        "not": lambda x: x is False,
        "eq?": _eqv,
        "eqv?": _eqv,
        "equal?": _equal,
        "list": lambda *a: list(a),
        "car": _car,
        "cdr": _cdr,
        "cons": _cons,
        "null?": lambda x: isinstance(x, list) and not x,
        "length": _length,
        "append": _append,
        "reverse": lambda x: list(reversed(x)) if isinstance(x, list) else _bad("reverse"),
        "number?": _is_num,
        "string?": lambda x: isinstance(x, str) and not isinstance(x, Symbol),
        "symbol?": lambda x: isinstance(x, Symbol),
        "get-host-name": _host_name,
    }


def _host_name() -> str:
    import socket  # only a few configs ask; keep the reader's import cheap

    return socket.gethostname()


def _bad(name: str) -> Any:
    raise SchemeError(f"({name}) bad argument type")


def _product(args: tuple[Any, ...]) -> Any:
    acc: Any = 1
    for a in args:
        acc *= a
    return acc


def _int_div(name: str, a: Any, b: Any, op: Callable[[Any, Any], Any]) -> Any:
    _nums(name, (a, b))
    if b == 0:
        raise SchemeError(f"({name}) division by zero")
    return op(a, b)


def _symbol_to_string(s: Any) -> str:
    if not isinstance(s, Symbol):
        raise SchemeError("(symbol->string) bad argument type - not a symbol")
    return str(s)


_PURE = _pure_builtins()
_SPECIAL = frozenset(
    ["quote", "if", "and", "or", "let", "let*", "begin", "case", "cond", "when", "unless"]
)


class _Evaluator:
    def __init__(self, ctx: SchemeContext):
        self.ctx = ctx
        self.procs = {
            "getenv": self._getenv,
            "get-environment-variable": self._getenv,
            "setenv": self._setenv,
            "set-environment-variable!": self._setenv,
            "unsetenv": self._unsetenv,
            "unset-environment-variable!": self._unsetenv,
            "args:get-arg": self._get_arg,
            "create-directory": self._create_directory,
            "current-directory": self._current_directory,
            "config-lookup": self._config_lookup,
            "configf:lookup": self._config_lookup,
        }

    # -- side-effecting and context procedures
    def _getenv(self, name: Any) -> Any:
        _strs("get-environment-variable", (name,))
        v = self.ctx.env.get(name)
        return False if v is None else v

    def _setenv(self, name: Any, value: Any) -> Any:
        _strs("setenv", (name, value))
        if not name or "=" in name or "\0" in name or "\0" in value:
            raise SchemeError(f"(setenv) invalid name or value: {name}")
        self.ctx.env[name] = value
        return UNSPECIFIED

    def _unsetenv(self, name: Any) -> Any:
        _strs("unsetenv", (name,))
        self.ctx.env.pop(name, None)
        return UNSPECIFIED

    def _get_arg(self, name: Any, default: Any = False) -> Any:
        _strs("args:get-arg", (name,))
        v = self.ctx.args.get(name)
        return default if v is None else v

    def _create_directory(self, path: Any, parents: Any = False) -> Any:
        _strs("create-directory", (path,))
        full = path if os.path.isabs(path) or self.ctx.cwd is None else os.path.join(self.ctx.cwd, path)
        try:
            if _truthy(parents):
                os.makedirs(full, exist_ok=True)
            else:
                os.mkdir(full)
        except OSError as exc:
            raise SchemeError(f"(create-directory) cannot create directory: {exc}") from exc
        return path

    def _current_directory(self) -> str:
        return self.ctx.cwd if self.ctx.cwd is not None else os.getcwd()

    def _config_lookup(self, cfg: Any, section: Any, key: Any) -> Any:
        _strs("config-lookup", (section, key))
        if cfg is not self.ctx.config or self.ctx.lookup is None:
            raise SchemeError("(config-lookup) not a config")
        v = self.ctx.lookup(section, key)
        return False if v is None else v

    # -- core
    def eval(self, x: Any, scope: _Scope) -> Any:
        if isinstance(x, Symbol):
            return self._variable(x, scope)
        if not isinstance(x, list):
            return x  # self-evaluating: numbers, strings, booleans
        if not x:
            raise SchemeError("illegal non-atomic object: ()")
        head = x[0]
        if isinstance(head, Symbol) and head in _SPECIAL and not scope.find(head)[0]:
            return self._special(head, x, scope)
        proc = self.eval(head, scope)
        if not callable(proc):
            raise SchemeError(f"call of non-procedure: {display(proc)}")
        args = [self.eval(a, scope) for a in x[1:]]
        try:
            return proc(*args)
        except TypeError as exc:
            raise SchemeError(f"bad argument count in {write(x)}") from exc

    def _variable(self, name: Symbol, scope: _Scope) -> Any:
        found, value = scope.find(name)
        if found:
            return value
        if name in self.procs:
            return self.procs[name]
        if name in _PURE:
            return _PURE[name]
        raise UnsupportedForm(str(name))

    def _special(self, head: str, x: list[Any], scope: _Scope) -> Any:
        if head == "quote":
            self._arity(x, 2)
            return x[1]
        if head == "if":
            if len(x) not in (3, 4):
                raise SchemeError(f"bad if form: {write(x)}")
            if _truthy(self.eval(x[1], scope)):
                return self.eval(x[2], scope)
            return self.eval(x[3], scope) if len(x) == 4 else UNSPECIFIED
        if head == "and":
            result: Any = True
            for e in x[1:]:
                result = self.eval(e, scope)
                if result is False:
                    return False
            return result
        if head == "or":
            for e in x[1:]:
                result = self.eval(e, scope)
                if result is not False:
                    return result
            return False
        if head in ("let", "let*"):
            return self._let(x, scope, sequential=head == "let*")
        if head == "begin":
            return self._body(x[1:], scope)
        if head in ("when", "unless"):
            if len(x) < 2:
                raise SchemeError(f"bad {head} form")
            test = _truthy(self.eval(x[1], scope))
            return self._body(x[2:], scope) if test == (head == "when") else UNSPECIFIED
        if head == "case":
            return self._case(x, scope)
        return self._cond(x, scope)

    def _arity(self, x: list[Any], n: int) -> None:
        if len(x) != n:
            raise SchemeError(f"bad form: {write(x)}")

    def _body(self, forms: list[Any], scope: _Scope) -> Any:
        result: Any = UNSPECIFIED
        for f in forms:
            result = self.eval(f, scope)
        return result

    def _let(self, x: list[Any], scope: _Scope, sequential: bool) -> Any:
        if len(x) < 3 or not isinstance(x[1], list):
            if len(x) > 1 and isinstance(x[1], Symbol):
                raise UnsupportedForm("named let")
            raise SchemeError(f"bad let form: {write(x)}")
        inner = _Scope({}, scope)
        for binding in x[1]:
            if not (isinstance(binding, list) and len(binding) == 2 and isinstance(binding[0], Symbol)):
                raise SchemeError(f"bad let binding: {write(binding)}")
            inner.vars[binding[0]] = self.eval(binding[1], inner if sequential else scope)
        return self._body(x[2:], inner)

    def _case(self, x: list[Any], scope: _Scope) -> Any:
        if len(x) < 2:
            raise SchemeError("bad case form")
        key = self.eval(x[1], scope)
        for clause in x[2:]:
            if not isinstance(clause, list) or not clause:
                raise SchemeError(f"bad case clause: {write(clause)}")
            data = clause[0]
            if data == "else" and isinstance(data, Symbol):
                return self._body(clause[1:], scope)
            if not isinstance(data, list):
                raise SchemeError(f"bad case clause: {write(clause)}")
            if any(_eqv(key, d) for d in data):
                return self._body(clause[1:], scope)
        return UNSPECIFIED

    def _cond(self, x: list[Any], scope: _Scope) -> Any:
        for clause in x[1:]:
            if not isinstance(clause, list) or not clause:
                raise SchemeError(f"bad cond clause: {write(clause)}")
            if isinstance(clause[0], Symbol) and clause[0] == "else":
                return self._body(clause[1:], scope)
            test = self.eval(clause[0], scope)
            if _truthy(test):
                return self._body(clause[1:], scope) if len(clause) > 1 else test
        return UNSPECIFIED


def supported_names() -> list[str]:
    """Every special form and procedure name the evaluator accepts (for docs and tests)."""
    dummy = _Evaluator(SchemeContext(env={}))
    return sorted({*_SPECIAL, *_PURE, *dummy.procs, "ht", "*toppath*"})
