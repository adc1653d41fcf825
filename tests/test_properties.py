"""Property tests on random small networks and hardware.

Every heuristic's schedule validates; no valid schedule (heuristic or a randomised one with
random replication, rows, delays and compute order) beats any bound.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation.bounds import bounds
from aras.evaluation.evaluator import evaluate
from aras.methods.heuristics import aras, baseline, greedy_replication, jit, naive
from aras.model.errors import InputError
from aras.model.mapping import map_network
from tests.helpers import random_schedule, small_hardware, small_networks

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(net=small_networks(), hw=small_hardware())
def test_heuristics_valid_and_above_bounds(net, hw):
    p = map_network(net, hw)
    b = bounds(p)
    for method in (naive, baseline, greedy_replication, aras, jit):
        try:
            sched = method(p)
        except InputError:
            # jit alone refuses, and only when bandwidth cannot write some part's rows at once
            assert method is jit
            assert any(s.apu_rows > p.hardware.write_slots for s in p.weighted_steps)
            continue
        rep = evaluate(p, sched)
        assert rep.valid, [str(v) for v in rep.violations[:5]]
        assert rep.makespan_cycles >= b.write
        assert rep.makespan_cycles >= b.chain
        assert rep.makespan_cycles >= b.area
        assert rep.makespan_cycles >= b.lower


@SETTINGS
@given(net=small_networks(), hw=small_hardware(), seed=st.integers(0, 2**32 - 1))
def test_no_valid_schedule_beats_the_bounds(net, hw, seed):
    p = map_network(net, hw)
    s = random_schedule(p, np.random.default_rng(seed))
    rep = evaluate(p, s)
    assert rep.valid, [str(v) for v in rep.violations[:5]]
    b = bounds(p)
    assert rep.makespan_cycles >= b.lower, (rep.makespan_cycles, b)
