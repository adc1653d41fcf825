"""Steady-state (periodic) schedules: one inference every ``P`` cycles, the writes of the next
inference overlapping the computes of this one (docs/heuristics.md, "Steady state").

For a fixed compute order, replication, set of resident layers and period ``P``,
:func:`modular_schedule` places the parts in compute order, each just in time: its rows are
written ``T`` cycles before its compute and held until its end, ``[c - T, e)``, as in
:mod:`~aras.methods.heuristics.jit`. The parts' computes increase along the order, so an APU
row's holds within one inference come one after the other, and the row is free for a new
hold ``[c - T, e)`` iff its last hold ended by ``c - T`` and the new one ends by its first
hold's start plus ``P`` (where the next inference takes it again): a row is a window
``[last end + T, first start + P - d]`` of feasible compute starts. The part computes at the
earliest start with enough rows (and, when memory bandwidth binds, enough of the ``S`` write
channels, the same windows for holds of ``T`` cycles) whose windows contain it; rows of
resident layers are set aside for good. The smallest ``P`` that places every part within
one period (computes span at most ``P``, R4p) is found by bisection between the periodic
bound and the span of the schedule built with an unbounded period.

The methods differ in the replication they schedule: ``baseline`` all ones, ``aras`` that of
Algorithm 1, ``jit`` the best of the just-in-time search's order and replication, the same
after a descent on the periodic estimate of the replication (compute against row-area), no
replication, and, without resident layers, replication chosen for the period (the isolated
factors scaled down, and the factors balancing compute against row-time).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from aras.methods.heuristics.engine import Builder
from aras.model.errors import InputError, arg_name
from aras.model.mapping import Problem
from aras.model.periodic import PeriodicSchedule

_INF = 1 << 62


class _Windows:
    """Rows (or write channels) with their first hold start and last hold end."""

    def __init__(self, n: int, policy: str = "fit"):
        self.policy = policy
        self.first = np.full(n, _INF, dtype=np.int64)  # _INF: empty
        self.last = np.full(n, -_INF, dtype=np.int64)

    def free_count(self, c: int, T: int, hold: int, P: int) -> np.ndarray:
        """Mask of rows on which a hold ``[c - T, c - T + hold)`` fits."""
        w = c - T
        empty = self.first == _INF
        fits = (self.last <= w) & (w + hold <= self.first + P)
        return fits | (empty & (hold <= P))

    def earliest(self, lo: int, T: int, hold: int, P: int, n: int) -> int | None:
        """Earliest compute start ``c >= lo`` with ``n`` rows free for the hold."""
        if n == 0:
            return lo
        empty = self.first == _INF
        if hold > P:
            return None
        starts = np.maximum(self.last + T, lo)
        # latest c at which a row still fits: first + P - hold + T
        ends = np.where(empty, _INF, self.first + P - hold + T)
        ok = starts <= ends
        cand = np.unique(starts[ok])
        for c in cand.tolist():  # at most one per distinct start
            if int(((starts <= c) & (ends >= c)).sum()) >= n:
                return int(c)
        return None

    def take(self, mask: np.ndarray, n: int, c: int, T: int, hold: int, P: int) -> np.ndarray:
        """The ``n`` rows of ``mask`` to use: rows already in use first, those whose windows
        close soonest first; then empty rows, lowest index first."""
        idx = np.flatnonzero(mask)
        empty = self.first[idx] == _INF
        if self.policy == "first":
            key = np.where(empty, _INF, self.first[idx])
        else:  # best fit: the row whose last hold ended latest (the least idle time)
            key = np.where(empty, _INF, -self.last[idx])
        chosen = idx[np.lexsort((idx, key))[:n]]
        w = c - T
        self.first[chosen] = np.minimum(self.first[chosen], w)
        self.last[chosen] = w + hold
        return chosen


def modular_schedule(problem: Problem, reps: dict[int, int], period: int,
                     resident: frozenset[str] = frozenset(), method: str = "steady",
                     banks: str = "greedy", policy: str = "fit") -> PeriodicSchedule | None:
    """The just-in-time periodic schedule of ``problem``'s compute order, or None when the
    parts do not fit one period of ``period`` cycles.

    Parameters
    ----------
    problem
        The mapped network, in the compute order to schedule.
    reps
        Replication of every weight-bearing step, by step index.
    period
        The period ``P``.
    resident
        Layers written once (their rows are set aside for good).
    method, banks
        Name recorded in the schedule; Gbuffer bank choice.
    policy
        Which free rows a part takes: ``fit`` (in use, last hold ended latest first) or
        ``first`` (in use, first hold earliest first); empty rows come last either way.
    """
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.max_concurrent_row_writes
    P = period
    res_rows = sum(reps[s.index] * s.apu_rows for s in problem.weighted_steps
                   if s.layer in resident)
    if res_rows > N:
        return None
    rows = _Windows(N - res_rows, policy)  # streamed rows 0 .. N - res_rows - 1
    bandwidth = S < N
    chans = _Windows(S) if bandwidth else None
    next_res = N - res_rows
    b = Builder(problem, method, bank_mode=banks)
    t = T  # the frame: writes from cycle 0, computes from T
    first = problem.steps[0] if problem.steps else None
    t0 = T
    for s in problem.steps:
        if not s.weighted:
            t = b.compute(s, t, 0)
            if t - t0 > P:
                return None
            continue
        r = reps[s.index]
        n = r * s.apu_rows
        d = problem.compute_cycles(s, r)
        lo = max(t, T)
        if bandwidth:
            assert chans is not None
            if n > S:
                raise InputError(f"steady state: part {s.layer}/{s.part} has {n} rows, more "
                                 f"than the {S} the memory bandwidth can write at once")
        c: int | None = lo
        pool = rows if s.layer not in resident else None
        while True:  # the earliest start that both rows and write channels allow
            assert c is not None
            c0 = c
            if pool is not None:
                c = pool.earliest(c, T, T + d, P, n)
                if c is None:
                    return None
            if chans is not None:
                c = chans.earliest(c, T, T, P, n)
                if c is None:
                    return None
            if c == c0:
                break
        if s is first:
            t0 = c
        if c + d - t0 > P:
            return None
        if pool is not None:
            mask = pool.free_count(c, T, T + d, P)
            got = pool.take(mask, n, c, T, T + d, P).tolist()
        else:
            got = list(range(next_res, next_res + n))
            next_res += n
        if chans is not None:
            chans.take(chans.free_count(c, T, T, P), n, c, T, T, P)
        for row in got:
            b.write(s, int(row), c - T)
        t = b.compute(s, c, r)
    sched = b.build()
    return PeriodicSchedule(sched, period, tuple(sorted(resident, key=_order(problem))))


def _order(problem: Problem) -> Callable[[str], int]:
    pos = {s.layer: s.index for s in reversed(problem.steps)}
    return lambda name: pos[name]


def shortest_period(problem: Problem, reps: dict[int, int], lower: int,
                    resident: frozenset[str] = frozenset(), method: str = "steady",
                    banks: str = "greedy") -> PeriodicSchedule | None:
    """The periodic schedule of :func:`modular_schedule` with the shortest period found by
    bisection between ``lower`` and the spans of the schedule with an unbounded period, for
    each row policy; the shorter kept (ties: ``fit``)."""
    best: PeriodicSchedule | None = None
    for policy in ("fit", "first"):
        got = _bisect(problem, reps, lower, resident, method, banks, policy)
        if got is not None and (best is None or got.period < best.period):
            best = got
    return best


def _bisect(problem: Problem, reps: dict[int, int], lower: int, resident: frozenset[str],
            method: str, banks: str, policy: str) -> PeriodicSchedule | None:
    free = modular_schedule(problem, reps, _INF // 4, resident, method, banks, policy)
    if free is None:
        return None
    best = _tight(problem, free)
    lo, hi = max(1, lower), best.period
    while lo < hi:
        mid = (lo + hi) // 2
        got = modular_schedule(problem, reps, mid, resident, method, banks, policy)
        if got is None:
            lo = mid + 1
        else:
            got = _tight(problem, got)
            best = got if got.period < best.period else best
            hi = min(mid, got.period)
    return best


def _tight(problem: Problem, ps: PeriodicSchedule) -> PeriodicSchedule:
    """The same schedule with the shortest period its rows, channels and computes allow
    (each row's holds within ``P``, the computes' span, and the writes' channels)."""
    sched = ps.schedule
    hw = problem.hardware
    ends = {(s.layer, s.part): s.end for s in sched.steps}
    w = sched.writes
    per = hw.apu_rows_per_pe
    span = max((s.end for s in sched.steps), default=0) - min(
        (s.start for s in sched.steps), default=0)
    need = max(span, 1)
    res = set(ps.resident)
    row_first: dict[int, int] = {}
    row_last: dict[int, int] = {}
    for i in range(len(w)):
        if w.layer[i] in res:
            continue
        row = int(w.pe[i]) * per + int(w.row[i])
        st = int(w.start[i])
        e = ends[(str(w.layer[i]), int(w.part[i]))]
        row_first[row] = min(row_first.get(row, st), st)
        row_last[row] = max(row_last.get(row, e), e)
    for row, f in row_first.items():
        need = max(need, row_last[row] - f)
    if hw.max_concurrent_row_writes < hw.total_apu_rows:
        # the write channels were built for ps.period; a period beyond every write's reach
        # (no two inferences' writes meet) keeps one inference's concurrency, which is <= S
        reach = int(w.start.max()) + hw.write_latency_cycles - int(w.start.min()) if len(w) else 0
        need = max(need, min(ps.period, max(reach, need)))
    return PeriodicSchedule(sched, need, ps.resident)


def rep_descent(problem: Problem, reps: dict[int, int], resident: frozenset[str] = frozenset()
                ) -> dict[int, int]:
    """Replication by coordinate descent on the period estimate ``max(sum of computes,
    row-cycles per period / streamed rows)`` (the periodic bound of these factors): each
    part's factor halved or doubled (within its useful range) while the estimate drops."""
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    weighted = problem.weighted_steps
    fixed = sum(s.fixed_cycles for s in problem.steps if not s.weighted)
    rmax = {s.index: min(problem.max_replication(s), hw.write_slots // s.apu_rows or 1)
            for s in weighted}
    reps = {k: max(1, min(v, rmax[k])) for k, v in reps.items()}

    def estimate(r: dict[int, int]) -> float:
        comp = fixed + sum(problem.compute_cycles(s, r[s.index]) for s in weighted)
        res = sum(r[s.index] * s.apu_rows for s in weighted if s.layer in resident)
        if res >= N:
            return float(_INF)
        area = sum(r[s.index] * s.apu_rows * (T + problem.compute_cycles(s, r[s.index]))
                   for s in weighted if s.layer not in resident) / (N - res)
        big = max((T + problem.compute_cycles(s, r[s.index]) for s in weighted
                   if s.layer not in resident), default=0)
        return max(comp, area, big)

    cur = estimate(reps)
    for _ in range(64):
        improved = False
        for s in weighted:
            k = s.index
            for cand in (reps[k] * 2, reps[k] // 2, reps[k] + 1, reps[k] - 1):
                if 1 <= cand <= rmax[k] and cand != reps[k]:
                    old = reps[k]
                    reps[k] = cand
                    v = estimate(reps)
                    if v < cur:
                        cur, improved = v, True
                    else:
                        reps[k] = old
        if not improved:
            break
    return reps


#: Factors by which the steady-state ``jit`` scales the isolated replication (and the mixing
#: weights of compute against row-time in :func:`period_replication`) for its extra
#: candidates.
REP_SCALES = (0.75, 0.9)
BALANCES = (0.3, 0.5)


def scaled(problem: Problem, reps: dict[int, int], factor: float) -> dict[int, int]:
    """Every factor times ``factor``, rounded, within 1 .. the step's largest replication."""
    return {k: max(1, min(problem.max_replication(problem.steps[k]), round(v * factor)))
            for k, v in reps.items()}


def period_replication(problem: Problem, lam: float) -> dict[int, int]:
    """Per part the factor minimising ``lam c(r) + (1 - lam) r a (T + c(r)) / N``: the
    Lagrangian choice between the compute a period must hold and the row-time its rows
    take (docs/bounds.md, "Periodic bound")."""
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    out = {}
    for s in problem.weighted_steps:
        r = np.arange(1, problem.max_replication(s) + 1)
        c = np.array([problem.compute_cycles(s, int(x)) for x in r], dtype=float)
        out[s.index] = int(r[(lam * c + (1 - lam) * r * s.apu_rows * (T + c) / N).argmin()])
    return out


def resident_order(problem: Problem, reps: dict[int, int]) -> list[str]:
    """Layers in the order the resident choice pins them: longest compute per part first
    (a resident part holds its rows the whole period; one that computes long holds them
    for most of it anyway, so pinning it costs the fewest row-cycles per write saved)."""
    comp: dict[str, int] = {}
    for s in problem.weighted_steps:
        comp[s.layer] = min(comp.get(s.layer, _INF), problem.compute_cycles(s, reps[s.index]))
    return sorted(comp, key=lambda n: (-comp[n], n))


def pick_resident(problem: Problem, reps: dict[int, int], share: float) -> frozenset[str]:
    """Layers pinned greedily in :func:`resident_order` while their rows stay within
    ``share`` of the accelerator's rows."""
    rows: dict[str, int] = {}
    widest: dict[str, int] = {}  # the most rows of one of the layer's parts
    for s in problem.weighted_steps:
        n = reps[s.index] * s.apu_rows
        rows[s.layer] = rows.get(s.layer, 0) + n
        widest[s.layer] = max(widest.get(s.layer, 0), n)
    N = problem.total_apu_rows
    budget = int(share * N)
    out: set[str] = set()
    used = 0
    for name in resident_order(problem, reps):
        # the streamed parts left must still fit the rows left
        need = max((widest[x] for x in rows if x not in out and x != name), default=0)
        if used + rows[name] <= budget and used + rows[name] + need <= N:
            out.add(name)
            used += rows[name]
    return frozenset(out)


#: Resident shares the ``auto`` choice tries.
AUTO_SHARES = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)


def _copies(repeated: Problem, prob: Problem, reps: dict[int, int], m: int
            ) -> tuple[Problem, dict[int, int]]:
    """A candidate (order and factors of one inference) for ``m`` inferences per period:
    every copy in that order and with those factors, the copies one after the other."""
    keys = [(f"r{i}:{s.layer}", s.part) for i in range(m) for s in prob.steps]
    pm = repeated.reordered(keys)
    out = {pm.by_key[(f"r{i}:{s.layer}", s.part)].index: reps[s.index]
           for i in range(m) for s in prob.weighted_steps}
    return pm, out


def tile(ps: PeriodicSchedule, m: int) -> PeriodicSchedule:
    """A one-inference periodic schedule as one of ``m`` inferences per period: copy ``i``
    (ops renamed ``r<i>:``) is the schedule shifted by ``i P``, the period ``m P``. It repeats
    exactly what the original does, so it is valid when the original is."""
    from dataclasses import replace as dc_replace

    from aras.model.schedule import Schedule, Writes

    s, P = ps.schedule, ps.period
    steps = [dc_replace(x, layer=f"r{i}:{x.layer}", start=x.start + i * P, end=x.end + i * P)
             for i in range(m) for x in s.steps]
    w = s.writes
    layer = np.concatenate([np.array([f"r{i}:{x}" for x in w.layer.tolist()], dtype=object)
                            for i in range(m)]) if len(w) else w.layer
    writes = Writes(layer=layer, part=np.tile(w.part, m), pe=np.tile(w.pe, m),
                    row=np.tile(w.row, m),
                    start=np.concatenate([w.start + i * P for i in range(m)]),
                    tile=np.tile(w.tile, m))
    out = Schedule(s.network, s.method, s.hardware, steps, writes,
                   max((x.end for x in steps), default=0), dict(s.extra))
    return PeriodicSchedule(out, m * P, (), m, dict(ps.runtime_info))


def steady(problem: Problem, method: str = "baseline", resident: str | float = "none",
           banks: str = "greedy", lower: int = 1, repeated: Problem | None = None,
           copies: int = 1) -> PeriodicSchedule:
    """A steady-state schedule by one of the methods.

    Parameters
    ----------
    problem
        The mapped network.
    method
        ``baseline`` (no replication), ``aras`` (Algorithm 1's replication) or ``jit`` (the
        just-in-time search's order and replication, the same after :func:`rep_descent`, its
        local search's, and no replication in the network's order; without resident layers
        also the isolated factors scaled by :data:`REP_SCALES` and those of
        :func:`period_replication`; the best is kept).
    resident
        ``none``; a share of the rows (0..1) that resident layers may take, filled in
        :func:`resident_order`; or ``auto``: the shares of :data:`AUTO_SHARES` tried, the
        shortest period kept (ties: the most rows resident, fewest written).
    banks
        Gbuffer bank choice.
    lower
        A lower bound on the period (the bisection starts there).
    repeated, copies
        Several inferences per period: ``repeated`` is the problem of the network repeated
        ``copies`` times (:func:`aras.model.periodic.repeat_network`); each candidate's order
        and factors, chosen on ``problem`` (one inference), are given to every copy. No
        resident layers then.

    Raises
    ------
    InputError
        An unknown method or resident choice; a part that the memory bandwidth cannot write
        at once.
    """
    from aras.methods.heuristics.jit import jit
    from aras.methods.heuristics.replication import aras

    extra: list[tuple[Problem, dict[int, int]]] = []  # candidates tried without residents
    names: list[str] = []  # of every candidate, in the steady state's `tried`
    if method == "baseline":
        cands = [(problem, {s.index: 1 for s in problem.weighted_steps})]
    elif method == "aras":
        got = aras(problem)
        cands = [(problem, {problem.by_key[(x.layer, x.part)].index: x.replication
                            for x in got.steps if x.apu_rows})]
    elif method == "jit":
        got = jit(problem)
        moved = problem.reordered([(x.layer, x.part) for x in got.steps])
        r = {moved.by_key[(x.layer, x.part)].index: x.replication for x in got.steps
             if x.apu_rows}
        cands = [(moved, r), (moved, rep_descent(moved, dict(r)))]
        # jit's local search alone (no iterated search): its replication is tuned less
        # tightly to one isolated inference, which a period sometimes prefers
        local = jit(problem, iterations=0)
        lmoved = problem.reordered([(x.layer, x.part) for x in local.steps])
        cands.append((lmoved, {lmoved.by_key[(x.layer, x.part)].index: x.replication
                               for x in local.steps if x.apu_rows}))
        cands.append((problem, {s.index: 1 for s in problem.weighted_steps}))
        # Replication chosen for the period: the isolated factors scaled down (a period is
        # bound by row-time more than by compute, and every copy holds a row for T), and
        # the factors balancing compute against row-time (period_replication); tried
        # without resident layers, where they matter most.
        extra = [(prob, scaled(prob, reps, f)) for prob, reps in (cands[0], cands[2])
                 for f in REP_SCALES]
        extra += [(moved, period_replication(moved, lam)) for lam in BALANCES]
        names = ["search", "search, descent", "local search", "ones"]
        names += [f"{x} x{f:g}" for x in ("search", "local search") for f in REP_SCALES]
        names += [f"balance {lam:g}" for lam in BALANCES]
    else:
        raise InputError(f"{arg_name('method')}: no steady-state version of '{method}' (known: "
                         "baseline, aras, jit)")
    if resident == "auto":
        shares: tuple[float, ...] = AUTO_SHARES
    elif resident == "none":
        shares = (0.0,)
    elif isinstance(resident, (int, float)) and not isinstance(resident, bool) \
            and 0 <= resident <= 1:
        shares = (float(resident),)
    else:
        raise InputError(f"{arg_name('resident')}: none, auto or a share of the rows in 0..1, "
                         f"got {resident!r}")
    if copies > 1:
        if repeated is None or shares != (0.0,):
            raise InputError("steady state: several inferences per period need the repeated "
                             "problem and no resident layers")
        cands = [_copies(repeated, prob, reps, copies) for prob, reps in cands]
        extra = [_copies(repeated, prob, reps, copies) for prob, reps in extra]
    best: PeriodicSchedule | None = None
    tried = []
    runs = [(prob, reps, False) for prob, reps in cands]
    runs += [(prob, reps, True) for prob, reps in extra]
    if len(names) != len(runs):
        names = [method] * len(runs)
    for (prob, reps, bare), name in zip(runs, names, strict=True):
        seen: set[frozenset[str]] = set()
        for share in shares:
            res = pick_resident(prob, reps, share)
            if res in seen or (bare and res):
                continue
            seen.add(res)
            got_ps = shortest_period(prob, reps, lower, res, method, banks)
            if got_ps is None:
                continue
            rows = int(np.isin(got_ps.schedule.writes.layer, list(res)).sum()) if res else 0
            tried.append({"candidate": name, "share": share, "resident_layers": len(res),
                          "resident_rows": rows,
                          "period": got_ps.period, "latency": got_ps.latency})
            key = (got_ps.period, -rows)
            if best is None or key < (best.period, -best.runtime_info.get("resident_rows", 0)):
                got_ps.runtime_info["resident_rows"] = rows
                best = got_ps
    if best is None:
        raise InputError("steady state: no periodic schedule found (a part needs more rows "
                         "than the accelerator has free)")
    best.runtime_info["tried"] = tried
    return best


__all__ = ["steady", "tile", "modular_schedule", "shortest_period", "rep_descent",
           "pick_resident", "scaled", "period_replication", "REP_SCALES", "BALANCES",
           "resident_order", "AUTO_SHARES"]
