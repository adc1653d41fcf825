"""The paper's two reference schedulers (section IV-A, Fig. 7 and Fig. 8)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from aras.heuristics.engine import Bandwidth, Builder, RowPool
from aras.mapping import Problem
from aras.schedule import Schedule


def naive(problem: Problem) -> Schedule:
    """Fig. 7: write a part's weights, then compute it; part after part, no overlap.

    Every part is written to the lowest rows (all rows are free between
    parts); with a bandwidth limit the writes are staggered.
    """
    b = Builder(problem, "naive")
    bw = Bandwidth(problem)
    t = 0
    for step in problem.steps:
        if step.weighted:
            ready = t
            for rowid in range(step.apu_rows):
                start = bw.request(t)
                b.write(step, rowid, start)
                ready = max(ready, start + problem.hardware.write_latency_cycles)
            t = b.compute(step, ready, 1)
        else:
            t = b.compute(step, t, 0)
    return b.build()


def baseline(problem: Problem, replication: Mapping[tuple[str, int], int] | None = None,
             method: str = "baseline") -> Schedule:
    """Fig. 8: layer-by-layer compute; released rows take the next tiles in order.

    Whenever rows are free (at time 0 and at every compute end), the tiles of
    the next parts in compute order are written into them, a partial part
    when they do not all fit. Writes of a part may therefore be spread over
    several releases; the part computes once its last tile is written.

    Parameters
    ----------
    problem
        The mapped network.
    replication
        Optional fixed replication per (layer, part); 1 where absent. The
        paper's baseline has none; replication heuristics reuse this engine.
    method
        Name recorded in the schedule.
    """
    hw = problem.hardware
    rep = dict(replication or {})
    b = Builder(problem, method)
    bw = Bandwidth(problem)
    pool = RowPool(problem)
    queue = deque((s, rep.get(s.key, 1) * s.apu_rows) for s in problem.weighted_steps)
    held: dict[int, list[int]] = {}
    ready: dict[int, int] = {}

    def allocate(t: int) -> None:
        while queue and len(pool):
            step, left = queue[0]
            n = min(left, len(pool))
            for rowid in pool.take(n):
                start = bw.request(t)
                b.write(step, rowid, start)
                held.setdefault(step.index, []).append(rowid)
                ready[step.index] = max(ready.get(step.index, 0),
                                        start + hw.write_latency_cycles)
            if n == left:
                queue.popleft()
            else:
                queue[0] = (step, left - n)

    allocate(0)
    t = 0
    for step in problem.steps:
        if not step.weighted:
            t = b.compute(step, t, 0)
            continue
        r = rep.get(step.key, 1)
        # The queue is in compute order, so this part got rows before any later one.
        assert step.index in ready and len(held[step.index]) == r * step.apu_rows
        t = b.compute(step, max(t, ready[step.index]), r)
        pool.give_back(held.pop(step.index))
        allocate(t)
    return b.build()
