"""Just-in-time scheduling: every part's rows are written in the write latency before it computes.

Found while building the path and window bounds (docs/bounds.md): when memory bandwidth does
not bind, a schedule is determined by its compute order, its replication and its compute
starts. Writing a part's rows exactly ``T`` cycles before its compute holds each row for the
shortest possible time ``[c_k - T, e_k)``; rows are interchangeable, so a physical binding
exists whenever at most ``N`` rows are held at every instant (interval partitioning). With the
compute order fixed, the earliest feasible starts follow from one pass (:func:`jit_times`): the
rows still held when part ``k`` starts writing are those of the latest earlier parts (their
ends increase along the order), so ``k`` waits for the end of the latest earlier part that
would overflow the pool. :func:`jit` searches the replication factors and the compute order
by local search on that recursion (:class:`_Timing` re-times only what a move changes),
starting from ARAS's factors and from all ones in the network's order. Where the exact DP over
order prefixes (:mod:`aras.evaluation.exact_dp`) finishes and the write slots do not bind, its
order and replication are optimal and :func:`jit` returns them without searching.

With a binding bandwidth (``S`` rows written at once, ``S < N``) writes queue first come first
served on ``S`` write slots (:class:`~aras.model.bandwidth.Bandwidth`), and a part of ``R > S``
rows is written in ``ceil(R / S)`` waves of ``T`` cycles; see :func:`jit_times` for the timing.
"""

from __future__ import annotations

import heapq
import math
import random
import time
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from itertools import chain

import numpy as np

from aras.evaluation.exact_dp import exact_dp
from aras.methods.heuristics.engine import Builder, list_replication
from aras.model.bandwidth import Bandwidth
from aras.model.mapping import Problem
from aras.model.schedule import Schedule


def _timed(problem: Problem, reps: dict[int, int], early: bool
           ) -> tuple[list[int], list[int], dict[int, list[tuple[int, int]]]]:
    """Compute starts and ends (by step index) and write requests (by weight-bearing step
    index) of the timing in the network's order."""
    order = [s.index for s in problem.steps]
    timing = _Timing(problem, order, reps, early)
    start = [0] * len(order)
    end = [0] * len(order)
    req: dict[int, list[tuple[int, int]]] = {}
    k = 0
    for j, i in enumerate(order):
        if timing.rows[i]:
            start[i], end[i] = timing.starts[k], timing.ends[k]
            # without binding slots, every part asks T before its compute
            req[i] = timing.req[k] if timing.req else [(start[i] - timing.T,
                                                          reps[i] * timing.rows[i])]
            k += 1
        else:
            start[i], end[i] = timing.prev[j], timing.prev[j + 1]
    return start, end, req


def jit_times(problem: Problem, reps: dict[int, int], early: bool = False
              ) -> tuple[list[int], list[int]]:
    """Earliest compute starts and ends of the just-in-time schedule (default order).

    Each part ``k`` (in compute order, ``R`` rows, compute start ``c``) holds its rows from
    their writes' starts to its end; compute starts increase along the order, so the rows
    still held when ``k`` writes are those of the latest earlier parts, and ``c`` waits for
    the end of the latest earlier part whose rows, with ``k``'s, would overflow the ``N``
    rows (a physical binding then exists: interval partitioning). When the memory writes
    fewer rows at once than there are (``S < N``), each part asks for its writes and they
    are served first come first served on ``S`` write slots, as
    :class:`~aras.model.bandwidth.Bandwidth` serves them: a part of ``R > S`` rows is
    written in waves, ``q + 1 = ceil(R / S)`` of them when the slots are free. Just in time,
    it asks once, at ``a = c - (q + 1) T``, the latest request whose writes end by ``c``;
    with ``early``, as soon as its rows are free (once, or in pieces as earlier parts end,
    whichever ends its writes first), and ``c`` is the end of its writes (or of the
    previous compute). Requests come in compute order, each no earlier than the last write
    so far started.

    Parameters
    ----------
    problem
        The mapped network.
    reps
        Replication of every weight-bearing step (by step index).
    early
        Write as early as rows allow (only when the write slots bind).

    Returns
    -------
    (start, end)
        Cycles, indexed by step index.
    """
    start, end, _ = _timed(problem, reps, early)
    return start, end


def jit_schedule(problem: Problem, reps: dict[int, int], method: str = "jit",
                 banks: str = "greedy", early: bool = False) -> Schedule:
    """The schedule of :func:`jit_times`: every part's writes requested from
    :class:`~aras.model.bandwidth.Bandwidth` (first come first served, in compute order),
    rows bound by interval partitioning, lowest id first."""
    T = problem.hardware.write_latency_cycles
    start, end, req = _timed(problem, reps, early)
    b = Builder(problem, method, bank_mode=banks)
    bw = Bandwidth(problem)
    free = list(range(problem.total_apu_rows))
    busy: list[tuple[int, int]] = []  # (release, row)
    for s in sorted(problem.weighted_steps, key=lambda s: start[s.index]):
        starts = [t for a, n in req[s.index] for t in bw.requests(a, n)]
        # the timing's promise: every write ends by the compute start
        assert max(starts) + T <= start[s.index], (s.layer, s.part)
        rows = []
        for t in starts:  # non-decreasing
            while busy and busy[0][0] <= t:
                heapq.heappush(free, heapq.heappop(busy)[1])
            rows.append(heapq.heappop(free))
        b.write_many(s, rows, starts)
        for row in rows:
            heapq.heappush(busy, (end[s.index], row))
    for s in problem.steps:
        b.compute(s, start[s.index], reps.get(s.index, 0) if s.weighted else 0)
    return b.build()


#: Free times of the write slots, as runs ``(time, count)`` (see :meth:`_Timing._slots`).
Lanes = tuple[tuple[int, int], ...]



def _push(runs: list[tuple[int, int]], v: int, n: int) -> None:
    """Append ``n`` slots free at ``v`` to ``runs``, merging equal times."""
    if runs and runs[-1][0] == v:
        runs[-1] = (v, runs[-1][1] + n)
    else:
        runs.append((v, n))


def _slot_free(runs: Lanes, rho: int) -> int:
    """``V[rho]``: the free time of the ``rho``-th slot first come first served uses."""
    seen = 0
    for v, n in runs:
        seen += n
        if seen >= rho:
            return v
    raise AssertionError(rho)


def _serve(runs: Lanes, a: int, q: int, rho: int, T: int) -> Lanes:
    """The slots' free times after ``q S + rho`` writes asked for at ``a`` (``1 <= rho <= S``).

    The writes on slot ``l`` start at ``max(a, V[l]) + p T`` (``p = 0, 1, ...``; slots
    ``1..rho`` take ``q + 1`` writes, the others ``q``), so the last ends at
    ``max(a, V[rho]) + (q + 1) T``. This is first come first served
    (:class:`~aras.model.bandwidth.Bandwidth`) while no request comes before the last write
    so far started, ``V[S] - T``: write starts then never decrease, so the slot a write
    takes is the one the write ``S`` before it used.
    """
    late: list[tuple[int, int]] = []
    left = rho
    if q == 0:
        # Only the first rho slots change (the usual case, a part of at most S rows): walk
        # those and keep the rest as it is, instead of rebuilding every run (up to S of them)
        i = 0
        head: list[tuple[int, int]] = []
        while left:
            v, n = runs[i]
            i += 1
            k = min(left, n)
            left -= k
            _push(late, max(a, v) + T, k)
            if k < n:
                head = [(v, n - k)]
        out = head + list(runs[i:])
        for v, n in late:
            _push(out, v, n)
        return tuple(out)
    out = []
    for v, n in runs:
        if left:
            k = min(left, n)
            left -= k
            _push(late, max(a, v) + (q + 1) * T, k)
            n -= k
            if not n:
                continue
        # slots rho+1..S: q writes each (untouched when q = 0)
        _push(out, max(a, v) + q * T if q else v, n)
    for v, n in late:
        _push(out, v, n)
    return tuple(out)


def _shifted(new: Lanes, old: Lanes, shift: int) -> bool:
    """True when the slots' free times ``new`` are ``old``'s shifted by ``shift``."""
    return len(new) == len(old) and all(
        n0 == n1 and v1 - v0 == shift for (v0, n0), (v1, n1) in zip(old, new, strict=True))


class _Timing:
    """The :func:`jit_times` recursion along one order, kept per position for fast moves.

    A change of replication at position ``j``, or a move of one step within positions
    ``lo..hi``, leaves the prefix before it untouched, so :meth:`makespan` restarts from the
    state saved there. The state that matters at a position is the previous end and the
    trailing parts whose rows can still make the pool (or the write slots) overflow; as soon
    as the new state is the old one shifted in time, the rest of the schedule shifts by the
    same amount, so re-timing stops there (changes are often absorbed within a few steps).
    The parts so far are kept as arrays of compute starts, ends, first write starts and
    cumulative rows, so the part a new one must wait for is found by bisection instead of a
    scan (the timing is :func:`jit_times`'s).
    """

    def __init__(self, problem: Problem, order: list[int], reps: dict[int, int],
                 early: bool = False):
        hw = problem.hardware
        #: with S < N, write every part as soon as its rows are free (else just in time)
        self.early = early
        self.T, self.N, self.S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
        self.wc = [s.window_cycles for s in problem.steps]
        self.rows = [s.apu_rows for s in problem.steps]
        self.win = [s.windows for s in problem.steps]
        self.fixed = [s.fixed_cycles for s in problem.steps]
        #: steps timed so far: the search's budget is counted in these, so that it stops
        #: after the same work on every machine (results do not depend on speed)
        self.work = 0
        self.budget = 1 << 62
        #: wall-clock end of the search (``time.perf_counter()``), if the caller has one
        self.deadline: float | None = None
        #: the deadline stopped the search
        self.timed_out = False
        self.commit(order, reps)

    @property
    def spent(self) -> bool:
        """True once the work budget is used up (or the deadline, if any, has passed: then
        :attr:`timed_out` is set too)."""
        if self.work >= self.budget:
            return True
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            self.timed_out = True
        return self.timed_out

    def commit(self, order: list[int], reps: dict[int, int]) -> None:
        """Make ``order`` and ``reps`` current and time them from scratch."""
        self.order, self.reps = list(order), dict(reps)
        n = len(order)
        self.work += n
        self.prev = [0] * (n + 1)
        self.nheld = [0] * (n + 1)
        # the weight-bearing parts in order: compute starts, ends, cumulative rows (cum[0] = 0)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.cum: list[int] = [0]
        #: with S < N, every part's requests for writes: (time, writes)
        self.req: list[list[tuple[int, int]]] = []
        # With S < N: the write slots' free times before every position (see _slots)
        lanes: list[Lanes] = [((0, self.S),)]
        self.lanes: list[Lanes] = [lanes[0]] * (n + 1)
        prev = 0
        for j, i in enumerate(self.order):
            self.prev[j], self.nheld[j], self.lanes[j] = prev, len(self.ends), lanes[0]
            prev = self._step(i, self.reps.get(i, 0), prev, self.starts, self.ends, self.cum,
                              lanes, self.req)
        self.prev[n], self.nheld[n], self.lanes[n] = prev, len(self.ends), lanes[0]
        self.value = prev

    def _step(self, i: int, r: int, prev: int, starts: list[int], ends: list[int],
              cum: list[int], lanes: list[Lanes], req: list[list[tuple[int, int]]]) -> int:
        a = self.rows[i]
        if a == 0:
            return prev + self.fixed[i]
        T, N, S = self.T, self.N, self.S
        rows = r * a
        t = max(prev, T)
        # The latest part k whose rows, with all later ones and this part's, exceed N: the
        # pool overflows unless it has ended (cum is increasing, so bisect).
        thr = cum[-1] + rows - N
        if thr > 0:
            t = max(t, ends[bisect_left(cum, thr) - 1] + T)
        if S < N:
            t = self._slots(t, rows, ends, cum, lanes, req)
        e = t + -(-self.win[i] // r) * self.wc[i]
        starts.append(t)
        ends.append(e)
        cum.append(cum[-1] + rows)
        return e

    def _slots(self, t: int, rows: int, ends: list[int], cum: list[int], lanes: list[Lanes],
               req: list[list[tuple[int, int]]]) -> int:
        """The compute start (``>= t``) under the write slots; records the part's requests
        and updates ``lanes[0]``.

        ``lanes[0]`` lists the free times ``V`` of the ``S`` write slots in the order first
        come first served uses them (the ends of the last ``S`` writes, non-decreasing) as
        runs ``(time, count)`` (see :func:`_serve`). Just in time, the part asks once, at
        ``a = c - (q + 1) T``. Early (``self.early``), it asks as soon as rows are free: once
        for all its rows (each wave's rows free at the wave's earliest start), or in pieces,
        each for the rows free when it asks (then again when an earlier part ends), whichever
        ends its writes first; it computes when they end.
        """
        T, N, S = self.T, self.N, self.S
        q, rho = divmod(rows - 1, S)
        rho += 1
        runs = lanes[0]
        v_last = runs[-1][0]
        # The pool holds each wave p at its earliest start a + p T: a safe count, since a
        # wave's writes on slots still busy start later and earlier parts hold no more rows
        # then. w: the latest end of an overflowing earlier part less p T, over the waves.
        w = -T * (q + 1)
        thr = cum[-1] - N
        for p in range(q + 1):
            if thr + min((p + 1) * S, rows) > 0:
                w = max(w, ends[bisect_left(cum, thr + min((p + 1) * S, rows)) - 1] - p * T)
        if not self.early:
            t = max(t, _slot_free(runs, rho) + (q + 1) * T, w + (q + 1) * T)
            if q:
                t = max(t, v_last + q * T)
            a = t - (q + 1) * T
            req.append([(a, rows)])
            lanes[0] = _serve(runs, a, q, rho, T)
            return t
        a = max(0, v_last - T, w)
        ready = max(a, _slot_free(runs, rho)) + (q + 1) * T
        once = _serve(runs, a, q, rho, T)
        # in pieces: every row of an earlier part counted until its end
        pieces: list[tuple[int, int]] = []
        a, done, last = max(0, v_last - T), 0, 0
        while True:
            j = bisect_right(ends, a)
            free = N - (cum[-1] - cum[j]) - done
            if free > 0:
                n = min(free, rows - done)
                qn, rn = divmod(n - 1, S)
                last = max(last, max(a, _slot_free(runs, rn + 1)) + (qn + 1) * T)
                runs = _serve(runs, a, qn, rn + 1, T)
                pieces.append((a, n))
                done += n
                if done == rows:
                    break
            # rows free up when the next earlier part ends (there is one: with every
            # earlier part ended, all rows are free)
            a = max(ends[j], runs[-1][0] - T)
        if last < ready:
            req.append(pieces)
            lanes[0] = runs
            return max(t, last)
        req.append([(max(0, v_last - T, w), rows)])
        lanes[0] = once
        return max(t, ready)

    def makespan(self, order: list[int], reps: dict[int, int], lo: int, hi: int) -> int:
        """Makespan of ``order``/``reps``, equal to the current ones outside ``lo..hi``."""
        return self._retime(map(order.__getitem__, range(lo, len(order))), reps, lo, hi)

    def makespan_moved(self, seg: list[int], reps: dict[int, int], lo: int) -> int:
        """Makespan of the current order with positions ``lo..lo+len(seg)-1`` replaced by
        ``seg`` (a move within them), without building the whole candidate order."""
        hi = lo + len(seg) - 1
        order = self.order
        return self._retime(chain(seg, map(order.__getitem__, range(hi + 1, len(order)))),
                            reps, lo, hi)

    def _retime(self, items: Iterator[int], reps: dict[int, int], lo: int, hi: int) -> int:
        """Makespan of the steps ``items`` from position ``lo`` on (see :meth:`makespan`)."""
        N = self.N
        k = self.nheld[lo]
        cum0 = self.cum
        # the trailing parts the new ones can reach: rows of parts first..k-1 cover N
        first = max(0, bisect_left(cum0, cum0[k] - N + 1) - 1) if k else 0
        base = cum0[first]
        starts = self.starts[first:k]
        ends = self.ends[first:k]
        cum = [c - base for c in cum0[first:k + 1]]
        lanes = [self.lanes[lo]]
        req: list[list[tuple[int, int]]] = []
        binds = self.S < N
        old_s, old_e = self.starts, self.ends
        prev = self.prev[lo]
        # The latest parts that equal the old ones shifted by `shift`, and their rows: once
        # they cover N rows, nothing later can see a difference but the shift.
        shift, run = 0, 0
        n = len(self.order)
        for j, i in enumerate(items, lo):
            before = len(ends)
            prev = self._step(i, reps.get(i, 0), prev, starts, ends, cum, lanes, req)
            if len(ends) > before:
                m = first + before  # the same part in the old timing (positions align)
                d = starts[-1] - old_s[m]
                if ends[-1] - old_e[m] == d and cum[-1] - cum[-2] == cum0[m + 1] - cum0[m]:
                    if d == shift:
                        run += cum[-1] - cum[-2]
                    else:
                        shift, run = d, cum[-1] - cum[-2]
                else:
                    run = 0
            if j >= hi and run >= N and prev - self.prev[j + 1] == shift and (
                    not binds or _shifted(lanes[0], self.lanes[j + 1], shift)):
                self.work += j + 1 - lo
                return self.value + shift
        self.work += n - lo
        return prev


def _candidates(r: int, rmax: int) -> list[int]:
    cands = {1, 2, 3, 4, r - 2, r - 1, r + 1, r + 2, r * 2, r // 2, (r * 3) // 2,
             (r * 2) // 3, rmax // 4, rmax // 2, rmax}
    return sorted(c for c in cands if 1 <= c <= rmax and c != r)


class _Dag:
    """The dependencies between steps, kept by layer: a part depends on every part of the
    layers its layer reads (parts of one layer are independent of each other). A split layer
    has many parts, so lists of every part's predecessors and successors would grow with the
    product of two neighbouring layers' parts (tens of millions on a one-row accelerator)."""

    def __init__(self, problem: Problem):
        ids: dict[str, int] = {}
        #: every step's layer, as an index
        self.layer = [ids.setdefault(s.layer, len(ids)) for s in problem.steps]
        graph = problem.network.graph
        #: the layers every layer reads, and those that read it (by index)
        self.before: list[set[int]] = [set() for _ in ids]
        self.after: list[set[int]] = [set() for _ in ids]
        for name, li in ids.items():
            for q in graph.predecessors(name):
                if q in ids:
                    self.before[li].add(ids[q])
                    self.after[ids[q]].add(li)


def _order_moves(timing: _Timing, dag: _Dag) -> bool:
    """Move every step to its best position between its predecessors and successors."""
    improved = False
    layer = dag.layer
    # Positions are kept up to date move by move (only the moved span changes), and the
    # candidates are timed from the moved span on: no pass over the whole order per move.
    pos = {x: j for j, x in enumerate(timing.order)}
    for i in list(timing.order):
        if timing.spent:
            break
        order = timing.order
        p = pos[i]
        # At most 8 positions either side (parts of a split layer may go anywhere among
        # themselves: trying every position would be quadratic), short of the nearest
        # predecessor and successor: only those 16 positions are looked at.
        before, after = dag.before[layer[i]], dag.after[layer[i]]
        lo = max(0, p - 8)
        for q in range(p - 1, lo - 1, -1):
            if layer[order[q]] in before:
                lo = q + 1
                break
        hi = min(len(order) - 1, p + 8)
        for q in range(p + 1, hi + 1):
            if layer[order[q]] in after:
                hi = q - 1
                break
        best, best_q = timing.value, None
        for q in range(lo, hi + 1):
            if q == p:
                continue
            # positions min(p, q)..max(p, q) of the order with i moved from p to q
            seg = [i] + order[q:p] if q < p else order[p + 1:q + 1] + [i]
            v = timing.makespan_moved(seg, timing.reps, min(p, q))
            if v < best:
                best, best_q = v, q
        if best_q is not None:
            q = best_q
            a = min(p, q)
            seg = [i] + order[q:p] if q < p else order[p + 1:q + 1] + [i]
            timing.commit(order[:a] + seg + order[a + len(seg):], timing.reps)
            for j, x in enumerate(seg, a):
                pos[x] = j
            improved = True
    return improved


def _weighted_at(timing: _Timing, rmax: dict[int, int]) -> list[int]:
    """Positions of the weight-bearing parts in the current order."""
    return [j for j, k in enumerate(timing.order) if k in rmax]


def _rep_moves(timing: _Timing, rmax: dict[int, int], at: list[int] | None = None) -> bool:
    """Give every weight-bearing part (at positions ``at`` of the order, increasing, if
    given) its best replication among a few candidates."""
    improved = False
    reps = dict(timing.reps)
    for j in _weighted_at(timing, rmax) if at is None else at:
        k = timing.order[j]
        if timing.spent:
            break
        best, best_r, r0 = timing.value, reps[k], reps[k]
        for r in _candidates(r0, rmax[k]):
            reps[k] = r
            v = timing.makespan(timing.order, reps, j, j)
            if v < best:
                best, best_r = v, r
        reps[k] = best_r
        if best_r != r0:
            timing.commit(timing.order, reps)
            improved = True
    return improved


def _pair_moves(timing: _Timing, rmax: dict[int, int], at: list[int] | None = None) -> bool:
    """Change the replication of two consecutive weight-bearing parts together (by one
    each): a part's compute can only shrink when a neighbour gives up rows, which no single
    change finds. ``at``: positions of consecutive weight-bearing parts (increasing) whose
    pairs are tried; all of them by default."""
    improved = False
    if at is None:
        at = _weighted_at(timing, rmax)
    order = timing.order  # the order does not change here
    reps = dict(timing.reps)  # the candidates change two entries of it, then restore them
    for lo, hi in zip(at, at[1:], strict=False):
        if timing.spent:
            break
        a, b = order[lo], order[hi]
        best, best_ab = timing.value, None
        ra0, rb0 = reps[a], reps[b]
        for da in (-1, 0, 1):
            for db in (-1, 0, 1):
                ra, rb = ra0 + da, rb0 + db
                if (da == 0 and db == 0) or not (1 <= ra <= rmax[a] and 1 <= rb <= rmax[b]):
                    continue
                reps[a], reps[b] = ra, rb
                v = timing.makespan(timing.order, reps, lo, hi)
                if v < best:
                    best, best_ab = v, (ra, rb)
        reps[a], reps[b] = best_ab if best_ab is not None else (ra0, rb0)
        if best_ab is not None:
            timing.commit(timing.order, reps)
            improved = True
    return improved


def _descend(timing: _Timing, rmax: dict[int, int], at: list[int] | None = None,
             pairs_at: list[int] | None = None, limit: int = 50) -> None:
    """Single and pair replication moves until neither improves (at most ``limit`` rounds);
    ``at`` and ``pairs_at`` restrict them as :func:`_rep_moves` and :func:`_pair_moves`."""
    for _ in range(limit):
        a = _rep_moves(timing, rmax, at)
        b = _pair_moves(timing, rmax, pairs_at)
        if not (a or b):
            return


def _perturb(timing: _Timing, rmax: dict[int, int], rng: random.Random, patience: int,
             iterations: int) -> None:
    """Iterated local search: scale the replication of a few consecutive parts at random,
    re-optimise the parts around them, keep the result only if the makespan drops."""
    # the order does not change here: the parts' positions are found once, and the
    # re-optimisation visits only those around the segment (not the whole order per round)
    at = _weighted_at(timing, rmax)
    parts = [timing.order[j] for j in at]
    if len(parts) < 2:
        return
    idle = 0
    for _ in range(iterations):
        # stop when the budget is spent or nothing improved for a while (small networks
        # have few segments to try)
        if timing.spent or idle >= patience:
            return
        idle += 1
        best, keep = timing.value, dict(timing.reps)
        j = rng.randrange(len(parts))
        reps = dict(keep)
        if rng.random() < 0.5:
            seg = parts[j:j + rng.randint(2, 6)]
            for k in seg:
                reps[k] = max(1, min(rmax[k], int(reps[k] * rng.choice((0.5, 0.7, 1.4, 2.0)))))
        else:
            # Level a longer segment: every part in it gets the compute time of one of them
            # (the optimum of chains often replicates neighbours evenly, which one-part moves
            # cannot reach from an uneven start).
            seg = parts[j:j + rng.randint(3, 12)]
            ref = seg[rng.randrange(len(seg))]
            tau = max(1, -(-timing.win[ref] // reps[ref]))
            for k in seg:
                reps[k] = max(1, min(rmax[k], -(-timing.win[k] // tau)))
        timing.commit(timing.order, reps)
        # the parts within 4 of the segment, and their pairs (with one more either side)
        _descend(timing, rmax, at[max(0, j - 4):j + len(seg) + 4],
                 at[max(0, j - 5):j + len(seg) + 5], limit=2)
        if timing.value >= best:
            timing.commit(timing.order, keep)
        else:
            idle = 0


#: Steps timed by one jit search at most (about 1M steps/s on this project's 2-core machine;
#: the paper's networks take 1-3 s), the scans of the balanced starts included.
WORK = 3_000_000
#: Rounds of iterated local search without an improvement before it stops.
PATIENCE = 200


def _balanced(problem: Problem, order: list[int], rmax: dict[int, int],
              grid: int = 48, early: bool = False, rooted: bool = False,
              work: int | None = None, deadline: float | None = None
              ) -> tuple[dict[int, int], int]:
    """The best replication of a one-parameter family that moves every part together.

    Local moves change one or two parts at a time, and from the all-ones or the ARAS start
    they stall where many parts should move together (on ResNet-50's first 12 weighted
    layers: 16% above the optimum, which replicates them all about evenly). So two more
    starts scan ``grid`` values of a family each and keep the replication with the least
    makespan:

    - *levelled* (``rooted=False``): a common compute target ``tau`` (a geometric grid
      between the shortest and the longest compute), ``r = ceil(windows L / tau)`` per part;
    - *square root* (``rooted=True``): a row price ``mu`` (cycles per row),
      ``r = round(sqrt(C / (mu a)))`` for a part of ``a`` rows computing ``C`` cycles
      unreplicated. This minimises the compute ``sum C / r`` of parts that share a budget of
      rows (``sum a r``), as parts written within one write latency do; on the first 24
      weighted layers of a YOLOv8n detector (nudenet's) the optimum replicates so, within
      rounding, and a search from the levelled start stops 4% above it.

    Every ``r`` is clamped to the part's range. Each value scanned times the whole order:
    with ``work`` given, the grid is thinned so that the scan counts about that much work at
    most (one value at least; :class:`_Timing` counts it), and past ``deadline`` (a
    ``time.perf_counter()`` value) it stops with the best so far. Returns the replication
    and the work the scan counted.
    """
    weighted = [s for s in problem.weighted_steps if s.index in rmax]
    if not weighted:
        return {}, 0
    if rooted:
        # sqrt(C / a) per part; the scale x = 1 / sqrt(mu) runs from all ones to all rmax
        root = {s.index: math.sqrt(s.windows * s.window_cycles / s.apu_rows) for s in weighted}
        lo = 1.0 / max(root.values())
        hi = max(max(rmax[k] / root[k] for k in root), lo)
    else:
        lo = min(-(-s.windows // rmax[s.index]) * s.window_cycles for s in weighted)
        hi = max(max(s.windows * s.window_cycles for s in weighted), lo)
    best: tuple[int, dict[int, int]] | None = None
    spent = 0
    k = 0
    while k < grid:
        x = lo * (hi / lo) ** (k / max(1, grid - 1))
        if rooted:
            reps = {i: min(rmax[i], max(1, round(x * root[i]))) for i in root}
        else:
            tau = max(1, int(x))
            reps = {s.index: min(rmax[s.index], max(1, -(-s.windows * s.window_cycles // tau)))
                    for s in weighted}
        timing = _Timing(problem, order, reps, early)
        spent += timing.work
        if best is None or timing.value < best[0]:
            best = (timing.value, reps)
        if k == 0 and work is not None:
            # every value costs about what the first did (the first value, lo, is the same
            # whatever the grid)
            grid = max(1, min(grid, work // max(1, timing.work)))
        if deadline is not None and time.perf_counter() >= deadline:
            break
        k += 1
    assert best is not None
    return best[1], spent


def _first_round(problem: Problem, order: list[int], reps: dict[int, int],
                 rmax: dict[int, int], early: bool, work: int | None = None,
                 deadline: float | None = None) -> tuple[dict[int, int], int]:
    """``reps`` with the first parts of ``order`` replicated to fill one write round.

    Where the write slots bind (``S < N``) the first ``S`` rows can all be written in the first
    ``T`` cycles, and a network that ends before ``2 T`` is optimal when it writes them there
    and computes in order with the least compute its parts reach in ``S`` rows (docs/bounds.md,
    "Slot rounds"). Local moves change one or two parts at a time and miss that replication
    (ResNet-50 on 192 PEs, first 16-24 weighted layers: 0.6-0.8% above the optimum). So for
    each ``L`` whose first ``L`` parts fit ``S`` rows unreplicated, a knapsack gives them the
    replication of least compute in ``S`` rows, the other parts keep ``reps``, and the
    candidate with the least makespan wins (each times the whole order; with ``work`` the
    candidates are thinned to about that much work, past ``deadline`` the scan stops).
    Returns the replication and the work the scan counted.
    """
    S = problem.hardware.write_slots
    by = {s.index: s for s in problem.weighted_steps}
    parts: list[int] = []
    used = 0
    for i in order:
        if i in rmax and i in by:
            used += by[i].apu_rows
            if used > S:
                break
            parts.append(i)
    # least[b]: the least compute of the parts so far in at most b rows; pick[L][b] the
    # replication of part L there
    least = np.zeros(S + 1)
    pick: list[np.ndarray] = []
    for i in parts:
        s = by[i]
        new = np.full(S + 1, np.inf)
        arg = np.zeros(S + 1, dtype=np.int64)
        for r in range(1, rmax[i] + 1):
            rows = r * s.apu_rows
            if rows > S:
                break
            cand = np.full(S + 1, np.inf)
            cand[rows:] = least[:S + 1 - rows] + problem.compute_cycles(s, r)
            better = cand < new
            new[better] = cand[better]
            arg[better] = r
        pick.append(arg)
        least = new
    best: tuple[int, dict[int, int]] = (_Timing(problem, order, reps, early).value, reps)
    spent = 0
    for L in range(len(parts), 0, -1):  # the fullest first
        cand_reps = dict(reps)
        b = S
        for i, arg in zip(reversed(parts[:L]), reversed(pick[:L]), strict=True):
            cand_reps[i] = int(arg[b])
            b -= cand_reps[i] * by[i].apu_rows
        timing = _Timing(problem, order, cand_reps, early)
        spent += timing.work
        if timing.value < best[0]:
            best = (timing.value, cand_reps)
        if work is not None and spent + timing.work > work:
            break
        if deadline is not None and time.perf_counter() >= deadline:
            break
    return best[1], spent


def jit(problem: Problem, banks: str = "greedy", sweeps: int = 8, reorder: bool = True,
        iterations: int = 3000, seed: int = 0, work: int = WORK,
        patience: int = PATIENCE, deadline: float | None = None) -> Schedule:
    """Just-in-time schedule with replication and compute order chosen by local search.

    Parameters
    ----------
    problem
        The mapped network.
    banks
        Gbuffer bank choice (see :class:`aras.methods.heuristics.engine.Builder`).
    sweeps
        Passes of local search at most (it stops when a pass improves nothing). A pass gives
        every part its best replication among a few candidates, then moves every step to its
        best position between its predecessors and successors (any topological order).
    reorder
        Search the compute order too (False: the network's order only).
    iterations, seed, patience
        Rounds of iterated local search on the best of the four starts (random segments of
        parts re-scaled or levelled to one compute time, then re-optimised locally, kept when
        better), their seed (the result is deterministic for a seed), and how many rounds
        in a row may fail before the search stops.
    work
        Steps the whole search may time (a fifth for each of the four starts, a fifth for the
        iterated search; where write slots bind, a tenth for each start in each write mode and
        a tenth more for the first-round start): a budget in work, not seconds, so results do
        not depend on the machine.
    deadline
        A ``time.perf_counter()`` value after which the search stops with what it has, for
        callers with a time limit. Without it (the default) the result depends on ``work``
        alone.

    Returns
    -------
    Schedule
        Steps listed in the chosen compute order. When the write slots do not bind and the
        exact DP (:func:`aras.evaluation.exact_dp.exact_dp`, given a fifth of the time left
        under a ``deadline``) finishes, its optimal order and replication (with ``reorder``).
    """
    found = jit_search(problem, sweeps=sweeps, reorder=reorder, iterations=iterations,
                       seed=seed, work=work, patience=patience, deadline=deadline)
    return found.schedule(problem, banks=banks)


class JitResult:
    """What :func:`jit_search` found: the makespan of the just-in-time timing of ``order``
    with ``reps`` (writing early or not), before any schedule is assembled."""

    def __init__(self, makespan: int, order: list[int], reps: dict[int, int], early: bool,
                 timed_out: bool = False, work: int = 0):
        self.makespan, self.order, self.reps, self.early = makespan, order, reps, early
        #: the deadline stopped the search before its work budget or patience did
        self.timed_out = timed_out
        #: the work the search counted (steps timed): its budget at most, past it by what a
        #: phase does between two checks
        self.work = work

    def schedule(self, problem: Problem, banks: str = "greedy", method: str = "jit"
                 ) -> Schedule:
        """The schedule (:func:`jit_schedule`); its makespan is :attr:`makespan`."""
        order, reps = self.order, self.reps
        if order == [s.index for s in problem.steps]:
            sched = jit_schedule(problem, reps, method=method, banks=banks, early=self.early)
        else:
            moved = problem.reordered([problem.steps[i].key for i in order])
            sched = jit_schedule(moved, {j: reps[i] for j, i in enumerate(order) if i in reps},
                                 method=method, banks=banks, early=self.early)
        if self.timed_out:
            sched.extra["jit"] = {"stopped_by_time_limit": True}
        return sched


def jit_polish(problem: Problem, reps: dict[int, int], reorder: bool = True,
               work: int = WORK // 4, deadline: float | None = None, seed: int = 0,
               iterations: int = 200) -> JitResult:
    """:func:`jit`'s local search from given replication in the problem's compute order:
    order moves (every step to its best position between its predecessors and successors),
    single and pair replication moves and a short iterated search, each kept only when the
    just-in-time makespan drops. The MILP driver calls it on its incumbent's decisions: the
    moves its windows, stated on one compute order, cannot make.

    Both write modes are tried when the write slots bind; the better is returned.
    """
    S = problem.hardware.write_slots
    modes = (False, True) if problem.total_apu_rows > S else (False,)
    rmax = {s.index: problem.max_replication(s) for s in problem.weighted_steps}
    dag = _Dag(problem)
    base = [s.index for s in problem.steps]
    best: JitResult | None = None
    spent = 0
    for early in modes:
        timing = _Timing(problem, base, {k: min(max(1, r), rmax[k]) for k, r in reps.items()},
                         early)
        timing.budget, timing.deadline = work // len(modes), deadline
        for _ in range(4):
            improved = _order_moves(timing, dag) if reorder else False
            before = timing.value
            _descend(timing, rmax, limit=2)
            if not (improved or timing.value < before) or timing.spent:
                break
        _perturb(timing, rmax, random.Random(seed), PATIENCE, iterations)
        if reorder:
            _order_moves(timing, dag)
        spent += timing.work
        if best is None or timing.value < best.makespan:
            best = JitResult(timing.value, list(timing.order), dict(timing.reps), early,
                             timing.timed_out)
    assert best is not None
    best.work = spent
    return best


def jit_search(problem: Problem, sweeps: int = 8, reorder: bool = True,
               iterations: int = 3000, seed: int = 0, work: int = WORK,
               patience: int = PATIENCE, deadline: float | None = None) -> JitResult:
    """The search of :func:`jit` (same parameters) without assembling the schedule: its
    makespan, compute order, replication and write mode. Assembling a schedule of a big
    network costs more than timing it, so callers comparing starts (the MILP) build only
    the one they keep."""
    from aras.methods.heuristics.replication import aras_policy

    S = problem.hardware.write_slots
    # With binding write slots, writing just in time can leave the slots idle while rows
    # are free: every start is searched writing early too.
    modes = (False, True) if problem.total_apu_rows > S else (False,)
    weighted = problem.weighted_steps
    rmax = {s.index: problem.max_replication(s) for s in weighted}
    base = [s.index for s in problem.steps]
    if not problem.steps:
        return JitResult(0, base, {}, False)
    if reorder and len(modes) == 1:
        # Where the exact DP over order prefixes finishes (chains of few distinct
        # replications, such as the transformers), its order and replication are optimal:
        # nothing to search (docs/bounds.md, "Exact DP"). It gives up early elsewhere.
        dp_by = None
        if deadline is not None:
            dp_by = time.perf_counter() + max(0.0, deadline - time.perf_counter()) / 5
        dp = exact_dp(problem, deadline=dp_by)
        if dp.makespan is not None:
            at = {s.key: s.index for s in problem.steps}
            order = [at[k] for k in dp.order]
            reps = {s.index: 1 for s in weighted}
            reps.update({at[k]: r for k, r in dp.reps})
            # (the DP times the same recursion: its makespan is the timing's)
            return JitResult(dp.makespan, order, reps, False, work=dp.work)
    seeds = [{s.index: 1 for s in weighted}]
    # ARAS's replication (its list scheduler's decisions, without building its writes)
    from_aras = list_replication(problem, aras_policy(problem), "aras")
    seeds.append({k: min(r, rmax[k]) for k, r in from_aras.items()})
    dag = _Dag(problem)
    best: tuple[int, list[int], dict[int, int], bool] | None = None
    timed_out = False
    spent = 0
    # with a deadline, each start's descent gets an equal share of the time left, and the
    # iterated search one more (so that a start tried late, often the best, is not skipped)
    shares = 4 * len(modes) + 1 + (len(modes) > 1)  # four starts per mode (and one more)
    share = work // (5 * len(modes))

    def descend(order: list[int], reps: dict[int, int], early: bool, scanned: int) -> _Timing:
        """Sweeps of replication and order moves from one start, on its share of the work
        (``scanned`` of it already spent choosing the start) and of the time left."""
        nonlocal shares, spent, timed_out
        timing = _Timing(problem, order, reps, early)
        timing.budget = share
        timing.work += scanned
        if deadline is not None:
            now = time.perf_counter()
            timing.deadline = now + max(0.0, deadline - now) / shares
        shares -= 1
        for _ in range(sweeps):
            improved = _rep_moves(timing, rmax)
            if reorder:
                improved = _order_moves(timing, dag) or improved
            if not improved:
                break
        timed_out = timed_out or timing.timed_out
        spent += timing.work
        return timing

    for early in modes:
        # The scans of the one-parameter families are counted against their starts' shares
        # (at most half of each; with a deadline, the two stop by one share of the time
        # left): they time the whole order per value.
        scan_by = None
        if deadline is not None:
            now = time.perf_counter()
            scan_by = now + max(0.0, deadline - now) / shares
        starts = [(reps, 0) for reps in seeds] + [
            _balanced(problem, base, rmax, early=early, rooted=rooted, work=share // 2,
                      deadline=scan_by) for rooted in (False, True)]
        for reps, scanned in starts:
            timing = descend(base, reps, early, scanned)
            # Ties keep the earlier start (just in time, all ones first), and among equal
            # makespans the network's own order, so results are deterministic.
            if best is None or timing.value < best[0]:
                best = (timing.value, timing.order, timing.reps, early)
    assert best is not None
    if len(modes) > 1:
        # binding write slots: one more start, the best so far with its first write round
        # filled (its own share of the work, a tenth more in all)
        reps, scanned = _first_round(problem, best[1], best[2], rmax, best[3],
                                     work=share // 2, deadline=None if deadline is None else
                                     time.perf_counter() + max(0.0, deadline
                                                               - time.perf_counter()) / shares)
        timing = descend(best[1], reps, best[3], scanned)
        if timing.value < best[0]:
            best = (timing.value, timing.order, timing.reps, best[3])
    early = best[3]
    timing = _Timing(problem, best[1], best[2], early)
    timing.budget, timing.deadline = work // 5, deadline
    _pair_moves(timing, rmax)
    _perturb(timing, rmax, random.Random(seed), patience, iterations)
    if reorder and iterations:
        _order_moves(timing, dag)
    return JitResult(timing.value, list(timing.order), dict(timing.reps), early,
                     timed_out or timing.timed_out, spent + timing.work)


__all__ = ["JitResult", "jit", "jit_polish", "jit_search", "jit_times", "jit_schedule"]
