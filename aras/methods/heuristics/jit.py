"""Just-in-time scheduling: every part's rows are written in the write latency before it computes.

Found while building the path and window bounds (docs/bounds.md): when memory bandwidth does
not bind, a schedule is determined by its compute order, its replication and its compute
starts. Writing a part's rows exactly ``T`` cycles before its compute holds each row for the
shortest possible time ``[c_k - T, e_k)``; rows are interchangeable, so a physical binding
exists whenever at most ``N`` rows are held at every instant (interval partitioning). With the
compute order fixed, the earliest feasible starts follow from one pass (:func:`jit_times`): the
rows still held when part ``k`` starts writing are those of the latest earlier parts (their
ends increase along the order), so ``k`` waits for the end of the latest earlier part that
would overflow the pool. :func:`jit` searches the replication factors by coordinate descent on
that recursion, starting from ARAS's factors and from all ones.

With a binding bandwidth (``S`` rows written at once, ``S < N``) the same recursion also keeps
the rows of parts whose write windows overlap within ``S``, and a part may use only
replications whose rows fit in ``S``.
"""

from __future__ import annotations

import heapq

from aras.methods.heuristics.engine import Builder
from aras.model.errors import InputError
from aras.model.mapping import Problem
from aras.model.schedule import Schedule


def jit_times(problem: Problem, reps: dict[int, int]) -> tuple[list[int], list[int]]:
    """Earliest compute starts and ends of the just-in-time schedule (default order).

    Parameters
    ----------
    problem
        The mapped network.
    reps
        Replication of every weight-bearing step (by step index).

    Returns
    -------
    (start, end)
        Cycles, indexed by step index.
    """
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    steps = problem.steps
    start = [0] * len(steps)
    end = [0] * len(steps)
    held: list[tuple[int, int, int]] = []  # (start, end, rows) of the weight-bearing parts
    prev = 0
    for s in steps:
        if not s.weighted:
            start[s.index], end[s.index] = prev, prev + s.fixed_cycles
            prev = end[s.index]
            continue
        rows = reps[s.index] * s.apu_rows
        t = max(prev, T)
        acc = rows
        for _, e0, r0 in reversed(held):
            acc += r0
            if acc > N:  # the pool overflows unless that part has ended
                t = max(t, e0 + T)
                break
        if S < N:
            # Writes in flight at once: this part's and those of the latest earlier parts
            # whose write windows [c - T, c) overlap; their starts increase along the order.
            acc = rows
            for c0, _, r0 in reversed(held):
                acc += r0
                if acc > S:
                    t = max(t, c0 + T)
                    break
        c = problem.compute_cycles(s, reps[s.index])
        start[s.index], end[s.index] = t, t + c
        held.append((t, t + c, rows))
        prev = t + c
    return start, end


def jit_schedule(problem: Problem, reps: dict[int, int], method: str = "jit",
                 banks: str = "greedy") -> Schedule:
    """The schedule of :func:`jit_times`: rows bound by interval partitioning, lowest id first."""
    T = problem.hardware.write_latency_cycles
    start, end = jit_times(problem, reps)
    b = Builder(problem, method, bank_mode=banks)
    free = list(range(problem.total_apu_rows))
    busy: list[tuple[int, int]] = []  # (release, row)
    for s in sorted(problem.weighted_steps, key=lambda s: start[s.index]):
        t = start[s.index] - T
        while busy and busy[0][0] <= t:
            heapq.heappush(free, heapq.heappop(busy)[1])
        for _ in range(reps[s.index] * s.apu_rows):
            row = heapq.heappop(free)
            b.write(s, row, t)
            heapq.heappush(busy, (end[s.index], row))
    for s in problem.steps:
        b.compute(s, start[s.index], reps.get(s.index, 0) if s.weighted else 0)
    return b.build()


def _candidates(r: int, rmax: int) -> list[int]:
    cands = {1, 2, 3, r - 1, r + 1, r * 2, r // 2, rmax // 4, rmax // 2, rmax}
    return sorted(c for c in cands if 1 <= c <= rmax and c != r)


def jit(problem: Problem, banks: str = "greedy", sweeps: int = 4) -> Schedule:
    """Just-in-time schedule with replication chosen by coordinate descent.

    Parameters
    ----------
    problem
        The mapped network.
    banks
        Gbuffer bank choice (see :class:`aras.methods.heuristics.engine.Builder`).
    sweeps
        Passes of coordinate descent over the parts at most (it stops when a pass improves
        nothing).

    Raises
    ------
    InputError
        When the memory bandwidth cannot write one part's rows at once (the just-in-time
        form does not exist then).
    """
    from aras.methods.heuristics.replication import aras

    hw = problem.hardware
    S = hw.write_slots
    weighted = problem.weighted_steps
    rmax = {}
    for s in weighted:
        # Bandwidth: every row of a part is written in the same T cycles.
        r = min(problem.max_replication(s), S // s.apu_rows)
        if r < 1:
            raise InputError(f"jit: part {s.layer}/{s.part} has {s.apu_rows} rows, more than "
                             f"the {S} the memory bandwidth can write at once")
        rmax[s.index] = r

    def makespan(reps: dict[int, int]) -> int:
        return jit_times(problem, reps)[1][-1] if problem.steps else 0

    seeds = [{s.index: 1 for s in weighted}]
    from_aras = {problem.by_key[(st.layer, st.part)].index: st.replication
                 for st in aras(problem).steps if st.apu_rows}
    seeds.append({k: min(r, rmax[k]) for k, r in from_aras.items()})
    best: tuple[int, dict[int, int]] | None = None
    for reps in seeds:
        cur = makespan(reps)
        for _ in range(sweeps):
            improved = False
            for s in weighted:
                k = s.index
                for r in _candidates(reps[k], rmax[k]):
                    old, reps[k] = reps[k], r
                    v = makespan(reps)
                    if v < cur:
                        cur, improved = v, True
                    else:
                        reps[k] = old
            if not improved:
                break
        if best is None or cur < best[0]:
            best = (cur, dict(reps))
    assert best is not None
    return jit_schedule(problem, best[1], banks=banks)


__all__ = ["jit", "jit_times", "jit_schedule"]
