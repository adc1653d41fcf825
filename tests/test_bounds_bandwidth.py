"""Bounds where memory bandwidth binds (R6), against exact optima (docs/bounds.md, "Cut bound",
write-time argument).

The exhaustive optima of ``tests/exhaustive.py`` assume that bandwidth does not bind. Here the
accelerator instead has a row for every write any schedule could make (``N >= sum of
windows x rows`` over the layers, the most copies each can use), so no schedule needs to
write a row twice, and any schedule can be moved onto distinct rows without changing a time.
For a chain of layers at fixed replications, layer ``k`` computes after every write of layers
``1..k`` has ended (R3, R4); writes last ``T`` and at most ``S`` run at once (R6), so the
last of the first ``m`` writes ends no earlier than ``ceil(m / S) T`` (equal jobs on ``S``
machines), and writing in compute order reaches that for every ``m`` at once. So the optimum
at fixed replications is ``e_k = max(e_{k-1}, ceil(R_1..k / S) T) + ceil(n_k / r_k) L`` with
``R_1..k`` the rows of layers ``1..k`` at their replications, and the optimum of the instance
is its least value over every replication. The test also builds that schedule and has the
evaluator confirm it.
"""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation import relaxed_bounds
from aras.evaluation.bounds import bounds
from aras.evaluation.evaluator import evaluate
from aras.model.assembly import Builder
from aras.model.hardware import Hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import NetworkBuilder

BYTES_PER_APU_WRITE = 128 * 128 * 2 // 8


def _instance(widths: list[int], tokens: int, slots: int, T: int, L: int) -> Problem:
    """A chain of linears, one PE with a row for every copy any layer can use, and a memory
    that writes ``slots`` rows (of 4 APUs) at once."""
    rows = [-(-a // 128) * -(-b // 128) for a, b in itertools.pairwise(widths)]
    n_rows = tokens * sum(rows)
    bw = (slots * 4 * BYTES_PER_APU_WRITE + 0.5) / (T / 1e9)
    hw = Hardware(name="bw", pes=1, apu_rows_per_pe=n_rows, apus_per_row=4,
                  write_latency_cycles=T, compute_latency_cycles=L,
                  memory_bandwidth_bytes_s=bw, gbuffer_banks=(1 << 20,) * 3)
    assert hw.write_slots == min(slots, n_rows)
    b = NetworkBuilder("chain", {"x": (tokens, widths[0])})
    x = "x"
    for i, (w_in, w_out) in enumerate(itertools.pairwise(widths)):
        x = b.add(f"l{i}", "linear", [x], in_features=w_in, out_features=w_out)
    p = map_network(b.build(), hw)
    assert [s.apu_rows for s in p.steps] == rows
    return p


def _optimum(p: Problem, tokens: int) -> tuple[int, tuple[int, ...]]:
    """The least makespan over every replication (the recursion above), and its replications."""
    hw = p.hardware
    T, L, S = hw.write_latency_cycles, hw.compute_latency_cycles, hw.write_slots
    best: tuple[int, tuple[int, ...]] | None = None
    for reps in itertools.product(range(1, tokens + 1), repeat=len(p.steps)):
        end = written = 0
        for s, r in zip(p.steps, reps, strict=True):
            written += r * s.apu_rows
            end = max(end, -(-written // S) * T) + -(-tokens // r) * L
        if best is None or end < best[0]:
            best = (end, reps)
    assert best is not None
    return best


def _check_schedule(p: Problem, reps: tuple[int, ...], makespan: int) -> None:
    """Build the in-order schedule of ``reps`` and have the evaluator confirm its makespan."""
    hw = p.hardware
    T, S = hw.write_latency_cycles, hw.write_slots
    bld = Builder(p, "exact")
    m = end = 0
    for s, r in zip(p.steps, reps, strict=True):
        for _ in range(r * s.apu_rows):
            bld.write(s, m, (m // S) * T)  # write m on its own row, in slot m mod S
            m += 1
        end = bld.compute(s, max(end, -(-m // S) * T), r)
    rep = evaluate(p, bld.build())
    assert rep.valid, [str(v) for v in rep.violations[:3]]
    assert rep.makespan_cycles == makespan


def test_bandwidth_arguments_by_hand(monkeypatch):
    """One 1-row linear with 8 tokens, 8 rows, 2 write slots, T = L = 100.

    Optimum: r copies take ceil(r / 2) write rounds, then ceil(8 / r) windows:
    r = 1..8 give 900, 500, 500, 400, 500, 500, 600, 500, so 400 at r = 4. The write bound is
    one round plus the fastest compute, 100 + 100 = 200.

    Write-time head (cut bound): with chain weight 1/2 and write-time weight 1/2 it is
    min_r 0.5 (100 + 100 ceil(8 / r)) + 0.5 r 100 / 2 = 250 (at r = 4).

    Slot rounds (path bound): starting in round m = 1 leaves 2 rows, whose least compute the
    row price 100 bounds by min_r (100 ceil(8 / r) + 100 r) - 200 = 400, so e >= 100 + 400;
    starting in round m = 2 leaves 4 rows, and e >= 2 x 100 + c(r) with r's rows among them:
    priced at 50, 200 + min_r (100 ceil(8 / r) + 50 r) - 200 = 400; m >= 3 starts at 300 and
    ends after 400. So the path bound is 400: the optimum.
    """
    p = _instance([128, 128], 8, 2, 100, 100)
    opt, reps = _optimum(p, 8)
    assert (opt, reps) == (400, (4,))
    _check_schedule(p, reps, opt)
    b = bounds(p)
    assert b.write == 200
    assert b.cut >= 250
    assert b.path == opt
    assert b.lower <= opt
    monkeypatch.setattr(relaxed_bounds, "_BW_STEPS", 0)  # the row-time line alone
    assert bounds(p).cut < 250


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widths=st.lists(st.sampled_from([64, 128, 200, 256]), min_size=2, max_size=4),
       tokens=st.integers(1, 6), slots=st.integers(1, 4), T=st.integers(50, 3000),
       L=st.integers(1, 1500))
def test_bounds_below_exact_optima_with_binding_bandwidth(widths, tokens, slots, T, L):
    p = _instance(widths, tokens, slots, T, L)
    opt, reps = _optimum(p, tokens)
    _check_schedule(p, reps, opt)
    b = bounds(p)
    assert b.lower <= opt, (opt, reps, b)


@pytest.mark.parametrize("T,L", [(100, 100), (300, 700)])
def test_write_time_bound_above_write_bound_when_compute_is_large(T, L):
    """Three-layer chains where a window's compute is large against ``T``, so replication
    trades compute for write rounds: the bound stays below the optimum and above the write
    bound (which counts the rounds at r = 1 and the compute at the largest r apart)."""
    p = _instance([128, 256, 128, 128], 6, 2, T, L)
    opt, reps = _optimum(p, 6)
    _check_schedule(p, reps, opt)
    b = bounds(p)
    assert b.write < b.lower <= opt, (opt, b)


def test_slot_rounds_stay_fast_when_compute_dwarfs_the_write_latency() -> None:
    """24 convolutions of 1.6 million cycles each, T = 100 and 3 rows written at once: the
    slot rounds' least over the start round m ran one round per T up to the bound (10 s of
    CPU here); their bound is convex in m, so bisection finds the same least in a few."""
    hw = Hardware(name="tiny", pes=1, apu_rows_per_pe=8, apus_per_row=1, crossbar_rows=16,
                  crossbar_cols=16, write_latency_cycles=100, gbuffer_banks=(1 << 16,) * 2,
                  memory_bandwidth_bytes_s=2e9)
    b = NetworkBuilder("long", {"x": (16, 128, 128)})
    y = "x"
    for i in range(24):
        y = b.conv(f"c{i}", y, 16, 16, 1)
    p = map_network(b.build(), hw)
    assert (hw.write_slots, hw.write_latency_cycles) == (3, 100)
    t0 = time.process_time()
    bd = bounds(p)
    assert time.process_time() - t0 < 2.0
    assert bd.path >= bd.chain > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(widths=st.lists(st.sampled_from([64, 128, 200, 256]), min_size=2, max_size=4),
       tokens=st.integers(1, 6), slots=st.integers(1, 4), T=st.integers(50, 3000),
       L=st.integers(1, 1500))
def test_slot_dp_meets_the_optimum_of_chains_with_rows_to_spare(widths, tokens, slots, T, L):
    """On these chains the rows never bind, only the write slots: the optimum is the
    recursion of the module's docstring, least over every replication, and the slot DP
    (docs/bounds.md, "Slot DP") states the same recursion over every order and replication,
    so the certified bound meets the optimum wherever the slots bind (built by a different
    code path: an enumeration of replications here, a DP over rows there)."""
    p = _instance(widths, tokens, slots, T, L)
    opt, reps = _optimum(p, tokens)
    b = bounds(p)
    if p.hardware.write_slots < p.hardware.total_apu_rows:
        assert b.lower == opt, (opt, reps, b)
    else:
        assert b.lower <= opt
