"""Shared machinery of the list schedulers: rows, banks, assembly (write slots: ``Bandwidth``).

The schedulers simulate the accelerator in time: computes run one at a time
in compute order, and APU rows released by a finished part are handed to the
tiles still waiting to be written. The pieces here keep that simulation
honest about R2 (a row holds one tile until its part computes), R3 and R6.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aras.model.bandwidth import Bandwidth
from aras.model.banks import min_capacity_cover, smallest_fit
from aras.model.errors import InputError, arg_name
from aras.model.mapping import Problem, Step
from aras.model.schedule import Schedule, ScheduledStep, WriteLog


class RowPool:
    """Free physical APU rows, handed out lowest index first (pe-major)."""

    def __init__(self, problem: Problem):
        self.free: list[int] = list(range(problem.total_apu_rows))
        heapq.heapify(self.free)

    def __len__(self) -> int:
        return len(self.free)

    def take(self, n: int) -> list[int]:
        """The ``n`` lowest free rows."""
        return [heapq.heappop(self.free) for _ in range(n)]

    def give_back(self, rows: Iterable[int]) -> None:
        """Return rows to the pool."""
        for r in rows:
            heapq.heappush(self.free, r)


@dataclass
class Builder:
    """Collects compute steps and writes, then assembles a :class:`Schedule`."""

    problem: Problem
    method: str
    bank_mode: str = "greedy"
    steps: list[ScheduledStep] = field(default_factory=list)
    writes: WriteLog = field(default_factory=WriteLog)
    _banks: dict[tuple[int, int], tuple[list[int], list[int]]] = field(default_factory=dict)

    def write(self, step: Step, rowid: int, start: int) -> None:
        """Record a write of one tile of ``step`` on a physical row."""
        pe, row = divmod(rowid, self.problem.hardware.apu_rows_per_pe)
        self.writes.add(step.layer, step.part, pe, row, start)

    def write_many(self, step: Step, rowids: list[int], starts: list[int]) -> None:
        """Record writes of tiles of ``step`` on physical rows (as :meth:`write` row by row)."""
        per = self.problem.hardware.apu_rows_per_pe
        self.writes.extend(step.layer, step.part, [r // per for r in rowids],
                           [r % per for r in rowids], starts)

    def banks(self, step: Step) -> tuple[list[int], list[int]]:
        """Banks for a step by the builder's bank mode (cached by byte sizes).

        ``greedy``: smallest fit; ``exact``: least capacity by enumeration
        (up to 20 banks); ``ilp``: the paper's per-layer ILP (Pyomo + HiGHS).
        """
        key = (step.in_need, step.out_need)
        if key not in self._banks:
            hw = self.problem.hardware
            got: tuple[list[int], list[int]] | None
            if self.bank_mode == "greedy":
                got = smallest_fit(hw.gbuffer_banks, *key)
            elif self.bank_mode == "exact":
                got = min_capacity_cover(hw.gbuffer_banks, *key)
            elif self.bank_mode == "ilp":
                from formulations.banks import select_banks

                got = select_banks(hw, *key)
            else:
                raise InputError(f"{arg_name('banks')}: unknown bank mode '{self.bank_mode}' "
                                 "(known: greedy, exact, ilp)")
            assert got is not None, "map_network checks every step fits the Gbuffer"
            self._banks[key] = got
        return self._banks[key]

    def compute(self, step: Step, start: int, replication: int) -> int:
        """Record a compute step; returns its end."""
        end = start + self.problem.compute_cycles(step, replication)
        bi, bo = self.banks(step)
        self.steps.append(ScheduledStep(step.layer, step.part, step.apu_rows, replication,
                                        step.windows, start, end, tuple(bi), tuple(bo)))
        return end

    def build(self) -> Schedule:
        """The finished schedule."""
        makespan = max((s.end for s in self.steps), default=0)
        return Schedule(network=self.problem.network.name, method=self.method,
                        hardware=self.problem.hardware.to_dict(), steps=self.steps,
                        writes=self.writes.freeze(), makespan=makespan)


class RowWriter:
    """Rows, write slots and readiness of the parts being written: the bookkeeping every
    event-driven scheduler shares (list scheduling, MILP extraction)."""

    def __init__(self, builder: Builder):
        problem = builder.problem
        self.builder = builder
        self.pool = RowPool(problem)
        self.bw = Bandwidth(problem)
        self.write_latency = problem.hardware.write_latency_cycles
        self.held: dict[int, list[int]] = {}
        self.ready: dict[int, int] = {}

    def write(self, step: Step, n: int, t: int) -> None:
        """Write ``n`` tiles of ``step`` into the lowest free rows, starting at or after ``t``."""
        if n <= 0:
            return
        rowids = self.pool.take(n)
        starts = self.bw.requests(t, len(rowids))
        self.builder.write_many(step, rowids, starts)
        self.held.setdefault(step.index, []).extend(rowids)
        self.ready[step.index] = max(self.ready.get(step.index, 0),
                                     max(starts) + self.write_latency)

    def release(self, step: Step) -> None:
        """Free the rows of a part that has computed."""
        self.pool.give_back(self.held.pop(step.index))

    def held_rows(self, index: int) -> int:
        """Rows the part of step ``index`` holds."""
        return len(self.held[index])


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
