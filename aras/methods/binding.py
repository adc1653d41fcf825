"""Pulse-aware APU-row binding as a post-pass of any schedule (``aras solve --bind``)."""

from __future__ import annotations

from collections.abc import Mapping

from aras.evaluation.evaluator import evaluate
from aras.model.mapping import Problem
from aras.model.precision import weight_bits_of
from aras.model.schedule import Schedule
from aras.model.weights import LayerStats, pair_costs, step_distributions, synthetic_stats


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
    weighted = [i for i, s in enumerate(sched.steps) if s.apu_rows]
    ids, pmfs = step_distributions([(sched.steps[i].layer, sched.steps[i].center)
                                    for i in weighted], st, 1 << hw.weight_bits,
                                   weight_bits_of(problem))
    dist_of_step = dict(zip(weighted, ids, strict=True))
    steps_pp, _ = pair_costs(pmfs, hw)
    before = evaluate(problem, sched, stats=st).write_pulses
    new = bind(problem, sched, dist_of_step, steps_pp)
    rep = evaluate(problem, new, stats=st)
    if not rep.valid or rep.write_pulses >= before:
        return sched, before, before
    return new, before, rep.write_pulses
