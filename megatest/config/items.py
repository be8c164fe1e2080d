"""Itemization of a test (reference section 5) and `[itemmap]` application (4.3).

`[items]` gives the cartesian product of its keys' values (the first key varies slowest),
`[itemstable]` zips its rows column-wise padding short rows with `-`, and when both exist
the result is the product list followed by the table list. A `KEY [system cmd]` value read
in "return-procs" mode is a callable (reader.Deferred); it is called here, at expansion.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from megatest.config.patterns import match_test_name, split_ws
from megatest.errors import ConfigError

# A section as the reader returns it: key -> str | None | Deferred (a callable).
Section = Mapping[str, object]

TABLE_PAD = "-"


class Item(NamedTuple):
    """One item: its (KEY, value) pairs in key order. `Item(())` is the non-item record."""

    data: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        """Values joined with `/` (a value holding `/` makes a deeper path)."""
        return "/".join(value for _, value in self.data)

    @property
    def info(self) -> str:
        """MT_ITEM_INFO: the data as Scheme displays it, `((SEASON summer) (TOCK 1))`."""
        return "(" + " ".join(f"({key} {value})" for key, value in self.data) + ")"

    def variables(self) -> dict[str, str]:
        """The item variables a launched test gets, `KEY=value` each."""
        return dict(self.data)

    def env(self) -> dict[str, str]:
        """Item variables plus MT_ITEMPATH and MT_ITEM_INFO."""
        return {**self.variables(), "MT_ITEMPATH": self.path, "MT_ITEM_INFO": self.info}


NO_ITEM = Item(())


def item_values(value: object) -> list[str]:
    """The whitespace-split values of one key; a deferred `[system]` value is run first."""
    if value is None:
        return []
    if callable(value):
        value = value()
    return split_ws(str(value))


def product_items(section: Section) -> list[Item]:
    """`[items]`: cartesian product, first key slowest. A key with no values -> no items."""
    keys = list(section)
    columns = [item_values(section[key]) for key in keys]
    return [Item(tuple(zip(keys, combo, strict=True))) for combo in itertools.product(*columns)]


def table_items(section: Section) -> list[Item]:
    """`[itemstable]`: row i takes every key's i-th value, `-` where a key has fewer."""
    keys = list(section)
    columns = [item_values(section[key]) for key in keys]
    rows = max((len(col) for col in columns), default=0)
    return [
        Item(tuple((key, col[i] if i < len(col) else TABLE_PAD) for key, col in zip(keys, columns, strict=True)))
        for i in range(rows)
    ]


def expand_items(items: Section | None, itemstable: Section | None) -> list[Item]:
    """items:get-items-from-config: the product list followed by the table list.

    Neither section has entries -> `[NO_ITEM]` (one record, item path ""). Some `[items]`
    key without values and no table rows -> `[]` (zero items: NOT_STARTED/ZERO_ITEMS).
    """
    if not items and not itemstable:
        return [NO_ITEM]
    # An absent or empty section contributes nothing to the concatenation.
    product = product_items(items) if items else []
    table = table_items(itemstable) if itemstable else []
    return product + table


def has_deferred(*sections: Section | None) -> bool:
    """True when some value needs a shell call (items are then computed late)."""
    return any(callable(v) for s in sections if s for v in s.values())


# --- [itemmap] (tests.scm: tests:get-itemmaps, tests:lookup-itemmap; db:multi-pattern-apply)

ItemMaps = list[tuple[str, str]]


def itemmaps_from(requirements_itemmap: str | None, itemmap_section: Section | None) -> ItemMaps:
    """Rows `test-name-pattern -> map`: the legacy `[requirements] itemmap` as `%`, then
    the `[itemmap]` rows in order."""
    rows: ItemMaps = []
    if requirements_itemmap is not None:
        rows.append(("%", requirements_itemmap))
    for key, value in (itemmap_section or {}).items():
        if isinstance(value, str):
            rows.append((key, value))
    return rows


def lookup_itemmap(itemmaps: ItemMaps, test_name: str) -> str | None:
    """The map of the first row whose pattern selects `test_name`, or None."""
    for pattern, mapping in itemmaps:
        if match_test_name(pattern, test_name):
            return mapping
    return None


def itemmap_rules(mapping: str) -> list[tuple[str, str]]:
    """(regex, replacement) per map line; a missing replacement is "", extra words ignored."""
    rules = []
    for line in mapping.split("\n"):
        words = split_ws(line)
        if words:
            rules.append((words[0], words[1] if len(words) > 1 else ""))
    return rules


@lru_cache(maxsize=256)
def _compile_map_regex(regex: str) -> re.Pattern[str]:
    try:
        return re.compile(regex)
    except re.error as exc:
        raise ConfigError(f"invalid itemmap regex {regex!r}: {exc}") from None


def check_itemmap(mapping: str) -> None:
    """Raise ConfigError if a line of the map is not a valid regex."""
    for regex, _ in itemmap_rules(mapping):
        _compile_map_regex(regex)


def apply_itemmap(mapping: str, item_path: str) -> str:
    """Apply the map lines in order, each to the previous result, first match only,
    `\\1`..`\\9` in the replacement being back-references (string-substitute)."""
    # the Scheme package's regex module is small; imported here so plain reads skip it
    from megatest.scheme.regex import substitution

    result = item_path
    for regex, replacement in itemmap_rules(mapping):
        result = _compile_map_regex(regex).sub(substitution(replacement), result, count=1)
    return result
