"""What the program folder needs from the system it is installed on, read with objdump:

- the newest glibc symbol version any of its ELF files asks for (`objdump -T`), and which
  symbol of which file asks for it, so a refusal can say what to look at;
- the shared libraries its ELF files link (`objdump -p` NEEDED) that the folder does not
  carry itself: the package's library dependencies, nothing more.

Only the standard library is used (a build tool, run before anything else is installed).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The libraries glibc itself provides: one package (libc6, glibc) brings them all.
GLIBC_SONAMES = frozenset({
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libutil.so.1",
    "libresolv.so.2", "libanl.so.1", "ld-linux-x86-64.so.2",
})
# `objdump -T`: an undefined dynamic symbol with the version it needs, e.g.
#   0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.35) hypot
# (older binutils print the version without parentheses).
_UNDEFINED_GLIBC = re.compile(r"\*UND\*\s+\S+\s+\(?GLIBC_(\d+(?:\.\d+)+)\)?\s+(\S+)")
_NEEDED = re.compile(r"^\s*NEEDED\s+(\S+)\s*$", re.M)


class ElfError(Exception):
    """objdump could not read a file of the program folder."""


@dataclass(frozen=True)
class GlibcNeed:
    """The newest glibc version the folder needs, and one symbol (in one file) that needs it."""

    version: tuple[int, ...]
    symbol: str
    file: str

    def describe(self) -> str:
        dotted = ".".join(str(part) for part in self.version)
        return f"GLIBC_{dotted} ({self.symbol} in {self.file})"


def elf_files(root: Path) -> list[Path]:
    """The regular files under root that are ELF objects, in a stable order."""
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def objdump(tool: str, flag: str, path: Path) -> str:
    try:
        result = subprocess.run([tool, flag, str(path)], capture_output=True, text=True)
    except OSError as exc:
        raise ElfError(f"cannot run {tool}: {exc.strerror}") from exc
    if result.returncode != 0:
        raise ElfError(f"{tool} {flag} {path}: {result.stderr.strip() or 'failed'}")
    return result.stdout


def glibc_symbols(dynamic_symbols: str) -> list[tuple[tuple[int, ...], str]]:
    """(version, symbol) of every glibc-versioned undefined symbol in `objdump -T` output."""
    return [(tuple(int(part) for part in version.split(".")), symbol)
            for version, symbol in _UNDEFINED_GLIBC.findall(dynamic_symbols)]


def needed_libraries(private_headers: str) -> list[str]:
    """The NEEDED entries of `objdump -p` output."""
    return _NEEDED.findall(private_headers)


def newest_glibc(root: Path, tool: str = "objdump") -> GlibcNeed | None:
    """The newest glibc version that any ELF file under root needs (None: no glibc symbol)."""
    newest: GlibcNeed | None = None
    for path in elf_files(root):
        for version, symbol in glibc_symbols(objdump(tool, "-T", path)):
            if newest is None or version > newest.version:
                newest = GlibcNeed(version, symbol, path.relative_to(root).as_posix())
    return newest


def system_libraries(root: Path, tool: str = "objdump") -> list[str]:
    """The libraries the folder's ELF files link and the folder does not carry, sorted."""
    files = elf_files(root)
    bundled = {path.name for path in files}
    needed = {name for path in files for name in needed_libraries(objdump(tool, "-p", path))}
    return sorted(needed - bundled)
