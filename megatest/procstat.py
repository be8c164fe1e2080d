"""One process's line of /proc/PID/stat, split: what tells a process's state, parent, group
and start time (the keeper, the executor's kill and the server's packets all ask)."""

from __future__ import annotations

STATE, PPID, PGRP, STARTTIME = 0, 1, 2, 19  # indexes in stat_fields() (fields 3, 4, 5, 22)


def stat_fields(pid: int | str) -> list[bytes] | None:
    """The fields after the parenthesised command name (which may hold spaces), or None when
    the process is gone or /proc cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields if len(fields) > STARTTIME else None
