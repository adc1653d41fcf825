"""Exact optima of small instances by exhaustive search, sharing no code with the methods.

What it relies on (docs/bounds.md, "relaxed instance", fact 1): when memory bandwidth does not
bind (``write_slots >= total_apu_rows``), a schedule is fixed by its compute order, its
replication factors and its compute starts; writing every row of a part exactly ``T`` cycles
before the part computes holds each row for the least time, so some optimal schedule has that
form, and for a fixed order and replication the earliest starts that keep at most ``N`` rows
held are optimal (starting earlier never holds a row longer). So the optimum is the least
makespan of that recursion over every topological order and every replication, which this
module enumerates. It reads only the mapped problem's data (rows, windows, cycles, the DAG)
and builds its schedule itself (writes, rows by interval colouring, banks by first fit), so
the evaluator can confirm that the optimum is reached by a valid schedule.

The corpus (:func:`corpus`) is a fixed, seeded set of small networks (chains, parallel
branches, residual adds) on small hardware, each small enough to enumerate in well under a
second.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from aras.model.hardware import Hardware
from aras.model.mapping import Problem, Step, map_network
from aras.model.network import NetworkBuilder
from aras.model.schedule import Schedule, ScheduledStep, Writes


@dataclass(frozen=True)
class Optimum:
    """The least makespan and one (order, replication) reaching it."""

    makespan: int
    order: tuple[int, ...]
    reps: tuple[tuple[int, int], ...]
    orders: int
    candidates: int


def _cycles(p: Problem, s: Step, r: int) -> int:
    hw = p.hardware
    if s.apu_rows == 0:
        return s.fixed_cycles
    # one bit of the input per iteration (docs/model.md "Precision")
    per_window = -(-hw.compute_latency_cycles * s.activation_bits // hw.activation_bits)
    if s.kind == "recurrent":
        # timestep after timestep whatever the copies (docs/model.md); copies are still
        # enumerated, they only cost rows
        return s.windows * per_window
    return -(-s.windows // r) * per_window


def _orders(p: Problem) -> Iterator[list[int]]:
    """Every topological order of the steps. A part depends on every part of the layers its
    layer reads and on nothing else, so parts of one layer may come in any order and
    interleave with other layers."""
    g = p.network.graph
    by_layer: dict[str, list[int]] = {}
    for s in p.steps:
        by_layer.setdefault(s.layer, []).append(s.index)
    n = len(p.steps)
    preds = [{j for q in g.predecessors(s.layer) for j in by_layer.get(q, [])} for s in p.steps]

    def rec(done: list[int], placed: set[int]) -> Iterator[list[int]]:
        if len(done) == n:
            yield list(done)
            return
        for i in range(n):
            if i not in placed and preds[i] <= placed:
                done.append(i)
                placed.add(i)
                yield from rec(done, placed)
                placed.discard(i)
                done.pop()

    yield from rec([], set())


def _times(p: Problem, order: list[int], reps: dict[int, int]) -> tuple[dict[int, int], int]:
    hw = p.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    start: dict[int, int] = {}
    held: list[tuple[int, int]] = []  # (end, rows), ends increasing along the order
    prev = 0
    for i in order:
        s = p.steps[i]
        if s.apu_rows:
            rows = reps[i] * s.apu_rows
            t = max(prev, T)
            # rows still held at t - T by earlier parts: those with end > t - T
            while True:
                in_use = sum(r for e, r in held if e > t - T)
                if in_use + rows <= N:
                    break
                t = min(e for e, _ in held if e > t - T) + T
            c = _cycles(p, s, reps[i])
            held.append((t + c, rows))
        else:
            t, c = prev, s.fixed_cycles
        start[i] = t
        prev = t + c
    return start, prev


def optimum(p: Problem, limit: int = 200_000, caps: dict[str, int] | None = None) -> Optimum:
    """The least makespan over every order and replication (``limit`` candidates at most;
    ``caps[layer]`` copies at most for the named layers).

    Raises
    ------
    ValueError
        When memory bandwidth binds (the enumeration is exact only without it) or the
        instance has more than ``limit`` (order, replication) candidates.
    """
    hw = p.hardware
    N = hw.total_apu_rows
    if hw.write_slots < N:
        raise ValueError("exhaustive optimum: memory bandwidth binds")
    weighted = [s for s in p.steps if s.apu_rows]
    caps = caps or {}
    choices = [range(1, max(1, min(s.windows, N // s.apu_rows, caps.get(s.layer, N))) + 1)
               for s in weighted]
    orders = list(itertools.islice(_orders(p), limit + 1))
    n_reps = int(np.prod([len(c) for c in choices])) if choices else 1
    if len(orders) * n_reps > limit:
        raise ValueError(f"exhaustive optimum: {len(orders) * n_reps} candidates")
    best: Optimum | None = None
    for order in orders:
        for combo in itertools.product(*choices):
            reps = {s.index: r for s, r in zip(weighted, combo, strict=True)}
            _, mk = _times(p, order, reps)
            if best is None or mk < best.makespan:
                best = Optimum(mk, tuple(order), tuple(sorted(reps.items())), len(orders),
                               len(orders) * n_reps)
    assert best is not None
    return best


def schedule_of(p: Problem, opt: Optimum) -> Schedule:
    """The schedule of an optimum: every part's rows written ``T`` before it computes, rows
    by interval colouring (lowest free id), input and output banks by first fit."""
    hw = p.hardware
    T = hw.write_latency_cycles
    order, reps = list(opt.order), dict(opt.reps)
    start, _ = _times(p, order, reps)
    free = list(range(hw.total_apu_rows))
    busy: list[tuple[int, int]] = []
    names: list[str] = []
    parts: list[int] = []
    pes: list[int] = []
    rows: list[int] = []
    starts: list[int] = []
    for i in sorted((i for i in order if p.steps[i].apu_rows), key=lambda i: start[i]):
        s = p.steps[i]
        t = start[i] - T
        while busy and busy[0][0] <= t:
            heapq.heappush(free, heapq.heappop(busy)[1])
        end = start[i] + _cycles(p, s, reps[i])
        for _ in range(reps[i] * s.apu_rows):
            row = heapq.heappop(free)
            pe, r = divmod(row, hw.apu_rows_per_pe)
            names.append(s.layer)
            parts.append(s.part)
            pes.append(pe)
            rows.append(r)
            starts.append(t)
            heapq.heappush(busy, (end, row))
    steps = []
    banks = list(hw.gbuffer_banks)
    for i in order:
        s = p.steps[i]
        # first fit: input banks, then output banks from the rest (the corpus's banks are
        # large, one of each suffices)
        bi = next(b for b in range(len(banks)) if banks[b] >= -(-s.in_bytes // s.passes))
        bo = next(b for b in range(len(banks)) if b != bi
                  and banks[b] >= -(-s.out_bytes // s.passes))
        r = reps.get(i, 0)
        steps.append(ScheduledStep(s.layer, s.part, s.apu_rows, r, s.windows, start[i],
                                   start[i] + _cycles(p, s, r), (bi,), (bo,)))
    writes = Writes.from_lists(names, parts, pes, rows, starts)
    makespan = max(st.end for st in steps)
    return Schedule(p.network.name, "exhaustive", hw.to_dict(), steps, writes, makespan)


def _hardware(rows: int, T: int) -> Hardware:
    return Hardware(name="corpus", pes=1, apu_rows_per_pe=rows, apus_per_row=4,
                    write_latency_cycles=T, gbuffer_banks=(1 << 20,) * 3,
                    memory_bandwidth_bytes_s=1e12)


def corpus(n: int = 40, seed: int = 2026) -> list[tuple[str, Problem]]:
    """``n`` small instances: chains, parallel branches joined by a concat, residual adds."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, Problem]] = []
    widths = (64, 128, 192, 256, 384)
    while len(out) < n:
        kind = ("chain", "branches", "residual")[len(out) % 3]
        tokens = int(rng.integers(1, 7))
        d0 = int(rng.choice(widths))
        b = NetworkBuilder(f"{kind}{len(out)}", {"x": (tokens, d0)})
        if kind == "chain":
            x, d = "x", d0
            for i in range(int(rng.integers(2, 5))):
                d2 = int(rng.choice(widths))
                x = b.add(f"l{i}", "linear", [x], in_features=d, out_features=d2)
                d = d2
        elif kind == "branches":
            k = int(rng.integers(2, 4))
            outs, tot = [], 0
            for i in range(k):
                w = int(rng.choice(widths))
                outs.append(b.add(f"b{i}", "linear", ["x"], in_features=d0, out_features=w))
                tot += w
            cat = b.add("cat", "concat", outs, axis=1)
            b.add("o", "linear", [cat], in_features=tot, out_features=int(rng.choice(widths)))
        else:
            h = b.add("l0", "linear", ["x"], in_features=d0, out_features=d0)
            m = int(rng.choice(widths))
            h2 = b.add("l1", "linear", [h], in_features=d0, out_features=m)
            h3 = b.add("l2", "linear", [h2], in_features=m, out_features=d0)
            s = b.add("res", "add", [h, h3])
            b.add("o", "linear", [s], in_features=d0, out_features=int(rng.choice(widths)))
        hw = _hardware(int(rng.integers(3, 7)), int(rng.choice((200, 1000, 4000))))
        try:
            p = map_network(b.build(), hw)
            o = optimum(p, limit=30_000)
        except ValueError:
            continue  # too many candidates to enumerate quickly: draw another
        if o.candidates < 8:
            continue  # nothing to decide: replication and order both forced

        out.append((p.network.name, p))
    return out
