"""read_testconfig's cheap steps give what the general ones give.

The test folder and the area are resolved as `Path.resolve()` does, with a shortcut for
absolute symlink-free paths (`resolved_path`, `_resolve_pair`); the env is updated in place
instead of through a copy; `[requirements]`, `[skip]` and `[setup]` are looked at only when
present. Each is compared with the general way on varied inputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from megatest.config import testconfig as tc_mod
from megatest.config.items import Item
from megatest.config.reader import read_config_text
from megatest.config.testconfig import build_testconfig, read_testconfig
from megatest.config.testconfig import testconfig_env as env_for_read


def general_resolve(path) -> tuple[str, str] | tuple[str, str, str]:
    try:
        return ("ok", str(Path(path).resolve()))
    except Exception as exc:  # noqa: BLE001 - the comparison includes how it fails
        return ("error", type(exc).__name__, str(exc))


def resolved_path(path) -> str:
    """One path through the shortcut _resolve_pair takes, Path.resolve when it refuses."""
    text = tc_mod._path_text(path)
    real = tc_mod._real_or_none("", text) if text is not None else None
    return real if real is not None else str(Path(path).resolve())


def cheap_resolve(path) -> tuple[str, str] | tuple[str, str, str]:
    try:
        return ("ok", resolved_path(path))
    except Exception as exc:  # noqa: BLE001
        return ("error", type(exc).__name__, str(exc))


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """An area with every kind of path trouble: symlinked area, tests folder and test,
    relative and absolute links, a dangling link, a loop, a file where a folder is expected."""
    real = tmp_path / "real"
    (real / "tests" / "a").mkdir(parents=True)
    (real / "tests" / "b").mkdir()
    (real / "elsewhere" / "c").mkdir(parents=True)
    (real / "file").write_text("x")
    (real / "x").mkdir()  # so that "<real>x" minus "<real>" names a folder
    (tmp_path / "realx").mkdir()
    (tmp_path / "area").symlink_to(real)  # absolute link to the area
    (real / "tests" / "rel").symlink_to("../elsewhere/c")  # relative link to a test
    (real / "tests" / "abs").symlink_to(real / "tests" / "a")
    (real / "tests" / "dangling").symlink_to(real / "nowhere")
    (real / "tests" / "loop1").symlink_to("loop2")
    (real / "tests" / "loop2").symlink_to("loop1")
    (real / "linked_tests").symlink_to("tests")
    monkeypatch.chdir(real / "tests")
    return tmp_path


def path_forms(root: Path) -> list[str]:
    real, area = f"{root}/real", f"{root}/area"
    forms = []
    for top in (real, area, real + "/", f"{root}//real", f"{root}/./real", f"{real}/tests/.."):
        for rest in ("", "tests", "tests/a", "tests/a/", "tests//b", "tests/./a", "tests/rel",
                     "tests/abs", "tests/dangling", "tests/loop1", "tests/missing",
                     "tests/a/../b", "linked_tests/a", "file/x", "tests/rel/..", "a\0b"):
            forms.append(f"{top}/{rest}" if rest else top)
    forms += ["/", "//", "///tmp", "a", "../tests/a", ".", "", "tests/../a", f"{real}x"]
    return forms


def test_the_shortcut_on_one_path_is_path_resolve(tree):
    forms = path_forms(tree)
    for form in forms:
        for given in (form, Path(form) if "\0" not in form else form):
            assert cheap_resolve(given) == general_resolve(given), repr(given)
    # the shortcut did the work for the plain paths, and refused the tricky ones
    assert tc_mod._real_or_none("", f"{tree}/real/tests/a") == f"{tree}/real/tests/a"
    assert tc_mod._real_or_none("", f"{tree}/area/tests/a") is None


def test_resolving_a_test_dir_from_the_area_is_resolving_both(tree):
    forms = path_forms(tree)
    tops = [f for f in forms if "tests" not in f and "\0" not in f]
    for top in tops:
        for folder in forms:
            if "\0" in folder:
                continue
            expected = (general_resolve(folder), general_resolve(top))
            try:
                got = tc_mod._resolve_pair(folder, top)
            except Exception as exc:  # noqa: BLE001
                assert expected[0][0] == "error" or expected[1][0] == "error", (folder, top)
                first_error = next(e for e in expected if e[0] == "error")
                assert ("error", type(exc).__name__, str(exc)) == first_error
            else:
                assert (("ok", got[0]), ("ok", got[1])) == expected, (folder, top)


def test_under_means_whole_leading_components():
    assert tc_mod._is_under("/a/b/tests/x", "/a/b")
    assert tc_mod._is_under("/a/b", "/a/b")
    assert tc_mod._is_under("/a/b/x", "/a/b/")
    assert tc_mod._is_under("/x", "/")
    assert not tc_mod._is_under("/a/bc/tests", "/a/b")
    assert not tc_mod._is_under("/a", "/a/b")


def general_read(test_dir, toppath, env, mode, target, runname, item, known_tests):
    """read_testconfig as composed from the public steps, with Path.resolve and a copied env."""
    folder, top = Path(test_dir).resolve(), Path(toppath).resolve()
    env.update(env_for_read(env, toppath=top, test_name=folder.name, runname=runname,
                              item=item))
    allow = {"plan": "return-procs", "launch": True, "raw": False}[mode]
    from megatest.config.reader import read_config

    config = read_config(folder / "testconfig", allow=allow,
                         environ_patt="pre-launch-env-vars" if allow else None, env=env,
                         cwd=str(top), toppath=str(top), target=target)
    return build_testconfig(folder.name, folder, config, known_tests=known_tests)


def summary(tc) -> dict:
    fields = {k: v for k, v in vars(tc).items() if k != "raw"}
    fields["diagnostics"] = [str(d) for d in tc.diagnostics]
    return {"fields": fields, "raw": tc.raw.to_json_dict(), "env": dict(tc.raw.env)}


TEXTS = [
    "[ezsteps]\nstep true\n",
    "",
    "[requirements]\n",
    "[requirements]\nwaiton a nosuch b\nmode itemwait bogus\npriority 5\nruntimelim 1m 2s\n",
    "[requirements]\nwaiton b\nitemmap .*/\n[itemmap]\nb x/\n[skip]\nfileexists f\n",
    "[skip]\n[setup]\n[ezsteps]\n",
    "[skip]\nrundelay 1h\n[setup]\nrunscript run.sh\n[test_meta]\ntags x,y\njobgroup g\n",
    "[pre-launch-env-vars]\nFOO #{getenv MT_TEST_NAME}-$MT_RUNNAME\n[disks]\nd0 /x\n",
    "[items]\nA 1 2\n[triggers]\nCOMPLETED/PASS echo\n[logpro]\ns ;; x\n",
    "[pre-launch-env-overrides]\nK v\n[requirements]\nwaitor a\n",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("mode", ["plan", "launch", "raw"])
def test_read_testconfig_is_the_general_composition(tree, text, mode):
    for name in ("a", "b", "rel"):
        (tree / "real" / "tests" / name / "testconfig").write_text(text)
    item = Item((("A", "1"),)) if mode == "launch" else None
    known = ["a", "b", "rel", "c"]
    for top in (tree / "real", tree / "area", f"{tree}/real/"):
        for folder in (Path(top) / "tests" / "a", f"{top}/tests/rel", Path(top) / "tests" / "b"):
            base = {"PATH": os.environ.get("PATH", ""), "MT_TEST_NAME": "old", "Z": "1"}
            env1, env2 = dict(base), dict(base)
            got = read_testconfig(folder, toppath=top, env=env1, mode=mode, target="t",
                                  runname="r", item=item, known_tests=known)
            want = general_read(folder, top, env2, mode, "t", "r", item, known)
            assert summary(got) == summary(want), (folder, top)
            assert list(env1.items()) == list(env2.items())  # same values, same key order
            assert type(got.test_dir) is type(want.test_dir)


def shortcut_free(text: str) -> str:
    """The same testconfig with an extra key in every section the builder may skip when
    absent or empty, so the builder takes its general path for each."""
    extra = "\n[requirements]\nunused 1\n[skip]\nunused 1\n[setup]\nunused 1\n"
    return extra + text


@pytest.mark.parametrize("text", TEXTS)
def test_building_from_absent_sections_is_building_from_present_ones(tmp_path, text):
    env = {"PATH": os.environ.get("PATH", "")}
    plain = read_config_text(text, str(tmp_path / "testconfig"), env=dict(env))
    full = read_config_text(shortcut_free(text), str(tmp_path / "testconfig"), env=dict(env))
    a = vars(build_testconfig("a", tmp_path, plain, known_tests=["a", "b"]))
    b = vars(build_testconfig("a", tmp_path, full, known_tests=["a", "b"]))
    for key in a:
        if key not in ("raw", "diagnostics"):
            assert a[key] == b[key], key
    assert [str(d) for d in a["diagnostics"]] == [str(d) for d in b["diagnostics"]]


def test_deferred_values_run_in_field_order(tmp_path):
    log = tmp_path / "log"

    def sys_(word: str) -> str:
        return f"[system echo {word} >> {log}; echo {word}]"

    folder = tmp_path / "tests" / "t"
    folder.mkdir(parents=True)
    (folder / "testconfig").write_text(
        f"[setup]\nrunscript {sys_('runscript')}\n"
        f"[ezsteps]\ns1 {sys_('s1')}\ns2 {sys_('s2')}\n"
        f"[skip]\nprevrunning {sys_('skip')}\n"
        f"[requirements]\nitemmap {sys_('itemmap')}\nruntimelim {sys_('runtimelim')}\n"
        f"priority {sys_('priority')}\nmode {sys_('mode')}\nwaitor {sys_('waitor')}\n"
        f"waiton {sys_('waiton')}\n"
    )
    read_testconfig(folder, toppath=tmp_path, env={"PATH": os.environ.get("PATH", "")})
    assert log.read_text().split() == [
        "waiton", "waitor", "mode", "priority", "runtimelim", "itemmap", "skip", "s1", "s2",
        "runscript",
    ]
