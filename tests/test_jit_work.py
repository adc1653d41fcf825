"""jit's search stays within its work budget: every step it times is counted."""

from __future__ import annotations

import importlib
import tracemalloc

import pytest

from aras.model.hardware import Hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import NetworkBuilder

jit_mod = importlib.import_module("aras.methods.heuristics.jit")


def _count_steps(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count every step any timing of the search times (a wrapper on the recursion's step,
    independent of the search's own bookkeeping)."""
    calls = [0]
    step = jit_mod._Timing._step

    def counted(self: object, *args: object) -> int:
        calls[0] += 1
        return step(self, *args)

    monkeypatch.setattr(jit_mod._Timing, "_step", counted)
    return calls


def _split_layers() -> Problem:
    """Two 1x1 convolutions of 256 channels on a one-row accelerator: 1024 parts each (16
    segments of 16 input rows by 64 blocks of 4 kernels), every part of the second depending
    on every part of the first."""
    hw = Hardware(name="one-row", pes=1, apu_rows_per_pe=1, apus_per_row=1, crossbar_rows=16,
                  crossbar_cols=16, write_latency_cycles=100, gbuffer_banks=(1 << 16,) * 2,
                  memory_bandwidth_bytes_s=1e13)
    b = NetworkBuilder("split", {"x": (256, 2, 2)})
    y = b.conv("c1", "x", 256, 256, 1)
    b.conv("c2", y, 256, 256, 1)
    p = map_network(b.build(), hw)
    assert [sum(s.layer == n for s in p.steps) for n in ("c1", "c2")] == [1024, 1024]
    assert p.hardware.write_slots == p.total_apu_rows == 1
    return p


def test_every_step_timed_is_counted_on_split_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _split_layers()
    calls = _count_steps(monkeypatch)
    work = 200_000
    found = jit_mod.jit_search(p, work=work)
    # The scans of the balanced starts time the whole order per value (48 values, two
    # families: 196,608 steps here): they count against their starts' shares, so the steps
    # timed stay within the budget (past it by a few timings of the order at most: once it
    # is spent, every phase stops before its next part).
    slack = 8 * len(p.steps)
    assert calls[0] <= work + slack
    assert calls[0] <= found.work <= work + slack
    # jit_times's timing of the result is the search's makespan
    start, end = jit_mod.jit_times(p.reordered([p.steps[i].key for i in found.order]),
                                   {j: found.reps[i] for j, i in enumerate(found.order)
                                    if i in found.reps}, found.early)
    assert max(end) == found.makespan



def test_the_search_keeps_dependencies_by_layer_on_split_layers() -> None:
    p = _split_layers()
    tracemalloc.start()
    try:
        jit_mod.jit_search(p, work=20_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Lists of every part's predecessors and successors would hold 2 x 1024^2 entries here
    # (16.8 MB of pointers, and as many visits per pass of order moves); kept by layer, the
    # search needs a few bytes per step.
    assert peak < 8_000_000
