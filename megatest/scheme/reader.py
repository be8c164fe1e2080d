"""The Scheme reader: text to data (pairs, symbols, numbers, strings, ...).

It reads what config directives and logpro rule files write: lists with `()` or `[]`,
dotted pairs, `'` `` ` `` `,` `,@`, strings with CHICKEN's escapes, `#\\` characters,
`#t`/`#f`, decimal numbers (and `#x`/`#o`/`#b`), keywords (`name:`), `#/re/flags` regex
literals, `;` and `#| |#` and `#;` comments. Every pair that starts a list carries the line
its `(` is on, for error messages.
"""

from __future__ import annotations

import re
from typing import Any

from megatest.scheme.errors import SchemeError
from megatest.scheme.regex import compile_regexp
from megatest.scheme.values import NIL, Char, Keyword, Pair, Symbol

_DELIMS = frozenset(" \t\r\n\f\v()[]\";'`,")
_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "v": "\v", "f": "\f", "0": "\0"}
_CHAR_NAMES = {"space": " ", "newline": "\n", "linefeed": "\n", "tab": "\t", "nul": "\0", "null": "\0",
               "return": "\r", "alarm": "\a", "backspace": "\b", "delete": "\x7f", "escape": "\x1b",
               "altmode": "\x1b", "page": "\f"}
_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
_SPECIAL_FLOATS = {"+inf.0": float("inf"), "-inf.0": float("-inf"), "+nan.0": float("nan")}
_HEX_ESCAPE = re.compile(r"([0-9a-fA-F]{1,6});|([0-9a-fA-F]{2})")
_RADIX = {"x": 16, "o": 8, "b": 2, "d": 10}

QUOTE = Symbol.of("quote")
QUASIQUOTE = Symbol.of("quasiquote")
UNQUOTE = Symbol.of("unquote")
UNQUOTE_SPLICING = Symbol.of("unquote-splicing")


def parse_number(text: str) -> int | float | None:
    """`string->number` for decimal text (and `#x..`-style radix prefixes); None if not one."""
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    if len(text) > 2 and text[0] == "#" and text[1] in _RADIX:
        try:
            return int(text[2:], _RADIX[text[1]])
        except ValueError:
            return None
    return None


class Reader:
    """Reads data one at a time from `text`; `line` is the current line (1-based)."""

    def __init__(self, text: str, first_line: int = 1):
        self.text = text
        self.pos = 0
        self.line = first_line

    def error(self, message: str, line: int | None = None) -> SchemeError:
        return SchemeError(message, self.line if line is None else line)

    def at_end(self) -> bool:
        self._skip_space()
        return self.pos >= len(self.text)

    def read(self) -> Any:
        """The next datum; a SchemeError at the end of the text."""
        self._skip_space()
        if self.pos >= len(self.text):
            raise self.error("unexpected end of input")
        return self._datum()

    def read_all(self) -> list[Any]:
        out = []
        while not self.at_end():
            out.append(self._datum())
        return out

    # -- whitespace and comments
    def _skip_space(self) -> None:
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c == "\n":
                self.line += 1
                self.pos += 1
            elif c in " \t\r\f\v":
                self.pos += 1
            elif c == ";":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif text.startswith("#|", self.pos):
                self._block_comment()
            elif text.startswith("#;", self.pos):
                self.pos += 2
                self.read()  # the datum comment: read and drop the next datum
            else:
                return

    def _block_comment(self) -> None:
        start_line = self.line
        depth, self.pos = 1, self.pos + 2
        text = self.text
        while depth:
            nxt = min((i for i in (text.find("|#", self.pos), text.find("#|", self.pos)) if i >= 0), default=-1)
            if nxt < 0:
                raise self.error("unterminated #| block comment", start_line)
            self.line += text.count("\n", self.pos, nxt)
            depth += 1 if text.startswith("#|", nxt) else -1
            self.pos = nxt + 2

    # -- data
    def _datum(self) -> Any:
        text = self.text
        c = text[self.pos]
        if c in "([":
            return self._list(")" if c == "(" else "]")
        if c in ")]":
            raise self.error(f"unexpected '{c}'")
        if c == '"':
            return self._string()
        if c in "'`,":
            return self._abbreviation(c)
        if text.startswith("#/", self.pos):
            return self._regex()
        if text.startswith("#\\", self.pos):
            return self._char()
        return self._atom()

    def _abbreviation(self, c: str) -> Pair:
        line = self.line
        self.pos += 1
        if c == ",":
            if self.text.startswith("@", self.pos):
                self.pos += 1
                head = UNQUOTE_SPLICING
            else:
                head = UNQUOTE
        else:
            head = QUOTE if c == "'" else QUASIQUOTE
        return Pair(head, Pair(self.read(), NIL), line)

    def _list(self, close: str) -> Any:
        line = self.line
        self.pos += 1
        items: list[Any] = []
        tail: Any = NIL
        while True:
            self._skip_space()
            if self.pos >= len(self.text):
                raise self.error("missing closing parenthesis: unclosed '(' (missing ')')", line)
            c = self.text[self.pos]
            if c in ")]":
                if c != close:
                    raise self.error(f"mismatched '{c}'")
                self.pos += 1
                break
            if c == "." and items and self._is_dot():
                self.pos += 1
                tail = self.read()
                self._skip_space()
                if self.pos >= len(self.text) or self.text[self.pos] != close:
                    raise self.error("bad dotted list: one datum must follow '.'")
                self.pos += 1
                break
            items.append(self._datum())
        out = tail
        for item in reversed(items):
            out = Pair(item, out)
        if type(out) is Pair:
            out.line = line
        return out

    def _is_dot(self) -> bool:
        nxt = self.pos + 1
        return nxt >= len(self.text) or self.text[nxt] in _DELIMS

    def _string(self) -> str:
        line = self.line
        text, n = self.text, len(self.text)
        self.pos += 1
        out: list[str] = []
        while self.pos < n:
            c = text[self.pos]
            if c == '"':
                self.pos += 1
                return "".join(out)
            if c == "\n":
                self.line += 1
            if c != "\\":
                out.append(c)
                self.pos += 1
                continue
            if self.pos + 1 >= n:
                break
            e = text[self.pos + 1]
            self.pos += 2
            if e == "\n":  # an escaped line end joins the lines, dropping the next indentation
                self.line += 1
                while self.pos < n and text[self.pos] in " \t":
                    self.pos += 1
            elif e == "x":
                m = _HEX_ESCAPE.match(text, self.pos)
                if m is None:
                    raise self.error("malformed \\x escape in a string")
                out.append(chr(int(m.group(1) or m.group(2), 16)))
                self.pos = m.end()
            else:
                out.append(_STRING_ESCAPES.get(e, e))
        raise self.error("unterminated string", line)

    def _regex(self) -> Any:
        line = self.line
        text, n = self.text, len(self.text)
        self.pos += 2
        out: list[str] = []
        while self.pos < n:
            c = text[self.pos]
            if c == "\\" and self.pos + 1 < n:
                nxt = text[self.pos + 1]
                out.append("/" if nxt == "/" else c + nxt)  # `\/` is the escaped delimiter
                self.pos += 2
                continue
            if c == "/":
                self.pos += 1
                start = self.pos
                while self.pos < n and text[self.pos].isalpha():
                    self.pos += 1
                try:
                    return compile_regexp("".join(out), text[start : self.pos])
                except SchemeError as exc:
                    raise self.error(exc.message, line) from None
            if c == "\n":
                self.line += 1
            out.append(c)
            self.pos += 1
        raise self.error("unterminated #/regex/", line)

    def _char(self) -> Char:
        text = self.text
        start = self.pos + 2
        end = start + 1  # the first character is taken even if it is a delimiter: #\( #\space
        while end < len(text) and text[end] not in _DELIMS:
            end += 1
        if start >= len(text):
            raise self.error("bad character literal")
        name = text[start:end]
        self.pos = end
        if len(name) == 1:
            return Char.of(name)
        if name in _CHAR_NAMES:
            return Char.of(_CHAR_NAMES[name])
        if name[0] == "x" and len(name) > 1:
            try:
                return Char.of(chr(int(name[1:], 16)))
            except ValueError:
                pass
        raise self.error(f"unknown character name #\\{name}")

    def _atom(self) -> Any:
        text, start = self.text, self.pos
        while self.pos < len(text) and text[self.pos] not in _DELIMS:
            self.pos += 1
        tok = text[start : self.pos]
        if tok in ("#t", "#true"):
            return True
        if tok in ("#f", "#false"):
            return False
        num = parse_number(tok)
        if num is not None:
            return num
        if tok.startswith("#"):
            raise self.error(f"unsupported syntax {tok!r}")
        if len(tok) > 1 and tok.endswith(":"):
            return Keyword.of(tok[:-1])
        return Symbol.of(tok)


def read_all(text: str) -> list[Any]:
    """Every datum in `text`."""
    return Reader(text).read_all()
