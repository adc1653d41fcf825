"""TEMPORARY local stub of the helper's module (not committed)."""
from __future__ import annotations
import math, time
from dataclasses import dataclass
from typing import Any
import pyomo.environ as pyo

@dataclass
class SolveOutcome:
    status: str
    termination: str = ""
    message: str = ""
    objective: float | None = None
    bound: float | None = None
    has_solution: bool = False
    runtime_s: float = 0.0

class Session:
    def __init__(self, model, solver="highs"):
        self.model, self.solver, self.opt = model, solver, None
    def solve(self, *, time_limit, threads=1, seed=0, rel_gap=None, cutoff=None, presolve=True, options=None):
        from pyomo.contrib.solver.common.factory import SolverFactory
        t0 = time.perf_counter()
        if self.opt is None:
            self.opt = SolverFactory("highs", treat_fixed_vars_as_params=False)
            self.opt.set_instance(self.model)
        else:
            self.opt.update()
        so = {"random_seed": seed, "presolve": "choose" if presolve else "off"}
        if cutoff is not None:
            so["objective_bound"] = cutoff
        kw = dict(load_solutions=False, raise_exception_on_nonoptimal_result=False, time_limit=time_limit, threads=threads, solver_options=so)
        if rel_gap is not None: kw["rel_gap"] = rel_gap
        res = self.opt.solve(self.model, **kw)
        tc = str(res.termination_condition)
        has = res.incumbent_objective is not None
        if has: res.solution_loader.load_vars()
        st = ("optimal" if "convergence" in tc else "infeasible" if "nfeasible" in tc else "time_limit" if "TimeLimit" in tc else "error" if "rror" in tc else ("feasible" if has else "no_solution"))
        if st == "infeasible" and cutoff is not None: st = "no_solution"
        b = res.objective_bound
        return SolveOutcome(st, tc, "", res.incumbent_objective, float(b) if b is not None and math.isfinite(float(b)) else None, has, time.perf_counter()-t0)
