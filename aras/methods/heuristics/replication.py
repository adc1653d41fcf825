"""Replication heuristics: the prior-work greedy and ARAS's Algorithm 1 (paper section V-B).

Both are write policies of :func:`aras.methods.heuristics.engine.list_schedule`: at
cycle 0 and at every release they decide which upcoming parts start being
written into the free rows, and with how many copies. Interpretations of the
paper's prose are in ``docs/heuristics.md``.
"""

from __future__ import annotations

from aras.methods.heuristics.engine import list_schedule
from aras.model.mapping import Problem, Step
from aras.model.schedule import Schedule


def _longest_run(free: int, upcoming: list[Step]) -> list[Step]:
    """The longest prefix of upcoming parts that fits the free rows unreplicated."""
    run, used = [], 0
    for s in upcoming:
        if used + s.apu_rows > free:
            break
        run.append(s)
        used += s.apu_rows
    return run


def _feed_slowest(problem: Problem, run: list[Step], r: dict[int, int], spare: int) -> int:
    """Give spare rows to the slowest part of the run one copy at a time; returns what is left.

    The slowest is the part with the longest compute at its current
    replication among those whose one more copy still fits.
    """
    while True:
        cands = [s for s in run
                 if s.apu_rows <= spare and r[s.index] < problem.max_replication(s)]
        if not cands:
            return spare
        s = max(cands, key=lambda x: (problem.compute_cycles(x, r[x.index]), -x.index))
        r[s.index] += 1
        spare -= s.apu_rows


def _with_partial_next(plan: list[tuple[Step, int]], upcoming: list[Step]
                       ) -> list[tuple[Step, int]]:
    """Leftover rows go to the next part, written partially (as the baseline does)."""
    if len(plan) < len(upcoming):
        plan.append((upcoming[len(plan)], 1))
    return plan


def greedy_policy(problem: Problem):
    """Prior work ([1], [34]): while resources remain, replicate the lowest-throughput layer.

    At each release the longest run of next parts that fits unreplicated is
    written, and the rows left over are handed, one copy at a time, to the run's
    part with the lowest throughput (longest compute) while a copy fits. It has
    no notion of write cost: it never gives up a layer to replicate more.
    """

    def plan(free: int, upcoming: list[Step]) -> list[tuple[Step, int]]:
        run = _longest_run(free, upcoming)
        if not run:
            return [(upcoming[0], 1)]
        r = {s.index: 1 for s in run}
        _feed_slowest(problem, run, r, free - sum(s.apu_rows for s in run))
        return _with_partial_next([(s, r[s.index]) for s in run], upcoming)

    return plan


def aras_policy(problem: Problem):
    """ARAS Algorithm 1 (adaptive replication), from the prose of section V-B.

    With ``F`` free rows and next parts ``L_i, L_i+1, ...``:

    1. ``F`` cannot hold ``L_i``: write part of ``L_i``, unreplicated (lines 2-3).
    2. ``F`` holds ``L_i`` but not ``L_i`` and ``L_i+1``: write ``L_i`` and replicate it
       with what is left (lines 4-5).
    3. Otherwise take the longest run that fits unreplicated and iterate
       (lines 6-17): while the candidates other than ``L_i`` together compute
       longer than a write (the following layers start writing when ``L_i``
       releases its rows, and take one write latency whatever their number),
       drop the last candidate and hand its rows, one copy at a time, to the
       slowest candidates.

    Rows still free after the decision take the next part partially, as in
    the baseline scheduler.
    """
    T = problem.hardware.write_latency_cycles

    def plan(free: int, upcoming: list[Step]) -> list[tuple[Step, int]]:
        first = upcoming[0]
        if free < first.apu_rows:
            return [(first, 1)]
        if len(upcoming) == 1 or free < first.apu_rows + upcoming[1].apu_rows:
            copies = min(free // first.apu_rows, problem.max_replication(first))
            return _with_partial_next([(first, copies)], upcoming)
        run = _longest_run(free, upcoming)
        r = {s.index: 1 for s in run}

        def too_slow() -> bool:
            # Fig. 10: "the computation latency from L2 to L9 falls below the writing latency
            # of the next layers": the candidates compute one after another while the
            # following layers are written, so their summed compute is what must fit.
            return sum(problem.compute_cycles(s, r[s.index]) for s in run[1:]) > T

        while len(run) > 1 and too_slow():
            dropped = run.pop()
            del r[dropped.index]
            used = sum(r[s.index] * s.apu_rows for s in run)
            _feed_slowest(problem, run, r, free - used)
        return _with_partial_next([(s, r[s.index]) for s in run], upcoming)

    return plan


def greedy_replication(problem: Problem, banks: str = "greedy") -> Schedule:
    """Baseline write scheduling with the prior-work greedy replication."""
    return list_schedule(problem, greedy_policy(problem), "greedy-replication", banks=banks)


def aras(problem: Problem, banks: str = "greedy") -> Schedule:
    """Baseline write scheduling with ARAS adaptive replication (Algorithm 1)."""
    return list_schedule(problem, aras_policy(problem), "aras", banks=banks)
