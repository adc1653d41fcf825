"""``solve_steady``: a steady-state (periodic) schedule by one method, evaluated by the
periodic evaluator, with the periodic bounds and the isolated schedule of the same method
beside it (``aras solve NET --steady-state``)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aras.evaluation.evaluator import evaluate
from aras.evaluation.periodic import PeriodicReport, evaluate_periodic
from aras.evaluation.periodic_bounds import PeriodicBounds, periodic_bounds
from aras.evaluation.rules import as_rules
from aras.methods.heuristics import aras, baseline, jit
from aras.methods.heuristics.steady import shortest_period, steady, tile
from aras.model.errors import InputError, arg_name
from aras.model.limits import integer, number
from aras.model.mapping import Problem, map_network
from aras.model.periodic import MAX_INFERENCES, PeriodicSchedule, repeat_network

#: Methods with a steady-state version (``milp``: resident layers and replication chosen by
#: the MILP of :mod:`formulations.resident`, from the ``jit`` steady state).
STEADY_METHODS = ("baseline", "aras", "jit", "milp")


def check_resident_option(value: Any, where: str | None = None) -> str | float:
    """``none``, ``auto`` or a share of the rows in 0..1 (a string from the command line is
    read as a number when it is one).

    Raises
    ------
    InputError
        Naming ``where`` (default ``resident``, ``--resident`` under the CLI) for anything
        else (NaN and infinities included).
    """
    where = where or arg_name("resident")
    if value in ("none", "auto"):
        return str(value)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise InputError(f"{where}: none, auto or a share of the rows in 0..1, got "
                             f"{value!r}") from None
    return number(value, where, lo=0, hi=1)


@dataclass
class SteadyResult:
    """A steady-state solve.

    Attributes
    ----------
    method
        The method.
    schedule, report
        The periodic schedule and its evaluation.
    bounds
        The periodic bounds.
    isolated_makespan
        Makespan of the same method's isolated schedule (cycles).
    runtime_s
        Wall time of the method.
    tried
        The resident choices tried (share, rows, period, latency).
    stats
        ``milp``: the solve's status, objective, bound, model size, what was kept.
    """

    method: str
    schedule: PeriodicSchedule
    report: PeriodicReport
    bounds: PeriodicBounds
    isolated_makespan: int
    runtime_s: float
    tried: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, problem: Problem) -> dict[str, Any]:
        """The JSON report of ``aras solve --steady-state --json``."""
        hw = problem.hardware
        rep = self.report
        T = hw.write_latency_cycles
        d: dict[str, Any] = {
            "network": problem.network.name, "hardware": hw.name, "method": self.method,
            "steady_state": True, "valid": rep.valid,
            "period_cycles": self.schedule.period, "inferences": self.schedule.inferences,
            "period_per_inference_cycles": self.schedule.period / self.schedule.inferences,
            "latency_cycles": rep.latency_cycles if rep.valid else self.schedule.latency,
            "period_write_latencies": self.schedule.period / self.schedule.inferences / T,
            "isolated_makespan_cycles": self.isolated_makespan,
            "isolated_method": "jit" if self.method == "milp" else self.method,
            "period_vs_isolated": self.schedule.period / self.schedule.inferences
            / self.isolated_makespan - 1 if self.isolated_makespan else None,
            "lower_bound_cycles": self.bounds.lower, "bounds_cycles": self.bounds.to_dict(),
            "gap": self.schedule.period / self.bounds.lower - 1 if self.bounds.lower else None,
            "resident": list(self.schedule.resident), "runtime_s": self.runtime_s,
            "tried": self.tried, **self.stats,
        }
        d.update({k: v for k, v in rep.to_dict().items() if k not in d})
        return d


def _milp(problem: Problem, resident: str | float, banks: str, lower: int, omega: float,
          time_limit: float, seed: int) -> PeriodicSchedule:
    """The ``jit`` steady state, then the MILP's resident layers and factors placed by the
    same scheduler; the better by the MILP's own objective (period + omega T x rows written)
    as the evaluator-side figures give it."""
    from formulations.resident import choose

    T = problem.hardware.write_latency_cycles
    start = steady(problem, "jit", resident, banks=banks, lower=lower)

    def value(ps: PeriodicSchedule) -> float:
        res = set(ps.resident)
        written = sum(1 for x in ps.schedule.writes.layer.tolist() if x not in res)
        return ps.period + omega * T * written

    choice = choose(problem, omega=omega, time_limit=time_limit, seed=seed,
                    p_hi=int(value(start)) + 1)
    info = {k: v for k, v in choice.__dict__.items() if k not in ("reps", "resident")}
    info["resident_layers"] = len(choice.resident)
    best = start
    if choice.reps:
        got = shortest_period(problem, choice.reps, lower, choice.resident, "milp", banks)
        if got is not None and value(got) < value(start):
            best = got
            info["kept"] = "milp"
        else:
            info["kept"] = "jit start"
    best.schedule.method = "milp"
    best.runtime_info["tried"] = list(start.runtime_info.get("tried", []))
    best.runtime_info["milp"] = info
    return best


def solve_steady(problem: Problem, method: str = "baseline", resident: Any = "none", *,
                 banks: str = "greedy", weights: Any = None, omega: float = 1e-3,
                 time_limit: float = 10.0, seed: int = 0, inferences: int = 1,
                 rules: Any = None) -> SteadyResult:
    """Schedule one inference per period with a method's steady-state version.

    Parameters
    ----------
    problem
        The mapped network.
    method
        One of :data:`STEADY_METHODS`.
    resident
        ``none``, ``auto`` or a share of the rows for resident layers
        (:func:`aras.methods.heuristics.steady.steady`).
    banks
        Gbuffer bank choice per step (``greedy``, ``exact``, ``ilp``).
    weights
        Real weight codes per layer (default: the network's, else the statistical model).
    omega, time_limit, seed
        ``milp`` only: cycles of period worth one written row (the write-energy weight), the
        HiGHS time limit and seed.
    inferences
        Inferences per period (1 .. 64): the network repeated that many times is scheduled
        as one period; bounds and the period are then per ``inferences`` inferences.
    rules
        Rules of one's own (:class:`aras.evaluation.rules.Rule`), checked by
        :func:`aras.evaluation.periodic.evaluate_periodic` on the schedule of one period; a
        schedule breaking one is reported invalid.

    Raises
    ------
    InputError
        An unknown method, resident choice or bank mode, ``rules[i]`` that is no rule, a
        problem mapped at a batch above 1 (not modelled for periodic schedules), before any
        work.
    """
    if problem.batch > 1:
        raise InputError(f"{arg_name('batch')}: periodic schedules run one inference at a "
                         f"time; the problem is mapped at batch {problem.batch}")
    if method not in STEADY_METHODS:
        raise InputError(f"{arg_name('method')}: no steady-state version of '{method}' (known: "
                         f"{', '.join(STEADY_METHODS)})")
    if banks not in ("greedy", "exact", "ilp"):
        raise InputError(f"{arg_name('banks')}: steady-state schedules take greedy, exact or "
                         f"ilp banks, got {banks!r}")
    res = check_resident_option(resident)
    rules = list(rules) if isinstance(rules, Iterator) else rules  # (read once below)
    as_rules(rules)
    m = integer(inferences, arg_name("inferences", "--inferences-per-period"), lo=1,
                hi=MAX_INFERENCES)
    if m > 1 and res != "none":
        raise InputError(f"{arg_name('resident')}: resident layers are only defined with one "
                         "inference per period")
    if weights is None:
        weights = problem.network.codes
    number(omega, arg_name("omega", "--write-weight"), lo=0)
    number(time_limit, arg_name("time_limit"), lo=0, lo_open=True)
    if method == "milp" and m > 1:
        raise InputError(f"{arg_name('inferences', '--inferences-per-period')}: milp schedules "
                         "one inference per period")
    repeated = (map_network(repeat_network(problem.network, m), problem.hardware) if m > 1
                else problem)
    b = periodic_bounds(repeated)
    t0 = time.perf_counter()
    if method == "milp":
        ps = _milp(problem, res, banks, b.lower, omega, time_limit, seed)
    else:
        ps = steady(problem, method, res, banks=banks, lower=b.lower, repeated=repeated,
                    copies=m)
        if m > 1:  # never worse than one inference per period, tiled
            one = steady(problem, method, res, banks=banks,
                         lower=periodic_bounds(problem).lower)
            if m * one.period < ps.period:
                ps = tile(one, m)
            ps = PeriodicSchedule(ps.schedule, ps.period, (), m, ps.runtime_info)
            ps.schedule.network = problem.network.name
    runtime = time.perf_counter() - t0
    if problem.network.source is not None:
        ps.schedule.extra.setdefault("network_source", problem.network.source)
    rep = evaluate_periodic(problem, ps, weights=weights, rules=rules)
    iso = (baseline(problem, banks=banks) if method == "baseline" else
           aras(problem, banks=banks) if method == "aras" else jit(problem, banks=banks))
    extra = {"milp": ps.runtime_info["milp"]} if "milp" in ps.runtime_info else {}
    iso_rep = evaluate(problem, iso, cost=False)  # (its makespan only)
    return SteadyResult(method, ps, rep, b, iso_rep.makespan_cycles if iso_rep.valid else 0,
                        runtime, list(ps.runtime_info.get("tried", [])), extra)


__all__ = ["STEADY_METHODS", "SteadyResult", "solve_steady", "check_resident_option"]
