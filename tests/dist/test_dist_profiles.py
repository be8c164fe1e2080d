"""distro/*.mk: every profile configure knows exists, parses, and carries the packaging fields."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

# the project's root, named here: another tests folder's conftest may be the one
# `import conftest` finds, depending on what was collected first
ROOT = Path(__file__).resolve().parents[2]

CONTEXT = {"PREFIX": "/usr", "SYSCONFDIR": "/etc"}
PROFILES = sorted(p.stem for p in (ROOT / "distro").glob("*.mk"))


def known_to_configure() -> list[str]:
    text = (ROOT / "configure").read_text()
    return sorted(re.search(r'^known_distros="([^"]*)"', text, re.M).group(1).split())


def test_configure_and_profiles_agree():
    assert PROFILES == known_to_configure() == ["rh7", "sles11", "sles12", "ubuntu"]


@pytest.mark.parametrize("name", PROFILES)
def test_profile_has_every_required_field(distpkg, name):
    profile = distpkg.read_profile(ROOT / "distro" / f"{name}.mk", CONTEXT)
    extra = distpkg.RPM_FIELDS if profile.pkg_format == "rpm" else distpkg.DEB_FIELDS
    assert set(distpkg.COMMON_FIELDS + extra) <= set(profile.values)
    # SQLite is inside the binary and the launchers' tools are optional: nothing is required
    # by hand, the sqlite tool is a suggestion
    assert profile.requires == []
    assert any(name.startswith("sqlite") for name in profile.suggests)
    assert not {"slurm", "slurm-client", "lsf"} & set(profile.requires)
    assert profile.values["PKG_BASH_COMPLETION_DIR"].startswith("/")


def test_package_formats_per_distro(distpkg):
    formats = {n: distpkg.read_profile(ROOT / "distro" / f"{n}.mk", CONTEXT).pkg_format
               for n in PROFILES}
    assert formats == {"ubuntu": "deb", "sles11": "rpm", "sles12": "rpm", "rh7": "rpm"}


def test_sles11_profile_suits_rpm_4_4(distpkg):
    profile = distpkg.read_profile(ROOT / "distro" / "sles11.mk", CONTEXT)
    assert profile.values["RPM_PAYLOAD"].endswith("gzdio")
    assert profile.values["RPM_FILE_DIGEST"] == "1"


def test_completion_dirs_follow_prefix(distpkg):
    profile = distpkg.read_profile(ROOT / "distro" / "ubuntu.mk", {**CONTEXT, "PREFIX": "/opt/mt"})
    assert profile.values["PKG_BASH_COMPLETION_DIR"] == "/opt/mt/share/bash-completion/completions"


def test_missing_field_is_reported_with_the_file(distpkg, tmp_path):
    broken = tmp_path / "broken.mk"
    broken.write_text("PKG_FORMAT := rpm\nPKG_PREFIX := /usr\n")
    with pytest.raises(distpkg.ProfileError, match=r"broken\.mk: missing .*PKG_REQUIRES"):
        distpkg.read_profile(broken, CONTEXT)


def test_undefined_reference_is_reported_with_the_line(distpkg, tmp_path):
    broken = tmp_path / "broken.mk"
    broken.write_text("# comment\nPKG_BASH_COMPLETION_DIR = $(NOWHERE)/share\n")
    with pytest.raises(distpkg.ProfileError, match=r"broken\.mk:2: \$\(NOWHERE\) is not defined"):
        distpkg.read_profile(broken, CONTEXT)


def test_bad_format_is_rejected(distpkg, tmp_path):
    text = (ROOT / "distro" / "ubuntu.mk").read_text().replace("PKG_FORMAT := deb",
                                                               "PKG_FORMAT := tgz")
    broken = tmp_path / "tgz.mk"
    broken.write_text(text)
    with pytest.raises(distpkg.ProfileError, match="PKG_FORMAT must be deb or rpm"):
        distpkg.read_profile(broken, CONTEXT)


@pytest.mark.parametrize("name,floor", [("rh7", (2, 17)), ("sles12", (2, 17)), ("sles11", (2, 11))])
def test_glibc_floor_per_profile(distpkg, name, floor):
    assert distpkg.read_profile(ROOT / "distro" / f"{name}.mk", CONTEXT).glibc_min == floor


def test_a_malformed_library_entry_is_refused(distpkg, tmp_path):
    text = (ROOT / "distro" / "ubuntu.mk").read_text().replace("libz.so.1=zlib1g", "zlib1g")
    broken = tmp_path / "libs.mk"
    broken.write_text(text)
    with pytest.raises(distpkg.ProfileError, match="SONAME=PACKAGE"):
        distpkg.read_profile(broken, CONTEXT)
