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

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pyomo.environ as pyo

from aras.model.bandwidth import Bandwidth
from aras.model.mapping import Problem, Step


def replication_options(problem: Problem, step: Step, max_options: int = 24) -> list[int]:
    """Candidate replication factors: the smallest r for each distinct compute time,
    thinned geometrically to at most ``max_options`` values (always 1 and the maximum)."""
    rmax = problem.max_replication(step)
    best: dict[int, int] = {}
    for r in range(1, rmax + 1):
        best.setdefault(problem.compute_cycles(step, r), r)
    rs = sorted(best.values())
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
    """Integer decisions of a schedule in model terms: replication and rows per event."""

    replication: dict[int, int]                       # step index -> r
    rows_from: dict[tuple[int, int], int] = field(default_factory=dict)  # (event, k) -> rows


def events_of(problem: Problem) -> list[int]:
    """Event ids: 0 for cycle 0, then 1 + index of every weight-bearing step."""
    return [0] + [s.index + 1 for s in problem.weighted_steps]


def build(problem: Problem, *, lookback: int = 16, incumbent: Incumbent | None = None,
          options: Mapping[int, Iterable[int]] | None = None) -> pyo.ConcreteModel:
    """Build the event model of the whole problem.

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
    hw = problem.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    steps = problem.steps
    W = [s for s in steps if s.weighted]
    pos = {s.index: n for n, s in enumerate(W)}
    m = pyo.ConcreteModel(name=f"events-{problem.network.name}")
    m.I = pyo.Set(initialize=[s.index for s in steps], ordered=True)
    m.K = pyo.Set(initialize=[s.index for s in W], ordered=True)
    R = {s.index: sorted(set(options[s.index]) if options and s.index in options
                         else replication_options(problem, s)) for s in W}
    if incumbent:
        for k, r in incumbent.replication.items():
            R[k] = sorted(set(R[k]) | {r})
    m.KR = pyo.Set(dimen=2, initialize=[(k, r) for k in R for r in R[k]])
    pairs = []
    for s in W:
        n = pos[s.index]
        ev = [0] if n < lookback else []
        ev += [w.index + 1 for w in W[max(0, n - lookback):n]]
        if incumbent:
            ev += [e for (e, k), x in incumbent.rows_from.items() if k == s.index and x > 0]
        pairs += [(e, s.index) for e in sorted(set(ev))]
    m.EK = pyo.Set(dimen=2, initialize=pairs)
    m.y = pyo.Var(m.KR, domain=pyo.Binary)
    m.x = pyo.Var(m.EK, domain=pyo.NonNegativeIntegers)
    m.v = pyo.Var(m.EK, domain=pyo.Binary)
    m.idle = pyo.Var(m.I, domain=pyo.NonNegativeReals)

    def dur(i: int) -> pyo.Expression | int:
        s = steps[i]
        if not s.weighted:
            return s.fixed_cycles
        return sum(problem.compute_cycles(s, r) * m.y[i, r] for r in R[i])

    def rows(k: int) -> pyo.Expression:
        return steps[k].apu_rows * sum(r * m.y[k, r] for r in R[k])

    m.d = pyo.Expression(m.I, rule=lambda m, i: dur(i))
    m.rows = pyo.Expression(m.K, rule=lambda m, k: rows(k))
    m.choose = pyo.Constraint(m.K, rule=lambda m, k: sum(m.y[k, r] for r in R[k]) == 1)
    into: dict[int, list[int]] = {}
    out_of: dict[int, list[int]] = {}
    for e, k in pairs:
        into.setdefault(k, []).append(e)
        out_of.setdefault(e, []).append(k)
    m.supply = pyo.Constraint(m.K, rule=lambda m, k: sum(m.x[e, k] for e in into[k]) == m.rows[k])
    m.link = pyo.Constraint(
        m.EK, rule=lambda m, e, k: m.x[e, k] <= steps[k].apu_rows * max(R[k]) * m.v[e, k])

    def between(m: pyo.ConcreteModel, e: int, k: int) -> pyo.Expression:
        # Time from release e to the start of k: the idles of the steps strictly after the
        # event's step up to k and the computes of those before k. Step indices are
        # positions in the compute order, so a range suffices.
        first = 0 if e == 0 else e  # e = j + 1 for the end of step j
        steps_between = range(first, k + 1)
        return (sum(m.idle[i] for i in steps_between)
                + sum(m.d[i] for i in steps_between if i < k))

    def gap_rule(m: pyo.ConcreteModel, e: int, k: int) -> pyo.Expression:
        return between(m, e, k) >= T * m.v[e, k]

    m.gap = pyo.Constraint(m.EK, rule=gap_rule)
    events = sorted(events_of(problem))
    m.E = pyo.Set(initialize=events, ordered=True)
    # Rows in use just after event e, as a running balance: handed out at e, freed at e
    # (the end of step e - 1). Its upper bound N is the capacity row of the docs; the
    # balance keeps the model linear in size where prefix sums per event are quadratic
    # (random small hardware splits layers into ~10^4 parts). The lower bound 0 is implied
    # (a part's rows are all handed out before it frees them), so the LP is unchanged.
    m.used = pyo.Var(m.E, bounds=(0, N))

    def balance_rule(m: pyo.ConcreteModel, e: int) -> pyo.Expression:
        prev = m.used[m.E.prev(e)] if e != m.E.first() else 0
        handed = sum(m.x[e, k] for k in out_of.get(e, []))
        freed = m.rows[e - 1] if e > 0 else 0
        return m.used[e] == prev + handed - freed

    m.capacity = pyo.Constraint(m.E, rule=balance_rule)
    if hw.write_slots < N:
        # Bandwidth (R6): at most S rows are written at once and every write lasts T, so
        # the rows handed out at events e' >= e to parts k' <= k, all written between the
        # release e and the start of k, need ceil(H / S) write latencies there. Necessary,
        # not sufficient; the driver times decisions exactly (see :func:`timing`).
        S = hw.write_slots
        m.w = pyo.Var(m.EK, domain=pyo.NonNegativeIntegers)
        later = {(e, k): [(e2, k2) for e2 in range(e, k + 1) for k2 in out_of.get(e2, [])
                          if k2 <= k] for e, k in pairs}
        m._later = later
        m.waves = pyo.Constraint(
            m.EK, rule=lambda m, e, k: S * m.w[e, k] >= sum(m.x[p] for p in later[(e, k)]))
        m.bandwidth = pyo.Constraint(
            m.EK, rule=lambda m, e, k: between(m, e, k) >= T * m.w[e, k])
    m.makespan = pyo.Objective(expr=sum(m.idle[i] + m.d[i] for i in m.I), sense=pyo.minimize)
    m._R = R  # candidate sets, for extraction and warm starts
    return m


def set_values(m: pyo.ConcreteModel, problem: Problem, inc: Incumbent) -> None:
    """Load an incumbent into the model's variables (integers and the implied idles)."""
    T = problem.hardware.write_latency_cycles
    for (k, r) in m.KR:
        m.y[k, r].set_value(1 if inc.replication[k] == r else 0)
    for (e, k) in m.EK:
        x = inc.rows_from.get((e, k), 0)
        m.x[e, k].set_value(x)
        m.v[e, k].set_value(1 if x > 0 else 0)
    handed: dict[int, int] = {}
    for (ev, _), x in inc.rows_from.items():
        handed[ev] = handed.get(ev, 0) + x
    used = 0
    for e in m.E:
        used += handed.get(e, 0)
        if e > 0:
            used -= problem.steps[e - 1].apu_rows * inc.replication[e - 1]
        m.used[e].set_value(used)
    if hasattr(m, "w"):
        S = problem.hardware.write_slots
        for (e, k) in m.EK:
            h = sum(inc.rows_from.get(p, 0) for p in m._later[(e, k)])
            m.w[e, k].set_value(math.ceil(h / S))
    times = timing(problem, inc.replication, inc.rows_from, T)
    for i in m.I:
        m.idle[i].set_value(times["idle"][i])


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
    return Incumbent(rep, rows_from)
