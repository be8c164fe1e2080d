"""Runner-side and DB-side test patterns, tag expressions, time strings (reference 7)."""

import pytest

from megatest.config.patterns import (
    DbClause,
    DbMatch,
    db_field_filter,
    db_filter,
    exact_test_names,
    extend_test_patterns,
    filter_test_names,
    glob_like_match,
    hms_to_seconds,
    match_test,
    match_test_name,
    patt_list_match,
    split_entry,
    tags_match,
)
from megatest.errors import UsageError


@pytest.mark.parametrize(
    ("pattern", "test", "item", "expected"),
    [
        ("%", "foo", "", True),
        ("%", "foo", "a/b", True),
        ("foo", "foo", "", True),
        ("foo", "foo", "x", True),
        ("foo", "food", "", False),
        ("foo/", "foo", "", True),
        ("foo/", "foo", "x", False),
        ("foo/a%", "foo", "abc", True),
        ("foo/a%", "foo", "bac", False),
        ("foo/a/%", "foo", "a/b", True),
        ("foo/a/%", "foo", "b/a", False),
        ("~foo", "bar", "", True),
        ("~foo", "foo", "", False),
        ("F%", "foo", "", True),  # % -> case-insensitive
        ("FOO", "foo", "", False),  # no % -> case-sensitive
        ("f*", "foo", "", True),
        ("F*", "foo", "", False),
        ("f.o", "fxo", "", True),  # regex meaning kept
        ("f.o", "fo", "", False),
        ("a,~b", "b", "", False),
        ("a,~b", "c", "", True),
        ("a,b", "b", "x", True),
        ("a,,b", "b", "", True),
        ("", "foo", "", False),
        (",", "foo", "", False),
        ("%o%", "xoy", "", True),
        ("a%b%c", "aXbYc", "", True),
        ("a%b%c", "aXbY", "", False),
        ("%/~x", "t", "y", True),
        ("%/~x", "t", "x", False),
    ],
)
def test_match_test(pattern, test, item, expected):
    assert match_test(pattern, test, item) is expected


def test_required_entries_are_added_to_the_pattern():
    assert not match_test("other", "foo", "a")
    assert match_test("other", "foo", "a", required=["foo"])
    # a waiton pulled in as `name/` brings only its toplevel record
    assert match_test("other", "foo", "", required=["foo/"])
    assert not match_test("other", "foo", "a", required=["foo/"])


def test_split_entry_first_slash_only():
    assert split_entry("t") == ("t", None)
    assert split_entry("t/") == ("t", "")
    assert split_entry("t/a/b") == ("t", "a/b")


def test_test_name_only_ignores_item_part():
    assert match_test_name("foo/zzz", "foo")
    assert match_test_name("foo/", "foo")
    assert not match_test_name("bar/%", "foo")
    assert filter_test_names(["a", "b", "ab", "a"], "a%") == ["a", "ab"]


def test_exact_test_names():
    assert exact_test_names("a,b%,c/,a", ["a", "b", "bb", "c"]) == ["a"]


def test_invalid_regex_is_a_usage_error():
    with pytest.raises(UsageError, match="invalid test pattern"):
        glob_like_match("foo(", "foo")


@pytest.mark.parametrize(
    ("tag", "patts", "expected"),
    [
        ("smoke", "smoke", True),
        ("smoke", "sm%", True),
        ("smoke", "SM%", False),  # tag patterns are case-sensitive even with %
        ("smoke", "x,smo%", True),
        ("smoke", "~x", False),  # no negation in patt-list-match
        ("s.oke", "s.oke", True),
        ("sxoke", "s.oke", True),  # `.` keeps its regex meaning
        ("smoke", "moke", False),  # full match
    ],
)
def test_patt_list_match(tag, patts, expected):
    assert patt_list_match(tag, patts) is expected


def test_patt_list_match_without_filter_is_true():
    assert patt_list_match("x", None)
    assert patt_list_match(None, "x")


def test_tags_match():
    assert tags_match("quick", "slow,quick")
    assert not tags_match("quick", "slow, quick")  # spaces are not trimmed
    assert tags_match("quick,%ow", "slow")
    assert not tags_match("%", None)
    assert not tags_match("%", "")


def test_extend_test_patterns():
    assert extend_test_patterns("w/x%", "w", "p") == "w/x%,p/x%"
    assert extend_test_patterns("w", "w", "p") == "w,p/%"
    assert extend_test_patterns("w/a,w/b,q", "w", "p") == "w/a,w/b,q,p/a,p/b"
    # the waiting test's item path is mapped onto the prerequisite's
    assert extend_test_patterns("w/layout/ntran", "w", "p", "/.*") == "w/layout/ntran,p/layout"
    assert extend_test_patterns("w,p/%", "w", "p") == "w,p/%"


def test_db_filter():
    assert db_filter(None) is None
    assert db_filter("") is None
    assert db_filter("a%,b/,c/x*,~d") == (
        DbClause(DbMatch("testname", "LIKE", "a%"), DbMatch("item_path", "LIKE", "%")),
        DbClause(DbMatch("testname", "GLOB", "b"), DbMatch("item_path", "GLOB", "")),
        DbClause(DbMatch("testname", "GLOB", "c"), DbMatch("item_path", "GLOB", "x*")),
        DbClause(DbMatch("testname", "GLOB", "~d"), DbMatch("item_path", "LIKE", "%")),
    )


def test_db_field_filter():
    assert db_field_filter("runname", None) == (DbMatch("runname", "LIKE", "%"),)
    assert db_field_filter("runname", "r1,r%") == (
        DbMatch("runname", "GLOB", "r1"),
        DbMatch("runname", "LIKE", "r%"),
    )
    assert db_field_filter("runname", "") == (DbMatch("runname", "GLOB", ""),)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h 2m 3s", 3723),
        ("2d", 172800),
        ("1h\t30m\n", 5400),
        ("1h2m", 0),  # glued forms count 0
        ("3600", 0),  # a bare number has no unit
        ("1h 2x 1m", 3660),
        ("", 0),
        ("1.5h", 0),
    ],
)
def test_hms_to_seconds(text, seconds):
    assert hms_to_seconds(text) == seconds
