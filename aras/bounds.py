"""Bounds on the makespan (MODEL.md section 7); derivations in ``docs/bounds.md``.

Every bound here holds for every schedule that satisfies R1-R8, at any
replication factors and in any compute order that respects the DAG.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import networkx as nx
import numpy as np

from aras.mapping import Problem, ceil_div


@dataclass(frozen=True)
class Bounds:
    """Makespan bounds in cycles. ``lower`` is the best certified lower bound."""

    write: int
    chain: int
    area: int
    cut: int = 0

    @property
    def lower(self) -> int:
        """The strongest of the certified bounds."""
        return max(self.write, self.chain, self.area, self.cut)

    def to_dict(self) -> dict[str, int]:
        """All bounds and ``lower``."""
        d = asdict(self)
        d["lower"] = self.lower
        return d


def _sink_steps(problem: Problem) -> list[int]:
    """Steps that may come last in some valid compute order (parts of sink ops)."""
    sinks = {n for n in problem.network.graph.nodes if problem.network.graph.out_degree(n) == 0}
    return [s.index for s in problem.steps if s.layer in sinks]


def write_bound(problem: Problem) -> int:
    """The paper's performance bound: every APU row written once with all rows busy.

    ``ceil(W / S) * write_latency + min over possible last steps of their
    shortest compute``, with W the APU rows of all parts at replication 1 and
    S the rows that can be written at once (all rows, or fewer when memory
    bandwidth limits concurrent writes).
    """
    hw = problem.hardware
    w = problem.weight_rows
    if w == 0:
        return sum(problem.min_compute_cycles(s) for s in problem.steps)
    rounds = ceil_div(w, hw.write_slots)
    last = min(problem.min_compute_cycles(problem.steps[i]) for i in _sink_steps(problem))
    return rounds * hw.write_latency_cycles + last


def chain_bound(problem: Problem) -> int:
    """One compute at a time, and no crossbar compute before the first write ends.

    Weightless ops that do not depend on any weight-bearing op may run while
    the first weights are written; every other step runs after it.
    """
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


def area_bound(problem: Problem) -> int:
    """Row-time: each written row is held for its write plus its part's compute.

    At replication r a part holds ``r * a`` rows for at least
    ``write_latency + ceil(n / r) * compute_latency`` each, which is smallest
    at r = 1; the accelerator offers ``total_apu_rows * makespan`` row-cycles.
    """
    hw = problem.hardware
    area = sum(s.apu_rows * (hw.write_latency_cycles + problem.compute_cycles(s, 1))
               for s in problem.steps if s.weighted)
    return ceil_div(area, hw.total_apu_rows)


def cut_bound(problem: Problem, grid: int = 101) -> int:
    """Prefix/suffix bound around every layer (docs/bounds.md, "cut bound").

    For a layer ``L``, let ``P`` be the parts of ``L`` and of its ancestors and
    ``Q`` those of its descendants, and ``E`` the end of ``L``'s last part. With
    the same replication in both, ``E >= T + sum_P c_p(r_p)`` (chain) and
    ``N E >= sum_P r_p a_p (T + c_p(r_p))`` (row-time), so for every
    ``lam in [0, 1]``, ``E >= lam T + sum_P min_r [lam c_p(r) + (1 - lam) r a_p
    (T + c_p(r)) / N]``. After ``E``, every part of ``Q`` computes, and at most
    ``N`` of ``Q``'s rows can have been written before ``E`` (they are all still
    held), so ``ceil((A_Q - N) / S)`` more write rounds and a sink's compute
    follow.
    """
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    steps = problem.steps
    g_ = problem.network.graph
    weighted_layers = {s.layer for s in steps if s.weighted}
    after_weight: set[str] = set()
    for name in weighted_layers:
        after_weight |= {name} | set(nx.descendants(g_, name))
    lam = np.linspace(0.0, 1.0, grid)
    g = np.zeros((len(steps), grid))
    cmin = np.zeros(len(steps))
    for s in steps:
        if s.weighted:
            r = np.arange(1, problem.max_replication(s) + 1)
            c = -(-s.windows // r) * hw.compute_latency_cycles
            val = (lam[:, None] * c[None, :]
                   + (1 - lam)[:, None] * (r * s.apu_rows * (T + c))[None, :] / N)
            g[s.index] = val.min(axis=1)
            cmin[s.index] = c.min()
        else:
            cmin[s.index] = s.fixed_cycles
            # A weightless op with no weight-bearing ancestor may run during the first write.
            if s.layer in after_weight:
                g[s.index] = lam * s.fixed_cycles
    by_layer: dict[str, list[int]] = {}
    for s in steps:
        by_layer.setdefault(s.layer, []).append(s.index)
    sinks = [s.index for s in steps if g_.out_degree(s.layer) == 0]
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
            post_set = set(post)
            last = min(cmin[i] for i in sinks if i in post_set)
            tail = max(tail, -(-(rows_q - N) // S) * T + last)
        best = max(best, head + tail)
    return int(np.ceil(best - 1e-6))


def bounds(problem: Problem) -> Bounds:
    """All bounds of a problem."""
    return Bounds(write=write_bound(problem), chain=chain_bound(problem), area=area_bound(problem),
                  cut=cut_bound(problem))


def lower_bound(problem: Problem) -> int:
    """The best certified lower bound on the makespan."""
    return bounds(problem).lower
