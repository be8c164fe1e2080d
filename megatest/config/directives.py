"""`#{...}` directive expansion (reference 1.6, `configf:process-line`) and shell helpers.

Each directive's argument is, in the original, pasted into a Scheme string literal and read
back; `lit` reproduces that reading (escapes, and the errors an unescaped quote or a final
backslash cause). A failing directive is replaced by the original's "full expansion" fallback
text; for shell/sh that text contains a LF, so the reader then drops the line as unparseable.
"""

from __future__ import annotations

import re
import string
import subprocess
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from megatest.config.lines import split_lines, split_ws
from megatest.config.nicepath import nice_path
from megatest.errors import ConfigError

DIRECTIVE_RX = re.compile(
    r"(.*)#\{(scheme|system|shell|getenv|get|runconfigs-get|rget|scm|sh|rp|gv|g|mtrah)"
    r"[ \t\n]+([^{}]*)\}(.*)"
)
MAX_EXPANSIONS = 1000  # directives expanded in one line before we call it a loop
_SHELL_TYPES = frozenset(["system", "shell", "sh"])
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "a": "\a", "b": "\b", "v": "\v", "f": "\f"}
_HEX = frozenset(string.hexdigits)


def display(x: Any) -> str:
    """CHICKEN's `display`: #f/#t, numbers in decimal, lists parenthesised, strings bare."""
    if x is None or x is False:
        return "#f"
    if x is True:
        return "#t"
    if isinstance(x, str):
        return x
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if x != x:
            return "+nan.0"
        if x in (float("inf"), float("-inf")):
            return "+inf.0" if x > 0 else "-inf.0"
        return repr(x)  # CHICKEN prints flonums as 42.0 / 0.5 too
    if isinstance(x, list):
        return "(" + " ".join(display(e) for e in x) + ")"
    # Values only the Scheme evaluator makes (pairs, symbols, characters, procedures, ...):
    # its printer is imported only when a config produced one.
    from megatest.scheme.printer import display as scheme_display

    return scheme_display(x)


class DirectiveError(Exception):
    """A directive failed the way the original's caught exceptions do: fallback text is used."""


def lit(text: str) -> str:
    """Read `text` as the body of a Scheme double-quoted string literal."""
    if "\\" not in text and '"' not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            raise DirectiveError("an unescaped quote ends the string literal early")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 == n:
            raise DirectiveError("a final backslash escapes the closing quote")
        e = text[i + 1]
        if e in "xu":
            width = 2 if e == "x" else 4
            digits = text[i + 2 : i + 2 + width]
            if len(digits) < width or not all(ch in _HEX for ch in digits):
                raise DirectiveError(f"malformed \\{e} escape")
            out.append(chr(int(digits, 16)))
            i += 2 + width
            continue
        if e == "0":
            raise DirectiveError("a NUL character cannot be passed on")
        out.append(_ESCAPES.get(e, e))
        i += 2
    return "".join(out)


def generated(typ: str, arg: str) -> str:
    """The Scheme text `configf:process-line` builds for a directive (used in the fallback)."""

    def q(x: str) -> str:
        return '"' + x + '"'

    if typ in ("scheme", "scm"):
        return "(lambda (ht)" + arg + ")"
    if typ == "system":
        return "(lambda (ht)(system " + q(arg) + "))"
    if typ in ("shell", "sh"):
        return "(lambda (ht)(string-translate (shell " + q(arg) + ') "\n" " "))'
    if typ == "rp":
        return "(lambda (ht)(common:nice-path " + q(arg) + "))"
    if typ in ("getenv", "gv"):
        return "(lambda (ht)(get-environment-variable " + q(arg) + "))"
    if typ in ("get", "g"):
        w = split_ws(arg)
        return "(lambda (ht)(config-lookup ht " + q(w[0]) + " " + q(w[1]) + "))"
    if typ in ("rget", "runconfigs-get"):
        return "(lambda (ht)(runconfigs-get ht " + q(arg) + "))"
    return (
        "(lambda (ht)    (let ((extra " + q(arg) + "))       (conc (or *toppath* "
        '(get-environment-variable "MT_RUN_AREA_HOME"))             (if (string-null? extra) "" "/")'
        "             extra)))"
    )


def run_lines(cmd: str, env: Mapping[str, str], cwd: str | None) -> tuple[list[str], int]:
    """Run `cmd` with /bin/sh; return its stdout split as read-line does, and its exit status."""
    proc = subprocess.run(
        ["/bin/sh", "-c", cmd],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=dict(env),
        cwd=cwd,
    )
    text = proc.stdout.decode("utf-8", errors="surrogateescape")
    return split_lines(text), proc.returncode


def wait_status(returncode: int) -> int:
    """The raw wait status the original's `system` returns (exit n -> n*256, signal s -> s)."""
    return returncode << 8 if returncode >= 0 else -returncode


class Expander:
    """Expands `#{...}` directives for one read (shared by its includes)."""

    def __init__(
        self,
        *,
        lookup: Callable[[str, str], Any],
        rget: Callable[[str], Any],
        env: MutableMapping[str, str],
        cwd: str | None,
        toppath: str | None,
        args: Mapping[str, str],
        config: Any,
        warn: Callable[[str, int, str], None],
    ):
        self.lookup = lookup
        self.rget = rget
        self.env = env
        self.cwd = cwd
        self.toppath = toppath
        self.args = args
        self.config = config
        self.warn = warn

    def expand(self, line: str, allow: bool | str, path: str, lineno: int) -> str:
        """Expand every directive, rightmost first, rescanning the whole line after each one."""
        s = line
        budget = MAX_EXPANSIONS
        while "#{" in s:
            m = DIRECTIVE_RX.match(s)
            if not m:
                return s
            budget -= 1
            if budget < 0:
                # The original loops forever here (e.g. a value that expands to itself).
                raise ConfigError(
                    f"#{{...}} expansion does not terminate after {MAX_EXPANSIONS} steps "
                    "(a value that expands to itself?)",
                    path=path,
                    line=lineno,
                )
            pre, typ, arg, post = m.groups()
            if typ in _SHELL_TYPES and not allow:
                result: Any = "#{(" + typ + ") " + arg + "}"
            else:
                if typ in ("get", "g") and len(split_ws(arg)) < 2:
                    raise ConfigError(
                        f"#{{{typ} {arg}}} needs a section and a key", path=path, line=lineno
                    )
                try:
                    result = self._eval(typ, arg, path, lineno)
                except DirectiveError as exc:
                    self.warn(path, lineno, f"#{{{typ} {arg}}} failed: {exc}")
                    result = "#{( " + typ + ") " + arg + "}, full expansion: " + generated(typ, arg)
            s = pre + display(result) + post
        return s

    def _eval(self, typ: str, arg: str, path: str, lineno: int) -> Any:
        if typ in ("getenv", "gv"):
            return self.env.get(lit(arg))
        if typ in ("get", "g"):
            words = split_ws(arg)
            return self.lookup(lit(words[0]), lit(words[1]))
        if typ in ("rget", "runconfigs-get"):
            return self.rget(lit(arg))
        if typ in ("shell", "sh"):
            return self._shell(lit(arg), path, lineno).replace("\n", " ")
        if typ == "system":
            return self._system(lit(arg))
        if typ == "rp":
            return nice_path(lit(arg), self.cwd, self.env)
        if typ == "mtrah":
            extra = lit(arg)
            top = self.toppath if self.toppath is not None else self.env.get("MT_RUN_AREA_HOME")
            return display(top) + ("/" + extra if extra else "")
        return self._scheme(arg, path, lineno)

    def _shell(self, cmd: str, path: str, lineno: int) -> str:
        try:
            lines, status = run_lines(cmd, self.env, self.cwd)
        except OSError as exc:
            raise DirectiveError(str(exc)) from exc
        if status != 0:
            self.warn(path, lineno, f"{cmd} returned bad exit code {status}")
            return ""
        return "\n".join(lines)

    def _system(self, cmd: str) -> int:
        # The command's output is not captured by the original (it goes to Megatest's own
        # stdout); we send it to stderr so machine-readable stdout (JSON, etc.) stays clean.
        try:
            proc = subprocess.run(
                ["/bin/sh", "-c", cmd],
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                env=dict(self.env),
                cwd=self.cwd,
            )
        except OSError as exc:
            raise DirectiveError(str(exc)) from exc
        return wait_status(proc.returncode)

    def _scheme(self, arg: str, path: str, lineno: int) -> Any:
        # Imported here: few configs use #{scheme}, and every megatest run reads configs.
        from megatest.config.scheme import SchemeContext, evaluate
        from megatest.scheme import SchemeError, SchemeLimitError, UnboundName

        ctx = SchemeContext(
            env=self.env,
            cwd=self.cwd,
            toppath=self.toppath,
            args=self.args,
            config=self.config,
            lookup=self.lookup,
            rget=self.rget,
        )
        try:
            result = evaluate(arg, ctx)
        except UnboundName as exc:
            raise ConfigError(
                f"#{{scheme}}: unsupported form or name '{exc.name}' ({exc.message}) in: {arg.strip()}",
                path=path,
                line=lineno,
            ) from None
        except SchemeLimitError as exc:
            raise ConfigError(f"#{{scheme}}: {exc.message} in: {arg.strip()}", path=path, line=lineno) from None
        except SchemeError as exc:
            raise DirectiveError(str(exc)) from exc
        finally:
            if ctx.output:
                self.warn(path, lineno, "#{scheme} output: " + "".join(ctx.output).rstrip("\n"))
        return result


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
