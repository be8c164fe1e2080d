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

import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from megatest.errors import StoreError

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


def configure(conn: sqlite3.Connection, db_path: str | os.PathLike) -> None:
    """Busy timeout, journal mode and synchronous level for a fresh connection. A damaged
    file fails here, on its first read: StoreError naming it."""
    conn.isolation_level = None
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _set_journal(conn, db_path, "main")


def _set_journal(conn: sqlite3.Connection, db_path: str | os.PathLike, schema: str) -> None:
    wanted = journal_mode_for(db_path)
    try:
        current = conn.execute(f"PRAGMA {schema}.journal_mode").fetchone()[0].lower()
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise unreadable(db_path, exc) from None
        raise
    if current != wanted and current != "memory":
        conn.execute(f"PRAGMA {schema}.journal_mode={wanted}")
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
    conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    configure(conn, db_path)
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
    """The revision recorded in a db file's alembic_version table (None: none or no file).
    A damaged file is a StoreError naming it, not "no revision".

    Not opened with mode=ro: a read-only connection cannot remove the -wal/-shm files of a
    WAL db when it closes, so every `db status` would leave two files per db behind."""
    if not Path(db_path).is_file():
        return None
    conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise unreadable(db_path, exc) from None
        return None
    finally:
        conn.close()
    return row[0] if row else None
