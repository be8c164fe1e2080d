"""Rule files that use Scheme beyond the rule forms: define, lambda, for-each, apply, let."""

import pytest

from megatest.errors import ConfigError
from megatest.executor import logpro

SPEC_RULES = """
(define logbody "LogFileBody")

(define pass-specs '( ;; testname count
                     ("alpha" 1)
                     ("beta"  2)))

(define (check-one estate testname count)
  (let* ((rx  (regexp (conc "^Test: " testname "\\\\s+State: " estate)))
         (msg (conc testname " expecting count of " count)))
    (expect:required in logbody = count msg rx)))

(for-each
 (lambda (spec)
   (apply check-one "COMPLETED" spec))
 pass-specs)

(expect:error in logbody = 0 "Tests not accounted for" #/Test: /)
"""


def check(rules: str, log: str) -> logpro.LogproResult:
    return logpro.evaluate_lines(logpro.parse_rules(rules, "t.logpro"), log.splitlines())


def test_for_each_over_a_quoted_table_makes_one_rule_per_row():
    rules = logpro.parse_rules(SPEC_RULES, "t.logpro")
    assert [(r.kind, r.op, r.value, r.desc) for r in rules.rules] == [
        ("required", "=", 1, "alpha expecting count of 1"),
        ("required", "=", 2, "beta expecting count of 2"),
        ("error", "=", 0, "Tests not accounted for"),
    ]
    # a rule made inside a procedure records the line of its expect form
    assert rules.rules[0].line == 11


def test_rules_built_by_procedures_judge_the_log():
    good = "Test: alpha  State: COMPLETED\nTest: beta State: COMPLETED\nTest: beta State: COMPLETED\n"
    assert check(SPEC_RULES, good).exit_code == 0
    missing = "Test: alpha  State: COMPLETED\nTest: beta State: COMPLETED\n"
    result = check(SPEC_RULES, missing)
    assert result.exit_code == 1 and result.message() == "beta expecting count of 2"
    stray = good + "Test: gamma State: COMPLETED\n"
    assert check(SPEC_RULES, stray).message() == "Tests not accounted for"


def test_map_let_and_named_let_make_regex_lists():
    rules = """
(define words (map (lambda (w) (regexp (string-append "\\\\b" w "\\\\b"))) '("fatal" "panic")))
(let loop ((n 0))
  (when (< n 2)
    (trigger (conc "T" n) (regexp (conc "^mark" n)))
    (loop (+ n 1))))
(expect:error in "LogFileBody" = 0 "bad words" words)
"""
    parsed = logpro.parse_rules(rules, "t.logpro")
    assert [t.name for t in parsed.triggers] == ["LogFileBodyStart", "T0", "T1"]
    assert check(rules, "a panic here\n").exit_code == 1
    assert check(rules, "panicky\n").exit_code == 0


def test_greater_or_equal_spelled_arrow_in_a_value_rule():
    rules = '(expect:value in "LogFileBody" 10 => "speed" #/speed=(\\d+)/)'
    assert check(rules, "speed=12\n").exit_code == 0
    assert check(rules, "speed=9\n").exit_code == 1


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("(define (f) (rmt:get-tests 1))\n(f)", 1, "Megatest-internal procedure 'rmt:get-tests'"),
        ("\n(let loop () (loop))", 2, "did not finish"),
        ('(define (f x) (expect:error in "Nope" = 0 "x" x))\n\n(f "not a regex")', 1, "not a regex"),
    ],
)
def test_errors_inside_procedures_name_file_and_line(text, line, fragment):
    with pytest.raises(ConfigError) as err:
        logpro.parse_rules(text, "bad.logpro")
    assert err.value.path == "bad.logpro"
    assert err.value.line == line
    assert fragment in err.value.message
