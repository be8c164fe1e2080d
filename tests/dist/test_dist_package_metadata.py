"""Package metadata generated from a profile, the glibc scan, and the install layout."""

from __future__ import annotations

import gzip
from pathlib import Path

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


def test_deb_control_for_ubuntu(distpkg):
    text = distpkg.deb_control(profile(distpkg, "ubuntu"), "0.1.0", (2, 36), 40000, "A <a@b>")
    fields = control_fields(text)
    assert fields["Package"] == "megatest"
    assert fields["Version"] == "0.1.0-1"
    assert fields["Architecture"] == "amd64"
    assert fields["Depends"] == "sqlite3, libc6 (>= 2.36)"
    assert fields["Recommends"] == "slurm-client"
    assert fields["Installed-Size"] == "40000"
    body = text.split("Description: ", 1)[1].splitlines()[1:]
    assert body and all(line.startswith(" ") for line in body)  # continuation lines indented


def test_rpm_spec_for_sles12(distpkg, tmp_path):
    spec = distpkg.rpm_spec(profile(distpkg, "sles12"), "0.1.0", (2, 22), tmp_path,
                            ["/usr/bin/megatest", "/usr/lib/megatest"])
    lines = spec.splitlines()
    assert "Release: 1.sles12" in lines
    assert "AutoReqProv: no" in lines
    requires = [line.split(": ", 1)[1] for line in lines if line.startswith("Requires:")]
    assert requires == ["sqlite3", "slurm", "glibc >= 2.22"]
    assert not any(line.startswith("Recommends:") for line in lines)  # rpm 4.11 targets
    files = lines[lines.index("%files") + 2:]
    assert [f for f in files if f] == ["/usr/bin/megatest", "/usr/lib/megatest"]


def test_rpm_spec_names_rhel_packages(distpkg, tmp_path):
    spec = distpkg.rpm_spec(profile(distpkg, "rh7"), "0.1.0", (2, 17), tmp_path, [])
    assert "Requires: sqlite\n" in spec and "Requires: sqlite3" not in spec


def write_elf(path, *versions: bytes):
    path.write_bytes(b"\x7fELF" + b"\0" * 60 + b"".join(b"GLIBC_" + v + b"\0" for v in versions))


def test_glibc_needed_is_the_newest_version_any_elf_file_asks_for(distpkg, tmp_path):
    write_elf(tmp_path / "megatest", b"2.2.5", b"2.17", b"2.34")
    (tmp_path / "sub").mkdir()
    write_elf(tmp_path / "sub" / "_ssl.so", b"2.28", b"2.3.4")
    (tmp_path / "notes.txt").write_bytes(b"GLIBC_2.99\0 in a text file does not count")
    assert distpkg.glibc_needed(tmp_path) == (2, 34)


def test_glibc_check_warns_or_fails(distpkg, capsys):
    rh7 = profile(distpkg, "rh7")
    distpkg.check_glibc(rh7, (2, 17), strict=True)  # equal: fine
    distpkg.check_glibc(rh7, (2, 34), strict=False)
    assert "needs glibc 2.34 but RHEL 7 has 2.17" in capsys.readouterr().err
    try:
        distpkg.check_glibc(rh7, (2, 34), strict=True)
    except distpkg.ProfileError as exc:
        assert "build it on the oldest target distro" in str(exc)
    else:
        raise AssertionError("strict glibc check passed a too-new binary")


def install_inputs(tmp_path):
    """A fake program folder, man page and completion files, as `make build` leaves them."""
    dist = tmp_path / "megatest.dist"
    (dist / "megatest" / "store" / "_alembic").mkdir(parents=True)
    (dist / "megatest" / "store" / "_alembic" / "env.py").write_text("# env\n")
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
    assert link.is_symlink() and str(link.readlink()) == "/usr/lib/megatest/megatest.bin"
    assert (dest / "usr/lib/megatest/megatest/store/_alembic/env.py").read_text() == "# env\n"
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
