"""The documentation files a package carries besides the program: the Debian copyright file,
the changelogs (deb file, rpm %changelog section) and the lintian overrides, each with the
reason it exists. Dates come from SOURCE_DATE_EPOCH, so packages of one commit are identical.
"""

from __future__ import annotations

import gzip
import time

PACKAGE_NAME = "megatest"
DEB_REVISION = "1"  # the Debian revision of every build: version-1
HOMEPAGE = "https://www.kiatoa.com/fossils/megatest"
# What the program folder carries besides megatest, and under which licences (for the
# copyright file: a standalone build ships them all).
BUNDLED = (
    "CPython 3.11 and its extension modules (PSF-2.0), SQLite (public domain), "
    "bzip2 (bzip2-1.0.6), liblzma (public domain, 0BSD), libffi (MIT), libuuid (BSD-3-clause), "
    "expat (MIT), SQLAlchemy, Alembic, Mako, MarkupSafe, Typer, Click, shellingham "
    "and typing_extensions (MIT, BSD-3-clause, ISC, PSF-2.0)"
)
GPL3_NOTICE = """\
This program is free software: you can redistribute it and/or modify
it under the terms of the GNU General Public License as published by
the Free Software Foundation, either version 3 of the License, or
(at your option) any later version.

This program is distributed in the hope that it will be useful,
but WITHOUT ANY WARRANTY; without even the implied warranty of
MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
GNU General Public License for more details."""
def lintian_overrides(program_dir: str) -> str:
    """The lintian tags that describe what a standalone build is, each with its reason."""
    folder = program_dir.strip("/")
    return (
        "# The program folder is a standalone build: its own Python, with the libraries\n"
        "# Python's bz2 and xml modules were built with, so it needs nothing but libc and zlib.\n"
        f"embedded-library bzip2 [{folder}/libbz2.so.1.0]\n"
        f"embedded-library expat [{folder}/pyexpat.so]\n"
        "# Python extension modules take Python's and libc's symbols from the running\n"
        "# interpreter (the program itself), as every CPython extension does; they are not\n"
        "# libraries for other programs to link.\n"
        f"shared-library-lacks-prerequisites [{folder}/*.so]\n"
        f"library-not-linked-against-libc [{folder}/*.so]\n"
        "# Built outside the Debian archive: there is no bug to close.\n"
        "initial-upload-closes-no-bugs\n"
    )


def _year(epoch: int) -> str:
    return time.strftime("%Y", time.gmtime(epoch))


def deb_copyright(epoch: int) -> str:
    """debian/copyright in the machine-readable format, pointing at the GPL on the system."""
    notice = "\n".join(f" {line}" if line else " ." for line in GPL3_NOTICE.splitlines())
    return (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        f"Upstream-Name: {PACKAGE_NAME}\n"
        f"Source: {HOMEPAGE}\n"
        f"Comment: This standalone build also carries {BUNDLED}.\n"
        "\n"
        "Files: *\n"
        f"Copyright: {_year(epoch)} The megatest authors\n"
        "License: GPL-3+\n"
        "\n"
        "License: GPL-3+\n"
        f"{notice}\n"
        " .\n"
        " On Debian systems, the complete text of the GNU General Public License\n"
        ' version 3 can be found in "/usr/share/common-licenses/GPL-3".\n'
    )


def deb_changelog(version: str, distro_title: str, maintainer: str, epoch: int) -> bytes:
    """changelog.Debian.gz: one entry for this build, compressed reproducibly."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(epoch))
    text = (
        f"{PACKAGE_NAME} ({version}-{DEB_REVISION}) unstable; urgency=medium\n\n"
        f"  * Standalone build of megatest {version} for {distro_title}.\n\n"
        f" -- {maintainer}  {date}\n"
    )
    return gzip.compress(text.encode(), compresslevel=9, mtime=0)


def rpm_changelog(version: str, release: str, distro_title: str, packager: str,
                  epoch: int) -> list[str]:
    """The spec's %changelog section: one entry for this build."""
    date = time.strftime("%a %b %d %Y", time.gmtime(epoch))
    return ["%changelog", f"* {date} {packager} - {version}-{release}",
            f"- Standalone build of megatest {version} for {distro_title}."]
