"""Rows of a query written as text, JSON or CSV, one row at a time.

Every query of the area's runs (`query runs|tests|paths|files|data|targets|disks`) makes its
rows as a stream of flat dicts and hands them here: a run of 100,000 items is written in
constant memory whatever the format. The JSON text is what `json.dumps(list(rows), indent=2)`
gives; the CSV has a header line of the first row's keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

import typer

from megatest.cli.common import check_format

FORMATS = ("text", "json", "csv")
RowsFormat = Annotated[str, typer.Option("--format", "-f", help="text, json or csv.")]


def check(fmt: str) -> str:
    return check_format(fmt, FORMATS)


def emit(rows: Iterable[Mapping[str, Any]], fmt: str,
         text: Callable[[Mapping[str, Any]], str]) -> None:
    """Write `rows` in `fmt`; `text` makes a row's line for the text format."""
    if fmt == "json":
        _json(rows)
    elif fmt == "csv":
        _csv(rows)
    else:
        for row in rows:
            typer.echo(text(row))


def emit_values(values: Iterable[str], fmt: str, column: str) -> None:
    """Plain values: one a line; json: a list of them; csv: one `column`."""
    if fmt == "json":
        typer.echo(json.dumps(list(values), indent=2, ensure_ascii=False))
    else:
        emit(({column: value} for value in values), fmt, lambda row: row[column])


def _json(rows: Iterable[Mapping[str, Any]]) -> None:
    first = True
    for row in rows:
        typer.echo(("[\n  " if first else ",\n  ") + _json_row(row), nl=False)
        first = False
    typer.echo("[]" if first else "\n]")


def _json_row(row: Mapping[str, Any]) -> str:
    """json.dumps(row, indent=2) as an element of the list (indented 2 more). A flat row is
    put together from its scalars: `indent` makes json use its pure-Python encoder, which
    cost 1.4 s of the 4 s a 100,000-row listing took."""
    if not row or any(isinstance(v, dict | list | tuple) for v in row.values()):
        return json.dumps(row, indent=2).replace("\n", "\n  ")
    return "{\n    " + ",\n    ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in row.items()) \
        + "\n  }"


_scalar = json.JSONEncoder().encode


def _csv(rows: Iterable[Mapping[str, Any]]) -> None:
    import csv
    import sys

    writer: csv.DictWriter | None = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(sys.stdout, fieldnames=list(row), lineterminator="\n",
                                    extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
