"""Install the standalone program and wrap it into a .deb or .rpm, driven by a distro profile.

    distpkg.py install --dist DIR --destdir D --libdir L --bindir B --mandir M --man F ...
    distpkg.py package --profile distro/X.mk --root STAGED_TREE --binary build/megatest --out DIR

A profile (distro/<name>.mk) is a small make fragment of `NAME := value` lines; `read_profile`
reads it the way make would for these simple assignments, so the Makefile and this script agree.
Only the standard library is used: this runs on build hosts before anything else is installed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE_NAME = "megatest"
# The executable inside the program folder; `megatest/` beside it holds the package's data.
EXECUTABLE = "megatest.bin"
SUMMARY = "Regression-test orchestration harness for Megatest areas"
DESCRIPTION = (
    "megatest runs, tracks and reports regression tests described by Megatest areas.\n"
    "This package is a standalone build: it carries its own Python interpreter and\n"
    "libraries, so nodes need no Python packages installed."
)
LICENSE = "GPL-3.0-or-later"
DEFAULT_MAINTAINER = "Megatest packagers <root@localhost>"

COMMON_FIELDS = (
    "DISTRO_TITLE",
    "PKG_FORMAT",
    "PKG_PREFIX",
    "PKG_ARCH",
    "PKG_REQUIRES",
    "PKG_RECOMMENDS",
    "PKG_GLIBC_MIN",
    "PKG_BASH_COMPLETION_DIR",
    "PKG_ZSH_COMPLETION_DIR",
    "NUITKA_DISTRO_FLAGS",
)
RPM_FIELDS = ("RPM_PAYLOAD", "RPM_FILE_DIGEST")

_ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)\s*:?=\s*(.*?)\s*$")
_REFERENCE = re.compile(r"\$\(([A-Z][A-Z0-9_]*)\)")
_GLIBC_VERSION = re.compile(rb"GLIBC_(\d+)\.(\d+)(?:\.(\d+))?\x00")


class ProfileError(Exception):
    """A distro profile is missing a field or holds a value the packaging cannot use."""


@dataclass(frozen=True)
class Profile:
    name: str
    values: dict[str, str]

    @property
    def pkg_format(self) -> str:
        return self.values["PKG_FORMAT"]

    @property
    def requires(self) -> list[str]:
        return self.values["PKG_REQUIRES"].split()

    @property
    def recommends(self) -> list[str]:
        return self.values["PKG_RECOMMENDS"].split()

    @property
    def glibc_min(self) -> tuple[int, ...]:
        return parse_version(self.values["PKG_GLIBC_MIN"])


def parse_version(text: str) -> tuple[int, ...]:
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise ProfileError(f"not a version number: {text!r}")
    return tuple(int(part) for part in text.split("."))


def format_version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def read_profile(path: Path, context: dict[str, str] | None = None) -> Profile:
    """Read a distro profile; `$(VAR)` expands from earlier lines, then from `context`."""
    values: dict[str, str] = {}
    known = dict(context or {})
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ASSIGNMENT.match(line)
        if not match:
            raise ProfileError(f"{path}:{number}: expected 'NAME := value', got {raw!r}")
        name, value = match.groups()

        def expand(ref: re.Match[str], _number: int = number) -> str:
            if ref.group(1) not in known:
                raise ProfileError(f"{path}:{_number}: $({ref.group(1)}) is not defined")
            return known[ref.group(1)]

        value = _REFERENCE.sub(expand, value)
        values[name] = value
        known.setdefault(name, value)
    profile = Profile(name=path.stem, values=values)
    check_profile(profile, path)
    return profile


def check_profile(profile: Profile, path: Path) -> None:
    fields = COMMON_FIELDS + (RPM_FIELDS if profile.values.get("PKG_FORMAT") == "rpm" else ())
    missing = [field for field in fields if field not in profile.values]
    if missing:
        raise ProfileError(f"{path}: missing {', '.join(missing)}")
    if profile.pkg_format not in ("deb", "rpm"):
        raise ProfileError(f"{path}: PKG_FORMAT must be deb or rpm, not {profile.pkg_format!r}")
    if not profile.values["PKG_PREFIX"].startswith("/"):
        raise ProfileError(f"{path}: PKG_PREFIX must be an absolute path")
    parse_version(profile.values["PKG_GLIBC_MIN"])


def glibc_needed(dist_dir: Path) -> tuple[int, ...]:
    """The newest GLIBC_x.y symbol version any ELF file of the program folder asks for."""
    newest: tuple[int, ...] = (0,)
    for path in sorted(dist_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
            data = handle.read()
        for match in _GLIBC_VERSION.finditer(data):
            version = tuple(int(part) for part in match.groups() if part is not None)
            newest = max(newest, version)
    return newest


def deb_control(
    profile: Profile, version: str, glibc: tuple[int, ...], installed_kib: int, maintainer: str
) -> str:
    depends = [*profile.requires, f"libc6 (>= {format_version(glibc)})"]
    lines = [
        f"Package: {PACKAGE_NAME}",
        f"Version: {version}-1",
        f"Architecture: {profile.values['PKG_ARCH']}",
        f"Maintainer: {maintainer}",
        f"Installed-Size: {installed_kib}",
        f"Depends: {', '.join(depends)}",
    ]
    if profile.recommends:
        lines.append(f"Recommends: {', '.join(profile.recommends)}")
    lines += [
        "Section: devel",
        "Priority: optional",
        f"Description: {SUMMARY}",
        *(f" {line}" if line else " ." for line in DESCRIPTION.splitlines()),
    ]
    return "\n".join(lines) + "\n"


def rpm_spec(
    profile: Profile, version: str, glibc: tuple[int, ...], staged: Path, files: list[str]
) -> str:
    """A spec that repackages the already-installed tree `staged`; `files` are its top paths."""
    requires = [*profile.requires, f"glibc >= {format_version(glibc)}"]
    lines = [
        f"Name: {PACKAGE_NAME}",
        f"Version: {version}",
        f"Release: 1.{profile.name}",
        f"Summary: {SUMMARY}",
        f"License: {LICENSE}",
        # The program folder carries its own libraries: scanning them would make the package
        # "provide" libpython/libssl and require whatever they link to. Requirements are the
        # profile's list plus the glibc the binary was linked against, nothing else.
        "AutoReqProv: no",
        *(f"Requires: {name}" for name in requires),
        *(f"Recommends: {name}" for name in profile.recommends),
        "",
        "%description",
        DESCRIPTION,
        "",
        "%install",
        f"cp -a '{staged}/.' %{{buildroot}}/",
        "",
        "%files",
        "%defattr(-,root,root,-)",
        *files,
        "",
    ]
    return "\n".join(lines)


def program_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


def rpm_file_list(staged: Path, program_dir: str) -> list[str]:
    """Top-level entries of the staged tree as %files lines: the program folder as one entry."""
    entries: list[str] = []
    for path in sorted(staged.rglob("*")):
        rel = "/" + path.relative_to(staged).as_posix()
        if rel == program_dir:
            entries.append(rel)
        elif rel.startswith(program_dir + "/"):
            continue
        elif path.is_file() or path.is_symlink():
            entries.append(rel)
    return entries


def tree_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def check_glibc(profile: Profile, needed: tuple[int, ...], strict: bool) -> None:
    if needed <= profile.glibc_min:
        return
    message = (
        f"the binary needs glibc {format_version(needed)} but {profile.values['DISTRO_TITLE']} "
        f"has {format_version(profile.glibc_min)}: build it on the oldest target distro"
    )
    if strict:
        raise ProfileError(message)
    print(f"distpkg: warning: {message}; the package requires glibc >= "
          f"{format_version(needed)}", file=sys.stderr)


def source_date_epoch() -> str:
    """SOURCE_DATE_EPOCH, else the last commit's time: packages of one commit are identical."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    result = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "0"


def build_deb(profile: Profile, staged: Path, version: str, glibc: tuple[int, ...],
              out_dir: Path, maintainer: str) -> Path:
    control_dir = staged / "DEBIAN"
    control_dir.mkdir(exist_ok=True)
    (control_dir / "control").write_text(
        deb_control(profile, version, glibc, tree_size_kib(staged), maintainer)
    )
    target = out_dir / f"{PACKAGE_NAME}_{version}-1_{profile.values['PKG_ARCH']}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(staged), str(target)],
        check=True, env={**os.environ, "SOURCE_DATE_EPOCH": source_date_epoch()},
    )
    shutil.rmtree(control_dir)
    return target


def build_rpm(profile: Profile, staged: Path, version: str, glibc: tuple[int, ...],
              out_dir: Path, program_dir: str) -> Path:
    staged = staged.resolve()
    with tempfile.TemporaryDirectory(prefix="megatest-rpm-") as tmp:
        top = Path(tmp)
        spec = top / f"{PACKAGE_NAME}.spec"
        spec.write_text(rpm_spec(profile, version, glibc, staged, rpm_file_list(staged, program_dir)))
        defines = {
            "_topdir": str(top),
            "_rpmdir": str(top / "RPMS"),
            "_binary_payload": profile.values["RPM_PAYLOAD"],
            "_binary_filedigest_algorithm": profile.values["RPM_FILE_DIGEST"],
            # No stripping, no debuginfo split: the Nuitka binary is shipped as built.
            "__os_install_post": "%{nil}",
            "debug_package": "%{nil}",
            "_build_id_links": "none",
        }
        command = ["rpmbuild", "-bb", "--quiet", "--target", profile.values["PKG_ARCH"]]
        for name, value in defines.items():
            command += ["--define", f"{name} {value}"]
        # rpm >= 4.14 clamps file times and the build time to SOURCE_DATE_EPOCH.
        env = {**os.environ, "SOURCE_DATE_EPOCH": source_date_epoch()}
        command += ["--define", "use_source_date_epoch_as_buildtime 1",
                    "--define", "clamp_mtime_to_source_date_epoch 1"]
        subprocess.run([*command, str(spec)], check=True, env=env)
        built = sorted((top / "RPMS").rglob("*.rpm"))
        if len(built) != 1:
            raise ProfileError(f"rpmbuild produced {len(built)} packages, expected one")
        target = out_dir / built[0].name
        shutil.copyfile(built[0], target)
    return target


def install(args: argparse.Namespace) -> None:
    dest = Path(args.destdir) if args.destdir else Path("/")

    def staged(path: str) -> Path:
        return dest / path.lstrip("/")

    program_dir = args.libdir.rstrip("/") + "/" + PACKAGE_NAME
    target = staged(program_dir)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(args.dist, target, symlinks=True)

    link = staged(args.bindir) / PACKAGE_NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(program_dir + "/" + EXECUTABLE)

    copies = [
        (args.man, staged(args.mandir) / "man1" / "megatest.1.gz"),
        (args.bash_completion, staged(args.bash_completion_dir) / PACKAGE_NAME),
        (args.zsh_completion, staged(args.zsh_completion_dir) / "_megatest"),
    ]
    for source, destination in copies:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        destination.chmod(0o644)
    print(f"installed {program_dir} and {args.bindir}/{PACKAGE_NAME} under {dest}")


def package(args: argparse.Namespace) -> None:
    context = {"PREFIX": args.prefix, "SYSCONFDIR": args.sysconfdir}
    profile = read_profile(Path(args.profile), context)
    staged = Path(args.root)
    program_dir = args.libdir.rstrip("/") + "/" + PACKAGE_NAME
    dist_dir = staged / program_dir.lstrip("/")
    if not dist_dir.is_dir():
        raise ProfileError(f"{dist_dir} is missing: run 'make install DESTDIR={staged}' first")
    glibc = max(glibc_needed(dist_dir), profile.glibc_min)
    check_glibc(profile, glibc, strict=args.strict_glibc)
    version = program_version(Path(args.binary))
    out_dir = Path(args.out)
    if profile.pkg_format == "deb":
        result = build_deb(profile, staged, version, glibc, out_dir, args.maintainer)
    else:
        result = build_rpm(profile, staged, version, glibc, out_dir, program_dir)
    print(f"package: {result} ({result.stat().st_size / 1e6:.1f} MB)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="distpkg.py")
    sub = parser.add_subparsers(dest="command", required=True)

    inst = sub.add_parser("install", help="install the program folder, man page, completions")
    inst.add_argument("--dist", required=True, type=Path)
    inst.add_argument("--destdir", default="")
    for name in ("libdir", "bindir", "mandir", "bash-completion-dir", "zsh-completion-dir"):
        inst.add_argument(f"--{name}", required=True)
    for name in ("man", "bash-completion", "zsh-completion"):
        inst.add_argument(f"--{name}", required=True, type=Path)

    pkg = sub.add_parser("package", help="build the profile's .deb or .rpm from a staged tree")
    pkg.add_argument("--profile", required=True)
    pkg.add_argument("--root", required=True)
    pkg.add_argument("--binary", required=True)
    pkg.add_argument("--out", required=True)
    pkg.add_argument("--prefix", required=True)
    pkg.add_argument("--sysconfdir", required=True)
    pkg.add_argument("--libdir", required=True)
    pkg.add_argument("--maintainer", default=os.environ.get("PKG_MAINTAINER", DEFAULT_MAINTAINER))
    pkg.add_argument("--strict-glibc", action="store_true",
                     default=os.environ.get("STRICT_GLIBC") == "1")

    args = parser.parse_args(argv)
    try:
        install(args) if args.command == "install" else package(args)
    except (ProfileError, subprocess.CalledProcessError, OSError) as exc:
        print(f"distpkg: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
