"""Install the standalone program and wrap it into a .deb or .rpm, driven by a distro profile.

    distpkg.py install --dist DIR --destdir D --libdir L --bindir B --mandir M --man F ...
    distpkg.py package --profile distro/X.mk --root STAGED_TREE --binary build/megatest --out DIR

A profile (distro/<name>.mk) is a small make fragment of `NAME := value` lines; `read_profile`
reads it the way make would for these simple assignments, so the Makefile and this script agree.
The package's dependencies are what the program folder links and does not carry (elfdeps.py),
its documents are in pkgdocs.py. `package` refuses a binary that needs a newer glibc than the
profile's oldest target has.
Only the standard library is used: this runs on build hosts before anything else is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import elfdeps
import pkgdocs

PACKAGE_NAME = pkgdocs.PACKAGE_NAME
# The executable inside the program folder; `megatest/` beside it holds the package's data.
EXECUTABLE = "megatest.bin"
# (rpmlint: the summary does not repeat the package name)
SUMMARY = "Regression-test orchestration harness, compatible with existing test areas"
DESCRIPTION = (
    "megatest runs, tracks and reports regression tests described by Megatest areas.\n"
    "This package is a standalone build: it carries its own Python interpreter and\n"
    "libraries, so nodes need no Python packages installed."
)
DEFAULT_MAINTAINER = "Megatest packagers <megatest@localhost.localdomain>"

COMMON_FIELDS = (
    "DISTRO_TITLE",
    "PKG_FORMAT",
    "PKG_PREFIX",
    "PKG_ARCH",
    "PKG_REQUIRES",
    "PKG_RECOMMENDS",
    "PKG_SUGGESTS",
    "PKG_GLIBC_MIN",
    "PKG_BASH_COMPLETION_DIR",
    "PKG_ZSH_COMPLETION_DIR",
    "NUITKA_DISTRO_FLAGS",
)
DEB_FIELDS = ("PKG_LIBRARIES",)
RPM_FIELDS = ("RPM_PAYLOAD", "RPM_FILE_DIGEST", "RPM_GROUP", "RPM_LICENSE")

_ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)\s*:?=\s*(.*?)\s*$")
_REFERENCE = re.compile(r"\$\(([A-Z][A-Z0-9_]*)\)")


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
    def suggests(self) -> list[str]:
        return self.values["PKG_SUGGESTS"].split()

    @property
    def glibc_min(self) -> tuple[int, ...]:
        """The oldest glibc of the profile's targets; `host`: the build host's."""
        value = self.values["PKG_GLIBC_MIN"]
        return host_glibc() if value == "host" else parse_version(value)

    @property
    def library_packages(self) -> dict[str, str]:
        """deb profiles: soname -> the package that provides it (`libz.so.1=zlib1g ...`)."""
        pairs = (item.partition("=") for item in self.values.get("PKG_LIBRARIES", "").split())
        return {soname: package for soname, _, package in pairs}


def host_glibc() -> tuple[int, ...]:
    """The build host's glibc version (`glibc 2.36` -> (2, 36))."""
    return parse_version(os.confstr("CS_GNU_LIBC_VERSION").split()[-1])


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
    fields = COMMON_FIELDS + (RPM_FIELDS if profile.values.get("PKG_FORMAT") == "rpm" else DEB_FIELDS)
    missing = [field for field in fields if field not in profile.values]
    if missing:
        raise ProfileError(f"{path}: missing {', '.join(missing)}")
    if profile.pkg_format not in ("deb", "rpm"):
        raise ProfileError(f"{path}: PKG_FORMAT must be deb or rpm, not {profile.pkg_format!r}")
    if not profile.values["PKG_PREFIX"].startswith("/"):
        raise ProfileError(f"{path}: PKG_PREFIX must be an absolute path")
    if profile.values["PKG_GLIBC_MIN"] != "host":
        parse_version(profile.values["PKG_GLIBC_MIN"])
    for item in profile.values.get("PKG_LIBRARIES", "").split():
        if not re.fullmatch(r"[^=\s]+\.so[.\d]*=[a-z0-9][a-z0-9+.-]*", item):
            raise ProfileError(f"{path}: PKG_LIBRARIES entries read SONAME=PACKAGE, not {item!r}")


def deb_dependencies(profile: Profile, glibc: tuple[int, ...], libraries: list[str]) -> list[str]:
    """Depends: the profile's own list, libc6 at the version the binary needs, and the package
    of every other system library the binary links (from the profile's PKG_LIBRARIES)."""
    depends = [*profile.requires, f"libc6 (>= {format_version(glibc)})"]
    known = profile.library_packages
    for soname in libraries:
        if soname in elfdeps.GLIBC_SONAMES:
            continue
        if soname not in known:
            raise ProfileError(
                f"the binary links {soname}, which distro/{profile.name}.mk does not map to a "
                f"package: add '{soname}=PACKAGE' to its PKG_LIBRARIES")
        if known[soname] not in depends:
            depends.append(known[soname])
    return depends


def rpm_requirements(profile: Profile, glibc: tuple[int, ...], libraries: list[str]) -> list[str]:
    """Requires: the profile's own list, glibc at the version the binary needs, and every other
    system library by its soname (`libz.so.1()(64bit)`, as rpm's own dependency scan writes
    it), so each distro's package that provides it satisfies it whatever its name."""
    suffix = "()(64bit)" if profile.values["PKG_ARCH"] == "x86_64" else ""
    return [*profile.requires, f"glibc >= {format_version(glibc)}",
            *(f"{soname}{suffix}" for soname in libraries if soname not in elfdeps.GLIBC_SONAMES)]


def deb_control(
    profile: Profile, version: str, depends: list[str], installed_kib: int, maintainer: str
) -> str:
    lines = [
        f"Package: {PACKAGE_NAME}",
        f"Version: {version}-{pkgdocs.DEB_REVISION}",
        f"Architecture: {profile.values['PKG_ARCH']}",
        f"Maintainer: {maintainer}",
        f"Installed-Size: {installed_kib}",
        f"Depends: {', '.join(depends)}",
    ]
    if profile.recommends:
        lines.append(f"Recommends: {', '.join(profile.recommends)}")
    if profile.suggests:
        lines.append(f"Suggests: {', '.join(profile.suggests)}")
    lines += [
        "Section: devel",
        "Priority: optional",
        f"Homepage: {pkgdocs.HOMEPAGE}",
        f"Description: {SUMMARY}",
        *(f" {line}" if line else " ." for line in DESCRIPTION.splitlines()),
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Build:
    """What one package is made of besides its files: version, who, when, what it needs."""

    version: str
    maintainer: str
    epoch: int
    glibc: tuple[int, ...]
    libraries: list[str]


def rpm_spec(profile: Profile, build: Build, staged: Path, files: list[str]) -> str:
    """A spec that repackages the already-installed tree `staged`; `files` are its top paths."""
    release = f"1.{profile.name}"
    lines = [
        f"Name: {PACKAGE_NAME}",
        f"Version: {build.version}",
        f"Release: {release}",
        f"Summary: {SUMMARY}",
        f"License: {profile.values['RPM_LICENSE']}",
        f"Group: {profile.values['RPM_GROUP']}",
        f"URL: {pkgdocs.HOMEPAGE}",
        f"Packager: {build.maintainer}",
        # The program folder carries its own libraries: scanning them would make the package
        # "provide" libpython/libssl and require whatever they link to. Requirements are the
        # ones rpm_requirements finds, nothing else.
        "AutoReqProv: no",
        *(f"Requires: {name}" for name in rpm_requirements(profile, build.glibc, build.libraries)),
        # rpm < 4.12 (RHEL 7, SLES 12) ignores weak dependencies; zypper and dnf read them.
        *(f"Recommends: {name}" for name in profile.recommends),
        *(f"Suggests: {name}" for name in profile.suggests),
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
        *pkgdocs.rpm_changelog(build.version, release, profile.values["DISTRO_TITLE"],
                               build.maintainer, build.epoch),
        "",
    ]
    return "\n".join(lines)


def program_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.split()[-1]


def rpm_file_list(staged: Path, program_dir: str, license_file: str = "") -> list[str]:
    """Top-level entries of the staged tree as %files lines: the program folder as one entry,
    files under /etc as %config(noreplace) (an admin's edits survive an upgrade), the licence
    as %license."""
    entries: list[str] = []
    for path in sorted(staged.rglob("*")):
        rel = "/" + path.relative_to(staged).as_posix()
        if rel == program_dir:
            entries.append(rel)
        elif rel.startswith(program_dir + "/"):
            continue
        elif path.is_file() or path.is_symlink():
            if rel.startswith("/etc/"):
                entries.append(f"%config(noreplace) {rel}")
            elif rel == license_file:
                entries.append(f"%license {rel}")
            else:
                entries.append(rel)
    return entries


def deb_conffiles(staged: Path) -> list[str]:
    """Files under /etc: dpkg keeps an admin's edits to them across upgrades."""
    etc = staged / "etc"
    if not etc.is_dir():
        return []
    return ["/" + p.relative_to(staged).as_posix() for p in sorted(etc.rglob("*")) if p.is_file()]


def tree_size_kib(root: Path) -> int:
    total = sum(p.lstat().st_size for p in root.rglob("*") if p.is_file() or p.is_symlink())
    return (total + 1023) // 1024


def check_glibc(profile: Profile, need: elfdeps.GlibcNeed | None) -> tuple[int, ...]:
    """Print the glibc the binary needs against the profile's floor; refuse one above it.
    Returns the version the package requires."""
    floor = profile.glibc_min
    title = profile.values["DISTRO_TITLE"]
    needed = need.version if need else floor
    print(f"glibc: the binary needs {need.describe() if need else 'no versioned symbol'}; "
          f"{title}'s floor is {format_version(floor)}")
    if needed > floor:
        raise ProfileError(
            f"refusing the {profile.name} package: the binary needs glibc "
            f"{format_version(needed)} but {title} has {format_version(floor)}, so it would "
            f"not start there; build it on {title} itself (a host or container with Python "
            f"3.11, gcc, patchelf): ./configure --profile {profile.name} && make package")
    return needed


def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH, else the last commit's time: packages of one commit are identical."""
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return int(os.environ["SOURCE_DATE_EPOCH"])
    result = subprocess.run(["git", "log", "-1", "--format=%ct"], capture_output=True, text=True)
    text = result.stdout.strip()
    return int(text) if result.returncode == 0 and text.isdigit() else 0


def stage_deb_documents(profile: Profile, staged: Path, build: Build, prefix: str,
                        program_dir: str) -> None:
    """copyright, changelog.Debian.gz and the lintian overrides, where Debian policy puts them."""
    share = staged / prefix.lstrip("/") / "share"
    doc = share / "doc" / PACKAGE_NAME
    doc.mkdir(parents=True, exist_ok=True)
    (doc / "copyright").write_text(pkgdocs.deb_copyright(build.epoch))
    (doc / "changelog.Debian.gz").write_bytes(pkgdocs.deb_changelog(
        build.version, profile.values["DISTRO_TITLE"], build.maintainer, build.epoch))
    overrides = share / "lintian" / "overrides"
    overrides.mkdir(parents=True, exist_ok=True)
    (overrides / PACKAGE_NAME).write_text(pkgdocs.lintian_overrides(program_dir))


def deb_md5sums(staged: Path) -> str:
    """DEBIAN/md5sums: what `dpkg --verify` and debsums check an installed file against."""
    lines = []
    for path in sorted(staged.rglob("*")):
        rel = path.relative_to(staged).as_posix()
        if path.is_file() and not path.is_symlink() and not rel.startswith("DEBIAN/"):
            lines.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {rel}\n")
    return "".join(lines)


def build_deb(profile: Profile, staged: Path, build: Build, out_dir: Path) -> Path:
    control_dir = staged / "DEBIAN"
    control_dir.mkdir(exist_ok=True)
    depends = deb_dependencies(profile, build.glibc, build.libraries)
    (control_dir / "control").write_text(
        deb_control(profile, build.version, depends, tree_size_kib(staged), build.maintainer)
    )
    (control_dir / "md5sums").write_text(deb_md5sums(staged))
    conffiles = deb_conffiles(staged)
    if conffiles:
        (control_dir / "conffiles").write_text("".join(f"{name}\n" for name in conffiles))
    target = out_dir / f"{PACKAGE_NAME}_{build.version}-{pkgdocs.DEB_REVISION}_{profile.values['PKG_ARCH']}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(staged), str(target)],
        check=True, env={**os.environ, "SOURCE_DATE_EPOCH": str(build.epoch)},
    )
    shutil.rmtree(control_dir)
    return target


def stage_rpm_license(staged: Path, prefix: str) -> str:
    """The licence text, where RHEL and SLES keep licences; returns its installed path."""
    installed = f"{prefix.rstrip('/')}/share/licenses/{PACKAGE_NAME}/COPYING"
    target = staged / installed.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__).resolve().parents[2] / "COPYING", target)
    target.chmod(0o644)
    return installed


def build_rpm(profile: Profile, staged: Path, build: Build, out_dir: Path,
              program_dir: str, license_file: str) -> Path:
    staged = staged.resolve()
    with tempfile.TemporaryDirectory(prefix="megatest-rpm-") as tmp:
        top = Path(tmp)
        spec = top / f"{PACKAGE_NAME}.spec"
        spec.write_text(rpm_spec(profile, build, staged,
                                 rpm_file_list(staged, program_dir, license_file)))
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
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(build.epoch)}
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
    # Byte-code caches are not shipped: written at build time, their mtimes would differ from
    # package to package, and the program never reads them (its modules are inside it).
    shutil.copytree(args.dist, target, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    link = staged(args.bindir) / PACKAGE_NAME
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        link.unlink()
    # relative, so the tree works wherever DESTDIR puts it (and as lintian/rpmlint ask)
    link.symlink_to(os.path.relpath(program_dir + "/" + EXECUTABLE, args.bindir))

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
    glibc = check_glibc(profile, elfdeps.newest_glibc(dist_dir, args.objdump))
    build = Build(version=program_version(Path(args.binary)), maintainer=args.maintainer,
                  epoch=source_date_epoch(), glibc=glibc,
                  libraries=elfdeps.system_libraries(dist_dir, args.objdump))
    print(f"system libraries: {', '.join(build.libraries) or 'none'}")
    out_dir = Path(args.out)
    if profile.pkg_format == "deb":
        stage_deb_documents(profile, staged, build, args.prefix, program_dir)
        result = build_deb(profile, staged, build, out_dir)
    else:
        license_file = stage_rpm_license(staged, args.prefix)
        result = build_rpm(profile, staged, build, out_dir, program_dir, license_file)
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
    pkg.add_argument("--maintainer", default=DEFAULT_MAINTAINER)
    pkg.add_argument("--objdump", default="objdump")

    args = parser.parse_args(argv)
    try:
        install(args) if args.command == "install" else package(args)
    except (ProfileError, elfdeps.ElfError, subprocess.CalledProcessError, OSError) as exc:
        print(f"distpkg: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
