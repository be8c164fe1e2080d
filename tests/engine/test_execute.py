"""`test execute` (a batch job's process on its node): how its reports reach the run."""

from __future__ import annotations

import contextlib
import json

from megatest.engine import execute as execute_mod
from megatest.launch.jobfile import job_spec, read_exit, write_job


class RecordingWriter:
    """A RunWriter that commits batches into a file, one JSON line per committed write, the
    way a server or the db would make them visible to a helper call."""

    def __init__(self, path):
        self.path = path
        self.batches: list[list[tuple]] = []
        self._open: list[tuple] | None = None

    @contextlib.contextmanager
    def batch(self):
        self._open = []
        yield self
        writes, self._open = self._open, None
        self.batches.append(writes)
        with open(self.path, "a") as fh:
            for write in writes:
                fh.write(json.dumps(write) + "\n")

    def _write(self, *write):
        assert self._open is not None, "a write outside a batch is one request per report"
        self._open.append(write)

    def apply(self, entries):
        """The typed writes, as the store and the server's client take them."""
        for entry in entries:
            kind = type(entry).__name__
            if kind == "StateWrite":
                self.set_state_status(entry.test_id, entry.state, entry.status, entry.comment)
            elif kind == "StepWrite":
                self.add_step(entry.test_id, entry.stepname, entry.state, entry.status)
            elif kind == "FieldsWrite":
                self.update_fields(entry.test_id, **entry.fields)
            elif kind == "DataWrite":
                self.add_test_data(entry.test_id, entry.rows)
            else:
                self.heartbeat(entry.test_id)

    def set_state_status(self, test_id, state=None, status=None, comment=None):
        self._write("state", state, status)

    def add_step(self, test_id, stepname, state, status, logfile="", comment=""):
        self._write("step", stepname, state)

    def update_fields(self, test_id, **fields):
        self._write("fields", *sorted(fields))

    def add_test_data(self, test_id, rows):
        self._write("data", len(rows))

    def heartbeat(self, test_id, **_values):
        self._write("heartbeat")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def run_job(tmp_path, monkeypatch, steps):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    writer = RecordingWriter(tmp_path / "committed.log")
    monkeypatch.setattr(execute_mod, "open_writer", lambda _area, _run: writer)
    job = write_job(job_spec(str(tmp_path), 1, 7, "t", "", str(run_dir), {"PATH": "/usr/bin:/bin"},
                             steps))
    assert execute_mod.execute([job]) == 0
    return writer, run_dir


def test_a_steps_helpers_find_the_test_running_and_a_one_step_test_costs_two_batches(
        tmp_path, monkeypatch):
    writer, run_dir = run_job(tmp_path, monkeypatch,
                              [("look", f"cp {tmp_path}/committed.log seen.log")])
    seen = [json.loads(line) for line in (run_dir / "seen.log").read_text().splitlines()]
    assert ["state", "RUNNING", None] in seen
    assert ["step", "look", "start"] in seen
    assert len(writer.batches) == 2
    assert ["state", "COMPLETED", "PASS"] in [list(w) for w in writer.batches[-1]]
    assert read_exit(str(run_dir)).status == "PASS"


def test_each_step_sends_what_came_before_it(tmp_path, monkeypatch):
    writer, run_dir = run_job(tmp_path, monkeypatch, [("a", "true"), ("b", "true"),
                                                      ("c", "false")])
    assert len(writer.batches) == 4  # before a, before b, before c, the end
    assert ("step", "a", "end") in writer.batches[1]
    assert ("state", "COMPLETED", "FAIL") in writer.batches[-1]
