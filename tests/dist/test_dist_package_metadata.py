"""Package metadata generated from a profile, the glibc scan, and the install layout."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

# the project's root, named here: another tests folder's conftest may be the one
# `import conftest` finds, depending on what was collected first
ROOT = Path(__file__).resolve().parents[2]


CONTEXT = {"PREFIX": "/usr", "SYSCONFDIR": "/etc"}


def profile(distpkg, name):
    return distpkg.read_profile(ROOT / "distro" / f"{name}.mk", CONTEXT)


def control_fields(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        if not line.startswith(" "):
            key, _, value = line.partition(": ")
            fields[key] = value
    return fields


def build(distpkg, glibc=(2, 17), libraries=("libc.so.6", "libm.so.6", "libz.so.1")):
    return distpkg.Build(version="0.1.0", maintainer="Ann Lee <ann@example.org>",
                         epoch=1796558400, glibc=glibc, libraries=list(libraries))


def test_deb_control_for_ubuntu(distpkg):
    ubuntu = profile(distpkg, "ubuntu")
    depends = distpkg.deb_dependencies(ubuntu, (2, 35), ["libc.so.6", "libm.so.6", "libz.so.1"])
    text = distpkg.deb_control(ubuntu, "0.1.0", depends, 40000, "A <a@b.org>")
    fields = control_fields(text)
    assert fields["Package"] == "megatest"
    assert fields["Version"] == "0.1.0-1"
    assert fields["Architecture"] == "amd64"
    # SQLite is in the binary: the sqlite3 tool is only a suggestion; zlib is linked, not bundled
    assert fields["Depends"] == "libc6 (>= 2.35), zlib1g"
    assert fields["Recommends"] == "slurm-client"
    assert fields["Suggests"] == "sqlite3"
    assert fields["Installed-Size"] == "40000"
    assert fields["Maintainer"] == "A <a@b.org>"
    body = text.split("Description: ", 1)[1].splitlines()[1:]
    assert body and all(line.startswith(" ") for line in body)  # continuation lines indented


def test_a_linked_library_the_profile_cannot_name_stops_the_deb(distpkg):
    with pytest.raises(distpkg.ProfileError, match=r"links libfoo\.so\.3.*PKG_LIBRARIES"):
        distpkg.deb_dependencies(profile(distpkg, "ubuntu"), (2, 35), ["libc.so.6", "libfoo.so.3"])


def test_rpm_spec_for_sles12(distpkg, tmp_path):
    spec = distpkg.rpm_spec(profile(distpkg, "sles12"), build(distpkg), tmp_path,
                            ["/usr/bin/megatest", "/usr/lib/megatest"])
    lines = spec.splitlines()
    assert "Release: 1.sles12" in lines
    assert "AutoReqProv: no" in lines
    assert "Packager: Ann Lee <ann@example.org>" in lines
    assert {"Group: Development/Tools/Other", "License: GPL-3.0+"} <= set(lines)
    assert any(line.startswith("URL: https://") for line in lines)
    requires = [line.split(": ", 1)[1] for line in lines if line.startswith("Requires:")]
    # glibc's own libraries come with glibc; the rest by soname, as rpm's scanner names them
    assert requires == ["glibc >= 2.17", "libz.so.1()(64bit)"]
    assert "Recommends: slurm" in lines  # a launcher's tool, not a requirement
    files = lines[lines.index("%files") + 2:lines.index("%changelog")]
    assert [f for f in files if f] == ["/usr/bin/megatest", "/usr/lib/megatest"]
    changelog = lines[lines.index("%changelog") + 1:]
    assert changelog[0] == "* Sun Dec 06 2026 Ann Lee <ann@example.org> - 0.1.0-1.sles12"


def test_rpm_spec_names_rhel_packages(distpkg, tmp_path):
    spec = distpkg.rpm_spec(profile(distpkg, "rh7"), build(distpkg), tmp_path, [])
    assert "Suggests: sqlite\n" in spec and "sqlite3" not in spec
    assert "Requires: slurm" not in spec
    assert "License: GPLv3+\n" in spec and "Group: Development/Tools\n" in spec


def test_files_under_etc_are_config_and_the_licence_is_marked(distpkg, tmp_path):
    for rel in ("etc/bash_completion.d/megatest", "usr/share/licenses/megatest/COPYING",
                "usr/lib/megatest/megatest.bin"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    files = distpkg.rpm_file_list(tmp_path, "/usr/lib/megatest",
                                  "/usr/share/licenses/megatest/COPYING")
    assert files == ["%config(noreplace) /etc/bash_completion.d/megatest", "/usr/lib/megatest",
                     "%license /usr/share/licenses/megatest/COPYING"]
    assert distpkg.deb_conffiles(tmp_path) == ["/etc/bash_completion.d/megatest"]


def test_glibc_above_the_floor_is_refused_with_what_to_do(distpkg, elfdeps, capsys):
    rh7 = profile(distpkg, "rh7")
    assert distpkg.check_glibc(rh7, elfdeps.GlibcNeed((2, 17), "memcpy", "megatest.bin")) == (2, 17)
    assert "GLIBC_2.17 (memcpy in megatest.bin); RHEL 7's floor is 2.17" in capsys.readouterr().out
    with pytest.raises(distpkg.ProfileError) as refused:
        distpkg.check_glibc(rh7, elfdeps.GlibcNeed((2, 35), "hypot", "megatest.bin"))
    assert "needs glibc 2.35 but RHEL 7 has 2.17" in str(refused.value)
    assert "./configure --profile rh7 && make package" in str(refused.value)
    assert "GLIBC_2.35 (hypot in megatest.bin)" in capsys.readouterr().out


def test_the_ubuntu_floor_is_the_build_hosts_glibc(distpkg):
    import os
    host = tuple(int(p) for p in os.confstr("CS_GNU_LIBC_VERSION").split()[-1].split("."))
    assert profile(distpkg, "ubuntu").glibc_min == host


def install_inputs(tmp_path):
    """A fake program folder, man page and completion files, as `make build` leaves them."""
    dist = tmp_path / "megatest.dist"
    (dist / "megatest" / "store" / "_alembic" / "__pycache__").mkdir(parents=True)
    (dist / "megatest" / "store" / "_alembic" / "env.py").write_text("# env\n")
    (dist / "megatest" / "store" / "_alembic" / "__pycache__" / "env.cpython-311.pyc").write_text("")
    (dist / "megatest.bin").write_text("binary")
    (tmp_path / "megatest.1.gz").write_bytes(gzip.compress(b".TH MEGATEST 1\n"))
    (tmp_path / "bash").write_text("complete -F _m megatest\n")
    (tmp_path / "zsh").write_text("#compdef megatest\n")


def run_install(distpkg, tmp_path):
    dest = tmp_path / "root"
    argv = ["install", "--dist", str(tmp_path / "megatest.dist"), "--destdir", str(dest),
            "--libdir", "/usr/lib", "--bindir", "/usr/bin",
            "--mandir", "/usr/share/man", "--man", str(tmp_path / "megatest.1.gz"),
            "--bash-completion", str(tmp_path / "bash"),
            "--bash-completion-dir", "/usr/share/bash-completion/completions",
            "--zsh-completion", str(tmp_path / "zsh"),
            "--zsh-completion-dir", "/usr/share/zsh/vendor-completions"]
    assert distpkg.main(argv) == 0
    return dest


def staged_install(distpkg, tmp_path):
    install_inputs(tmp_path)
    return run_install(distpkg, tmp_path)


def test_install_layout(distpkg, tmp_path):
    dest = staged_install(distpkg, tmp_path)
    link = dest / "usr/bin/megatest"
    assert link.is_symlink() and str(link.readlink()) == "../lib/megatest/megatest.bin"
    assert link.resolve() == (dest / "usr/lib/megatest/megatest.bin").resolve()
    assert (dest / "usr/lib/megatest/megatest/store/_alembic/env.py").read_text() == "# env\n"
    assert not list(dest.rglob("__pycache__"))  # no byte-code caches with build-time mtimes
    assert (dest / "usr/share/man/man1/megatest.1.gz").exists()
    assert (dest / "usr/share/bash-completion/completions/megatest").exists()
    assert (dest / "usr/share/zsh/vendor-completions/_megatest").exists()
    files = distpkg.rpm_file_list(dest, "/usr/lib/megatest")
    assert files == ["/usr/bin/megatest", "/usr/lib/megatest",
                     "/usr/share/bash-completion/completions/megatest",
                     "/usr/share/man/man1/megatest.1.gz",
                     "/usr/share/zsh/vendor-completions/_megatest"]


def test_install_twice_replaces_the_program_folder(distpkg, tmp_path):
    dest = staged_install(distpkg, tmp_path)
    stale = dest / "usr/lib/megatest/stale.so"
    stale.write_text("old")
    run_install(distpkg, tmp_path)
    assert not stale.exists()


def test_deb_documents_are_where_lintian_looks(distpkg, pkgdocs, tmp_path):
    ubuntu = profile(distpkg, "ubuntu")
    distpkg.stage_deb_documents(ubuntu, tmp_path, build(distpkg), "/usr", "/usr/lib/megatest")
    doc = tmp_path / "usr/share/doc/megatest"
    copyright_text = (doc / "copyright").read_text()
    assert copyright_text.startswith("Format: https://www.debian.org/doc/packaging-manuals/")
    assert "License: GPL-3+" in copyright_text and "/usr/share/common-licenses/GPL-3" in copyright_text
    changelog = gzip.decompress((doc / "changelog.Debian.gz").read_bytes()).decode()
    assert changelog.startswith("megatest (0.1.0-1) unstable; urgency=medium")
    assert " -- Ann Lee <ann@example.org>  Sun, 06 Dec 2026 " in changelog
    # reproducible: the same build gives the same bytes
    assert (doc / "changelog.Debian.gz").read_bytes() == pkgdocs.deb_changelog(
        "0.1.0", "Ubuntu", "Ann Lee <ann@example.org>", 1796558400)
    overrides = (tmp_path / "usr/share/lintian/overrides/megatest").read_text()
    assert "embedded-library bzip2 [usr/lib/megatest/libbz2.so.1.0]" in overrides


def test_deb_md5sums_list_every_file_but_the_control_files(distpkg, tmp_path):
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "usr/lib").mkdir()
    (tmp_path / "usr/lib/prog").write_text("hello\n")
    (tmp_path / "usr/bin/prog").symlink_to("../lib/prog")
    (tmp_path / "DEBIAN").mkdir()
    (tmp_path / "DEBIAN/control").write_text("Package: x\n")
    assert distpkg.deb_md5sums(tmp_path) == "b1946ac92492d2347c6235b4d2611184  usr/lib/prog\n"
