"""runconfigs.config: target read, reqtarg, list of targets, TESTPATT (reference 3)."""

import shutil
from pathlib import Path

import pytest

from megatest.config.runconfigs import list_targets, read_runconfigs
from megatest.errors import UsageError

GOLDEN = Path(__file__).parent / "golden"  # byte-exact inputs of the reference's examples


@pytest.fixture
def area(tmp_path):
    shutil.copy(GOLDEN / "g7.config", tmp_path / "runconfigs.config")
    return tmp_path


def test_target_read_g7a(area):
    env = {"PATH": "/usr/bin:/bin", "MT_TARGET": "ubuntu/nfs/none"}
    rc = read_runconfigs(area, "ubuntu/nfs/none", env=env)
    assert rc.raw.to_json_dict() == {
        "ubuntu/nfs/none": {
            "FROM_WILD": "one-percent wildcard",
            "BUILD_DIR": "/builds/nfs",
            "TESTPATT": "smoke%,unit%",
            "BUILD_COPY": "/builds/nfs",
            "DEFAULT_ONLY": "x",
            "FROM_REGEX": "regex section",
        },
        "default": {"TESTPATT": "%", "BUILD_DIR": "/builds/default", "NOVAL": ""},
    }
    assert env["NOVAL"] == ""  # a key without value is exported at read time
    assert "BUILD_DIR" not in env


def test_variables_default_then_target(area):
    rc = read_runconfigs(area, "ubuntu/nfs/none", env={"PATH": "/usr/bin:/bin"})
    keys = [k for k, _ in rc.variables()]
    assert keys[:3] == ["TESTPATT", "BUILD_DIR", "NOVAL"]
    assert keys[3:] == ["FROM_WILD", "BUILD_DIR", "TESTPATT", "BUILD_COPY", "DEFAULT_ONLY", "FROM_REGEX"]
    merged = rc.merged()
    assert merged["BUILD_DIR"] == "/builds/nfs" and merged["NOVAL"] == ""
    assert rc.lookup("BUILD_DIR") == "/builds/nfs"
    assert rc.lookup("NOVAL") == ""
    assert rc.lookup("MISSING") is None


def test_testpatt_resolution(area):
    rc = read_runconfigs(area, "ubuntu/nfs/none", env={})
    assert rc.resolve_testpatt(None) == "smoke%,unit%"
    assert rc.resolve_testpatt("%") == "smoke%,unit%"
    assert rc.resolve_testpatt("a,b") == "a,b"
    assert rc.resolve_testpatt("x", modepatt="BUILD_DIR") == "/builds/nfs"
    assert rc.resolve_testpatt("x", modepatt="NOPE") is None  # no fallback
    other = read_runconfigs(area, "centos/afs/none", env={})
    assert other.resolve_testpatt(None) == "%"  # TESTPATT from [default]


def test_reqtarg_needs_the_exact_section(area):
    rc = read_runconfigs(area, "centos/afs/none", env={}, reqtarg=True)
    assert rc.merged()["BUILD_DIR"] == "/builds/afs"
    with pytest.raises(UsageError, match=r"\[ubuntu/x/none\] not found in .*runconfigs.config"):
        read_runconfigs(area, "ubuntu/x/none", env={}, reqtarg=True)
    # without reqtarg an unknown target just gets [default] and the wildcards
    rc = read_runconfigs(area, "ubuntu/x/none", env={})
    assert rc.merged()["FROM_WILD"] == "one-percent wildcard"


def test_list_targets(area):
    names, diags = list_targets(area, env={})
    assert names == ["centos/afs/none", "default", "ubuntu/nfs/none"]
    assert diags == []
    assert list_targets(area, "ubuntu%", env={})[0] == ["ubuntu/nfs/none"]
    assert list_targets(area, "cent%,def%", env={})[0] == ["centos/afs/none", "default"]
    assert list_targets(area, "UBUNTU%", env={})[0] == []  # case-sensitive


def test_missing_runconfigs(tmp_path):
    rc = read_runconfigs(tmp_path, "a/b", env={})
    assert not rc.exists and rc.variables() == [] and rc.resolve_testpatt(None) == "%"
    assert list_targets(tmp_path, env={}) == ([], [])
    with pytest.raises(UsageError, match="not found"):
        read_runconfigs(tmp_path, "a/b", env={}, reqtarg=True)


def test_relative_toppath(area, monkeypatch):
    monkeypatch.chdir(area.parent)
    rc = read_runconfigs(area.name, "centos/afs/none", env={})
    assert rc.merged()["BUILD_DIR"] == "/builds/afs"
    assert list_targets(area.name, env={})[0][0] == "centos/afs/none"
