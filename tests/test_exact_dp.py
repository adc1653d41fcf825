"""The exact DP over order prefixes (docs/bounds.md, "Exact DP"): its least makespan is the
exhaustive optimum (tests/exhaustive.py, which shares no code with it), a schedule reaches it,
it never exceeds a valid schedule when the memory bandwidth binds, and it says when it gives
up."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings

from aras.evaluation.bounds import bounds
from aras.evaluation.evaluator import evaluate
from aras.evaluation.exact_dp import exact_dp
from aras.frontends import load_network
from aras.methods.heuristics.jit import jit_schedule
from aras.methods.solve import Status, solve
from aras.model.hardware import aras_hardware
from aras.model.mapping import Problem, map_network
from tests.exhaustive import corpus, optimum
from tests.helpers import sized_instances, small_hardware, small_networks

CORPUS = corpus(30)


def _schedule(p: Problem, order, reps):
    q = p.reordered(list(order))
    return jit_schedule(q, {q.by_key[k].index: r for k, r in reps})


@pytest.mark.parametrize("name,p", CORPUS, ids=[n for n, _ in CORPUS])
def test_exact_dp_is_the_corpus_optimum(name, p):
    got = exact_dp(p)
    assert got.makespan == optimum(p).makespan, got.reason
    rep = evaluate(p, _schedule(p, got.order, got.reps))
    assert rep.valid, rep.violations[:3]
    assert rep.makespan_cycles == got.makespan
    assert bounds(p).exact == got.makespan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=sized_instances(max_weighted_steps=4))
def test_exact_dp_meets_the_exhaustive_optimum(inst):
    net, hw = inst
    free = hw.replace(memory_bandwidth_bytes_s=1e15)
    p = map_network(net, free)
    try:
        want = optimum(p, limit=20_000).makespan
    except ValueError:  # too many candidates to enumerate
        assume(False)
        return
    got = exact_dp(p)
    assert got.makespan == want, (got, want)
    rep = evaluate(p, _schedule(p, got.order, got.reps))
    assert rep.valid and rep.makespan_cycles == want


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=small_networks(), hw=small_hardware())
def test_exact_dp_never_exceeds_a_valid_schedule(net, hw):
    """With or without the bandwidth limit (R6, which the DP leaves out): a lower bound."""
    p = map_network(net, hw)
    got = exact_dp(p)
    assume(got.makespan is not None)
    for method in ("baseline", "aras", "jit"):
        res = solve(p, method)
        assert res.report is not None and res.report.valid, res.messages
        assert res.objective is not None and res.objective >= got.makespan, method
    if hw.write_slots >= hw.total_apu_rows:
        # then it is the optimum, which jit returns
        assert solve(p, "jit").objective == got.makespan


def test_exact_dp_says_why_it_gives_up():
    p = CORPUS[0][1]
    assert exact_dp(p).makespan is not None
    tiny = exact_dp(p, effort=1e-9)  # one state per prefix, one expansion in all
    assert tiny.makespan is None and "state expansions" in tiny.reason
    assert bounds(p, effort=1e-9).exact == 0
    p = map_network(load_network("resnet50"), aras_hardware())
    capped = exact_dp(p)
    assert capped.makespan is None and "states at one order prefix" in capped.reason


def test_jit_is_proven_optimal_on_bert_base():
    """A chain of identical blocks: the DP finishes, jit returns its schedule and the bound
    meets it."""
    p = map_network(load_network("bert-base"), aras_hardware())
    res = solve(p, "jit")
    assert res.status is Status.OPTIMAL and res.objective == res.bounds.exact == res.bound
    # every other bound is below it: the DP is what proves it
    assert max(res.bounds.window, res.bounds.path) < res.bound


def test_milp_stops_at_a_start_that_meets_the_bound():
    """jit's start is the DP's optimum and the DP's value is certified: the rolling-horizon
    MILP has nothing to improve, says so and builds no window."""
    p = CORPUS[1][1]
    want = optimum(p).makespan
    res = solve(p, "milp", time_limit=30)
    assert res.objective == want == res.bound and res.status is Status.OPTIMAL
    assert any("meets the certified lower bound" in m for m in res.messages), res.messages
    assert res.schedule is not None and res.schedule.extra["milp"]["windows"] == 0
    assert res.runtime_s < 10
