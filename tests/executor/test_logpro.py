import pytest

from megatest.errors import ConfigError
from megatest.executor import logpro


def check(rules: str, log: str) -> logpro.LogproResult:
    return logpro.evaluate_lines(logpro.parse_rules(rules, "t.logpro"), log.splitlines())


ERROR_RULES = """
;; comments are ignored
(expect:ignore   in "LogFileBody" < 99 "benign" #/benign error/)
(expect:error    in "LogFileBody" = 0 "Any error" (list #/ERROR/ #/error/i))
"""


def test_clean_log_passes():
    assert check(ERROR_RULES, "all good\nfine\n").exit_code == 0


def test_error_line_fails_and_names_rule():
    result = check(ERROR_RULES, "start\nan Error happened\n")
    assert result.exit_code == 1
    assert result.message() == "Any error"


def test_one_parsed_rule_set_judges_each_log_afresh():
    rules = logpro.parse_rules(ERROR_RULES, "t.logpro")
    assert logpro.evaluate_lines(rules, ["an ERROR"]).exit_code == 1
    assert logpro.evaluate_lines(rules, ["clean"]).exit_code == 0
    assert logpro.evaluate_lines(rules, ["an ERROR"]).exit_code == 1


def test_ignore_declared_first_takes_the_line():
    assert check(ERROR_RULES, "a benign error\nanother benign error\n").exit_code == 0


def test_ignore_limit_exceeded_is_not_a_failure_by_itself():
    # an ignore rule whose count check fails adds to no tally
    rules = '(expect:ignore in "LogFileBody" < 1 "benign" #/benign/)'
    assert check(rules, "benign\nbenign\n").exit_code == 0


def test_required_counts():
    rules = '(expect:required in "LogFileBody" > 1 "two dones" #/Done/)'
    assert check(rules, "Done\n").exit_code == 1
    assert check(rules, "Done\nDone\n").exit_code == 0
    rules = '(expect:required in "LogFileBody" >= 2 "two" #/x/)\n(expect:required in logfile <= 3 "le3" #/y/)'
    assert check(rules, "x\nx\ny\n").exit_code == 0
    assert check(rules, "x\nx\ny\ny\ny\ny\n").exit_code == 1


def test_warning_gives_2_and_required_warn():
    rules = '(expect:warning in "LogFileBody" = 0 "warn" #/WARNING/)'
    assert check(rules, "WARNING: x\n").exit_code == 2
    rules = '(expect:required-warn in "LogFileBody" > 0 "banner" #/banner/)'
    assert check(rules, "nothing\n").exit_code == 2


def test_waive_takes_lines_from_error_rules():
    rules = """
(expect:waive in "LogFileBody" = 0 "known issue" #/ERROR: known/)
(expect:error in "LogFileBody" = 0 "errors" #/ERROR/)
"""
    assert check(rules, "ERROR: known thing\n").exit_code == 4
    # something worse wins over the waiver
    assert check(rules, "ERROR: known thing\nERROR: other\n").exit_code == 1


@pytest.mark.parametrize(("kind", "code"), [("check", 3), ("abort", 5), ("skip", 6)])
def test_check_abort_skip_codes(kind, code):
    rules = f'(expect:{kind} in "LogFileBody" = 0 "x" #/boom/)\n(expect:error in "LogFileBody" = 0 "e" #/err/)'
    assert check(rules, "boom\nerr\n").exit_code == code


def test_precedence_skip_over_abort_over_check_over_error():
    rules = """
(expect:error in "LogFileBody" = 0 "e" #/E/)
(expect:check in "LogFileBody" = 0 "c" #/C/)
(expect:abort in "LogFileBody" = 0 "a" #/A/)
(expect:skip  in "LogFileBody" = 0 "s" #/S/)
"""
    assert check(rules, "E\nC\nA\nS\n").exit_code == 6
    assert check(rules, "E\nC\nA\n").exit_code == 5
    assert check(rules, "E\nC\n").exit_code == 3
    assert check(rules, "E\n").exit_code == 1


def test_first_declared_rule_wins_a_line():
    rules = """
(expect:warning in "LogFileBody" = 0 "w" #/problem/)
(expect:error   in "LogFileBody" = 0 "e" #/problem/)
"""
    result = check(rules, "problem\n")
    assert result.exit_code == 2
    assert [r.count for r in result.rules.rules] == [1, 0]


def test_case_insensitive_flag_and_escaped_slash():
    rules = r'(expect:error in "LogFileBody" = 0 "e" #/fail\/ed/i)'
    assert check(rules, "it FAIL/ED\n").exit_code == 1
    assert check(rules, "it failed\n").exit_code == 0


def test_sections_and_triggers():
    rules = """
(trigger "Start" #/^BEGIN/)
(trigger "End" #/^END/)
(section "Body" "Start" "End")
(expect:error in "Body" = 0 "errors in body" #/error/)
(expect:error not-in "Body" = 0 "fatal outside" #/fatal/)
"""
    assert check(rules, "error before\nBEGIN\nok\nEND\nerror after\n").exit_code == 0
    assert check(rules, "BEGIN\nerror\nEND\n").exit_code == 1
    assert check(rules, "fatal here\nBEGIN\nfatal inside\nEND\n").exit_code == 1
    assert check(rules, "BEGIN\nfatal inside\nEND\n").exit_code == 0


def test_required_trigger_that_never_fires_shows_fail_but_leaves_the_code_at_0():
    # logpro's counts->exit-code: only failed rules change the exit code
    rules = '(trigger "Banner" #/^Megatest/)\n(trigger:non-required "Opt" #/maybe/)'
    assert check(rules, "Megatest v1\n").exit_code == 0
    result = check(rules, "no banner\n")
    assert result.exit_code == 0
    assert "Trigger: Banner                   FAIL, count=0" in logpro.summary_text(result)


def test_empty_log_passes_an_error_rule_in_the_never_started_body():
    # issue item 1: `[ezsteps] s1 true` writes an empty log; logpro gives PASS for this rule
    result = check('(expect:error in "LogFileBody" = 0 "err" #/error/)', "")
    assert result.exit_code == 0
    assert result.message() == ""


def test_empty_log_fails_a_required_rule_in_the_never_started_body():
    result = check('(expect:required in "LogFileBody" > 0 "banner" #/Megatest/)', "")
    assert result.exit_code == 1
    assert result.message() == "banner"


def test_empty_log_file_through_run_logpro(tmp_path):
    rules = tmp_path / "s1.logpro"
    rules.write_text('(expect:error in "LogFileBody" = 0 "err" #/error/)\n')
    (tmp_path / "s1.log").write_text("")
    result = logpro.run_logpro(rules, tmp_path / "s1.log", tmp_path / "s1.html")
    assert result.exit_status == "PASS"
    assert "[final]\nexit-code 0\nexit-status PASS\n" in (tmp_path / "s1.dat").read_text()


def test_trigger_with_limit_reopens_section():
    rules = """
(trigger-with-limit "S" 2 #/^start/)
(trigger-with-limit "E" 2 #/^stop/)
(section "Blk" "S" "E")
(expect:required in "Blk" = 2 "two x in blocks" #/x/)
"""
    assert check(rules, "start\nx\nstop\nx\nstart\nx\nstop\nstart\nx\n").exit_code == 0


def test_value_rules():
    rules = """
(expect:value in "LogFileBody" 10 0.5 "speed" #/speed=([0-9.]+)/)
(expect:value in "LogFileBody" 100 < "time" #/time=(\\d+)/)
"""
    assert check(rules, "speed=10.3\ntime=99\n").exit_code == 0
    assert check(rules, "speed=11\ntime=99\n").exit_code == 1
    assert check(rules, "speed=10\ntime=100\n").exit_code == 1
    assert check(rules, "nothing measured\n").exit_code == 1  # a value rule needs a passing hit


def test_define_conc_regexp_and_multiple_sections():
    rules = """
(define host "myhost")
(define errs (list #/ERR/ (regexp (conc "^" host "$"))))
(expect:error in (list "LogFileBody") = 0 "errs" errs)
(expect:error in '("LogFileBody") = 0 "quoted sections" #/QQ/)
"""
    assert check(rules, "myhost\n").exit_code == 1
    assert check(rules, "myhost2\n").exit_code == 0
    assert check(rules, "QQ\n").exit_code == 1


def test_expired_rule_is_not_applied():
    rules = '(expect:error in "LogFileBody" = 0 "old" #/ERR/ expires: "01/01/2001")'
    assert check(rules, "ERR\n").exit_code == 0
    rules = '(expect:error in "LogFileBody" = 0 "new" #/ERR/ expires: "01/01/2999")'
    assert check(rules, "ERR\n").exit_code == 1


def test_posix_class_translated():
    assert check('(expect:error in "LogFileBody" = 0 "d" #/code [[:digit:]]+/)', "code 42\n").exit_code == 1


def test_load_relative_file(tmp_path):
    (tmp_path / "common.logpro").write_text('(expect:error in "LogFileBody" = 0 "common" #/BAD/)\n')
    (tmp_path / "step.logpro").write_text('(load "common.logpro")\n')
    rules = logpro.load_rules(tmp_path / "step.logpro")
    assert logpro.evaluate_lines(rules, ["BAD"]).exit_code == 1


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('(expect:error in "LogFileBody" = 0 "x" #/ok/)\n\n(expect:error in "LogFileBody" = 0 "x"', 3, "unclosed"),
        ('(expect:error in "LogFileBody" = 0 "x" #/(unbalanced/)', 1, "invalid regex"),
        ('\n(expect:error in "LogFileBody" == 0 "x" #/a/)', 2, "comparison"),
        ('(expect:error in "LogFileBody" = 0 #/a/)', 1, "needs 6 arguments"),
        ('(expect:error inside "LogFileBody" = 0 "x" #/a/)', 1, "unbound variable inside"),
        ('(system "rm -rf /")', 1, "unsupported form"),
        ('(expect:error in "LogFileBody" = 0 "x" "not a regex")', 1, "not a regex"),
        ('(expect:error in "LogFileBody" = 0 "x" #/a/ colour: "red")', 1, "unknown keyword"),
        ('"unterminated', 1, "unterminated string"),
    ],
)
def test_malformed_rules_name_file_and_line(text, line, fragment):
    with pytest.raises(ConfigError) as err:
        logpro.parse_rules(text, "bad.logpro")
    assert err.value.path == "bad.logpro"
    assert err.value.line == line
    assert fragment in err.value.message


def test_run_logpro_writes_html_and_dat(tmp_path):
    rules = tmp_path / "s.logpro"
    rules.write_text('(expect:error in "LogFileBody" = 0 "Any error" #/ERROR/)\n')
    log = tmp_path / "s.log"
    log.write_text("line <1>\nERROR & more\n")
    result = logpro.run_logpro(rules, log, tmp_path / "s.html")
    assert result.exit_code == 1
    page = (tmp_path / "s.html").read_text()
    assert "ERROR &amp; more" in page and "line &lt;1&gt;" in page
    assert "EXIT CODE: 1 (FAIL)" in page
    dat = (tmp_path / "s.dat").read_text()
    assert "[final]\nexit-code 1\nexit-status FAIL\nmessage Any error" in dat


def test_run_logpro_malformed_rules_still_writes_html(tmp_path):
    rules = tmp_path / "s.logpro"
    rules.write_text("(expect:error in\n")
    (tmp_path / "s.log").write_text("x\n")
    with pytest.raises(ConfigError):
        logpro.run_logpro(rules, tmp_path / "s.log", tmp_path / "s.html")
    assert "Syntax error" in (tmp_path / "s.html").read_text()
