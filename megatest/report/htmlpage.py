"""The frame of every HTML page megatest writes: one self-contained file, its style inline,
no script and nothing fetched, so a page opens from disk (or a mail) as it is."""

from __future__ import annotations

import time

from megatest.report.xmltext import attr, text


def when(epoch: int | None) -> str:
    """A row's time as the pages show it (local time; `-` for none)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "-"

STYLE = """
body { font-family: sans-serif; margin: 1em 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 2px 8px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.PASS, td.CLEAN { background: #8d8; } td.WARN, td.CHECK { background: #fd6; }
td.FAIL, td.WORSE, td.ABORT, td.DEAD, td.KILLED { background: #f88; }
td.WAIVED, td.SKIP, td.BETTER { background: #adf; }
td.PREQ_FAIL, td.PREQ_DISCARDED, td.BOTH-BAD, td.NOT-IN-DEST, td.NOT-IN-SRC { background: #ccc; }
td.RUNNING, td.LAUNCHED { background: #ff9; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; }
.small { font-size: smaller; color: #555; }
"""


def page(title: str, body: str) -> str:
    """A whole HTML document; `body` is markup already escaped."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{text(title)}</title><style>{STYLE}</style></head>\n"
            f"<body>\n<h1>{text(title)}</h1>\n{body}\n</body></html>\n")


def link(href: str, label: object) -> str:
    return f'<a href="{attr(href)}">{text(label)}</a>'


def cell(value: object, css: str = "") -> str:
    """A table cell; `css` (a status) colours it."""
    klass = f' class="{attr(css)}"' if css else ""
    return f"<td{klass}>{value if isinstance(value, Markup) else text(value)}</td>"


class Markup(str):
    """Text that is markup already (a link): a cell takes it as it is."""


def table(headers: list[str], rows: list[str]) -> str:
    """`rows`: each a `<tr>...</tr>` string."""
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    return f"<table>\n<tr>{head}</tr>\n" + "\n".join(rows) + "\n</table>"
