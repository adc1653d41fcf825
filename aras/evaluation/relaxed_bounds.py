"""Bounds on the relaxed instance (docs/bounds.md, "The relaxed instance"): the instance
itself and the path bound, with its slot rounds and replication states (the window bound,
on the same instance, is :mod:`aras.evaluation.window`).

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

    whole = _slot_makespan(rx, T, S)

    def run(floor: np.ndarray | None) -> tuple[int, np.ndarray]:
        end = start.copy() if floor is None else np.maximum(start, floor)
        for j in range(n):  # the index order is a topological order of prec
            end[j] = max(end[j], float((end + edge[:, j]).max()))
        state = states.solve(end)
        return (_ceil(max(float((state + tail).min(axis=1).max()), whole)),
                state.min(axis=1))

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

    def least(at: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """The least of ``value`` over ``m >= lo`` (per step), by bisection on its
        differences (a walk over every m took ~50,000 rounds where compute dwarfs T and few
        rows are written at once). Beyond hi, m T + c_j* alone exceeds the value at lo."""
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
        return value(at, lo)

    first = np.maximum(1.0, np.ceil(prefix_rows[at] / S - 1e-9))
    out[at] = least(at, first.copy())
    # In the first round (m = 1) the budget is S rows, where the duals can be well below the
    # least compute (a few large parts): take that least exactly, by a knapsack over the
    # steps' replications, with the other rounds' bound for m >= 2.
    one = at[first == 1]
    if len(one):
        exact = _first_round_compute(rx, anc, one, timed, S)
        if exact is not None:
            later = least(one, np.full(len(one), 2.0))
            out[one] = np.maximum(out[one], np.minimum(T + exact, later))
    return out


def _knapsack_add(best: np.ndarray, option: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """One more step in a knapsack over rows: ``best[b]``, the least compute of the steps so
    far in at most ``b`` rows, with the step at one of its replications (``option``: their
    rows, rounded down here, which only enlarges the choice, and computes)."""
    B = len(best) - 1
    new = np.full(B + 1, np.inf)
    rho, c = option
    for w, cost in zip(np.floor(rho + 1e-9).astype(np.int64), c, strict=True):
        if w <= B:
            np.minimum(new[w:], best[:B + 1 - w] + cost, out=new[w:])
    return new


def _slot_makespan(rx: _Relaxed, T: int, S: int) -> float:
    """The slot rounds of the whole network (docs/bounds.md, "Slot rounds", the makespan):
    with ``m = floor(s / T)`` for the start ``s`` of the last compute, every write ends by
    ``s``, at most ``m S`` of them, so the makespan is at least ``m T`` plus the shortest
    compute of a step with no successor, and at least ``T`` plus the least compute of every
    timed step at replications holding at most ``m S`` rows, taken exactly by a knapsack
    over rows; the least over ``m`` of the larger. 0 when the knapsack would pass
    :data:`_KNAPSACK_CELLS`."""
    timed = np.nonzero(~rx.free)[0]
    if not rx.weighted.any():
        return 0.0
    need = float(rx.rows[timed].sum())  # rows at r = 1: m >= need / S
    m0 = max(1, int(np.ceil(need / S - 1e-9)))
    last = float(rx.cmin[rx.sink].min())
    # rows beyond every step's largest replication buy nothing more
    top = int(sum(np.floor(rx.options[k][0].max() + 1e-9) for k in timed))
    B = min(top, (m0 + 3) * S)
    if sum(len(rx.options[k][0]) for k in timed) * (B + 1) > _KNAPSACK_CELLS:
        return 0.0
    best = np.zeros(B + 1)  # best[b]: least compute of the steps so far in <= b rows
    for k in timed:
        best = _knapsack_add(best, rx.options[k])
    low = np.inf
    for m in range(m0, m0 + 4):
        low = min(low, max(m * T + last, T + float(best[min(m * S, B)])))
        if m * S >= B:  # beyond, the knapsack stays and m T only grows
            break
    # an m beyond the table's: at least (m0 + 4) T + last
    return float(min(low, (m0 + 4) * T + last))


#: Cells (steps x options x row budget) the exact first-round knapsacks of the slot rounds may
#: fill in all; beyond it they are skipped (the duals stay).
_KNAPSACK_CELLS = 40_000_000


def _first_round_compute(rx: _Relaxed, anc: np.ndarray, at: np.ndarray, timed: np.ndarray,
                         S: int) -> np.ndarray | None:
    """Per step ``j`` of ``at`` (increasing), the least total compute of ``j`` and the steps
    before it in every order (the timed ones) at replications holding at most ``S`` rows in
    all: a knapsack over rows, each step's rows rounded down (which only enlarges the choice,
    so the least is still a lower bound). Each step's table starts from that of the ancestor
    of ``at`` with the most such steps (on a chain, one step is added per table). None when
    the knapsacks would pass :data:`_KNAPSACK_CELLS`."""
    member = [(anc[j] > 0) & timed for j in at]
    for n, j in enumerate(at):
        member[n][j] = bool(timed[j])
    base: list[int | None] = []
    cells = 0
    for n, j in enumerate(at):
        # the ancestor in `at` with the largest set (its set is a subset of j's)
        cand = [m for m in range(n) if anc[j, at[m]] > 0]
        b = max(cand, key=lambda m: int(member[m].sum()), default=None)
        base.append(b)
        added = member[n] & ~member[b] if b is not None else member[n]
        cells += sum(len(rx.options[k][0]) for k in np.nonzero(added)[0]) * (S + 1)
    if cells > _KNAPSACK_CELLS:
        return None
    tables: list[np.ndarray] = []
    for n in range(len(at)):
        b = base[n]
        best = tables[b].copy() if b is not None else np.zeros(S + 1)
        added = member[n] & ~member[b] if b is not None else member[n]
        for k in np.nonzero(added)[0]:
            best = _knapsack_add(best, rx.options[k])
        tables.append(best)
    return np.array([t[S] for t in tables])


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


def path_bound(problem: Problem) -> int:
    """Longest path over pairwise row-window and chain arguments (docs/bounds.md, "path bound").

    For steps ``i`` before ``j`` in every order: if ``i``, ``j`` and the steps between them
    need more than N rows, ``j``'s writes start after ``i`` ends (``e_j >= e_i + T + c_j``);
    otherwise they all compute in sequence with at most ``N - a_i`` rows, which a Lagrangian
    bound on a knapsack prices. Starts from the cut bound's head, ends with its write tail.
    """
    return _path(problem, _relaxed(problem))[0]
