"""Bounds on the relaxed instance (docs/bounds.md, "The relaxed instance"): the path bound,
with its replication states, and the window bound.

Every part of a layer gets the layer's smallest part size, so the parts of a layer are
interchangeable; both bounds hold for every schedule that satisfies R1-R8, at any
replication and in any compute order. :mod:`aras.evaluation.bounds` collects them with the
simple bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from aras.model.mapping import Problem


def _after_weight(problem: Problem, weighted: set[str]) -> set[str]:
    """The ``weighted`` layers and their descendants (one pass in topological order)."""
    g = problem.network.graph
    after: set[str] = set()
    for op in problem.network.ops:  # topological order
        if op.name in weighted or any(p in after for p in g.predecessors(op.name)):
            after.add(op.name)
    return after


# ----- the relaxed instance shared by the path and window bounds -----

#: Mixing weights of the chain and row-time arguments (any value in [0, 1] gives a valid bound).
_LAM = np.linspace(0.0, 1.0, 101)
#: Steps of the simplex grid of (chain, row-time, write-time) weights used when memory bandwidth
#: binds (docs/bounds.md, "Cut bound"): 1/20, 210 points beyond the row-time line.
_BW_STEPS = 20


def head_weights(T: int, N: int, S: int, line: np.ndarray = _LAM
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights ``(lam, kappa, omega)`` of the chain, row-time and write-time arguments of the
    heads (docs/bounds.md, "Cut bound"): every convex combination gives a valid bound.

    Without a binding bandwidth (``S >= N``) the write-time argument is weaker than the
    row-time one (``T / S <= (T + c) / N``), so only ``omega = 0`` is kept. ``line``: the
    chain weights with ``omega = 0``.
    """
    lam = line.copy()
    if S < N and _BW_STEPS > 0:
        grid = [(x / _BW_STEPS, y / _BW_STEPS) for x in range(_BW_STEPS + 1)
                for y in range(_BW_STEPS + 1 - x) if x + y < _BW_STEPS]
        lam = np.concatenate([lam, [x for x, _ in grid]])
        kappa = np.concatenate([1 - line, [y for _, y in grid]])
    else:
        kappa = 1 - line
    return lam, kappa, np.maximum(0.0, 1 - lam - kappa)


def head_terms(lam: np.ndarray, kappa: np.ndarray, omega: np.ndarray, rho: np.ndarray,
               c: np.ndarray, T: int, N: int, S: int) -> np.ndarray:
    """``min_r lam c(r) + kappa rho(r) (T + c(r)) / N + omega rho(r) T / S`` at every weight,
    for one weight-bearing part with rows ``rho`` and computes ``c`` over its replications."""
    return (lam[:, None] * c[None, :] + kappa[:, None] * (rho * (T + c))[None, :] / N
            + omega[:, None] * (rho * T)[None, :] / S).min(axis=1)
#: Steps beyond which the path bound is skipped (reported as 0): it builds (steps x steps)
#: matrices. The built-in networks have at most 313 steps.
_MAX_PATH_STEPS = 600
_CONTRACT_FROM = 600
#: Ideals (order prefixes) and DP transitions beyond which the window bound runs on fewer
#: steps (:func:`_window_steps`, which counts both before the DP runs).
_MAX_IDEALS = 20000
#: (About 10 us a transition: 300,000 is 3 s; the built-in networks need far fewer.)
_MAX_TRANSITIONS = 300_000
#: Groups from one ideal beyond which the window bound's release takes any subset of the
#: group, not only its prefixes (the prefixes cost groups^2 tests).
_MAX_PREFIXES = 400
#: (group, prefix) tests of the whole window bound beyond which it stops using prefixes.
_MAX_PREFIX_PAIRS = 2_000_000
#: Step pairs per matrix product in the path bound (bounds memory to ~100 MB at the limit).
_PAIR_CHUNK = 2048


@dataclass
class _Relaxed:
    """The problem as the path and window bounds see it (docs/bounds.md, "relaxed instance").

    Every part of a layer gets the smallest part size of that layer and the parts of a layer
    are chained in index order: parts of one layer then differ in nothing, so any schedule can
    be relabelled so that its k-th computed part of a layer is part k. A part keeps every
    replication some part of its layer can use, with rows counted at the small size.

    The steps that cost nothing (weightless, with no compute cycles) are contracted out; the
    others keep the precedence among them transitively. Every per-step field is indexed by
    the kept steps (``index``: their problem step indices, increasing, so the index order is
    still topological); :meth:`expand` turns per-step bounds back into one per problem step.
    """

    rows: np.ndarray      # rows at r = 1 (0 for weightless steps)
    cmin: np.ndarray      # shortest compute over every replication
    weighted: np.ndarray  # bool
    free: np.ndarray      # weightless steps with no weight-bearing ancestor
    prec: np.ndarray      # bool (n, n): prec[i, j] when i computes before j in every order
    preds: list[int]      # bitmask of the direct predecessors of each step
    sink: np.ndarray      # bool: steps with no successor among the kept steps
    lam: np.ndarray       # the chain weight of each head weight (docs/bounds.md, "Cut bound")
    g: np.ndarray         # (n, len(lam)): the head terms (:func:`head_terms`)
    mu: np.ndarray        # row prices (cycles per row) of the Lagrangian compute bounds
    h: np.ndarray         # (n, len(mu)): min_r c(r) + mu r a
    options: list[tuple[np.ndarray, np.ndarray]]  # per step: rows and compute of every r
    index: np.ndarray     # the problem step index of each kept step
    #: per problem step, the kept steps it computes after: itself when kept, otherwise the
    #: kept steps reached backwards through contracted steps only
    cover: list[np.ndarray]

    def expand(self, ends: np.ndarray) -> np.ndarray:
        """Lower bounds on the ends of the kept steps as bounds on those of every problem
        step: a contracted step ends no earlier than each step of its ``cover`` (0 when it
        has none)."""
        out = np.zeros(len(self.cover))
        for i, at in enumerate(self.cover):
            if len(at):
                out[i] = ends[at].max()
        return out


def _members(mask: int) -> list[int]:
    """The set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _relaxed(problem: Problem) -> _Relaxed:
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    graph = problem.network.graph
    by_layer: dict[str, list[int]] = {}
    for s in problem.steps:
        by_layer.setdefault(s.layer, []).append(s.index)
    # On networks beyond the path bound's cap, the steps that cost nothing are contracted out
    # (docs/bounds.md, "The relaxed instance", fact 3), except where branches join: such a
    # step still ends after all of them, a cut the path bound uses. near[i]: step i itself
    # when kept, otherwise the kept steps before it through contracted steps only; a kept
    # step's predecessors are the near sets of its own. anc: each kept step's ancestors.
    contract = len(problem.steps) > _CONTRACT_FROM
    pos: dict[int, int] = {}
    near = [0] * len(problem.steps)
    preds: list[int] = []
    anc: list[int] = []
    for s in problem.steps:  # the index order is topological, the parts of a layer in a row
        mask = near[s.index - 1] if s.part > 0 else 0
        for q in graph.predecessors(s.layer):
            mask |= near[by_layer[q][-1]]
        below = 0
        for b in _members(mask):
            below |= anc[b]
        if (contract and not s.weighted and s.fixed_cycles == 0
                and (mask & ~below).bit_count() <= 1):
            near[s.index] = mask
            continue
        pos[s.index] = len(preds)
        near[s.index] = 1 << len(preds)
        preds.append(mask)
        anc.append(mask | below)
    steps = [problem.steps[i] for i in pos]
    n = len(steps)
    cover = [np.array(_members(x), dtype=np.int64) for x in near]
    # The (steps x steps) order matrix only serves the path bound, skipped on larger networks.
    prec = np.zeros((0, 0) if n > _MAX_PATH_STEPS else (n, n), dtype=bool)
    if n <= _MAX_PATH_STEPS:
        for k, x in enumerate(anc):
            prec[_members(x), k] = True
    followed = 0
    for x in preds:
        followed |= x
    sink = np.array([not followed >> k & 1 for k in range(n)], dtype=bool)
    weighted = np.array([s.weighted for s in steps], dtype=bool)
    after_weight = _after_weight(problem, {s.layer for s in steps if s.weighted})
    free = np.array([s.layer not in after_weight for s in steps], dtype=bool)
    rows = np.zeros(n)
    cmin = np.zeros(n)
    options: list[tuple[np.ndarray, np.ndarray]] = []
    smallest = {name: min(problem.steps[i].apu_rows for i in idx)
                for name, idx in by_layer.items()}
    for k, s in enumerate(steps):
        if s.weighted:
            a = smallest[s.layer]
            # a recurrent step computes its windows one after the other at any replication
            r = np.arange(1, (1 if s.serial else max(1, min(s.windows, N // a))) + 1)
            c = -(-s.windows // r) * s.window_cycles
            rows[k], cmin[k] = a, c.min()
            options.append((r * a, c))
        else:
            cmin[k] = s.fixed_cycles
            options.append((np.zeros(1), np.array([s.fixed_cycles])))
    # Prices beyond the largest compute a row can save change nothing: r = 1 is then cheapest.
    top = max([float(c[0]) / max(1.0, float(rho[0])) for rho, c in options] + [1.0])
    mu = np.concatenate([[0.0], np.geomspace(1e-5 * top, 2.0 * top, 128)])
    S = hw.write_slots
    lam, kappa, omega = head_weights(T, N, S)
    g = np.zeros((n, len(lam)))
    h = np.zeros((n, len(mu)))
    for k, (s, (rho, c)) in enumerate(zip(steps, options, strict=True)):
        h[k] = (c[None, :] + mu[:, None] * rho[None, :]).min(axis=1)
        if s.weighted:
            g[k] = head_terms(lam, kappa, omega, rho, c, T, N, S)
        elif not free[k]:
            g[k] = lam * s.fixed_cycles
    index = np.array([s.index for s in steps], dtype=np.int64)
    return _Relaxed(rows, cmin, weighted, free, prec, preds, sink, lam, g, mu, h, options,
                    index, cover)


#: Replication buckets per step in the path bound's replication states, and every how many
#: row prices their Lagrangian bounds keep: the first (buckets, stride) of _STATE_GRIDS whose
#: (pairs x points x prices) evaluations (points: the fewer of buckets^2 and N + 1) stay
#: within _STATE_WORK and whose per-bucket-pair edges (only the pairs whose fewest rows fit
#: store them; the others depend on the bucket of their head alone) within _STATE_CELLS
#: (64 MB). More buckets only raise the bound, and raise it more than finer prices
#: (ResNet-50: 3.290 ms at 8 buckets, 3.302 at 16, 3.309 at 32, 3.312 at 64 with every price;
#: 3.3117 at 64 with every 4th).
_STATE_GRIDS = ((64, 1), (64, 2), (64, 4), (32, 1), (32, 2), (32, 4), (16, 1), (16, 2),
                (16, 4), (8, 1), (8, 4), (4, 1), (4, 4))
_STATE_WORK = 129 << 21
_STATE_CELLS = 1 << 23


def _buckets(options: list[tuple[np.ndarray, np.ndarray]], count: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """Split each step's replications (in increasing order) into at most ``count`` runs,
    geometric in ``r``, and give each run its least rows and least compute.

    A run's pair is at most the rows and the compute of every replication in it, so a bound
    that is monotone in both (the path bound's states) stays valid for each of them.
    """
    n = len(options)
    rows = np.zeros((n, count))
    comp = np.zeros((n, count))
    for k, (rho, c) in enumerate(options):
        m = len(rho)
        cuts = np.unique(np.round(np.geomspace(1, m + 1, count + 1)).astype(int) - 1)
        cuts = np.unique(np.clip(cuts, 0, m))
        firsts = [int(x) for x in cuts[:-1]]
        lasts = [int(x) - 1 for x in cuts[1:]]
        r_run = [float(rho[f]) for f in firsts]
        c_run = [float(c[f:z + 1].min()) for f, z in zip(firsts, lasts, strict=True)]
        # pad by repeating the last run: duplicates change neither a min nor a max
        r_run += [r_run[-1]] * (count - len(r_run))
        c_run += [c_run[-1]] * (count - len(c_run))
        rows[k], comp[k] = r_run, c_run
    return rows, comp


def _ceil(x: float) -> int:
    """Round a bound up to whole cycles, after a margin for float error."""
    return int(np.ceil(x - 1e-3 - 1e-10 * abs(x)))


def _path_skipped(n: int, notes: list[str] | None) -> bool:
    """True when the path bound does not run on ``n`` steps (noted when over its cap)."""
    if n > _MAX_PATH_STEPS and notes is not None:
        notes.append(f"path bound skipped: {n} steps that cost something, more than its cap "
                     f"of {_MAX_PATH_STEPS}")
    return n == 0 or n > _MAX_PATH_STEPS


def _path(problem: Problem, rx: _Relaxed, notes: list[str] | None = None,
          floor: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """The path bound and, per problem step, a lower bound on the end of its compute (at
    least ``floor``, one per problem step: lower bounds on those ends found otherwise, e.g.
    by the window bound)."""
    n = len(rx.rows)
    if _path_skipped(n, notes):
        return 0, np.zeros(len(rx.cover)) if floor is None else floor.copy()
    bound, end = _path_model(problem, rx)(None if floor is None else floor[rx.index])
    return bound, rx.expand(end)


def _path_model(problem: Problem, rx: _Relaxed
                ) -> Callable[[np.ndarray | None], tuple[int, np.ndarray]]:
    """The path bound's edges, priced once, as a function of lower bounds on the steps' ends
    found otherwise (``floor``): the recursion and the tails run on each call. Steps are
    those of ``rx`` (the kept ones), in and out."""
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    n = len(rx.rows)
    a, c = rx.rows, rx.cmin
    P = rx.prec.astype(float)
    between_rows = P @ (a[:, None] * P)  # rows of the steps between i and j in every order
    between_c = P @ (c[:, None] * P)
    # If i, j and the steps between them fit the accelerator, j may follow i within T; the
    # steps after i then compute in sequence with at most N - a_i rows between them.
    fits = rx.prec & rx.weighted[None, :] & (a[:, None] + between_rows + a[None, :] <= N)
    cheapest = np.full((n, n), np.inf)
    pairs_i, pairs_j = np.nonzero(fits)
    states = _States(rx, T, N, between_c, pairs_i, pairs_j)
    for lo in range(0, len(pairs_i), _PAIR_CHUNK):
        # Few large products: many small BLAS calls are slow when the cores are shared.
        ii, jj = pairs_i[lo:lo + _PAIR_CHUNK], pairs_j[lo:lo + _PAIR_CHUNK]
        inside = (rx.prec[ii] & rx.prec[:, jj].T).astype(float)
        between_h = inside @ rx.h  # the between steps' Lagrangian terms, at every price
        dual = (between_h + rx.h[jj] - rx.mu[None, :] * (N - a[ii])[:, None]).max(axis=1)
        cheapest[ii, jj] = np.maximum(dual, between_c[ii, jj] + c[jj])
        states.price(lo, ii, jj, between_h, between_rows, between_c, N)
    # Otherwise j's write starts after i ends (its rows cannot all be held with i's).
    jump = np.maximum(T, between_c) + c[None, :]
    edge = np.where(rx.weighted[None, :], np.minimum(jump, cheapest), between_c + c[None, :])
    edge = np.where(rx.prec, edge, -np.inf)
    anc = P.T
    has_weight = (anc @ rx.weighted + rx.weighted) > 0
    head = (anc @ rx.g + rx.g + np.where(has_weight[:, None], rx.lam[None, :] * T, 0.0))
    end = head.max(axis=1)
    # Write rounds of the prefix: the rows of j and of every step before it are all written
    # before j ends, S at a time, so the last of those writes ends no earlier than
    # ceil(rows / S) T; its part computes after it and, unless it is j, so does j.
    prefix_rows = anc @ a + a
    before = np.where((P.T > 0) & rx.weighted[None, :], c[None, :], np.inf).min(axis=1)
    last = np.minimum(np.where(rx.weighted, c, np.inf), before + c)
    rounds = np.ceil(prefix_rows / S - 1e-9) * T + last
    start = np.maximum(end, np.where(np.isfinite(rounds) & (prefix_rows > 0), rounds, 0.0))
    start = np.maximum(start, _slot_rounds(rx, anc, prefix_rows, T, S))
    # After step j: every descendant computes, and the descendants' rows beyond N - a_j are
    # written after j ends, S at a time; the part written last computes, then the last sink.
    # With j's replication bucket known, its own rows are at least that bucket's.
    desc_rows = P @ a
    desc_c = P @ c
    finish = c + np.where(rx.sink, 0.0, c[rx.sink].min())
    last = np.where(rx.prec, finish[None, :], np.inf).min(axis=1)
    extra = desc_rows[:, None] - (N - np.maximum(states.rho, a[:, None]))
    rounds = np.ceil(np.maximum(extra, 0.0) / S)
    tail = np.where(extra > 0, np.maximum(desc_c[:, None], rounds * T + last[:, None]),
                    desc_c[:, None])

    def run(floor: np.ndarray | None) -> tuple[int, np.ndarray]:
        end = start.copy() if floor is None else np.maximum(start, floor)
        for j in range(n):  # the index order is a topological order of prec
            end[j] = max(end[j], float((end + edge[:, j]).max()))
        state = states.solve(end)
        return _ceil(float((state + tail).min(axis=1).max())), state.min(axis=1)

    return run


#: Weights of the two sides of the slot rounds (docs/bounds.md, "Slot rounds").
_THETA = np.linspace(0.0, 1.0, 11)


def _slot_rounds(rx: _Relaxed, anc: np.ndarray, prefix_rows: np.ndarray, T: int, S: int
                 ) -> np.ndarray:
    """Per step ``j``, a lower bound on ``e_j`` from the write slots (docs/bounds.md, "Slot
    rounds"): if ``j`` starts in ``[m T, (m + 1) T)``, every write of ``j`` and its ancestors
    ended by then, at most ``m S`` of them, so ``e_j >= m T + c_j(r_j)`` and
    ``e_j >= T + sum c_k(r_k)`` over them at replications holding at most ``m S`` rows; any
    convex combination of the two, priced by weak duality, bounds ``e_j`` for that ``m``, and
    the bound is the least over ``m``."""
    n = len(rx.rows)
    out = np.zeros(n)
    timed = ~rx.free  # weightless steps with no weight-bearing ancestor may run before T
    mu = rx.mu
    # others[j, t, p]: sum over j's ancestors of min_r (1 - theta_t) c(r) + mu_p r a
    part = np.zeros((n, len(_THETA), len(mu)))
    for k, (rho, c) in enumerate(rx.options):
        if timed[k]:
            part[k] = ((1 - _THETA)[:, None, None] * c[None, None, :]
                       + mu[None, :, None] * rho[None, None, :]).min(axis=2)
    others = (anc @ part.reshape(n, -1)).reshape(part.shape)
    sum_c = anc @ (rx.cmin * timed) + rx.cmin * timed
    at = np.nonzero(prefix_rows > 0)[0]
    if not len(at):
        return out

    def value(at: np.ndarray, m: np.ndarray) -> np.ndarray:
        """The bound on ``e_j`` for the steps ``at`` starting in round ``m``: a maximum of
        functions affine in ``m``, so convex in it."""
        budget = m * S
        start = (_THETA[None, :] * (m * T)[:, None]
                 + (1 - _THETA)[None, :] * T)  # (steps, theta)
        dual = (start[:, :, None] + rx.h[at][:, None, :] + others[at]
                - (mu[None, :] * budget[:, None])[:, None, :]).max(axis=(1, 2))
        return np.maximum(np.maximum(m * T + rx.cmin[at], T + sum_c[at]), dual)

    # The least over m >= m0 of a convex function, by bisection on its differences (a walk
    # over every m took ~50,000 rounds where compute dwarfs T and few rows are written at
    # once). Beyond hi, m T + c_j* alone exceeds the value at m0.
    lo = np.maximum(1.0, np.ceil(prefix_rows[at] / S - 1e-9))
    hi = np.maximum(lo, np.ceil((value(at, lo) - rx.cmin[at]) / T))
    while True:
        open_ = np.nonzero(lo < hi)[0]
        if not len(open_):
            break
        sub = at[open_]
        mid = np.floor((lo[open_] + hi[open_]) / 2)
        left = value(sub, mid) <= value(sub, mid + 1)  # a least value at mid or before
        hi[open_[left]] = mid[left]
        lo[open_[~left]] = mid[~left] + 1
    out[at] = value(at, lo)
    return out


class _States:
    """Lower bounds on each step's end for each of its replication buckets.

    The pairwise argument of the path bound, with the replications of both ends of a pair
    fixed to a bucket (its least rows and least compute): ``e_j >= e_i + w`` for the buckets
    the schedule uses, so ``E_j[b] = max_i min_b' E_i[b'] + w(i, b', j, b)``. Fixing them
    ties the row budget of the steps between ``i`` and ``j`` to the rows ``i`` and ``j``
    themselves hold, which the bucket-free bound prices independently per pair. The edges
    start as jumps (``j`` writes after ``i`` ends), which depend on ``j``'s bucket only;
    :meth:`price` lowers those of the pairs whose fewest rows fit (stored per bucket pair) to
    the Lagrangian bound of the steps between them, and :meth:`solve` runs the longest-path
    recursion.
    """

    def __init__(self, rx: _Relaxed, T: int, N: int, between_c: np.ndarray, ii: np.ndarray,
                 jj: np.ndarray):
        prices = len(rx.mu)
        # A pair's bound is a function of the rows x its two ends hold; it is evaluated either
        # at its B^2 values of x or, when fewer, at every x = 0..N (rows are whole numbers).
        B, stride = next(((b, k) for b, k in _STATE_GRIDS
                          if len(ii) * min(b * b, N + 1) * -(-prices // k) <= _STATE_WORK
                          and len(ii) * b * b <= _STATE_CELLS), (1, 1))
        self.rx, self.T, self.B, self.stride = rx, T, B, stride
        self.every_x = N + 1 < B * B
        self.rho, self.cc = _buckets(rx.options, B)
        # float64: whole cycles stay exact up to 2^53, far beyond any makespan
        jump = np.where(rx.weighted[None, :], np.maximum(T, between_c), between_c)
        self.jump = np.where(rx.prec, jump, -np.inf)  # [i, j], plus cc[j, b_j]
        self.ii, self.jj = ii, jj
        # [pair, b_i, b_j] for the pairs whose fewest rows fit
        self.w = np.broadcast_to(self.jump[ii, jj][:, None, None] + self.cc[jj][:, None, :],
                                 (len(ii), B, B)).copy()

    def price(self, lo: int, ii: np.ndarray, jj: np.ndarray, between_h: np.ndarray,
              between_rows: np.ndarray, between_c: np.ndarray, N: int) -> None:
        """Lower the edges of pairs ``lo, lo + 1, ...`` (``(ii, jj)``), whose fewest rows fit:
        ``i``, ``j`` and the steps between them may all be held at once, and then those
        steps compute in sequence with at most ``N - rows_i - rows_j`` rows
        (``between_h``: their summed ``h`` at every price)."""
        mu, rho, B, k = self.rx.mu[::self.stride], self.rho, self.B, self.stride
        points = N + 1 if self.every_x else B * B
        # bounds the (pairs, points, prices) array to about 2 * _PAIR_CHUNK * 129 floats
        step = max(1, 2 * _PAIR_CHUNK * k // points)
        every = np.arange(N + 1, dtype=float)
        for at in range(0, len(ii), step):
            i, j = ii[at:at + step], jj[at:at + step]
            F = between_h[at:at + step, ::k] - mu[None, :] * N
            x = rho[i][:, :, None] + rho[j][:, None, :]  # (P, B, B) rows of both ends
            if self.every_x:
                dual_at = (F[:, None, :] + mu[None, None, :] * every[None, :, None]).max(axis=2)
                at_x = np.minimum(x, N).astype(np.int64).reshape(len(i), -1)
                dual = np.take_along_axis(dual_at, at_x, axis=1).reshape(x.shape)
            else:
                dual = (F[:, None, None, :] + mu[None, None, None, :] * x[..., None]).max(axis=3)
            cj = self.cc[j][:, None, :]
            cheap = np.maximum(between_c[i, j][:, None, None] + cj, cj + dual)
            ok = x + between_rows[i, j][:, None, None] <= N
            w = self.w[lo + at:lo + at + len(i)]
            w[...] = np.where(ok, np.minimum(w, cheap), w)

    def solve(self, end: np.ndarray) -> np.ndarray:
        """``E_j[b]`` for every step and bucket, from the bucket-free ends ``end``."""
        rx = self.rx
        n = len(rx.rows)
        state = np.maximum(end[:, None], np.where(rx.weighted[:, None], self.T + self.cc, 0.0))
        low = np.zeros(n)  # min over buckets of state, final once its step is done
        jump = self.jump.copy()
        jump[self.ii, self.jj] = -np.inf  # the fitting pairs' edges are per bucket pair
        order = np.argsort(self.jj, kind="stable")
        by_j = np.split(order, np.searchsorted(self.jj[order], np.arange(1, n)))
        for j in range(n):  # index order is topological
            ins = np.nonzero(rx.prec[:, j])[0]
            if len(ins):
                far = float((low[ins] + jump[ins, j]).max())
                state[j] = np.maximum(state[j], far + self.cc[j])
            fit = by_j[j]
            if len(fit):
                cand = (state[self.ii[fit]][:, :, None] + self.w[fit]).min(axis=1)
                state[j] = np.maximum(state[j], cand.max(axis=0))
            low[j] = state[j].min()
        return state


def _window_view(rx: _Relaxed, drop: frozenset[int] = frozenset()
                 ) -> tuple[list[int], list[int]]:
    """The steps the window bound's DP keeps (indices into ``rx``) and the direct
    predecessors of each (bitmasks over the kept ones; docs/bounds.md, "Window bound").

    Left out: the steps of ``drop``, the steps that cost nothing (weightless, no compute), and
    the weightless steps with no kept weight-bearing step before them; the kept steps keep
    the precedence among them transitively.
    """
    keep: list[int] = []
    preds: list[int] = []
    reach = [0] * len(rx.rows)  # i itself when kept, else the kept steps just before it
    heavy = [False] * len(rx.rows)  # i or a step before it is kept and bears weights
    for i in range(len(rx.rows)):
        mask, after = 0, False
        for p in _members(rx.preds[i]):
            mask |= reach[p]
            after |= heavy[p]
        bears = bool(rx.weighted[i]) and i not in drop
        if bears or (after and rx.cmin[i] > 0 and not rx.weighted[i]):
            reach[i] = 1 << len(keep)
            keep.append(i)
            preds.append(mask)
        else:
            reach[i] = mask
        heavy[i] = bears or after
    return keep, preds


@dataclass
class _Lattice:
    """The order prefixes (ideals) of a step DAG, found breadth-first: every subset of an
    ideal comes before it, so a sum over ideals builds from ``parent`` and ``added``."""

    masks: list[int]                 # each ideal, as a bitmask over the steps
    ids: dict[int, int]              # an ideal's position from its mask
    ready: list[list[int]]           # per ideal, the steps that may come next
    ext: list[list[tuple[int, int]]]  # per ideal, (step added, ideal reached) for each
    parent: list[int]                # the ideal each was first reached from
    added: list[int]                 # and the step added to it (-1 for the empty one)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per ideal, the sum over its steps of ``values`` (one entry or row per step)."""
        out = np.zeros((len(self.masks),) + values.shape[1:])
        for k in range(1, len(self.masks)):
            out[k] = out[self.parent[k]] + values[self.added[k]]
        return out


def _lattice(preds: list[int], cap: int) -> _Lattice | None:
    """The ideals of the DAG whose steps have direct predecessors ``preds`` (bitmasks), or
    None when there are more than ``cap``."""
    m = len(preds)
    succs: list[list[int]] = [[] for _ in range(m)]
    for w in range(m):
        for p in _members(preds[w]):
            succs[p].append(w)
    out = _Lattice([0], {0: 0}, [[v for v in range(m) if preds[v] == 0]], [[]], [0], [-1])
    frontier = [0]
    while frontier:
        nxt = []
        for prefix in frontier:
            k = out.ids[prefix]
            for v in out.ready[k]:
                J = prefix | (1 << v)
                if J not in out.ids:
                    if len(out.masks) >= cap:
                        return None
                    out.ids[J] = len(out.masks)
                    out.masks.append(J)
                    out.ready.append([u for u in out.ready[k] if u != v]
                                     + [w for w in succs[v] if preds[w] & ~J == 0])
                    out.ext.append([])
                    out.parent.append(k)
                    out.added.append(v)
                    nxt.append(J)
                out.ext[k].append((v, out.ids[J]))
        frontier = nxt
    return out


def _group_edges(lattice: _Lattice, rows: np.ndarray, N: int, limit: int) -> int:
    """The (ideal, extension) pairs the window DP's search for groups visits when only its
    row test (fact 1) prunes it, counted until they pass ``limit``: at least the DP's work,
    which also prunes by compute (fact 2) and starts only from the ideals it reaches."""
    work = 0
    for k in range(len(lattice.masks)):
        top = rows[k] + N
        seen = {k}
        stack = [k]
        while stack:
            for _, y in lattice.ext[stack.pop()]:
                work += 1
                if y not in seen and rows[y] <= top:
                    seen.add(y)
                    stack.append(y)
        if work > limit:
            break
    return work


def _window_steps(rx: _Relaxed, T: int, N: int, cap: int, drop: set[int]
                  ) -> tuple[list[int], list[int], _Lattice] | None:
    """:func:`_window_view`, leaving out more of the lightest weight-bearing steps that have
    steps in parallel with them (adding them to ``drop``) until the kept ones have at most
    ``cap`` order prefixes and the DP's search for groups fits its transition cap (returned
    with the steps and their predecessors); None when no such step is left.

    Leaving steps out is a relaxation (docs/bounds.md, "Window bound", the reduced
    instance): every schedule restricted to the kept steps is one of the reduced instance,
    with no larger makespan. A step that every other one precedes or follows adds one order
    prefix, so only steps in parallel with others are candidates. They go by their weight,
    ``min_r c(r) + r a' T / N`` (their compute plus their share of the area at the
    replication that trades them best), over the number of steps in parallel with them (the
    more, the more order prefixes they make), the least first, a tenth of them at a time (a
    fifth while the ideals pass ``cap``); then the last of them are taken back, the heaviest
    first, while the rest still fits.
    """
    def attempt(left_out: set[int]) -> tuple[list[int], list[int], _Lattice | None, bool]:
        """The kept steps, their predecessors, their ideals (None: more than ``cap``) and
        whether the DP fits its caps on them."""
        keep, preds = _window_view(rx, frozenset(left_out))
        lattice = _lattice(preds, cap)
        fit = lattice is not None and _group_edges(
            lattice, lattice.sums(rx.rows[keep]), N, _MAX_TRANSITIONS) <= _MAX_TRANSITIONS
        return keep, preds, lattice, fit

    last: list[int] = []  # the steps left out by the last round, the lightest first
    while True:
        keep, preds, lattice, fit = attempt(drop)
        if fit:
            # The last round may have left out more than needed: take back its heaviest
            # steps one by one while the rest still fits.
            for i in reversed(last):
                again = attempt(drop - {i})
                if not again[3]:
                    break
                drop.discard(i)
                keep, preds, lattice = again[:3]
            assert lattice is not None
            return keep, preds, lattice
        m = len(keep)
        below = [0] * m  # ancestors, as bitmasks over keep
        for v in range(m):
            for p in _members(preds[v]):
                below[v] |= below[p] | (1 << p)
        above = [0] * m
        for v in range(m):
            for p in _members(below[v]):
                above[p] |= 1 << v
        cands = sorted((float((rx.options[i][1] + rx.options[i][0] * T / N).min())
                        / (m - 1 - (below[v] | above[v]).bit_count()), i)
                       for v, i in enumerate(keep)
                       if rx.weighted[i] and (below[v] | above[v]).bit_count() < m - 1)
        if not cands:
            return None
        # a fifth at a time while far from fitting (too many ideals to count them all)
        share = 5 if lattice is None else 10
        last = [i for _, i in cands[:max(1, len(cands) // share)]]
        drop.update(last)


def _window(problem: Problem, rx: _Relaxed, end: np.ndarray | None = None,
            notes: list[str] | None = None, ends: np.ndarray | None = None,
            cap: int = _MAX_IDEALS) -> int:
    """The window bound: DP over order prefixes (ideals) grouped by windows of T.

    ``end``: lower bounds on the steps' ends, one per problem step. With ``ends`` (one per
    problem step), also raise each step's entry to a lower bound on the end of its compute:
    the DP's bound on the steps up to it (its ancestors and itself) alone. Where the steps
    have more than ``cap`` order prefixes, or the DP's search would pass its transition cap,
    it runs on fewer steps (:func:`_window_steps`), and the notes say so.
    """
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    if not rx.weighted.any():
        return 0
    drop: set[int] = set()
    view = _window_steps(rx, T, N, cap, drop)
    if view is None:
        if notes is not None:
            notes.append(f"window bound skipped: more than {cap:,} order prefixes or "
                         f"{_MAX_TRANSITIONS:,} DP transitions, with no step to leave out")
        return 0
    said: list[str] = []
    value = _window_dp(problem, rx, *view, end, said, ends)
    if notes is not None:
        if drop:
            heavy = int(rx.weighted.sum())
            notes.append(f"window bound on {heavy - len(drop)} of {heavy} weight-bearing "
                         f"steps ({len(drop)} light ones in parallel branches left out to "
                         f"fit its caps of {cap:,} order prefixes and {_MAX_TRANSITIONS:,} "
                         "DP transitions)")
        notes.extend(said)
    return value


def _window_dp(problem: Problem, rx: _Relaxed, keep: list[int], preds: list[int],
               lattice: _Lattice, end: np.ndarray | None, notes: list[str],
               ends: np.ndarray | None) -> int:
    """:func:`_window` on the steps ``keep`` of ``rx`` with direct predecessors ``preds``
    (bitmasks over ``keep``) and their ideals, within its caps (:func:`_window_steps`)."""
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    m = len(keep)
    lb = end[rx.index[keep]] if end is not None and len(end) else np.zeros(m)
    masks, ids, ready, ext = lattice.masks, lattice.ids, lattice.ready, lattice.ext
    parent, added = lattice.parent, lattice.added
    rows = lattice.sums(rx.rows[keep])
    comp = lattice.sums(rx.cmin[keep])
    Hm, Gm = lattice.sums(rx.h[keep]), lattice.sums(rx.g[keep])
    low_end = np.zeros(len(masks))  # the largest step-end bound in each ideal
    for k in range(1, len(masks)):
        low_end[k] = max(low_end[parent[k]], float(lb[added[k]]))
    head = (rx.lam[None, :] * T + Gm).max(axis=1)
    head[0] = 0.0
    a = [rx.rows[i] for i in keep]
    release = _Release(rx, keep, masks, ready, parent, added, N)

    def compute(k0: int, k1: int, budget: float) -> float:
        """Least compute of the steps in ideal k1 but not k0 when they hold <= budget rows."""
        dual = float((Hm[k1] - Hm[k0] - rx.mu * budget).max())
        return max(dual, comp[k1] - comp[k0])

    def prefix_release(k: int, y: int, prefixes: list[int]) -> float:
        """Least compute of a prefix of group ``y \\ k`` after which the rest of the group
        leaves the next group's first step its rows (fact 4, with ``Q`` a prefix)."""
        keep_rows = N - release.next_rows[y]
        low = np.inf
        for x in prefixes:
            if masks[x] & ~masks[y] == 0 and rows[y] - rows[x] <= keep_rows:
                low = min(low, compute(k, x, N - (rows[y] - rows[x])))
        return float(low)

    full = len(masks) - 1
    coupled = _Coupled.build(rx, keep, parent, added, T, N)
    if coupled is None:
        notes.append(f"window bound: the two-group release skipped ({len(masks):,} order "
                     "prefixes)")
    # into[y]: (k, P) for every group y \ k the DP reached, P a lower bound on the start of
    # the group after y when y \ k is the group before it (docs/bounds.md, fact 5)
    into: list[list[tuple[int, float]]] = [[] for _ in masks]
    start_of = np.full(len(masks), np.inf)  # U: a lower bound on the start of the group after
    finish = np.full(len(masks), np.inf)  # the DP's bound on each ideal alone
    def paired(k: int, start: float, targets: list[int], terms: np.ndarray) -> np.ndarray:
        """``start + terms`` for the groups ``targets`` from ideal ``k`` (``terms``: their
        single-group terms), raised by fact 5: with the group before (from ``j``) known, the
        steps it has not finished when a group's last writes start leave that group its rows."""
        if coupled is None or k == 0 or not targets:
            return start + terms
        least = np.full(len(targets), np.inf)
        for j, pj in into[k]:
            least = np.minimum(least, np.maximum(max(pj, float(head[k]), low_end[k]) + terms,
                                                 start_of[j] + coupled.gain(j, k, targets)))
        return np.maximum(start + terms, least)

    best = np.inf
    pairs = 0
    for k in range(len(masks)):
        if k == 0:
            start = float(T)  # the first step in any order bears weights: it starts at T or later
        elif into[k]:
            start = max(min(p for _, p in into[k]), float(head[k]), low_end[k])
        else:
            continue
        start_of[k] = start
        seen = {k}
        stack = [k]
        while stack:
            x = stack.pop()
            for v, y in ext[x]:
                if y in seen or rows[y] - rows[k] > N:
                    continue
                # The group's steps before its last weight-bearing one (v) compute before v
                # starts, which is within T of the group's first start; weightless steps
                # after it may start later (the next group begins with a weight-bearing step).
                if a[v] > 0 and compute(k, x, N - a[v]) >= T:
                    continue
                seen.add(y)
                stack.append(y)
        groups = [y for y in seen if y != k]
        # The steps a group releases first are a prefix of its compute order: an ideal
        # between k and y. Every such ideal is reached (an order reaching y, restricted to it,
        # passes the same tests, whose compute bounds only fall on a subset). Without them
        # (too many) the release takes any subset, which is weaker but valid.
        prefixes = groups if len(groups) <= _MAX_PREFIXES and pairs < _MAX_PREFIX_PAIRS else []
        pairs += len(prefixes) * len(groups)
        ys, single = [], []
        for y in groups:
            cost = compute(k, y, N)
            if y == full:
                ys.append(y)
                single.append(cost)
            elif release.next_rows[y] > 0:  # the next group's first step bears weights
                free = release.cost(k, y, rows[y] - rows[k])
                if free > 0 and prefixes:
                    free = max(free, prefix_release(k, y, prefixes))
                ys.append(y)
                single.append(max(T, cost, T + free))
        after = paired(k, start, ys, np.array(single))
        for y, t in zip(ys, after, strict=True):  # (no ys: no pair term, nothing to add)
            if y == full:
                best = min(best, float(t))
            else:
                into[y].append((k, float(t)))
        if ends is not None:
            # y as the last group of the steps up to it (a schedule restricted to an ideal is
            # a schedule of that ideal alone): a bound on the end of its last step
            last = [y for y in groups if y != full]
            done = paired(k, start, last, np.array([compute(k, y, N) for y in last]))
            for y, t in zip(last, done, strict=True):
                finish[y] = min(finish[y], float(t))
    if ends is not None:
        found = np.zeros(len(rx.rows))
        closed = [0] * m  # each step of the DP with its ancestors, as an ideal
        for v in range(m):  # keep is in index order, a topological order
            mask, c = preds[v], 1 << v
            while mask:
                low = mask & -mask
                c |= closed[low.bit_length() - 1]
                mask ^= low
            closed[v] = c
            at = ids.get(c)
            if at is not None and np.isfinite(finish[at]):
                found[keep[v]] = finish[at]
        np.maximum(ends, rx.expand(found), out=ends)
    return _ceil(best) if np.isfinite(best) else 0


class _Release:
    """What a window must release before the next one's first writes (docs/bounds.md,
    "Window bound", fact 4).

    The next group's first step ``j`` bears weights and holds its rows from
    ``u' - T``; the steps of this group ``G`` still computing then hold theirs, so the steps
    ``Q`` of ``G`` that end by ``u' - T`` must leave ``N - a_j`` rows to the others, and
    ``u' - u >= T + C(Q)``. :meth:`cost` takes the larger of two lower bounds on
    ``min C(Q)``: weak duality with two prices (``mu`` on all of ``G``'s rows at ``u - 1``, at
    most ``N``, and ``nu`` on the rows of ``G \\ Q``, at most ``N - a_j``), and the exact
    cheapest cover of the rows to release (a knapsack over rows; the prices alone would let
    ``Q`` release a fraction of a step), each step at its shortest compute with the rows ``G``
    leaves free at ``r = 1`` (every copy beyond the first must fit in them). :func:`_window`
    adds a third: ``Q`` is a prefix of the group's compute order.
    """

    #: Floats of the per-ideal price sums (16 MB); the ``nu`` grid shrinks to fit.
    CELLS = 1 << 21
    #: Every how many of the compute bounds' row prices the release keeps (any grid is valid;
    #: the cover and prefix bounds do most of the work).
    MU_STRIDE = 4

    def __init__(self, rx: _Relaxed, keep: list[int], masks: list[int],
                 ready: list[list[int]], parent: list[int], added: list[int], N: int):
        self.N = N
        self.mu = rx.mu[::self.MU_STRIDE]
        self.masks = masks
        self.rows = rx.rows[keep]
        self.options = [rx.options[i] for i in keep]
        # the fewest rows the next group's first (weight-bearing) step can hold; 0 when no
        # weight-bearing step can come next, so no group can end there
        self.next_rows = np.array([min([rx.rows[keep[u]] for u in r if rx.weighted[keep[u]]],
                                       default=0.0) for r in ready])
        nnu = int(max(2, min(33, self.CELLS // max(1, len(masks) * len(self.mu)))))
        top = float(rx.mu[-1])
        self.nu = np.concatenate([[0.0], np.geomspace(1e-5 * top, 2.0 * top, nnu - 1)])
        # a step of G either ends by u' - T (in Q: compute and rows priced by mu) or holds its
        # r = 1 rows then (priced by mu and nu); a weightless one costs nothing out of Q
        phi = np.minimum((self.mu[None, :, None] + self.nu[None, None, :])
                         * self.rows[:, None, None], rx.h[keep][:, ::self.MU_STRIDE, None])
        self.sums = np.zeros((len(masks), len(self.mu), nnu))
        for k in range(1, len(masks)):  # a parent is found before its children
            self.sums[k] = self.sums[parent[k]] + phi[added[k]]

    def cost(self, k0: int, k1: int, held: float) -> float:
        """Least compute of the steps of ideal ``k1`` not in ``k0`` (``held`` rows at
        ``r = 1``) that must end before the next group's first writes start."""
        need = int(round(held - (self.N - self.next_rows[k1])))
        if need <= 0:  # all of G may still hold its rows
            return 0.0
        group = self.masks[k1] & ~self.masks[k0]
        members = []
        while group:  # the set bits, lowest first (a group is small, a mask may be long)
            low = group & -group
            members.append(low.bit_length() - 1)
            group ^= low
        spare = self.N - held  # rows G leaves free at r = 1, for the copies of Q's steps
        dual = (self.sums[k1] - self.sums[k0] - self.mu[:, None] * self.N
                - self.nu[None, :] * (self.N - self.next_rows[k1])).max()
        # cover[m]: least shortest-compute of steps releasing at least m rows
        cover = np.full(need + 1, np.inf)
        cover[0] = 0.0
        at = np.arange(need + 1)
        for b in members:
            if self.rows[b] > 0:
                rho, c = self.options[b]  # rows increase with r, compute does not
                fast = float(c[np.searchsorted(rho, self.rows[b] + spare + 1e-9) - 1])
                cover = np.minimum(cover, cover[np.maximum(at - int(self.rows[b]), 0)] + fast)
        return max(0.0, float(dual), float(cover[need]))


class _Coupled:
    """Fact 5 of the window bound (docs/bounds.md): two consecutive groups priced together.

    For consecutive groups ``G`` (from ``u``) and ``G'`` and ``l`` the last weight-bearing step
    of ``G'``: at ``s_l - T`` every weight-bearing step of ``G'`` holds its rows and so does
    every one of ``G`` still computing, so the steps ``Q`` of ``G`` that end by then leave
    ``N`` rows to ``(G \\ Q) + G'``, all at their own replications. The start of the group
    after ``G'`` (or the makespan) is then at least each of ``u + T + C(Q)``,
    ``u + C(G) + C(G')`` and ``u + T + C(G')``, so at least any convex combination
    (``lam1``, ``lam2``, ``1 - lam1 - lam2``) of them plus ``mu (rows(G) - N)`` (fact 1) and
    ``nu (rows(G \\ Q) + rows(G') - N)``, each ``<= 0``. That separates by step; a step of
    ``G`` takes the cheaper of being in ``Q`` or not (``Q`` any subset: weaker than a prefix,
    but a sum over ideals). :meth:`gain` is its maximum over a grid of the four weights.
    """

    #: lam1, lam2 on a grid of the first of these many steps of [0, 1] whose per-ideal sums
    #: fit CELLS floats (32 MB; none fits: the fact is skipped); every how many of the
    #: compute bounds' row prices ``mu`` and ``nu`` take (any grid is valid).
    LAM_STEPS = (8, 5, 3)
    MU_STRIDE = 8
    CELLS = 1 << 22
    #: (group pair, grid) evaluations of a whole bound (about 1 s); beyond it the remaining
    #: groups go without the fact (it only raises a valid bound).
    WORK = 1 << 29

    def __init__(self, sums1: np.ndarray, sums2: np.ndarray, const: np.ndarray):
        self.sums1, self.sums2, self.const = sums1, sums2, const
        self.work = 0

    @classmethod
    def build(cls, rx: _Relaxed, keep: list[int], parent: list[int], added: list[int],
              T: int, N: int) -> _Coupled | None:
        mu = rx.mu[::cls.MU_STRIDE]
        M = len(mu)
        fits = [k for k in cls.LAM_STEPS
                if len(parent) * (k + 1) * (k + 2) // 2 * M * M <= cls.CELLS]
        if not fits:
            return None
        grid = np.linspace(0.0, 1.0, fits[0] + 1)
        lam = np.array([(l1, l2) for l1 in grid for l2 in grid if l1 + l2 <= 1 + 1e-9])
        L = len(lam)
        l1, l2 = lam[:, 0], lam[:, 1]
        both = mu[:, None] + mu[None, :]  # mu + nu
        sums1 = np.zeros((len(parent), L, M, M))
        sums2 = np.zeros((len(parent), L, M))
        one = np.zeros((len(keep), L, M, M))
        two = np.zeros((len(keep), L, M))
        for v, i in enumerate(keep):
            rho, c = rx.options[i]
            # in Q: compute in C(Q) and C(G), rows priced by mu; out: in C(G) only, rows by
            # mu + nu; in G': compute in C(G) + C(G') and T + C(G'), rows by nu
            inq = ((l1 + l2)[:, None, None] * c + mu[None, :, None] * rho).min(axis=2)
            out = (l2[:, None, None, None] * c + both[None, :, :, None] * rho).min(axis=3)
            one[v] = np.minimum(inq[:, :, None], out)
            two[v] = ((1 - l1)[:, None, None] * c + mu[None, :, None] * rho).min(axis=2)
        for k in range(1, len(parent)):  # a parent is found before its children
            sums1[k] = sums1[parent[k]] + one[added[k]]
            sums2[k] = sums2[parent[k]] + two[added[k]]
        const = (1 - l2)[:, None, None] * T - both[None, :, :] * N
        return cls(sums1, sums2, const)

    def gain(self, j: int, k: int, ys: list[int]) -> np.ndarray:
        """A lower bound on (start of the group after ``y``) - (start of ``k \\ j``) for each
        ``y`` of ``ys``, when ``k \\ j`` and ``y \\ k`` are consecutive groups."""
        self.work += self.const.size + len(ys) * self.sums2[0].size
        if self.work > self.WORK:
            return np.full(len(ys), -np.inf)
        # the second group's terms do not depend on mu: maximise over it first
        first = (self.sums1[k] - self.sums1[j] + self.const).max(axis=1)
        second = self.sums2[ys] - self.sums2[k]
        return (first[None] + second).reshape(len(ys), -1).max(axis=1)


def path_bound(problem: Problem) -> int:
    """Longest path over pairwise row-window and chain arguments (docs/bounds.md, "path bound").

    For steps ``i`` before ``j`` in every order: if ``i``, ``j`` and the steps between them
    need more than N rows, ``j``'s writes start after ``i`` ends (``e_j >= e_i + T + c_j``);
    otherwise they all compute in sequence with at most ``N - a_i`` rows, which a Lagrangian
    bound on a knapsack prices. Starts from the cut bound's head, ends with its write tail.
    """
    return _path(problem, _relaxed(problem))[0]


def window_bound(problem: Problem) -> int:
    """Windows of T over compute starts (docs/bounds.md, "window bound").

    The steps whose computes start within T of the first of them are all held at once, so they
    fit N rows; the next such window starts T later. A dynamic programme over order prefixes
    finds the cheapest split of the network into windows, every order considered.
    """
    return _window_with_path(problem, _relaxed(problem), None)[1]


def _window_with_path(problem: Problem, rx: _Relaxed, notes: list[str] | None
                      ) -> tuple[int, int]:
    """The path bound, and the window bound with the path recursion from its step ends."""
    if _path_skipped(len(rx.rows), notes):
        return 0, _window(problem, rx, None, notes)
    model = _path_model(problem, rx)
    path, end = model(None)
    ends = np.zeros(len(rx.cover))
    window = _window(problem, rx, rx.expand(end), notes, ends)
    if ends.any():  # the steps' ends it bounds, through the path bound's edges
        window = max(window, model(ends[rx.index])[0])
    return path, window
