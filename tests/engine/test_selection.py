"""Selection: pattern, tags, waiton closure with pattern extension."""

from __future__ import annotations

from dataclasses import dataclass, field

from megatest.engine.selection import select_tests
from megatest.errors import ConfigError


@dataclass
class Fake:
    name: str
    waiton: list[str] = field(default_factory=list)
    waitor: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    itemized: bool = False
    maps: dict[str, str] = field(default_factory=dict)

    def itemmap_for(self, waiton: str) -> str | None:
        return self.maps.get(waiton)


def loader(*tests):
    table = {t.name: t for t in tests}
    return list(table), table.__getitem__


def test_waitons_are_pulled_in_transitively_in_discovery_order():
    names, load = loader(Fake("a"), Fake("b", waiton=["a"]), Fake("c", waiton=["b"]), Fake("d"))
    sel = select_tests(names, load, "c")
    assert sel.names == ["a", "b", "c"]
    assert sel.waitons == {"c": ["b"], "b": ["a"], "a": []}


def test_item_pattern_extends_to_the_waiton_through_the_itemmap():
    names, load = loader(
        Fake("a", itemized=True),
        Fake("b", waiton=["a"], itemized=True, maps={"a": ".*/"}),
    )
    sel = select_tests(names, load, "b/x/1%")
    assert sel.item_wanted("b", "x/12")
    assert not sel.item_wanted("b", "y/1")
    assert sel.item_wanted("a", "12")
    assert not sel.item_wanted("a", "2")


def test_exact_name_runs_every_item():
    names, load = loader(Fake("a", itemized=True))
    sel = select_tests(names, load, "a")
    assert sel.required == ["a"]
    assert sel.item_wanted("a", "anything")


def test_tagexpr_and_pattern_are_anded_and_bad_waitons_warned():
    names, load = loader(
        Fake("fast1", tags=["quick", "unit"]),
        Fake("fast2", tags=["slow"]),
        Fake("other", tags=["quick"], waiton=["nosuch", "other"]),
    )
    sel = select_tests(names, load, "fast%", tagexpr="qu%")
    assert sel.names == ["fast1"]
    sel = select_tests(names, load, "%", tagexpr="quick")
    assert sel.names == ["fast1", "other"]
    assert any("nosuch" in w for w in sel.warnings)
    assert any("itself" in w for w in sel.warnings)


def broken_loader(*tests, broken=()):
    """A loader whose `broken` tests raise ConfigError as the reader does; `reads` counts."""
    table = {t.name: t for t in tests}
    names = sorted([*table, *broken])
    reads: list[str] = []

    def load(name):
        reads.append(name)
        if name in broken:
            raise ConfigError("#{scheme}: unsupported form", path=f"tests/{name}/testconfig", line=2)
        return table[name]

    return names, load, reads


def test_a_test_left_out_by_the_pattern_is_never_read_even_with_a_tagexpr():
    names, load, reads = broken_loader(Fake("good", tags=["quick"]), broken=["excl"])
    sel = select_tests(names, load, "good", tagexpr="quick")
    assert sel.names == ["good"] and sel.broken == {}
    assert "excl" not in reads


def test_a_selected_test_that_cannot_be_read_is_kept_with_its_error_and_its_waiters_too():
    names, load, reads = broken_loader(
        Fake("good"), Fake("waiter", waiton=["bad"]), Fake("after", waiton=["waiter"]),
        broken=["bad", "excl"],
    )
    sel = select_tests(names, load, "good,after")
    assert sel.names == ["after", "bad", "good", "waiter"]
    assert list(sel.broken) == ["bad"]
    assert sel.broken["bad"].one_line() == "tests/bad/testconfig:2: #{scheme}: unsupported form"
    assert sel.waitons == {"good": [], "after": ["waiter"], "waiter": ["bad"], "bad": []}
    assert sel.item_wanted("bad", "")  # pulled in as a plain test: `bad` is required
    assert reads.count("bad") == 1 and "excl" not in reads


def test_a_broken_test_matching_the_pattern_is_selected_under_a_tagexpr():
    # its tags cannot be known: left out, it would vanish from the run without a word
    names, load, _reads = broken_loader(Fake("good", tags=["quick"]), Fake("slow"), broken=["bad"])
    sel = select_tests(names, load, "%", tagexpr="quick")
    assert sel.names == ["bad", "good"] and list(sel.broken) == ["bad"]


def test_every_selected_test_broken_is_a_selection_not_an_error():
    names, load, _reads = broken_loader(broken=["a", "b"])
    sel = select_tests(names, load, "%")
    assert sel.names == ["a", "b"] and set(sel.broken) == {"a", "b"}
