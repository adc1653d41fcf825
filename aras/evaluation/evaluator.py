"""The one evaluator: validates a schedule against R1-R8 and costs it.

Every method's output goes through :func:`evaluate`; methods never cost
themselves. Validation lists every violation with its rule, op/part, APU row
and cycles (:mod:`aras.evaluation.rules`). Costing follows ``docs/model.md``: latency
from the last compute end, energy from ReRAM write pulses (:mod:`aras.evaluation.pulses`),
Gbuffer leakage and accesses, DRAM traffic of weight deltas and crossbar/digital compute,
and lifespan from the most-written cell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from aras.evaluation.liveness import LIVENESS, bank_mode
from aras.evaluation.liveness import costs as liveness_costs
from aras.evaluation.pulses import (  # noqa: F401  (names of this module before the split)
    _FULL_PAIR_TABLE,
    _exact_pulses,
    _statistical_pulses,
    _tile_index,
    _used_cells,
)
from aras.evaluation.rules import (  # noqa: F401
    Violation,
    _Index,
    _lex_order,
    _peak_writes,
    _problem_step,
    _row_desc,
    _validate,
    as_rules,
    run_rules,
    validate,
)
from aras.evaluation.wear import RowWear
from aras.model.errors import InputError, expect
from aras.model.mapping import Problem, ceil_div
from aras.model.precision import describe
from aras.model.schedule import Schedule
from aras.model.weights import LayerStats, synthetic_stats

SECONDS_PER_YEAR = 365.25 * 86400


#: Energy components, in report order (the fields of :class:`Energy`).
ENERGY_COMPONENTS = ("rram_write", "gbuffer_static", "gbuffer_dynamic", "dram", "compute")


@dataclass
class Energy:
    """Energy of one run of a schedule in joules, by component: one inference, or one batch
    of ``Report.batch`` inferences."""

    rram_write: float = 0.0
    gbuffer_static: float = 0.0
    gbuffer_dynamic: float = 0.0
    dram: float = 0.0
    compute: float = 0.0

    @property
    def total(self) -> float:
        """Sum of the components."""
        return (self.rram_write + self.gbuffer_static + self.gbuffer_dynamic + self.dram
                + self.compute)

    def to_dict(self) -> dict[str, float]:
        """Components and ``total``."""
        d = asdict(self)
        d["total"] = self.total
        return d


@dataclass
class Report:
    """Validity and cost of one run of a schedule: one inference, or one batch of ``batch``.

    ``makespan_cycles``, ``latency_s`` and ``energy`` are those of the whole run (the batch);
    ``throughput_inf_s`` is ``batch / latency_s`` and ``energy_per_inference_j`` is the
    energy total over ``batch`` (docs/model.md, "Batch").
    """

    valid: bool
    violations: list[Violation]
    makespan_cycles: int = 0
    latency_s: float = 0.0
    throughput_inf_s: float = 0.0
    energy: Energy = field(default_factory=Energy)
    level_steps: float = 0.0
    write_pulses: float = 0.0
    cells_written: float = 0.0
    row_writes: int = 0
    weights_written: int = 0
    max_cell_writes: int = 0
    realtime_inf_s: float = 0.0
    endurance_cycles: float = 0.0
    lifespan_realtime_years: float = 0.0
    lifespan_max_throughput_years: float = 0.0
    pulse_model: str = "statistical"
    batch: int = 1
    energy_per_inference_j: float = 0.0
    #: Writes and cell level steps per APU row and inference: min, mean and max over the
    #: usable rows (failed rows excluded; level steps 0 when not costed).
    row_writes_min: float = 0.0
    row_writes_mean: float = 0.0
    row_writes_max: float = 0.0
    row_level_steps_min: float = 0.0
    row_level_steps_mean: float = 0.0
    row_level_steps_max: float = 0.0
    #: The same per physical row (:class:`aras.evaluation.wear.RowWear`); not in ``to_dict``.
    rows: RowWear | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = {k: v for k, v in self.__dict__.items()
             if k not in ("violations", "energy", "rows")}
        d["violations"] = [str(v) for v in self.violations]
        d["energy_j"] = self.energy.to_dict()
        for k, v in list(d.items()):
            if isinstance(v, float) and math.isinf(v):
                d[k] = None
        return d


def evaluate(problem: Problem, sched: Schedule, *, stats: Mapping[str, LayerStats] | None = None,
             weights: Mapping[str, np.ndarray] | None = None, zero_code: int | None = None,
             seed: int = 0, endurance: float | None = None,
             realtime_inf_s: float | None = None, rules: Iterable[Any] | None = None,
             cost: bool = True) -> Report:
    """Validate and cost a schedule.

    Parameters
    ----------
    problem
        The mapped network the schedule claims to solve.
    sched
        The schedule.
    stats
        Per-layer weight statistics for the statistical pulse model; given, that model is
        used (unless ``weights`` are given too). Default: the seeded synthetic statistics of
        :func:`aras.model.weights.synthetic_stats`.
    weights
        Unsigned weight codes per layer (``(groups, rows_g, cols_g)`` or
        ``(rows, cols)``); pulses are then counted cell by cell from the
        actual levels and ``max_cell_writes`` is the most updates of one cell.
        Default, when ``stats`` is not given: the network's own codes
        (``problem.network.codes``, e.g. an ONNX file's initializers), as
        :func:`aras.methods.solve.solve` uses them, so a schedule costs the same
        whichever path evaluates it; the statistical model when it has none.
    zero_code
        Code of a zero weight, written off the diagonal of block-diagonal
        tiles (default ``2**(weight_bits-1)``).
    seed
        Seed of the synthetic statistics.
    endurance
        Cell endurance in write cycles (default: the hardware's).
    realtime_inf_s
        Real-time rate for the lifespan (default 30 inf/s for networks with
        convolutions, 100 inf/s otherwise, as in the paper).
    rules
        Rules of one's own (:class:`aras.evaluation.rules.Rule` objects or functions
        ``fn(problem, schedule)`` yielding messages), checked after R1-R8 on every
        schedule; their violations are listed after R1-R8's, one line each, and make the
        schedule invalid.
    cost
        False: validate and time the schedule only (``makespan_cycles``, ``latency_s``,
        ``throughput_inf_s``, ``row_writes``; ``pulse_model`` ``"none"``), for callers
        that need no energy: pulses from real weights take far longer than validation
        (docs/model.md, "Evaluator").

    Returns
    -------
    Report
        ``valid`` False with every violation when a rule is broken; costs are
        only filled for valid schedules.

    Raises
    ------
    InputError
        ``rules[i]``: something that is no rule (before any check runs); ``batch``: the
        schedule states a batch other than the problem's. A schedule that states none is
        checked against the problem's (R5 lists every step whose windows differ).
    """
    expect(problem, Problem, "problem", "map a network first: map_network(network, hardware)")
    expect(sched, Schedule, "sched", "a dict is read with Schedule.from_dict(doc)")
    checks = as_rules(rules)  # a malformed rule is the caller's error, found first
    n_weighted = len(problem.network.weighted_ops)
    if sched.batch is not None and sched.batch != problem.batch:
        # a schedule's windows are its batch's: evaluated against another batch every step
        # would break R5, so say the cause once
        raise InputError(f"batch: the schedule states batch {sched.batch}, the problem is "
                         f"mapped at batch {problem.batch} (map_network(..., batch="
                         f"{sched.batch}))")
    stated = sched.precision
    if stated is not None and stated != problem.precision:
        # the writes are counted against the problem's precision: say the cause once
        raise InputError(f"precision: the schedule states {describe(stated, n_weighted)}, "
                         f"the problem is mapped at {describe(problem.precision, n_weighted)} "
                         "(problem.with_precision(schedule.precision))")
    idx = _Index(problem, sched)
    violations = _validate(idx)
    if checks:
        violations += run_rules(problem, sched, checks)
    rep = Report(valid=not violations, violations=violations, batch=problem.batch)
    if violations:
        return rep
    hw = problem.hardware
    steps = sched.steps
    makespan = int(idx.end.max()) if steps else 0
    rep.makespan_cycles = makespan
    rep.latency_s = hw.seconds(makespan)
    rep.throughput_inf_s = problem.batch / rep.latency_s if makespan else math.inf
    rep.row_writes = len(sched.writes)
    if not cost:
        rep.pulse_model = "none"
        _wear(rep, RowWear.of(problem, sched))
        return rep
    # Pulses.
    if weights is None and stats is None:
        weights = problem.network.codes
    tile = _tile_index(idx)
    used = _used_cells(idx, tile)
    row_steps = np.zeros(hw.physical_apu_rows)
    if weights is not None:
        fill = zero_code if zero_code is not None else 1 << (hw.weight_bits - 1)
        level_steps, cells, max_row = _exact_pulses(idx, tile, weights, fill, row_steps)
        rep.pulse_model = "weights"
    else:
        if stats is None:
            stats = synthetic_stats([o.name for o in problem.network.weighted_ops], seed)
        level_steps, cells, max_row = _statistical_pulses(idx, tile, used, stats, row_steps)
    _wear(rep, RowWear.of(problem, sched, row_steps))
    rep.level_steps = level_steps
    rep.write_pulses = level_steps * hw.pulses_per_level_step
    rep.cells_written = cells
    rep.max_cell_writes = max_row
    rep.weights_written = int(used.sum())
    # Energy.
    e = rep.energy
    e.rram_write = rep.write_pulses * hw.write_energy_per_pulse_j
    leak = hw.bank_leakage_w()
    spill = 0
    for k, s in enumerate(steps):
        # A step's banks stay powered from the previous step's start until the next step
        # starts, since its output waits there for the consumer (idle gaps included).
        t_from = 0 if k == 0 else steps[k].start
        t_to = steps[k + 1].start if k + 1 < len(steps) else s.end
        power = sum(leak[b] for b in set(s.banks_in) | set(s.banks_out))
        e.gbuffer_static += power * hw.seconds(t_to - t_from)
        ps = problem.by_key[(s.layer, s.part)]
        e.gbuffer_dynamic += (ps.in_bytes * hw.sram_read_energy_j_per_byte
                              + ps.out_bytes * hw.sram_write_energy_j_per_byte)
        if ps.weighted:
            energy = ps.windows * ps.apu_rows * hw.apus_per_row * hw.crossbar_compute_energy_j
            if ps.activation_bits != hw.activation_bits:  # fewer bit-serial iterations
                energy = energy * ps.activation_bits / hw.activation_bits
            e.compute += energy
        else:
            e.compute += ps.macs * hw.digital_mac_energy_j
        spill += ps.spill_bytes
    if bank_mode(sched) == LIVENESS:
        # Banks leak while they hold a live tensor (not per step); spilled tensors travel
        # through DRAM, which includes the tensors of multi-pass steps (all spilled).
        e.gbuffer_static, spill = liveness_costs(problem, sched)
    # Weight deltas travel per written APU; activations of multi-pass steps spill to DRAM.
    e.dram = (len(sched.writes) * hw.apus_per_row * hw.bytes_per_apu_write + spill
              ) * hw.dram_energy_j_per_byte
    rep.energy_per_inference_j = e.total / problem.batch
    # Lifespan.
    rep.endurance_cycles = endurance if endurance is not None else hw.cell_endurance_cycles
    if realtime_inf_s is None:
        has_conv = any(o.kind in ("conv2d", "conv_transpose2d") for o in problem.network.ops)
        realtime_inf_s = 30.0 if has_conv else 100.0
    rep.realtime_inf_s = realtime_inf_s
    if max_row:
        # a cell sees max_row writes per run, and a run serves `batch` inferences
        per_s_rt = max_row * realtime_inf_s / problem.batch
        per_s_max = max_row * rep.throughput_inf_s / problem.batch
        rep.lifespan_realtime_years = rep.endurance_cycles / per_s_rt / SECONDS_PER_YEAR
        rep.lifespan_max_throughput_years = rep.endurance_cycles / per_s_max / SECONDS_PER_YEAR
    else:
        rep.lifespan_realtime_years = rep.lifespan_max_throughput_years = math.inf
    return rep


def _wear(rep: Report, wear: RowWear) -> None:
    rep.rows = wear
    for k, v in wear.summary().items():
        setattr(rep, k, v)


__all__ = ["Violation", "Energy", "Report", "validate", "evaluate", "ceil_div"]
