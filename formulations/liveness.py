r"""Liveness-aware Gbuffer bank assignment as a MILP, a post-pass on a timed schedule.

The timing and the compute order come from the given schedule (like the row binding of
:mod:`formulations.binding`); only the banks change. Every activation tensor :math:`t`
(network inputs included) is either *resident*, on a set of banks it keeps from its
producer's first step to its last consumer's last step, or *spilled* to DRAM, in which case it
is in the Gbuffer only during the steps that touch it, on per-step banks (R8 as written). The
lifetimes (schedule positions ``first_t .. last_t`` and cycles ``[t0_t, t1_t)``) come from
:func:`aras.evaluation.liveness.tensors_of`. Notation (``docs/formulations.md`` has the same):

- :math:`B` banks, size :math:`s_b`, leakage :math:`\ell_b` (W); :math:`g = \gcd_b s_b`;
- :math:`T` tensors that may be resident; tensors of multi-pass steps (:math:`F`) are
  spilled by definition; :math:`n_t` bytes, :math:`d_t = t1_t - t0_t` seconds,
  :math:`m_t` spilled DRAM bytes (:attr:`aras.evaluation.liveness.Tensor.spill_traffic`);
- :math:`K` steps in schedule order, :math:`\delta_k` compute seconds, :math:`I_k` its
  distinct input tensors, :math:`o_k` its output tensor, :math:`L_k = \{t \in T:
  first_t \le k \le last_t\}` the tensors live at step ``k``.

Binaries :math:`x_{tb}` (resident ``t`` on bank ``b``), :math:`s_t` (``t`` spilled),
:math:`z^{in}_{kb}` and :math:`z^{out}_{kb}` (bank ``b`` holds step ``k``'s spilled inputs /
spilled output during the step)::

    min  sum_{t,b} l_b d_t x[t,b] + sum_{k,b} l_b delta_k (zi[k,b] + zo[k,b])
         + e_dram (sum_t m_t s[t] + sum_{t in F} m_t)
    s.t. sum_b (s_b/g) x[t,b] + (n_t/g) s[t] >= n_t/g           t in T   (resident fits)
         x[t,b] + s[t] <= 1                                     t, b     (spilled: no banks)
         sum_b (s_b/g) zi[k,b] >= sum_{t in I_k} (n_t/g) s[t]   k        (spilled inputs fit)
         sum_b (s_b/g) zo[k,b] >= (n_{o_k}/g) s[o_k]            k        (spilled output fits)
         zi[k,b] <= sum_{t in I_k} s[t],  zo[k,b] <= s[o_k]      k, b     (only when spilled;
                                                                          omitted where F is)
         sum_{t in L_k} x[t,b] + zi[k,b] + zo[k,b] <= 1          k, b     (one holder per bank)

with :math:`s_t = 1` fixed for :math:`t \in F`; for a multi-pass step (all its tensors in
:math:`F`) the per-pass bytes ``Step.in_need`` / ``Step.out_need`` are on the right of the two
spill covers, and a step without inputs has ``zi[k,.] = 0``. The last family is a clique
inequality of the interval graph of lifetimes; the maximal cliques of an interval graph are
among the sets :math:`L_k`, so these rows say exactly "two tensors live at one step never
share a bank". There is no big-M: every constant is a byte count or a bound of 1.
Capacities are divided by :math:`g` (the paper's banks become 1 ... 2048) and the objective
is scaled to microjoules.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import reduce
from typing import Any

import pyomo.environ as pyo

from aras.evaluation.liveness import (
    Assignment,
    Tensor,
    apply_assignment,
    assignment_energy,
    greedy_assignment,
    tensors_of,
)
from aras.model.mapping import Problem
from aras.model.schedule import Schedule
from formulations.solvers import Session

__all__ = ["build", "extract", "assign_banks", "LivenessInfo", "OBJECTIVE_SCALE"]

#: Objective unit: joules x OBJECTIVE_SCALE (microjoules).
OBJECTIVE_SCALE = 1e6


def build(problem: Problem, schedule: Schedule, *,
          tensors: dict[str, Tensor] | None = None) -> pyo.ConcreteModel:
    """The liveness bank-assignment MILP of a timed schedule.

    Parameters
    ----------
    problem
        The mapped network.
    schedule
        A schedule listing every step of ``problem`` once; its order and times fix the
        lifetimes. Its banks are ignored.
    tensors
        The lifetimes, when already computed (:func:`aras.evaluation.liveness.tensors_of`).

    Returns
    -------
    pyomo.environ.ConcreteModel
        Binaries ``x[t,b]``, ``s[t]``, ``zi[k,b]``, ``zo[k,b]``; constraints ``cover``,
        ``resident_only``, ``cover_in``, ``cover_out``, ``link_in``, ``link_out``,
        ``clique``; objective ``energy`` (microjoules) and expression ``energy_j``
        (joules, the same cost). ``model.tensors`` and ``model.schedule`` keep the inputs.
    """
    hw = problem.hardware
    tensors = tensors if tensors is not None else tensors_of(problem, schedule)
    sizes = [int(v) for v in hw.gbuffer_banks]
    leak = hw.bank_leakage_w()
    g = reduce(math.gcd, sizes)
    cap = [v / g for v in sizes]
    steps = schedule.steps
    n = len(steps)
    free = [t for t, info in tensors.items() if not info.forced]
    forced = {t for t, info in tensors.items() if info.forced}
    ins = [list(dict.fromkeys(problem.network.op(s.layer).inputs)) for s in steps]
    pstep = [problem.by_key[(s.layer, s.part)] for s in steps]
    sec = hw.seconds
    e_dram = hw.dram_energy_j_per_byte

    m = pyo.ConcreteModel(name="liveness_banks")
    m.tensors = tensors
    m.schedule = schedule
    m.step_inputs = ins
    m.B = pyo.RangeSet(0, len(sizes) - 1)
    m.T = pyo.Set(initialize=free, ordered=True)
    m.K = pyo.RangeSet(0, n - 1) if n else pyo.Set(initialize=[])
    m.x = pyo.Var(m.T, m.B, domain=pyo.Binary)
    m.s = pyo.Var(m.T, domain=pyo.Binary)
    m.zi = pyo.Var(m.K, m.B, domain=pyo.Binary)
    m.zo = pyo.Var(m.K, m.B, domain=pyo.Binary)

    def spilled(t: str) -> Any:
        return 1 if t in forced else m.s[t]

    m.cover = pyo.Constraint(m.T, rule=lambda m, t: sum(cap[b] * m.x[t, b] for b in m.B)
                             + tensors[t].bytes / g * m.s[t] >= tensors[t].bytes / g)
    m.resident_only = pyo.Constraint(m.T, m.B, rule=lambda m, t, b: m.x[t, b] + m.s[t] <= 1)

    def cover_in(m: pyo.ConcreteModel, k: int) -> Any:
        if not ins[k]:
            return sum(m.zi[k, b] for b in m.B) == 0
        if pstep[k].passes > 1:  # every tensor of a multi-pass step is in F
            need: Any = pstep[k].in_need / g
        else:
            need = sum(tensors[t].bytes / g * spilled(t) for t in ins[k])
        return sum(cap[b] * m.zi[k, b] for b in m.B) >= need

    def cover_out(m: pyo.ConcreteModel, k: int) -> Any:
        o = steps[k].layer
        need = pstep[k].out_need / g if pstep[k].passes > 1 else tensors[o].bytes / g
        return sum(cap[b] * m.zo[k, b] for b in m.B) >= need * spilled(o)

    m.cover_in = pyo.Constraint(m.K, rule=cover_in)
    m.cover_out = pyo.Constraint(m.K, rule=cover_out)

    def link_in(m: pyo.ConcreteModel, k: int, b: int) -> Any:
        if not ins[k] or any(t in forced for t in ins[k]):
            return pyo.Constraint.Skip
        return m.zi[k, b] <= sum(m.s[t] for t in ins[k])

    def link_out(m: pyo.ConcreteModel, k: int, b: int) -> Any:
        o = steps[k].layer
        return pyo.Constraint.Skip if o in forced else m.zo[k, b] <= m.s[o]

    m.link_in = pyo.Constraint(m.K, m.B, rule=link_in)
    m.link_out = pyo.Constraint(m.K, m.B, rule=link_out)

    live: list[list[str]] = [[] for _ in range(n)]
    for t in free:
        for k in range(tensors[t].first, tensors[t].last + 1):
            live[k].append(t)
    m.clique = pyo.Constraint(m.K, m.B, rule=lambda m, k, b: sum(m.x[t, b] for t in live[k])
                              + m.zi[k, b] + m.zo[k, b] <= 1)

    hold = sum(leak[b] * sec(tensors[t].cycles) * m.x[t, b] for t in free for b in m.B)
    per_step = sum(leak[b] * sec(steps[k].end - steps[k].start) * (m.zi[k, b] + m.zo[k, b])
                   for k in range(n) for b in m.B)
    dram = e_dram * (sum(tensors[t].spill_traffic * m.s[t] for t in free)
                     + sum(tensors[t].spill_traffic for t in forced))
    m.energy_j = pyo.Expression(expr=hold + per_step + dram)
    m.energy = pyo.Objective(expr=OBJECTIVE_SCALE * m.energy_j, sense=pyo.minimize)
    return m


def extract(model: pyo.ConcreteModel) -> Assignment:
    """The assignment held by a solved (or warm-started) :func:`build` model."""
    tensors: dict[str, Tensor] = model.tensors
    asg = Assignment()

    def on(v: Any) -> bool:
        return (pyo.value(v, exception=False) or 0.0) > 0.5

    for t, info in tensors.items():
        if info.forced or on(model.s[t]):
            asg.spilled.add(t)
        else:
            asg.banks[t] = tuple(b for b in model.B if on(model.x[t, b]))
    schedule: Schedule = model.schedule
    for k in model.K:
        if any(t in asg.spilled for t in model.step_inputs[k]):
            asg.spill_in[k] = tuple(b for b in model.B if on(model.zi[k, b]))
        if schedule.steps[k].layer in asg.spilled:
            asg.spill_out[k] = tuple(b for b in model.B if on(model.zo[k, b]))
    return asg


def _set_values(model: pyo.ConcreteModel, asg: Assignment) -> None:
    """Load an assignment into the model's variables (a MIP start)."""
    for t in model.T:
        model.s[t].set_value(1 if t in asg.spilled else 0)
        for b in model.B:
            model.x[t, b].set_value(1 if b in asg.banks.get(t, ()) else 0)
    for k in model.K:
        for b in model.B:
            model.zi[k, b].set_value(1 if b in asg.spill_in.get(k, ()) else 0)
            model.zo[k, b].set_value(1 if b in asg.spill_out.get(k, ()) else 0)


@dataclass
class LivenessInfo:
    """What :func:`assign_banks` did.

    Attributes
    ----------
    source
        ``milp`` (the solver's incumbent) or ``greedy`` (no better incumbent, see messages).
    status
        Solver termination condition name (``convergenceCriteriaSatisfied`` when proven
        optimal within the gap, ``maxTimeLimit`` on the time limit).
    energy_j, greedy_energy_j
        Leakage plus spilled DRAM energy of the returned and of the greedy assignment.
    bound_j
        The solver's lower bound on that energy (None when it gave none).
    spilled, forced, tensors
        Spilled tensors, those forced by multi-pass steps, and all tensors.
    runtime_s
        Wall time of the whole pass; ``variables`` and ``constraints`` the model size.
    """

    source: str = "greedy"
    status: str = ""
    energy_j: float = 0.0
    greedy_energy_j: float = 0.0
    bound_j: float | None = None
    spilled: int = 0
    forced: int = 0
    tensors: int = 0
    runtime_s: float = 0.0
    variables: int = 0
    constraints: int = 0
    messages: list[str] = field(default_factory=list)
    #: the solver's failure (error, unbounded, infeasible: the greedy assignment is feasible),
    #: in its own words; empty when the solve did its job
    solver_error: str = ""


def assign_banks(problem: Problem, schedule: Schedule, *, time_limit: float = 10.0,
                 seed: int = 0, gap: float = 1e-6, use_milp: bool = True,
                 info: LivenessInfo | None = None, solver: str = "highs") -> Schedule:
    """A copy of ``schedule`` in liveness bank mode, with the least leakage + spill energy.

    Parameters
    ----------
    problem
        The mapped network.
    schedule
        A timed schedule (any bank mode); its times, order, replication and writes are kept.
    time_limit
        Seconds for HiGHS (single thread, seeded). On the limit the incumbent is used.
    seed
        HiGHS ``random_seed``.
    gap
        Relative MIP gap at which HiGHS stops.
    use_milp
        False returns the greedy assignment without building a model.
    info
        Filled with what happened (source, status, energies, counts, time); a solver failure
        is in ``info.solver_error`` and ``info.messages``.
    solver
        A key of :data:`formulations.solvers.SOLVERS`.

    Returns
    -------
    Schedule
        ``extra["bank_mode"] == "liveness"``, ``extra["tensors"]`` set and every step's
        banks rewritten; never costlier than the greedy assignment, which is the MIP start
        and the fallback when the solver returns no incumbent (said in ``info.messages``).
    """
    info = info if info is not None else LivenessInfo()
    t0 = time.perf_counter()
    tensors = tensors_of(problem, schedule)
    greedy = greedy_assignment(problem, schedule)
    info.greedy_energy_j = assignment_energy(problem, schedule, tensors, greedy)
    best, info.energy_j, info.source = greedy, info.greedy_energy_j, "greedy"
    if use_milp:
        m = build(problem, schedule, tensors=tensors)
        info.variables, info.constraints = m.nvariables(), m.nconstraints()
        _set_values(m, greedy)
        sol = Session(m, solver).solve(time_limit=max(0.1, time_limit), threads=1, seed=seed,
                                       rel_gap=gap, warm_start=True)
        info.status = sol.termination
        info.bound_j = None if sol.bound is None else sol.bound / OBJECTIVE_SCALE
        if sol.failed or sol.status == "infeasible":
            # the greedy assignment is a feasible point of the model: "infeasible" is a failure
            info.solver_error = sol.describe()
            info.messages.append(f"liveness MILP failed: {info.solver_error}; used the greedy "
                                 "assignment")
        elif not sol.has_solution:
            info.messages.append(f"liveness MILP: no incumbent ({info.status}); used the "
                                 "greedy assignment")
        else:
            got = extract(m)
            e = assignment_energy(problem, schedule, tensors, got)
            if e <= info.greedy_energy_j:
                best, info.energy_j, info.source = got, e, "milp"
            else:  # only possible through solver tolerances; keep the cheaper
                info.messages.append("liveness MILP: incumbent not cheaper than the greedy "
                                     "assignment; used the greedy one")
        if sol.status == "time_limit":
            info.messages.append(f"liveness MILP: time limit {time_limit:g} s reached")
    info.spilled = len(best.spilled)
    info.forced = sum(1 for t in tensors.values() if t.forced)
    info.tensors = len(tensors)
    out = apply_assignment(problem, schedule, best)
    info.runtime_s = time.perf_counter() - t0
    out.runtime_info["liveness"] = dict(info.__dict__)
    return out

