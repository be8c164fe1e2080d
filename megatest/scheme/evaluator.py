"""The evaluator: environments, closures, special forms, tail calls and the safety limits.

`Interpreter(bindings)` starts from the builtin procedures plus the caller's own names (the
config reader adds getenv/nice-path/configf:lookup..., logpro adds expect:*/trigger/section).
Tail calls do not grow the Python stack (a named-let loop of any length runs in constant
depth); non-tail nesting is limited (`depth_limit`) and so is the number of evaluation steps
(`step_limit`), each with a `SchemeLimitError`, so no config or rule file can hang or crash
the process. There is no file write or process start in here: callers decide what to add.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

from megatest.scheme.equality import eqv
from megatest.scheme.errors import SchemeError, SchemeLimitError, UnboundName
from megatest.scheme.printer import write
from megatest.scheme.reader import QUASIQUOTE, UNQUOTE, UNQUOTE_SPLICING, Reader
from megatest.scheme.values import NIL, UNSPECIFIED, Pair, Symbol, make_list, to_pylist

DEFAULT_STEP_LIMIT = 1_000_000  # about two seconds of evaluation
DEFAULT_DEPTH_LIMIT = 1_000  # nested (non-tail) calls
_PY_FRAMES_PER_LEVEL = 8  # Python frames one nested Scheme call may take (eval, map, __call__, apply)
_MISSING = object()
_BUILTIN_ERRORS = (TypeError, ValueError, IndexError, KeyError, ZeroDivisionError, OverflowError,
                   AttributeError)

ELSE = Symbol.of("else")
ARROW = Symbol.of("=>")
DEFINE = Symbol.of("define")


class Env:
    """One frame of variables (keyed by interned Symbol) and its enclosing frame."""

    __slots__ = ("vars", "parent")

    def __init__(self, vars: dict[Symbol, Any], parent: Env | None):
        self.vars = vars
        self.parent = parent

    def lookup(self, sym: Symbol) -> Any:
        env: Env | None = self
        while env is not None:
            value = env.vars.get(sym, _MISSING)
            if value is not _MISSING:
                return value
            env = env.parent
        return _MISSING

    def frame_of(self, sym: Symbol) -> Env | None:
        env: Env | None = self
        while env is not None:
            if sym in env.vars:
                return env
            env = env.parent
        return None


class Lambda:
    """A closure; callable from Python (builtins like `map` call it like any procedure)."""

    __slots__ = ("params", "rest", "body", "env", "scheme_name", "interp")

    def __init__(self, params: tuple[Symbol, ...], rest: Symbol | None, body: tuple[Any, ...], env: Env,
                 interp: Interpreter, name: str | None = None):
        self.params = params
        self.rest = rest
        self.body = body
        self.env = env
        self.interp = interp
        self.scheme_name = name

    def __call__(self, *args: Any) -> Any:
        return self.interp.apply(self, list(args))

    def bind(self, args: list[Any]) -> Env:
        params = self.params
        n = len(params)
        if len(args) != n and (self.rest is None or len(args) < n):
            expected = f"at least {n}" if self.rest is not None else str(n)
            raise SchemeError(
                f"bad argument count - received {len(args)} but expected {expected}"
                f" in call to {self.scheme_name or 'an anonymous procedure'}"
            )
        vars = dict(zip(params, args[:n], strict=True))
        if self.rest is not None:
            vars[self.rest] = make_list(args[n:])
        return Env(vars, self.env)


def _arity_error(form: Pair) -> SchemeError:
    return SchemeError(f"bad syntax: {write(form)}")


def _items(x: Any, form: Pair) -> list[Any]:
    try:
        return to_pylist(x)
    except SchemeError:
        raise _arity_error(form) from None


class Interpreter:
    """A global environment plus the evaluation machinery."""

    def __init__(self, bindings: Mapping[str, Any] | None = None, *,
                 step_limit: int = DEFAULT_STEP_LIMIT, depth_limit: int = DEFAULT_DEPTH_LIMIT):
        from megatest.scheme.builtins import base_bindings, output_bindings

        self.output: list[str] = []  # what display/print/write/newline produced
        vars = dict(base_bindings())
        for name, value in output_bindings(self.output).items():
            vars[Symbol.of(name)] = value
        for name, value in (bindings or {}).items():
            vars[Symbol.of(name)] = value
        self.globals = Env(vars, None)
        self.step_limit = step_limit
        self.depth_limit = depth_limit
        self.steps = 0
        self.depth = 0
        self.line = 0  # line of the call being applied (for builtins that record where)
        self._special: dict[Symbol, Callable[[Pair, Env], Any]] = {
            Symbol.of(name): method for name, method in self._special_forms().items()
        }

    # -- public entry points
    def define(self, name: str, value: Any) -> None:
        self.globals.vars[Symbol.of(name)] = value

    def eval_text(self, text: str, first_line: int = 1) -> Any:
        """Read and evaluate every datum of `text` at top level; the last value."""
        reader = Reader(text, first_line)
        result: Any = UNSPECIFIED
        while not reader.at_end():
            result = self.run(reader.read())
        return result

    def run(self, x: Any, env: Env | None = None) -> Any:
        """Evaluate one datum from outside, with the Python stack made room for `depth_limit`."""
        needed = _current_depth() + self.depth_limit * _PY_FRAMES_PER_LEVEL + 200
        old = sys.getrecursionlimit()
        if needed > old:
            sys.setrecursionlimit(needed)
        try:
            return self.eval(x, self.globals if env is None else env)
        except RecursionError:
            raise SchemeLimitError("recursion too deep for the Python stack") from None
        finally:
            if needed > old and sys.getrecursionlimit() == needed:
                sys.setrecursionlimit(old)

    def apply(self, proc: Any, args: list[Any]) -> Any:
        """Call a procedure (closure or builtin) with evaluated arguments."""
        if type(proc) is Lambda:
            env = proc.bind(args)
            body = proc.body
            for form in body[:-1]:
                self.eval(form, env)
            return self.eval(body[-1], env)
        if not callable(proc):
            raise SchemeError(f"call of non-procedure: {write(proc)}")
        return _call_builtin(proc, args, None)

    # -- the core
    def eval(self, x: Any, env: Env) -> Any:
        self.depth += 1
        if self.depth > self.depth_limit:
            self.depth -= 1
            raise SchemeLimitError(f"recursion deeper than {self.depth_limit} nested calls")
        try:
            while True:
                if type(x) is Symbol:
                    value = env.lookup(x)
                    if value is _MISSING:
                        raise UnboundName(x.name, called=False)
                    return value
                if type(x) is not Pair:
                    if x is NIL:
                        raise SchemeError("illegal non-atomic object: ()")
                    return x  # numbers, strings, booleans, chars, keywords, regexps
                self.steps += 1
                if self.steps > self.step_limit:
                    raise SchemeLimitError(
                        f"evaluation did not finish within {self.step_limit} steps (an endless loop?)"
                    )
                head = x.car
                if type(head) is Symbol:
                    special = self._special.get(head)
                    if special is not None:
                        result = special(x, env)
                        if type(result) is tuple:  # a tail position: go on in this frame
                            x, env = result
                            continue
                        return result
                    proc = env.lookup(head)
                    if proc is _MISSING:
                        raise UnboundName(head.name, called=True)
                else:
                    proc = self.eval(head, env)
                args = []
                rest = x.cdr
                while type(rest) is Pair:
                    args.append(self.eval(rest.car, env))
                    rest = rest.cdr
                if type(proc) is Lambda:
                    env = proc.bind(args)
                    body = proc.body
                    for form in body[:-1]:
                        self.eval(form, env)
                    x = body[-1]
                    continue
                if not callable(proc):
                    raise SchemeError(f"call of non-procedure: {write(proc)}")
                if x.line:
                    self.line = x.line
                return _call_builtin(proc, args, head)
        except SchemeError as exc:
            if exc.line is None and type(x) is Pair and x.line:
                exc.line = x.line
            raise
        finally:
            self.depth -= 1

    def _body(self, forms: Any, env: Env, form: Pair) -> tuple[Any, Env]:
        """Evaluate all but the last form of a body; hand the last back as a tail."""
        items = _items(forms, form)
        if not items:
            raise SchemeError(f"empty body in {write(form)}")
        for f in items[:-1]:
            self.eval(f, env)
        return items[-1], env

    def make_lambda(self, params: Any, body: Any, env: Env, form: Pair, name: str | None = None) -> Lambda:
        names: list[Symbol] = []
        while type(params) is Pair:
            if type(params.car) is not Symbol:
                raise SchemeError(f"bad lambda list in {write(form)}")
            names.append(params.car)
            params = params.cdr
        if params is not NIL and type(params) is not Symbol:
            raise SchemeError(f"bad lambda list in {write(form)}")
        forms = tuple(_items(body, form))
        if not forms:
            raise SchemeError(f"lambda body is empty in {write(form)}")
        rest = params if type(params) is Symbol else None
        return Lambda(tuple(names), rest, forms, env, self, name)

    # -- special forms; a tuple result is (expression, env) still to evaluate in tail position
    def _special_forms(self) -> dict[str, Callable[[Pair, Env], Any]]:
        return {
            "quote": self._quote, "quasiquote": self._quasiquote, "if": self._if,
            "define": self._define, "set!": self._set, "lambda": self._lambda,
            "let": self._let, "let*": self._let_star, "letrec": self._letrec, "letrec*": self._letrec,
            "begin": self._begin, "cond": self._cond, "case": self._case, "and": self._and,
            "or": self._or, "when": self._when, "unless": self._unless, "do": self._do,
            # module and compiler declarations mean nothing here
            "use": _ignored, "require-extension": _ignored, "import": _ignored,
            "require-library": _ignored, "declare": _ignored,
        }

    def _quote(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if len(args) != 1:
            raise _arity_error(x)
        return args[0]

    def _quasiquote(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if len(args) != 1:
            raise _arity_error(x)
        return self._qq(args[0], env, 1)

    def _qq(self, tmpl: Any, env: Env, depth: int) -> Any:
        if type(tmpl) is not Pair:
            return tmpl
        head = tmpl.car
        if head is UNQUOTE or head is QUASIQUOTE:
            inner = _items(tmpl.cdr, tmpl)
            if len(inner) != 1:
                raise _arity_error(tmpl)
            if head is UNQUOTE:
                if depth == 1:
                    return self.eval(inner[0], env)
                return make_list([UNQUOTE, self._qq(inner[0], env, depth - 1)])
            return make_list([QUASIQUOTE, self._qq(inner[0], env, depth + 1)])
        items: list[Any] = []
        rest: Any = tmpl
        while type(rest) is Pair:
            if rest.car is UNQUOTE:  # `(a . ,b)` reads as (a unquote b)
                break
            item = rest.car
            if type(item) is Pair and item.car is UNQUOTE_SPLICING and depth == 1:
                spliced = _items(item.cdr, item)
                if len(spliced) != 1:
                    raise _arity_error(item)
                items.extend(to_pylist(self.eval(spliced[0], env), "unquote-splicing"))
            else:
                items.append(self._qq(item, env, depth))
            rest = rest.cdr
        return make_list(items, self._qq(rest, env, depth))

    def _if(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if len(args) not in (2, 3):
            raise _arity_error(x)
        if self.eval(args[0], env) is not False:
            return args[1], env
        return (args[2], env) if len(args) == 3 else UNSPECIFIED

    def _define(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if not args:
            raise _arity_error(x)
        target = args[0]
        # curried `(define ((f a) b) ...)` unwraps into nested lambdas
        while type(target) is Pair:
            value_form = Pair(Symbol.of("lambda"), Pair(target.cdr, make_list(args[1:])), x.line)
            target, args = target.car, [target, value_form]
        if type(target) is not Symbol:
            raise _arity_error(x)
        if len(args) == 1:
            value: Any = UNSPECIFIED
        elif len(args) == 2:
            value = self.eval(args[1], env)
            if type(value) is Lambda and value.scheme_name is None:
                value.scheme_name = target.name
        else:
            raise _arity_error(x)
        env.vars[target] = value
        return UNSPECIFIED

    def _set(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if len(args) != 2 or type(args[0]) is not Symbol:
            raise _arity_error(x)
        frame = env.frame_of(args[0])
        if frame is None:
            raise UnboundName(args[0].name, called=False)
        frame.vars[args[0]] = self.eval(args[1], env)
        return UNSPECIFIED

    def _lambda(self, x: Pair, env: Env) -> Any:
        if type(x.cdr) is not Pair:
            raise _arity_error(x)
        return self.make_lambda(x.cdr.car, x.cdr.cdr, env, x)

    def _bindings(self, spec: Any, form: Pair) -> list[tuple[Symbol, Any]]:
        out = []
        for binding in _items(spec, form):
            parts = _items(binding, form) if type(binding) is Pair else None
            if not parts or type(parts[0]) is not Symbol or len(parts) > 2:
                raise SchemeError(f"bad binding {write(binding)} in {write(form)}")
            out.append((parts[0], parts[1] if len(parts) == 2 else UNSPECIFIED))
        return out

    def _let(self, x: Pair, env: Env) -> Any:
        if type(x.cdr) is not Pair:
            raise _arity_error(x)
        first = x.cdr.car
        if type(first) is Symbol:  # named let: a local loop procedure
            if type(x.cdr.cdr) is not Pair:
                raise _arity_error(x)
            bindings = self._bindings(x.cdr.cdr.car, x)
            loop_env = Env({}, env)
            params = make_list([name for name, _ in bindings])
            proc = self.make_lambda(params, x.cdr.cdr.cdr, loop_env, x, first.name)
            loop_env.vars[first] = proc
            args = [self.eval(init, env) for _, init in bindings]
            return self._body(x.cdr.cdr.cdr, proc.bind(args), x)
        bindings = self._bindings(first, x)
        inner = Env({name: self.eval(init, env) for name, init in bindings}, env)
        return self._body(x.cdr.cdr, inner, x)

    def _let_star(self, x: Pair, env: Env) -> Any:
        if type(x.cdr) is not Pair:
            raise _arity_error(x)
        for name, init in self._bindings(x.cdr.car, x):
            env = Env({name: self.eval(init, env)}, env)
        return self._body(x.cdr.cdr, Env({}, env), x)

    def _letrec(self, x: Pair, env: Env) -> Any:
        if type(x.cdr) is not Pair:
            raise _arity_error(x)
        inner = Env({}, env)
        for name, init in self._bindings(x.cdr.car, x):
            inner.vars[name] = UNSPECIFIED
            value = self.eval(init, inner)
            if type(value) is Lambda and value.scheme_name is None:
                value.scheme_name = name.name
            inner.vars[name] = value
        return self._body(x.cdr.cdr, inner, x)

    def _begin(self, x: Pair, env: Env) -> Any:
        if x.cdr is NIL:
            return UNSPECIFIED
        return self._body(x.cdr, env, x)

    def _and(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if not args:
            return True
        for form in args[:-1]:
            if self.eval(form, env) is False:
                return False
        return args[-1], env

    def _or(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if not args:
            return False
        for form in args[:-1]:
            value = self.eval(form, env)
            if value is not False:
                return value
        return args[-1], env

    def _when(self, x: Pair, env: Env) -> Any:
        if type(x.cdr) is not Pair:
            raise _arity_error(x)
        if self.eval(x.cdr.car, env) is False:
            return UNSPECIFIED
        return self._begin(x.cdr, env)

    def _unless(self, x: Pair, env: Env) -> Any:
        if type(x.cdr) is not Pair:
            raise _arity_error(x)
        if self.eval(x.cdr.car, env) is not False:
            return UNSPECIFIED
        return self._begin(x.cdr, env)

    def _cond(self, x: Pair, env: Env) -> Any:
        for clause in _items(x.cdr, x):
            parts = _items(clause, x) if type(clause) is Pair else None
            if not parts:
                raise SchemeError(f"bad cond clause {write(clause)}")
            if parts[0] is ELSE:
                return self._body(clause.cdr, env, x)
            test = self.eval(parts[0], env)
            if test is False:
                continue
            if len(parts) == 1:
                return test
            if parts[1] is ARROW:
                if len(parts) != 3:
                    raise SchemeError(f"bad cond clause {write(clause)}")
                return self.apply(self.eval(parts[2], env), [test])
            return self._body(clause.cdr, env, x)
        return UNSPECIFIED

    def _case(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if not args:
            raise _arity_error(x)
        key = self.eval(args[0], env)
        for clause in args[1:]:
            parts = _items(clause, x) if type(clause) is Pair else None
            if not parts:
                raise SchemeError(f"bad case clause {write(clause)}")
            data = parts[0]
            if data is ELSE or any(eqv(key, d) for d in _items(data, x)):
                if len(parts) == 3 and parts[1] is ARROW:
                    return self.apply(self.eval(parts[2], env), [key])
                return self._body(clause.cdr, env, x)
        return UNSPECIFIED

    def _do(self, x: Pair, env: Env) -> Any:
        args = _items(x.cdr, x)
        if len(args) < 2:
            raise _arity_error(x)
        specs = []
        for spec in _items(args[0], x):
            parts = _items(spec, x) if type(spec) is Pair else None
            if not parts or type(parts[0]) is not Symbol or len(parts) > 3:
                raise SchemeError(f"bad do binding {write(spec)}")
            specs.append(parts)
        exit_clause = _items(args[1], x)
        if not exit_clause:
            raise _arity_error(x)
        loop = Env({p[0]: self.eval(p[1], env) if len(p) > 1 else UNSPECIFIED for p in specs}, env)
        while self.eval(exit_clause[0], loop) is False:
            for form in args[2:]:
                self.eval(form, loop)
            loop = Env({p[0]: self.eval(p[2], loop) if len(p) == 3 else loop.vars[p[0]] for p in specs}, env)
        for form in exit_clause[1:-1]:
            self.eval(form, loop)
        return (exit_clause[-1], loop) if len(exit_clause) > 1 else UNSPECIFIED


def _ignored(x: Pair, env: Env) -> Any:
    return UNSPECIFIED


def _call_builtin(proc: Callable[..., Any], args: list[Any], head: Any) -> Any:
    try:
        return proc(*args)
    except SchemeError:
        raise
    except RecursionError:
        raise
    except _BUILTIN_ERRORS as exc:
        name = head.name if type(head) is Symbol else getattr(proc, "scheme_name", None) or "procedure"
        raise SchemeError(f"({name}) {_plain(exc)}") from None


def _plain(exc: Exception) -> str:
    if isinstance(exc, TypeError) and "positional argument" in str(exc):
        return "bad argument count"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    return f"bad argument: {exc}"


def _current_depth() -> int:
    frame = sys._getframe()
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth
