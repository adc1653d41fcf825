"""The conflict bound (docs/bounds.md, "Conflict bound") against exact optima.

Parts whose rows together exceed the accelerator's cannot hold their rows at once. The
optima come from tests/exhaustive.py (every compute order and replication, no code shared
with the bounds) and are confirmed by the evaluator through the schedule it builds.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation.bounds import bounds, conflict_bound
from aras.evaluation.evaluator import evaluate
from aras.model.mapping import Problem, map_network
from aras.model.network import NetworkBuilder
from tests.exhaustive import optimum, schedule_of
from tests.helpers import tiny_hardware


def _branches(in_rows: list[int], n_rows: int, T: int, tokens: int = 1) -> Problem:
    """Parallel linears of ``128 * a`` input features each (``a`` APU rows), concatenated."""
    inputs = {f"x{i}": (tokens, 128 * a) for i, a in enumerate(in_rows)}
    b = NetworkBuilder("branches", inputs)
    outs = [b.add(f"l{i}", "linear", [f"x{i}"], in_features=128 * a, out_features=64)
            for i, a in enumerate(in_rows)]
    b.add("cat", "concat", outs, axis=1)
    # bandwidth that never binds: the enumeration's optimum assumes it
    hw = tiny_hardware(pes=1, apu_rows_per_pe=n_rows, write_latency_cycles=T,
                       gbuffer_banks=(1 << 20,) * 3, memory_bandwidth_bytes_s=1e15)
    return map_network(b.build(), hw)


def _exact(p: Problem) -> int:
    opt = optimum(p)
    rep = evaluate(p, schedule_of(p, opt))
    assert rep.valid and rep.makespan_cycles == opt.makespan, rep.violations[:3]
    return opt.makespan


def test_clique_of_big_parts_and_one_smaller_part_is_exact():
    """Rows 4, 4 and 3 on 6: every pair exceeds 6, so the three hold their rows one after
    the other and the optimum is the sum of write latency plus shortest compute; a part of
    2 rows (2 + 4 = 6) joins no clique and adds nothing."""
    T = 1000
    p = _branches([4, 4, 3], 6, T, tokens=4)
    spans = sorted(T + p.min_compute_cycles(s) for s in p.steps if s.weighted)
    opt = _exact(p)
    assert conflict_bound(p) == sum(spans) == opt
    q = _branches([4, 4, 3, 2], 6, T, tokens=4)
    assert conflict_bound(q) == conflict_bound(p) <= _exact(q)


def test_no_conflict_leaves_one_part():
    """Parts of at most half the rows never conflict: the bound is one part's span."""
    p = _branches([2, 3, 3], 6, 500, tokens=2)
    assert conflict_bound(p) == max(500 + p.min_compute_cycles(s) for s in p.steps
                                    if s.weighted)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.integers(1, 6), min_size=2, max_size=4), n=st.integers(6, 9),
       T=st.sampled_from([50, 500, 5000]), tokens=st.integers(1, 6))
def test_below_exact_optima(rows, n, T, tokens):
    """Random parallel parts, many of them over half the rows: never above the optimum."""
    p = _branches(rows, n, T, tokens)
    b = bounds(p)
    assert b.conflict <= _exact(p), (b, rows, n)
