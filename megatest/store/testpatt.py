"""Test and run name patterns as SQLAlchemy filters.

The pattern language is owned by megatest.config.patterns (reference: config-language 7.3,
db 6.1): `db_filter` / `db_field_filter` describe the LIKE/GLOB conditions as data, and this
module only turns that description into bound SQL expressions (values are never pasted into
SQL). Summary: a comma list; a part with "%" uses LIKE (case-insensitive), otherwise GLOB;
"test/item" splits at the first "/", "test" means any item, "test/" the top-level row only.
"""

from __future__ import annotations

import sqlalchemy as sa

from megatest.config.patterns import DbMatch, db_field_filter, db_filter


def _match(column: sa.ColumnElement, m: DbMatch) -> sa.ColumnElement[bool]:
    if m.op == "LIKE":
        return column.like(m.pattern)
    return column.op("GLOB")(m.pattern)


def name_filter(column: sa.ColumnElement, patterns: str | None) -> sa.ColumnElement[bool]:
    """`column` LIKE/GLOB any of the comma-separated patterns; None or "" matches all."""
    if not patterns:
        return sa.true()
    return sa.or_(*(_match(column, m) for m in db_field_filter(column.key, patterns)))


def test_filter(
    testname: sa.ColumnElement, item_path: sa.ColumnElement, testpatt: str | None
) -> sa.ColumnElement[bool]:
    """The rows a test pattern selects; None or "" selects every row."""
    clauses = db_filter(testpatt) if testpatt else None
    if clauses is None:
        return sa.true()
    return sa.or_(*(
        sa.and_(_match(testname, c.test_name), _match(item_path, c.item_path)) for c in clauses
    ))


def target_filter(
    key_columns: list[sa.ColumnElement], target_patt: str | None
) -> sa.ColumnElement[bool]:
    """Each "/"-separated part of the target pattern filters the key column at its position;
    missing or empty parts match anything."""
    if not target_patt:
        return sa.true()
    parts = target_patt.split("/")
    return sa.and_(
        *(name_filter(col, part) for col, part in zip(key_columns, parts, strict=False) if part)
    )
