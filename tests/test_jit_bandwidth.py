"""jit where memory bandwidth binds: fewer write slots than rows, parts larger than the slots."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aras
from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.heuristics.jit import jit_schedule, jit_times
from aras.model.hardware import Hardware, aras_hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import NetworkBuilder
from formulations import WriteCap
from tests.helpers import benchmark_script, sized_instances, tiny_hardware
from tests.test_families import _most_concurrent


def _slots(hw: Hardware, k: int) -> Hardware:
    """``hw`` with the memory bandwidth that writes exactly ``k`` APU rows at once."""
    write_s = hw.write_latency_cycles / hw.frequency_hz
    bw = (k * hw.apus_per_row + 0.5) * hw.bytes_per_apu_write / write_s
    out = dataclasses.replace(hw, memory_bandwidth_bytes_s=bw)
    assert out.max_concurrent_row_writes == k
    return out


def _hand(rows_per_pe: int) -> Problem:
    """c0 (1x1 conv, 144 windows of 96 cycles) -> global pool -> fc1 -> fc2 (one window
    each), every part one row; one write slot, T = 1000."""
    b = NetworkBuilder("hand", {"x": (8, 12, 12)})
    y = b.conv("c0", "x", 8, 8, 1)
    g = b.pool("gap", y, global_=True)
    f = b.linear("fc1", g, 8, 8)
    b.linear("fc2", f, 8, 8)
    hw = tiny_hardware(pes=1, apu_rows_per_pe=rows_per_pe, write_latency_cycles=1000,
                       gbuffer_banks=(1 << 16,) * 3)
    return map_network(b.build(), _slots(hw, 1))


def test_waves_and_early_writes_by_hand():
    """One slot: c0 at 3 copies is written in 3 waves; just in time, fc2's write waits for
    fc1's (written just before fc1 computes), early it goes right after c0's; with 4 rows
    fc2's row is c0's, so both wait for c0's end."""
    for rows_per_pe in (4, 5):
        p = _hand(rows_per_pe)
        c0, fc1, fc2 = p.weighted_steps
        assert [s.apu_rows for s in (c0, fc1, fc2)] == [1, 1, 1]
        assert p.hardware.write_slots == 1
        T = 1000
        e0 = 3 * T + p.compute_cycles(c0, 3)  # waves at 0, T, 2T; computes at 3T
        e1 = e0 + p.compute_cycles(fc1, 1)    # fc1's write ends by e0 either way
        reps = {c0.index: 3, fc1.index: 1, fc2.index: 1}
        late = jit_times(p, reps)[0]
        # just in time: fc1 writes in [e0 - T, e0), so fc2's write starts at e0
        assert (late[c0.index], late[fc1.index], late[fc2.index]) == (3 * T, e0, e0 + T)
        early = jit_times(p, reps, early=True)[0]
        # early: fc1 writes in [3T, 4T), fc2 in [4T, 5T), unless fc2 needs c0's row
        want = e0 + T if rows_per_pe == 4 else e1
        assert (early[c0.index], early[fc1.index], early[fc2.index]) == (3 * T, e0, want)
        for flag, starts in ((False, late), (True, early)):
            s = jit_schedule(p, reps, early=flag)
            rep = evaluate(p, s, cost=False)
            assert rep.valid, rep.violations[:3]
            end = starts[fc2.index] + p.compute_cycles(fc2, 1)
            assert rep.makespan_cycles == s.makespan == end
            w = sorted(t for layer, t in zip(s.writes.layer.tolist(), s.writes.start.tolist(),
                                             strict=True) if layer == "c0")
            assert w == [0, T, 2 * T]


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(sized_instances(max_weighted_steps=5, max_parts=2), st.integers(1, 3))
def test_jit_with_few_write_slots_is_valid_exact_and_above_the_bound(inst, k):
    """Random instances with 1-3 write slots (parts of up to 16 rows, many larger than the
    slots): every jit schedule is valid, its own makespan is the evaluator's, and no
    schedule is below the certified lower bound."""
    net, hw = inst
    p = map_network(net, _slots(hw, k))
    res = aras.solve(p, "jit")
    assert res.status.value in ("feasible", "optimal"), res.messages
    rep = evaluate(p, res.schedule, cost=False)
    assert rep.valid, rep.violations[:3]
    assert res.schedule.makespan == rep.makespan_cycles == res.objective
    assert res.objective >= res.bound
    T = p.hardware.write_latency_cycles
    assert _most_concurrent(res.schedule.writes.start, T) <= p.hardware.write_slots


@pytest.mark.parametrize("net", ["resnet50", "bert-base"])
def test_jit_at_1_2_gbs_no_worse_than_the_list_schedulers(net):
    """At 1.2 GB/s (56 rows written at once; parts of up to 576 rows) jit schedules every
    part, and is no slower than baseline or aras."""
    hw = dataclasses.replace(aras_hardware(), memory_bandwidth_bytes_s=1.2e9)
    p = map_network(load_network(net), hw)
    assert hw.write_slots == 56 and max(s.apu_rows for s in p.weighted_steps) > 56
    j = aras.solve(p, "jit")
    assert j.report.valid and j.schedule.makespan == j.objective
    for other in ("baseline", "aras"):
        assert j.objective <= aras.solve(p, other).objective
    assert j.objective >= j.bound


def test_write_cap_below_a_part_rows_works_with_jit():
    """A write cap of 2 rows on a network with parts of more rows: jit keeps the cap."""
    net = load_network("resnet-18")
    p = map_network(net, aras_hardware())
    biggest = max(s.apu_rows for s in p.weighted_steps)
    assert biggest > 2
    res = aras.solve(p, "jit", families=[WriteCap(2)])
    assert res.report.valid, res.messages
    T = p.hardware.write_latency_cycles
    assert _most_concurrent(res.schedule.writes.start, T) <= 2
    # every row written once at least, two at a time
    rows = sum(s.apu_rows * s.replication for s in res.schedule.steps)
    assert res.objective >= -(-rows // 2) * T


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(sized_instances(max_weighted_steps=8, max_parts=2), st.integers(1, 3),
       st.booleans(), st.randoms(use_true_random=False))
def test_incremental_timing_with_write_slots_equals_a_full_recomputation(inst, k, early, rng):
    """With binding write slots the slots' state is part of what a move re-times: replication
    changes and moves of a step, timed from the changed position on, equal timing the whole
    order again."""
    from aras.methods.heuristics.jit import _Timing

    net, hw = inst
    p = map_network(net, _slots(hw, k))
    order = [s.index for s in p.steps]
    reps = {s.index: rng.randint(1, p.max_replication(s)) for s in p.weighted_steps}
    timing = _Timing(p, order, reps, early)
    for _ in range(15):
        s = rng.choice(p.weighted_steps)
        r2 = dict(reps)
        r2[s.index] = rng.randint(1, p.max_replication(s))
        j = order.index(s.index)
        assert timing.makespan(order, r2, j, j) == _Timing(p, order, r2, early).value
        a, b = sorted(rng.sample(range(len(order)), 2)) if len(order) > 1 else (0, 0)
        seg = order[a + 1:b + 1] + [order[a]]  # the step at a moved to b
        moved = order[:a] + seg + order[b + 1:]
        assert timing.makespan_moved(seg, reps, a) == _Timing(p, moved, reps, early).value


def _least_compute(p: Problem, budget: int) -> int:
    """The least total compute of ``p``'s weight-bearing parts at replications with at most
    ``budget`` rows in all, by a dictionary over the rows used (shares no code with jit)."""
    frontier = {0: 0}  # rows used -> least compute so far
    for s in p.weighted_steps:
        nxt: dict[int, int] = {}
        for used, c in frontier.items():
            for r in range(1, p.max_replication(s) + 1):
                rows = used + r * s.apu_rows
                if rows <= budget:
                    c2 = c + p.compute_cycles(s, r)
                    nxt[rows] = min(nxt.get(rows, c2), c2)
        frontier = nxt
    return min(frontier.values())


@pytest.mark.parametrize("k", [28])
def test_jit_fills_the_first_write_round_where_that_is_optimal(k):
    """ResNet-50's first k weighted layers on 192 PEs (S = 900 write slots, N = 1,152 rows)
    end before 2 T, so every write is its slot's first: the optimum writes S rows in [0, T)
    and computes in order, at ``T`` plus the least compute of the parts in S rows (plus the
    weightless ops after the first weights). jit's first-round start reaches it (local
    moves from its other starts stopped 0.6-0.8% above at 16-24 layers), and the slot rounds
    of the whole network certify it (the per-step bounds were 2.9% below it at 28)."""
    prefix_gap = benchmark_script("prefix_gap")
    hw = aras_hardware().replace(pes=192)
    p = map_network(prefix_gap.prefix(load_network("resnet50"), k), hw)
    T, S = hw.write_latency_cycles, hw.write_slots
    assert hw.total_apu_rows > S
    opt = prefix_gap.first_round_optimum(p)
    assert opt is not None and opt < 2 * T
    weightless = opt - T - _least_compute(p, S)
    assert 0 <= weightless < 0.01 * opt  # pools and adds after the first weights
    res = aras.solve(p, "jit")
    assert res.report is not None and res.report.valid and res.report.makespan_cycles == opt
    assert res.bounds.lower == opt
    assert res.status == aras.Status.OPTIMAL
