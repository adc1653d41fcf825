"""The window bound (docs/bounds.md, "Window bound"): a dynamic programme over the order
prefixes (ideals) of the relaxed instance of :mod:`aras.evaluation.relaxed_bounds`, grouped
into windows of T, on a reduced instance where the network has too many prefixes, and
chained with the path bound through the steps' ends.
"""

from __future__ import annotations

import numpy as np

from aras.evaluation.ideals import _closures, _Lattice, _lattice
from aras.evaluation.relaxed_bounds import (
    _ceil,
    _members,
    _path_model,
    _path_skipped,
    _Relaxed,
    _relaxed,
)
from aras.evaluation.slot_dp import _slot_dp
from aras.model.mapping import Problem

#: Ideals (order prefixes) and DP transitions beyond which the window bound runs on fewer
#: steps (:func:`_window_steps`, which counts both before the DP runs).
_MAX_IDEALS = 20000
#: (About 10 us a transition: 300,000 is 3 s; the built-in networks need far fewer.)
_MAX_TRANSITIONS = 300_000
#: Steps left out by the window bound's last round that it tries to take back, one by one.
_MAX_TAKE_BACK = 8
#: Groups from one ideal beyond which the window bound's release takes any subset of the
#: group, not only its prefixes (the prefixes cost groups^2 tests).
_MAX_PREFIXES = 400
#: (group, prefix) tests of the whole window bound beyond which it stops using prefixes.
_MAX_PREFIX_PAIRS = 2_000_000


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


def _window_steps(rx: _Relaxed, T: int, N: int, cap: int, drop: set[int],
                  transitions: int = _MAX_TRANSITIONS
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
    fifth while the ideals pass ``cap``); then up to ``_MAX_TAKE_BACK`` of the last of them
    are taken back, the heaviest first, while the rest still fits.
    """
    def attempt(left_out: set[int]) -> tuple[list[int], list[int], _Lattice | None, bool]:
        """The kept steps, their predecessors, their ideals (None: more than ``cap``) and
        whether the DP fits its caps on them."""
        keep, preds = _window_view(rx, frozenset(left_out))
        lattice = _lattice(preds, cap)
        fit = lattice is not None and _group_edges(
            lattice, lattice.sums(rx.rows[keep]), N, transitions) <= transitions
        return keep, preds, lattice, fit

    last: list[int] = []  # the steps left out by the last round, the lightest first
    while True:
        keep, preds, lattice, fit = attempt(drop)
        if fit:
            # The last round may have left out more than needed: take back its heaviest
            # steps one by one while the rest still fits (at most _MAX_TAKE_BACK tries: each
            # counts the ideals again, about a second on a network of thousands of steps,
            # where a round leaves out hundreds)
            for i in list(reversed(last))[:_MAX_TAKE_BACK]:
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
            cap: int = _MAX_IDEALS, effort: float = 1.0) -> int:
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
    cap = int(cap * effort)
    transitions = int(_MAX_TRANSITIONS * effort)
    view = _window_steps(rx, T, N, cap, drop, transitions)
    if view is None:
        if notes is not None:
            notes.append(f"window bound skipped: more than {cap:,} order prefixes or "
                         f"{transitions:,} DP transitions, with no step to leave out")
        return 0
    said: list[str] = []
    whole = 0.0
    S = hw.write_slots
    if S < N:  # the write slots bind: the slot DP's step ends and makespan (docs/bounds.md)
        top = float(end.max()) if end is not None and len(end) else 0.0
        slot = _slot_dp(rx, *view, T, S, top)
        if slot is not None:
            found, whole = slot
            floor = np.zeros(len(rx.rows))
            floor[view[0]] = found
            more = rx.expand(floor)
            end = more if end is None or not len(end) else np.maximum(end, more)
            if ends is not None:
                np.maximum(ends, more, out=ends)
    value = max(_window_dp(problem, rx, *view, end, said, ends, effort), _ceil(whole))
    if notes is not None:
        if drop:
            heavy = int(rx.weighted.sum())
            notes.append(f"window bound on {heavy - len(drop)} of {heavy} weight-bearing "
                         f"steps ({len(drop)} light ones in parallel branches left out to "
                         f"fit its caps of {cap:,} order prefixes and {transitions:,} "
                         "DP transitions)")
        notes.extend(said)
    return value


def _window_dp(problem: Problem, rx: _Relaxed, keep: list[int], preds: list[int],
               lattice: _Lattice, end: np.ndarray | None, notes: list[str],
               ends: np.ndarray | None, effort: float = 1.0) -> int:
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
    coupled = _Coupled.build(rx, keep, parent, added, T, N, int(_Coupled.WORK * effort))
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
        # The groups before with the least starts after them are priced one by one; the
        # rest together, by the smallest of their first-group terms at each grid point
        # (min over j of max over the grid >= max over the grid of min over j): weaker,
        # but one pass over the targets for all of them.
        before = sorted(into[k], key=lambda jp: jp[1])
        own, rest = before[:_Coupled.EXACT], before[_Coupled.EXACT:]
        for j, pj in own:
            least = np.minimum(least, np.maximum(max(pj, float(head[k]), low_end[k]) + terms,
                                                 start_of[j] + coupled.gain(j, k, targets)))
        if rest:
            low = min(pj for _, pj in rest)
            js = np.array([j for j, _ in rest])
            first = (start_of[js][:, None, None] + coupled.first(js, k)).min(axis=0)
            least = np.minimum(least, np.maximum(max(low, float(head[k]), low_end[k]) + terms,
                                                 coupled.second(first, k, targets)))
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
        for v, closed in enumerate(_closures(preds)):
            at = ids.get(closed)
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
    #: fit CELLS floats (32 MB), with the compute bounds' row prices ``mu`` and ``nu`` taken
    #: every MU_STRIDES[0] (then every MU_STRIDES[1], ... where nothing fits: any grid is
    #: valid, and a coarse one keeps the fact on networks with many order prefixes; none
    #: fits: the fact is skipped).
    LAM_STEPS = (8, 5, 3)
    MU_STRIDES = (8, 16, 32, 64)
    CELLS = 1 << 22
    #: (group pair, grid) evaluations of a whole bound (about 1 s); beyond it the remaining
    #: groups go without the fact (it only raises a valid bound).
    WORK = 1 << 31
    #: Groups before a pair priced one by one, those with the least start bounds after them
    #: (the rest share one pass, :func:`_window_dp`'s ``paired``).
    EXACT = 1

    def __init__(self, sums1: np.ndarray, sums2: np.ndarray, const: np.ndarray,
                 limit: int = WORK):
        self.sums1, self.sums2, self.const = sums1, sums2, const
        self.work = 0
        self.limit = limit

    @classmethod
    def build(cls, rx: _Relaxed, keep: list[int], parent: list[int], added: list[int],
              T: int, N: int, limit: int = WORK) -> _Coupled | None:
        fits = [(stride, k) for stride in cls.MU_STRIDES for k in cls.LAM_STEPS
                if len(parent) * (k + 1) * (k + 2) // 2 * len(rx.mu[::stride]) ** 2
                <= cls.CELLS]
        if not fits:
            return None
        stride, steps = fits[0]
        mu = rx.mu[::stride]
        M = len(mu)
        grid = np.linspace(0.0, 1.0, steps + 1)
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
        return cls(sums1, sums2, const, limit)

    def gain(self, j: int, k: int, ys: list[int]) -> np.ndarray:
        """A lower bound on (start of the group after ``y``) - (start of ``k \\ j``) for each
        ``y`` of ``ys``, when ``k \\ j`` and ``y \\ k`` are consecutive groups."""
        return self.second(self.first(j, k), k, ys)

    def first(self, j: int | np.ndarray, k: int) -> np.ndarray:
        """The first group's (``k \\ j``) terms of :meth:`gain`, per grid point of the
        weights and ``nu`` (with an array ``j``, one such array per entry); all -inf beyond
        the work cap."""
        self.work += self.const.size * np.size(j)
        shape = np.shape(j) + self.sums2[0].shape
        if self.work > self.limit:
            return np.full(shape, -np.inf)
        # the second group's terms do not depend on mu: maximise over it first
        return (self.sums1[k] - self.sums1[j] + self.const).max(axis=-2).reshape(shape)

    def second(self, first: np.ndarray, k: int, ys: list[int]) -> np.ndarray:
        """:meth:`gain` from the first group's terms ``first`` (one or a pointwise minimum
        of several) for the second groups ``y \\ k`` of ``ys``."""
        self.work += len(ys) * self.sums2[0].size
        if self.work > self.limit:
            return np.full(len(ys), -np.inf)
        second = self.sums2[ys] - self.sums2[k]
        return (first[None] + second).reshape(len(ys), -1).max(axis=1)


def window_bound(problem: Problem) -> int:
    """Windows of T over compute starts (docs/bounds.md, "window bound").

    The steps whose computes start within T of the first of them are all held at once, so they
    fit N rows; the next such window starts T later. A dynamic programme over order prefixes
    finds the cheapest split of the network into windows, every order considered.
    """
    return _window_with_path(problem, _relaxed(problem), None)[1]


def _window_with_path(problem: Problem, rx: _Relaxed, notes: list[str] | None,
                      effort: float = 1.0) -> tuple[int, int]:
    """The path bound, and the window bound with the path recursion from its step ends
    (``effort`` scales the window bound's caps)."""
    if _path_skipped(len(rx.rows), notes):
        return 0, _window(problem, rx, None, notes, effort=effort)
    model = _path_model(problem, rx)
    path, end = model(None)
    ends = np.zeros(len(rx.cover))
    window = _window(problem, rx, rx.expand(end), notes, ends, effort=effort)
    if ends.any():  # the steps' ends it bounds, through the path bound's edges
        window = max(window, model(ends[rx.index])[0])
    return path, window
