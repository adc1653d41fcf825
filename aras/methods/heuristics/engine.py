"""Shared machinery of the list schedulers: rows, banks, assembly (write slots: ``Bandwidth``).

The schedulers simulate the accelerator in time: computes run one at a time
in compute order, and APU rows released by a finished part are handed to the
tiles still waiting to be written. The pieces here keep that simulation
honest about R2 (a row holds one tile until its part computes), R3 and R6.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from aras.model.assembly import Builder as _ModelBuilder
from aras.model.assembly import RowPool, RowWriter
from aras.model.bandwidth import Bandwidth
from aras.model.mapping import Problem, Step
from aras.model.schedule import Schedule

__all__ = ["Bandwidth", "Builder", "RowPool", "RowWriter", "RowCounter", "list_schedule",
           "list_replication", "Policy"]


class Builder(_ModelBuilder):
    """:class:`aras.model.assembly.Builder` that also chooses banks by the paper's ILP
    (``bank_mode="ilp"``, :mod:`formulations.banks`)."""

    def choose_ilp(self, banks: tuple[int, ...], in_need: int, out_need: int
                   ) -> tuple[list[int], list[int]] | None:
        from formulations.banks import select_banks

        return select_banks(self.problem.hardware, in_need, out_need)




class _FreeCount:
    """How many rows are free (what a policy sees of the pool)."""

    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n


class RowCounter:
    """:class:`RowWriter` keeping counts instead of rows and writes: the decisions of a list
    scheduler (when, how many rows, which replication) depend on nothing else."""

    def __init__(self, problem: Problem):
        self.pool = _FreeCount(problem.total_apu_rows)
        self.bw = Bandwidth(problem)
        self.write_latency = problem.hardware.write_latency_cycles
        self.held: dict[int, int] = {}
        self.ready: dict[int, int] = {}

    def write(self, step: Step, n: int, t: int) -> None:
        """As :meth:`RowWriter.write`."""
        assert n <= self.pool.n, "the list scheduler asks for free rows only"
        if n <= 0:
            return
        starts = self.bw.requests(t, n)
        self.pool.n -= n
        self.held[step.index] = self.held.get(step.index, 0) + n
        self.ready[step.index] = max(self.ready.get(step.index, 0),
                                     max(starts) + self.write_latency)

    def release(self, step: Step) -> None:
        """As :meth:`RowWriter.release`."""
        self.pool.n += self.held.pop(step.index)

    def held_rows(self, index: int) -> int:
        """Rows the part of step ``index`` holds."""
        return self.held[index]


#: A write policy: given the free rows and the parts not yet started (in compute order),
#: the parts to start writing now with their replication. The first upcoming part must come
#: first; the last part of the plan may get only some of its tiles (a partial write).
Policy = Callable[[int, list[Step]], list[tuple[Step, int]]]


def list_schedule(problem: Problem, policy: Policy, method: str, banks: str = "greedy"
                  ) -> Schedule:
    """Simulate layer-by-layer compute with writes into released rows, as a policy decides.

    At cycle 0 and at every compute end, free rows first take the remaining
    tiles of a partially written part, then the policy plans which upcoming
    parts start now and with what replication. A part computes when the
    previous step has ended and its last tile is written, then releases its
    rows.
    """
    b = Builder(problem, method, bank_mode=banks)
    _simulate(problem, policy, method, RowWriter(b), b.compute)
    return b.build()


def list_replication(problem: Problem, policy: Policy, method: str) -> dict[int, int]:
    """The replication :func:`list_schedule` gives every weight-bearing part (by step
    index), from the same simulation without its rows and writes."""
    def compute(step: Step, start: int, replication: int) -> int:
        return start + problem.compute_cycles(step, replication)

    return _simulate(problem, policy, method, RowCounter(problem), compute)


def _simulate(problem: Problem, policy: Policy, method: str, rows: RowWriter | RowCounter,
              compute: Callable[[Step, int, int], int]) -> dict[int, int]:
    """The simulation of :func:`list_schedule`; returns the replication of every part."""
    pool, write, ready = rows.pool, rows.write, rows.ready
    upcoming = deque(problem.weighted_steps)
    partial: list[tuple[Step, int]] = []  # (part, tiles still to write), at most one
    rep: dict[int, int] = {}

    def allocate(t: int) -> None:
        if partial and len(pool):
            step, left = partial.pop()
            n = min(left, len(pool))
            write(step, n, t)
            if n < left:
                partial.append((step, left - n))
                return
        if not upcoming or not len(pool):
            return
        plan = policy(len(pool), list(upcoming))
        if not plan or plan[0][0] is not upcoming[0]:
            raise RuntimeError(f"{method}: the policy must start the next part first")
        for step, r in plan:
            if not len(pool):
                break
            if upcoming[0] is not step:
                raise RuntimeError(f"{method}: the policy must keep compute order")
            upcoming.popleft()
            r = max(1, min(r, problem.max_replication(step)))
            rep[step.index] = r
            need = r * step.apu_rows
            n = min(need, len(pool))
            write(step, n, t)
            if n < need:
                partial.append((step, need - n))
                break

    allocate(0)
    t = 0
    for step in problem.steps:
        if not step.weighted:
            t = compute(step, t, 0)
            continue
        # Parts are started in compute order and a partial part is always finished first,
        # so when a part's turn comes only its own rows can be held and it is complete.
        assert step.index in ready and not (partial and partial[0][0] is step), step
        r = rep[step.index]
        assert rows.held_rows(step.index) == r * step.apu_rows
        t = compute(step, max(t, ready[step.index]), r)
        rows.release(step)
        allocate(t)
    return rep
