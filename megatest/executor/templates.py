"""Fill a configured command template (`[setup] testcopycmd`, waiver rules) for `/bin/sh -c`.

Why: the original Megatest pastes values (paths holding the target, the run name and item
values; file names) into the command text, so a run name such as `r;touch x;` or an item
value with `$(...)` runs commands. Here no value ever becomes command text: each value goes
into the environment of the `/bin/sh -c` process under its own variable (`MT_TEMPLATE_1`,
...) and each field becomes an expansion of that variable, written for the quoting
context the field sits in. The shell expands a variable once and never parses its
value again, so whatever the value holds it is data.

The context is found by scanning the template the way sh reads it (single quotes, double
quotes, backslash escapes outside single quotes, `$(...)` and backquotes, `#` comments):

- outside quotes `"${V}"`: one word, no field splitting or globbing of the value, while the
  text next to it keeps its meaning (`TEST_SRC_PATH/*` still globs the files inside);
- inside double quotes `${V}`;
- inside single quotes `'"${V}"'` (close the quote, expand quoted, reopen).

So templates written for the original, with bare fields or quoted by their author,
keep working. A template sh would read differently than this scanner (a `case` pattern's
unbalanced `)` inside `$(...)`, say) can at worst get a value split or left unexpanded: it
still cannot make a value run as a command, since values are not in the command text.

`FilledTemplate.display` is what the command is equivalent to, for logs and error messages:
the template with each value quoted for its context (shlex.quote outside quotes).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

SHELL = "/bin/sh"
VAR_PREFIX = "MT_TEMPLATE_"

Context = Literal["plain", "double", "single"]

_COMMENT_AFTER = frozenset(" \t\n;&|()<>")  # a `#` after these (or first) starts a comment
_DQ_ESCAPABLE = frozenset('$`"\\\n')  # what a backslash escapes inside double quotes
_DQ_SPECIAL = re.compile(r'([$`"\\])')


class FilledTemplate(NamedTuple):
    script: str  # the text for `/bin/sh -c`; holds no value, only ${MT_TEMPLATE_n}
    variables: dict[str, str]  # MT_TEMPLATE_n -> value, to add to the environment
    display: str  # a readable equivalent command, each value quoted for its context

    @property
    def argv(self) -> list[str]:
        return [SHELL, "-c", self.script]

    def environ(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (the current environment when None) with the template's variables added."""
        env = dict(os.environ if base is None else base)
        env.update(self.variables)
        return env


def fill_template(template: str, values: Mapping[str, str]) -> FilledTemplate:
    """Fill `template`: every occurrence of a key of `values` becomes that value, as data.

    Keys are matched longest first where they could overlap; a key that does not occur is
    not used (nor put in the environment). Values are taken as they are (no NUL allowed, as
    for any environment value).
    """
    keys = sorted((k for k in values if k and k in template), key=len, reverse=True)
    names: dict[str, str] = {}
    script: list[str] = []
    display: list[str] = []
    for part in _scan(template, keys):
        if isinstance(part, str):
            script.append(part)
            display.append(part)
            continue
        key, context = part
        value = values[key]
        if "\0" in value:
            raise ValueError(f"a value for {key} holds a NUL character")
        name = names.setdefault(key, f"{VAR_PREFIX}{len(names) + 1}")
        script.append(_expansion(name, context))
        display.append(_quoted(value, context))
    variables = {name: values[key] for key, name in names.items()}
    return FilledTemplate("".join(script), variables, "".join(display))


def _expansion(name: str, context: Context) -> str:
    if context == "plain":
        return f'"${{{name}}}"'
    if context == "double":
        return f"${{{name}}}"
    return f"'\"${{{name}}}\"'"


def _quoted(value: str, context: Context) -> str:
    if context == "plain":
        return shlex.quote(value)
    if context == "double":
        return _DQ_SPECIAL.sub(r"\\\1", value)
    return value if "'" not in value else f"'{shlex.quote(value)}'"


@dataclass
class _Frame:
    kind: str  # "plain", "dq", "sq", "cmd" or "bq"
    depth: int = 0  # open parentheses, for "cmd"


def _scan(template: str, keys: list[str]) -> list[str | tuple[str, Context]]:
    """Split `template` into literal text and (field name, quoting context) pairs.

    The frames stack: "plain" (the top level), "dq"/"sq" (inside double/single quotes),
    "cmd" (inside `$(`...`)`, unquoted, with its open parentheses counted) and "bq" (inside
    backquotes, unquoted).
    """
    out: list[str | tuple[str, Context]] = []
    lit: list[str] = []
    stack = [_Frame("plain")]
    i, n = 0, len(template)

    def match(at: int) -> str | None:
        for key in keys:
            if template.startswith(key, at):
                return key
        return None

    while i < n:
        frame = stack[-1]
        kind = frame.kind
        key = match(i)
        if key is not None:
            if lit:
                out.append("".join(lit))
                lit = []
            out.append((key, "single" if kind == "sq" else "double" if kind == "dq" else "plain"))
            i += len(key)
            continue
        c = template[i]
        if kind == "sq":
            lit.append(c)
            if c == "'":
                stack.pop()
            i += 1
            continue
        if c == "\\":
            nxt = template[i + 1] if i + 1 < n else ""
            if kind == "dq" and nxt not in _DQ_ESCAPABLE:
                # a literal backslash; before an expansion it would escape the `$`: double it
                lit.append("\\\\" if match(i + 1) else "\\")
                i += 1
            elif kind != "dq" and match(i + 1):
                i += 1  # it quoted the value's first character: the expansion quotes it all
            else:
                lit.append(template[i:i + 2])
                i += 2
            continue
        if c == "$" and template.startswith("(", i + 1):
            stack.append(_Frame("cmd", 1))
            lit.append("$(")
            i += 2
            continue
        if c == "`":
            if kind == "bq":
                stack.pop()
            else:
                stack.append(_Frame("bq"))
            lit.append(c)
            i += 1
            continue
        if kind == "dq":
            if c == '"':
                stack.pop()
            lit.append(c)
            i += 1
            continue
        # unquoted: plain, cmd or bq
        if c == "'":
            stack.append(_Frame("sq"))
        elif c == '"':
            stack.append(_Frame("dq"))
        elif c == "#" and (i == 0 or template[i - 1] in _COMMENT_AFTER):
            end = template.find("\n", i)
            end = n if end < 0 else end
            lit.append(template[i:end])  # a comment: left as it is
            i = end
            continue
        elif kind == "cmd" and c == "(":
            frame.depth += 1
        elif kind == "cmd" and c == ")":
            frame.depth -= 1
            if frame.depth == 0:
                stack.pop()
        lit.append(c)
        i += 1
    if lit:
        out.append("".join(lit))
    return out
