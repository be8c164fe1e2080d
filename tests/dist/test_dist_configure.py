"""./configure: argument handling, distro detection, tool checks and the config.mk it writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# the project's root, named here: another tests folder's conftest may be the one
# `import conftest` finds, depending on what was collected first
ROOT = Path(__file__).resolve().parents[2]

CONFIGURE = ROOT / "configure"


def configure(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(CONFIGURE), f"--with-python={sys.executable}", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )


def config_mk(cwd: Path) -> dict[str, str]:
    values = {}
    for line in (cwd / "config.mk").read_text().splitlines():
        for op in (":=", "?="):
            if op in line and not line.startswith("#"):
                name, _, value = line.partition(op)
                values[name.strip()] = value.strip()
    return values


def make_value(cwd: Path, name: str, *assignments: str) -> str:
    """NAME as make sees it with cwd's config.mk (and the profile it includes) read."""
    printer = cwd / "print.mk"
    printer.write_text(f"print:\n\t@echo '$({name})'\n")
    result = subprocess.run(
        ["make", "-s", "-C", str(ROOT), "-f", str(cwd / "config.mk"), "-f", str(printer), "print",
         *assignments], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("distro", ["ubuntu", "sles11", "sles12", "rh7"])
def test_install_with_another_prefix_writes_only_under_it(tmp_path, fake_tools, distro):
    assert configure(tmp_path, fake_tools, f"--distro={distro}").returncode == 0
    for name in ("BINDIR", "LIBDIR", "MANDIR", "SYSCONFDIR", "PKG_BASH_COMPLETION_DIR",
                 "PKG_ZSH_COMPLETION_DIR"):
        assert make_value(tmp_path, name, "PREFIX=/opt/x").startswith("/opt/x/"), name


def test_system_prefix_puts_configuration_in_etc(tmp_path, fake_tools):
    assert configure(tmp_path, fake_tools, "--distro=sles11").returncode == 0
    assert make_value(tmp_path, "PKG_BASH_COMPLETION_DIR") == "/etc/bash_completion.d"


def test_options_take_their_value_as_the_next_word(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--profile", "rh7", "--maintainer", "Ann Lee <ann@example.org>")
    assert result.returncode == 0, result.stderr
    values = config_mk(tmp_path)
    assert values["DISTRO"] == "rh7"
    assert values["PKG_MAINTAINER"] == "Ann Lee <ann@example.org>"


@pytest.mark.parametrize("who", ["Ann", "Ann <ann>", 'Ann "x" <ann@example.org>', "$(id) <a@b>"])
def test_a_maintainer_that_is_not_name_and_mail_is_refused(tmp_path, fake_tools, who):
    result = configure(tmp_path, fake_tools, "--distro=ubuntu", f"--maintainer={who}")
    assert result.returncode != 0
    assert "--maintainer" in result.stderr
    assert not (tmp_path / "config.mk").exists()


def test_make_before_configure_stops_at_once(tmp_path):
    # a copy of the Makefile alone: no config.mk beside it, and no venv to install into
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    result = subprocess.run(["make"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "run ./configure first" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_help_lists_every_profile(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--help")
    assert result.returncode == 0
    for name in ("ubuntu", "sles11", "sles12", "rh7", "--prefix", "--with-python"):
        assert name in result.stdout
    assert not (tmp_path / "config.mk").exists()


def test_unknown_distro_is_an_error_naming_it(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--distro=gentoo")
    assert result.returncode != 0
    assert "unknown distro 'gentoo'" in result.stderr
    assert not (tmp_path / "config.mk").exists()


def test_unknown_option_is_an_error(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--distro=ubuntu", "--enable-magic")
    assert result.returncode != 0
    assert "--enable-magic" in result.stderr


@pytest.mark.parametrize("var,distro", [("PATCHELF", "ubuntu"), ("CC", "rh7"), ("STRIP", "sles11"),
                                        ("OBJDUMP", "rh7"), ("DPKG_DEB", "ubuntu"),
                                        ("RPMBUILD", "sles12")])
def test_missing_tool_is_an_error_naming_it(tmp_path, fake_tools, var, distro):
    env = {**fake_tools, var: "no-such-tool-xyz"}
    result = configure(tmp_path, env, f"--distro={distro}")
    assert result.returncode != 0
    assert "missing build tools: 'no-such-tool-xyz';" in result.stderr
    assert not (tmp_path / "config.mk").exists()


@pytest.mark.parametrize("installer,distro,packages", [
    ("apt", "ubuntu", "apt-get install patchelf binutils dpkg ccache"),
    ("apt", "rh7", "apt-get install patchelf binutils rpm ccache"),
    ("yum", "rh7", "yum install patchelf binutils rpm-build ccache"),
    ("zypper", "sles12", "zypper install patchelf binutils rpm-build ccache"),
    ("zypper", "sles11", "zypper install patchelf binutils rpm ccache"),
])
def test_every_missing_tool_is_named_in_one_message_with_its_packages(
        tmp_path, fake_tools, installer, distro, packages):
    env = {**fake_tools, "PKG_INSTALLER": installer}
    for var in ("PATCHELF", "STRIP", "OBJDUMP", "DPKG_DEB", "RPMBUILD", "CCACHE"):
        env[var] = f"no-{var.lower()}"
    result = configure(tmp_path, env, f"--distro={distro}")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "'no-patchelf', 'no-strip', 'no-objdump'" in lines[0]
    assert f"install them with: {packages} (" in lines[0]


def test_missing_ccache_alone_is_a_note(tmp_path, fake_tools):
    env = {**fake_tools, "CCACHE": "no-ccache", "PKG_INSTALLER": "apt"}
    result = configure(tmp_path, env, "--distro=ubuntu")
    assert result.returncode == 0, result.stderr
    assert "ccache not found" in result.stdout and "apt-get install ccache" in result.stdout


def test_package_tool_of_the_other_format_is_not_required(tmp_path, fake_tools):
    env = {**fake_tools, "RPMBUILD": "no-such-rpmbuild"}
    assert configure(tmp_path, env, "--distro=ubuntu").returncode == 0


def test_old_python_is_rejected(tmp_path, fake_tools):
    old = tmp_path / "python2"
    old.write_text("#!/bin/sh\nexit 1\n")
    old.chmod(0o755)
    result = configure(tmp_path, fake_tools, "--distro=ubuntu", f"--with-python={old}")
    assert result.returncode != 0
    assert "older than 3.11" in result.stderr


def test_relative_prefix_is_rejected(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--distro=ubuntu", "--prefix=usr/local")
    assert result.returncode != 0
    assert "--prefix must be an absolute path" in result.stderr


def test_config_mk_for_sles12_with_prefix(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--distro=sles12", "--prefix=/opt/mt")
    assert result.returncode == 0, result.stderr
    values = config_mk(tmp_path)
    assert values["DISTRO"] == "sles12"
    assert values["PREFIX"] == "/opt/mt"
    assert values["BINDIR"] == "$(PREFIX)/bin"  # follows `make install PREFIX=...`
    assert make_value(tmp_path, "SYSCONFDIR") == "/opt/mt/etc"
    assert values["PKG_TOOL"] == fake_tools["RPMBUILD"]
    assert "include distro/sles12.mk" in (tmp_path / "config.mk").read_text()


def test_config_mk_defaults_come_from_the_profile(tmp_path, fake_tools):
    result = configure(tmp_path, fake_tools, "--distro=rh7", "--bindir=/usr/local/bin")
    assert result.returncode == 0, result.stderr
    values = config_mk(tmp_path)
    assert values["PREFIX"] == "/usr"
    assert make_value(tmp_path, "SYSCONFDIR") == "/etc"
    assert values["BINDIR"] == "/usr/local/bin"
    assert Path(values["PYTHON"]).is_absolute()


@pytest.mark.parametrize("release,expected", [
    ('ID=ubuntu\nVERSION_ID="22.04"\n', "ubuntu"),
    ('ID=debian\nVERSION_ID="12"\n', "ubuntu"),
    ('ID="sles"\nVERSION_ID="12.5"\n', "sles12"),
    ('ID="sles"\nVERSION_ID="11.4"\n', "sles11"),
    ('ID="rhel"\nVERSION_ID="7.9"\n', "rh7"),
    ('ID="centos"\nVERSION_ID="7"\n', "rh7"),
    ('ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21"\n', "ubuntu"),
])
def test_auto_detects_the_profile_from_os_release(tmp_path, fake_tools, release, expected):
    os_release = tmp_path / "os-release"
    os_release.write_text(release)
    env = {**fake_tools, "MEGATEST_OS_RELEASE": str(os_release)}
    result = configure(tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert config_mk(tmp_path)["DISTRO"] == expected


@pytest.mark.parametrize("release,named", [
    ('ID=fedora\nVERSION_ID=40\n', "fedora 40"),
    ('ID="rhel"\nVERSION_ID="9.3"\n', "rhel 9.3"),
    ('ID="sles"\nVERSION_ID="15.5"\n', "sles 15.5"),
])
def test_auto_refuses_distros_without_a_profile(tmp_path, fake_tools, release, named):
    os_release = tmp_path / "os-release"
    os_release.write_text(release)
    env = {**fake_tools, "MEGATEST_OS_RELEASE": str(os_release)}
    result = configure(tmp_path, env, "--distro=auto")
    assert result.returncode != 0
    assert f"'{named}'" in result.stderr
    assert "--distro=" in result.stderr
