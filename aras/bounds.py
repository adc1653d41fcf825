"""Bounds on the makespan (MODEL.md section 7); derivations in ``docs/bounds.md``.

Every bound here holds for every schedule that satisfies R1-R8, at any
replication factors and in any compute order that respects the DAG.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import networkx as nx

from aras.mapping import Problem, ceil_div


@dataclass(frozen=True)
class Bounds:
    """Makespan bounds in cycles. ``lower`` is the best certified lower bound."""

    write: int
    chain: int
    area: int

    @property
    def lower(self) -> int:
        """The strongest of the certified bounds."""
        return max(self.write, self.chain, self.area)

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


def bounds(problem: Problem) -> Bounds:
    """All bounds of a problem."""
    return Bounds(write=write_bound(problem), chain=chain_bound(problem), area=area_bound(problem))


def lower_bound(problem: Problem) -> int:
    """The best certified lower bound on the makespan."""
    return bounds(problem).lower
