"""Selection: pattern, tags, waiton closure with pattern extension."""

from __future__ import annotations

from dataclasses import dataclass, field

from megatest.engine.selection import select_tests


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
