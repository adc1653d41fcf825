"""MILP methods: full-horizon and rolling-horizon solves of the event model.

``milp-full`` solves the :class:`formulations.Formulation` of the problem (the event model's
core families plus the caller's) over the whole network; ``milp`` improves it window by
window (fix-and-optimize: the integer decisions of parts outside the window stay at the
incumbent's values, the timing of every step stays free, so the objective is always the true
one and later layers cannot be starved). Both start from the best heuristic schedule (or the
caller's ``start``), whose objective value is the solver's cutoff (an objective bound, not a
MIP start: docs/formulations.md says why), keep a solution only when the evaluator's value of
the active objective improves, and never return anything worse than their start.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

from aras.evaluation.evaluator import evaluate
from aras.methods.heuristics import aras, baseline, greedy_replication, jit
from aras.methods.heuristics.engine import Builder, Policy, RowCounter, _simulate
from aras.methods.heuristics.replication import aras_policy, greedy_policy
from aras.model.errors import InputError, arg_name
from aras.model.mapping import Problem
from aras.model.schedule import Schedule
from formulations.families import CORE_FAMILIES, families_from
from formulations.framework import (
    Family,
    Formulation,
    Infeasible,
    Objective,
    diagnose,
    tightened,
)
from formulations.solvers import Session, check_solver
from formulations.window import (
    Incumbent,
    at_precision,
    extract,
    incumbent_from_schedule,
    replication_options,
    timing,
)
from formulations.window import schedule_from as _schedule_from

#: Largest exact full-horizon model (every release event, every replication candidate): pairs
#: (event, part) and replication candidates. VGG-16 needs 378 and 1,167 and is solved to a
#: proven optimum in about 30 s; beyond the caps ``milp-full`` uses the 16-event lookback and
#: 24 candidates of the rolling horizon.
_EXACT_MAX_PAIRS = 5000
_EXACT_MAX_OPTIONS = 20000


@dataclass
class MilpStats:
    """What the MILP driver did, reported in the Result."""

    start_method: str = ""
    start_makespan: int = 0
    model_objective: float | None = None
    model_bound: float | None = None
    windows: int = 0
    improved_windows: int = 0
    fallbacks: int = 0
    variables: int = 0
    constraints: int = 0
    solver_status: list[str] = field(default_factory=list)
    trace: list[tuple[float, float]] = field(default_factory=list)  # (seconds, incumbent)
    messages: list[str] = field(default_factory=list)
    #: (objective the solver claimed, model objective of the values it returned, evaluator
    #: makespan of the decisions extracted from them, proven optimal), for every solution a
    #: solve returned
    solutions: list[tuple[float, float, int, bool]] = field(default_factory=list)
    #: solves whose claimed objective was not that of the returned values (then re-solved)
    solver_mismatches: int = 0
    #: claimed optima below the certified lower bound (a bug if ever non-zero)
    below_bound: int = 0
    last_claimed: float | None = None
    #: status (:data:`formulations.solvers.STATUSES`) of the last solve
    last_status: str = ""
    #: solves that failed (error, unbounded, infeasible without a cutoff); each failure's
    #: message is in ``messages``
    solver_errors: int = 0
    #: solves that the time limit ended (with or without a solution)
    time_limited: int = 0
    last_optimal: bool = False
    #: the time limit ended the search before it was done (a sweep cut short)
    stopped_by_time_limit: bool = False
    #: Ctrl-C stopped the windows' search (the incumbent so far is the answer)
    interrupted: bool = False
    #: the model is exact for its compute order (full horizon, every release event and
    #: replication candidate, bandwidth not binding): its dual bound bounds every schedule
    #: in that order
    exact: bool = False
    #: the compute order the model used is the only one the DAG allows
    unique_order: bool = False
    #: the compute order differs from the network's (taken from the starting heuristic)
    reordered: bool = False
    #: times jit's order moves from the incumbent improved it (the model then rebuilt on
    #: the new order)
    reorders: int = 0

    def absorb(self, other: MilpStats) -> None:
        """Add the counts and logs of another solve (one order of several) to these.

        The model size and exactness are the latest solve's: every order has the same model.
        """
        self.windows += other.windows
        self.improved_windows += other.improved_windows
        self.fallbacks += other.fallbacks
        self.solver_errors += other.solver_errors
        self.time_limited += other.time_limited
        self.solver_status += other.solver_status
        self.solutions += other.solutions
        self.solver_mismatches += other.solver_mismatches
        self.below_bound += other.below_bound
        self.messages += other.messages
        self.variables, self.constraints = other.variables, other.constraints
        self.exact = other.exact


def schedule_from(problem: Problem, inc: Incumbent, method: str, banks: str = "greedy"
                  ) -> Schedule:
    """A complete schedule from model decisions (:func:`formulations.window.schedule_from`
    with the methods' builder, which also knows the ``ilp`` banks)."""
    return _schedule_from(problem, inc, method, banks, builder=Builder)


def _solver(name: str) -> str:
    """``name`` if it is a solver of :mod:`formulations.solvers` that works here (else a
    one-line ``solver: ...`` InputError)."""
    return check_solver(name)


class _Session(Session):
    """One solver session per model (:class:`formulations.solvers.Session`: HiGHS loads the
    model once and gets the next window's fixings as bound changes), remembering whether
    HiGHS's presolve has mis-valued a solution on it."""

    def __init__(self, m: pyo.ConcreteModel, solver: str):
        super().__init__(m, solver)
        #: set once HiGHS's presolve has mis-valued a solution on this model: later windows
        #: solve without presolve rather than twice
        self.presolve_off = False


def _solve_model(m: pyo.ConcreteModel, *, solver: str, time_limit: float, threads: int,
                 seed: int, gap: float | None, stats: MilpStats, cutoff: bool = True,
                 session: _Session | None = None, slack: float = 0.0) -> Incumbent | None:
    """Solve the model; return the decisions of the values the solver returned (or None).

    With ``cutoff`` the model's variables hold the incumbent, whose objective bounds the
    search. The solver's word is checked: the objective it claims must be the model objective
    of the values it returns. HiGHS 1.16 after presolve can claim, and "prove", an optimum that
    the solution it returns does not have (docs/formulations.md); such a solve is repeated
    with presolve off (for the rest of the session), and its bound is not kept. A solve that
    fails (error, unbounded, or infeasible without a cutoff) is counted in
    ``stats.solver_errors`` and its message, the solver's own words, is in ``stats.messages``.
    """
    t0 = time.perf_counter()
    session = session or _Session(m, solver)
    presolve_off = session.presolve_off
    while True:
        left = max(0.1, time_limit - (time.perf_counter() - t0))
        # Only solutions better than the incumbent matter (the driver keeps the incumbent
        # otherwise). A cutoff rather than a MIP start: HiGHS's setSolution start was
        # mis-valued by its presolve (docs/formulations.md). With a slack the incumbent stays
        # feasible, so a solve that finds nothing better still ends with a dual bound (an
        # exact model's proof needs one).
        out = session.solve(time_limit=left, threads=threads, seed=seed, rel_gap=gap,
                            cutoff=float(pyo.value(m.objective)) + slack if cutoff else None,
                            presolve=not presolve_off)
        stats.solver_status.append(out.termination)
        stats.last_status = out.status
        stats.time_limited += out.status == "time_limit"
        if out.failed or (out.status == "infeasible" and not cutoff):
            stats.solver_errors += 1
            note = f"solver {out.describe()}"
            if note not in stats.messages:
                stats.messages.append(note)
            return None
        if not out.has_solution:
            # nothing better than the cutoff: the dual bound (if any) still holds
            stats.model_bound = out.bound
            return None
        actual = float(pyo.value(m.objective))
        claimed = out.objective if out.objective is not None else actual
        if abs(claimed - actual) <= 0.5 or presolve_off or solver != "highs":
            break
        stats.solver_mismatches += 1
        presolve_off = session.presolve_off = True
        again = time_limit - (time.perf_counter() - t0) >= 0.5
        stats.messages.append(f"HiGHS claimed objective {claimed:,.0f} for a solution whose "
                              f"objective is {actual:,.0f} (after presolve, the incumbent "
                              "as cutoff); " + (
                                  "solved again with presolve off" if again else
                                  "no time left to solve again: its values are kept, judged "
                                  "by the evaluator, and its bound dropped"))
        if not again:
            break
    trusted = abs(claimed - actual) <= 0.5
    stats.model_objective = actual
    stats.model_bound = out.bound if trusted else None
    got = extract(m)
    stats.last_claimed = claimed
    stats.last_optimal = trusted and out.status == "optimal"
    return got


#: jit work (timed steps) per second of MILP time limit given to the starting search: about a
#: third of the limit at the 6-14 M steps/s that jit now times on the project's 2-core machine
#: (30 M steps took 2.2-5.3 s on the five built-in networks; the 1 M steps/s this constant was
#: first set for predates jit's incremental timing)
_JIT_WORK_PER_S = 2_000_000


#: Seconds plain jit's search (the start's guarantee) may always take, whatever the limit.
_PLAIN_JIT_S = 5.0


def _list_makespan(problem: Problem, policy: Policy) -> int:
    """Makespan of :func:`~aras.methods.heuristics.engine.list_schedule` with ``policy``,
    from its simulation without rows and writes (its timing depends on nothing else)."""
    end = 0

    def compute(step: Any, start: int, replication: int) -> int:
        nonlocal end
        end = max(end, start + problem.compute_cycles(step, replication))
        return start + problem.compute_cycles(step, replication)

    _simulate(problem, policy, "start", RowCounter(problem), compute)
    return end


def _in_order(free: int, upcoming: list[Any]) -> list[tuple[Any, int]]:
    """The baseline's policy (:func:`~aras.methods.heuristics.reference.baseline` without
    replication): the next parts in order, one copy each, until the free rows are taken."""
    plan, used = [], 0
    for s in upcoming:
        plan.append((s, 1))
        used += s.apu_rows
        if used >= free:
            break
    return plan


def _best_heuristic(problem: Problem, banks: str, keep_order: bool = False,
                    time_limit: float = 0.0, search: float = 1 / 3,
                    value: Callable[[Schedule], tuple[float, ...]] | None = None
                    ) -> tuple[str, Schedule, int]:
    """The best start: ``(name, schedule, makespan)``; best by ``value`` (an objective
    other than the makespan: every start is then assembled and valued), else by makespan.

    Every heuristic is timed without assembling its schedule (on a network of 8,000 steps an
    assembled schedule and its evaluation cost seconds each); only the best is assembled.
    ``jit`` runs as ``solve(method="jit")`` runs it without a time limit, whole (its work
    budget bounds it), so the start is never worse than that whatever the load, unless that
    search alone would pass nine tenths of the limit and :data:`_PLAIN_JIT_S` seconds (then
    the limit wins); a longer ``jit`` search then runs until the fraction ``search`` of the
    limit.
    """
    from aras.methods.heuristics.jit import PATIENCE, WORK, jit_search

    t0 = time.perf_counter()
    limited = time_limit > 0
    work = max(WORK, int(time_limit * _JIT_WORK_PER_S))
    reorder = not keep_order
    # (makespan, name, assemble)
    found: list[tuple[int, str, Callable[[], Schedule]]] = []
    # plain jit whole, unless it alone would take most of a limit of more than a few seconds
    # (jit under binding write slots on DenseNet-161 at 192 PEs: about a minute)
    plain = jit_search(problem, reorder=reorder,
                       deadline=t0 + max(0.9 * time_limit, _PLAIN_JIT_S) if limited else None)
    found.append((plain.makespan, "jit", lambda: plain.schedule(problem, banks=banks)))
    heuristics: list[tuple[str, Policy, Callable[[], Schedule]]] = [
        ("aras", aras_policy(problem), lambda: aras(problem, banks=banks)),
        ("greedy-replication", greedy_policy(problem),
         lambda: greedy_replication(problem, banks=banks)),
        ("baseline", _in_order, lambda: baseline(problem, banks=banks))]
    for name, policy, run in heuristics:
        if limited and time.perf_counter() - t0 > time_limit / 2:
            break
        found.append((_list_makespan(problem, policy), name, run))
    if work > WORK and (not limited or time.perf_counter() - t0 < time_limit * search):
        more = jit_search(problem, reorder=reorder, work=work, iterations=work // 1000,
                          patience=max(PATIENCE, work // 15_000),
                          deadline=t0 + time_limit * search if limited else None)
        found.append((more.makespan, "jit", lambda: more.schedule(problem, banks=banks)))
    if value is not None:
        # the least objective, not the least makespan: the MILP's answer is never worse
        # than a heuristic's by the objective it was asked for
        built = [(value(sc := a()), m, n, sc) for m, n, a in found]
        _, mk, name, sched = min(built, key=lambda x: (x[0], x[1]))
    else:
        # the least makespan; ties keep the earlier entry (plain jit first)
        mk, name, assemble = min(found, key=lambda x: x[0])
        sched = assemble()
    # the longer search's deadline is the driver's plan, not a limit the start hit
    sched.extra.pop("jit", None)
    return name, sched, mk


def _makespan(problem: Problem, inc: Incumbent) -> int:
    problem = at_precision(problem, inc)
    t = timing(problem, inc.replication, inc.rows_from, problem.hardware.write_latency_cycles)
    return max(t["end"].values())


def _free_window(form: Formulation, inc: Incumbent, free: set[int]) -> None:
    """Fix every integer decision at the incumbent except those of the window's parts and of
    the rows released inside the window (families fix their own, :meth:`Family.fix`)."""
    m = form.model
    for f in form.families:
        f.fix(form.context, inc, free)
    free_events = {k + 1 for k in free}
    for (k, r) in m.KR:
        if k in free:
            m.y[k, r].unfix()
        else:
            m.y[k, r].fix(1 if inc.replication[k] == r else 0)
    for (e, k) in m.EK:
        if k in free or e in free_events:
            m.x[e, k].unfix()
            m.v[e, k].unfix()
        else:
            x = inc.rows_from.get((e, k), 0)
            m.x[e, k].fix(x)
            m.v[e, k].fix(1 if x > 0 else 0)


#: Weight-bearing parts of the prefix whose model is built to estimate a big model's cost.
_SAMPLE_PARTS = 48


#: Seconds per (event, part) pair and replication candidate that building a model and
#: checking a start take at least (about a fifth of what they take on an idle 2-core machine):
#: a floor that needs no measurement.
_FLOOR_PER_ITEM = 4e-5


def _model_seconds(problem: Problem, lookback: int, options: Mapping[int, Sequence[int]],
                   budget: float = math.inf, solver: str = "highs") -> float:
    """Seconds to build the model of ``problem`` and check a start on it, estimated from a
    prefix's (0 for networks of at most about a hundred parts, whose models take a second).
    Building is linear in the (event, part) pairs and replication candidates, so the
    prefix's time is scaled by their ratio, with a margin. When a floor of that time
    (:data:`_FLOOR_PER_ITEM`) already passes ``budget``, the floor is returned unmeasured."""
    from aras.methods.heuristics.jit import jit_schedule
    from aras.model.mapping import map_network
    from aras.model.network import Network

    W = problem.weighted_steps

    def size(lb: int, n: int, opts: int) -> float:
        return n * min(lb, n) + opts

    full_size = size(lookback, len(W), sum(len(v) for v in options.values()))
    floor = _FLOOR_PER_ITEM * full_size
    if floor > budget:
        return floor
    if len(W) <= 2 * _SAMPLE_PARTS:
        return 0.0
    net = problem.network
    parts: dict[str, int] = {}
    for s in W:
        parts[s.layer] = parts.get(s.layer, 0) + 1
    cut, seen = 0, 0
    for n, op in enumerate(net.ops):
        seen += parts.get(op.name, 0)
        if seen >= _SAMPLE_PARTS:
            cut = n + 1
            break
    if not cut:
        return 0.0
    try:
        pre = map_network(Network(f"{net.name}-prefix", net.inputs, net.ops[:cut]),
                          problem.hardware)
    except InputError:
        return 0.0
    pw = pre.weighted_steps
    most = max((len(v) for v in options.values()), default=1)
    popts = {s.index: replication_options(pre, s, max_options=most) for s in pw}
    sched = jit_schedule(pre, {s.index: 1 for s in pw})
    inc = incumbent_from_schedule(pre, sched)
    t = time.perf_counter()
    form = Formulation(pre, None, Objective(), lookback=lookback, incumbent=inc,
                       options=popts)
    form.start_from(inc)
    form.violated()
    # the solver's copy of the model (HiGHS set_instance) costs about as much again
    _Session(form.model, solver).solve(time_limit=0.01, cutoff=float(
        pyo.value(form.model.objective)))
    took = time.perf_counter() - t
    scale = full_size / max(1.0, size(lookback, len(pw), sum(len(v) for v in popts.values())))
    return max(floor, 1.5 * took * scale)


def _windows(problem: Problem, inc: Incumbent, size: int, overlap: int) -> list[set[int]]:
    """Windows of ``size`` consecutive weight-bearing parts (sharing ``overlap``), those
    where the compute unit waits longest first: a part's idle (the time between the end
    of the step before it and its start) is the time its writes delay the chain of
    computes, which the replication and rows of the parts before it decide."""
    W = problem.weighted_steps
    ids = [s.index for s in W]
    step = max(1, size - overlap)
    starts = [lo for lo in range(0, len(ids), step) if lo == 0 or lo + overlap < len(ids)]
    t = timing(at_precision(problem, inc), inc.replication, inc.rows_from,
               problem.hardware.write_latency_cycles)
    idle = t.get("idle", {})
    # a window also frees the parts whose rows the idle one waits for: weigh the idle of
    # the part just after it too
    def wait(lo: int) -> int:
        return sum(idle.get(k, 0) for k in ids[lo:lo + size + 1])

    ranked = sorted(starts, key=lambda lo: (-wait(lo), lo))
    return [set(ids[lo:lo + size]) for lo in ranked]


def _reorder(problem: Problem, inc: Incumbent, best: int, banks: str, deadline: float,
             keep_order: bool) -> tuple[Problem, Schedule] | None:
    """jit's order and replication moves from the incumbent's replication
    (:func:`~aras.methods.heuristics.jit.jit_polish`): the problem in the order found and
    its schedule, when its makespan is below ``best``; else None."""
    from aras.methods.heuristics.jit import jit_polish

    found = jit_polish(problem, dict(inc.replication), reorder=not keep_order,
                       deadline=deadline)
    if found.makespan >= best:
        return None
    sched = found.schedule(problem, banks=banks, method="milp")
    keys = [(x.layer, x.part) for x in sched.steps]
    moved = problem.reordered(keys) if keys != [x.key for x in problem.steps] else problem
    cand = incumbent_from_schedule(moved, sched)
    if _makespan(moved, cand) >= best:
        return None
    return moved, sched


def _dual_cycles(bound: float) -> int:
    """A solver's dual bound as whole cycles, after a margin for its float tolerances."""
    return int(math.ceil(bound - 1e-9 * abs(bound) - 1e-6))


#: Compute orders (up to swapping identical parts) that ``milp-full`` solves one by one.
_MAX_ORDERS = 24


def _exact_size(problem: Problem) -> bool:
    """True when the exact full-horizon model of ``problem`` stays within the caps."""
    W = problem.weighted_steps
    return (len(W) * (len(W) + 1) // 2 <= _EXACT_MAX_PAIRS
            and sum(len(replication_options(problem, s, max_options=1 << 30)) for s in W)
            <= _EXACT_MAX_OPTIONS)


def _over_orders(problem: Problem, orders: list[list[tuple[str, int]]],
                 relaxed: Problem | None, time_limit: float, stats: MilpStats,
                 **options: Any) -> Schedule:
    """``milp-full`` in every compute order: the best schedule, and as certified bound the
    least of the orders' dual bounds (each taken on ``relaxed``, the problem with the
    smallest part of each layer, when parts of a layer differ in size: their order is then
    free too, and the relaxation's parts are interchangeable)."""
    t0 = time.perf_counter()
    solves = len(orders) * (2 if relaxed is not None else 1)
    best: tuple[int, Schedule] | None = None
    duals: list[int | None] = []
    done = 0

    def one(p: Problem) -> tuple[Schedule, MilpStats]:
        nonlocal done
        share = (time_limit - (time.perf_counter() - t0)) / max(1, solves - done)
        done += 1
        st = MilpStats()
        s = milp(p, full=True, time_limit=max(0.5, share), keep_order=True, stats=st,
                 **options)
        stats.absorb(st)
        return s, st

    for keys in orders:
        sched, st = one(problem.reordered(keys))
        if not stats.start_method:
            stats.start_method, stats.start_makespan = st.start_method, st.start_makespan
        mk = evaluate(problem, sched, cost=False).makespan_cycles
        if best is None or mk < best[0]:
            best = (mk, sched)
        dual = sched.extra["milp"]["dual_bound"]
        if relaxed is not None:
            dual = one(relaxed.reordered(keys))[0].extra["milp"]["dual_bound"]
        duals.append(dual)
    assert best is not None
    try:  # never worse than jit as solve(method="jit") runs it (it may reorder)
        plain = jit(problem, banks=options.get("banks", "greedy"))
        mk = evaluate(problem, plain, cost=False).makespan_cycles
        if mk < best[0]:
            plain.method = "milp-full"
            best = (mk, plain)
            stats.messages.append("no order's solve beat jit's schedule; returning it")
    except InputError:
        pass
    sched = best[1]
    if "milp" not in sched.extra:
        sched.extra["milp"] = {"model_makespan": best[0], "variables": stats.variables,
                               "constraints": stats.constraints}
    known = [d for d in duals if d is not None]
    certified = min(known) if known and len(known) == len(duals) else None
    info = sched.extra["milp"]
    info.update({"windows": stats.windows, "improved_windows": stats.improved_windows,
                 "fallbacks": stats.fallbacks, "solver_status": stats.solver_status,
                 "solver_errors": stats.solver_errors, "time_limited": stats.time_limited,
                 "solver_mismatches": stats.solver_mismatches,
                 "below_bound": stats.below_bound,
                 "solutions": [list(x) for x in stats.solutions],
                 "orders": len(orders), "relaxed_parts": relaxed is not None,
                 "dual_bound": certified, "every_order": certified is not None,
                 "start_method": stats.start_method, "start_makespan": stats.start_makespan})
    sched.runtime_info["milp"] = {"trace": [], "messages": stats.messages}
    return sched


class StartRefused(Exception):
    """No start satisfying the formulation's families was found (none was given that does,
    none could be repaired, and the model found none within its time)."""


#: Measures the evaluator gives without costing a schedule (validity and counts suffice).
_COUNTED = ("makespan", "rows_written", "cells_written")


def _decisions_value(problem: Problem, objective: Objective, inc: Incumbent, banks: str,
                     rules: list[Any]) -> tuple[float, ...] | None:
    """The evaluator's value of the objective for decisions (None when the schedule they
    make breaks R1-R8 or a family's rule). Makespan alone is timed exactly without building
    the schedule (the timing is the evaluator's, tested)."""
    problem = at_precision(problem, inc)
    if objective.is_makespan and not rules:
        return (float(_makespan(problem, inc)),)
    got = _schedule_value(problem, objective, rules)(schedule_from(problem, inc, "milp", banks))
    return None if math.isinf(got[0]) else got


def _schedule_value(problem: Problem, objective: Objective, rules: list[Any]
                    ) -> Callable[[Schedule], tuple[float, ...]]:
    """The evaluator's value of the objective for a schedule (infinite when invalid)."""
    # costs (pulses, energy) only when a measure reads them: the rest is validity and counts
    cost = any(n not in _COUNTED for n in objective.measures())

    def value(sched: Schedule) -> tuple[float, ...]:
        rep = evaluate(problem, sched, rules=rules or None, cost=cost)
        if not rep.valid:
            return (math.inf,) * len(objective.stages)
        return objective.value(problem, sched, rep)
    return value


def milp(problem: Problem, *, full: bool = False, time_limit: float | None = None,
         window: int = 6, overlap: int = 2, window_time: float = 15.0,
         lookback: int | None = None, candidates: int | None = None,
         keep_order: bool = False,
         solver: str = "highs", threads: int = 1, seed: int = 0, gap: float | None = None,
         banks: str = "greedy", dump_model: str | None = None,
         stats: MilpStats | None = None, certified_bound: int | None = None,
         progress: Callable[[dict[str, Any]], None] | None = None,
         families: Sequence[Family | str | Mapping[str, Any]] | None = None,
         objective: Objective | None = None, start: Schedule | None = None,
         **_: Any) -> Schedule:
    """Schedule with the event model, starting from the best heuristic (or ``start``).

    Parameters
    ----------
    full
        Solve the whole network as one model (``milp-full``) instead of windows.
    time_limit
        Total seconds (default 60); HiGHS limits are soft, so windows are
        given what is left. A model that would take longer to build and check than the
        time left (estimated from a prefix's model: thousands of parts) is not built, and
        the start is returned with the time limit's status. The start's plain ``jit`` search
        (bounded by its work budget) stops at nine tenths of the limit only when that is
        more than 5 s (:data:`_PLAIN_JIT_S`): below, the start's guarantee (never worse than
        ``jit``) comes first.
    window, overlap
        Weight-bearing parts per window and parts shared with the next. A sweep takes the
        windows where the incumbent's computes wait longest first; after each sweep
        ``jit``'s order and replication moves start from the incumbent (the model then
        rebuilt on the order found when they improve it); a sweep that improves nothing is
        repeated with windows twice as wide (up to four times ``window``) before the
        search stops.
    window_time
        Seconds per window at most.
    lookback
        Release events a part may draw rows from (see :func:`formulations.window.build`).
        Default: 16, and for ``milp-full`` every event when the model stays small (below).
    candidates
        Replication candidates per part at most (:func:`replication_options`). Default: 24,
        and for ``milp-full`` all of them (the smallest replication of every distinct
        compute time) when the model stays small. With every event and every candidate and
        bandwidth not binding the model is exact for its compute order
        (docs/formulations.md), so the solver's dual bound bounds every schedule in that
        order; when the DAG allows no other order, it is a certified bound (``dual_bound`` in
        the schedule's ``extra["milp"]``).
    solver, threads, seed, gap
        Solver (a key of :data:`formulations.solvers.SOLVERS`: ``highs``, the default, or
        ``cbc``), threads, random seed and relative gap. A solve that fails is counted in
        ``extra["milp"]["solver_errors"]`` with the solver's message, and :func:`solve`
        reports the run as an error.
    dump_model
        Write the last model solved to this LP/MPS file (the model is then built whatever
        the time left).
    certified_bound
        A certified lower bound (``solve`` passes the best of :mod:`aras.evaluation.bounds`):
        a solver optimum below it is reported as the bug it is.
    keep_order
        Solve in ``problem``'s compute order. Otherwise ``milp-full`` on a network with at
        most 24 compute orders (up to identical parts) and a small exact model solves each
        order, and ``milp`` and larger ``milp-full`` models keep the starting heuristic's.
    progress
        Called with ``window``, ``windows``, ``sweep``, ``incumbent_cycles``, ``bound_cycles``
        (the certified bound) and ``elapsed_s`` once the model is built (window 0) and after
        every window.
    families
        The formulation's families (:mod:`formulations.families`): objects, names or
        ``{"family": name, **options}`` tables; the core families are added unless listed.
        Every start, window and result keeps them; their rules are checked by the evaluator.
    objective
        What to minimise (:class:`formulations.Objective`; default makespan). The cutoff,
        the keep-or-discard test and the reported value use it, the last two through the
        evaluator's figures.
    start
        A schedule to start from instead of the best heuristic. A start that breaks a
        family is repaired by the families that can (e.g. fewer copies for a replication
        cap); when none can, the model searches for a start itself, and a model proven
        infeasible raises :class:`formulations.Infeasible` with the clashing families.

    Raises
    ------
    formulations.Infeasible
        When the families cannot all hold (proven by the solver; a deletion filter names the
        clashing families and their layers).
    StartRefused
        When no start satisfying the families was found in the time given.
    """
    stats = stats if stats is not None else MilpStats()
    _solver(solver)  # a missing solver is an input error, before any work
    if dump_model is not None and Path(dump_model).suffix.lower() not in (".lp", ".mps"):
        # Pyomo infers the format from the suffix, and would only say so after the solve
        raise InputError(f"{arg_name('dump_model')}: {dump_model} must end in .lp or .mps")
    total = 60.0 if time_limit is None else time_limit
    t0 = time.perf_counter()
    objective = objective or Objective()
    fams = families_from(families, problem)
    custom = [f for f in fams if f.name not in CORE_FAMILIES]
    rules = [r for f in fams if (r := f.rule()) is not None]
    original = problem
    problem = tightened(problem, fams)
    if custom:
        stats.messages.append("families: " + ", ".join(f.name for f in custom))
    if full and not keep_order and problem.hardware.write_slots >= problem.total_apu_rows \
            and lookback is None and candidates is None and start is None \
            and all(f.exact for f in fams) and objective.is_makespan:
        # Every order when there are few (each order's dual bound is exact for it, so their
        # least bounds every schedule); otherwise the orders of the problem whose parts of a
        # layer all have the smallest size (parts then interchangeable), solved for the bound.
        orders = problem.orders(_MAX_ORDERS) if _exact_size(problem) else None
        relaxed: Problem | None = None
        if orders is None:
            relaxed = problem.with_smallest_parts()
            orders = relaxed.orders(_MAX_ORDERS) if _exact_size(relaxed) else None
        if orders is not None and (len(orders) > 1 or relaxed is not None):
            return _over_orders(problem, orders, relaxed, total, stats,
                                window=window, overlap=overlap, window_time=window_time,
                                solver=solver, threads=threads, seed=seed, gap=gap,
                                banks=banks, dump_model=dump_model,
                                certified_bound=certified_bound, families=custom or None)
    need = 0.0  # seconds to build and check the model, if estimated
    start_value: tuple[float, ...] | None = None
    best_val: tuple[float, ...] = ()
    if not custom and objective.is_makespan:
        # A big network's model may take longer to build and check than the limit allows
        # (70B prefill: 7,468 parts); estimated from a prefix's model before the starts, so
        # that when it cannot fit, the start's search has the time instead.
        W0 = problem.weighted_steps
        est = candidates if candidates is not None else (
            1 << 30 if full and _exact_size(problem) else 24)
        share = 2 / 3 if start is None else 1.0
        need = _model_seconds(problem, lookback if lookback is not None else (
            len(W0) if full and est > 24 else 16),
            {s.index: replication_options(problem, s, max_options=est) for s in W0},
            0.8 * (total * share - (time.perf_counter() - t0)), solver)
    if start is not None:
        name, start_sched = "start", start
        rep0 = evaluate(original, start, cost=False)
        if not rep0.valid:
            raise InputError("start: not a valid schedule of the problem: "
                             + "; ".join(str(v) for v in rep0.violations[:3]))
        start_mk = rep0.makespan_cycles
    else:
        fits = need <= 0.8 * (total * 2 / 3 - (time.perf_counter() - t0))
        name, start_sched, start_mk = _best_heuristic(
            problem, banks, keep_order, max(1e-3, total - (time.perf_counter() - t0)),
            search=1 / 3 if fits else 0.6,
            value=None if objective.is_makespan else _schedule_value(problem, objective,
                                                                      rules))
    keys = [(s.layer, s.part) for s in start_sched.steps]
    if keys != [s.key for s in problem.steps]:
        # The model is stated on one compute order: the start's (jit searches orders), so
        # the incumbent stays feasible and the MILP improves on the same order.
        problem = problem.reordered(keys)
        stats.reordered = True
        stats.messages.append(f"compute order: {name}'s, which differs from the network's")
    W = problem.weighted_steps
    every = {s.index: replication_options(problem, s, max_options=1 << 30) for s in W}
    small = _exact_size(problem)
    if lookback is None:
        lookback = len(W) if full and small else 16
    if candidates is None:
        candidates = 1 << 30 if full and small else 24
    options = {s.index: replication_options(problem, s, max_options=candidates) for s in W}
    stats.exact = (full and lookback >= len(W) and problem.hardware.write_slots
                   >= problem.total_apu_rows and objective.is_makespan
                   and all(f.exact for f in fams)
                   and all(len(options[k]) == len(every[k]) for k in every))
    stats.unique_order = problem.unique_order()
    if stats.exact and gap is None:
        gap = 0.0  # a proof to the cycle: the bound is then the optimum
    method = "milp-full" if full else "milp"
    skip = False
    if not custom and objective.is_makespan and not dump_model:
        # (a model asked for as a file is built whatever the time)
        left = total - (time.perf_counter() - t0)
        # (the rolling horizon's windows need half a second left: a model built with less
        # is waste)
        if (need > 0 and need > 0.8 * left) or (not full and left <= 0.5 + need):
            # the model cannot be built in the time left: the start is the answer (a model
            # of at most about a hundred parts, not estimated, is built: it takes a second)
            skip = stats.stopped_by_time_limit = True
            stats.messages.append(
                f"time limit: the model of {len(W):,} parts would take about {need:.0f} s to "
                f"build and check, more than the {max(0.0, left):.0f} s left; returning "
                + ("the start" if start is not None else f"{name}'s start"))
            best_mk = start_mk
            best_val = start_value = (float(start_mk),)
            stats.start_method, stats.start_makespan = name, start_mk
        elif not full and certified_bound is not None and start_mk <= certified_bound:
            # the start meets a certified lower bound (jit's exact DP on chains): it is
            # optimal, and no window can improve it (milp-full still builds its model, whose
            # dual bound is its own proof)
            skip = True
            stats.messages.append(f"the {name} start meets the certified lower bound "
                                  f"({certified_bound:,} cycles): optimal, no model built")
            best_mk = start_mk
            best_val = start_value = (float(start_mk),)
            stats.start_method, stats.start_makespan = name, start_mk
    first: Incumbent | None = None if skip else incumbent_from_schedule(problem, start_sched)
    inc = first
    if first is not None:
        inc = first
        built = time.perf_counter()
        form = Formulation(problem, fams, objective, lookback=lookback, incumbent=inc,
                           options=options)
        m = form.model
        built = time.perf_counter() - built  # a rebuild on another order costs as much
        check_until = (t0 + total * 0.9) if start is None and not custom else None
        inc = _acceptable_start(form, inc, name, stats, solver=solver, threads=threads,
                                time_limit=max(1.0, total / 3), original=original,
                                deadline=check_until)
        start_value = _decisions_value(problem, objective, inc, banks, rules)
        if start_value is None:
            raise StartRefused("the start breaks a family's rule after repair")
        start_mk = _makespan(problem, inc)
        stats.start_method, stats.start_makespan = name, start_mk
        best_val, best_mk = start_value, start_mk
        stats.trace.append((time.perf_counter() - t0, float(best_mk)))
        stats.variables, stats.constraints = m.nvariables(), m.nconstraints()
        session = _Session(m, solver)
        stages = len(objective.stages)

        def report(window: int, windows: int, sweep: int) -> None:
            if progress is not None:
                progress({"window": window, "windows": windows, "sweep": sweep,
                          "incumbent_cycles": best_mk, "bound_cycles": certified_bound,
                          "elapsed_s": time.perf_counter() - t0})

        def attempt(limit: float) -> None:
            nonlocal inc, best_mk, best_val
            t1 = time.perf_counter()
            got: Incumbent | None = None
            cur = inc
            assert cur is not None
            for stage in range(stages):
                form.set_objective_stage(stage)
                form.start_from(cur)
                left = limit - (time.perf_counter() - t1)
                if left <= 0.05:
                    break
                # the cutoff is the current decisions' value of this stage; an earlier stage's
                # row keeps its value while a later one is minimised
                one = _solve_model(m, solver=solver, time_limit=left, threads=threads, seed=seed,
                                   gap=gap, stats=stats, session=session,
                                   slack=1.0 if stats.exact or stage + 1 < stages else 0.0)
                if one is None:
                    break
                got = cur = one
                if stage + 1 < stages:
                    m.lex_cap[stage] = float(pyo.value(m.objective)) + 0.5
                    m.lex_keep[stage].activate()
            if stages > 1:
                m.lex_keep.deactivate()
                form.set_objective_stage(0)
            stats.windows += 1
            if got is None:
                # with the incumbent as cutoff, "no solution" means nothing better exists in the
                # window; a solve cut short by its time limit without any solution is a fallback,
                # a failed one a solver error (counted by _solve_model)
                if stats.last_status == "time_limit":
                    stats.fallbacks += 1
                return
            mk = _makespan(problem, got)
            val = _decisions_value(problem, objective, got, banks, rules)
            assert stats.last_claimed is not None and stats.model_objective is not None
            stats.solutions.append((stats.last_claimed, stats.model_objective, mk,
                                    stats.last_optimal))
            if stats.last_optimal and certified_bound is not None and objective.is_makespan \
                    and problem.hardware.write_slots >= problem.total_apu_rows \
                    and stats.model_objective < certified_bound - 0.5:
                # (with binding write slots the model's makespan is a relaxation's, below the
                # exact one, so only the exact-timing model's optimum is checked; cycles are
                # whole, and a solver's optimum at the bound can come out 1e-7 below it)
                stats.below_bound += 1
                stats.messages.append(f"bug: the solver proved an optimum of "
                                      f"{stats.model_objective:,.0f} cycles, below the certified "
                                      f"lower bound {certified_bound:,}")
            if val is not None and val < best_val:
                inc, best_mk, best_val = got, mk, val
                stats.improved_windows += 1
            stats.trace.append((time.perf_counter() - t0, float(best_mk)))

        if full:
            report(0, 1, 0)
            attempt(max(0.5, total - (time.perf_counter() - t0)))
            report(1, 1, 1)
        else:
            sweep, improved = 0, True
            size = window
            slowest = 0.0
            polish = objective.is_makespan and not custom
            # Sweep the windows while a sweep improves and time remains (a change late in the
            # network can open room for an earlier window), the windows where the compute
            # idles most first; then let jit's moves change the compute order around the
            # incumbent's replication (the model cannot: it is stated on one order) and,
            # where neither improves, widen the windows.
            while improved:
                if total - (time.perf_counter() - t0) <= 0.5:
                    # the search is not done (no sweep yet, or the last one improved): honest
                    # status is the time limit's
                    stats.messages.append(f"time limit: stopped before sweep {sweep + 1}")
                    stats.stopped_by_time_limit = True
                    break
                sweep += 1
                before = best_val
                assert inc is not None
                wins = _windows(problem, inc, size, overlap if size == window else size // 2)
                if sweep == 1:
                    report(0, len(wins), 0)
                for n, free in enumerate(wins):
                    left = total - (time.perf_counter() - t0)
                    # (HiGHS's limit is soft: a quarter second is kept for a solve that ends
                    # late and for assembling the result; on a big model, fixing a window and
                    # handing the changes to the solver take seconds of their own)
                    if left <= 0.5 + slowest:
                        stats.messages.append(f"time limit: sweep {sweep} stopped after {n} of "
                                              f"{len(wins)} windows")
                        stats.stopped_by_time_limit = True
                        break
                    tw = time.perf_counter()
                    _free_window(form, inc, free)
                    try:
                        attempt(min(window_time, left - 0.25))
                    except KeyboardInterrupt:
                        # Ctrl-C stops the search, not the run: the incumbent (changed only
                        # by a finished window) is returned and saved, and the result says so
                        stats.interrupted = True
                        stats.messages.append(f"interrupted (Ctrl-C) in sweep {sweep}, window "
                                              f"{n + 1} of {len(wins)}: the best schedule "
                                              "found so far")
                        break
                    # a window's cost beyond its solve's own limit
                    slowest = max(slowest,
                                  time.perf_counter() - tw - min(window_time, left - 0.25))
                    report(n + 1, len(wins), sweep)
                if stats.stopped_by_time_limit or stats.interrupted:
                    break
                # time for the moves, assembling their schedule and rebuilding the model
                spare = total - (time.perf_counter() - t0) - 0.5 - 3 * built
                if polish and spare > 1.0:
                    got_order = _reorder(problem, inc, best_mk, banks,
                                         time.perf_counter() + min(spare, max(1.0, total / 10)),
                                         keep_order)
                    if got_order is not None:
                        problem, cand = got_order
                        W = problem.weighted_steps
                        options = {s.index: replication_options(problem, s,
                                                                max_options=candidates)
                                   for s in W}
                        inc = incumbent_from_schedule(problem, cand)
                        form = Formulation(problem, fams, objective, lookback=lookback,
                                           incumbent=inc, options=options)
                        m = form.model
                        session = _Session(m, solver)
                        new_mk = _makespan(problem, inc)
                        stats.reordered = True
                        stats.reorders += 1
                        best_mk, best_val = new_mk, (float(new_mk),)
                        stats.trace.append((time.perf_counter() - t0, float(best_mk)))
                improved = best_val < before
                if not improved and size < 4 * window and size < len(W):
                    # a wider neighbourhood (half-overlapping) before giving up
                    size, improved = min(len(W), 2 * size), True
            m.y.unfix()
            m.x.unfix()
            m.v.unfix()
            for f in form.families:
                f.fix(form.context, inc, None)
    if dump_model and not skip:
        m.write(dump_model, io_options={"symbolic_solver_labels": True})
    if skip or (inc is first and start_mk == max((x.end for x in start_sched.steps),
                                                  default=0)):
        # nothing kept: the start itself (assembling it again costs seconds on big networks;
        # a copy, so that a caller's start keeps its own method and notes)
        sched = replace(start_sched, method=method, extra=dict(start_sched.extra),
                        runtime_info={})
    else:
        assert inc is not None
        sched = schedule_from(problem, inc, method, banks)
    sched.hardware = original.hardware.to_dict()
    if start is None and not custom and inc is not first:
        got_mk = evaluate(original, sched, cost=False).makespan_cycles
        if objective.is_makespan and got_mk > start_mk:  # never worse than the heuristic
            stats.messages.append(f"the MILP schedule was not better; returning {name}'s")
            start_sched.method = method
            start_sched.hardware = original.hardware.to_dict()
            sched, best_mk = start_sched, start_mk
    sched.extra["milp"] = {
        "start_method": name, "start_makespan": start_mk, "model_makespan": best_mk,
        "objective": objective.describe(), "objective_value": list(best_val),
        "start_objective_value": list(start_value or ()),
        "families": [f.name for f in custom],
        "windows": stats.windows, "improved_windows": stats.improved_windows,
        "fallbacks": stats.fallbacks, "solver": solver, "solver_errors": stats.solver_errors,
        "time_limited": stats.time_limited,
        "variables": stats.variables,
        "constraints": stats.constraints, "solver_status": stats.solver_status,
        "last_model_objective": stats.model_objective, "last_model_bound": stats.model_bound,
        "solver_mismatches": stats.solver_mismatches, "below_bound": stats.below_bound,
        "stopped_by_time_limit": stats.stopped_by_time_limit,
        "interrupted": stats.interrupted,
        "exact_model": stats.exact, "unique_order": stats.unique_order,
        "every_order": stats.unique_order,
        "reordered": stats.reordered,
        # the dual bound of an exact model holds for every schedule in its compute order
        "dual_bound": (_dual_cycles(stats.model_bound)
                       if stats.exact and stats.model_bound is not None else None),
        "solutions": [list(x) for x in stats.solutions]}
    sched.runtime_info["milp"] = {"trace": stats.trace, "messages": stats.messages}
    return sched


def _acceptable_start(form: Formulation, inc: Incumbent, name: str, stats: MilpStats, *,
                      solver: str, threads: int, time_limit: float,
                      original: Problem, deadline: float | None = None) -> Incumbent:
    """``inc`` when it satisfies every constraint of ``form``; else the families' repairs of
    it; else a solution of the model itself. Raises :class:`Infeasible` (with a diagnosis)
    when the model is proven infeasible, :class:`StartRefused` when nothing is found.

    With a ``deadline`` (a heuristic start under the core families only, which the model
    admits by construction: it holds the start's release events and replication), a check
    that cannot finish by then is given up and the start kept: every solution is judged by
    the evaluator anyway."""
    form.start_from(inc)
    try:
        broken = form.violated(deadline=deadline)
    except TimeoutError:
        stats.messages.append(f"the {name} start was not checked against the model (time "
                              "limit)")
        return inc
    if not broken:
        return inc
    stats.messages.append(f"the {name} start breaks the families ({broken[0]}"
                          + (f" and {len(broken) - 1} more" if len(broken) > 1 else "") + ")")
    fixed = inc
    for f in form.families:
        got = f.repair(form.problem, fixed)
        if got is not None:
            fixed = got
    if fixed is not inc:
        form.start_from(fixed)
        if not form.violated():
            stats.messages.append("start repaired by the families " + ", ".join(
                f.name for f in form.families if type(f).repair is not Family.repair))
            return fixed
    # no repair: the model searches for any schedule that keeps every family
    out = form.solve(solver=solver, time_limit=time_limit, threads=threads)
    stats.messages += out.messages
    if out.status == "infeasible":
        diag = diagnose(original, form.families, solver=solver, threads=threads,
                        time_limit=time_limit)
        raise diag or Infeasible("infeasible: the families cannot all hold",
                                 [f.name for f in form.families])
    if out.objective is None:
        raise StartRefused(f"no start keeps every family: the {name} start breaks them and "
                           f"the model found no schedule in {time_limit:.0f} s "
                           f"(solver status {out.status})")
    stats.messages.append("start: the model's own first solution (no repair applied)")
    return form.decisions()
