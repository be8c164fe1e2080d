"""The per-test shortcuts of RunPreparer give exactly what the general paths give."""

import os
import pickle
import stat
from pathlib import Path

import pytest
from workarea_fixtures import make_source

from megatest.errors import RunFailed
from megatest.executor.environment import EnvCache, SnapshotWriter, TestEnvInputs, build_test_env
from megatest.executor.workarea import SourceCopier, WorkArea, _copy_tree, link_symlink, path_text


def inputs(**kw) -> TestEnvInputs:
    base = dict(
        base_env={"PATH": "/usr/bin:/bin", "HOME": "/home/u", "A-B": "not a name",
                  "MULTI": "one\ntwo", "Q": "it's! here", "MT_RUN_ID": "from the caller"},
        toppath="/area", area_name="suite", keyvals=[("ARCH", "x86"), ("OS", "linux")],
        runname="r1", test_name="t1", run_dir="/lt/x86/linux/r1/t1",
        linktree="/lt", megatest="/opt/mt/bin/megatest",
        runconfig_default=[("RC", "$ARCH-$OS")], env_override=[("EO", "1")],
        extra={"MT_RUN_ID": "1", "MT_TEST_ID": "7"},
    )
    base.update(kw)
    return TestEnvInputs(**base)


@pytest.mark.parametrize("change", [
    {},
    {"test_name": "t'2!", "run_dir": "/lt/it's\nhere"},
    {"item_vars": [("PATH", "/item"), ("SEASON", "a"), ("SEASON", "b")]},
    {"item_vars": [("MT_TEST_NAME", "item's"), ("HOME", "/h")], "extra": {"PATH": "/x"}},
    {"extra": {}},
    {"base_env": {}, "extra": {}, "env_override": []},
])
def test_snapshot_from_template_equals_the_general_writer(tmp_path, change):
    cache, writer = EnvCache(), SnapshotWriter()
    cache.build(inputs(test_name="warm"))  # the run's template exists, with a plan made below
    for attempt in range(2):  # a new plan, then the kept one
        env_inputs = inputs(**change)
        env, template, parts = cache.build_with_template(env_inputs)
        assert list(env.items()) == list(build_test_env(env_inputs).items())
        fast, general = tmp_path / f"fast{attempt}", tmp_path / f"general{attempt}"
        fast.mkdir()
        general.mkdir()
        got = writer.write_from_template(env, template, parts.moved, str(fast))
        want = SnapshotWriter().write_files(env, str(general))
        for got_path, want_path in zip(got, want, strict=True):
            assert Path(got_path).read_bytes() == Path(want_path).read_bytes()


@pytest.mark.parametrize("path", [
    "/a/b", "/a//b", "//a/b", "///a", "/a/./b", "/a/b/", "/a/b/.", "./a", "a/b", ".", "",
    "/", "/a/../b", "/a/.b/c", "/a/b.", "a/./", "/.a", "/a/...",
])
def test_path_text_is_the_text_of_the_path(path):
    assert path_text(path) == str(Path(path))


def test_work_area_paths_pickling_and_equality(tmp_path):
    area = WorkArea(f"{tmp_path}/real", f"{tmp_path}/link", None)
    assert area.real_dir == tmp_path / "real" and area.run_dir == tmp_path / "link"
    assert area.run_dir_str == f"{tmp_path}/link"
    again = pickle.loads(pickle.dumps(area))
    assert again == area and hash(again) == hash(area) and again.link_path == area.link_path
    plain = WorkArea(tmp_path / "real", None, None)
    assert plain.run_dir == plain.real_dir and plain.run_dir_str == str(tmp_path / "real")
    assert plain != area


def _tree(root: Path) -> dict:
    """Everything a copy keeps, per relative path (the root's own mode and times included)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in ["", *dirnames, *filenames]:
            path = os.path.join(dirpath, name) if name else dirpath
            if not name and dirpath != str(root):
                continue
            st = os.lstat(path)
            kind = stat.S_IFMT(st.st_mode)
            entry = (kind, stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            if stat.S_ISLNK(st.st_mode):
                entry = (kind, os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                entry += (Path(path).read_bytes(),)
            out[os.path.relpath(path, root)] = entry
    return out


@pytest.mark.parametrize("dest_mode", [0o755, 0o700])
def test_source_copier_equals_the_general_copy(tmp_path, dest_mode):
    src = make_source(tmp_path)
    (src / "sub/deeper").mkdir()
    (src / "sub/deeper/big").write_bytes(os.urandom(3 << 19))  # more than one sendfile chunk
    (src / "empty").write_bytes(b"")
    (src / "ro").write_text("r")
    os.chmod(src / "ro", 0o444)
    os.chmod(src / "sub", 0o750)
    os.chmod(src, 0o755)
    for i, path in enumerate(["sub/deeper/big", "empty", "sub/deeper", "sub", ""]):
        os.utime(src / path, ns=(1_000_000_000 + i, 2_000_000_000 + i))
    fast, general = tmp_path / "fast", tmp_path / "general"
    for dest in (fast, general):
        dest.mkdir()
        os.chmod(dest, dest_mode)
    SourceCopier().copy(str(src), str(fast))
    _copy_tree(src, general)
    assert _tree(fast) == _tree(general)
    assert _tree(fast) == _tree(src)  # the root too: its listing's stat gave its mode and times


def test_link_is_kept_replaced_or_refused_as_before(tmp_path):
    real, other = tmp_path / "real", tmp_path / "other"
    link = tmp_path / "lt/a/b"
    link_symlink(link, real)  # parents made
    assert os.readlink(link) == str(real)
    before = os.lstat(link).st_ino
    link_symlink(link, real)  # a rerun keeps the very same link
    assert os.lstat(link).st_ino == before
    link_symlink(link, other)  # a stale link is replaced
    assert os.readlink(link) == str(other)
    os.unlink(link)
    link.mkdir()
    link_symlink(link, real)  # an empty directory in the way is replaced
    assert os.readlink(link) == str(real)
    os.unlink(link)
    link.mkdir()
    (link / "f").write_text("x")
    with pytest.raises(RunFailed, match="exists and is not a symlink"):
        link_symlink(link, real)
