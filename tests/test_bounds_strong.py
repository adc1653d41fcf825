"""The path and window bounds (docs/bounds.md): never above a schedule, tight where known.

Besides the heuristics and the randomised scheduler of ``tests/helpers.py``, these tests build
just-in-time schedules: every write of a part starts exactly ``write_latency`` before its
compute, rows are handed out by interval colouring, and compute starts are the earliest the
rows allow. When memory bandwidth does not bind, the best of them over every replication and
compute order is an optimal schedule (docs/bounds.md, "relaxed instance"), so enumerating them
on small networks gives optima that a valid bound must not exceed and often meets.
"""

from __future__ import annotations

import heapq
import itertools
import time

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation import ideals as ideal_sets
from aras.evaluation import relaxed_bounds, window
from aras.evaluation.bounds import bounds, lower_bound, path_bound, window_bound
from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.heuristics.engine import Builder
from aras.methods.heuristics.jit import jit
from aras.methods.solve import solve
from aras.model.hardware import aras_hardware
from aras.model.mapping import Problem, Step, map_network
from aras.model.network import NetworkBuilder
from aras.model.schedule import Schedule
from tests.exhaustive import optimum
from tests.helpers import (
    random_schedule,
    sized_instances,
    small_hardware,
    small_networks,
    tiny_hardware,
)
from tests.test_milp import _chain, _enumerate

HEURISTICS = ("naive", "baseline", "greedy-replication", "aras", "jit")


# ----- just-in-time schedules -----

def jit_times(problem: Problem, order: list[Step], reps: dict[int, int]) -> dict[int, int]:
    """Earliest compute starts of a just-in-time schedule with this order and replication.

    A part's rows are written during the ``T`` cycles before its compute; at that moment the
    rows still held are those of the latest parts in the order (ends increase along it), so
    the write must wait for the end of the latest earlier part that would overflow the rows.
    """
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    held: list[tuple[int, int]] = []  # (end, rows) of the weight-bearing parts so far
    prev = 0
    for s in order:
        if s.weighted:
            rows = reps[s.index] * s.apu_rows
            t, acc = max(prev, T), rows
            for e, r in reversed(held):
                acc += r
                if acc > N:
                    t = max(t, e + T)
                    break
            c = problem.compute_cycles(s, reps[s.index])
        else:
            t, c = prev, s.fixed_cycles
        start[s.index], end[s.index] = t, t + c
        if s.weighted:
            held.append((t + c, reps[s.index] * s.apu_rows))
        prev = t + c
    return start


def jit_schedule(problem: Problem, order: list[Step], reps: dict[int, int]) -> Schedule:
    """The just-in-time schedule of :func:`jit_times` (rows by interval colouring)."""
    T = problem.hardware.write_latency_cycles
    start = jit_times(problem, order, reps)
    b = Builder(problem, "jit")
    free = list(range(problem.total_apu_rows))
    busy: list[tuple[int, int]] = []  # (release, row)
    for s in sorted(order, key=lambda s: start[s.index]):
        if not s.weighted:
            continue
        t = start[s.index] - T
        while busy and busy[0][0] <= t:
            heapq.heappush(free, heapq.heappop(busy)[1])
        end = start[s.index] + problem.compute_cycles(s, reps[s.index])
        for _ in range(reps[s.index] * s.apu_rows):
            row = heapq.heappop(free)
            b.write(s, row, t)
            heapq.heappush(busy, (end, row))
    for s in order:
        b.compute(s, start[s.index], reps.get(s.index, 0))
    return b.build()


def orders(problem: Problem, limit: int) -> list[list[Step]]:
    """Up to ``limit`` compute orders (topological orders of the ops, parts together)."""
    by_layer: dict[str, list[Step]] = {}
    for s in problem.steps:
        by_layer.setdefault(s.layer, []).append(s)
    sorts = itertools.islice(nx.all_topological_sorts(problem.network.graph), limit)
    return [[s for name in names for s in by_layer[name]] for names in sorts]


def makespan(problem: Problem, order: list[Step], reps: dict[int, int]) -> int:
    start = jit_times(problem, order, reps)
    return max(start[s.index] + problem.compute_cycles(s, reps.get(s.index, 0)) for s in order)


def best_jit(problem: Problem, n_orders: int = 4, sweeps: int = 2) -> tuple[int, Schedule]:
    """A good just-in-time schedule: coordinate descent on replication, a few orders."""
    weighted = problem.weighted_steps
    best: tuple[int, Schedule] | None = None
    for order in orders(problem, n_orders):
        reps = {s.index: 1 for s in weighted}
        cur = makespan(problem, order, reps)
        for _ in range(sweeps):
            for s in weighted:
                rmax = problem.max_replication(s)
                for r in sorted({1, 2, 3, rmax // 2, rmax, reps[s.index] + 1, reps[s.index] - 1}):
                    if not 1 <= r <= rmax or r == reps[s.index]:
                        continue
                    old, reps[s.index] = reps[s.index], r
                    v = makespan(problem, order, reps)
                    if v < cur:
                        cur = v
                    else:
                        reps[s.index] = old
        if best is None or cur < best[0]:
            best = (cur, jit_schedule(problem, order, reps))
    assert best is not None
    return best


def exhaustive_jit(problem: Problem, r_max: int = 4, n_orders: int = 24) -> int:
    """Least just-in-time makespan over every order (up to a limit) and replication <= r_max."""
    weighted = problem.weighted_steps
    choices = [range(1, min(r_max, problem.max_replication(s)) + 1) for s in weighted]
    best = None
    for order in orders(problem, n_orders):
        for combo in itertools.product(*choices):
            reps = {s.index: r for s, r in zip(weighted, combo, strict=True)}
            v = makespan(problem, order, reps)
            best = v if best is None else min(best, v)
    assert best is not None
    return best


def _linear_chain(widths: list[int], n_rows: int, T: int, tokens: int = 1):
    """A chain of linears through feature sizes ``widths`` on a one-PE accelerator."""
    b = NetworkBuilder("lin", {"x": (tokens, widths[0])})
    x = "x"
    for i, (w_in, w_out) in enumerate(itertools.pairwise(widths)):
        x = b.add(f"l{i}", "linear", [x], in_features=w_in, out_features=w_out)
    hw = tiny_hardware(pes=1, apu_rows_per_pe=n_rows, write_latency_cycles=T,
                       gbuffer_banks=(1 << 20,) * 3)
    return map_network(b.build(), hw)


# ----- known optima -----

@pytest.mark.parametrize("widths,rows,T", [
    ([(8, 6), (8, 6), (8, 6)], 2, 2000),
    ([(8, 8), (8, 4), (8, 8)], 3, 3000),
    ([(8, 6), (8, 6), (8, 6), (8, 6)], 2, 500),
])
def test_bounds_below_enumerated_optima(widths, rows, T):
    """The MILP tests' exhaustive optima (every replication, every release event)."""
    p = _chain(widths, rows, T)
    want = _enumerate(p)
    b = bounds(p)
    assert b.path <= want and b.window <= want and b.lower <= want
    # Just-in-time schedules reach the same optimum on these chains.
    assert exhaustive_jit(p, r_max=8) == want


def test_simple_bounds_by_hand():
    """One linear (128 -> 128, 5 tokens: 1 APU row, 5 windows) on 1 PE x 2 rows, T = 1000.

    write = ceil(1 row / 2 slots) x 1000 + ceil(5 / 2) x 96 (largest replication 2) = 1288;
    chain = max(288, 1000 + 288) = 1288; area = ceil(1 x (1000 + 5 x 96) / 2) = 740. Two copies
    written at 0 and computed [1000, 1288) reach 1288, so it is the optimum.
    """
    p = _linear_chain([128, 128], 2, 1000, tokens=5)
    b = bounds(p)
    assert (b.write, b.chain, b.area) == (1288, 1288, 740)
    assert b.lower == 1288
    bld = Builder(p, "hand")
    (s,) = p.steps
    bld.write(s, 0, 0)
    bld.write(s, 1, 0)
    bld.compute(s, 1000, 2)
    rep = evaluate(p, bld.build())
    assert rep.valid and rep.makespan_cycles == 1288


def test_write_bound_counts_rounds_of_the_bandwidth_limit():
    """Three 1-row linears (5 tokens) on 4 rows, but the memory writes one row of 4 APUs at a
    time (4 x 4096 bytes per 1e-6 s = 16.384e9 B/s): 3 rounds, 3 x 1000 + ceil(5 / 4) x 96 =
    3192 (not ceil(3 / 4) = 1 round). chain = max(3 x 192, 1000 + 3 x 192) = 1576;
    area = ceil(3 x (1000 + 480) / 4) = 1110.
    """
    p = _linear_chain([128, 128, 128, 128], 4, 1000, tokens=5)
    hw = p.hardware.replace(memory_bandwidth_bytes_s=4 * 4096 / 1e-6)
    assert hw.write_slots == 1
    b = bounds(map_network(p.network, hw))
    assert (b.write, b.chain, b.area) == (3192, 1576, 1110)


def test_path_bound_is_exact_when_every_pair_overflows():
    """Three layers of 3 rows on 5 rows: no two fit together, so each part's writes wait for
    the previous part's end: three write rounds and three computes in sequence, where the
    write bound counts two rounds and one compute."""
    p = _linear_chain([128, 384, 128, 384], 5, 1000, tokens=5)
    assert [s.apu_rows for s in p.steps] == [3, 3, 3]
    T, c = 1000, 5 * p.hardware.compute_latency_cycles
    opt = exhaustive_jit(p, r_max=8)
    assert opt == 3 * T + 3 * c
    b = bounds(p)
    assert b.path == opt
    # Windows count the rounds; each round must also release the previous layer's rows (its
    # compute) before the next layer's writes start, so the window bound meets the optimum too.
    assert b.window == opt
    assert b.write == 2 * T + c


def test_window_bound_charges_the_release_before_each_round():
    """Six 2-row linears (5 tokens) on 4 rows: each round holds two layers, and the next
    round's first layer can only be written once one of them has computed (at r = 1: the
    round leaves no row for a copy). Without that release (fact 4 of the window bound) the
    windows gave 4,400 cycles; with it they meet the enumerated optimum."""
    p = _linear_chain([128, 256] * 3 + [128], 4, 1000, tokens=5)
    assert [s.apu_rows for s in p.steps] == [2] * 6
    opt = exhaustive_jit(p, r_max=8)
    assert bounds(p).window == opt == 4920


def test_window_bound_releases_a_prefix_of_the_round(monkeypatch):
    """Two 1-row and two 3-row linears (17 tokens) on 4 rows: the rows the next round needs
    are freed by the round's first computes, not by whichever of its layers computes fastest.
    With the release a prefix of the round the window bound meets the enumerated optimum,
    where the path bound and the release as any subset stay below it."""
    p = _linear_chain([128, 128, 128, 384, 384], 4, 3000, tokens=17)
    assert [s.apu_rows for s in p.steps] == [1, 1, 3, 3, 3, 3]
    opt = exhaustive_jit(p, r_max=8)
    b = bounds(p)
    assert b.window == opt == 22104 > b.path
    # the DP alone (without the path recursion from its step ends, which meets it too)
    rx = relaxed_bounds._relaxed(p)
    end = relaxed_bounds._path(p, rx)[1]
    assert window._window(p, rx, end) == opt
    monkeypatch.setattr(window, "_MAX_PREFIXES", 0)
    assert window._window(p, rx, end) < opt


def test_window_bound_prices_two_rounds_together(monkeypatch):
    """Four linears (5 tokens, 3, 2, 2 and 2 rows) on 6 rows, T = 1000: a fast first round
    needs copies, and copies still held when the second round's writes start take rows
    from it. Priced together (fact 5) the window bound rises above its value with each
    round priced alone and above the path bound, and stays below the enumerated optimum
    (every order and replication, no code shared with the bound)."""
    p = _linear_chain([384, 128, 256, 128, 256], 6, 1000, tokens=5)
    assert [s.apu_rows for s in p.steps] == [3, 2, 2, 2]
    opt = optimum(p).makespan
    rx = relaxed_bounds._relaxed(p)
    path, end = relaxed_bounds._path(p, rx)
    both = window._window(p, rx, end)
    # every group before priced with the others, by their pointwise least terms: weaker
    # than one by one, still above each round alone
    monkeypatch.setattr(window._Coupled, "EXACT", 0)
    shared = window._window(p, rx, end)
    monkeypatch.setattr(window._Coupled, "EXACT", 1 << 20)
    assert window._window(p, rx, end) == both
    # too many order prefixes for the fine grid: a coarser price grid (every 16th) keeps it
    ideals = len(ideal_sets._lattice(window._window_view(rx)[1], 1 << 20).masks)
    monkeypatch.setattr(window._Coupled, "CELLS", ideals * 10 * 9 * 9)
    coarse = window._window(p, rx, end)
    monkeypatch.setattr(window._Coupled, "CELLS", 0)
    alone = window._window(p, rx, end)
    assert alone < both <= opt and path < both
    assert both > opt * 0.995
    assert alone < shared <= both and alone < coarse <= both


def test_window_bound_counts_next_fit_rounds_in_any_order():
    """Three parallel 2-row branches joined by a layer split into two 3-row parts, on 4 rows
    with negligible compute: in any order two branches share a window, the third and each
    part of the join need one each, so four rounds, where the write bound counts three."""
    b = NetworkBuilder("par", {"x": (1, 128)})
    outs = [b.add(f"q{i}", "linear", ["x"], in_features=128, out_features=256) for i in range(3)]
    cat = b.add("cat", "concat", outs, axis=1)
    b.add("o", "linear", [cat], in_features=768, out_features=64)
    T = 100_000
    hw = tiny_hardware(pes=1, apu_rows_per_pe=4, write_latency_cycles=T,
                       gbuffer_banks=(1 << 20,) * 3)
    p = map_network(b.build(), hw)
    assert [s.apu_rows for s in p.weighted_steps] == [2, 2, 2, 3, 3]
    opt = exhaustive_jit(p)
    bd = bounds(p)
    assert bd.write < 4 * T <= bd.window <= bd.lower <= opt < 4 * T + T // 100


# ----- no schedule beats them -----

@st.composite
def parallel_networks(draw: st.DrawFn):
    """Token sequences through blocks of 1-3 parallel linears joined by a concat, at times
    with a digital matmul of two branches on the side (an extra sink, like attention scores
    without their context), then a linear: compute orders differ in weight-bearing steps,
    unlike the chains of ``small_networks``."""
    tokens = draw(st.integers(1, 16))
    width = draw(st.integers(8, 300))
    b = NetworkBuilder("par", {"x": (tokens, width)})
    x = "x"
    for k in range(draw(st.integers(1, 3))):
        n_branches = draw(st.integers(1, 3))
        side = n_branches >= 2 and draw(st.booleans())
        outs: list[str] = []
        first = draw(st.integers(8, 300))
        for i in range(n_branches):
            out = first if side and i == 1 else (first if i == 0 else draw(st.integers(8, 300)))
            outs.append(b.add(f"b{k}_{i}", "linear", [x], in_features=width, out_features=out))
        if side:
            b.add(f"mm{k}", "matmul", [outs[0], outs[1]], transpose_b=True)
        x = b.add(f"cat{k}", "concat", outs, axis=1) if len(outs) > 1 else outs[0]
        width = _width_of(b, x)
    b.add("head", "linear", [x], in_features=width, out_features=draw(st.integers(1, 64)))
    return b.build()


def _width_of(b: NetworkBuilder, name: str) -> int:
    """Feature size of a tensor being built (linears and concats along features only)."""
    op = next(o for o in b.ops if o.name == name)
    if op.kind == "linear":
        return int(op.attrs["out_features"])
    return sum(_width_of(b, i) for i in op.inputs)


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(net=st.one_of(small_networks(), parallel_networks()), hw=small_hardware(),
       seed=st.integers(0, 2**32 - 1))
def test_no_schedule_beats_path_and_window_bounds(net, hw, seed):
    p = map_network(net, hw)
    b = bounds(p)
    best = None
    for method in HEURISTICS:
        res = solve(p, method)
        assert res.report is not None and res.report.valid, (method, res.messages)
        assert res.objective is not None and res.objective >= b.lower, (method, res.objective, b)
        best = res.objective if best is None else min(best, res.objective)
    rep = evaluate(p, random_schedule(p, np.random.default_rng(seed)))
    assert rep.valid and rep.makespan_cycles >= b.lower, (rep.makespan_cycles, b)
    cost, sched = best_jit(p)
    rep = evaluate(p, sched)
    if hw.write_slots >= hw.total_apu_rows:  # just-in-time writes may exceed the bandwidth
        assert rep.valid, [str(v) for v in rep.violations[:3]]
    if rep.valid:
        assert rep.makespan_cycles == cost >= b.lower, (cost, b)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=sized_instances(max_weighted_steps=4))
def test_bounds_below_exhaustive_jit_optimum(inst):
    """Every example is checked: the instances have at most 4 weight-bearing steps by
    construction, so 4^4 replications x 6 orders is enumerable."""
    net, hw = inst
    p = map_network(net, hw)
    assert 1 <= len(p.weighted_steps) <= 4
    # The enumeration ignores the bandwidth limit (R6), so its optimum is the optimum of the
    # same instance with the limit lifted; the bounds of that instance must stay below it.
    # (Bounds that count R6's write rounds may exceed it when the limit binds: those are
    # checked against valid schedules in test_no_schedule_beats_path_and_window_bounds.)
    free = hw.replace(memory_bandwidth_bytes_s=1e15)
    assert free.write_slots >= free.total_apu_rows
    opt = exhaustive_jit(map_network(net, free), r_max=4, n_orders=6)
    b = bounds(map_network(net, free))
    assert b.lower <= opt, (opt, b)
    assert max(b.path, b.window) <= opt, (opt, b)
    # The window bound on fewer steps (the lightest parallel ones left out, as on networks
    # past its caps) is a bound on the same instance: make it leave out at least one.
    p = map_network(net, free)
    rx = relaxed_bounds._relaxed(p)
    _, preds = window._window_view(rx)
    ideals = len(ideal_sets._lattice(preds, 10**6).masks)
    notes: list[str] = []
    fewer = window._window(p, rx, notes=notes, cap=ideals - 1)
    assert fewer <= opt, (fewer, opt, notes)


# ----- the built-in networks -----

@pytest.mark.parametrize("name,at_least_ms", [
    ("vgg16", 13.25), ("resnet50", 3.4), ("densenet161", 5.8), ("bert-base", 7.79),
    ("bert-large", 28.14),
])
def test_builtin_lower_bounds(name, at_least_ms):
    """Regression: the values reported in docs/bounds.md (and under the heuristics)."""
    p = map_network(load_network(name), aras_hardware())
    lb = lower_bound(p)
    assert lb >= at_least_ms * 1e6
    assert lb <= solve(p, "aras").objective
    assert path_bound(p) <= lb and window_bound(p) <= lb


def test_capped_bounds_say_so_and_stay_fast() -> None:
    """Bounds whose work is capped are reported, never silently 0 (LLM scale, branchy ONNX)."""
    onnx = pytest.importorskip("onnx")
    from pathlib import Path

    p = map_network(load_network("llama-2-7b"), aras_hardware())
    b = bounds(p)
    assert b.path == 0 and any(n.startswith("path bound skipped") for n in b.notes)
    assert b.lower >= b.write > 0
    light = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    p = map_network(load_network(str(light / "light_inception_v1.onnx")), aras_hardware())
    t0 = time.process_time()  # CPU seconds: the suite runs beside other work
    b = bounds(p)
    assert time.process_time() - t0 < 10
    # its zero-cost steps left out, the window bound's DP fits its caps
    assert b.window >= b.path > 0 and not b.notes
    assert not bounds(map_network(load_network("resnet50"), aras_hardware())).notes


def test_window_bound_leaves_out_light_parallel_steps_past_its_caps() -> None:
    """Six parallel branches of three 9-row convolutions have 4^6 = 4,096 order prefixes.
    Past a cap of 1,000 the window bound runs on the heavier steps instead of being skipped,
    says so, and stays below a schedule. The steps left out are the lightest (the branches'
    last layers have 16-96 channels)."""
    b = NetworkBuilder("wide", {"x": (128, 8, 8)})
    outs = []
    for i in range(6):
        y = "x"
        for j in range(3):
            y = b.add(f"b{i}_{j}", "conv2d", [y], c_in=128, c_out=128 if j < 2 else 16 * (i + 1),
                      kernel=[3, 3], padding=[1, 1])
        outs.append(y)
    b.add("cat", "concat", outs)
    hw = aras_hardware().replace(pes=4)
    p = map_network(b.build(), hw)
    rx = relaxed_bounds._relaxed(p)
    notes: list[str] = []
    fewer = window._window(p, rx, notes=notes, cap=1000)
    said = [n for n in notes if n.startswith("window bound on")]
    assert fewer > 0 and len(said) == 1, notes
    kept, total = (int(x) for x in said[0].split()[3:6:2])
    assert total == len(p.weighted_steps) == 18 and 0 < kept < total
    rep = evaluate(p, jit(p))  # (solve would compute every bound again)
    assert rep.valid and fewer <= rep.makespan_cycles
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    drop: set[int] = set()
    assert window._window_steps(rx, T, N, 1000, drop) is not None
    assert len(drop) == total - kept
    weight = {i: float((rx.options[i][1] + rx.options[i][0] * T / N).min())
              for i in range(len(rx.rows)) if rx.weighted[i]}
    assert max(weight[i] for i in drop) <= min(w for i, w in weight.items() if i not in drop)
    # the public knob: bounds(effort=...) scales the same caps (20,000 order prefixes at 1)
    def kept_by(b):
        said = [n for n in b.notes if n.startswith("window bound on")]
        return int(said[0].split()[3]) if said else total

    low, full = bounds(p, effort=0.05), bounds(p)
    assert any("1,000 order prefixes" in n for n in low.notes), low.notes
    assert kept_by(low) < kept_by(full)
    assert low.window <= full.window <= rep.makespan_cycles
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="effort"):
            bounds(p, effort=bad)


@pytest.mark.parametrize("spec, rows, T", [
    ([(8, 6)] * 4, 2, 2000),
    ([(8, 8)] * 4, 4, 1000),
    ([(16, 10), (8, 10), (16, 10)], 6, 800),
])
def test_replication_states_meet_chain_optima(spec, rows, T, monkeypatch):
    """On these chains the path bound with replication states equals the optimum found by the
    MILP tests' enumeration (every replication and release event, costed by the evaluator);
    with one replication run per step (no states) it stays below it."""
    import aras.evaluation.relaxed_bounds as bounds_module

    p = _chain(spec, rows, T)
    opt = _enumerate(p)
    assert path_bound(p) == opt
    monkeypatch.setattr(bounds_module, "_STATE_GRIDS", ((1, 1),))
    assert path_bound(p) < opt
