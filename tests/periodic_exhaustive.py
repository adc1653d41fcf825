"""Exact least periods of tiny periodic instances by exhaustive search, sharing no code with
the methods or the bounds (docs/bounds.md, "Periodic bound"; docs/steady-state.md).

What it relies on, with memory bandwidth not binding (``write_slots >= total_apu_rows``):

- a periodic schedule with one inference per period is fixed by its compute order, its
  replication factors, its resident layers, its compute starts and the rows of every write;
- writing a streamed part's rows exactly ``T`` before it computes holds each row for the least
  time, and an occupancy that is shorter covers fewer residues modulo ``P``, so some optimal
  schedule writes every streamed part just in time: part ``k`` holds its ``r_k a_k`` rows over
  ``[s_k - T, e_k)``, and the rule R2p asks that the occupancies of one row be disjoint
  modulo ``P`` (as sets of integer residues: all times are integers);
- a resident part holds ``r_k a_k`` rows of their own for good (R9) and a weightless or
  resident step only computes, so starting it as soon as the previous step ends is never
  worse (a later step may always be delayed by itself);
- times are only defined modulo ``P`` (inference ``k`` is the frame shifted by ``k P``), so
  the first compute starts at 0, and the computes of one inference span at most ``P`` (R4p).

For every (resident layers, replication, topological order) the search tries every compute
start of every streamed part and every choice of rows (rows with equal occupancy are
interchangeable, so only how many of each kind), for ``P`` upwards from the longest compute
chain; the least ``P`` that some candidate reaches is the optimum. :func:`schedule_of` turns
it into a periodic schedule for the evaluator. Only tiny instances are enumerable: a few
weight-bearing steps, a few APU rows, write latencies of a few cycles.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from aras.model.hardware import Hardware
from aras.model.mapping import Problem
from aras.model.periodic import PeriodicSchedule
from aras.model.schedule import Schedule, ScheduledStep, Writes
from tests.exhaustive import _cycles, _orders


@dataclass(frozen=True)
class PeriodicOptimum:
    """The least period and one schedule reaching it (starts and rows per step index)."""

    period: int
    order: tuple[int, ...]
    reps: tuple[tuple[int, int], ...]
    resident: tuple[str, ...]
    starts: tuple[tuple[int, int], ...]
    rows: tuple[tuple[int, tuple[int, ...]], ...]


def hardware(rows: int, T: int) -> Hardware:
    """One PE of ``rows`` APU rows, writes of ``T`` cycles, one cycle a window, large banks."""
    return Hardware(name="periodic-tiny", pes=1, apu_rows_per_pe=rows, apus_per_row=4,
                    write_latency_cycles=T, compute_latency_cycles=1,
                    gbuffer_banks=(1 << 20,) * 3, memory_bandwidth_bytes_s=1e15)


def _arc(start: int, length: int, P: int) -> int:
    """Residues ``start .. start + length - 1`` modulo ``P`` as a bit mask."""
    if length >= P:
        return (1 << P) - 1
    s = start % P
    m = ((1 << length) - 1) << s
    return (m | (m >> P)) & ((1 << P) - 1)


def _feasible(p: Problem, order: list[int], reps: dict[int, int], resident: set[str], P: int
              ) -> tuple[dict[int, int], dict[int, tuple[int, ...]]] | None:
    """Starts and rows of a periodic schedule of period ``P`` for this order, replication and
    resident choice, or None."""
    hw = p.hardware
    T = hw.write_latency_cycles
    steps = p.steps
    dur = [_cycles(p, steps[i], reps.get(i, 0)) for i in order]
    res_rows = sum(reps[i] * steps[i].apu_rows for i in order
                   if steps[i].apu_rows and steps[i].layer in resident)
    n_rows = hw.total_apu_rows - res_rows
    if n_rows < 0:
        return None
    rest = [0] * (len(order) + 1)  # compute still to come after position k
    for k in range(len(order) - 1, -1, -1):
        rest[k] = rest[k + 1] + dur[k]
    if rest[0] > P:
        return None
    occ = [0] * n_rows
    starts: dict[int, int] = {}
    rows_of: dict[int, tuple[int, ...]] = {}

    def rec(k: int, t: int) -> bool:
        if k == len(order):
            return True
        i = order[k]
        s = steps[i]
        if not s.apu_rows or s.layer in resident:
            starts[i] = t
            return rec(k + 1, t + dur[k])
        n = reps[i] * s.apu_rows
        if n > n_rows or T + dur[k] > P:
            return False
        for c in range(t, P - rest[k] + 1):
            arc = _arc(c - T, T + dur[k], P)
            free = [r for r in range(n_rows) if occ[r] & arc == 0]
            if len(free) < n:
                continue
            kinds: dict[int, list[int]] = {}
            for r in free:
                kinds.setdefault(occ[r], []).append(r)
            groups = list(kinds.values())
            for counts in _splits(n, [len(g) for g in groups]):
                chosen = [r for g, m in zip(groups, counts, strict=True) for r in g[:m]]
                for r in chosen:
                    occ[r] |= arc
                starts[i] = c
                rows_of[i] = tuple(chosen)
                if rec(k + 1, c + dur[k]):
                    return True
                for r in chosen:
                    occ[r] &= ~arc
        return False

    return (dict(starts), dict(rows_of)) if rec(0, 0) else None


def _splits(n: int, sizes: list[int]) -> list[tuple[int, ...]]:
    """Every way to take ``n`` items from groups of these sizes (how many from each)."""
    out: list[tuple[int, ...]] = []

    def rec(j: int, left: int, acc: list[int]) -> None:
        if j == len(sizes):
            if left == 0:
                out.append(tuple(acc))
            return
        for m in range(min(left, sizes[j]), -1, -1):
            acc.append(m)
            rec(j + 1, left - m, acc)
            acc.pop()

    rec(0, n, [])
    return out


def periodic_optimum(p: Problem, limit: int = 5000, p_max: int = 400) -> PeriodicOptimum:
    """The least period over every resident choice, replication, order, start and row
    choice (``limit`` (resident, replication, order) candidates at most).

    Raises
    ------
    ValueError
        When memory bandwidth binds, the instance has more than ``limit`` candidates, or no
        period up to ``p_max`` is reached.
    """
    hw = p.hardware
    N = hw.total_apu_rows
    if hw.write_slots < N:
        raise ValueError("periodic optimum: memory bandwidth binds")
    weighted = [s for s in p.steps if s.apu_rows]
    layers = sorted({s.layer for s in weighted})
    choices = [range(1, max(1, min(s.windows, N // s.apu_rows)) + 1) for s in weighted]
    orders = list(itertools.islice(_orders(p), limit + 1))
    cands = []
    for mask in range(1 << len(layers)):
        resident = {x for b, x in enumerate(layers) if mask >> b & 1}
        for combo in itertools.product(*choices):
            reps = {s.index: r for s, r in zip(weighted, combo, strict=True)}
            for order in orders:
                cands.append((resident, reps, order))
    if len(cands) > limit:
        raise ValueError(f"periodic optimum: {len(cands)} candidates")
    low = min(sum(_cycles(p, p.steps[i], reps.get(i, 0)) for i in order)
              for _, reps, order in cands)
    for P in range(max(1, low), p_max + 1):
        for resident, reps, order in cands:
            got = _feasible(p, order, reps, resident, P)
            if got is not None:
                starts, rows = got
                return PeriodicOptimum(P, tuple(order), tuple(sorted(reps.items())),
                                       tuple(sorted(resident)), tuple(sorted(starts.items())),
                                       tuple(sorted(rows.items())))
    raise ValueError(f"periodic optimum: no period up to {p_max}")


def schedule_of(p: Problem, opt: PeriodicOptimum) -> PeriodicSchedule:
    """The periodic schedule of an optimum: streamed rows written ``T`` before their part
    computes, resident parts on rows of their own after the streamed ones, the frame shifted
    so that the first write starts at 0, banks by first fit."""
    hw = p.hardware
    T = hw.write_latency_cycles
    reps, starts, rows_of = dict(opt.reps), dict(opt.starts), dict(opt.rows)
    resident = set(opt.resident)
    streamed_rows = hw.total_apu_rows - sum(reps[i] * p.steps[i].apu_rows for i in opt.order
                                           if p.steps[i].apu_rows
                                           and p.steps[i].layer in resident)
    shift = T  # every write starts at or after start - T >= -T
    names, parts, pes, rws, wst = [], [], [], [], []
    nxt = streamed_rows
    for i in opt.order:
        s = p.steps[i]
        if not s.apu_rows:
            continue
        if s.layer in resident:
            rows = tuple(range(nxt, nxt + reps[i] * s.apu_rows))
            nxt += len(rows)
        else:
            rows = rows_of[i]
        for r in rows:
            pe, row = divmod(r, hw.apu_rows_per_pe)
            names.append(s.layer)
            parts.append(s.part)
            pes.append(pe)
            rws.append(row)
            wst.append(starts[i] - T + shift)
    banks = list(hw.gbuffer_banks)
    steps = []
    for i in opt.order:
        s = p.steps[i]
        bi = next(b for b in range(len(banks)) if banks[b] >= -(-s.in_bytes // s.passes))
        bo = next(b for b in range(len(banks)) if b != bi
                  and banks[b] >= -(-s.out_bytes // s.passes))
        r = reps.get(i, 0)
        c = starts[i] + shift
        steps.append(ScheduledStep(s.layer, s.part, s.apu_rows, r, s.windows, c,
                                   c + _cycles(p, s, r), (bi,), (bo,)))
    writes = Writes.from_lists(names, parts, pes, rws, wst)
    sched = Schedule(p.network.name, "periodic-exhaustive", hw.to_dict(), steps, writes,
                     max(st.end for st in steps))
    return PeriodicSchedule(sched, opt.period, tuple(x for x in opt.resident))
