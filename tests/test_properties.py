"""Property tests on random small networks and hardware.

Every heuristic's schedule validates; no valid schedule (heuristic or a randomised one with
random replication, rows, delays and compute order) beats any bound.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.bounds import bounds
from aras.evaluator import evaluate
from aras.heuristics import aras, baseline, greedy_replication, naive
from aras.mapping import map_network
from tests.helpers import random_schedule, small_hardware, small_networks

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(net=small_networks(), hw=small_hardware())
def test_heuristics_valid_and_above_bounds(net, hw):
    p = map_network(net, hw)
    b = bounds(p)
    for method in (naive, baseline, greedy_replication, aras):
        rep = evaluate(p, method(p))
        assert rep.valid, [str(v) for v in rep.violations[:5]]
        assert rep.makespan_cycles >= b.write
        assert rep.makespan_cycles >= b.chain
        assert rep.makespan_cycles >= b.area


@SETTINGS
@given(net=small_networks(), hw=small_hardware(), seed=st.integers(0, 2**32 - 1))
def test_no_valid_schedule_beats_the_bounds(net, hw, seed):
    p = map_network(net, hw)
    s = random_schedule(p, np.random.default_rng(seed))
    rep = evaluate(p, s)
    assert rep.valid, [str(v) for v in rep.violations[:5]]
    b = bounds(p)
    assert rep.makespan_cycles >= b.lower, (rep.makespan_cycles, b)
