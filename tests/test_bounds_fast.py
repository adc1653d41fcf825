"""The near-linear cut and chain bounds give exactly the values of the original definitions.

``_cut_reference`` and ``_chain_reference`` are the implementations the bounds had before they
were made near-linear (one ``networkx.ancestors`` / ``descendants`` call per layer): the new
ones must agree with them to the cycle on random DAGs, random CNN-like networks and every
built-in network, and stay fast on a large one.
"""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation.bounds import _closure_sums, chain_bound, cut_bound
from aras.frontends.builders import DecoderShape, decoder
from aras.frontends.zoo import ZOO
from aras.model.hardware import Hardware, aras_hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import Network, NetworkBuilder
from tests.helpers import small_hardware, small_networks


def _cut_reference(problem: Problem, grid: int = 101) -> int:
    """The cut bound as first written: ancestors and descendants of every layer."""
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    steps = problem.steps
    g_ = problem.network.graph
    weighted_layers = {s.layer for s in steps if s.weighted}
    after_weight: set[str] = set()
    for name in weighted_layers:
        after_weight |= {name} | set(nx.descendants(g_, name))
    lam = np.linspace(0.0, 1.0, grid)
    kappa = 1 - lam
    if S < N:  # the write-time argument's weights: a simplex grid of step 1/20
        pts = [(x / 20, y / 20) for x in range(21) for y in range(21 - x) if x + y < 20]
        lam = np.concatenate([lam, [x for x, _ in pts]])
        kappa = np.concatenate([kappa, [y for _, y in pts]])
    omega = 1 - lam - kappa
    g = np.zeros((len(steps), len(lam)))
    cmin = np.zeros(len(steps))
    for s in steps:
        if s.weighted:
            r = np.arange(1, problem.max_replication(s) + 1)
            c = -(-s.windows // r) * hw.compute_latency_cycles
            val = (lam[:, None] * c[None, :]
                   + kappa[:, None] * (r * s.apu_rows * (T + c))[None, :] / N
                   + omega[:, None] * (r * s.apu_rows * T)[None, :] / S)
            g[s.index] = val.min(axis=1)
            cmin[s.index] = c.min()
        else:
            cmin[s.index] = s.fixed_cycles
            if s.layer in after_weight:
                g[s.index] = lam * s.fixed_cycles
    by_layer: dict[str, list[int]] = {}
    for s in steps:
        by_layer.setdefault(s.layer, []).append(s.index)
    sinks = [s.index for s in steps if g_.out_degree(s.layer) == 0]
    finish = cmin + np.where([g_.out_degree(s.layer) == 0 for s in steps], 0.0, cmin[sinks].min())
    best = 0.0
    for layer in by_layer:
        pre_layers = nx.ancestors(g_, layer) | {layer}
        pre = [i for name in pre_layers for i in by_layer[name]]
        post = [i for name in nx.descendants(g_, layer) for i in by_layer[name]]
        has_w = any(steps[i].weighted for i in pre)
        head = float((lam * (T if has_w else 0) + g[pre].sum(axis=0)).max())
        rows_q = sum(steps[i].apu_rows for i in post)
        tail = float(cmin[post].sum()) if post else 0.0
        if rows_q > N:
            last = finish[post].min()
            tail = max(tail, -(-(rows_q - N) // S) * T + last)
        best = max(best, head + tail)
    return int(np.ceil(best - 1e-6))


def _chain_reference(problem: Problem) -> int:
    """The chain bound as first written."""
    hw = problem.hardware
    g = problem.network.graph
    weighted = {o.name for o in problem.network.weighted_ops}
    after: set[str] = set()
    for name in weighted:
        after |= {name} | set(nx.descendants(g, name))
    total = sum(problem.min_compute_cycles(s) for s in problem.steps)
    if not weighted:
        return total
    tail = sum(problem.min_compute_cycles(s) for s in problem.steps if s.layer in after)
    return max(total, hw.write_latency_cycles + tail)


@st.composite
def random_dags(draw: st.DrawFn, widths: tuple[int, ...] = (8, 48, 96, 200, 520)) -> Network:
    """Arbitrary DAGs of linears, adds and norms on one tensor shape, several sinks allowed.

    Each op reads one or two earlier tensors chosen at random (near or far back), so the
    ancestor sets are far from prefixes of the order: the bitset code's slow paths run.
    """
    tokens = draw(st.integers(1, 64))
    width = draw(st.sampled_from(widths))
    inputs = draw(st.integers(1, 3))
    b = NetworkBuilder("dag", {f"x{i}": (tokens, width) for i in range(inputs)})
    names = [f"x{i}" for i in range(inputs)]
    for i in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["linear", "linear", "add", "norm"]))
        pick = st.integers(0, len(names) - 1)
        a = names[draw(pick)]
        if kind == "linear":
            names.append(b.linear(f"l{i}", a, width, width))
        elif kind == "add":
            names.append(b.add(f"a{i}", "add", [a, names[draw(pick)]]))
        else:
            names.append(b.add(f"n{i}", "norm", [a]))
    return b.build()


def _same(problem: Problem) -> None:
    assert cut_bound(problem) == _cut_reference(problem)
    assert chain_bound(problem) == _chain_reference(problem)


@st.composite
def dags_on_hardware(draw: st.DrawFn) -> tuple[Network, Hardware]:
    """A random accelerator, then a random DAG whose linears split into at most 8 parts on it
    (a 520-wide linear on one APU row is thousands of parts: a valid input, but the reference
    implementations are quadratic in steps, and beyond 2^16 steps the mapping refuses it)."""
    hw = draw(small_hardware())

    def parts(width: int) -> int:
        one = NetworkBuilder("one", {"x": (1, width)})
        one.linear("l", "x", width, width)
        return len(map_network(one.build(), hw).steps)

    widths = tuple(w for w in (8, 48, 96, 200, 520) if parts(w) <= 8)
    return draw(random_dags(widths)), hw


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(dags_on_hardware())
def test_cut_and_chain_equal_reference_on_random_dags(inst: tuple[Network, Hardware]) -> None:
    net, hw = inst
    _same(map_network(net, hw))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(small_networks(), small_hardware())
def test_cut_and_chain_equal_reference_on_random_networks(net: Network, hw: Hardware) -> None:
    _same(map_network(net, hw))


@pytest.mark.parametrize("name", sorted(ZOO))
def test_cut_and_chain_equal_reference_on_builtin_networks(name: str) -> None:
    entry = ZOO[name]
    net = entry.build(tokens=32) if "tokens" in entry.options else entry.build()
    _same(map_network(net, aras_hardware()))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 60), st.integers(0, 2**32 - 1))
def test_closure_sums_are_the_set_sums(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = nx.gnp_random_graph(n, float(rng.uniform(0, 0.5)), seed=seed, directed=True)
    dag = nx.DiGraph([(u, v) for u, v in g.edges if u < v])
    dag.add_nodes_from(range(n))
    values = rng.integers(0, 1000, size=(n, 3))
    preds = [sorted(dag.predecessors(v)) for v in range(n)]
    for self_in in (True, False):
        got = _closure_sums(preds, values, self_in)
        for v in range(n):
            members = nx.ancestors(dag, v) | ({v} if self_in else set())
            assert got[v].tolist() == values[sorted(members)].sum(axis=0).tolist()


def test_cut_bound_is_fast_on_a_deep_decoder() -> None:
    """A 2,000-op decoder: the reference took 40 s on such a network, this takes well under 1."""
    net = decoder("deep", DecoderShape(hidden=256, layers=150, heads=4, ffn=1024), tokens=16)
    problem = map_network(net, aras_hardware())
    assert len(problem.steps) > 1900
    t = time.perf_counter()
    cut_bound(problem)
    chain_bound(problem)
    assert time.perf_counter() - t < 5.0
