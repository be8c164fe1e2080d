"""Text made safe for XML 1.0 and HTML: illegal characters stripped, markup escaped.

Test output holds anything: NUL bytes, terminal escapes, lone surrogates from a bad decode.
XML 1.0 forbids most control characters even as character references, and a parser (Jenkins',
a browser's) refuses the whole file for one of them, so they are dropped, not escaped.
"""

from __future__ import annotations

import re

# C0 controls but tab, newline and carriage return; surrogates; the two non-characters
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# in an attribute a parser turns a raw newline or tab into a space: keep them as references
_ATTR = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
                       "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def clean(value: object) -> str:
    """`value` as text without the characters XML 1.0 cannot hold."""
    return _ILLEGAL.sub("", "" if value is None else str(value))


def text(value: object) -> str:
    """Element content: cleaned and escaped."""
    return clean(value).translate(_TEXT)


def attr(value: object) -> str:
    """An attribute value (without its quotes): cleaned and escaped."""
    return clean(value).translate(_ATTR)
