"""Shared machinery of the list schedulers: rows, bandwidth, banks, assembly.

The schedulers simulate the accelerator in time: computes run one at a time
in compute order, and APU rows released by a finished part are handed to the
tiles still waiting to be written. The pieces here keep that simulation
honest about R2 (a row holds one tile until its part computes), R3 and R6.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from aras.banks import smallest_fit
from aras.mapping import Problem, Step
from aras.schedule import Schedule, ScheduledStep, WriteLog


class RowPool:
    """Free physical APU rows, handed out lowest index first (pe-major)."""

    def __init__(self, problem: Problem):
        self.per_pe = problem.hardware.apu_rows_per_pe
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

    def coords(self, rowid: int) -> tuple[int, int]:
        """(pe, row) of a row id."""
        return divmod(rowid, self.per_pe)


class Bandwidth:
    """Start times of writes under the R6 limit on concurrent APU-row writes.

    Writes have equal length, so granting requests in time order first-come
    first-served is optimal for each request; requests must come in
    non-decreasing time.
    """

    def __init__(self, problem: Problem):
        hw = problem.hardware
        self.limit = hw.max_concurrent_row_writes
        self.length = hw.write_latency_cycles
        self.ends: list[int] = []

    def request(self, t: int) -> int:
        """Earliest start >= t with a free write slot; books the slot."""
        while self.ends and self.ends[0] <= t:
            heapq.heappop(self.ends)
        if len(self.ends) >= self.limit:
            t = max(t, heapq.heappop(self.ends))
        heapq.heappush(self.ends, t + self.length)
        return t


@dataclass
class Builder:
    """Collects compute steps and writes, then assembles a :class:`Schedule`."""

    problem: Problem
    method: str
    steps: list[ScheduledStep] = field(default_factory=list)
    writes: WriteLog = field(default_factory=WriteLog)
    _banks: dict[tuple[int, int], tuple[list[int], list[int]]] = field(default_factory=dict)

    def write(self, step: Step, rowid: int, start: int) -> None:
        """Record a write of one tile of ``step`` on a physical row."""
        pe, row = divmod(rowid, self.problem.hardware.apu_rows_per_pe)
        self.writes.add(step.layer, step.part, pe, row, start)

    def banks(self, step: Step) -> tuple[list[int], list[int]]:
        """Smallest-fit banks for a step (cached by byte sizes)."""
        key = (step.in_need, step.out_need)
        if key not in self._banks:
            got = smallest_fit(self.problem.hardware.gbuffer_banks, *key)
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
