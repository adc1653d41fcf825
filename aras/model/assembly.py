"""Assembling a schedule from decisions: free rows, write slots and the schedule's records.

Every method that turns decisions into a :class:`~aras.model.schedule.Schedule` (the list
schedulers, the MILP extraction, :class:`formulations.Formulation`) uses these, so rows are
bound and writes queued one way (R2, R3, R6).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from aras.model.bandwidth import Bandwidth
from aras.model.banks import min_capacity_cover, smallest_fit
from aras.model.errors import InputError, arg_name
from aras.model.mapping import Problem, Step
from aras.model.precision import to_document
from aras.model.schedule import Schedule, ScheduledStep, WriteLog

__all__ = ["RowPool", "Builder", "RowWriter"]


class RowPool:
    """Free logical APU rows (the usable rows in physical order), handed out lowest index
    first (pe-major); :class:`Builder` turns them into physical rows."""

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
        """Record a write of one tile of ``step`` on a row.

        ``rowid`` is a logical row, ``0 .. total_apu_rows - 1``: the usable rows in physical
        order, so a chip with failed rows (``Hardware.failed_rows``) never gets a write on
        one, whatever the method.
        """
        hw = self.problem.hardware
        pe, row = divmod(hw.physical_rows([rowid])[0], hw.apu_rows_per_pe)
        self.writes.add(step.layer, step.part, pe, row, start)

    def write_many(self, step: Step, rowids: list[int], starts: list[int]) -> None:
        """Record writes of tiles of ``step`` on logical rows (as :meth:`write` row by row)."""
        per = self.problem.hardware.apu_rows_per_pe
        rowids = self.problem.hardware.physical_rows(rowids)
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
                got = self.choose_ilp(hw.gbuffer_banks, *key)
            else:
                raise InputError(f"{arg_name('banks')}: unknown bank mode '{self.bank_mode}' "
                                 "(known: greedy, exact, ilp)")
            assert got is not None, "map_network checks every step fits the Gbuffer"
            self._banks[key] = got
        return self._banks[key]

    def choose_ilp(self, banks: tuple[int, ...], in_need: int, out_need: int
                   ) -> tuple[list[int], list[int]] | None:
        """Banks by the paper's per-layer ILP: the methods' builder solves it
        (:mod:`formulations.banks` is a later layer than this one)."""
        raise InputError("banks: 'ilp' needs the methods' Builder "
                         "(aras.methods.heuristics.engine.Builder)")

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
        extra = {}
        if self.problem.precision:  # the file says at which precision to map the network
            extra["precision"] = to_document(self.problem.precision)
        return Schedule(network=self.problem.network.name, method=self.method,
                        hardware=self.problem.hardware.to_dict(), steps=self.steps,
                        writes=self.writes.freeze(), makespan=makespan, extra=extra)


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
