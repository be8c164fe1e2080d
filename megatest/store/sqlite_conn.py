"""How every SQLite connection of the store is set up (stdlib only; both write paths use it).

* busy timeout: a writer waits for the lock instead of failing with "database is locked";
* WAL journal where the filesystem supports it (local disks). On network filesystems (NFS,
  CIFS, ...) WAL's shared-memory index does not work across hosts, so the db stays in the
  rollback-journal mode (DELETE). $MT_STORE_JOURNAL=wal|delete overrides the detection;
* explicit transactions: the connection is in autocommit mode (isolation_level None) and
  writers open `BEGIN IMMEDIATE` themselves, so a read-modify-write holds the write lock from
  its first read and can never lose an update or dead-lock on a lock upgrade.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from megatest.errors import StoreError, StoreWriteError

BUSY_TIMEOUT_MS = 136_000  # the original's busy timeout for megatest.db (136 s)

NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "afs", "lustre", "gpfs", "9p",
    "ceph", "fuse.sshfs", "fuse.glusterfs", "glusterfs", "panfs", "beegfs", "fuse.s3fs",
})

_journal_cache: dict[str, str] = {}


def filesystem_type(path: str | os.PathLike) -> str | None:
    """Type of the filesystem holding `path` (longest mount point of /proc/self/mounts)."""
    target = os.path.realpath(path)
    best, best_type = "", None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mount = parts[1].replace("\\040", " ")
                inside = target == mount or target.startswith(mount.rstrip("/") + "/")
                if inside and len(mount) >= len(best):
                    best, best_type = mount, parts[2]
    except OSError:
        return None
    return best_type


def journal_mode_for(db_path: str | os.PathLike) -> str:
    """'wal' on local filesystems, 'delete' on network ones (or as $MT_STORE_JOURNAL says)."""
    forced = os.environ.get("MT_STORE_JOURNAL", "").strip().lower()
    if forced in ("wal", "delete"):
        return forced
    folder = str(Path(db_path).parent)
    if folder not in _journal_cache:
        fstype = filesystem_type(folder)
        _journal_cache[folder] = "delete" if fstype in NETWORK_FILESYSTEMS else "wal"
    return _journal_cache[folder]


def is_corruption(exc: BaseException) -> bool:
    """A damaged or foreign file ("file is not a database", "database disk image is
    malformed"), as opposed to a lock timeout or a missing table (OperationalError)."""
    return type(exc) is sqlite3.DatabaseError


def unreadable(db_path: str | os.PathLike, exc: BaseException) -> StoreError:
    """The one-line error for a db file SQLite cannot read."""
    hint = "restore it from a backup"
    if Path(db_path).stem.isdigit():  # a <run_id>.db: only that run's results are in it
        hint += ", or remove it if that run can be dropped"
    return StoreError(f"cannot read this database ({exc}); {hint}", path=str(db_path))


# SQLite's primary result codes this module names (sqlite3.Error.sqlite_errorcode & 0xff)
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 10, 13, 14
_NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
# OSErrors of the storage itself, which failure_reason puts in words
STORAGE_ERRNOS = _NO_SPACE_ERRNOS | {errno.EACCES, errno.EPERM, errno.EROFS}


def _code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_busy(exc: BaseException) -> bool:
    """Another connection holds the lock ("database is locked")."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    return _code(exc) in (SQLITE_BUSY, SQLITE_LOCKED) or "database is locked" in str(exc)


def _no_space(folder: Path) -> bool:
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail == 0


def _permission_reason(db_path: Path, detail: str) -> str:
    folder = db_path.parent
    if not folder.is_dir():
        return f"its folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (f"no permission to write in the folder {folder} (SQLite keeps its journal "
                "files beside the database)")
    if db_path.exists() and not os.access(db_path, os.R_OK | os.W_OK):
        return f"no permission to read and write {db_path}"
    if _no_space(folder):
        return f"no space left on the device holding {folder}"
    return f"{detail}; check the permissions of {db_path} and of its folder {folder}"


def failure_reason(db_path: str | os.PathLike, exc: BaseException) -> str:
    """What is actually wrong, in words, when a db file cannot be opened, created or written
    for a reason other than damage: no permission, no space, a read-only file system, ..."""
    path = Path(db_path)
    folder = path.parent
    if isinstance(exc, OSError):
        if exc.errno in _NO_SPACE_ERRNOS:
            return f"no space left on the device holding {folder}"
        if exc.errno in (errno.EACCES, errno.EPERM):
            where = exc.filename or folder
            return _permission_reason(path, f"permission denied on {where}")
        if exc.errno == errno.EROFS:
            return f"{folder} is on a read-only file system"
        return exc.strerror or str(exc)
    text = str(exc)
    code = _code(exc)
    if code == SQLITE_FULL or "disk is full" in text:
        return f"no space left on the device holding {folder}"
    if code in (SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN) or "readonly" in text \
            or "unable to open" in text:
        return _permission_reason(path, text)
    if code == SQLITE_IOERR or "disk I/O error" in text:
        if _no_space(folder):
            return f"no space left on the device holding {folder}"
        return f"input/output error ({text})"
    return text


@contextmanager
def writing(db_path: str | os.PathLike) -> Iterator[None]:
    """Around a write transaction: SQLite's refusal (no space, an I/O error, no permission, a
    lock never released) is a StoreWriteError saying what is wrong; the transaction was rolled
    back whole, so the same write may be tried again."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreWriteError(f"could not write this database: {failure_reason(db_path, exc)}",
                              path=str(db_path)) from None


def failure(db_path: str | os.PathLike, exc: BaseException, doing: str = "open") -> StoreError:
    """The one-line error for a db file that cannot be opened/created/written (see
    failure_reason); damage is `unreadable`'s."""
    if is_corruption(exc):
        return unreadable(db_path, exc)
    return StoreError(f"cannot {doing} this database: {failure_reason(db_path, exc)}",
                      path=str(db_path))


def empty_file(db_path: str | os.PathLike) -> StoreError:
    """A 0-byte db file: its creation never got as far as writing the schema."""
    path = Path(db_path)
    what = "empty file (0 bytes): not a megatest database yet, its creation was never finished"
    if path.stem.isdigit():
        return StoreError(f"{what}; remove it and the next `megatest runs start` of that run "
                          "(or `megatest db cleanup`) makes it again", path=str(path))
    if any(f.stem.isdigit() for f in path.parent.glob("*.db")):
        # run dbs beside it are registered only in main.db: a new one would orphan them
        return StoreError(f"{what}, or it was truncated; restore it from a backup (the run "
                          "databases beside it are registered only there)", path=str(path))
    return StoreError(f"{what}; remove it and `megatest db migrate` or the next run makes it "
                      "again", path=str(path))


def is_empty(db_path: str | os.PathLike) -> bool:
    try:
        return os.path.getsize(db_path) == 0
    except OSError:
        return False


def retry_busy(run, deadline_s: float = BUSY_TIMEOUT_MS / 1000):
    """run() again while another connection holds the lock. SQLite does not call the busy
    handler for everything (switching the journal mode while a concurrent opener does the
    same returns SQLITE_BUSY at once), so those statements wait here, up to the busy timeout."""
    end = time.monotonic() + deadline_s
    pause = 0.002
    while True:
        try:
            return run()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= end:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def configure(conn: sqlite3.Connection, db_path: str | os.PathLike) -> None:
    """Busy timeout, journal mode and synchronous level for a fresh connection. A damaged
    file fails here, on its first read: StoreError naming it."""
    conn.isolation_level = None
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _set_journal(conn, db_path, "main")


def _set_journal(conn: sqlite3.Connection, db_path: str | os.PathLike, schema: str) -> None:
    wanted = journal_mode_for(db_path)

    def setup() -> None:
        current = conn.execute(f"PRAGMA {schema}.journal_mode").fetchone()[0].lower()
        if current != wanted and current != "memory":
            conn.execute(f"PRAGMA {schema}.journal_mode={wanted}")

    try:
        retry_busy(setup)
    except sqlite3.DatabaseError as exc:
        raise failure(db_path, exc) from None
    # NORMAL is durable against process death in WAL mode and much cheaper than FULL.
    level = "NORMAL" if wanted == "wal" else "FULL"
    conn.execute(f"PRAGMA {schema}.synchronous={level}")


def attach(conn: sqlite3.Connection, db_path: str | os.PathLike, schema: str) -> None:
    """ATTACH an existing db file to a configured connection as `schema`, with the same
    journal mode and synchronous level a connection of its own would get. One BEGIN
    IMMEDIATE on the connection then write-locks both files."""
    if not Path(db_path).is_file():
        raise FileNotFoundError(db_path)
    conn.execute("ATTACH DATABASE ? AS " + schema, (str(db_path),))
    _set_journal(conn, db_path, schema)


def connect(db_path: str | os.PathLike) -> sqlite3.Connection:
    """An autocommit stdlib connection to an existing db file, configured as above."""
    if not Path(db_path).is_file():
        raise FileNotFoundError(db_path)
    try:
        conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None)
    except sqlite3.Error as exc:
        raise failure(db_path, exc) from None
    try:
        configure(conn, db_path)
    except BaseException:
        conn.close()
        raise
    return conn


def immediate(conn: sqlite3.Connection) -> AbstractContextManager[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""
    return transaction(conn, "BEGIN IMMEDIATE")


@contextmanager
def transaction(conn: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[sqlite3.Connection]:
    """`begin` ... COMMIT, ROLLBACK on error, on an autocommit connection. Plain BEGIN for
    work over attached databases that must not all be write-locked at the start (a
    read-only source among them)."""
    conn.execute(begin)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back on its own (disk full, ...)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def alembic_revision(db_path: str | os.PathLike) -> str | None:
    """The revision recorded in a db file's alembic_version table (None: no such table, or no
    file). A damaged, empty or inaccessible file is a StoreError naming it and saying what is
    wrong, not "no revision".

    Not opened with mode=ro: a read-only connection cannot remove the -wal/-shm files of a
    WAL db when it closes, so every `db status` would leave two files per db behind."""
    if not Path(db_path).is_file():
        return None
    if is_empty(db_path):
        raise empty_file(db_path)
    try:
        conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise failure(db_path, exc) from None
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc):
            return None
        raise failure(db_path, exc) from None
    finally:
        conn.close()
    return row[0] if row else None
