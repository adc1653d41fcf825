r"""Resident layers chosen jointly with the replication of the streamed ones (steady state).

For periodic schedules (docs/model.md, "Periodic schedules") each part ``k`` (``a_k`` rows,
compute ``d_k(r)`` at replication ``r``) is either streamed (written every period) or
resident (written once; every part of a layer alike), at one replication from a candidate
set ``R_k``. With binaries ``x[k, r]`` (streamed at ``r``), ``y[k, r]`` (resident at ``r``),
``z[l]`` (layer ``l`` resident) and the period ``P``::

    minimise    P + omega * sum x[k, r] r a_k                 (period, written rows)
    subject to  sum_r x[k, r] + y[k, r] = 1                   for all k
                sum_r y[k, r] = z[layer(k)]                   for all k
                P >= sum_k sum_r (x + y)[k, r] d_k(r) + F     (computes, R4p; F: weightless)
                P >= (T + d_k(r)) x[k, r]                     for all k, r (a hold fits P)
                N P - sum r a_k u[k, r] >= sum x[k, r] r a_k (T + d_k(r))     (row-cycles)
                u[k, r] = y[k, r] P   (exact for binary y: u <= P_hi y, u <= P,
                                       u >= P - P_hi (1 - y), u >= 0)
                sum y[k, r] r a_k <= N                        (resident rows)
                sum y r a + r a_k x[k, r] <= N                for all k, r (a streamed part
                                                              fits beside the residents)
                S P >= sum x[k, r] r a_k T                    (bandwidth, when S < N)

These are the periodic compute and area bounds of one choice (docs/bounds.md, "Periodic
bound"); the model is a planning estimate, not the schedule: the chosen factors and resident
layers are placed by :func:`aras.methods.heuristics.steady.shortest_period` and costed by the
periodic evaluator, never taken from the solver's word. ``omega`` (cycles per written row)
trades period for write energy; a tiny default breaks ties towards fewer writes. HiGHS runs
single-threaded with a seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyomo.environ as pyo

from aras.model.mapping import Problem
from formulations.solvers import Session

__all__ = ["ResidentChoice", "build", "choose"]


@dataclass
class ResidentChoice:
    """What the MILP chose, and how the solve went."""

    reps: dict[int, int] = field(default_factory=dict)
    resident: frozenset[str] = frozenset()
    status: str = ""
    objective: float | None = None
    bound: float | None = None
    variables: int = 0
    constraints: int = 0
    runtime_s: float = 0.0
    messages: list[str] = field(default_factory=list)
    #: the solver's failure in its own words (error, unbounded), else empty
    solver_error: str = ""


def _candidates(problem: Problem, k: int) -> list[int]:
    s = problem.steps[k]
    rmax = max(1, min(problem.max_replication(s), problem.hardware.write_slots // s.apu_rows
                      or 1))
    out = {1, rmax}
    r = 2
    while r < rmax:
        out.add(r)
        r *= 2
    # factors where the compute shortens (ceil(w / r) changes): a few below rmax too
    return sorted(out)


def build(problem: Problem, omega: float = 1e-3, p_hi: int | None = None
          ) -> pyo.ConcreteModel:
    """The model above for a mapped problem (``p_hi``: an upper bound on the period, e.g. a
    heuristic's; default the serial schedule)."""
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    ws = problem.weighted_steps
    fixed = sum(s.fixed_cycles for s in problem.steps if not s.weighted)
    if p_hi is None:
        p_hi = sum(T + problem.compute_cycles(s, 1) for s in ws) + fixed
    m = pyo.ConcreteModel("resident")
    pairs = [(s.index, r) for s in ws for r in _candidates(problem, s.index)]
    d = {(k, r): problem.compute_cycles(problem.steps[k], r) for k, r in pairs}
    a = {s.index: s.apu_rows for s in ws}
    layers = sorted({s.layer for s in ws})
    m.KR = pyo.Set(initialize=pairs, dimen=2)
    m.K = pyo.Set(initialize=[s.index for s in ws])
    m.L = pyo.Set(initialize=layers)
    m.x = pyo.Var(m.KR, domain=pyo.Binary)
    m.y = pyo.Var(m.KR, domain=pyo.Binary)
    m.z = pyo.Var(m.L, domain=pyo.Binary)
    m.u = pyo.Var(m.KR, bounds=(0, p_hi))
    m.P = pyo.Var(bounds=(0, p_hi))
    by_k: dict[int, list[int]] = {}
    for k, r in pairs:
        by_k.setdefault(k, []).append(r)
    m.one = pyo.Constraint(m.K, rule=lambda m, k: sum(m.x[k, r] + m.y[k, r]
                                                      for r in by_k[k]) == 1)
    m.same = pyo.Constraint(m.K, rule=lambda m, k: sum(m.y[k, r] for r in by_k[k])
                            == m.z[problem.steps[k].layer])
    m.compute = pyo.Constraint(expr=sum((m.x[k, r] + m.y[k, r]) * d[k, r]
                                               for k, r in pairs) + fixed <= m.P)
    m.hold = pyo.Constraint(m.KR, rule=lambda m, k, r: (T + d[k, r]) * m.x[k, r] <= m.P)
    m.u_hi = pyo.Constraint(m.KR, rule=lambda m, k, r: m.u[k, r] <= p_hi * m.y[k, r])
    m.u_p = pyo.Constraint(m.KR, rule=lambda m, k, r: m.u[k, r] <= m.P)
    m.u_lo = pyo.Constraint(m.KR, rule=lambda m, k, r: m.u[k, r]
                            >= m.P - p_hi * (1 - m.y[k, r]))
    m.area = pyo.Constraint(expr=N * m.P - sum(r * a[k] * m.u[k, r] for k, r in pairs)
                            >= sum(m.x[k, r] * r * a[k] * (T + d[k, r]) for k, r in pairs))
    m.R = pyo.Var(bounds=(0, N))  # resident rows
    m.rows = pyo.Constraint(expr=sum(m.y[k, r] * r * a[k] for k, r in pairs) == m.R)
    # every streamed part's rows fit beside the resident ones
    m.fit = pyo.Constraint(m.KR, rule=lambda m, k, r: m.R + r * a[k] * m.x[k, r] <= N)
    if S < N:
        m.bw = pyo.Constraint(expr=sum(m.x[k, r] * r * a[k] * T for k, r in pairs) <= S * m.P)
    # scaled to write latencies, so that the objective's magnitudes stay near 1
    m.obj = pyo.Objective(expr=(m.P + omega * T * sum(m.x[k, r] * r * a[k] for k, r in pairs))
                          / T, sense=pyo.minimize)
    return m


def choose(problem: Problem, *, omega: float = 1e-3, time_limit: float = 10.0, seed: int = 0,
           p_hi: int | None = None) -> ResidentChoice:
    """Solve the model with HiGHS and read the choice (factors by step index, resident layers).

    On a time limit the incumbent is used; without one the choice is empty (``reps`` empty:
    the caller keeps its heuristic)."""
    info = ResidentChoice()
    t0 = time.perf_counter()
    m = build(problem, omega, p_hi)
    info.variables, info.constraints = m.nvariables(), m.nconstraints()
    out = Session(m).solve(time_limit=max(0.1, time_limit), threads=1, seed=seed)
    info.status = out.termination
    info.bound = out.bound
    if out.failed:
        info.solver_error = out.describe()
        info.messages.append(f"resident MILP failed: {info.solver_error}")
    if not out.has_solution:
        if not info.solver_error:
            info.messages.append(f"resident MILP: no incumbent ({info.status})")
        info.runtime_s = time.perf_counter() - t0
        return info
    info.objective = out.objective
    for k, r in m.KR:
        if (m.x[k, r].value or 0) > 0.5 or (m.y[k, r].value or 0) > 0.5:
            info.reps[k] = r
    info.resident = frozenset(layer for layer in m.L if (m.z[layer].value or 0) > 0.5)
    missing = [s.index for s in problem.weighted_steps if s.index not in info.reps]
    if missing:  # never trust the solver: a part without a factor falls back to 1
        info.messages.append(f"resident MILP: {len(missing)} part(s) without a factor, set to 1")
        for k in missing:
            info.reps[k] = 1
    info.runtime_s = time.perf_counter() - t0
    return info
