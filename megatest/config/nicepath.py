"""`common:nice-path`: tilde expansion, cwd prefix, CHICKEN `normalize-pathname`.

Unlike `os.path.normpath`, a trailing `/` is kept and symlinks are not resolved (except in the
`~` part, which the original resolves with `readlink -f`).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping


def normalize_pathname(path: str) -> str:
    """Drop empty and `.` segments, collapse `x/..`, keep a climbing `..`, keep a trailing `/`."""
    absolute = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == ".." and out and out[-1] != "..":
            out.pop()
        else:
            out.append(part)
    body = "/".join(out)
    if absolute:
        body = "/" + body
    elif not body:
        body = "."
    if path.endswith("/") and not body.endswith("/"):
        body += "/"
    return body


def _expand_tilde(path: str, env: Mapping[str, str]) -> str:
    """Replace a leading `~` or `~user` part by its real path (as `readlink -f ~...` would)."""
    head, sep, tail = path.partition("/")
    user = head[1:]
    if user:
        try:
            home = pwd.getpwnam(user).pw_dir
        except KeyError:
            return path  # the shell leaves an unknown ~user alone: it stays a relative name
    else:
        home = env.get("HOME")
        if home is None:
            try:
                home = pwd.getpwuid(os.getuid()).pw_dir
            except KeyError:
                return path
    return os.path.realpath(home) + sep + tail


def nice_path(path: str, cwd: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The original's `common:nice-path`, relative paths taken against `cwd` (default: process cwd)."""
    if path.startswith("~"):
        path = _expand_tilde(path, env if env is not None else os.environ)
    if not path.startswith("/"):
        base = cwd if cwd is not None else os.getcwd()
        path = base + "/" + path
    return normalize_pathname(path)
