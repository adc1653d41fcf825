"""Pulse-aware APU-row binding as a post-pass of any schedule (``aras solve --bind``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from aras.evaluator import evaluate
from aras.mapping import Problem
from aras.schedule import Schedule
from aras.weights import LayerStats, normal_pmf, pair_costs, shift_pmf, synthetic_stats


def rebind(problem: Problem, sched: Schedule, *,
           stats: Mapping[str, LayerStats] | None = None, seed: int = 0
           ) -> tuple[Schedule, float, float]:
    """Re-bind rows to lower expected pulses; keeps the original when not better.

    Returns
    -------
    (schedule, pulses before, pulses after)
        Pulses as costed by the evaluator (statistical model).
    """
    from formulations.binding import bind

    hw = problem.hardware
    names = [o.name for o in problem.network.weighted_ops]
    st = stats if stats is not None else synthetic_stats(names, seed)
    key: dict[tuple[str, int | None], int] = {}
    pmfs: list[np.ndarray] = []
    dist_of_step: dict[int, int] = {}
    for i, s in enumerate(sched.steps):
        if not s.apu_rows:
            continue
        k = (s.layer, s.center)
        if k not in key:
            pmf = normal_pmf(st[s.layer].mean, st[s.layer].std, 1 << hw.weight_bits)
            if s.center is not None:
                pmf = shift_pmf(pmf, int(round(s.center - st[s.layer].mean)))
            key[k] = len(pmfs)
            pmfs.append(pmf)
        dist_of_step[i] = key[k]
    steps_pp, _ = pair_costs(pmfs, hw)
    before = evaluate(problem, sched, stats=st).write_pulses
    new = bind(problem, sched, dist_of_step, steps_pp)
    rep = evaluate(problem, new, stats=st)
    if not rep.valid or rep.write_pulses >= before:
        return sched, before, before
    return new, before, rep.write_pulses
