"""The shared Scheme evaluator: expectations from CHICKEN's documented behaviour (R5RS plus
the CHICKEN units areas use), checked against `csi` when they were written."""

from __future__ import annotations

import pytest

from megatest.scheme import Interpreter, SchemeError, SchemeLimitError, UnboundName, display, write


def ev(text: str, **bindings: object) -> str:
    """Evaluate `text` in a fresh interpreter; the last value as `write` shows it."""
    return write(Interpreter(bindings).eval_text(text))


@pytest.mark.parametrize(
    "text, expected",
    [
        # core forms
        ("(define x 5) (set! x (+ x 1)) x", "6"),
        ("(define (f a #;ignored . rest) (list a rest)) (f 1 2 3)", "(1 (2 3))"),
        ("(define g (lambda args args)) (g)", "()"),
        ("(define ((adder n) m) (+ n m)) ((adder 2) 3)", "5"),
        ("(let ((x 1) (y 2)) (let ((x y) (y x)) (list x y)))", "(2 1)"),
        ("(let* ((x 1) (y (+ x 1))) (* x y))", "2"),
        ("(letrec ((fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))) (fib 15))", "610"),
        ("(let loop ((i 0) (acc '())) (if (= i 3) acc (loop (+ i 1) (cons i acc))))", "(2 1 0)"),
        ("(if #f #f)", "#<unspecified>"),
        ("(if '() 'true 'false)", "true"),  # only #f is false
        ("(cond ((assv 'b '((a 1) (b 2))) => cadr) (else 'nope))", "2"),
        ("(cond (#f 1) ((+ 1 1)))", "2"),
        ("(case (* 2 3) ((2 3 5 7) 'prime) ((1 4 6 8 9) 'composite))", "composite"),
        ("(case 'z ((a) 1) (else 'other))", "other"),
        ("(when #f 1)", "#<unspecified>"),
        ("(unless #f 1 2)", "2"),
        ("(and 1 2 'c)", "c"),
        ("(and)", "#t"),
        ("(or #f '(b c) 3)", "(b c)"),
        ("(begin 1 2 3)", "3"),
        ("(do ((vec '()) (i 0 (+ i 1))) ((= i 3) vec) (set! vec (cons i vec)))", "(2 1 0)"),
        ("`(1 ,(+ 1 1) ,@(map abs '(-3 -4)))", "(1 2 3 4)"),
        ("`(a . ,(+ 1 2))", "(a . 3)"),
        ("`(1 `(2 ,(3 ,(+ 1 3))))", "(1 (quasiquote (2 (unquote (3 4)))))"),  # only depth 1 evaluates
        ("'(a . (b . (c)))", "(a b c)"),
        ("'[a b]", "(a b)"),
        # numbers (CHICKEN 4 without the numbers egg: inexact quotients are flonums)
        ("(/ 7 2)", "3.5"),
        ("(/ 8 2)", "4"),
        ("(/ 1 3.0)", "0.333333333333333"),
        ("(* 1.0 100)", "100.0"),
        ("(list (quotient -7 2) (remainder -7 2) (modulo -7 2))", "(-3 -1 1)"),
        ("(max 1 2.0)", "2.0"),
        ("(expt 2 100)", "1267650600228229401496703205376"),
        ("(sqrt 16)", "4"),
        ("(round 2.5)", "2.0"),
        ("(number->string 255 16)", '"ff"'),
        ('(string->number "1e3")', "1000.0"),
        ('(string->number "abc")', "#f"),
        ('(any->number "42")', "42"),
        ("(any->number 'x)", "#f"),
        ("(exact? 3)", "#t"),
        # lists
        ("(cons 1 2)", "(1 . 2)"),
        ("(append '(1) '(2) '(3 4) '())", "(1 2 3 4)"),
        ("(append '(1) 2)", "(1 . 2)"),
        ("(list-tail '(a b c d) 2)", "(c d)"),
        ("(member \"b\" '(\"a\" \"b\" \"c\"))", '("b" "c")'),
        ("(memq 'd '(a b c))", "#f"),
        ("(assoc 2.0 '((1 one) (2 two)) =)", "(2 two)"),
        ("(map + '(1 2 3) '(10 20))", "(11 22)"),
        ("(let ((n 0)) (for-each (lambda (a b) (set! n (+ n a b))) '(1 2) '(3 4)) n)", "10"),
        ("(apply max 1 '(5 3))", "5"),
        ("(sort '(3 1 2) >)", "(3 2 1)"),
        ("(sort '((b 1) (a 1) (c 0)) (lambda (x y) (< (cadr x) (cadr y))))", "((c 0) (b 1) (a 1))"),  # stable
        ("(filter odd? '(1 2 3 4 5))", "(1 3 5)"),
        ("(fold cons '() '(1 2 3))", "(3 2 1)"),
        ("(reduce + 0 '(1 2 3))", "6"),
        ("(delete-duplicates '(a b a c b))", "(a b c)"),
        ("(iota 3 1)", "(1 2 3)"),
        ("(flatten '(1 (2 (3)) () 4))", "(1 2 3 4)"),
        ("(alist-ref \"b\" '((\"a\" . 1) (\"b\" . 2)) equal?)", "2"),
        ("(list? '(1 . 2))", "#f"),
        ("(length '())", "0"),
        # strings and characters
        ('(string-split "a  b,c" " ,")', '("a" "b" "c")'),
        ('(string-split "a  b,c" " ," #t)', '("a" "" "b" "c")'),
        ('(string-intersperse (list "a" "b"))', '"a b"'),
        ("(conc 1 \"x\" 'y 2.5 #t (list 1 \"a\"))", '"1xy2.5#t(1 a)"'),
        ('(string-translate "a-b-c" "-" "_")', '"a_b_c"'),
        ('(string-translate "a-b-c" "-")', '"abc"'),
        ("(->string (list 1 \"a\"))", '"(1 a)"'),
        ('(string-append "foo" "bar")', '"foobar"'),
        ('(substring "megatest" 4)', '"test"'),
        ('(string->symbol "abc")', "abc"),
        ('(string->list "ab")', "(#\\a #\\b)"),
        ("(list->string (list #\\a #\\space #\\b))", '"a b"'),
        ('(string-index "hello" #\\l)', "2"),
        ('(string-contains "megatest" "test")', "4"),
        ('(string-prefix? "mega" "megatest")', "#t"),
        ('(string-trim-both "  x  ")', '"x"'),
        ('(string<? "abc" "abd")', "#t"),
        ('(string-upcase "MiXed")', '"MIXED"'),
        ('(format #f "~a is ~s~%" "x" "y")', '"x is \\"y\\"\\n"'),
        # CHICKEN 4 regex unit
        ('(string-search "b(.)" "abcd")', '("bc" "c")'),
        ('(string-match "a(b)?c" "ac")', '("ac" #f)'),
        ('(string-match "b" "abc")', "#f"),
        ('(string-substitute "b" "X" "abcb")', '"aXcb"'),
        ('(string-substitute "b" "X" "abcb" #t)', '"aXcX"'),
        ('(string-substitute "(b)(c)" "\\\\2\\\\1" "abcd")', '"acbd"'),
        ('(string-search #/^ERR/i "err: x")', '("err")'),
        # equality
        ("(eq? 'a 'a)", "#t"),
        ("(eqv? 2 2.0)", "#f"),
        ("(equal? '(1 (2 \"x\")) (list 1 (list 2 \"x\")))", "#t"),
        ("(eqv? '() '())", "#t"),
    ],
)
def test_expressions(text, expected):
    assert ev(text) == expected


def test_display_shows_strings_and_chars_bare():
    value = Interpreter().eval_text("(list \"a\" #\\b 'c 1.5 (cons 1 2))")
    assert display(value) == "(a b c 1.5 (1 . 2))"
    assert write(value) == '("a" #\\b c 1.5 (1 . 2))'


def test_output_procedures_write_to_the_captured_output():
    interp = Interpreter()
    interp.eval_text('(display "a") (write "b") (newline) (print "c" 1) (format #t "~a" 2)')
    assert "".join(interp.output) == 'a"b"\nc1\n2'


def test_tail_calls_run_in_constant_stack():
    assert ev("(let loop ((i 0)) (if (< i 100000) (loop (+ i 1)) i))") == "100000"
    assert ev("(define (f n) (cond ((= n 0) 'done) (else (f (- n 1))))) (f 50000)") == "done"


def test_deep_non_tail_recursion_is_a_clear_limit_error():
    with pytest.raises(SchemeLimitError, match="recursion deeper than 1000"):
        ev("(define (f n) (if (= n 0) 0 (+ 1 (f (- n 1))))) (f 100000)")
    assert ev("(define (f n) (if (= n 0) 0 (+ 1 (f (- n 1))))) (f 500)") == "500"


def test_endless_loop_stops_at_the_step_limit_with_its_line():
    interp = Interpreter(step_limit=10_000)
    with pytest.raises(SchemeLimitError, match="did not finish within 10000 steps") as err:
        interp.eval_text("(define x 1)\n\n(let loop () (loop))")
    assert err.value.line == 3


def test_unbound_names_say_which():
    with pytest.raises(UnboundName, match="unbound variable nope"):
        ev("(+ 1 nope)")
    with pytest.raises(UnboundName, match=r"unsupported form \(frobnicate \.\.\.\)"):
        ev("(frobnicate 1)")
    with pytest.raises(UnboundName, match="Megatest-internal procedure 'rmt:get-tests' is not supported"):
        ev("(define (f) (rmt:get-tests 1)) (f)")


@pytest.mark.parametrize("name", ["system", "open-output-file", "with-output-to-file", "process", "delete-file", "load"])
def test_sandbox_has_no_file_writes_or_processes(name):
    with pytest.raises(UnboundName):
        ev(f'({name} "x")')


@pytest.mark.parametrize(
    "text, fragment, line",
    [
        ("(car '())", "(car) bad argument type", 1),
        ("\n(+ 1 \"a\")", "not a number", 2),
        ("(define (f x) x)\n(f 1 2)", "bad argument count - received 2 but expected 1 in call to f", 2),
        ("(error \"boom\" 'x 2)", "boom: x 2", 1),
        ("(/ 1 0)", "division by zero", 1),
        ("(1 2)", "call of non-procedure: 1", 1),
        ("(if)", "bad syntax", 1),
        ("(lambda (x))", "lambda body is empty", 1),
        ("(+ 1", "missing closing parenthesis", 1),
        ('"abc', "unterminated string", 1),
        ("#<foo>", "unsupported syntax", 1),
    ],
)
def test_errors_are_scheme_errors_with_lines(text, fragment, line):
    with pytest.raises(SchemeError) as err:
        ev(text)
    assert fragment in err.value.message
    assert err.value.line == line


def test_caller_bindings_and_procedures_called_by_builtins():
    seen = []
    interp = Interpreter({"record!": lambda x: seen.append(x) or False, "answer": 42})
    interp.eval_text("(for-each (lambda (x) (record! (* x answer))) '(1 2))")
    assert seen == [42, 84]
    assert interp.globals.vars  # a fresh interpreter's own globals, the base left untouched
    with pytest.raises(UnboundName):
        Interpreter().eval_text("answer")
