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
from contextlib import contextmanager
from pathlib import Path

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


def configure(conn: sqlite3.Connection, db_path: str | os.PathLike) -> None:
    """Busy timeout, journal mode and synchronous level for a fresh connection."""
    conn.isolation_level = None
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    wanted = journal_mode_for(db_path)
    current = conn.execute("PRAGMA journal_mode").fetchone()[0].lower()
    if current != wanted and current != "memory":
        conn.execute(f"PRAGMA journal_mode={wanted}")
    # NORMAL is durable against process death in WAL mode and much cheaper than FULL.
    conn.execute("PRAGMA synchronous=NORMAL" if wanted == "wal" else "PRAGMA synchronous=FULL")


def connect(db_path: str | os.PathLike) -> sqlite3.Connection:
    """An autocommit stdlib connection to an existing db file, configured as above."""
    if not Path(db_path).is_file():
        raise FileNotFoundError(db_path)
    conn = sqlite3.connect(str(db_path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    configure(conn, db_path)
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def alembic_revision(db_path: str | os.PathLike) -> str | None:
    """The revision recorded in a db file's alembic_version table (None: none or no file)."""
    if not Path(db_path).is_file():
        return None
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return row[0] if row else None
