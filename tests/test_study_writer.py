"""The study's results file is crash-safe: a record reaches the file only after its whole
schedule is on disk under its final name, and a crash at any step leaves no record without its
schedule.

``os.fsync`` and ``os.replace`` are wrapped to log, in order, what the writer does and what the
files hold at that moment; the results file's handle is wrapped to log the moment a record line
is written. Crashes are injected by raising at each of those steps (and half-way through a
write), then the directory is read back as a resumed run would read it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from aras.studies import run as run_mod
from aras.studies.run import RESULTS, SCHEDULES, ResultWriter, load_results
from aras.studies.study import Task

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc/self/fd to name fsynced descriptors")

SCHED = {"format": "aras-schedule/1", "makespan": 4072, "steps": [{"layer": "c", "start": 0}],
         "writes": [{"layer": "c", "pe": 0, "row": k, "start": 0} for k in range(50)]}
FULL = json.dumps(SCHED)


def _task(name: str) -> Task:
    return Task(f"n/base/{name}", "n", "n", "base", {}, name)


def _rec(t: Task) -> dict[str, Any]:
    return {"task": t.id, "status": "feasible", "makespan_cycles": 4072,
            "_schedule": json.loads(FULL)}


def _read(path: str | Path) -> str | None:
    p = Path(path)
    return p.read_text() if p.is_file() else None


class Crash(Exception):
    """A kill at one step of the writer."""


class Spy:
    """Logs fsync, replace and record writes; raises :class:`Crash` at ``crash_at``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, crash_at: str | None = None):
        self.events: list[tuple[Any, ...]] = []
        self.crash_at = crash_at
        real_fsync, real_replace = os.fsync, os.replace
        real_open = open

        def fsync(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            kind = ("fsync-dir" if os.path.isdir(path) else
                    "fsync-results" if path.endswith(RESULTS) else "fsync-schedule")
            self._maybe_crash(kind)
            real_fsync(fd)
            self.events.append((kind, path, _read(path)))

        def replace(src: Any, dst: Any) -> None:
            self._maybe_crash("replace")
            self.events.append(("replace", str(src), str(dst), _read(src)))
            real_replace(src, dst)

        def half_write_text(path: Path, data: str, *a: Any, **k: Any) -> int:
            # Path.write_text, or open() in the run module: a crash leaves half the text.
            with real_open(path, "w") as f:
                f.write(data if self.crash_at != "schedule-write" else data[:len(data) // 2])
            self._maybe_crash("schedule-write")
            return len(data)

        class HalfFile:
            def __init__(self, f: Any):
                self._f = f

            def write(self, data: str) -> int:
                if spy.crash_at == "schedule-write":
                    self._f.write(data[:len(data) // 2])
                    self._f.flush()
                    spy._maybe_crash("schedule-write")
                return int(self._f.write(data))

            def __enter__(self) -> HalfFile:
                return self

            def __exit__(self, *exc: Any) -> None:
                self._f.close()

            def __getattr__(self, name: str) -> Any:
                return getattr(self._f, name)

        def open_(path: Any, *a: Any, **k: Any) -> Any:
            return HalfFile(real_open(path, *a, **k))

        spy = self
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(Path, "write_text", half_write_text)
        monkeypatch.setattr(run_mod, "open", open_, raising=False)

    def _maybe_crash(self, step: str) -> None:
        if self.crash_at == step:
            self.crash_at = None  # once
            raise Crash(step)

    def watch(self, w: ResultWriter, target: Path) -> None:
        """Log each record line the writer appends, with what its schedule file holds then."""
        real = w._f
        spy = self

        class Results:
            def write(self, line: str) -> int:
                spy.events.append(("record", line, _read(target)))
                if spy.crash_at == "record-write":
                    real.write(line[:len(line) // 2])  # torn line
                    real.flush()
                    spy._maybe_crash("record-write")
                return int(real.write(line))

            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

        w._f = Results()


def _kinds(events: list[tuple[Any, ...]]) -> list[str]:
    return [e[0] for e in events]


def test_schedule_synced_renamed_then_record_appended_then_synced(tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    t = _task("aras")
    target = tmp_path / SCHEDULES / t.filename
    w = ResultWriter(tmp_path)
    spy.watch(w, target)
    w.write(t, _rec(t))
    w._f.close()
    ev = spy.events
    kinds = _kinds(ev)
    # The schedule is written to a temporary file beside its target, fsynced complete, renamed
    # onto the target (never written in place), and the directory fsynced; only then is the
    # record line written, and fsynced.
    i_sync = kinds.index("fsync-schedule")
    i_rep = kinds.index("replace")
    i_dir = kinds.index("fsync-dir")
    i_rec = kinds.index("record")
    i_res = kinds.index("fsync-results")
    assert i_sync < i_rep < i_dir < i_rec < i_res, kinds
    _, tmp, content = ev[i_sync]
    assert content == FULL
    _, src, dst, content = ev[i_rep]
    assert src == tmp != dst == str(target) and Path(src).parent == target.parent
    assert content == FULL
    assert ev[i_dir][1] == str(target.parent)
    _, line, sched_then = ev[i_rec]
    assert sched_then == FULL  # the record names a schedule that is complete on disk
    rec = json.loads(line)
    assert rec["schedule"] == f"{SCHEDULES}/{t.filename}" and "_schedule" not in rec
    # The line was flushed to the file before the fsync (else the fsync syncs nothing).
    _, path, results_then = ev[i_res]
    assert path == str(tmp_path / RESULTS) and results_then == line
    assert kinds.count("record") == 1  # one write per record
    assert not list((tmp_path / SCHEDULES).glob("*.tmp"))


def test_a_record_without_schedule_is_synced_too(tmp_path, monkeypatch):
    spy = Spy(monkeypatch)
    t = _task("failed")
    w = ResultWriter(tmp_path)
    spy.watch(w, tmp_path / SCHEDULES / t.filename)
    w.write(t, {"task": t.id, "status": "failed", "error": "x"})
    w._f.close()
    assert _kinds(spy.events) == ["record", "fsync-results"]
    assert load_results(tmp_path)[0]["schedule"] is None


CRASH_POINTS = ["schedule-write", "fsync-schedule", "replace", "fsync-dir", "record-write",
                "fsync-results"]


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_a_crash_at_any_step_leaves_no_record_without_its_schedule(tmp_path, monkeypatch,
                                                                    crash_at):
    first, second = _task("baseline"), _task("aras")
    w = ResultWriter(tmp_path)
    w.write(first, _rec(first))  # an earlier task, finished before the crash
    spy = Spy(monkeypatch, crash_at)
    target = tmp_path / SCHEDULES / second.filename
    spy.watch(w, target)
    with pytest.raises(Crash):
        w.write(second, _rec(second))
    w._f.close()  # the process dies: whatever reached the file stays there
    monkeypatch.undo()
    # What a resumed run sees: every record's schedule exists and is complete; the crashed
    # task's record is there only if the crash came after its line was complete.
    recs = {r["task"]: r for r in load_results(tmp_path)}
    for r in recs.values():
        assert _read(tmp_path / r["schedule"]) == FULL, r
    assert first.id in recs
    assert (second.id in recs) == (crash_at == "fsync-results")
    assert _read(target) in (None, FULL)  # never a partial schedule under the final name
    # Resuming cuts a torn line and writes the task again.
    w = ResultWriter(tmp_path)
    if second.id not in recs:
        w.write(second, _rec(second))
    w.close()
    text = (tmp_path / RESULTS).read_text()
    assert text.endswith("}\n") and len(text.splitlines()) == 2
    assert {r["task"] for r in load_results(tmp_path)} == {first.id, second.id}
    assert _read(target) == FULL
