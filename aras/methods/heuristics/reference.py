"""The paper's two reference schedulers (section IV-A, Fig. 7 and Fig. 8)."""

from __future__ import annotations

from collections.abc import Mapping

from aras.methods.heuristics.engine import Bandwidth, Builder, list_schedule
from aras.model.mapping import Problem, Step
from aras.model.schedule import Schedule


def naive(problem: Problem, banks: str = "greedy") -> Schedule:
    """Fig. 7: write a part's weights, then compute it; part after part, no overlap.

    Every part is written to the lowest rows (all rows are free between
    parts); with a bandwidth limit the writes are staggered.
    """
    b = Builder(problem, "naive", bank_mode=banks)
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
             method: str = "baseline", banks: str = "greedy") -> Schedule:
    """Fig. 8: layer-by-layer compute; released rows take the next tiles in order.

    Whenever rows are free (at cycle 0 and at every compute end), the tiles of
    the next parts in compute order are written into them, a partial part
    when they do not all fit. Writes of a part may therefore be spread over
    several releases; the part computes once its last tile is written.

    Parameters
    ----------
    problem
        The mapped network.
    replication
        Optional fixed replication per (layer, part); 1 where absent. The
        paper's baseline has none.
    method
        Name recorded in the schedule.
    banks
        Bank choice: ``greedy`` (smallest fit), ``exact`` or ``ilp``.
    """
    rep = dict(replication or {})

    def in_order(free: int, upcoming: list[Step]) -> list[tuple[Step, int]]:
        plan, used = [], 0
        for s in upcoming:
            r = rep.get(s.key, 1)
            plan.append((s, r))
            used += r * s.apu_rows
            if used >= free:
                break
        return plan

    return list_schedule(problem, in_order, method, banks=banks)
