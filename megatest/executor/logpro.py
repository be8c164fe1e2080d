"""A logpro-compatible log checker, evaluated in-process (run-engine §3.4).

Rule files are Scheme, read and evaluated by the shared sandboxed evaluator
(`megatest.scheme`), so they may use `define`, `lambda`, `let`, `for-each`, `apply`, `map`,
... like logpro's own CHICKEN does. logpro's rule forms are procedures registered into it:
the expect:* rules, expect:value, trigger / trigger-with-limit / trigger:non-required,
section, load (a file next to the rule file), `in`/`not-in`, the `logfile` name, and hooks
(recorded, not run). `#/re/flags` literals and `(regexp ...)` make the regexes. Anything the
evaluator lacks is an error naming the file and line, like logpro's "Syntax error in your
command file" (exit 1). Matching log lines is plain Python over the compiled rules: the
interpreter is not involved per line.

Result codes: 0 PASS, 1 FAIL, 2 WARN, 3 CHECK, 4 WAIVE, 5 ABORT, 6 SKIP.
"""

from __future__ import annotations

import copy
import html
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
}
_COMPARISON_CHARS = frozenset("<>=!")
LOGFILE_BODY = "LogFileBody"
_HOOK_FORMS = ("hook:first-error", "hook:first-warning", "hook:value", "hook:add", "logpro:set!", "logpro:set")


# ---------------------------------------------------------------------------------------------
# regexes


def parse_number(text: str) -> int | float | None:
    """Scheme string->number for plain decimal numbers; None when not a number."""
    from megatest.scheme.reader import parse_number as scheme_number

    return scheme_number(text)


def compile_regex(source: str, flags: str, path: str, line: int) -> Any:
    """Compile a rule regex; a bad one is a ConfigError naming the file and line."""
    from megatest.scheme import SchemeError
    from megatest.scheme.regex import compile_regexp

    try:
        return compile_regexp(source, flags)
    except SchemeError as exc:
        raise ConfigError(exc.message, path=path, line=line) from None


# ---------------------------------------------------------------------------------------------
# the rule model


@dataclass
class Trigger:
    name: str
    regexes: list[Any]  # megatest.scheme Regexp values (`.compiled` is the re.Pattern)
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
    regexes: list[Any]
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


def _display(value: object) -> str:
    from megatest.scheme import display

    return display(value)


class _RuleBuilder:
    """Evaluates rule files with the Scheme evaluator; its rule forms collect the RuleSet."""

    def __init__(self, path: str, env: Mapping[str, str], today: float):
        from megatest.scheme import Interpreter, Symbol

        self.path = path
        self.env = env
        self.today = today
        self.triggers = [Trigger("LogFileBodyStart", [compile_regex(".*", "", path, 0)], 1)]
        self.sections = [Section(LOGFILE_BODY, "LogFileBodyStart", "LogFileBodyEnd")]
        self.rules: list[Rule] = []
        self.next_num = 0
        self.notes: list[str] = []
        self.loading: list[str] = []
        self.interp = Interpreter(self._bindings())
        # comparisons arrive as the procedures `=` `>` ...: name them back
        self.comparisons = {id(self.interp.globals.vars[Symbol.of(op)]): op for op in _COMPARE}

    def _bindings(self) -> dict[str, Any]:
        from megatest.scheme import Symbol
        from megatest.scheme.builtins import base_bindings

        self_ge = base_bindings()[Symbol.of(">=")]

        def getenv(name: Any) -> Any:
            found = self.env.get(name) if isinstance(name, str) else None
            return found if found is not None else False

        out: dict[str, Any] = {
            "in": Symbol.of("in"),
            "not-in": Symbol.of("not-in"),
            "before": Symbol.of("before"),
            "after": Symbol.of("after"),
            "logfile": LOGFILE_BODY,
            # `=>` is seen in value rules as a spelling of >= (cond's `=>` is syntax, unaffected)
            "=>": self_ge,
            "getenv": getenv,
            "get-environment-variable": getenv,
            "expect:value": self.expect_value,
            "trigger": self.trigger_proc("trigger"),
            "trigger:non-required": self.trigger_proc("trigger:non-required"),
            "trigger-with-limit": self.trigger_proc("trigger-with-limit"),
            "section": self.section,
            "load": self.load,
        }
        for name, kind in _EXPECT_TYPES.items():
            out[name] = self.expect_proc(name, kind)
        for name in _HOOK_FORMS:
            out[name] = self.note_proc(name)
        return out

    # -- errors and places
    @property
    def current_path(self) -> str:
        return self.loading[-1] if self.loading else self.path

    @property
    def line(self) -> int:
        return self.interp.line

    def error(self, message: str) -> Exception:
        from megatest.scheme import SchemeError

        return SchemeError(message, self.line)

    def run_file(self, path: str, text: str) -> None:
        from megatest.scheme import SchemeError, UnboundName
        from megatest.scheme.errors import is_megatest_internal

        self.loading.append(path)
        try:
            self.interp.eval_text(text)
        except ConfigError:
            raise
        except UnboundName as exc:
            message = exc.message
            if exc.name and set(exc.name) <= _COMPARISON_CHARS:
                message = f"unknown comparison {exc.name} (use = > < >= <=)"
            elif exc.called and not is_megatest_internal(exc.name):
                message = f"unsupported form ({exc.name} ...) in a logpro rule file"
            raise ConfigError(message, path=self.current_path, line=exc.line) from None
        except SchemeError as exc:
            raise ConfigError(exc.message, path=self.current_path, line=exc.line) from None
        finally:
            self.loading.pop()

    # -- rule forms (procedures called by the evaluator)
    def note_proc(self, name: str) -> Callable[..., Any]:
        def note(*_args: Any) -> Any:
            # hooks run shell commands per hit in logpro; we record them but do not run them
            self.notes.append(f"{self.current_path}:{self.line}: ({name} ...) accepted, not run")
            return False

        return note

    def section(self, *vals: Any) -> Any:
        if len(vals) != 3 or not all(isinstance(v, str) for v in vals):
            raise self.error('section needs "Name" "StartTrigger" "EndTrigger"')
        self.sections.append(Section(*vals))
        return False

    def load(self, *vals: Any) -> Any:
        if len(vals) != 1 or not isinstance(vals[0], str):
            raise self.error('load needs one file name: (load "file")')
        target = Path(vals[0])
        if not target.is_absolute():
            target = Path(self.current_path).parent / target
        if str(target) in self.loading:
            raise self.error(f"load loop: {target}")
        try:
            text = target.read_text(errors="replace")
        except OSError as exc:
            raise self.error(f"cannot load {target}: {exc.strerror}") from None
        line = self.line
        try:
            self.run_file(str(target), text)
        finally:
            self.interp.line = line
        return False

    def trigger_proc(self, name: str) -> Callable[..., Any]:
        def trigger(*args: Any) -> Any:
            vals = list(args)
            limit = 1
            if name == "trigger-with-limit":
                if len(vals) < 2 or type(vals[1]) is not int:
                    raise self.error('trigger-with-limit needs "Name" N regex...')
                limit = vals.pop(1)
            if not vals or not isinstance(vals[0], str):
                raise self.error(f'{name} needs a "Name" first')
            regexes = self._regexes(vals[1:])
            if not regexes:
                raise self.error(f"{name} {vals[0]!r} has no regex")
            self.triggers.append(Trigger(vals[0], regexes, limit, name != "trigger:non-required"))
            return False

        return trigger

    def _regexes(self, values: list[Any]) -> list[Any]:
        from megatest.scheme import NIL, Pair, Regexp

        out: list[Any] = []
        for v in values:
            if type(v) is Pair or v is NIL:
                out.extend(self._regexes(list(v)))
            elif type(v) is Regexp:
                out.append(v)
            else:
                raise self.error(f"not a regex: {_display(v)}")
        return out

    def _keywords(self, args: tuple[Any, ...], allowed: set[str]) -> tuple[list[Any], dict[str, Any]]:
        from megatest.scheme import Keyword, Symbol

        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        i = 0
        while i < len(args):
            a = args[i]
            if type(a) is Keyword:
                if a.name not in allowed:
                    raise self.error(f"unknown keyword {a.name}:")
                if i + 1 >= len(args):
                    raise self.error(f"keyword {a.name}: has no value")
                value = args[i + 1]
                keywords[a.name] = value.name if type(value) is Symbol else value
                i += 2
            else:
                positional.append(a)
                i += 1
        return positional, keywords

    def _sections(self, value: Any) -> list[str]:
        from megatest.scheme import NIL, Pair

        names = list(value) if type(value) is Pair or value is NIL else [value]
        if not names or not all(isinstance(n, str) for n in names):
            raise self.error("section must be a string or a list of strings")
        return names

    def _where(self, value: Any) -> str:
        from megatest.scheme import Symbol

        if type(value) is not Symbol or value.name not in ("in", "not-in"):
            raise self.error(f"where must be in or not-in, got {_display(value)}")
        return value.name

    def _expired(self, expires: object) -> bool:
        if expires is None or expires is False:
            return False
        if not isinstance(expires, str) or not re.fullmatch(r"\d+/\d+/\d+", expires):
            raise self.error(f"expires must be a date MM/DD/YYYY, got {_display(expires)}")
        month, day, year = (int(x) for x in expires.split("/"))
        try:
            when = time.mktime((year, month, day, 0, 0, 0, 0, 0, -1))
        except (OverflowError, ValueError):
            raise self.error(f"bad expires date {expires}") from None
        return when <= self.today

    def _number(self, value: Any) -> bool:
        return type(value) is int or type(value) is float

    def expect_proc(self, form: str, kind: str) -> Callable[..., Any]:
        def expect(*args: Any) -> Any:
            self.expect(kind, form, args)
            return False

        return expect

    def expect(self, kind: str, form: str, args: tuple[Any, ...]) -> None:
        pos, kw = self._keywords(args, {"expires", "hook", "class", "type"})
        if len(pos) != 6:
            raise self.error(
                f'({form} in "Section" <op> <n> "description" regex) needs 6 arguments, got {len(pos)}'
            )
        where = self._where(pos[0])
        sections = self._sections(pos[1])
        op = self.comparisons.get(id(pos[2]))
        if op is None:
            raise self.error(f"comparison must be one of = > < >= <=, got {_display(pos[2])}")
        if not self._number(pos[3]):
            raise self.error(f"count must be a number, got {_display(pos[3])}")
        if not isinstance(pos[4], str):
            raise self.error("description must be a string")
        regexes = self._regexes([pos[5]])
        num = self.next_num
        self.next_num += 1
        if self._expired(kw.get("expires")):
            return
        css = kw.get("class")
        for sect in sections:
            self.rules.append(
                Rule(num, kind, where, sect, op, pos[3], pos[4], regexes, self.line,
                     css_class=css if isinstance(css, str) else None)
            )

    def expect_value(self, *args: Any) -> Any:
        pos, kw = self._keywords(args, {"expires", "hook", "class", "match", "type", "matchnum"})
        if len(pos) != 6:
            raise self.error(
                f'(expect:value in "Section" <expected> <tol|op> "description" regex) needs 6 arguments, got {len(pos)}'
            )
        where = self._where(pos[0])
        sections = self._sections(pos[1])
        expected, tol = pos[2], pos[3]
        if not self._number(expected):
            raise self.error(f"expected value must be a number, got {_display(expected)}")
        tolerance: int | float | str
        if id(tol) in self.comparisons:
            tolerance = self.comparisons[id(tol)]
        elif self._number(tol):
            tolerance = tol
        else:
            raise self.error(f"tolerance must be a number or one of < > <= >= =, got {_display(tol)}")
        if not isinstance(pos[4], str):
            raise self.error("description must be a string")
        regexes = self._regexes([pos[5]])
        match_index = kw.get("match", kw.get("matchnum", 1))
        if type(match_index) is not int or match_index < 0:
            raise self.error("match: must be a capture number")
        num = self.next_num
        self.next_num += 1
        if self._expired(kw.get("expires")):
            return False
        for sect in sections:
            self.rules.append(
                Rule(num, "value", where, sect, "=", expected, pos[4], regexes, self.line,
                     tolerance=tolerance, match_index=match_index)
            )
        return False


def parse_rules(
    text: str, path: str = "<rules>", *, env: Mapping[str, str] | None = None, now: float | None = None
) -> RuleSet:
    """Parse rule text. Raises ConfigError (file and line) on anything malformed."""
    builder = _RuleBuilder(path, env if env is not None else {}, now if now is not None else time.time())
    builder.run_file(path, text)
    return RuleSet(path, builder.triggers, builder.sections, builder.rules, builder.notes)


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

    def message(self) -> str:
        """What Megatest puts in the step comment: failed rule descriptions (the `message`
        lines of logpro's [final] block; triggers are not rules and are not listed)."""
        return "; ".join(r.desc for r in self.failed_rules())


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
    """logpro's counts->exit-code: the failed rules' tallies decide. A required trigger that
    never fired (e.g. the built-in LogFileBodyStart of an empty log) shows FAIL in the
    summary but leaves the code at 0, as logpro does: only rules fail a log."""
    tallies: dict[str, int] = {}
    for rule in rules.rules:
        if not rule.passed():
            tally = _TALLY.get(rule.kind)
            if tally:
                tallies[tally] = tallies.get(tally, 0) + 1
    for tally, code in (("skip", 6), ("abort", 5), ("check", 3), ("error", 1), ("warning", 2), ("waive", 4)):
        if tallies.get(tally):
            return code
    return 0


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
