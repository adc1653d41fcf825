r"""Event model: joint write scheduling and replication, without big-M on time.

Structure used (see ``docs/formulations.md``): computes form a chain in the
problem's compute order; rows are identical, so only how many rows each part
receives at each *release event* matters (the physical binding is done
afterwards); and with memory bandwidth not binding, a write may start at the
release that frees its row without loss. Events are ``e = 0`` (cycle 0, all
``N`` rows free) and the compute end of every weight-bearing step ``j``.

Sets and data: steps ``i`` in compute order with weightless duration
``D_i``; weight-bearing steps ``k`` with ``a_k`` rows at r = 1 and duration
``dur_k(r) = ceil(n_k / r) L`` for ``r`` in a candidate set ``R_k``; ``T``
write latency; ``N`` rows.

Variables: ``y[k,r]`` binary (replication choice); ``x[e,k]`` integer rows
that part ``k`` receives at event ``e < k``; ``v[e,k]`` binary (k draws from
e); ``idle[i] >= 0`` wait before step ``i``.

.. math::

    \sum_r y_{kr} = 1, \qquad \sum_e x_{ek} = a_k \sum_r r\,y_{kr}

    x_{ek} \le a_k r^{max}_k v_{ek}

    \sum_{i=e+1}^{k} idle_i + \sum_{i=e+1}^{k-1} d_i \ \ge\ T\,v_{ek}
    \quad\text{(the time from event e to the start of k covers a write)}

    u_e = u_{e^-} + \sum_k x_{ek} - a_{e-1} \sum_r r\,y_{e-1,r}, \quad 0 \le u_e \le N
    \quad\text{(rows in use after event e; handed-out rows were free)}

    \min\ \sum_i (idle_i + d_i), \qquad d_k = \sum_r dur_k(r)\,y_{kr}

The only linking constant is ``a_k r^max_k <= N`` rows; time needs none,
because ``C_k - E_e`` is a sum of non-negative durations and idles.
With a memory-bandwidth limit ``S < N`` (R6) the rows handed out at events
``e' >= e`` to parts ``k' <= k`` are all written between release ``e`` and
the start of ``k``, at most ``S`` at a time, so with integers ``w[e,k]``::

    S w_{ek} >= sum_{e' >= e, k' <= k} x_{e'k'},    T w_{ek} <= C_k - E_e

which is necessary, not sufficient. The driver does not trust the model's
objective then: it times each solution's decisions with :func:`timing`, which
queues the writes first come, first served exactly as the extraction does,
so the makespan it reports is the evaluator's.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyomo.environ as pyo

from aras.model.assembly import Builder, RowWriter
from aras.model.bandwidth import Bandwidth
from aras.model.mapping import Problem, Step
from aras.model.precision import LayerPrecision
from aras.model.schedule import Schedule


def replication_options(problem: Problem, step: Step, max_options: int = 24) -> list[int]:
    """Candidate replication factors: the smallest r for each distinct compute time,
    thinned geometrically to at most ``max_options`` values (always 1 and the maximum)."""
    rs = problem.replication_choices(step)
    if len(rs) <= max_options:
        return rs
    keep = {rs[0], rs[-1]}
    ratio = (rs[-1] / rs[0]) ** (1 / (max_options - 1))
    target = 1.0
    for r in rs:
        if r >= target:
            keep.add(r)
            target = r * ratio
    return sorted(keep)


@dataclass
class Incumbent:
    """Integer decisions of a schedule in model terms: replication and rows per event, and
    the layers' precision when a family chooses it (None: the problem's)."""

    replication: dict[int, int]                       # step index -> r
    rows_from: dict[tuple[int, int], int] = field(default_factory=dict)  # (event, k) -> rows
    precision: dict[str, LayerPrecision] | None = None


def at_precision(problem: Problem, inc: Incumbent) -> Problem:
    """The problem at the decisions' precision (``problem`` itself when they state none)."""
    if inc.precision is None or inc.precision == problem.precision:
        return problem
    return problem.with_precision(inc.precision)


def events_of(problem: Problem) -> list[int]:
    """Event ids: 0 for cycle 0, then 1 + index of every weight-bearing step."""
    return [0] + [s.index + 1 for s in problem.weighted_steps]


def build(problem: Problem, *, lookback: int = 16, incumbent: Incumbent | None = None,
          options: Mapping[int, Iterable[int]] | None = None) -> pyo.ConcreteModel:
    """Build the event model of the whole problem (its core families, makespan objective).

    The model is that of ``Formulation(problem, default_families(problem), ...)``
    (:mod:`formulations.framework`); use a :class:`~formulations.framework.Formulation` to
    add families, change the objective, solve and extract schedules.

    Parameters
    ----------
    problem
        The mapped network (compute order = ``problem.steps``).
    lookback
        A part may draw rows from the last ``lookback`` weight-bearing events
        (and from cycle 0 while it is among the first ``lookback`` parts);
        events the incumbent uses are always allowed, so it stays feasible.
    incumbent
        Decisions to keep feasible (and to warm-start from).
    options
        Replication candidates per step index (default :func:`replication_options`).
    """
    from formulations.framework import Formulation

    return Formulation(problem, lookback=lookback, incumbent=incumbent,
                       options=options).model


def set_values(m: pyo.ConcreteModel, problem: Problem, inc: Incumbent) -> None:
    """Load an incumbent into the core families' variables (integers and the implied idles)
    of a model built by :func:`build`."""
    from formulations.families import default_families
    from formulations.framework import ModelContext

    ctx = ModelContext.__new__(ModelContext)  # the families read only these from it
    ctx.model, ctx.problem, ctx.steps = m, problem, problem.steps
    ctx.S = problem.hardware.write_slots
    times = timing(problem, inc.replication, inc.rows_from,
                   problem.hardware.write_latency_cycles)
    for f in default_families(problem):
        f.start_values(ctx, inc, times)


def timing(problem: Problem, replication: Mapping[int, int], rows_from: Mapping[tuple[int, int],
           int], T: int) -> dict[str, dict[int, int]]:
    """Earliest (left-shifted) start, end and idle of every step for given decisions.

    The rows a release event hands out are written from the event on; when the memory
    bandwidth caps concurrent writes below the number of rows, they queue first come,
    first served in (event, part) order, exactly as :func:`aras.methods.milp.schedule_from` writes
    them, so the makespan here is the evaluator's makespan of the extracted schedule.
    """
    hw = problem.hardware
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    idle: dict[int, int] = {}
    by_event: dict[int, list[tuple[int, int]]] = {}
    for (e, k), x in sorted(rows_from.items()):
        if x > 0:
            by_event.setdefault(e, []).append((k, x))
    ready: dict[int, int] = {}
    queued = hw.write_slots < hw.total_apu_rows
    bw = Bandwidth(problem)  # the extraction's own write-slot bookkeeping

    def hand_out(e: int, t: int) -> None:
        for k, x in by_event.get(e, []):
            if not queued:
                ready[k] = max(ready.get(k, 0), t + T)
                continue
            for _ in range(x):  # one write slot per row, first come first served
                ready[k] = max(ready.get(k, 0), bw.request(t) + T)

    hand_out(0, 0)
    t = 0
    for s in problem.steps:
        c = max(t, ready.get(s.index, 0)) if s.weighted else t
        start[s.index], idle[s.index] = c, c - t
        end[s.index] = c + problem.compute_cycles(s, replication.get(s.index, 1)
                                                  if s.weighted else 0)
        t = end[s.index]
        if s.weighted:
            hand_out(s.index + 1, t)
    return {"start": start, "end": end, "idle": idle}


def extract(m: pyo.ConcreteModel) -> Incumbent:
    """Integer decisions of a solved model."""
    rep = {}
    for (k, r) in m.KR:
        if pyo.value(m.y[k, r]) > 0.5:
            rep[k] = r
    rows_from = {(e, k): int(round(pyo.value(m.x[e, k]))) for (e, k) in m.EK
                 if pyo.value(m.x[e, k]) > 0.5}
    precision = None
    if hasattr(m, "precision_z"):  # a family chose the layers' bits (formulations.precision)
        precision = {layer: p for (layer, p), var in m.precision_choice.items()
                     if pyo.value(var) > 0.5 and p != m.precision_full}
    return Incumbent(rep, rows_from, precision)


def incumbent_from_schedule(problem: Problem, sched: Schedule) -> Incumbent:
    """Replication and rows per release event of a schedule (writes map to the latest
    release at or before their start). The schedule's compute order must be ``problem``'s."""
    ends = sorted((s.end, problem.by_key[(s.layer, s.part)].index + 1) for s in sched.steps
                  if s.apu_rows)
    times = [0] + [t for t, _ in ends]
    ids = [0] + [e for _, e in ends]
    rep = {problem.by_key[(s.layer, s.part)].index: s.replication for s in sched.steps
           if s.apu_rows}
    inc = Incumbent(rep, precision=sched.precision)
    w = sched.writes
    for layer, part, start in zip(w.layer.tolist(), w.part.tolist(), w.start.tolist(),
                                  strict=True):
        k = problem.by_key[(layer, part)].index
        e = ids[bisect.bisect_right(times, start) - 1]
        if e > k:  # cannot happen in a valid schedule: the row is written before k computes
            e = 0
        inc.rows_from[(e, k)] = inc.rows_from.get((e, k), 0) + 1
    return inc


def schedule_from(problem: Problem, inc: Incumbent, method: str, banks: str = "greedy",
                  builder: type[Builder] = Builder) -> Schedule:
    """A complete schedule from model decisions: rows bound lowest id first at each release,
    writes started at the release (later only if bandwidth forces it), computes left-shifted.

    ``builder`` assembles it (the methods pass theirs, which also knows the ``ilp`` banks).
    The schedule is ``problem``'s at the decisions' precision (:func:`at_precision`).
    """
    problem = at_precision(problem, inc)
    b = builder(problem, method, bank_mode=banks)
    rows = RowWriter(b)
    by_event: dict[int, list[tuple[int, int]]] = {}
    for (e, k), x in sorted(inc.rows_from.items()):
        by_event.setdefault(e, []).append((k, x))

    def hand_out(e: int, t: int) -> None:
        for k, x in by_event.get(e, []):
            rows.write(problem.steps[k], x, t)

    hand_out(0, 0)
    t = 0
    for s in problem.steps:
        if not s.weighted:
            t = b.compute(s, t, 0)
            continue
        t = b.compute(s, max(t, rows.ready[s.index]), inc.replication[s.index])
        rows.release(s)
        hand_out(s.index + 1, t)
    return b.build()
