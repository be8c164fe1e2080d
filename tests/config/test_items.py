"""Itemization (reference 5) and itemmaps (4.3)."""

import pytest

from megatest.config.items import (
    NO_ITEM,
    Item,
    apply_itemmap,
    check_itemmap,
    expand_items,
    has_deferred,
    itemmaps_from,
    lookup_itemmap,
)
from megatest.errors import ConfigError


def paths(items):
    return [i.path for i in items]


def test_g9_product_then_table():
    items = expand_items(
        {"SEASON": "summer winter", "TEMP": "cool hot"},
        {"VIEW": "layout schematic schematic", "CELL": "ntran ptran"},
    )
    assert paths(items) == [
        "summer/cool",
        "summer/hot",
        "winter/cool",
        "winter/hot",
        "layout/ntran",
        "schematic/ptran",
        "schematic/-",
    ]
    assert items[0].data == (("SEASON", "summer"), ("TEMP", "cool"))
    assert items[6].data == (("VIEW", "schematic"), ("CELL", "-"))


def test_first_key_varies_slowest():
    assert paths(expand_items({"A": "1 2", "B": "x y"}, None)) == ["1/x", "1/y", "2/x", "2/y"]


def test_no_sections_or_empty_sections_give_one_empty_item():
    assert expand_items(None, None) == [NO_ITEM]
    assert expand_items({}, {}) == [NO_ITEM]
    assert NO_ITEM.path == ""
    assert NO_ITEM.info == "()"


def test_key_without_values_gives_zero_items():
    assert expand_items({"FOO": "", "BAR": "a b"}, None) == []
    # the table is still appended
    assert paths(expand_items({"FOO": ""}, {"A": "x y"})) == ["x", "y"]


def test_table_only():
    assert paths(expand_items(None, {"A": "1 2 3", "B": "p"})) == ["1/p", "2/-", "3/-"]


def test_whitespace_is_space_tab_lf_only():
    # a form feed or NBSP stays inside a value (str.split() would split there)
    assert paths(expand_items({"A": "x\fy\u00a0z\tw\nv"}, None)) == ["x\fy\u00a0z", "w", "v"]


def test_deferred_values_are_called_at_expansion():
    calls = []

    def deferred():
        calls.append(1)
        return "aa ab ac"

    section = {"K": deferred}
    assert has_deferred(section)
    assert not calls
    assert paths(expand_items(section, None)) == ["aa", "ab", "ac"]
    assert calls == [1]


def test_item_info_env_and_deep_paths():
    item = Item((("SEASON", "summer"), ("TOCK", "1")))
    assert item.info == "((SEASON summer) (TOCK 1))"
    assert item.env() == {
        "SEASON": "summer",
        "TOCK": "1",
        "MT_ITEMPATH": "summer/1",
        "MT_ITEM_INFO": "((SEASON summer) (TOCK 1))",
    }
    assert Item((("P", "x/y"), ("Q", "z"))).path == "x/y/z"


def test_itemmap_lines_in_order_first_match_with_backrefs():
    assert apply_itemmap("(a\\d+)(b\\d+) \\2foo\\1\nb(.*) \\1p", "a123b321") == "321fooa123p"
    assert apply_itemmap("/.*", "layout/ntran") == "layout"
    assert apply_itemmap("x y", "xxx") == "yxx"  # first match only
    assert apply_itemmap("", "keep") == "keep"
    assert apply_itemmap("(a) \\1\\9", "a") == "a"  # a group that does not exist is empty


def test_itemmap_rows_and_lookup():
    rows = itemmaps_from("/.*", {"genlib": "x y", "g%": "p q"})
    assert rows == [("%", "/.*"), ("genlib", "x y"), ("g%", "p q")]
    assert lookup_itemmap(rows, "anything") == "/.*"
    assert lookup_itemmap(rows[1:], "genlib") == "x y"
    assert lookup_itemmap(rows[1:], "gx") == "p q"
    assert lookup_itemmap(rows[1:], "other") is None


def test_bad_itemmap_regex_is_a_config_error():
    with pytest.raises(ConfigError, match="invalid itemmap regex"):
        check_itemmap("a(b c")
