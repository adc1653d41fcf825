"""The relaxed instance without the steps that cost nothing (docs/bounds.md, "The relaxed
instance", fact 3): the path and window bounds run on networks whose weightless steps would
put them over the path bound's cap, and stay below every schedule when the contraction is
forced on small networks."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation import relaxed_bounds
from aras.evaluation.bounds import bounds
from aras.evaluation.evaluator import evaluate
from aras.methods.solve import solve
from aras.model.mapping import map_network
from aras.model.network import Network, NetworkBuilder
from tests.helpers import (
    random_schedule,
    sized_instances,
    tiny_hardware,
)
from tests.test_bounds_strong import exhaustive_jit


def _convs(acts: int) -> Network:
    """Four convolutions, each followed by ``acts`` ReLUs in a chain, with residual adds."""
    b = NetworkBuilder("acts", {"x": (8, 6, 6)})
    x = "x"
    for i, co in enumerate([16, 16, 24, 8]):
        x = skip = b.conv(f"c{i}", x, 8 if i == 0 else [16, 16, 24][i - 1], co, 3, padding=1)
        for k in range(acts):
            x = b.add(f"r{i}_{k}", "act", [x], fn="relu")
        if i == 1:
            x = b.add("sum", "add", [x, skip])
    return b.build()


def test_a_chain_of_free_steps_changes_no_bound():
    """700 ReLU steps (0 cycles) put the network over the path bound's cap of 600 steps: with
    them contracted out, the path and window bounds run and equal those of the same network
    without them."""
    hw = tiny_hardware(pes=1, apu_rows_per_pe=3, write_latency_cycles=1000,
                       gbuffer_banks=(1 << 20,) * 3)
    plain = map_network(_convs(0), hw)
    long = map_network(_convs(175), hw)
    assert len(long.steps) > relaxed_bounds._MAX_PATH_STEPS >= len(plain.steps)
    assert sum(s.kind == "act" and s.fixed_cycles == 0 for s in long.steps) == 700
    want, got = bounds(plain), bounds(long)
    assert not got.notes
    assert got.path == want.path > got.write
    assert got.window == want.window > 0
    assert got.lower == want.lower
    # without the contraction the path bound is skipped there
    with patch.object(relaxed_bounds, "_CONTRACT_FROM", 10**9):
        capped = bounds(long)
    assert capped.path == 0 and any(n.startswith("path bound skipped") for n in capped.notes)


def test_contraction_keeps_the_precedence_and_the_joins():
    """A ReLU between two convolutions is contracted out (the second follows the first
    directly); an add that joins two branches stays: it ends after both."""
    b = NetworkBuilder("join", {"x": (4, 4, 4)})
    a = b.conv("a", "x", 4, 8, 1)
    r = b.add("r", "act", [a], fn="relu")
    left = b.conv("left", r, 8, 8, 1)
    right = b.conv("right", r, 8, 8, 1)
    s = b.add("s", "add", [left, right])
    b.conv("out", s, 8, 8, 1)
    p = map_network(b.build(), tiny_hardware(pes=1, apu_rows_per_pe=4))
    with patch.object(relaxed_bounds, "_CONTRACT_FROM", 0):
        rx = relaxed_bounds._relaxed(p)
    names = [p.steps[i].layer for i in rx.index]
    assert names == ["a", "left", "right", "s", "out"]
    k = {name: i for i, name in enumerate(names)}
    assert rx.preds[k["left"]] == rx.preds[k["right"]] == 1 << k["a"]
    assert rx.prec[k["a"], k["out"]] and not rx.prec[k["left"], k["right"]]
    assert list(rx.sink) == [name == "out" for name in names]
    # the contracted ReLU ends after "a": its end bound is a's
    ends = np.arange(1.0, 6.0)
    full = rx.expand(ends)
    assert full[[s.index for s in p.steps if s.layer == "r"][0]] == ends[k["a"]]
    assert list(full[rx.index]) == list(ends)


SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(inst=sized_instances(max_weighted_steps=4))
def test_contracted_bounds_below_exhaustive_jit_optimum(inst):
    """Forced on small networks (pools, adds, concats and a global pool cost nothing), the
    contracted bounds stay below the enumerated optimum (as in test_bounds_strong)."""
    net, hw = inst
    free = hw.replace(memory_bandwidth_bytes_s=1e15)
    p = map_network(net, free)
    opt = exhaustive_jit(p, r_max=4, n_orders=6)
    with patch.object(relaxed_bounds, "_CONTRACT_FROM", 0):
        b = bounds(p)
    assert max(b.path, b.window, b.lower) <= opt, (opt, b)


@SETTINGS
@given(inst=sized_instances(max_weighted_steps=6, max_parts=2), seed=st.integers(0, 2**32 - 1))
def test_no_schedule_beats_the_contracted_bounds(inst, seed):
    """Forced contraction against ``jit`` and a random valid schedule, memory bandwidth
    binding or not."""
    net, hw = inst
    p = map_network(net, hw)
    with patch.object(relaxed_bounds, "_CONTRACT_FROM", 0):
        b = bounds(p)
    res = solve(p, "jit")
    assert res.objective is not None and res.objective >= b.lower, (res.objective, b)
    rep = evaluate(p, random_schedule(p, np.random.default_rng(seed)))
    assert rep.valid and rep.makespan_cycles >= b.lower, (rep.makespan_cycles, b)
