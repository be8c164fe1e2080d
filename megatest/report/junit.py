"""JUnit XML of runs, as Jenkins' and GitLab's junit readers take it.

    <testsuites name="megatest" tests=".." failures=".." errors=".." time="..">
      <testsuite name="nightly.ubuntu_gcc12_2" ... timestamp=".." hostname=".." id="0">
        <properties><property name="target" value="ubuntu/gcc12.2"/>...</properties>
        <testcase classname="nightly.ubuntu_gcc12_2" name="sim(seed/17)" time="9.000">
          <failure message="step run ended 1: ..." type="FAIL">tail of run.log</failure>
        </testcase>

One suite per run, named `<runname>.<target>` with the target's `/` and every `.` made `_`
(Jenkins turns dots in a class name into a package tree); an item is the test's parameter,
in parentheses. Verdicts come from megatest.report.cases. The counts are attributes that
come before the test cases, so the cases are spooled to a temporary file while counted: a
run of any size is written in constant memory. A file is written beside its destination and
renamed over it, so a reader never sees half of one.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from megatest.report import cases
from megatest.report.files import replacing
from megatest.report.xmltext import attr, text

if TYPE_CHECKING:
    from megatest.store.interface import Store
    from megatest.store.records import RunRecord, TestRecord


@dataclass
class Counts:
    tests: int = 0
    failures: int = 0
    skipped: int = 0
    time: float = 0.0

    def add(self, other: Counts) -> None:
        self.tests += other.tests
        self.failures += other.failures
        self.skipped += other.skipped
        self.time += other.time


def dotless(value: str) -> str:
    """A name part Jenkins will not split into packages: `/` and `.` become `_`."""
    return value.replace("/", "_").replace(".", "_")


def suite_name(run: RunRecord) -> str:
    return f"{dotless(run.runname)}.{dotless(run.target)}"


def case_name(test: TestRecord) -> str:
    return f"{test.testname}({test.item_path})" if test.item_path else test.testname


def _stamp(epoch: int | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch or 0))


class JUnitExport:
    """Writes runs' tests as one JUnit document. `final`: tests not over yet are listed as
    skipped (an export on demand, or the run's end); otherwise they are left out (the live
    file of a run still going)."""

    def __init__(self, store: Store, *, final: bool = True) -> None:
        self.store = store
        self.final = final

    def write_file(self, path: Path, runs: Iterable[cases.RunTests]) -> Counts:
        """Write the document to `path` atomically; returns the totals."""
        with replacing(path) as out:
            return self.write(out, runs)

    def write(self, out: IO[str], runs: Iterable[cases.RunTests]) -> Counts:
        """Write the document to `out`; returns the totals."""
        totals = Counts()
        with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
            for index, group in enumerate(runs):
                totals.add(self._suite(body, index, group))
            out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
            out.write(f'<testsuites name="megatest" tests="{totals.tests}" '
                      f'failures="{totals.failures}" errors="0" '
                      f'time="{totals.time:.3f}">\n')
            body.seek(0)
            shutil.copyfileobj(body, out)
            out.write("</testsuites>\n")
        return totals

    def _suite(self, out: IO[str], index: int, group: cases.RunTests) -> Counts:
        run = group.run
        name = attr(suite_name(run))
        counts = Counts()
        host = ""
        with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
            for test in group.tests:
                kind = cases.verdict(test.state, test.status)
                if kind == cases.PENDING and not self.final:
                    continue
                host = host or (test.host if test.host not in ("", "n/a") else "")
                self._case(spool, name, test, kind, counts)
            out.write(
                f'  <testsuite name="{name}" tests="{counts.tests}" failures="{counts.failures}" '
                f'errors="0" skipped="{counts.skipped}" time="{counts.time:.3f}" '
                f'timestamp="{_stamp(run.event_time)}" '
                f'hostname="{attr(host or socket.gethostname())}" id="{index}">\n')
            out.write("    <properties>\n")
            props = {"target": run.target, "runname": run.runname, "run_id": run.id, **run.keys}
            for key, value in props.items():
                out.write(f'      <property name="{attr(key)}" value="{attr(value)}"/>\n')
            out.write("    </properties>\n")
            spool.seek(0)
            shutil.copyfileobj(spool, out)
            out.write("  </testsuite>\n")
        return counts

    def _case(self, out: IO[str], classname: str, test: TestRecord, kind: str,
              counts: Counts) -> None:
        duration = float(test.run_duration or 0)
        counts.tests += 1
        counts.time += duration
        out.write(f'    <testcase classname="{classname}" name="{attr(case_name(test))}" '
                  f'time="{duration:.3f}"')
        if kind == cases.PASSED:
            note = "" if test.status == "PASS" else cases.reason(test)
            out.write(f"><system-out>{text(note)}</system-out></testcase>\n" if note else "/>\n")
            return
        if kind in (cases.SKIPPED, cases.PENDING):
            counts.skipped += 1
            why = cases.reason(test) if kind == cases.SKIPPED else f"not over: {cases.reason(test)}"
            out.write(f'>\n      <skipped message="{attr(why)}"/>\n    </testcase>\n')
            return
        # an error (ABORT, KILLED, DEAD...) is a failure too, its status as the type: the
        # schema of Jenkins' xUnit plugin has no `error` element, and Jenkins shows both alike
        counts.failures += 1
        message, details = self._failure(test)
        out.write(f'>\n      <failure message="{attr(message)}" type="{attr(test.status)}">'
                  f"{text(details)}</failure>\n    </testcase>\n")

    def _failure(self, test: TestRecord) -> tuple[str, str]:
        """The failure's one-line message and its details: the failing step, its log's tail."""
        said, details = cases.failure(self.store, test)
        message = cases.reason(test)
        return (f"{message} ({said})" if said else message), details
