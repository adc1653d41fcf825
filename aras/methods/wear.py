"""Wear-leveling: rotating the tile-to-row binding from one inference to the next.

A schedule binds its tiles to the same physical APU rows in every inference, so the rows
that hold the most tiles age first. Between two inferences (one at a time, the isolated
setting of MODEL.md section 4) nothing is held, so the rows are interchangeable: inference
``i`` may run the same schedule with logical row ``l`` (the ``l``-th usable row) moved to
usable row ``(l + i * shift) mod N``. The rotation repeats after
``cycle = N / gcd(N, shift)`` inferences; every row then carries the writes of every
``gcd(N, shift)``-th logical row, and with a shift coprime to ``N`` all rows carry the mean.

:func:`rotation` builds every inference of the cycle, has the evaluator validate each (the
same R1-R8, failed rows included, and the caller's rules), and computes the lifespan from
the most-written physical row over the cycle, next to the fixed binding's. Rotation changes
which tile a row's first write of an inference overwrites, so the write energy too: it is
counted with the evaluator's statistical pulse model (docs/energy.md, "Wear").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aras.evaluation.evaluator import SECONDS_PER_YEAR, evaluate
from aras.evaluation.pulses import _tile_index, _used_cells
from aras.evaluation.rules import _Index
from aras.evaluation.wear import row_writes, usable_mask
from aras.model.errors import InputError
from aras.model.limits import integer
from aras.model.mapping import Problem
from aras.model.schedule import Schedule, Writes
from aras.model.weights import LayerStats, pair_costs, step_distributions, synthetic_stats

__all__ = ["Rotation", "rotate", "rotation", "realtime_rate"]


def realtime_rate(problem: Problem) -> float:
    """The paper's real-time rate: 30 inf/s for networks with convolutions, else 100."""
    has_conv = any(o.kind in ("conv2d", "conv_transpose2d") for o in problem.network.ops)
    return 30.0 if has_conv else 100.0


def _logical(problem: Problem, sched: Schedule) -> tuple[np.ndarray, np.ndarray]:
    """Each write's logical row (its row's rank among the usable rows), and the physical id
    of every logical row."""
    hw = problem.hardware
    phys = np.flatnonzero(usable_mask(problem))
    rank = np.full(hw.physical_apu_rows, -1, dtype=np.int64)
    rank[phys] = np.arange(len(phys))
    w = sched.writes
    rid = w.pe * hw.apu_rows_per_pe + w.row
    inside = (w.pe >= 0) & (w.pe < hw.pes) & (w.row >= 0) & (w.row < hw.apu_rows_per_pe)
    out = np.full(len(w), -1, dtype=np.int64)
    out[inside] = rank[rid[inside]]
    return out, phys


def rotate(problem: Problem, sched: Schedule, offset: int) -> Schedule:
    """``sched`` with every write moved from logical row ``l`` to ``(l + offset) mod N``
    (``N`` usable rows); times, steps and tiles unchanged (each write keeps the tile it held,
    stated explicitly).

    Raises
    ------
    InputError
        ``sched``: a write on a failed row or outside the chip (no logical row to move).
    """
    logical, phys = _logical(problem, sched)
    w = sched.writes
    if (logical < 0).any():
        j = int(np.flatnonzero(logical < 0)[0])
        raise InputError(f"sched: writes[{j}] is on (pe {int(w.pe[j])}, row {int(w.row[j])}), "
                         "no usable row to rotate")
    per = problem.hardware.apu_rows_per_pe
    new = phys[(logical + offset) % len(phys)]
    tile = w.tile.copy()
    if (tile < 0).any():
        tile = _tile_index(_Index(problem, sched)).astype(np.int64)
    writes = Writes(layer=w.layer.copy(), part=w.part.copy(), pe=new // per, row=new % per,
                    start=w.start.copy(), tile=tile)
    return Schedule(sched.network, sched.method, sched.hardware, sched.steps, writes,
                    sched.makespan, dict(sched.extra))


@dataclass
class Rotation:
    """A rotation of the binding over its cycle, against the fixed binding.

    Row writes are per inference (a run's over its batch); lifespans in years at
    ``rate_inf_s`` for a cell endurance of ``endurance_cycles`` writes, from the most-written
    row: every write of a row may change each of its cells.
    """

    shift: int
    cycle: int
    valid: bool
    violations: list[str] = field(default_factory=list)
    rate_inf_s: float = 0.0
    endurance_cycles: float = 0.0
    fixed_max_row_writes: float = 0.0
    rotated_max_row_writes: float = 0.0
    mean_row_writes: float = 0.0
    lifespan_fixed_years: float = 0.0
    lifespan_rotated_years: float = 0.0
    #: Write energy per inference (J) of the fixed and the rotated binding (statistical
    #: pulse model); None when not costed.
    write_energy_fixed_j: float | None = None
    write_energy_rotated_j: float | None = None

    @property
    def lifespan_ratio(self) -> float:
        """Rotated over fixed lifespan (the fixed over the rotated most-written row)."""
        if self.rotated_max_row_writes == 0:
            return 1.0
        return self.fixed_max_row_writes / self.rotated_max_row_writes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (infinite lifespans as None)."""
        d = {k: v for k, v in self.__dict__.items()}
        d["lifespan_ratio"] = self.lifespan_ratio
        for k, v in list(d.items()):
            if isinstance(v, float) and math.isinf(v):
                d[k] = None
        return d


def _years(endurance: float, per_inference: float, rate: float) -> float:
    return endurance / (per_inference * rate) / SECONDS_PER_YEAR if per_inference else math.inf


def cycle_row_writes(writes: np.ndarray, shift: int) -> tuple[int, np.ndarray]:
    """The cycle of a rotation by ``shift`` over ``len(writes)`` logical rows, and the
    writes each (usable) row receives over it: ``sum_i writes[(p - i shift) mod N]``."""
    n = len(writes)
    cycle = n // math.gcd(n, shift % n) if shift % n else 1
    total = np.zeros(n)
    for i in range(cycle):
        total += np.roll(writes, (i * shift) % n)
    return cycle, total


def rotation(problem: Problem, sched: Schedule, shift: int = 1, *, validate: bool = True,
             rules: Iterable[Any] | None = None, endurance: float | None = None,
             realtime_inf_s: float | None = None,
             stats: Mapping[str, LayerStats] | None = None, seed: int = 0,
             cost: bool = True) -> Rotation:
    """Rotate the binding of ``sched`` by ``shift`` usable rows per inference.

    Parameters
    ----------
    problem, sched
        The mapped network and an isolated (one inference at a time) schedule of it.
    shift
        Usable rows the binding moves per inference (1..N-1; 0 is the fixed binding).
    validate
        Have the evaluator validate every inference of the cycle (``cost=False``, fast).
    rules
        Rules of one's own, checked on every inference as well.
    endurance, realtime_inf_s
        Cell endurance (default the hardware's) and the rate of the lifespans (default the
        paper's real-time rate, :func:`realtime_rate`).
    stats, seed
        The statistical pulse model's layer statistics (default the seeded synthetic ones).
    cost
        Also count the write energy of both bindings.

    Raises
    ------
    InputError
        ``shift``: not an integer in 0..N-1; ``sched``: a write off the usable rows.
    """
    n = problem.total_apu_rows
    shift = integer(shift, "shift")
    if not 0 <= shift < n:
        raise InputError(f"shift: must be in 0..{n - 1} (the usable APU rows less one), "
                         f"got {shift}")
    logical, phys = _logical(problem, sched)
    if (logical < 0).any():
        rotate(problem, sched, 0)  # (raises, naming the write)
    b = problem.batch
    per_logical = row_writes(problem, sched)[phys] / b
    cycle, over = cycle_row_writes(per_logical, shift)
    hw = problem.hardware
    rate = realtime_inf_s if realtime_inf_s is not None else realtime_rate(problem)
    end = endurance if endurance is not None else hw.cell_endurance_cycles
    out = Rotation(shift=shift, cycle=cycle, valid=True, rate_inf_s=rate, endurance_cycles=end,
                   fixed_max_row_writes=float(per_logical.max()),
                   rotated_max_row_writes=float(over.max() / cycle),
                   mean_row_writes=float(per_logical.mean()))
    out.lifespan_fixed_years = _years(end, out.fixed_max_row_writes, rate)
    out.lifespan_rotated_years = _years(end, out.rotated_max_row_writes, rate)
    if validate:
        for i in range(cycle):
            rep = evaluate(problem, rotate(problem, sched, (i * shift) % n), rules=rules,
                           cost=False)
            if not rep.valid:
                out.valid = False
                out.violations += [f"inference {i}: {v}" for v in rep.violations]
    if cost:
        fixed, rotated = _boundary_steps(problem, sched, shift, logical, stats, seed)
        full = evaluate(problem, sched, stats=stats or _stats(problem, seed))
        e_step = hw.pulses_per_level_step * hw.write_energy_per_pulse_j / b
        out.write_energy_fixed_j = full.energy.rram_write / b
        out.write_energy_rotated_j = out.write_energy_fixed_j + (rotated - fixed) * e_step
    return out


def _stats(problem: Problem, seed: int) -> dict[str, LayerStats]:
    return synthetic_stats([o.name for o in problem.network.weighted_ops], seed)


def _boundary_steps(problem: Problem, sched: Schedule, shift: int, logical: np.ndarray,
                    stats: Mapping[str, LayerStats] | None, seed: int) -> tuple[float, float]:
    """Expected level steps of every row's first write of an inference: over the last
    write of the same row (fixed binding, as the evaluator counts it), and over the last
    write that reached its physical row under the rotation (statistical model).

    Only these writes differ between the two bindings: every later write of a row
    overwrites the row's previous write of the same inference either way.
    """
    idx = _Index(problem, sched)
    tile = _tile_index(idx)
    used = _used_cells(idx, tile)
    w = sched.writes
    if not len(w):
        return 0.0, 0.0
    steps = sched.steps
    wsteps = np.flatnonzero(np.bincount(idx.wstep, minlength=1)).tolist()
    ids, pmfs = step_distributions([(steps[i].layer, steps[i].center) for i in wsteps],
                                   stats or _stats(problem, seed),
                                   1 << problem.hardware.weight_bits)
    dist = np.full(len(steps), -1, dtype=np.int64)
    dist[wsteps] = ids
    cost, _ = pair_costs(pmfs, problem.hardware)
    n = problem.total_apu_rows
    order = np.lexsort((w.start, logical))
    lg = logical[order]
    heads = order[np.r_[True, lg[1:] != lg[:-1]]]
    tails = order[np.r_[lg[1:] != lg[:-1], True]]
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    first[logical[heads]] = heads
    last[logical[tails]] = tails
    # under the rotation, physical row p holds logical l now, l + shift one inference ago,
    # l + 2 shift before that...: the newest of those that wrote anything
    prev = np.full(n, -1, dtype=np.int64)
    todo = np.flatnonzero(first >= 0)
    k = 1
    cycle = n // math.gcd(n, shift) if shift else 1
    while len(todo) and k <= cycle:
        src = last[(todo + k * shift) % n]
        hit = src >= 0
        prev[todo[hit]] = src[hit]
        todo = todo[~hit]
        k += 1

    def steps_of(before: np.ndarray) -> float:
        rows = np.flatnonzero((first >= 0) & (before >= 0))
        a, c = before[rows], first[rows]
        same = (idx.wstep[a] == idx.wstep[c]) & (tile[a] == tile[c])
        x = cost[dist[idx.wstep[a]], dist[idx.wstep[c]]] * used[c]
        return float(x[~same].sum())

    return steps_of(last), steps_of(prev)
