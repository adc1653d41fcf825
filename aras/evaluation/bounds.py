"""Bounds on the makespan (MODEL.md section 7); derivations in ``docs/bounds.md``.

The path bound lives in :mod:`aras.evaluation.relaxed_bounds`, the window bound in
:mod:`aras.evaluation.window`. Every bound here
holds for every schedule that satisfies R1-R8, at any
replication factors and in any compute order that respects the DAG.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, fields

import numpy as np

from aras.evaluation.exact_dp import exact_dp
from aras.evaluation.relaxed_bounds import (
    _after_weight,
    _relaxed,
    head_terms,
    head_weights,
    path_bound,
)
from aras.evaluation.window import _window_with_path, window_bound
from aras.model.mapping import Problem, ceil_div


@dataclass(frozen=True)
class Bounds:
    """Makespan bounds in cycles. ``lower`` is the best certified lower bound."""

    write: int
    chain: int
    area: int
    cut: int = 0
    path: int = 0
    window: int = 0
    #: Parts that cannot hold their rows at the same time (docs/bounds.md, "Conflict bound")
    conflict: int = 0
    #: The dual bound of an exact MILP (``milp-full`` when the DAG allows one compute order;
    #: set by :func:`aras.methods.solve.solve`, 0 otherwise; docs/bounds.md, "MILP bound")
    milp: int = 0
    #: The exact DP's least makespan without R6 over every order and replication (0 when it
    #: gave up at its caps; docs/bounds.md, "Exact DP"): the optimum when the memory writes
    #: all rows at once
    exact: int = 0
    #: Bounds whose work was capped (and so reported as 0), and why: never silently weaker.
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def lower(self) -> int:
        """The strongest of the certified bounds."""
        return max(self.write, self.chain, self.area, self.cut, self.path, self.window,
                   self.conflict, self.milp, self.exact)

    def to_dict(self) -> dict[str, int]:
        """All bounds and ``lower`` (the notes are :attr:`notes`)."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "notes"}
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
    weighted = {o.name for o in problem.network.weighted_ops}
    after = _after_weight(problem, weighted)
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


def conflict_bound(problem: Problem) -> int:
    """Parts whose rows together exceed the accelerator's hold them one after the other.

    Part ``k`` holds all its ``r a_k >= a_k`` rows from ``T`` before its compute starts until
    its compute ends, at least ``T + c_k`` cycles (``c_k`` its shortest compute). Two parts
    with ``a_i + a_j > N`` cannot both hold their rows at one instant, so over any set of
    pairwise such parts (a clique of the conflict graph) these spans are disjoint and the
    makespan is at least the sum of ``T + c_k``. The graph ``a_i + a_j > N`` is a threshold
    graph: its largest cliques are the parts of more than ``N / 2`` rows from the largest
    down to some size ``t``, plus at most one smaller part of more than ``N - t`` rows.
    """
    hw = problem.hardware
    N, T = hw.total_apu_rows, hw.write_latency_cycles
    parts = [(s.apu_rows, T + problem.min_compute_cycles(s)) for s in problem.steps
             if s.weighted]
    if not parts:
        return 0
    big = sorted((p for p in parts if 2 * p[0] > N), key=lambda p: -p[0])
    small = sorted(p for p in parts if 2 * p[0] <= N)
    # best[i]: the longest span among the small parts i, i + 1, ... (sorted by rows)
    best = [0] * (len(small) + 1)
    for i in range(len(small) - 1, -1, -1):
        best[i] = max(best[i + 1], small[i][1])
    rows = [a for a, _ in small]
    out, total = max(w for _, w in parts), 0
    for a, w in big:
        total += w
        out = max(out, total + best[bisect.bisect_right(rows, N - a)])
    return out


def _bits(x: int, lo: int, hi: int) -> np.ndarray:
    """Positions in ``[lo, hi)`` of the set bits of ``x`` (ascending)."""
    w = x >> lo
    if not w:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(w.to_bytes((hi - lo + 7) // 8, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(raw, bitorder="little")[:hi - lo]) + lo


def _closure_sums(preds: list[list[int]], values: np.ndarray, self_in: bool
                  ) -> np.ndarray:
    """For every node, the sum of ``values`` over its ancestors (and itself if ``self_in``).

    Nodes are ``0..n-1`` in a topological order and ``preds[v]`` lists ``v``'s direct
    predecessors. Ancestor sets are bitsets (Python ints); a node's ancestors are nearly a
    prefix of the order, so only the bits between the first ancestor gap and the node are
    looked at: the rest is a prefix sum. A bitset is freed once all its successors have
    used it. ``values`` is ``(n,)`` or ``(n, k)``; the result has its shape.
    """
    n = len(preds)
    prefix = np.concatenate([np.zeros((1,) + values.shape[1:], values.dtype),
                             np.cumsum(values, axis=0)])
    out = np.zeros_like(values)
    left = [0] * n
    for ps in preds:
        for p in ps:
            left[p] += 1
    closed: dict[int, int] = {}  # node -> bitset of itself and its ancestors
    for v in range(n):
        x = 1 << v
        for p in preds[v]:
            x |= closed[p]
        ps = preds[v]
        for p in ps:
            left[p] -= 1
            if not left[p]:
                del closed[p]
        if left[v]:
            closed[v] = x
        top = v + 1 if self_in else v
        if not self_in:
            x ^= 1 << v
        gap = (~x & (x + 1)).bit_length() - 1  # the lowest clear bit: [0, gap) are all in
        if gap >= top:
            out[v] = prefix[top]
        elif 2 * (x >> gap).bit_count() <= top - gap:  # add the few members past the gap
            out[v] = prefix[gap] + values[_bits(x, gap, top)].sum(axis=0)
        else:  # or take the few non-members out
            out[v] = prefix[top] - values[_bits(~x & ((1 << top) - 1), gap, top)].sum(axis=0)
    return out


def cut_bound(problem: Problem, grid: int = 101) -> int:
    """Prefix/suffix bound around every layer (docs/bounds.md, "cut bound").

    For a layer ``L``, let ``P`` be the parts of ``L`` and of its ancestors and
    ``Q`` those of its descendants, and ``E`` the end of ``L``'s last part. With
    the same replication in both, ``E >= T + sum_P c_p(r_p)`` (chain) and
    ``N E >= sum_P r_p a_p (T + c_p(r_p))`` (row-time), so for every
    ``lam in [0, 1]``, ``E >= lam T + sum_P min_r [lam c_p(r) + (1 - lam) r a_p
    (T + c_p(r)) / N]``. After ``E``, every part of ``Q`` computes, and at most
    ``N`` of ``Q``'s rows can have been written before ``E`` (they are all still
    held), so ``ceil((A_Q - N) / S)`` more write rounds follow, then the compute
    of the part written last and, unless it is a sink, a sink's.

    Near-linear in the steps: the sums over ancestors and descendants come from
    :func:`_closure_sums`, the minimum and the "any weight" over them from one pass each.
    """
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    steps = problem.steps
    g_ = problem.network.graph
    after_weight = _after_weight(problem, {s.layer for s in steps if s.weighted})
    lam, kappa, omega = head_weights(T, N, S, np.linspace(0.0, 1.0, grid))
    g = np.zeros((len(steps), len(lam)))
    cmin = np.zeros(len(steps), dtype=np.int64)
    memo: dict[tuple[int, int, int, int], tuple[np.ndarray, int]] = {}
    for s in steps:
        if s.weighted:
            rmax = problem.max_replication(s)
            key = (s.windows, s.apu_rows, rmax, s.window_cycles)
            if key not in memo:  # the repeated blocks of a network share their parts' shapes
                r = np.arange(1, rmax + 1)
                c = -(-s.windows // r) * s.window_cycles
                memo[key] = (head_terms(lam, kappa, omega, r * s.apu_rows, c, T, N, S),
                             int(c.min()))
            g[s.index], cmin[s.index] = memo[key]
        else:
            cmin[s.index] = s.fixed_cycles
            # A weightless op with no weight-bearing ancestor may run during the first write.
            if s.layer in after_weight:
                g[s.index] = lam * s.fixed_cycles
    sink = np.array([g_.out_degree(s.layer) == 0 for s in steps], dtype=bool)
    # The part whose write ends last computes; unless it is a sink, a sink computes after it.
    finish = cmin + np.where(sink, 0, cmin[sink].min())
    # Per layer (in the network's topological order): its parts' sums and minimum.
    layers = [op.name for op in problem.network.ops]
    pos = {name: k for k, name in enumerate(layers)}
    n = len(layers)
    of = np.array([pos[s.layer] for s in steps], dtype=np.int64)
    g_l = np.zeros((n, len(lam)))
    np.add.at(g_l, of, g)
    rows_l = np.zeros(n, dtype=np.int64)
    np.add.at(rows_l, of, np.array([s.apu_rows for s in steps], dtype=np.int64))
    cmin_l = np.zeros(n, dtype=np.int64)
    np.add.at(cmin_l, of, cmin)
    fin_l = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(fin_l, of, finish)
    w_l = np.zeros(n, dtype=bool)
    w_l[of[[s.weighted for s in steps]]] = True
    preds = [[pos[p] for p in g_.predecessors(name)] for name in layers]
    succs = [[n - 1 - pos[q] for q in g_.successors(name)] for name in reversed(layers)]
    head_sum = _closure_sums(preds, g_l, self_in=True)
    after = _closure_sums(succs, np.stack([rows_l, cmin_l], axis=1)[::-1].copy(),
                          self_in=False)[::-1]
    has_w = w_l.copy()
    for v in range(n):
        has_w[v] = has_w[v] or any(has_w[p] for p in preds[v])
    last = np.full(n, np.iinfo(np.int64).max)  # least finish over the descendants
    for v in range(n - 1, -1, -1):
        for q in g_.successors(layers[v]):
            k = pos[q]
            last[v] = min(last[v], fin_l[k], last[k])
    head = (lam[None, :] * np.where(has_w, T, 0)[:, None] + head_sum).max(axis=1)
    rows_q, tail = after[:, 0], after[:, 1].astype(float)
    over = rows_q > N
    rounds = -(-(rows_q[over] - N) // S)
    tail[over] = np.maximum(tail[over], rounds * T + last[over].astype(float))
    return int(np.ceil(float((head + tail).max(initial=0.0)) - 1e-6))


def bounds(problem: Problem, effort: float = 1.0) -> Bounds:
    """All bounds of a problem.

    Parameters
    ----------
    problem
        The mapped network.
    effort
        Scales the window bound's caps (docs/bounds.md, "The window bound's reduced
        instance"): its order prefixes (20,000 at 1), DP transitions (300,000) and the work
        of its two-group pricing. On branchy networks past those caps it leaves light
        parallel steps out, and a larger effort keeps more of them, for a bound at least as
        high (usually higher) and a time about proportional to ``effort`` (seconds at 1 on the real
        detectors of ``benchmarks/real_models_gap.py``, which runs at 3), and the exact
        DP's (:func:`aras.evaluation.exact_dp.exact_dp`).

    Returns
    -------
    Bounds
        Every bound; ``lower`` is the best, ``notes`` says which were capped.
    """
    if not (isinstance(effort, (int, float)) and np.isfinite(effort) and effort > 0):
        raise ValueError(f"effort must be a positive number, not {effort!r}")
    rx = _relaxed(problem)
    notes: list[str] = []
    path, window = _window_with_path(problem, rx, notes, effort)
    return Bounds(write=write_bound(problem), chain=chain_bound(problem), area=area_bound(problem),
                  cut=cut_bound(problem), path=path, window=window,
                  conflict=conflict_bound(problem), exact=exact_dp(problem, effort).makespan or 0,
                  notes=tuple(notes))


def lower_bound(problem: Problem) -> int:
    """The best certified lower bound on the makespan."""
    return bounds(problem).lower


__all__ = ["Bounds", "area_bound", "bounds", "chain_bound", "conflict_bound", "cut_bound",
           "lower_bound",
           "path_bound", "window_bound", "write_bound"]
