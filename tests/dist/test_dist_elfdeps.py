"""elfdeps: the glibc a program folder needs and the system libraries it links, via objdump."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DYNAMIC_SYMBOLS = """
megatest.bin:     file format elf64-x86-64

DYNAMIC SYMBOL TABLE:
0000000000000000      DF *UND*	0000000000000000 (GLIBC_2.2.5) free
0000000000000000      DF *UND*	0000000000000000 (GLIBC_2.35) hypot
0000000000000000      DF *UND*	0000000000000000  GLIBC_2.34  __libc_start_main
0000000000000000  w   D  *UND*	0000000000000000  Base        __gmon_start__
00000000004d2f40 g    DF .text	0000000000000024  GLIBC_2.99  defined_here_not_needed
"""

PRIVATE_HEADERS = """
Dynamic Section:
  NEEDED               libz.so.1
  NEEDED               libsqlite3.so.0
  NEEDED               libc.so.6
  RUNPATH              $ORIGIN
"""


def test_glibc_symbols_are_the_undefined_versioned_ones(elfdeps):
    assert elfdeps.glibc_symbols(DYNAMIC_SYMBOLS) == [
        ((2, 2, 5), "free"), ((2, 35), "hypot"), ((2, 34), "__libc_start_main")]


def test_needed_libraries(elfdeps):
    assert elfdeps.needed_libraries(PRIVATE_HEADERS) == ["libz.so.1", "libsqlite3.so.0",
                                                         "libc.so.6"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A program folder made of real ELF files: a system program and a "bundled" library."""
    if shutil.which("objdump") is None:
        pytest.skip("objdump (binutils) is not installed")
    shutil.copy("/bin/ls", tmp_path / "prog.bin")
    (tmp_path / "notes.txt").write_text("GLIBC_2.99 in a text file does not count")
    return tmp_path


def test_newest_glibc_names_the_symbol_and_file(elfdeps, folder):
    need = elfdeps.newest_glibc(folder)
    assert need is not None and need.file == "prog.bin"
    assert need.version >= (2, 2, 5)
    assert need.describe().startswith(f"GLIBC_{'.'.join(map(str, need.version))} (")


def test_libraries_the_folder_carries_are_not_system_libraries(elfdeps, folder):
    linked = elfdeps.system_libraries(folder)
    assert "libc.so.6" in linked
    other = next(name for name in linked if name != "libc.so.6")
    shutil.copy("/bin/ls", folder / other)  # now the folder carries it
    assert other not in elfdeps.system_libraries(folder)


def test_a_file_objdump_cannot_read_is_one_clear_error(elfdeps, tmp_path):
    (tmp_path / "broken.so").write_bytes(b"\x7fELF" + b"\0" * 8)
    with pytest.raises(elfdeps.ElfError, match="broken.so"):
        elfdeps.newest_glibc(tmp_path)
