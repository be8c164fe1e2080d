"""What a batch system's word for a job means for the test it runs.

Every batch launcher maps its system's job states onto one small vocabulary: QUEUED and
RUNNING (the job is alive), ENDED (it finished normally) and the failure words, which keep
Slurm's names since they are the most precise any system gives: CANCELLED, TIMEOUT,
NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, FAILED, ... A word it does not know counts as a failure
under its own name.

The test's end comes from the exit file its job writes. Only a job that ended without one
(killed before the test could end, a node that died) is judged from the word here.
"""

from __future__ import annotations

from typing import NamedTuple

QUEUED = "QUEUED"
RUNNING = "RUNNING"
ENDED = "ENDED"
ALIVE = frozenset({QUEUED, RUNNING})


class Ending(NamedTuple):
    state: str
    status: str
    comment: str


# word -> (state, status, what happened); INCOMPLETE tests run again with the next run
_ENDINGS: dict[str, tuple[str, str, str]] = {
    ENDED: ("INCOMPLETE", "DEAD", "ended without writing the test's exit file"),
    "CANCELLED": ("KILLED", "KILLED", "was cancelled"),
    "TIMEOUT": ("KILLED", "KILLED", "reached its time limit"),
    "DEADLINE": ("KILLED", "KILLED", "reached its deadline"),
    "OUT_OF_MEMORY": ("KILLED", "KILLED", "ran out of memory"),
    "PREEMPTED": ("INCOMPLETE", "KILLED", "was preempted"),
    "NODE_FAIL": ("INCOMPLETE", "DEAD", "lost its node"),
    "BOOT_FAIL": ("INCOMPLETE", "DEAD", "could not boot its node"),
    "FAILED": ("INCOMPLETE", "ABORT", "failed before the test ended"),
}


def ending(system: str, job_id: str, word: str) -> Ending:
    """The test's end for a job that ended as `word` without an exit file; the comment
    names the job and the word (`slurm job 12_3 was cancelled (CANCELLED)`)."""
    state, status, what = _ENDINGS.get(word, ("INCOMPLETE", "ABORT", "ended"))
    return Ending(state, status, f"{system} job {job_id} {what} ({word})")


def is_alive(word: str | None) -> bool:
    return word in ALIVE
