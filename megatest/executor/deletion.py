"""Where megatest may delete: inside the area's disks, its link tree and its `.db`, nowhere else.

Every deletion of a work area (`runs remove`, `--preclean`) asks a DeletionGuard first. The
path is resolved (symlinks followed, `..` folded) and must lie strictly inside one of the
guard's roots; a root itself, or anything outside, is refused with an UnsafeDeletion naming
the path, and nothing is deleted. A row's recorded directory is data that a damaged db, an
old tool or a bad run name can make point anywhere, so it is never trusted on its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from megatest.errors import MegatestError

# What a test row holds when the test never got a run directory: the original's schema
# default and its "not applicable".
NO_DIRECTORY = frozenset({"", "n/a", "/tmp/badname"})


class UnsafeDeletion(MegatestError):
    """A deletion outside the area's own folders was asked for and refused."""


def recorded_dir(value: str | None) -> str | None:
    """A test row's rundir/shortdir, or None when the test never had one."""
    return None if value is None or value in NO_DIRECTORY else value


class DeletionGuard:
    """The folders deletions must stay inside."""

    def __init__(self, roots: Iterable[str | os.PathLike[str]],
                 owned: Iterable[str | os.PathLike[str]] = ()):
        """`roots`: folders whose contents may go (a disk, the link tree); `owned`: folders
        that may go whole themselves (a test's `tmp_run` where the area has no disks)."""
        self.roots = tuple(sorted({Path(os.path.realpath(r)) for r in roots if r}))
        self.owned = frozenset(Path(os.path.realpath(r)) for r in owned if r)

    def check(self, path: str | os.PathLike[str], *, follow: bool = True) -> Path:
        """`path` resolved, when it lies strictly inside a root; else UnsafeDeletion.

        `follow=False` for a symlink that is to be unlinked itself: its own place counts
        (its folder resolved), not what it points to."""
        raw = Path(path)
        if follow:
            resolved = Path(os.path.realpath(raw))
        else:
            resolved = Path(os.path.realpath(raw.parent)) / raw.name
        for root in self.roots:
            if resolved != root and resolved.is_relative_to(root):
                return resolved
        if any(resolved.is_relative_to(own) for own in self.owned):
            return resolved
        where = ", ".join(str(r) for r in (*self.roots, *sorted(self.owned))) or "none configured"
        raise UnsafeDeletion(
            f"refused to delete {path}: not inside the area's disks, link tree or .db ({where})"
        )
