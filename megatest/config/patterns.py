"""Test patterns (`-testpatt`), tag expressions and time strings.

Runner side (reference 7.1): a pattern is a comma list of `test[/item]` entries, any entry
matching selects. Each part is a *full-match regular expression* after wildcard
translation: a part with `%` turns every `%` into `.*` and matches case-insensitively,
otherwise every `*` becomes `.*` and the match is case-sensitive. A leading `~` negates
one part. `.`, `+`, `(`... keep their regex meaning on purpose (the original does that).

DB side (7.3): the same text becomes LIKE/GLOB conditions; `db_filter` returns them as
data so that only `megatest.store` writes SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Literal, NamedTuple

from megatest.config.lines import split_ws  # space/tab/LF only, never str.split()
from megatest.errors import UsageError


def pattern_entries(patterns: str) -> list[str]:
    """The comma entries of a pattern list; empty entries are dropped."""
    return [entry for entry in patterns.split(",") if entry]


def split_entry(entry: str) -> tuple[str, str | None]:
    """Split one entry at its first `/` into (test part, item part).

    The item part is None when the entry has no `/` (meaning: toplevel and every item),
    and "" for the `test/` form (toplevel record only).
    """
    test_part, slash, item_part = entry.partition("/")
    return test_part, (item_part if slash else None)


@lru_cache(maxsize=1024)
def _compile_part(part: str) -> tuple[re.Pattern[str], bool]:
    negate = part.startswith("~")
    body = part[1:] if negate else part
    if "%" in part:
        regex, flags = body.replace("%", ".*"), re.IGNORECASE
    else:
        regex, flags = body.replace("*", ".*"), 0
    try:
        return re.compile(regex, flags), negate
    except re.error as exc:
        raise UsageError(f"invalid test pattern {part!r}: {exc}") from None


def glob_like_match(part: str, text: str) -> bool:
    """Match one pattern part (test or item half) against `text` (tests:glob-like-match)."""
    regex, negate = _compile_part(part)
    found = regex.fullmatch(text) is not None
    return not found if negate else found


def match_test(
    patterns: str, test_name: str, item_path: str = "", required: Sequence[str] = ()
) -> bool:
    """Does `patterns` select this test record (item path "" = toplevel / non-item)?

    `required` entries (exact test names given in the pattern, waitons pulled in) are
    appended to the list, as the runner does when it selects items.
    """
    if patterns == "":
        return False
    for entry in _with_required(patterns, required):
        test_part, item_part = split_entry(entry)
        if not glob_like_match(test_part, test_name):
            continue
        if glob_like_match("%" if item_part is None else item_part, item_path):
            return True
    return False


def match_test_name(patterns: str, test_name: str) -> bool:
    """Does any entry's test part select `test_name`? The item part is not looked at."""
    if patterns == "":
        return False
    return any(glob_like_match(split_entry(e)[0], test_name) for e in pattern_entries(patterns))


def filter_test_names(test_names: Iterable[str], patterns: str) -> list[str]:
    """The names selected by `patterns`, in input order, without duplicates."""
    seen: dict[str, None] = {}
    for name in test_names:
        if name not in seen and match_test_name(patterns, name):
            seen[name] = None
    return list(seen)


def exact_test_names(patterns: str, known: Iterable[str]) -> list[str]:
    """Entries that are exactly a known test name (the runner's `required-tests`)."""
    names = set(known)
    return [e for e in dict.fromkeys(pattern_entries(patterns)) if e in names]


def _with_required(patterns: str, required: Sequence[str]) -> list[str]:
    entries = pattern_entries(patterns) + [r for r in required if r]
    return list(dict.fromkeys(entries))


# --- tag expressions (common.scm: patt-list-match) ----------------------------------------


@lru_cache(maxsize=256)
def _compile_tag_patt(patt: str) -> re.Pattern[str]:
    try:
        return re.compile(patt.replace("%", ".*"))
    except re.error as exc:
        raise UsageError(f"invalid pattern {patt!r}: {exc}") from None


def patt_list_match(text: str | None, patts: str | None) -> bool:
    """`text` matches any comma entry of `patts` (% -> .*, full match, case-sensitive, no ~).

    Either argument None means "no filter": True, as the original.
    """
    if text is None or patts is None:
        return True
    return any(_compile_tag_patt(p).fullmatch(text) for p in pattern_entries(patts))


def split_tags(tags: str | None) -> list[str]:
    """`[test_meta] tags` is a comma list; spaces are not trimmed (reference 4.2)."""
    return pattern_entries(tags) if tags else []


def tags_match(tagexpr: str, tags: str | None) -> bool:
    """Is a test with these `[test_meta] tags` allowed by `-tagexpr`? Untagged: never."""
    return any(patt_list_match(tag, tagexpr) for tag in split_tags(tags))


# --- waiton pattern extension (tests.scm: tests:extend-test-patts) -------------------------


def extend_test_patterns(
    patterns: str, waiting: str, waiton: str, itemmap: str | None = None
) -> str:
    """Add the prerequisite's entries a pattern implies: `W/x` selected -> `P/<map of x>`.

    With no entry naming `W/...`, `P/%` is added. New entries are appended, duplicates
    dropped. `itemmap` is the map text the waiting test uses for `waiton` (or None).
    """
    from megatest.config.items import apply_itemmap

    entries = pattern_entries(patterns)
    prefix = waiting + "/"
    added = []
    for entry in entries:
        if entry.startswith(prefix):
            rest = entry[len(prefix) :]
            if itemmap is not None:
                rest = apply_itemmap(itemmap, rest)
            added.append(f"{waiton}/{rest}")
    if not added:
        added.append(f"{waiton}/%")
    return ",".join(dict.fromkeys(entries + added))


# --- DB side (tests.scm: tests:match->sqlqry, db.scm: db:patt->like) -----------------------


class DbMatch(NamedTuple):
    """`<column> <op> '<pattern>'`: LIKE when the pattern has `%`, else GLOB."""

    column: str
    op: Literal["LIKE", "GLOB"]
    pattern: str


class DbClause(NamedTuple):
    """One comma entry: `(testname OP 'TP' AND item_path OP 'IP')`; clauses are ORed."""

    test_name: DbMatch
    item_path: DbMatch


def db_match(column: str, pattern: str) -> DbMatch:
    return DbMatch(column, "LIKE" if "%" in pattern else "GLOB", pattern)


def db_field_filter(column: str, patterns: str | None) -> tuple[DbMatch, ...]:
    """db:patt->like: one LIKE/GLOB per comma entry, ORed. None means `%` (everything).

    An empty list gives the single condition `GLOB ''`, as the original.
    """
    entries = pattern_entries(patterns) if patterns is not None else ["%"]
    return tuple(db_match(column, e) for e in entries) if entries else (db_match(column, ""),)


def db_filter(patterns: str | None) -> tuple[DbClause, ...] | None:
    """The DB-side selection for a test pattern, or None for "no pattern: no query".

    `~` is not special here (it reaches SQL as a literal character), as in the original.
    """
    if patterns is None:
        return None
    entries = pattern_entries(patterns)
    if not entries:
        return None
    clauses = []
    for entry in entries:
        test_part, item_part = split_entry(entry)
        # no `/`: any item (`%`); `foo/`: the toplevel record only (GLOB '')
        item = db_match("item_path", "%" if item_part is None else item_part)
        clauses.append(DbClause(db_match("testname", test_part), item))
    return tuple(clauses)


# --- time strings (common.scm: common:hms-string->seconds) ---------------------------------

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_HMS_TOKEN = re.compile(r"([0-9]+)([smhd])")


def hms_to_seconds(text: str) -> int:
    """`1h 2m 3s` -> 3723. Tokens are whitespace separated, each exactly <int><s|m|h|d>.

    Any other token counts 0, glued forms like `1h2m` included, and a bare number too
    (that is what the original does: `runtimelim 3600` means no limit).
    """
    total = 0
    for token in split_ws(text):
        found = _HMS_TOKEN.fullmatch(token)
        if found:
            total += int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    return total
