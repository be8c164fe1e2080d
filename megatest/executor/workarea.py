"""A test's work area: disk choice, run directory, link tree, source copy, removal (§2.2).

Real directory: `<disk>/<target>/<runname>/<test>[/<itempath>]`.
Link tree:      `<linktree>/<target>/<runname>/<test>[/<itempath>]` -> the real directory.
"""

from __future__ import annotations

import errno
import functools
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from megatest.errors import ConfigError, RunFailed
from megatest.executor.deletion import DeletionGuard
from megatest.executor.spawn import LAUNCH_LOG
from megatest.executor.templates import fill_template

DEFAULT_MINSPACE_KB = 10000


class Disk(NamedTuple):
    name: str
    path: str
    free_kb: int


class WorkArea:
    """Where one test runs.

    The paths are kept as the strings they were made from; the Path objects are built on
    first use (most runs only ever need the strings, and a prepared test is pickled from the
    preparer process to the runner).
    """

    __slots__ = ("real_dir_str", "link_path_str", "disk", "_paths")

    def __init__(self, real_dir: str | os.PathLike[str], link_path: str | os.PathLike[str] | None,
                 disk: Disk | None):
        self.real_dir_str = os.fspath(real_dir)  # on the disk (the row's `shortdir`)
        # in the link tree (the row's `rundir`); None without [disks]
        self.link_path_str = os.fspath(link_path) if link_path is not None else None
        self.disk = disk
        self._paths: tuple[Path, Path | None] | None = None

    def _path_objects(self) -> tuple[Path, Path | None]:
        if self._paths is None:
            link = self.link_path_str
            self._paths = (Path(self.real_dir_str), Path(link) if link is not None else None)
        return self._paths

    @property
    def real_dir(self) -> Path:
        return self._path_objects()[0]

    @property
    def link_path(self) -> Path | None:
        return self._path_objects()[1]

    @property
    def run_dir(self) -> Path:
        """The path the test sees as MT_TEST_RUN_DIR: the link when there is one."""
        return self.link_path if self.link_path_str is not None else self.real_dir

    @property
    def run_dir_str(self) -> str:
        """run_dir as a string."""
        link = self.link_path_str
        return link if link is not None else self.real_dir_str

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.real_dir, self.link_path, self.disk) == (other.real_dir, other.link_path, other.disk)

    def __hash__(self) -> int:
        return hash((self.real_dir, self.link_path, self.disk))

    def __repr__(self) -> str:
        return f"WorkArea(real_dir={self.real_dir!r}, link_path={self.link_path!r}, disk={self.disk!r})"

    def __reduce__(self) -> tuple:
        return (WorkArea, (self.real_dir_str, self.link_path_str, self.disk))


def free_space_kb(path: str, free_space_script: str | None = None) -> int:
    """Free space in 1K blocks as `df` reports "Available", or what the user's script prints."""
    if free_space_script:
        proc = subprocess.run(
            [free_space_script, path], stdin=subprocess.DEVNULL, capture_output=True,
            text=True, check=False,
        )
        words = proc.stdout.split()
        try:
            return int(float(words[0]))
        except (IndexError, ValueError):
            raise ConfigError(
                f"[setup] free-space-script {free_space_script} printed {proc.stdout.strip()!r} "
                f"for {path}, not a number"
            ) from None
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize // 1024


def usable_disks(
    disks: Mapping[str, str], free_space_script: str | None = None
) -> tuple[list[Disk], list[str]]:
    """The candidate disks and a warning for each ignored entry (relative, missing, read-only)."""
    found, warnings = [], []
    for name, path in disks.items():
        if not path.startswith("/"):
            warnings.append(f"[disks] {name} {path}: not an absolute path, ignored")
        elif not os.path.isdir(path):
            warnings.append(f"[disks] {name} {path}: not a directory, ignored")
        elif not os.access(path, os.W_OK | os.X_OK):
            warnings.append(f"[disks] {name} {path}: not writable, ignored")
        else:
            found.append(Disk(name, path, free_space_kb(path, free_space_script)))
    return found, warnings


def choose_disk(
    disks: Mapping[str, str],
    *,
    minspace_kb: int = DEFAULT_MINSPACE_KB,
    free_space_script: str | None = None,
) -> Disk:
    """The disk with the most free space, which must have more than `minspace_kb`.

    Pass the testconfig [disks] when it has one, else megatest.config [disks]. No usable disk,
    or too little space on the best one, stops the run (RunFailed: the original exits 1).
    """
    found, warnings = usable_disks(disks, free_space_script)
    if not found:
        detail = "; ".join(warnings) if warnings else "no [disks] entries"
        raise RunFailed(f"no usable disk for the test run directory ({detail})")
    best = max(found, key=lambda d: d.free_kb)  # first listed wins a tie
    if best.free_kb <= minspace_kb:
        raise RunFailed(
            f"best disk {best.name} ({best.path}) has {best.free_kb} KB free, "
            f"[setup] minspace is {minspace_kb}"
        )
    return best


DISK_RECHECK_SECONDS = 10.0


class DiskChooser:
    """choose_disk for many tests of one run: the free space is read again every
    `recheck_seconds`, not for every test (the choice only changes as disks fill up)."""

    def __init__(self, recheck_seconds: float = DISK_RECHECK_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.recheck_seconds = recheck_seconds
        self.clock = clock
        self._chosen: dict[tuple, tuple[Disk, float]] = {}

    def choose(self, disks: Mapping[str, str], *, minspace_kb: int = DEFAULT_MINSPACE_KB,
               free_space_script: str | None = None) -> Disk:
        key = (tuple(disks.items()), minspace_kb, free_space_script)
        now = self.clock()
        hit = self._chosen.get(key)
        if hit is not None and now - hit[1] < self.recheck_seconds:
            return hit[0]
        disk = choose_disk(disks, minspace_kb=minspace_kb, free_space_script=free_space_script)
        self._chosen[key] = (disk, now)  # a failure is not kept: the next test checks again
        return disk


def path_text(path: str) -> str:
    """`str(Path(path))`: the path the run uses in its environment and database rows.

    A path with no empty or `.` component and no trailing slash is returned as it is, without
    building a Path (the usual case: the configured disk and link tree joined with names that
    were checked); anything else goes through Path.
    """
    if (
        "//" in path or "/./" in path or path.endswith(("/", "/.")) or path.startswith("./")
        or path in ("", ".")
    ):
        return str(Path(path))
    return path


def _check_component(kind: str, value: str) -> None:
    if "/" not in value and "\0" not in value and value not in ("", ".", ".."):
        return  # one plain name: the usual case, nothing more to check
    if value in ("", ".", "..") or value.startswith("/") or "\0" in value:
        raise ConfigError(f"{kind} {value!r} cannot be used in a run directory path")
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ConfigError(f"{kind} {value!r} has an empty, '.' or '..' path component")


def relative_test_path(target: str, runname: str, test: str, item_path: str = "") -> Path:
    """`<target>/<runname>/<test>[/<itempath>]`, refusing components that escape the tree."""
    return Path(_relative_test_path(target, runname, test, item_path))


def _relative_test_path(target: str, runname: str, test: str, item_path: str = "") -> str:
    run_part = _run_part(target, runname)
    _check_component("test name", test)
    if item_path:
        _check_component("item path", item_path)
        return f"{run_part}/{test}/{item_path}"
    return f"{run_part}/{test}"


@functools.lru_cache(maxsize=64)
def _run_part(target: str, runname: str) -> str:
    """`<target>/<runname>`, checked once per run (a refused one raises, and is not kept)."""
    _check_component("target", target)
    _check_component("run name", runname)
    return f"{target}/{runname}"


def _make_dir(path: str) -> None:
    """mkdir -p, trying the common case (only the last component is missing) first."""
    try:
        os.mkdir(path)
    except FileExistsError:
        if not os.path.isdir(path):
            raise
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def link_symlink(link: Path | str, dest: Path | str) -> None:
    """Make `link` a symlink to `dest`, replacing an old or dangling link atomically."""
    link_s, dest_s = os.fspath(link), os.fspath(dest)
    try:
        os.symlink(dest_s, link_s)  # the usual case: a new link, made in one call
        return
    except FileNotFoundError:
        os.makedirs(os.path.dirname(link_s), exist_ok=True)
    except OSError as exc:
        # something is there, or the link cannot be made: look at what is there
        try:
            if os.readlink(link_s) == dest_s:
                return  # already right (a rerun of the test)
        except FileNotFoundError:
            if not isinstance(exc, FileExistsError):
                raise exc from None  # nothing there: the link cannot be made (permissions...)
        except OSError:
            pass  # not a link: checked below
    _replace_link(Path(link_s), dest_s)


def _replace_link(link: Path, dest: str) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists() and not link.is_symlink():
        if link.is_dir() and not any(link.iterdir()):
            link.rmdir()  # an empty directory standing where the link goes is replaced
        else:
            raise RunFailed(f"link tree entry {link} exists and is not a symlink")
    tmp = link.with_name(f".{link.name}.mtlink.{os.getpid()}")
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(dest, tmp)
    os.replace(tmp, link)


def create_work_area(
    *,
    target: str,
    runname: str,
    test_name: str,
    item_path: str = "",
    disk: Disk | None,
    linktree: str | None,
    test_src_dir: str,
) -> WorkArea:
    """Create the real run directory and its link-tree entry (no copy; see copy_test_source).

    `disk` None means the area has no [disks]: the test runs in `<test src>/tmp_run`, with no
    link-tree entry (the original warns and does the same).
    """
    if disk is None:
        real = Path(test_src_dir) / "tmp_run"
        real.mkdir(parents=True, exist_ok=True)
        return WorkArea(str(real), None, None)
    rel = _relative_test_path(target, runname, test_name, item_path)
    real_s = f"{disk.path.rstrip('/')}/{rel}"
    _make_dir(real_s)
    if not linktree:
        raise ConfigError("[setup] linktree is not set (and MT_LINKTREE is not in the environment)")
    link_s = f"{linktree.rstrip('/')}/{rel}"
    if item_path:
        # the item link's parent is a real directory inside the link tree
        parent = os.path.dirname(link_s)
        if os.path.islink(parent):
            os.unlink(parent)  # left over from a run of the test before it had items
        _make_dir(parent)
    link_symlink(link_s, real_s)
    return WorkArea(path_text(real_s), path_text(link_s), disk)


def copy_test_source(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    testcopycmd: str | None = None,
    env: Mapping[str, str] | None = None,
    attempts: int = 3,
    copier: SourceCopier | None = None,
) -> None:
    """Copy the test's source directory into the run directory (everything, dot files too).

    With `[setup] testcopycmd`, TEST_SRC_PATH and TEST_TARG_PATH are substituted and the command
    runs through /bin/sh with output appended to mt_launch.log. Failures are retried
    (`attempts` in all, as the original retries work-area creation twice). `copier`: one per
    run keeps the listing of each source directory.
    """
    last_error = ""
    for attempt in range(attempts):
        try:
            if testcopycmd:
                _run_copy_command(testcopycmd, Path(src), Path(dest), env)
            elif copier is not None and attempt == 0:
                copier.copy(os.fspath(src), os.fspath(dest))
            else:
                _copy_tree(Path(src), Path(dest))
            return
        except (OSError, shutil.Error, RunFailed) as exc:
            last_error = str(exc)
            if copier is not None:
                copier.forget(os.fspath(src))
    raise RunFailed(f"could not copy test source {src} to {dest}: {last_error}")


class SourceCopier:
    """`rsync -a src/ dest/` for many tests of a run, with each source listing read once.

    The items of a test (and reruns) copy the same source directory: its listing (names and
    kinds) is kept, the content, modes and times are read at each copy. A destination inside
    its source (the `<src>/tmp_run` case) and anything unexpected at the destination take the
    general path (_copy_tree), as does a copy that failed once.
    """

    def __init__(self) -> None:
        self._listings: dict[str, tuple[list[tuple[str, str]], set[tuple[int, int]], str]] = {}

    def forget(self, src: str) -> None:
        self._listings.pop(src, None)

    def copy(self, src: str, dest: str) -> None:
        known = self._listings.get(src)
        src_st = None  # the source directory's own stat, when the listing has just read it
        if known is None:
            listing, src_dirs, src_st = self._list(src)
            known = self._listings[src] = (listing, src_dirs, os.path.abspath(src).rstrip("/") + "/")
        listing, src_dirs, src_prefix = known
        try:
            st = os.stat(dest)  # the usual case: the run directory was just made
        except FileNotFoundError:
            _make_dir(dest)
            st = os.stat(dest)
        else:
            if not stat.S_ISDIR(st.st_mode):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dest)
        if (st.st_dev, st.st_ino) in src_dirs or os.path.abspath(dest).startswith(src_prefix):
            _copy_tree(Path(src), Path(dest))  # inside its own source: skip it there
            return
        dirs: list[str] = []
        for kind, rel in listing:
            s_path, d_path = f"{src}/{rel}", f"{dest}/{rel}"
            if kind == "f":
                _copy_file(s_path, d_path)
            elif kind == "d":
                try:
                    os.mkdir(d_path)
                except FileExistsError:
                    if os.path.islink(d_path) or not os.path.isdir(d_path):
                        raise  # something else is in the way: the general path replaces it
                dirs.append(rel)
            else:
                _copy_link(s_path, d_path)
        # directory modes and times last, deepest first (writing into them changes them)
        for rel in reversed(dirs):
            _copy_dir_stat(f"{src}/{rel}", f"{dest}/{rel}")
        if src_st is None:
            src_st = os.stat(src)
        mode = stat.S_IMODE(src_st.st_mode)
        if mode != stat.S_IMODE(st.st_mode):
            # an equal mode needs no chmod: utime below changes the ctime all the same
            os.chmod(dest, mode)
        os.utime(dest, ns=(src_st.st_atime_ns, src_st.st_mtime_ns))

    @staticmethod
    def _list(src: str) -> tuple[list[tuple[str, str]], set[tuple[int, int]], os.stat_result]:
        """(kind, relative path) of everything under src, parents before children; the
        (device, inode) of src and its real subdirectories (a destination among them lies
        inside the source); and src's own stat, read after its listing (reading a directory
        can change its access time), which a copy made right away uses for src's mode and times
        as it would read them after copying the files."""
        out: list[tuple[str, str]] = []
        dirs: set[tuple[int, int]] = set()
        pending = [""]
        while pending:
            rel_dir = pending.pop()
            with os.scandir(f"{src}/{rel_dir}" if rel_dir else src) as entries:
                for entry in entries:
                    rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                    if entry.is_symlink():
                        out.append(("l", rel))
                    elif entry.is_dir():
                        out.append(("d", rel))
                        pending.append(rel)
                        dst = entry.stat()
                        dirs.add((dst.st_dev, dst.st_ino))
                    else:
                        out.append(("f", rel))
        st = os.stat(src)
        dirs.add((st.st_dev, st.st_ino))
        return out, dirs, st


def _copy_file(src: str, dest: str) -> None:
    """Content, mode and times of one regular file; an existing link or dir is replaced."""
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        st = os.fstat(fin)
        try:
            fout = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW,
                           0o600)
        except OSError:
            _remove_path(Path(dest))  # a link (O_NOFOLLOW) or a directory is in the way
            fout = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            offset, size = 0, st.st_size
            while True:
                count = max(size - offset, 1 << 20)
                sent = os.sendfile(fout, fin, offset, count)
                if not sent:
                    break
                offset += sent
                if offset == size and sent < count:
                    break  # all fstat saw, and the file ended before `count`: no need to ask again
            os.fchmod(fout, stat.S_IMODE(st.st_mode))
            os.utime(fout, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _copy_link(src: str, dest: str) -> None:
    target = os.readlink(src)
    try:
        os.symlink(target, dest)
    except FileExistsError:
        _remove_path(Path(dest))
        os.symlink(target, dest)


def _copy_dir_stat(src: str, dest: str) -> None:
    st = os.stat(src)
    os.chmod(dest, stat.S_IMODE(st.st_mode))
    os.utime(dest, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_tree(src: Path, dest: Path) -> None:
    """Like `rsync -a src/ dest/`: symlinks kept as links, modes and times kept, nothing skipped,
    existing files and links overwritten.

    The one exclusion: when the destination lies inside the source (the `<src>/tmp_run` case)
    it is not copied into itself.
    """
    if not src.is_dir():
        raise RunFailed(f"test source directory {src} does not exist")
    skip = dest.resolve() if dest.exists() else dest.absolute()
    _copy_dir(src, dest, skip)


def _copy_dir(src: Path, dest: Path, skip: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with os.scandir(src) as entries:
        for entry in entries:
            target = dest / entry.name
            if entry.is_symlink():
                if target.is_symlink() or target.exists():
                    _remove_path(target)
                os.symlink(os.readlink(entry.path), target)
            elif entry.is_dir():
                if Path(entry.path).resolve() == skip:
                    continue
                if target.is_symlink() or (target.exists() and not target.is_dir()):
                    _remove_path(target)
                _copy_dir(Path(entry.path), target, skip)
            else:
                if target.is_symlink() or target.is_dir():
                    _remove_path(target)
                shutil.copy2(entry.path, target)
    shutil.copystat(src, dest)


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _run_copy_command(template: str, src: Path, dest: Path, env: Mapping[str, str] | None) -> None:
    """Run `[setup] testcopycmd` with the paths passed as data (they hold the target, the
    run name and item values): see megatest.executor.templates. The log line and the error
    show the equivalent command with the paths quoted."""
    cmd = fill_template(template, {"TEST_SRC_PATH": str(src), "TEST_TARG_PATH": str(dest)})
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / LAUNCH_LOG, "ab") as log:
        log.write(f"TESTCOPYCMD: {cmd.display}\n".encode())
        log.flush()
        proc = subprocess.run(
            cmd.argv, cwd=dest, env=cmd.environ(env),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False,
        )
    if proc.returncode != 0:
        raise RunFailed(f"testcopycmd exited {proc.returncode}: {cmd.display}")


def _make_writable(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | stat.S_IRWXU)
    os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU)


def remove_work_area(real_dir: str | os.PathLike[str] | None,
                     link_path: str | os.PathLike[str] | None, *, guard: DeletionGuard) -> None:
    """Delete a test's real directory (retrying after making it writable) and its link.

    Used by -preclean and by remove. Only the real directory named is removed; a link is
    unlinked, never followed. Both must lie inside `guard`'s roots (UnsafeDeletion, and
    nothing deleted, otherwise).
    """
    real = Path(real_dir) if real_dir is not None else None
    link = Path(link_path) if link_path is not None else None
    if real is not None and (real.is_symlink() or real.exists()):
        guard.check(real, follow=not real.is_symlink())
    if link is not None and (link.is_symlink() or link.is_dir()):
        guard.check(link, follow=False)
    if real is not None:
        if real.is_symlink():
            real.unlink()
        elif real.exists():
            try:
                shutil.rmtree(real)
            except OSError:
                _make_writable(real)
                shutil.rmtree(real)
    if link is not None:
        if link.is_symlink():
            link.unlink()
        elif link.is_dir() and not any(link.iterdir()):
            link.rmdir()  # an itemized test's (now empty) link-tree directory
