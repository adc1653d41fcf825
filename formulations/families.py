r"""The constraint families of the event model, and families research code adds to it.

The event model (``docs/formulations.md``) is the union of six core families; each declares
its components as quantities under these names (``model.<name>``):

===============  ========================================================================
family           quantities
===============  ========================================================================
``replication``  ``y[k,r]`` binary replication choice, ``choose[k]``, ``d[i]`` compute
                 cycles of step ``i``, ``rows[k]`` APU rows part ``k`` holds, ``rows_written``,
                 ``row_wear`` and ``cells_written`` (per inference), ``write_energy_estimate``
                 (joules)
``row_supply``   ``x[e,k]`` rows part ``k`` receives at release event ``e``, ``v[e,k]``
                 binary ``k`` draws from ``e``, ``supply[k]`` (R1), ``link[e,k]``
``timing``       ``idle[i]`` wait before step ``i``, ``makespan`` (cycles)
``write_cover``  ``gap[e,k]``: the time from release ``e`` to the start of ``k`` covers a
                 write (R3)
``row_balance``  ``used[e]`` rows in use after event ``e`` (``0..N``), ``capacity[e]`` (R2)
``write_slots``  ``w[e,k]`` write waves, ``waves[e,k]``, ``bandwidth[e,k]`` (R6; only when
                 fewer rows than ``N`` may be written at once)
===============  ========================================================================

Families a study adds: :class:`ReplicationCap` (a layer's copies), :class:`WriteCap` (rows
written at once: a power cap tighter than the memory bandwidth), :class:`WritePowerCap` (the
same cap stated in watts) and :class:`RowsWrittenCap` (a budget of row writes per
inference). Each carries the rule the evaluator checks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo

from aras.model.errors import InputError
from aras.model.limits import integer, number
from aras.model.mapping import Problem
from formulations.framework import FAMILIES, Family, ModelContext
from formulations.objectives import cells_of

if TYPE_CHECKING:
    from aras.model.schedule import Schedule
    from formulations.window import Incumbent

__all__ = [
    "Replication", "RowSupply", "Timing", "WriteCover", "RowBalance", "WriteSlots",
    "ReplicationCap", "WriteCap", "WritePowerCap", "RowsWrittenCap", "default_families",
    "CORE_FAMILIES",
]


class Replication(Family):
    """One replication per part from its candidates; durations and rows follow (R1, R5)."""

    name = "replication"
    exact = True

    def build(self, ctx: ModelContext) -> None:
        m, problem, R, steps = ctx.model, ctx.problem, ctx.R, ctx.steps
        ctx.add("y", pyo.Var(m.KR, domain=pyo.Binary),
                "y[k,r] = 1: part k uses replication r (binary)")

        def dur(i: int) -> Any:
            s = steps[i]
            if not s.weighted:
                return s.fixed_cycles
            return sum(problem.compute_cycles(s, r) * m.y[i, r] for r in R[i])

        ctx.add("d", pyo.Expression(m.I, rule=lambda m, i: dur(i)),
                "d[i]: compute cycles of step i")
        ctx.add("rows", pyo.Expression(
            m.K, rule=lambda m, k: steps[k].apu_rows * sum(r * m.y[k, r] for r in R[k])),
            "rows[k]: APU rows part k holds (a_k x its replication)")
        ctx.add("choose", pyo.Constraint(m.K, rule=lambda m, k: sum(m.y[k, r] for r in R[k])
                                         == 1))
        ctx.add("rows_written", pyo.Expression(expr=sum(m.rows[k] for k in m.K)),
                "APU-row writes of one inference")
        ctx.add("row_wear", pyo.Expression(expr=m.rows_written / ctx.N),
                "writes per APU row per inference under a full rotation of the binding")
        cells = {s.index: cells_of(problem, s) for s in ctx.W}
        ctx.add("cells_written", pyo.Expression(
            expr=sum(cells[k] * sum(r * m.y[k, r] for r in R[k]) for k in m.K)),
            "ReRAM cells holding a weight, summed over every write")
        per_cell = _energy_per_cell(problem)
        ctx.add("write_energy_estimate", pyo.Expression(
            expr=sum(per_cell[steps[k].layer] * cells[k] * sum(r * m.y[k, r] for r in R[k])
                     for k in m.K)),
            "RRAM write energy in joules, estimated from cells written")

    def start_values(self, ctx: ModelContext, inc: Incumbent, times: Any) -> None:
        m = ctx.model
        for (k, r) in m.KR:
            m.y[k, r].set_value(1 if inc.replication[k] == r else 0)


class RowSupply(Family):
    """Every part receives its rows from release events (R1): ``sum_e x[e,k] = rows[k]``."""

    name = "row_supply"
    requires = ("replication",)
    exact = True

    def build(self, ctx: ModelContext) -> None:
        m = ctx.model
        ctx.add("x", pyo.Var(m.EK, domain=pyo.NonNegativeIntegers),
                "x[e,k]: rows part k receives at release event e")
        ctx.add("v", pyo.Var(m.EK, domain=pyo.Binary), "v[e,k] = 1: part k draws from e")
        ctx.add("supply", pyo.Constraint(
            m.K, rule=lambda m, k: sum(m.x[e, k] for e in ctx.into[k]) == m.rows[k]))
        ctx.add("link", pyo.Constraint(
            m.EK, rule=lambda m, e, k: m.x[e, k] <= ctx.max_rows[k] * m.v[e, k]))

    def start_values(self, ctx: ModelContext, inc: Incumbent, times: Any) -> None:
        m = ctx.model
        for (e, k) in m.EK:
            x = inc.rows_from.get((e, k), 0)
            m.x[e, k].set_value(x)
            m.v[e, k].set_value(1 if x > 0 else 0)


class Timing(Family):
    """Computes form a chain in the compute order; ``makespan = sum_i (idle_i + d_i)``."""

    name = "timing"
    requires = ("replication",)
    exact = True

    def build(self, ctx: ModelContext) -> None:
        m = ctx.model
        ctx.add("idle", pyo.Var(m.I, domain=pyo.NonNegativeReals),
                "idle[i]: cycles step i waits after its predecessor's end")
        ctx.add("makespan", pyo.Expression(expr=sum(m.idle[i] + m.d[i] for i in m.I)),
                "cycles from cycle 0 to the last compute's end")

    def start_values(self, ctx: ModelContext, inc: Incumbent, times: Any) -> None:
        m = ctx.model
        for i in m.I:
            m.idle[i].set_value(times["idle"][i])


class WriteCover(Family):
    """The time from a release to the start of the part it feeds covers a write (R3), with
    no big-M on time: the left side is a sum of non-negative idles and durations."""

    name = "write_cover"
    requires = ("row_supply", "timing")
    exact = True

    def build(self, ctx: ModelContext) -> None:
        T = ctx.T
        ctx.add("gap", pyo.Constraint(
            ctx.model.EK, rule=lambda m, e, k: ctx.between(e, k) >= T * m.v[e, k]))


class RowBalance(Family):
    """Rows handed out at a release were free (R2), as a running balance ``used[e]``."""

    name = "row_balance"
    requires = ("row_supply",)
    exact = True

    def build(self, ctx: ModelContext) -> None:
        m = ctx.model
        # A running balance keeps the model linear in size where prefix sums per event are
        # quadratic (tiny hardware splits layers into ~10^4 parts). Its lower bound 0 is
        # implied (a part's rows are handed out before it frees them), so the LP is unchanged.
        ctx.add("used", pyo.Var(m.E, bounds=(0, ctx.N)),
                "used[e]: APU rows in use just after event e")

        def balance_rule(m: pyo.ConcreteModel, e: int) -> Any:
            prev = m.used[m.E.prev(e)] if e != m.E.first() else 0
            handed = sum(m.x[e, k] for k in ctx.out_of.get(e, []))
            freed = m.rows[e - 1] if e > 0 else 0
            return m.used[e] == prev + handed - freed

        ctx.add("capacity", pyo.Constraint(m.E, rule=balance_rule))

    def start_values(self, ctx: ModelContext, inc: Incumbent, times: Any) -> None:
        from formulations.window import at_precision

        m, steps = ctx.model, at_precision(ctx.problem, inc).steps
        handed: dict[int, int] = {}
        for (ev, _), x in inc.rows_from.items():
            handed[ev] = handed.get(ev, 0) + x
        used = 0
        for e in m.E:
            used += handed.get(e, 0)
            if e > 0:
                used -= steps[e - 1].apu_rows * inc.replication[e - 1]
            m.used[e].set_value(used)


class WriteSlots(Family):
    """At most ``S`` rows are written at once (R6), as write waves (necessary, not
    sufficient; the drivers time decisions exactly, writes queued first come, first served).

    The rows handed out at events ``e' >= e`` to parts ``k' <= k`` are all written between
    release ``e`` and the start of ``k``, at most ``S`` at a time, each for ``T``:
    ``S w[e,k] >= sum x`` and ``T w[e,k] <= C_k - E_e``. Nothing is added when every row
    may be written at once.
    """

    name = "write_slots"
    requires = ("row_supply", "timing")
    exact = True

    def build(self, ctx: ModelContext) -> None:
        if ctx.S >= ctx.N:
            return
        m, S, T = ctx.model, ctx.S, ctx.T
        ctx.add("w", pyo.Var(m.EK, domain=pyo.NonNegativeIntegers),
                "w[e,k]: write waves between release e and the start of k")
        later = {(e, k): [(e2, k2) for e2 in range(e, k + 1) for k2 in ctx.out_of.get(e2, [])
                          if k2 <= k] for e, k in ctx.pairs}
        m._later = later
        ctx.add("waves", pyo.Constraint(
            m.EK, rule=lambda m, e, k: S * m.w[e, k] >= sum(m.x[p] for p in later[(e, k)])))
        ctx.add("bandwidth", pyo.Constraint(
            m.EK, rule=lambda m, e, k: ctx.between(e, k) >= T * m.w[e, k]))

    def start_values(self, ctx: ModelContext, inc: Incumbent, times: Any) -> None:
        m = ctx.model
        if not hasattr(m, "w"):
            return
        for (e, k) in m.EK:
            h = sum(inc.rows_from.get(p, 0) for p in m._later[(e, k)])
            m.w[e, k].set_value(math.ceil(h / ctx.S))


#: The event model's families, in build order.
CORE_FAMILIES = ("replication", "row_supply", "timing", "write_cover", "row_balance",
                 "write_slots")


def default_families(problem: Problem | None = None, *,
                     without: Iterable[str] = ()) -> list[Family]:
    """The event model's core families (R1-R3, R5, R6 and the makespan).

    Parameters
    ----------
    problem
        Accepted for symmetry with user factories; the core families need none.
    without
        Names of core families to leave out (e.g. ``("write_slots",)`` to relax R6).

    Raises
    ------
    InputError
        When ``without`` names a family that is not a core family.
    """
    drop = set(without)
    unknown = drop - set(CORE_FAMILIES)
    if unknown:
        raise InputError(f"without: unknown core families {sorted(unknown)} (known: "
                         f"{', '.join(CORE_FAMILIES)})")
    made = [Replication(), RowSupply(), Timing(), WriteCover(), RowBalance(), WriteSlots()]
    return [f for f in made if f.name not in drop]


# ------------------------------------------------------------------ families to add


def _energy_per_cell(problem: Problem) -> dict[str, float]:
    """Expected write energy per written cell of each layer under the statistical pulse
    model: the mean level steps of a weight of the layer overwriting one of any layer,
    per cell, times the energy of one pulse (an estimate: the evaluator counts pulses
    against the rows' real previous contents)."""
    from aras.model.precision import cells_per_weight, weight_bits_of
    from aras.model.weights import pair_costs, step_distributions, synthetic_stats

    hw = problem.hardware
    layers = list(dict.fromkeys(s.layer for s in problem.weighted_steps))
    if not layers:
        return {}
    stats = synthetic_stats([op.name for op in problem.network.ops])
    bits = weight_bits_of(problem)
    ids, pmfs = step_distributions([(name, None) for name in layers], stats,
                                   1 << hw.weight_bits, bits)
    steps, _ = pair_costs(pmfs, hw)
    per_weight = np.asarray(steps).mean(axis=0)  # over the previous content's layer
    return {name: float(per_weight[ids[n]])
            / cells_per_weight(bits.get(name, hw.weight_bits), hw)
            * hw.write_energy_per_pulse_j for n, name in enumerate(layers)}


def _layer_steps(problem: Problem, layer: str, who: str) -> list[Any]:
    steps = [s for s in problem.weighted_steps if s.layer == layer]
    if not steps:
        known = sorted({s.layer for s in problem.weighted_steps})
        raise InputError(f"families: {who}: no weight-bearing layer '{layer}' (e.g. "
                         f"{', '.join(known[:5])})")
    return steps


class ReplicationCap(Family):
    """At most ``max_replication`` copies of every part of ``layer``.

    The problem's :meth:`~aras.model.mapping.Problem.max_replication` of the layer is capped
    (:meth:`tighten`), so heuristics, replication candidates and bounds all know the cap; the
    model also fixes ``y[k,r] = 0`` for larger ``r`` of any candidate a start brought in. A
    start that uses more copies is repaired by writing fewer copies of the same rows, which
    keeps R2 (the rows are handed out and freed in the same events, fewer of them).

    Parameters
    ----------
    layer
        A weight-bearing layer's name.
    max_replication
        Copies allowed (>= 1).
    """

    requires = ("replication",)
    exact = True

    def __init__(self, layer: str, max_replication: int):
        self.layer = layer
        self.max_replication = integer(max_replication, "max_replication", lo=1)
        self.name = f"replication_cap({layer})"

    def layers(self) -> list[str]:
        return [self.layer]

    def tighten(self, problem: Problem) -> Problem:
        _layer_steps(problem, self.layer, self.name)
        return problem.with_replication_caps({self.layer: self.max_replication})

    def build(self, ctx: ModelContext) -> None:
        ks = [s.index for s in _layer_steps(ctx.problem, self.layer, self.name)]
        over = [(k, r) for k in ks for r in ctx.R[k] if r > self.max_replication]
        ctx.add(f"replication_cap_{_ident(self.layer)}", pyo.Constraint(
            over, rule=lambda m, k, r: m.y[k, r] == 0) if over else pyo.ConstraintList())

    def check(self, problem: Problem, schedule: Schedule) -> Iterable[str]:
        for s in schedule.steps:
            if s.layer == self.layer and s.replication > self.max_replication:
                yield (f"{s.layer}#{s.part} runs {s.replication} copies, at most "
                       f"{self.max_replication} allowed")

    def repair(self, problem: Problem, inc: Incumbent) -> Incumbent | None:
        from formulations.window import Incumbent

        out = Incumbent(dict(inc.replication), dict(inc.rows_from))
        for s in _layer_steps(problem, self.layer, self.name):
            k = s.index
            r = inc.replication.get(k, 1)
            if r <= self.max_replication:
                continue
            # the fastest allowed replication: compute cycles never grow with r
            out.replication[k] = self.max_replication
            extra = s.apu_rows * (r - self.max_replication)
            # hand out fewer rows, taking them off the latest releases first (those are the
            # releases whose rows are most likely to be needed by the parts after k)
            for e in sorted((e for (e, kk) in out.rows_from if kk == k), reverse=True):
                take = min(extra, out.rows_from[(e, k)])
                out.rows_from[(e, k)] -= take
                extra -= take
                if out.rows_from[(e, k)] == 0:
                    del out.rows_from[(e, k)]
                if extra == 0:
                    break
        return out


def _ident(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def hardware_with_write_cap(problem: Problem, rows: int) -> Problem:
    """``problem`` on hardware whose R6 limit is ``min(write slots, rows)`` rows at once.

    The memory bandwidth is lowered to exactly the bandwidth that allows ``rows`` rows (the
    only figure bandwidth sets in the model is that limit, MODEL.md section 2), so every
    heuristic, the exact timing and every bound see the cap.
    """
    hw = problem.hardware
    if rows >= hw.write_slots:
        return problem
    write_s = hw.write_latency_cycles / hw.frequency_hz
    bw = rows * hw.apus_per_row * hw.bytes_per_apu_write / write_s
    new = hw.replace(memory_bandwidth_bytes_s=bw)
    # float rounding may land one row short or over; nudge to the exact count
    for _ in range(4):
        if new.max_concurrent_row_writes == rows:
            break
        bw *= 1 + 1e-12 if new.max_concurrent_row_writes < rows else 1 - 1e-12
        new = hw.replace(memory_bandwidth_bytes_s=bw)
    if new.max_concurrent_row_writes != rows:
        raise InputError(f"rows: cannot state a cap of {rows} concurrent row writes on this "
                         "hardware")
    return dataclasses.replace(problem, hardware=new, _remapped={})


def max_concurrent_writes(problem: Problem, schedule: Schedule) -> tuple[int, int]:
    """The most APU-row writes in progress at one instant, and the first cycle it happens."""
    T = problem.hardware.write_latency_cycles
    starts = np.sort(np.asarray(schedule.writes.start, dtype=np.int64))
    if len(starts) == 0:
        return 0, 0
    # writes in progress at a write's start t: those started in (t - T, t]
    hi = np.searchsorted(starts, starts, side="right")
    lo = np.searchsorted(starts, starts - T, side="right")
    load = hi - lo
    i = int(np.argmax(load))
    return int(load[i]), int(starts[i])


class WriteCap(Family):
    """At most ``rows`` APU rows written at once: a write-power cap tighter than the memory
    bandwidth.

    Every write lasts ``T`` cycles, so a cap on concurrent writes is a number of write
    channels, which is what R6 states with the bandwidth's channel count. The family lowers
    that count (:meth:`tighten`): the core ``write_slots`` family then states the cap as write
    waves, starts come from heuristics that keep it, the drivers' exact timing queues writes on
    ``rows`` channels, and every lower bound of the tightened problem knows it. The rule checks
    the schedule's writes directly.

    Parameters
    ----------
    rows
        Rows that may be in the middle of a write at one instant (>= 1).
    """

    requires = ("write_slots",)
    exact = True

    def __init__(self, rows: int):
        self.rows = integer(rows, "rows", lo=1)
        self.name = f"write_cap({rows})"

    def tighten(self, problem: Problem) -> Problem:
        return hardware_with_write_cap(problem, self.rows)

    def check(self, problem: Problem, schedule: Schedule) -> Iterable[str]:
        most, at = max_concurrent_writes(problem, schedule)
        if most > self.rows:
            yield f"{most} APU rows are written at once at cycle {at:,}, at most {self.rows}"


class WritePowerCap(WriteCap):
    """Write power at most ``watts``: the cap of :class:`WriteCap` in watts.

    One APU row's write draws its cells' share of write energy over ``T``: the energy of
    ``level_steps_per_cell`` pulses on every cell of its ``apus_per_row`` crossbars (the
    default 1.5 steps is above the mean distance of two independent uniform 2-bit levels,
    1.25, for the wider distributions of real layers; give your own), so
    ``rows = floor(watts / row_power)``.

    Parameters
    ----------
    watts
        Write power cap in watts (> 0).
    level_steps_per_cell
        Mean level steps one write applies to a cell.
    """

    def __init__(self, watts: float, level_steps_per_cell: float = 1.5):
        self.watts = number(watts, "watts", lo=0, lo_open=True)
        self.level_steps_per_cell = number(level_steps_per_cell, "level_steps_per_cell", lo=0,
                                           lo_open=True)
        self.rows = 0
        self.name = f"write_power_cap({watts:g} W)"

    def row_power_w(self, problem: Problem) -> float:
        """Power of one APU row's write in watts."""
        hw = problem.hardware
        cells = hw.apus_per_row * hw.crossbar_rows * hw.crossbar_cols
        energy = cells * self.level_steps_per_cell * hw.write_energy_per_pulse_j
        return energy / hw.seconds(hw.write_latency_cycles)

    def tighten(self, problem: Problem) -> Problem:
        self.rows = int(math.floor(self.watts / self.row_power_w(problem) + 1e-9))
        if self.rows < 1:
            raise InputError(f"watts: {self.watts:g} W cannot write even one APU row "
                             f"({self.row_power_w(problem):.3g} W)")
        return hardware_with_write_cap(problem, self.rows)


class RowsWrittenCap(Family):
    """At most ``rows`` APU-row writes per inference (a write-energy or endurance budget).

    Parameters
    ----------
    rows
        Row writes allowed per inference.
    """

    requires = ("replication",)
    exact = True

    def __init__(self, rows: int):
        self.rows = integer(rows, "rows", lo=0)
        self.name = f"rows_written_cap({rows})"

    def build(self, ctx: ModelContext) -> None:
        ctx.add("rows_written_cap", pyo.Constraint(
            expr=ctx.model.rows_written <= self.rows))

    def check(self, problem: Problem, schedule: Schedule) -> Iterable[str]:
        n = len(schedule.writes)
        if n > self.rows:
            yield f"{n:,} APU-row writes, at most {self.rows:,} allowed"

    def repair(self, problem: Problem, inc: Incumbent) -> Incumbent | None:
        # fewest rows: every part at replication 1 (each part's rows from its releases)
        out = inc
        for s in problem.weighted_steps:
            out = ReplicationCap(s.layer, 1).repair(problem, out) or out
        return out


def _register() -> None:
    # the classes themselves: family_from_spec builds a Family subclass from the options
    # alone, so a missing or unknown option is the class's own TypeError
    FAMILIES.update({"replication_cap": ReplicationCap, "write_cap": WriteCap,
                     "write_power_cap": WritePowerCap, "rows_written_cap": RowsWrittenCap})
    for f in default_families():
        FAMILIES[f.name] = (lambda cls: lambda problem=None: cls())(type(f))
    FAMILIES["precision"] = _precision


def _precision(problem: Problem | None = None, **options: Any) -> Family:
    """``precision sensitivity=FILE budget=X ...``: :class:`formulations.precision.Precision`
    from a per-layer error table (imported on use)."""
    from formulations.precision import _factory

    return _factory(problem, **options)


_register()


def families_from(specs: Sequence[Family | str | Mapping[str, Any]] | None, problem: Problem,
                  ) -> list[Family]:
    """Families from objects, names or ``{"family": name, **options}`` tables, with the
    core families added unless the list names them (a study file's ``families``).

    Raises
    ------
    InputError
        Naming ``families`` for an unknown family or bad options.
    """
    from formulations.framework import family_from_spec

    if specs is not None and (isinstance(specs, Family | str | Mapping)
                              or not isinstance(specs, Sequence)):
        raise InputError(f"families: expected a list of families, got {type(specs).__name__}")
    out: list[Family] = []
    for spec in specs or []:
        if isinstance(spec, Family):
            out.append(spec)
        elif isinstance(spec, str):
            out.append(family_from_spec(spec, problem))
        elif isinstance(spec, Mapping) and isinstance(spec.get("family"), str):
            opts = {k: v for k, v in spec.items() if k != "family"}
            try:
                out.append(family_from_spec(spec["family"], problem, **opts))
            except TypeError as exc:
                raise InputError(f"families: {spec['family']}: {exc}") from None
        else:
            raise InputError(f"families: each entry must be a Family, a name or a table with "
                             f"'family', got {spec!r}")
    names = {f.name for f in out}
    core = [f for f in default_families() if f.name not in names]
    return core + out
