"""Lower bounds on the period of any valid periodic schedule (docs/bounds.md, "Periodic
bound"), at any replication and any choice of resident layers.

- ``compute``: the computes of one inference run one at a time and those of consecutive
  inferences do not overlap (R4, R4p), so ``P >= sum of the shortest computes``.
- ``area``: in one period every APU row is held by at most one tile at a time (R2p, R9). A
  streamed part of ``a`` rows at replication ``r`` holds ``r a`` rows for at least
  ``T + ceil(w / r) L`` cycles each per period, at least ``a (T + w L)`` row-cycles in all; a
  resident one holds ``r a >= a`` rows for the whole period. So ``N P >= sum over parts of
  a min(T + w L, P)``, and ``P`` is at least the smallest positive root of that inequality.
- ``rows``: a streamed row's holds are disjoint modulo ``P`` and each lasts at least
  ``h = T + `` the shortest compute of any part, so a row takes at most ``floor(P / h)``
  writes per period. With ``R`` rows resident, at least ``W - R`` writes (``W``: the rows of
  all parts at replication 1) go to the other ``N - R`` rows every period:
  ``(N - R) floor(P / h) >= W - R``, which for ``W > N`` holds for no ``R`` unless
  ``floor(P / h) >= ceil(W / N)`` (``R (q - 1) <= N q - W`` needs ``N q >= W``). So
  ``P >= ceil(W / N) h``: the rounding of the write bound stays with one inference per period.
- ``bandwidth``: at most ``N`` rows are resident, so at least ``W - N`` rows are written
  every period, ``T`` cycles each, at most ``S`` at a time: ``P >= (W - N) T / S``.
- ``window``: the window bound's groups (docs/bounds.md, "Window bound") around the cycle.
  Inference after inference, the streamed parts' compute starts fall into windows of ``T``;
  each window's steps hold their rows at once and compute one after another, and the next
  window starts at least ``T``, their compute, and ``T`` plus what they must release later.
  Windows may span two inferences. Every ideal of the step DAG is a node, every window an
  edge priced by those facts, and ``P`` is at least the least mean cost per inference of a
  cycle (Karp's minimum cycle mean over the nodes where an inference boundary is crossed).
  It holds whatever is resident: a resident layer only takes rows from every window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from aras.evaluation.ideals import _lattice
from aras.evaluation.relaxed_bounds import _ceil, _members, _relaxed
from aras.evaluation.window import _Release
from aras.model.mapping import Problem, ceil_div

#: Order prefixes (ideals) and window transitions beyond which the window bound is skipped
#: (reported as 0): it runs in every steady-state solve. The built-in networks have at most
#: 458 ideals and 13,000 transitions.
_MAX_IDEALS = 4000
_MAX_TRANSITIONS = 200_000


@dataclass(frozen=True)
class PeriodicBounds:
    """Period bounds in cycles (``window``: :func:`window_period`, 0 when skipped); ``lower``
    is the strongest.

    ``write_rounds`` is the unrounded write bound ``W T / N`` without resident layers, the
    figure a periodic schedule approaches on write-bound networks; it is not a bound when
    layers may be resident (they take writes away), so it is reported beside the others.
    """

    compute: int
    area: int
    rows: int
    bandwidth: int
    write_rounds: float
    window: int = 0

    @property
    def lower(self) -> int:
        """The strongest certified bound."""
        return max(self.compute, self.area, self.rows, self.bandwidth, self.window)

    def to_dict(self) -> dict[str, float]:
        """Every bound and ``lower``."""
        d: dict[str, float] = asdict(self)
        d["lower"] = self.lower
        return d


def area_period(demands: list[tuple[int, int]], rows: int) -> int:
    """The smallest integer ``P >= 0`` with ``rows * P >= sum of a * min(c, P)``.

    Parameters
    ----------
    demands
        ``(a, c)`` per part: rows and the cycles each row is held per period when streamed.
    rows
        APU rows of the accelerator.

    Returns
    -------
    int
        0 when every part fits the rows at once (all may be resident).
    """
    total = sum(a for a, _ in demands)
    if total <= rows:
        return 0
    # g(P) = rows P - sum a min(c, P) is convex, g(0) = 0 and g'(0) < 0: one positive root.
    # On a segment where the parts with c <= P are `done`, g(P) = (rows - rest) P - held.
    items = sorted(demands, key=lambda x: x[1])
    held = 0  # sum of a c over the parts with c below the segment
    rest = total  # rows of the parts with c above it
    lo = 0
    for a, c in items:
        denom = rows - rest
        if denom > 0:
            p = ceil_div(held, denom)
            if p <= c:
                return max(p, lo)
        held += a * c
        rest -= a
        lo = c
    return lo if held <= rows * lo else ceil_div(held, rows)


def periodic_bounds(problem: Problem) -> PeriodicBounds:
    """Every period bound of a mapped network (see the module docstring)."""
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    compute = sum(problem.min_compute_cycles(s) for s in problem.steps)
    demands = [(s.apu_rows, T + s.windows * s.window_cycles) for s in problem.weighted_steps]
    area = area_period(demands, N)
    W = problem.weight_rows
    bandwidth = ceil_div(max(W - N, 0) * T, S) if S < N else 0
    rows = 0
    if W > N:
        h = T + min(problem.min_compute_cycles(s) for s in problem.weighted_steps)
        rows = ceil_div(W, N) * h
    return PeriodicBounds(compute=compute, area=area, rows=rows, bandwidth=bandwidth,
                          write_rounds=W * T / N, window=window_period(problem))


def _fastest(option: tuple[np.ndarray, np.ndarray], most: float) -> float:
    """The shortest compute of a step with at most ``most`` rows (``option``: its rows and
    compute at every replication, rows increasing)."""
    rho, c = option
    return float(c[: max(1, int(np.searchsorted(rho, most + 1e-9)))].min())


def window_period(problem: Problem) -> int:
    """The cyclic window bound on the period (docs/bounds.md, "Periodic bound"); 0 when the
    streamed rows fit the accelerator at once or the network has more order prefixes or
    window transitions than the caps."""
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    if not problem.weighted_steps:
        return 0
    rx = _relaxed(problem)
    # Weightless steps without a weight-bearing ancestor are left out (as in the window
    # bound): leaving steps out only forgets compute.
    keep = [int(i) for i in np.nonzero(~rx.free)[0]]
    if float(rx.rows[keep].sum()) <= N:
        return 0
    pos = {i: k for k, i in enumerate(keep)}
    preds = [sum(1 << pos[j] for j in _members(rx.preds[i]) if j in pos) for i in keep]
    lattice = _lattice(preds, _MAX_IDEALS)
    if lattice is None:
        return 0
    masks, ready, parent, added = lattice.masks, lattice.ready, lattice.parent, lattice.added
    ext = [[y for _, y in e] for e in lattice.ext]
    rows, comp = lattice.sums(rx.rows[keep]), lattice.sums(rx.cmin[keep])
    H = lattice.sums(rx.h[keep])
    full = len(masks) - 1
    release = _Release(rx, keep, masks, ready, parent, added, N)

    def released(sums: np.ndarray, members: list[int], held: float, nxt_rows: float
                 ) -> float:
        """Fact 4 (what the window must release before the next one's writes), as
        :meth:`_Release.cost` with the window's sums and steps given (it may wrap)."""
        need = int(round(held - (N - nxt_rows)))
        if need <= 0:
            return 0.0
        spare = N - held
        dual = (sums - release.mu[:, None] * N - release.nu[None, :] * (N - nxt_rows)).max()
        cover = np.full(need + 1, np.inf)
        cover[0] = 0.0
        at = np.arange(need + 1)
        for b in members:
            if release.rows[b] > 0:
                rho, c = release.options[b]
                fast = float(c[np.searchsorted(rho, release.rows[b] + spare + 1e-9) - 1])
                cover = np.minimum(cover, cover[np.maximum(at - int(release.rows[b]), 0)] + fast)
        return max(0.0, float(dual), float(cover[need]))

    # Windows from each ideal k: states (wrapped, ideal), the window being (ideal \ k) or,
    # wrapped, (all \ k) + the next inference's ideal.
    edges: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    work = 0
    for k in range(full):
        seen = {(0, k)}
        stack = [(0, k)]
        while stack:
            lvl, x = stack.pop()
            wrap_now = lvl == 0 and x == full
            nl = 1 if wrap_now else lvl
            for y in ext[0] if wrap_now else ext[x]:
                work += 1
                if (nl, y) in seen:
                    continue
                held = rows[y] - rows[k] if nl == 0 else rows[full] - rows[k] + rows[y]
                if held > N + 1e-9:  # fact 1: a window's steps hold their rows at once
                    continue
                seen.add((nl, y))
                stack.append((nl, y))
            if work > _MAX_TRANSITIONS:
                return 0
        tg, cs, wr = [], [], []
        for lvl, y in seen:
            if lvl == 0 and y == k:
                continue
            if lvl == 0:
                h, c = H[y] - H[k], comp[y] - comp[k]
                held = rows[y] - rows[k]
                members = _members(masks[y] & ~masks[k])
                sums = release.sums[y] - release.sums[k]
            else:
                h, c = H[full] - H[k] + H[y], comp[full] - comp[k] + comp[y]
                held = rows[full] - rows[k] + rows[y]
                members = _members(masks[full] & ~masks[k]) + _members(masks[y])
                sums = release.sums[full] - release.sums[k] + release.sums[y]
            node, wrap = (0, 1) if (lvl == 0 and y == full) else (y, lvl)
            nxt_rows = float(release.next_rows[node])
            if nxt_rows <= 0:  # no weight-bearing step can open the next window there
                continue
            # facts 2-3: the window's compute with at most N rows (weak duality), at least T
            least = max(float((h - rx.mu * N).max()), float(c))
            free = released(sums, members, held, nxt_rows)
            # Either no weight-bearing step of the window ends before the next window's
            # writes start, and then all of them hold their rows beside the next one's first
            # step, or one does, and so does the window's first step (a weight-bearing step
            # with no predecessor in the window), with at most its rows plus those the window
            # leaves free at r = 1.
            if held + nxt_rows <= N + 1e-9:
                beside = max(float((h - rx.mu * (N - nxt_rows)).max()), float(c))
                head = masks[y] & ~masks[k] if lvl == 0 else masks[full] & ~masks[k]
                first = min((_fastest(release.options[b], release.rows[b] + N - held)
                             for b in _members(head)
                             if release.rows[b] > 0 and preds[b] & head == 0), default=0.0)
                free = max(free, min(beside - T, first))
            tg.append(node)
            cs.append(max(float(T), least, T + free))
            wr.append(wrap)
        edges.append((np.array(tg, dtype=np.int64), np.array(cs), np.array(wr, dtype=bool)))
    return _ceil(_cycle_mean(edges, full))


def _cycle_mean(edges: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n: int) -> float:
    """The least mean cost per wrapping edge of a cycle: the windows of ``edges`` (per node
    ``k``: targets, costs, whether the window crosses into the next inference) never wrap
    backwards except when crossing, so every cycle crosses; between two crossings a cycle
    runs forwards over ideals. Karp's minimum cycle mean over the crossing targets."""
    entry = sorted({int(t) for tg, _, wr in edges for t in tg[wr]})
    if not entry:
        return 0.0
    where = {x: i for i, x in enumerate(entry)}
    e = len(entry)
    # dist[i, v]: least cost from entry i to node v without crossing (ideal ids increase)
    dist = np.full((e, n), np.inf)
    dist[np.arange(e), entry] = 0.0
    M = np.full((e, e), np.inf)
    for k in range(n):
        tg, cs, wr = edges[k]
        col = dist[:, k]
        if not np.isfinite(col).any():
            continue
        if (~wr).any():
            for t, c in zip(tg[~wr].tolist(), cs[~wr].tolist(), strict=True):
                np.minimum(dist[:, t], col + c, out=dist[:, t])
        for t, c in zip(tg[wr].tolist(), cs[wr].tolist(), strict=True):
            j = where[t]
            np.minimum(M[:, j], col + c, out=M[:, j])
    # Karp: D[q, v] least cost of q crossings ending at v from anywhere
    D = np.full((e + 1, e), np.inf)
    D[0] = 0.0
    for q in range(1, e + 1):
        D[q] = (D[q - 1][:, None] + M).min(axis=0)
    best = np.inf
    for v in range(e):
        if not np.isfinite(D[e, v]):
            continue
        worst = max((D[e, v] - D[q, v]) / (e - q) for q in range(e) if np.isfinite(D[q, v]))
        best = min(best, worst)
    return float(best) if np.isfinite(best) else 0.0


__all__ = ["PeriodicBounds", "periodic_bounds", "area_period", "window_period"]
