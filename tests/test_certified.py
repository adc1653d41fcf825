"""Certified optimality: compute order as a decision, the exact MILP's dual bound, and a corpus
of small instances whose optima come from :mod:`tests.exhaustive` (no code shared with the
methods)."""

from __future__ import annotations

import random

import pytest

from aras.evaluation.bounds import bounds
from aras.evaluation.evaluator import evaluate
from aras.methods.heuristics.jit import _Timing, jit
from aras.methods.solve import Status, solve
from aras.model.mapping import Problem, map_network
from aras.model.network import NetworkBuilder
from tests.exhaustive import corpus, optimum, schedule_of
from tests.helpers import tiny_hardware

CORPUS = corpus(30)
HEURISTICS = ("naive", "baseline", "greedy-replication", "aras", "jit")


def _two_branches() -> Problem:
    """x -> b (1 row) and x -> a (3 rows) -> c (3 rows), joined; 4 rows, T = 1000, one window
    each (replication 1 only). Listed b first."""
    nb = NetworkBuilder("order", {"x": (1, 128)})
    b = nb.add("b", "linear", ["x"], in_features=128, out_features=128)
    a = nb.add("a", "linear", ["x"], in_features=128, out_features=384)
    c = nb.add("c", "linear", [a], in_features=384, out_features=128)
    nb.add("join", "concat", [b, c], axis=1)
    hw = tiny_hardware(pes=1, apu_rows_per_pe=4, write_latency_cycles=1000,
                       gbuffer_banks=(1 << 20,) * 3)
    return map_network(nb.build(), hw)


def test_jit_chooses_the_compute_order():
    """By hand, L = 96 compute cycles per part and N = 4 rows. Order b, a, c: b on [T, T+L),
    a (1 + 3 rows fit) on [T+L, T+2L), c's 3 rows overflow with a's, so c waits for a's end
    plus a write: ends 2T + 3L. Order a, b, c: a [T, T+L), b [T+L, T+2L), c's 3 rows fit with
    b's 1 once a has ended: starts at (T + L) + T, ends 2T + 2L. Order a, c, b ends 2T + 3L."""
    p = _two_branches()
    assert [(s.layer, s.apu_rows) for s in p.steps] == [("b", 1), ("a", 3), ("c", 3),
                                                        ("join", 0)]
    T, L = 1000, p.hardware.compute_latency_cycles
    assert L == 96
    fixed = jit(p, reorder=False)
    free = jit(p)
    assert evaluate(p, fixed).makespan_cycles == 2 * T + 3 * L
    rep = evaluate(p, free)
    assert rep.valid and rep.makespan_cycles == 2 * T + 2 * L
    assert [(s.layer, s.part) for s in free.steps][:3] == [("a", 0), ("b", 0), ("c", 0)]
    assert optimum(p).makespan == 2 * T + 2 * L
    # milp-full solves each of the three orders and proves the optimum
    res = solve(p, method="milp-full", time_limit=20)
    assert res.objective == 2 * T + 2 * L and res.status is Status.OPTIMAL
    assert res.bounds.milp == 2 * T + 2 * L
    assert res.schedule is not None and res.schedule.extra["milp"]["orders"] == 3


def test_reordered_keeps_dependencies_and_counts_orders():
    p = _two_branches()
    keys = [s.key for s in p.steps]
    q = p.reordered([keys[1], keys[0], keys[2], keys[3]])
    assert [s.layer for s in q.steps] == ["a", "b", "c", "join"]
    assert [s.index for s in q.steps] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="c before a"):
        p.reordered([keys[2], keys[0], keys[1], keys[3]])
    with pytest.raises(ValueError, match="permutation"):
        p.reordered(keys[:3])
    # b anywhere before join, a before c: (b,a,c), (a,b,c), (a,c,b)
    got = p.orders(10)
    assert got is not None and sorted(got) == sorted([
        [("b", 0), ("a", 0), ("c", 0), ("join", 0)],
        [("a", 0), ("b", 0), ("c", 0), ("join", 0)],
        [("a", 0), ("c", 0), ("b", 0), ("join", 0)]])
    assert p.orders(2) is None
    assert not p.unique_order()


def test_incremental_timing_equals_a_full_recomputation():
    """Moves re-time only from the changed position and stop once the state is a shift of
    the old one; the result must equal timing the whole order again."""
    rng = random.Random(7)
    for _, p in CORPUS[:12]:
        order = [s.index for s in p.steps]
        reps = {s.index: rng.randint(1, p.max_replication(s)) for s in p.weighted_steps}
        timing = _Timing(p, order, reps)
        for _ in range(20):
            k = rng.choice(p.weighted_steps).index
            r2 = dict(reps)
            r2[k] = rng.randint(1, p.max_replication(p.steps[k]))
            j = order.index(k)
            assert timing.makespan(order, r2, j, j) == _Timing(p, order, r2).value


@pytest.mark.parametrize("name,p", CORPUS, ids=[n for n, _ in CORPUS])
def test_corpus_optimum_is_valid_and_never_beaten(name, p):
    opt = optimum(p)
    rep = evaluate(p, schedule_of(p, opt))
    assert rep.valid, rep.violations[:3]
    assert rep.makespan_cycles == opt.makespan
    assert bounds(p).lower <= opt.makespan
    for method in HEURISTICS:
        res = solve(p, method=method)
        assert res.objective is not None and res.objective >= opt.makespan, method


@pytest.mark.parametrize("name,p", CORPUS, ids=[n for n, _ in CORPUS])
def test_milp_full_proves_the_corpus_optima(name, p):
    """Every compute order (up to identical parts), every release event and replication:
    the MILP's schedule is the exhaustive optimum and its dual bound proves it."""
    opt = optimum(p).makespan
    res = solve(p, method="milp-full", time_limit=20)
    assert res.objective == opt
    assert res.bounds.milp == opt and res.status is Status.OPTIMAL
    assert res.bound >= bounds(p).lower


def test_one_order_dual_bound_is_reported_but_not_certified():
    """With a lookback given, milp-full solves one order: on a DAG with other orders its dual
    bound holds for that order only and must not become the certified bound."""
    p = _two_branches()
    res = solve(p, method="milp-full", time_limit=20, lookback=8, candidates=8)
    assert res.bounds.milp == 0
    assert res.stats["order_bound_cycles"] >= res.bound
    assert any("not a certified bound" in m for m in res.messages)
