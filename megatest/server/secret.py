"""The area's server secret: `<area>/.meta/secret`, readable by its owner only.

Every call to the area's server carries it (`Authorization: Bearer <secret>`), so only the
users who can read the file (the area's owner) can talk to the server. Standard library only.
"""

from __future__ import annotations

import os

from megatest.errors import UsageError
from megatest.server.packets import meta_dir

NAME = "secret"


def secret_path(area: str | os.PathLike) -> str:
    return os.path.join(meta_dir(area), NAME)


def read_secret(area: str | os.PathLike, *, create: bool = False) -> str | None:
    """The area's secret; with `create`, made (mode 0600) when it does not exist yet.
    None when it does not exist and `create` is off. A secret others can read is refused:
    anyone could then call the server."""
    path = secret_path(area)
    found = _read(path)
    if found is None and create:
        _create(path)
        found = _read(path)  # ours, or that of a process that created it at the same moment
    return found


def ensure_secret(area: str | os.PathLike) -> str:
    """The area's secret, made now when it does not exist yet."""
    found = read_secret(area, create=True)
    if not found:
        raise UsageError(f"{secret_path(area)}: empty; remove it and start the server again")
    return found


def _read(path: str) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o077:
            raise UsageError(f"{path}: readable by others (mode {mode & 0o777:o}); "
                             f"run `chmod 600 {path}`")
        return os.read(fd, 4096).decode().strip()
    finally:
        os.close(fd)


def _create(path: str) -> None:
    """Write a new secret to a private temp file and link it into place: of two processes
    that create it at the same moment, one wins and both read the winner's."""
    import secrets  # only the first start needs it

    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    value = secrets.token_urlsafe(32)
    temp = f"{path}.{os.getpid()}.new"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, value.encode() + b"\n")
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temp)
