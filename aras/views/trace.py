"""A schedule as a Chrome trace-event file (Perfetto, chrome://tracing).

:func:`chrome_trace` turns a :class:`~aras.model.schedule.Schedule` into the JSON
object format of the trace-event specification: complete events (``"ph": "X"``)
with ``ts`` and ``dur`` in microseconds (cycles / ``frequency_hz``), metadata
events (``"ph": "M"``) naming processes and threads, and one counter
(``"ph": "C"``) of the APUs being written. Three processes:

- ``compute`` (pid 1): one thread, one event per compute step, named
  ``layer/part``.
- ``APU rows`` (pid 2): one thread per physical APU row that is written at
  least once, ``tid = pe * apu_rows_per_pe + row``, named ``pe P row R``;
  every write gives a ``write`` event (its write latency) and a ``hold`` event
  (from the end of the write to the end of its part's compute, MODEL.md R2),
  both named after the layer. The counter lives in this process too.
- ``Gbuffer`` (pid 3): one thread per bank, one event per compute step and
  powered bank, named ``input`` or ``output``, over the interval the evaluator
  charges leakage for (see :func:`bank_intervals`).

:func:`write_intervals` and :func:`bank_intervals` are the interval sets the
trace and the Gantt chart (:mod:`aras.views.gantt`) both draw.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aras.evaluation.wear import row_writes
from aras.model.files import atomic_path
from aras.model.hardware import Hardware
from aras.model.mapping import Problem
from aras.model.schedule import Schedule

PID_COMPUTE = 1
PID_ROWS = 2
PID_GBUFFER = 3

#: Name of the counter of APUs being written (R6).
COUNTER_NAME = "APUs being written"
#: Reserved trace-viewer colours (catapult's color scheme) of the four wear quarters.
_WEAR_NAMES = ("good", "yellow", "bad", "terrible")


@dataclass(frozen=True)
class WriteIntervals:
    """Every write of a schedule as a writing and a holding interval, column-wise.

    Attributes
    ----------
    rowid
        Physical APU row, ``pe * apu_rows_per_pe + row``.
    start, write_end, hold_end
        Cycles: the write occupies its row over ``[start, write_end)`` while it
        writes and over ``[write_end, hold_end)`` while it holds the tile until
        its part's compute ends. ``hold_end`` is ``write_end`` for a write whose
        part has no compute step in the schedule, and never below it (an
        invalid schedule can compute before a write ends; R3).
    step
        Index in ``schedule.steps`` of the write's part, -1 when it has none.
    """

    rowid: np.ndarray
    start: np.ndarray
    write_end: np.ndarray
    hold_end: np.ndarray
    step: np.ndarray


def write_intervals(schedule: Schedule, hardware: Hardware) -> WriteIntervals:
    """Writing and holding interval of every write (MODEL.md R2, R3).

    Parameters
    ----------
    schedule
        The schedule; writes are matched to steps by (layer, part).
    hardware
        Gives ``write_latency_cycles`` and ``apu_rows_per_pe``.

    Returns
    -------
    WriteIntervals
        One entry per write, in the schedule's write order.
    """
    w = schedule.writes
    pos = {(s.layer, s.part): i for i, s in enumerate(schedule.steps)}
    # Python-level lookup is fine: it is one dict access per write (tens of thousands at most).
    step = np.array([pos.get((layer, int(part)), -1)
                     for layer, part in zip(w.layer.tolist(), w.part.tolist(), strict=True)],
                    dtype=np.int64).reshape(len(w))
    ends = np.array([s.end for s in schedule.steps] + [0], dtype=np.int64)
    start = w.start.astype(np.int64)
    write_end = start + hardware.write_latency_cycles
    hold_end = np.where(step >= 0, np.maximum(ends[step], write_end), write_end)
    rowid = w.pe.astype(np.int64) * hardware.apu_rows_per_pe + w.row.astype(np.int64)
    return WriteIntervals(rowid, start, write_end, hold_end, step)


@dataclass(frozen=True)
class BankInterval:
    """One powered Gbuffer bank over one compute step's share of time."""

    bank: int
    role: str  # "input" or "output"
    start: int
    end: int
    step: int  # index in schedule.steps


def bank_intervals(schedule: Schedule) -> list[BankInterval]:
    """When each Gbuffer bank is powered, and as input or output.

    Matches the evaluator's static Gbuffer energy: step k's banks are powered
    from its start (cycle 0 for the first step) until the next step starts
    (its own end for the last step), so the idle gap before a step is charged
    to the banks of the step before it, whose output waits there.

    This is the default ``per-step`` bank mode (R8 as written). A schedule
    whose file says ``"bank_mode": "liveness"`` keeps tensors in banks over
    their lifetimes and is charged for those instead; this function still
    shows its steps' banks.

    Parameters
    ----------
    schedule
        The schedule (``banks_in`` and ``banks_out`` of its steps).

    Returns
    -------
    list of BankInterval
        In step order, inputs before outputs; empty intervals are dropped.
        A bank listed both as input and output of one step (an R8 violation)
        appears once, as input, as the evaluator charges it once.
    """
    out: list[BankInterval] = []
    steps = schedule.steps
    for k, s in enumerate(steps):
        t_from = 0 if k == 0 else s.start
        t_to = steps[k + 1].start if k + 1 < len(steps) else s.end
        if t_to <= t_from:
            continue
        seen: set[int] = set()
        for role, banks in (("input", s.banks_in), ("output", s.banks_out)):
            for b in banks:
                if b not in seen:
                    seen.add(b)
                    out.append(BankInterval(int(b), role, int(t_from), int(t_to), k))
    return out


def write_level(schedule: Schedule, hardware: Hardware) -> tuple[np.ndarray, np.ndarray]:
    """APUs being written over time, as a step function (MODEL.md R6).

    Returns
    -------
    times, apus
        Increasing cycles and the number of APUs being written from each of
        them until the next; starts at ``(0, 0)`` unless a write starts at 0.
        At equal times ends count before starts, as in the evaluator.
    """
    w = schedule.writes
    if not len(w):
        return np.zeros(1, np.int64), np.zeros(1, np.int64)
    T = hardware.write_latency_cycles
    t = np.concatenate([w.start, w.start + T]).astype(np.int64)
    d = np.concatenate([np.ones(len(w), np.int64), -np.ones(len(w), np.int64)])
    order = np.lexsort((d, t))
    t, level = t[order], np.cumsum(d[order])
    # Keep the level after the last change at each time, so that a write ending and another
    # starting at the same cycle do not show a spurious peak.
    last = np.r_[t[1:] != t[:-1], True]
    t, level = t[last], level[last]
    if t[0] > 0:
        t, level = np.r_[0, t], np.r_[0, level]
    return t, level * hardware.apus_per_row


def chrome_trace(schedule: Schedule, problem: Problem, *, wear: bool = False
                 ) -> dict[str, Any]:
    """The schedule as a Chrome trace-event document.

    Parameters
    ----------
    schedule
        The schedule to show (need not be valid: writes of parts the schedule
        never computes get no ``hold`` event).
    problem
        The mapped network; its hardware gives the clock, write latency, APU
        row geometry and bank sizes.
    wear
        Colour the rows by wear: every row's thread name and events carry its writes per
        inference (``args.row_writes``), and its events a reserved colour (``cname``) by
        its share of the most-written row's: ``good`` up to 1/4, ``yellow`` up to 1/2,
        ``bad`` up to 3/4, ``terrible`` beyond.

    Returns
    -------
    dict
        ``{"traceEvents": [...], "displayTimeUnit": ..., "otherData": {...}}``
        with every event sorted by ``ts`` (microseconds, floats); metadata
        events come first with ``ts`` 0. ``json.dump`` it, or use
        :func:`save_trace`.
    """
    hw = problem.hardware
    us = 1e6 / hw.frequency_hz  # microseconds per cycle
    per = hw.apu_rows_per_pe
    steps = schedule.steps
    meta: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    def name_process(pid: int, name: str) -> None:
        meta.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0.0,
                     "args": {"name": name}})
        meta.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0, "ts": 0.0,
                     "args": {"sort_index": pid}})

    def name_thread(pid: int, tid: int, name: str) -> None:
        meta.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "ts": 0.0,
                     "args": {"name": name}})
        meta.append({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "ts": 0.0,
                     "args": {"sort_index": tid}})

    # ----- compute -----
    name_process(PID_COMPUTE, "compute")
    name_thread(PID_COMPUTE, 0, "steps")
    for s in steps:
        events.append({"ph": "X", "name": f"{s.layer}/{s.part}",
                       "cat": "crossbar" if s.apu_rows > 0 else "weightless",
                       "pid": PID_COMPUTE, "tid": 0, "ts": s.start * us,
                       "dur": (s.end - s.start) * us,
                       "args": {"replication": s.replication, "apu_rows": s.apu_rows,
                                "windows": s.windows, "banks_in": list(s.banks_in),
                                "banks_out": list(s.banks_out)}})
    # ----- APU rows -----
    name_process(PID_ROWS, "APU rows")
    wi = write_intervals(schedule, hw)
    w = schedule.writes
    per_row = row_writes(problem, schedule) / problem.batch if wear else None
    top = max(float(per_row.max()), 1e-300) if per_row is not None else 1.0
    for rid in np.unique(wi.rowid).tolist():
        name = f"pe {rid // per} row {rid % per}"
        if per_row is not None and 0 <= rid < len(per_row):
            name += f" ({per_row[rid]:.4g} writes)"
        name_thread(PID_ROWS, int(rid), name)
    layers = w.layer.tolist()
    parts, tiles = w.part.tolist(), w.tile.tolist()
    rowids, starts = wi.rowid.tolist(), wi.start.tolist()
    wends, hends, wsteps = wi.write_end.tolist(), wi.hold_end.tolist(), wi.step.tolist()
    for j in range(len(w)):
        args: dict[str, Any] = {"part": parts[j]}
        if tiles[j] >= 0:
            args["tile"] = tiles[j]
        rid = rowids[j]
        extra: dict[str, Any] = {}
        if per_row is not None and 0 <= rid < len(per_row):
            args["row_writes"] = float(per_row[rid])
            extra["cname"] = _WEAR_NAMES[min(3, int(4 * per_row[rid] / top - 1e-9))]
        events.append({"ph": "X", "name": layers[j], "cat": "write", "pid": PID_ROWS,
                       "tid": rid, "ts": starts[j] * us, "dur": (wends[j] - starts[j]) * us,
                       "args": args, **extra})
        if wsteps[j] >= 0:
            events.append({"ph": "X", "name": layers[j], "cat": "hold", "pid": PID_ROWS,
                           "tid": rid, "ts": wends[j] * us, "dur": (hends[j] - wends[j]) * us,
                           "args": args, **extra})
    times, apus = write_level(schedule, hw)
    for t, a in zip(times.tolist(), apus.tolist(), strict=True):
        events.append({"ph": "C", "name": COUNTER_NAME, "pid": PID_ROWS, "ts": t * us,
                       "args": {"apus": a}})
    # ----- Gbuffer -----
    name_process(PID_GBUFFER, "Gbuffer")
    for b, size in enumerate(hw.gbuffer_banks):
        name_thread(PID_GBUFFER, b, f"bank {b} ({size_text(size)})")
    for iv in bank_intervals(schedule):
        s = steps[iv.step]
        events.append({"ph": "X", "name": iv.role, "cat": "gbuffer", "pid": PID_GBUFFER,
                       "tid": iv.bank, "ts": iv.start * us, "dur": (iv.end - iv.start) * us,
                       "args": {"step": f"{s.layer}/{s.part}",
                                "bytes": hw.gbuffer_banks[iv.bank]
                                if 0 <= iv.bank < len(hw.gbuffer_banks) else None}})
    # Stable sort by ts: events on one thread never nest, so at equal ts the build order
    # (schedule order: a zero-cycle op before the step that follows it) is the right one.
    events.sort(key=lambda e: e["ts"])
    makespan_us = max([s.end for s in steps] + [int(wi.hold_end.max()) if len(w) else 0]) * us
    return {"traceEvents": meta + events,
            # Viewers read ts in microseconds whatever this says; it only sets the display.
            "displayTimeUnit": "ms" if makespan_us >= 1000 else "ns",
            "otherData": {"network": schedule.network, "method": schedule.method,
                          "hardware": hw.name, "makespan_cycles": int(schedule.makespan),
                          "bank_mode": schedule.extra.get("bank_mode", "per-step"),
                          "frequency_hz": hw.frequency_hz,
                          "write_latency_cycles": hw.write_latency_cycles,
                          "max_concurrent_apu_writes": hw.max_concurrent_apu_writes}}


def save_trace(schedule: Schedule, problem: Problem, path: str | Path, *, wear: bool = False
               ) -> Path:
    """Write :func:`chrome_trace` as compact JSON.

    Parameters
    ----------
    schedule, problem, wear
        As for :func:`chrome_trace`.
    path
        Output file (conventionally ``*.json``; open it in https://ui.perfetto.dev
        or chrome://tracing).

    Returns
    -------
    Path
        The file written.
    """
    p = Path(path)
    with atomic_path(p) as tmp, tmp.open("w") as f:
        json.dump(chrome_trace(schedule, problem, wear=wear), f, separators=(",", ":"))
    return p


def size_text(n: int) -> str:
    """Bytes as a short power-of-two size (``1 KB``, ``256 KB``, ``2 MB``, else ``n B``)."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


__all__ = ["chrome_trace", "save_trace", "write_intervals", "bank_intervals", "write_level",
           "size_text", "WriteIntervals", "BankInterval", "COUNTER_NAME"]
