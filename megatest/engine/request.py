"""What the user asked `runs start` for, as plain values (built by the CLI, read by the driver)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class RunRequest(NamedTuple):
    area: Path
    target: str
    runname: str
    testpatt: str | None = None
    tagexpr: str | None = None
    modepatt: str | None = None
    reqtarg: bool = False
    setvars: str | None = None
    rerun: str | None = None
    rerun_clean: bool = False
    rerun_all: bool = False
    preclean: bool = False
    force: bool = False
    quiet: bool = False
    contour: str = ""

    @property
    def cleans(self) -> bool:
        """`--rerun-clean`/`--rerun-all` force `--preclean` on (reference 1.3)."""
        return self.preclean or self.rerun_clean or self.rerun_all
