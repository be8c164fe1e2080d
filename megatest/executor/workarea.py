"""A test's work area: disk choice, run directory, link tree, source copy, removal (§2.2).

Real directory: `<disk>/<target>/<runname>/<test>[/<itempath>]`.
Link tree:      `<linktree>/<target>/<runname>/<test>[/<itempath>]` -> the real directory.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from megatest.errors import ConfigError, RunFailed

DEFAULT_MINSPACE_KB = 10000
LAUNCH_LOG = "mt_launch.log"


@dataclass(frozen=True)
class Disk:
    name: str
    path: str
    free_kb: int


@dataclass(frozen=True)
class WorkArea:
    """Where one test runs."""

    real_dir: Path  # on the disk (the row's `shortdir`)
    link_path: Path | None  # in the link tree (the row's `rundir`); None without [disks]
    disk: Disk | None

    @property
    def run_dir(self) -> Path:
        """The path the test sees as MT_TEST_RUN_DIR: the link when there is one."""
        return self.link_path if self.link_path is not None else self.real_dir


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


def _check_component(kind: str, value: str) -> None:
    if value in ("", ".", "..") or value.startswith("/") or "\0" in value:
        raise ConfigError(f"{kind} {value!r} cannot be used in a run directory path")
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ConfigError(f"{kind} {value!r} has an empty, '.' or '..' path component")


def relative_test_path(target: str, runname: str, test: str, item_path: str = "") -> Path:
    """`<target>/<runname>/<test>[/<itempath>]`, refusing components that escape the tree."""
    _check_component("target", target)
    _check_component("run name", runname)
    _check_component("test name", test)
    parts = [target, runname, test]
    if item_path:
        _check_component("item path", item_path)
        parts.append(item_path)
    return Path(*parts)


def link_symlink(link: Path, dest: Path) -> None:
    """Make `link` a symlink to `dest`, replacing an old or dangling link atomically."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and os.readlink(link) == str(dest):
        return
    if link.exists() and not link.is_symlink():
        if link.is_dir() and not any(link.iterdir()):
            link.rmdir()  # an empty placeholder directory may become the link
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
        return WorkArea(real, None, None)
    rel = relative_test_path(target, runname, test_name, item_path)
    real = Path(disk.path) / rel
    real.mkdir(parents=True, exist_ok=True)
    if not linktree:
        raise ConfigError("[setup] linktree is not set (and MT_LINKTREE is not in the environment)")
    link = Path(linktree) / rel
    if item_path:
        # the item link's parent is a real directory inside the link tree
        if link.parent.is_symlink():
            link.parent.unlink()  # left over from a run of the test before it had items
        link.parent.mkdir(parents=True, exist_ok=True)
    link_symlink(link, real)
    return WorkArea(real, link, disk)


def copy_test_source(
    src: str | os.PathLike[str],
    dest: str | os.PathLike[str],
    *,
    testcopycmd: str | None = None,
    env: Mapping[str, str] | None = None,
    attempts: int = 3,
) -> None:
    """Copy the test's source directory into the run directory (everything, dot files too).

    With `[setup] testcopycmd`, TEST_SRC_PATH and TEST_TARG_PATH are substituted and the command
    runs through /bin/sh with output appended to mt_launch.log. Failures are retried
    (`attempts` in all, as the original retries work-area creation twice).
    """
    src_p, dest_p = Path(src), Path(dest)
    last_error = ""
    for _ in range(attempts):
        try:
            if testcopycmd:
                _run_copy_command(testcopycmd, src_p, dest_p, env)
            else:
                _copy_tree(src_p, dest_p)
            return
        except (OSError, shutil.Error, RunFailed) as exc:
            last_error = str(exc)
    raise RunFailed(f"could not copy test source {src_p} to {dest_p}: {last_error}")


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
    cmd = template.replace("TEST_SRC_PATH", str(src)).replace("TEST_TARG_PATH", str(dest))
    dest.mkdir(parents=True, exist_ok=True)
    with open(dest / LAUNCH_LOG, "ab") as log:
        log.write(f"TESTCOPYCMD: {cmd}\n".encode())
        log.flush()
        proc = subprocess.run(
            ["/bin/sh", "-c", cmd], cwd=dest, env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, check=False,
        )
    if proc.returncode != 0:
        raise RunFailed(f"testcopycmd exited {proc.returncode}: {cmd}")


def _make_writable(path: Path) -> None:
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                os.chmod(p, os.stat(p).st_mode | stat.S_IRWXU)
    os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU)


def remove_work_area(real_dir: str | os.PathLike[str] | None, link_path: str | os.PathLike[str] | None) -> None:
    """Delete a test's real directory (retrying after making it writable) and its link.

    Used by -preclean and by remove. Only the real directory named is removed; a link is
    unlinked, never followed.
    """
    if real_dir is not None:
        real = Path(real_dir)
        if real.is_symlink():
            real.unlink()
        elif real.exists():
            try:
                shutil.rmtree(real)
            except OSError:
                _make_writable(real)
                shutil.rmtree(real)
    if link_path is not None:
        link = Path(link_path)
        if link.is_symlink():
            link.unlink()
        elif link.is_dir() and not any(link.iterdir()):
            link.rmdir()  # an itemized test's (now empty) link-tree directory
