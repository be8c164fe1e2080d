"""A logpro-compatible log checker, evaluated in-process (run-engine §3.4).

Rule files are Scheme-like s-expressions. We read them with a small reader and evaluate the
subset real rule files use: the expect:* rules, expect:value, trigger / trigger-with-limit /
trigger:non-required, section, define, load, list/quote, regexp/conc/string-append/getenv, and
`#/re/flags` literals. Anything else is an error naming the file and line, like logpro's
"Syntax error in your command file" (exit 1).

Result codes: 0 PASS, 1 FAIL, 2 WARN, 3 CHECK, 4 WAIVE, 5 ABORT, 6 SKIP.
"""

from __future__ import annotations

import copy
import html
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from megatest.errors import ConfigError

EXIT_NAMES = {0: "PASS", 1: "FAIL", 2: "WARN", 3: "CHECK", 4: "WAIVE", 5: "ABORT", 6: "SKIP"}

_EXPECT_TYPES = {
    "expect": "error",
    "expect:error": "error",
    "expect:required": "required",
    "expect:required-warn": "required-warn",
    "expect:warning": "warning",
    "expect:warn": "warning",
    "expect:ignore": "ignore",
    "expect:waive": "waive",
    "expect:waived": "waive",
    "expect:waiver": "waive",
    "expect:check": "check",
    "expect:abort": "abort",
    "expect:skip": "skip",
    "expect:note": "note",
}
# which tally a failing rule of each type adds to (ignore and note add to none)
_TALLY = {
    "error": "error",
    "required": "error",
    "value": "error",
    "warning": "warning",
    "required-warn": "warning",
    "abort": "abort",
    "check": "check",
    "waive": "waive",
    "skip": "skip",
}
_COMPARE = {
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    "=>": lambda a, b: a >= b,  # seen in value rules as a spelling of >=
}
_POSIX_CLASSES = {
    "alpha": "a-zA-Z",
    "digit": "0-9",
    "alnum": "a-zA-Z0-9",
    "upper": "A-Z",
    "lower": "a-z",
    "space": r" \t\n\r\f\v",
    "blank": r" \t",
    "punct": r"!-/:-@\[-`{-~",
    "xdigit": "0-9A-Fa-f",
    "word": r"\w",
    "cntrl": r"\x00-\x1f\x7f",
    "print": r"\x20-\x7e",
    "graph": r"\x21-\x7e",
}
LOGFILE_BODY = "LogFileBody"


# ---------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class Symbol:
    name: str


@dataclass
class Regex:
    source: str
    flags: str
    compiled: re.Pattern[str]

    def __repr__(self) -> str:
        return f"#/{self.source}/{self.flags}"


@dataclass
class Node:
    """A parenthesised form, with the line it starts on (for error messages)."""

    items: list[object]
    line: int


class _Reader:
    def __init__(self, text: str, path: str):
        self.text = text
        self.path = path
        self.pos = 0
        self.line = 1

    def error(self, message: str, line: int | None = None) -> ConfigError:
        return ConfigError(message, path=self.path, line=line if line is not None else self.line)

    def _skip_space(self) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch == "\n":
                self.line += 1
                self.pos += 1
            elif ch in " \t\r\f":
                self.pos += 1
            elif ch == ";":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("#|", self.pos):
                end = text.find("|#", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated #| block comment")
                self.line += text.count("\n", self.pos, end)
                self.pos = end + 2
            else:
                return

    def read_all(self) -> list[object]:
        forms = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                return forms
            forms.append(self._read())

    def _read(self) -> object:
        self._skip_space()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of file (missing ')'?)")
        ch = self.text[self.pos]
        if ch in "([":
            return self._read_list(")" if ch == "(" else "]")
        if ch in ")]":
            raise self.error(f"unexpected '{ch}'")
        if ch == "'":
            line = self.line
            self.pos += 1
            return Node([Symbol("quote"), self._read()], line)
        if ch == '"':
            return self._read_string()
        if self.text.startswith("#/", self.pos):
            return self._read_regex()
        return self._read_atom()

    def _read_list(self, close: str) -> Node:
        line = self.line
        self.pos += 1
        items: list[object] = []
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                raise self.error("unclosed '(' (missing ')')", line)
            if self.text[self.pos] in ")]":
                if self.text[self.pos] != close:
                    raise self.error(f"mismatched '{self.text[self.pos]}'")
                self.pos += 1
                return Node(items, line)
            items.append(self._read())

    def _read_string(self) -> str:
        line = self.line
        self.pos += 1
        out = []
        escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "a": "\a", "0": "\0"}
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                out.append(escapes.get(nxt, nxt))
                self.pos += 2
                if nxt == "\n":
                    self.line += 1
                continue
            if ch == "\n":
                self.line += 1
            out.append(ch)
            self.pos += 1
        raise self.error("unterminated string", line)

    def _read_regex(self) -> Regex:
        line = self.line
        self.pos += 2
        out = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                # `\/` is an escaped delimiter; every other escape belongs to the regex
                out.append("/" if nxt == "/" else ch + nxt)
                self.pos += 2
                continue
            if ch == "/":
                self.pos += 1
                flags_start = self.pos
                while self.pos < len(self.text) and self.text[self.pos].isalpha():
                    self.pos += 1
                flags = self.text[flags_start : self.pos]
                return compile_regex("".join(out), flags, self.path, line)
            if ch == "\n":
                self.line += 1
            out.append(ch)
            self.pos += 1
        raise self.error("unterminated #/regex/", line)

    def _read_atom(self) -> object:
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in " \t\r\n\f()[]\";'":
            self.pos += 1
        tok = text[start : self.pos]
        if tok in ("#t", "#true"):
            return True
        if tok in ("#f", "#false"):
            return False
        if tok.startswith("#"):
            raise self.error(f"unsupported syntax {tok!r}")
        number = parse_number(tok)
        if number is not None:
            return number
        return Symbol(tok)


def parse_number(text: str) -> int | float | None:
    """Scheme string->number for plain decimal numbers; None when not a number."""
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", text):
        return float(text)
    return None


def _translate_regex(source: str) -> str:
    """irregex/PCRE spellings Python's re lacks: POSIX classes inside brackets."""

    def posix(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in _POSIX_CLASSES:
            raise ValueError(f"unknown POSIX class [:{name}:]")
        return _POSIX_CLASSES[name]

    return re.sub(r"\[:(\w+):\]", posix, source)


def compile_regex(source: str, flags: str, path: str, line: int) -> Regex:
    """Compile a rule regex; a bad one is a ConfigError naming the file and line."""
    reflags = 0
    for flag in flags:
        if flag == "i":
            reflags |= re.IGNORECASE
        elif flag == "x":
            reflags |= re.VERBOSE
        elif flag == "s":
            reflags |= re.DOTALL
        elif flag == "m":
            reflags |= re.MULTILINE
        else:
            raise ConfigError(f"unknown regex flag {flag!r} in #/{source}/{flags}", path=path, line=line)
    try:
        compiled = re.compile(_translate_regex(source), reflags)
    except (re.error, ValueError) as exc:
        raise ConfigError(f"invalid regex #/{source}/{flags}: {exc}", path=path, line=line) from None
    return Regex(source, flags, compiled)


# ---------------------------------------------------------------------------------------------
# the rule model


@dataclass
class Trigger:
    name: str
    regexes: list[Regex]
    remaining: int
    required: bool = True
    hits: int = 0


@dataclass
class Section:
    name: str
    start: str
    end: str


@dataclass
class Rule:
    """One expect rule instance in one section (a rule naming several sections is one per section)."""

    num: int  # declaration order; the lowest number gets a contested line
    kind: str  # error, required, warning, ignore, waive, value, ...
    where: str  # "in" or "not-in"
    section: str
    op: str  # = > < >= <= for count rules
    value: int | float  # count to compare with, or the expected value of a value rule
    desc: str
    regexes: list[Regex]
    line: int
    tolerance: int | float | str | None = None  # value rules: number or an operator name
    match_index: int = 1
    css_class: str | None = None
    count: int = 0
    measured: list[object] = field(default_factory=list)
    value_pass: int = 0
    value_fail: int = 0

    def passed(self) -> bool:
        if self.kind == "value":
            return self.value_fail < 1 and self.value_pass > 0
        return _COMPARE[self.op](self.count, self.value)


@dataclass
class RuleSet:
    """A parsed rule file: triggers, sections and rules, in declaration order."""

    path: str
    triggers: list[Trigger]
    sections: list[Section]
    rules: list[Rule]
    notes: list[str] = field(default_factory=list)  # forms accepted but not acted on (hooks)


class _Evaluator:
    def __init__(self, path: str, env: Mapping[str, str], today: float):
        self.path = path
        self.env = env
        self.today = today
        self.globals: dict[str, object] = {
            "in": Symbol("in"),
            "not-in": Symbol("not-in"),
            "before": Symbol("before"),
            "after": Symbol("after"),
            "logfile": LOGFILE_BODY,
        }
        for op in _COMPARE:
            self.globals[op] = Symbol(op)
        self.triggers = [Trigger("LogFileBodyStart", [compile_regex(".*", "", path, 0)], 1)]
        self.sections = [Section(LOGFILE_BODY, "LogFileBodyStart", "LogFileBodyEnd")]
        self.rules: list[Rule] = []
        self.next_num = 0
        self.notes: list[str] = []
        self.loading: list[str] = []

    def error(self, message: str, line: int, path: str | None = None) -> ConfigError:
        return ConfigError(message, path=path or self.current_path, line=line)

    @property
    def current_path(self) -> str:
        return self.loading[-1] if self.loading else self.path

    def run_file(self, path: str, text: str) -> None:
        self.loading.append(path)
        try:
            for form in _Reader(text, path).read_all():
                if not isinstance(form, Node):
                    continue  # a bare atom at top level evaluates to itself and does nothing
                self.toplevel(form)
        finally:
            self.loading.pop()

    # -- expressions ------------------------------------------------------------------------

    def eval(self, expr: object, line: int) -> object:
        if isinstance(expr, Symbol):
            if expr.name.endswith(":") and len(expr.name) > 1:
                return expr  # keyword
            if expr.name in self.globals:
                return self.globals[expr.name]
            if expr.name and set(expr.name) <= set("<>=!"):
                raise self.error(f"unknown comparison {expr.name} (use = > < >= <=)", line)
            raise self.error(f"unbound variable {expr.name}", line)
        if isinstance(expr, Node):
            return self.call(expr)
        return expr

    def call(self, node: Node) -> object:
        if not node.items:
            raise self.error("empty form ()", node.line)
        head = node.items[0]
        if not isinstance(head, Symbol):
            raise self.error(f"cannot call {head!r}", node.line)
        name = head.name
        args = node.items[1:]
        if name == "quote":
            return self.quoted(args[0], node.line)
        values = [self.eval(a, node.line) for a in args]
        if name == "list":
            return values
        if name == "regexp":
            if not values or not isinstance(values[0], str):
                raise self.error("regexp needs a string", node.line)
            flags = "i" if len(values) > 1 and values[1] is True else ""
            return compile_regex(values[0], flags, self.current_path, node.line)
        if name in ("conc", "string-append"):
            return "".join(_display(v) for v in values)
        if name in ("getenv", "get-environment-variable"):
            if len(values) != 1 or not isinstance(values[0], str):
                raise self.error(f"{name} needs one string", node.line)
            found = self.env.get(values[0])
            return found if found is not None else False
        if name in ("or", "and"):
            result: object = name == "and"
            for v in values:
                result = v
                if (v is False) == (name == "or"):
                    continue
                break
            return result
        raise self.error(f"unsupported form ({name} ...) in a logpro rule file", node.line)

    def quoted(self, expr: object, line: int) -> object:
        if isinstance(expr, Node):
            return [self.quoted(x, line) for x in expr.items]
        return expr

    # -- top-level forms ---------------------------------------------------------------------

    def toplevel(self, node: Node) -> None:
        head = node.items[0] if node.items else None
        name = head.name if isinstance(head, Symbol) else ""
        args = node.items[1:]
        line = node.line
        if name in _EXPECT_TYPES:
            self.expect(_EXPECT_TYPES[name], name, args, line)
        elif name == "expect:value":
            self.expect_value(args, line)
        elif name in ("trigger", "trigger:non-required", "trigger-with-limit"):
            self.trigger(name, args, line)
        elif name == "section":
            vals = [self.eval(a, line) for a in args]
            if len(vals) != 3 or not all(isinstance(v, str) for v in vals):
                raise self.error('section needs "Name" "StartTrigger" "EndTrigger"', line)
            self.sections.append(Section(*vals))  # type: ignore[arg-type]
        elif name == "define":
            if len(args) != 2 or not isinstance(args[0], Symbol):
                raise self.error("define needs a name and a value", line)
            self.globals[args[0].name] = self.eval(args[1], line)
        elif name == "load":
            self.load(args, line)
        elif name.startswith("hook:") or name in ("logpro:set", "print", "use", "require-extension"):
            # hooks run shell commands per hit in logpro; we record them but do not run them
            self.notes.append(f"{self.current_path}:{line}: ({name} ...) accepted, not run")
        else:
            self.eval(node, line)  # raises for anything unsupported

    def load(self, args: list[object], line: int) -> None:
        vals = [self.eval(a, line) for a in args]
        if len(vals) != 1 or not isinstance(vals[0], str):
            raise self.error('load needs one file name: (load "file")', line)
        target = Path(vals[0])
        if not target.is_absolute():
            target = Path(self.current_path).parent / target
        if str(target) in self.loading:
            raise self.error(f"load loop: {target}", line)
        try:
            text = target.read_text(errors="replace")
        except OSError as exc:
            raise self.error(f"cannot load {target}: {exc.strerror}", line) from None
        self.run_file(str(target), text)

    def trigger(self, name: str, args: list[object], line: int) -> None:
        vals = [self.eval(a, line) for a in args]
        limit = 1
        if name == "trigger-with-limit":
            if len(vals) < 2 or not isinstance(vals[1], int):
                raise self.error('trigger-with-limit needs "Name" N regex...', line)
            limit = vals.pop(1)  # type: ignore[assignment]
        if not vals or not isinstance(vals[0], str):
            raise self.error(f'{name} needs a "Name" first', line)
        regexes = self._regexes(vals[1:], line)
        if not regexes:
            raise self.error(f"{name} {vals[0]!r} has no regex", line)
        self.triggers.append(Trigger(vals[0], regexes, limit, name != "trigger:non-required"))

    def _regexes(self, values: list[object], line: int) -> list[Regex]:
        out: list[Regex] = []
        for v in values:
            if isinstance(v, list):
                out.extend(self._regexes(v, line))
            elif isinstance(v, Regex):
                out.append(v)
            else:
                raise self.error(f"not a regex: {_display(v)}", line)
        return out

    def _keywords(self, args: list[object], line: int, allowed: set[str]) -> tuple[list[object], dict[str, object]]:
        positional: list[object] = []
        keywords: dict[str, object] = {}
        i = 0
        while i < len(args):
            a = args[i]
            if isinstance(a, Symbol) and a.name.endswith(":") and len(a.name) > 1:
                key = a.name[:-1]
                if key not in allowed:
                    raise self.error(f"unknown keyword {a.name}", line)
                if i + 1 >= len(args):
                    raise self.error(f"keyword {a.name} has no value", line)
                nxt = args[i + 1]
                # hook: takes a hook name, which is a symbol, not a variable
                keywords[key] = nxt.name if key == "hook" and isinstance(nxt, Symbol) else self.eval(nxt, line)
                i += 2
            else:
                positional.append(self.eval(a, line))
                i += 1
        return positional, keywords

    def _sections(self, value: object, line: int) -> list[str]:
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) for n in names):
            raise self.error("section must be a string or a list of strings", line)
        return names  # type: ignore[return-value]

    def _where(self, value: object, line: int) -> str:
        if not isinstance(value, Symbol) or value.name not in ("in", "not-in"):
            raise self.error(f"where must be in or not-in, got {_display(value)}", line)
        return value.name

    def _expired(self, expires: object, line: int) -> bool:
        if expires is None or expires is False:
            return False
        if not isinstance(expires, str) or not re.fullmatch(r"\d+/\d+/\d+", expires):
            raise self.error(f"expires must be a date MM/DD/YYYY, got {_display(expires)}", line)
        month, day, year = (int(x) for x in expires.split("/"))
        try:
            when = time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
        except (OverflowError, ValueError):
            raise self.error(f"bad expires date {expires}", line) from None
        return when <= self.today

    def expect(self, kind: str, form: str, args: list[object], line: int) -> None:
        pos, kw = self._keywords(args, line, {"expires", "hook", "class", "type"})
        if len(pos) != 6:
            raise self.error(
                f'({form} in "Section" <op> <n> "description" regex) needs 6 arguments, got {len(pos)}',
                line,
            )
        where = self._where(pos[0], line)
        sections = self._sections(pos[1], line)
        op = pos[2]
        if not isinstance(op, Symbol) or op.name not in _COMPARE or op.name == "=>":
            raise self.error(f"comparison must be one of = > < >= <=, got {_display(op)}", line)
        if not isinstance(pos[3], int | float) or isinstance(pos[3], bool):
            raise self.error(f"count must be a number, got {_display(pos[3])}", line)
        if not isinstance(pos[4], str):
            raise self.error("description must be a string", line)
        regexes = self._regexes([pos[5]], line)
        num = self.next_num
        self.next_num += 1
        if self._expired(kw.get("expires"), line):
            return
        css = kw.get("class")
        for sect in sections:
            self.rules.append(
                Rule(num, kind, where, sect, op.name, pos[3], pos[4], regexes, line,
                     css_class=css if isinstance(css, str) else None)
            )

    def expect_value(self, args: list[object], line: int) -> None:
        pos, kw = self._keywords(args, line, {"expires", "hook", "class", "match", "type", "matchnum"})
        if len(pos) != 6:
            raise self.error(
                f'(expect:value in "Section" <expected> <tol|op> "description" regex) needs 6 arguments, got {len(pos)}',
                line,
            )
        where = self._where(pos[0], line)
        sections = self._sections(pos[1], line)
        expected, tol = pos[2], pos[3]
        if not isinstance(expected, int | float) or isinstance(expected, bool):
            raise self.error(f"expected value must be a number, got {_display(expected)}", line)
        if isinstance(tol, Symbol) and tol.name in _COMPARE:
            tolerance: int | float | str = tol.name
        elif isinstance(tol, int | float) and not isinstance(tol, bool):
            tolerance = tol
        else:
            raise self.error(f"tolerance must be a number or one of < > <= >= =, got {_display(tol)}", line)
        if not isinstance(pos[4], str):
            raise self.error("description must be a string", line)
        regexes = self._regexes([pos[5]], line)
        match_index = kw.get("match", kw.get("matchnum", 1))
        if not isinstance(match_index, int) or match_index < 0:
            raise self.error("match: must be a capture number", line)
        num = self.next_num
        self.next_num += 1
        if self._expired(kw.get("expires"), line):
            return
        for sect in sections:
            self.rules.append(
                Rule(num, "value", where, sect, "=", expected, pos[4], regexes, line,
                     tolerance=tolerance, match_index=match_index)
            )


def _display(value: object) -> str:
    if value is True:
        return "#t"
    if value is False:
        return "#f"
    if isinstance(value, Symbol):
        return value.name
    if isinstance(value, list):
        return "(" + " ".join(_display(v) for v in value) + ")"
    return str(value)


def parse_rules(
    text: str, path: str = "<rules>", *, env: Mapping[str, str] | None = None, now: float | None = None
) -> RuleSet:
    """Parse rule text. Raises ConfigError (file and line) on anything malformed."""
    ev = _Evaluator(path, env if env is not None else {}, now if now is not None else time.time())
    ev.run_file(path, text)
    return RuleSet(path, ev.triggers, ev.sections, ev.rules, ev.notes)


def load_rules(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> RuleSet:
    p = Path(path)
    try:
        text = p.read_text(errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read logpro rules: {exc.strerror}", path=str(p)) from None
    return parse_rules(text, str(p), env=env)


# ---------------------------------------------------------------------------------------------
# evaluating a log


@dataclass
class Hit:
    line_no: int  # 1-based
    rule: Rule | None  # None for a trigger hit
    trigger: str | None = None
    passed_value: bool | None = None


@dataclass
class LogproResult:
    exit_code: int
    rules: RuleSet
    hits: list[Hit]
    lines: int

    @property
    def exit_status(self) -> str:
        return EXIT_NAMES[self.exit_code]

    def failed_rules(self) -> list[Rule]:
        return [r for r in self.rules.rules if not r.passed()]

    def failed_triggers(self) -> list[Trigger]:
        return [t for t in self.rules.triggers if t.required and t.hits < 1]

    def message(self) -> str:
        """What Megatest puts in the step comment: failed rule descriptions."""
        parts = [r.desc for r in self.failed_rules()]
        parts += [f"trigger {t.name} not found" for t in self.failed_triggers()]
        return "; ".join(parts)


def _value_check(rule: Rule, match: re.Match[str]) -> bool:
    idx = rule.match_index
    captured = match.group(idx) if idx <= (match.re.groups or 0) else None
    measured = parse_number(captured) if captured is not None else None
    if measured is None:
        rule.measured.append(captured if captured is not None else match.group(0))
        return False
    rule.measured.append(measured)
    if isinstance(rule.tolerance, str):
        return bool(_COMPARE[rule.tolerance](measured, rule.value))
    tol = rule.tolerance if rule.tolerance is not None else 0
    return rule.value - tol <= measured <= rule.value + tol


def evaluate_lines(rules: RuleSet, lines: list[str]) -> LogproResult:
    """Run the rules over log lines and compute logpro's exit code.

    Counting happens on a private copy, so one parsed RuleSet can judge many logs."""
    rules = copy.deepcopy(rules)
    active: dict[str, bool] = {}
    by_section: dict[str, list[Rule]] = {}
    for rule in sorted(rules.rules, key=lambda r: r.num):
        by_section.setdefault(rule.section, []).append(rule)
    section_names = [s.name for s in rules.sections]
    hits: list[Hit] = []
    for line_no, line in enumerate(lines, start=1):
        for trig in rules.triggers:
            if trig.remaining > 0 and any(rx.compiled.search(line) for rx in trig.regexes):
                trig.remaining -= 1
                trig.hits += 1
                hits.append(Hit(line_no, None, trig.name))
                for sect in rules.sections:
                    if sect.start == trig.name:
                        active[sect.name] = True
                    elif sect.end == trig.name:
                        active.pop(sect.name, None)
        best: tuple[Rule, re.Match[str]] | None = None
        for sect in section_names:
            where = "in" if sect in active else "not-in"
            for rule in by_section.get(sect, ()):
                if rule.where != where or (best is not None and rule.num >= best[0].num):
                    continue
                for rx in rule.regexes:
                    m = rx.compiled.search(line)
                    if m:
                        best = (rule, m)
                        break
                if best is not None and best[0] is rule:
                    break  # rules are in number order: nothing later in this section can win
        if best is not None:
            rule, m = best
            rule.count += 1
            passed = None
            if rule.kind == "value":
                passed = _value_check(rule, m)
                if passed:
                    rule.value_pass += 1
                else:
                    rule.value_fail += 1
            hits.append(Hit(line_no, rule, passed_value=passed))
    return LogproResult(_exit_code(rules), rules, hits, len(lines))


def _exit_code(rules: RuleSet) -> int:
    tallies: dict[str, int] = {}
    status_ok = all(t.hits > 0 for t in rules.triggers if t.required)
    for rule in rules.rules:
        if not rule.passed():
            tally = _TALLY.get(rule.kind)
            if tally:
                tallies[tally] = tallies.get(tally, 0) + 1
    for tally, code in (("skip", 6), ("abort", 5), ("check", 3), ("error", 1), ("warning", 2), ("waive", 4)):
        if tallies.get(tally):
            return code
    return 0 if status_ok else 1


def read_log_lines(path: str | os.PathLike[str]) -> list[str]:
    """Log lines as logpro's read-line sees them (LF, CRLF or CR ends a line)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()


# ---------------------------------------------------------------------------------------------
# output files


def _rule_line(rule: Rule) -> str:
    status = "OK" if rule.passed() else "FAIL"
    if rule.kind == "value":
        tol = f"+/- {rule.tolerance}" if not isinstance(rule.tolerance, str) else rule.tolerance
        measured = rule.measured[-1] if rule.measured else "-"
        return (
            f"rule-{rule.num} {'Value':<13} {rule.where:<6} {rule.section:<12} {status:<4}"
            f" expected {rule.value} {tol} got {measured}, {rule.value_pass} pass,"
            f" {rule.value_fail} fail: {rule.desc}"
        )
    return (
        f"rule-{rule.num} {rule.kind.capitalize():<13} {rule.where:<6} {rule.section:<12} {status:<4}"
        f" expected {rule.op} {rule.value}, got {rule.count}: {rule.desc}"
    )


def summary_text(result: LogproResult) -> str:
    out = ["==========================LOGPRO SUMMARY=========================="]
    for trig in result.rules.triggers:
        state = "OK" if trig.hits else ("FAIL" if trig.required else "OPTIONAL")
        out.append(f"Trigger: {trig.name:<20} {state:>8}, count={trig.hits}")
    for rule in result.rules.rules:
        out.append("Expect: " + _rule_line(rule))
    for note in result.rules.notes:
        out.append("Note: " + note)
    out.append(f"EXIT CODE: {result.exit_code} ({result.exit_status})")
    return "\n".join(out) + "\n"


_KIND_COLOUR = {
    "error": "red", "required": "purple", "required-warn": "orange", "warning": "orange",
    "ignore": "green", "waive": "brown", "check": "pink", "abort": "crimson", "skip": "#d1db64",
    "note": "olive", "value": "blue",
}


def write_html(result: LogproResult, lines: list[str], out_path: str | os.PathLike[str]) -> None:
    """An HTML copy of the log, matched lines highlighted and linked, then the summary table."""
    hit_by_line: dict[int, Hit] = {}
    for hit in result.hits:
        hit_by_line[hit.line_no] = hit  # a rule hit on a trigger line wins (it comes later)
    seen: dict[str, int] = {}
    parts = [
        "<html><head><meta charset=\"utf-8\"><title>LOGPRO RESULTS</title></head><body>",
        f"<h2>LOGPRO RESULTS: {result.exit_status}</h2>",
        "Summary is <a href=\"#summary\">here</a><hr><pre>",
    ]
    for no, line in enumerate(lines, start=1):
        hit = hit_by_line.get(no)
        text = html.escape(line)
        if hit is None:
            parts.append(text)
            continue
        if hit.rule is None:
            key = f"trigger_{hit.trigger}"
            colour = "blue"
        else:
            key = f"rule_{hit.rule.num}"
            colour = _KIND_COLOUR.get(hit.rule.kind, "red")
            if hit.passed_value is not None:
                colour = "green" if hit.passed_value else "red"
        n = seen.get(key, 0) + 1
        seen[key] = n
        parts.append(
            f'<a name="{html.escape(key)}_{n}"></a><a href="#{html.escape(key)}_{n + 1}" '
            f'style="color: {colour};">{text}</a>'
        )
    parts.append("</pre><a name=\"summary\"></a><table border=\"1\">")
    parts.append(
        "<tr><th>Rule</th><th>Type</th><th>Where</th><th>Section</th><th>Status</th>"
        "<th>Comp</th><th>Value</th><th>Count</th><th>Description</th></tr>"
    )
    for trig in result.rules.triggers:
        state = "OK" if trig.hits else ("FAIL" if trig.required else "OPTIONAL")
        parts.append(
            f"<tr><td>trigger</td><td>Trigger</td><td></td><td>{html.escape(trig.name)}</td>"
            f"<td>{state}</td><td></td><td></td><td>{trig.hits}</td><td></td></tr>"
        )
    for rule in result.rules.rules:
        status = "OK" if rule.passed() else "FAIL"
        colour = _KIND_COLOUR.get(rule.kind, "red") if rule.count else "white"
        if rule.kind in ("required", "required-warn") and not rule.passed():
            colour = "red"
        comp = rule.tolerance if rule.kind == "value" else rule.op
        parts.append(
            f'<tr><td bgcolor="{colour}"><a href="#rule_{rule.num}_1">rule-{rule.num}</a></td>'
            f"<td>{rule.kind}</td><td>{rule.where}</td><td>{html.escape(rule.section)}</td>"
            f"<td>{status}</td><td>{html.escape(str(comp))}</td><td>{rule.value}</td>"
            f"<td>{rule.count}</td><td>{html.escape(rule.desc)}</td></tr>"
        )
    parts.append("</table>")
    parts.append(f"<pre>{html.escape(summary_text(result))}</pre>")
    parts.append(f"<h1>EXIT CODE: {result.exit_code} ({result.exit_status})</h1></body></html>")
    Path(out_path).write_text("\n".join(parts) + "\n")


def write_dat(result: LogproResult, out_path: str | os.PathLike[str]) -> None:
    """The ini-style `.dat` summary Megatest imports into test_data (§3.2 step 6)."""
    out: list[str] = []
    for rule in result.rules.rules:
        status = "OK" if rule.passed() else "FAIL"
        out.append(f"[rule-{rule.num}]")
        if rule.kind == "value":
            measured = rule.measured[-1] if rule.measured else "-"
            out += [f"operator {rule.where}", f"section {rule.section}", f"desc {rule.desc}",
                    f"status {status}", f"expected {rule.value}", f"measured {measured}"]
            if isinstance(rule.tolerance, str):
                out.append(f"type {rule.tolerance}")
            else:
                out += ["type +/-", f"tolerance {rule.tolerance}"]
            out += [f"pass {rule.value_pass}", f"fail {rule.value_fail}"]
        else:
            out += [f"type {rule.kind.capitalize()}", f"operator {rule.where}",
                    f"section {rule.section}", f"status {status}", f"compsym {rule.op}",
                    f"value {rule.value}", f"desc {rule.desc}", f"count {rule.count}"]
        out.append("")
    out += ["[final]", f"exit-code {result.exit_code}", f"exit-status {result.exit_status}"]
    out += [f"message {r.desc}" for r in result.failed_rules()]
    Path(out_path).write_text("\n".join(out) + "\n")


@dataclass(frozen=True)
class TestDataRow:
    """One test_data row Megatest derives from a logpro run (§3.2 step 6)."""

    __test__ = False  # not a pytest test class

    category: str
    variable: str
    value: str
    expected: str
    tol: str
    units: str
    comment: str
    status: str
    type: str


def test_data_rows(result: LogproResult, step: str) -> list[TestDataRow]:
    """The rows Megatest loads from the `.dat` file, built straight from the result."""
    rows = []
    for rule in result.rules.rules:
        status = "OK" if rule.passed() else "FAIL"
        if rule.kind == "value":
            measured = rule.measured[-1] if rule.measured else "-"
            tol = rule.tolerance if rule.tolerance is not None else ""
            rows.append(TestDataRow(step, f"rule-{rule.num}", str(measured), str(rule.value),
                                    str(tol), "n/a", rule.desc, status, str(rule.value)))
        else:
            rows.append(TestDataRow(step, f"rule-{rule.num}", str(rule.count), str(rule.value),
                                    rule.op, "n/a", rule.desc, status, str(rule.value)))
    rows.append(TestDataRow(step, "final", str(result.exit_code), "", "", "n/a",
                            result.message(), result.exit_status, "logpro"))
    return rows


def run_logpro(
    rules_path: str | os.PathLike[str],
    log_path: str | os.PathLike[str],
    html_path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
) -> LogproResult:
    """`logpro rules html < log`: evaluate, write `<html>` and `<html stem>.dat`, return the result.

    A malformed rule file still writes the HTML (with the error) and raises ConfigError; the
    caller maps that to exit code 1 like logpro's syntax-error exit.
    """
    html_file = Path(html_path)
    try:
        rules = load_rules(rules_path, env=env)
    except ConfigError as exc:
        html_file.write_text(
            "<html><body><h2>ERROR: Syntax error in your command file!</h2><pre>"
            f"{html.escape(exc.one_line())}</pre><h1>EXIT CODE: 1 (FAIL)</h1></body></html>\n"
        )
        raise
    lines = read_log_lines(log_path)
    result = evaluate_lines(rules, lines)
    write_html(result, lines, html_file)
    write_dat(result, html_file.with_suffix(".dat"))
    return result
