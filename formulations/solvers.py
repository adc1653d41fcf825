"""One way to solve every aras model: a :class:`Session` per model, a :class:`SolveOutcome`
per solve, whichever solver.

Solvers (``--solver``, :data:`SOLVERS`):

``highs``
    HiGHS through Pyomo's persistent ``pyomo.contrib.solver`` interface (highspy). The model
    is loaded once; fixed variables are column bounds (``treat_fixed_vars_as_params=False``),
    so the fixings that change between solves reach HiGHS as bound changes, not a reload.
``cbc``
    COIN-OR CBC (the ``cbc`` executable, e.g. Debian's ``coinor-cbc``) through Pyomo's legacy
    ``pyomo.environ.SolverFactory("cbc")``: every solve writes the model (fixed variables as
    constants) to an LP file and runs ``cbc`` on it. ``time_limit`` is CBC's ``sec`` in
    elapsed time; a CBC that overruns it by more than a second (1%) is killed and the solve
    ends ``time_limit`` without a solution.

Every solve ends in one of :data:`STATUSES`. Only ``optimal``, ``feasible`` and
``time_limit`` are a solver doing its job; ``no_solution`` (nothing better than the cutoff,
or nothing at all) and ``infeasible`` are answers the caller interprets; ``unbounded`` and
``error`` are failures, with the solver's own words in :attr:`SolveOutcome.message`.

HiGHS's thread scheduler
------------------------
HiGHS (1.16) keeps one task scheduler per calling OS thread, created by the first HiGHS run on
that thread with that run's ``threads`` option (0, the default, meaning half the cores) and kept
for the life of the thread. A later run on the same thread whose ``threads`` is not 0 and not
that number stops at once with an error ("Option 'threads' is set to 1 but the scheduler has
already been initialized to use 2 threads"), model status ``kNotset``. So any HiGHS solve in
the process with default threads (a user's own model, say) made every later aras solve with
``threads=1`` fail. Every HiGHS run made here is therefore wrapped in
``highspy.Highs.resetGlobalScheduler(True)`` before (start a scheduler with the threads asked
for) and after (leave the thread as a fresh process would, so aras's solves change nothing
for the caller's later ones). :data:`RESET_HIGHS_SCHEDULER` turns this off.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import pyomo.environ as pyo

from aras.model.errors import InputError

__all__ = ["RESET_HIGHS_SCHEDULER", "SOLVERS", "STATUSES", "Session", "SolveOutcome",
           "available_solvers", "check_solver"]

#: Solvers a :class:`Session` drives (``--solver``), with what installs them.
SOLVERS: dict[str, str] = {
    "highs": "HiGHS via highspy (a dependency of aras)",
    "cbc": "COIN-OR CBC, the `cbc` executable on PATH (Debian/Ubuntu: apt-get install "
           "coinor-cbc)",
}

#: Every :attr:`SolveOutcome.status`.
STATUSES = ("optimal", "feasible", "time_limit", "infeasible", "unbounded", "no_solution",
            "error")

#: Reset HiGHS's per-thread scheduler before and after every HiGHS run (module docstring).
#: Cost, measured with highspy 1.16 on the project's 2-core machine: 3 us per reset after a
#: single-threaded run, 40 us after a two-threaded one (its worker thread is joined), against
#: 1.4 ms for the smallest MIP HiGHS solves and 0.4-1.7 s per ``milp`` window on ResNet-18 and
#: ResNet-50. ``milp`` from a fixed jit start (time limit 300 s, sweeps run to the end) gave the
#: same 10 (13) windows and schedule with and without it, in 4.1-4.3 s against 4.0-4.2 s on
#: ResNet-18 and 21-34 s against 21-32 s on ResNet-50 (three runs each on a shared machine:
#: the difference is noise). Set False only to keep a scheduler of one's own alive between
#: solves (then every HiGHS run in the thread must ask for the same ``threads``).
RESET_HIGHS_SCHEDULER = True

#: Termination conditions (Pyomo's names) that mean the time limit stopped the search.
_TIME_LIMIT = ("maxTimeLimit",)


@dataclass
class SolveOutcome:
    """How one solve ended.

    Attributes
    ----------
    status
        One of :data:`STATUSES`: ``optimal`` (proven within the gap asked for), ``feasible``
        (a solution, no proof, no limit hit), ``time_limit`` (stopped by the time limit, with or
        without a solution), ``infeasible``, ``unbounded``, ``no_solution`` (ended without a
        solution and without a failure: nothing better than the cutoff), ``error``.
    termination
        The solver's raw termination (Pyomo's name for it, e.g. ``convergenceCriteriaSatisfied``).
    message
        The solver's own words where it gives them (HiGHS's ``ERROR:`` lines, CBC's log), or
        what went wrong; empty on a normal end.
    objective
        The objective the solver claims for its incumbent (None without one).
    bound
        The solver's dual bound (None when it gives no finite one).
    has_solution
        The incumbent's values were loaded into the model's variables.
    runtime_s
        Wall time of the solve, model transfer included.
    solver
        The solver's name (a key of :data:`SOLVERS`).
    """

    status: str
    termination: str
    message: str = ""
    objective: float | None = None
    bound: float | None = None
    has_solution: bool = False
    runtime_s: float = 0.0
    solver: str = "highs"

    @property
    def failed(self) -> bool:
        """The solver did not do its job (``error`` or ``unbounded``): say so to the user."""
        return self.status in ("error", "unbounded")

    def describe(self) -> str:
        """One line for a user: solver, status, raw termination and message."""
        text = f"{self.solver}: {self.status} ({self.termination})"
        return f"{text}: {self.message}" if self.message else text


@cache
def _available(name: str) -> bool:
    if name == "highs":
        try:
            import highspy  # noqa: F401
        except ImportError:
            return False
        return True
    if name == "cbc":
        opt = pyo.SolverFactory("cbc")
        return bool(opt.available(exception_flag=False))
    return False


def available_solvers() -> list[str]:
    """The solvers of :data:`SOLVERS` that work on this machine, in that order."""
    return [n for n in SOLVERS if _available(n)]


def check_solver(name: Any) -> str:
    """``name`` if it is a solver that works here.

    Raises
    ------
    InputError
        ``solver: ...``: not a string, not a solver aras drives, or not installed.
    """
    if not isinstance(name, str):
        raise InputError(f"solver: must be a solver name, got {name!r}")
    if name not in SOLVERS:
        raise InputError(f"solver: unknown solver '{name}' (known: {', '.join(SOLVERS)})")
    if not _available(name):
        raise InputError(f"solver: '{name}' is not available on this machine "
                         f"(needs {SOLVERS[name]})")
    return name


def _reset_highs_scheduler() -> None:
    if RESET_HIGHS_SCHEDULER:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)


def _finite(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class Session:
    """One model, solved many times with changing variable fixings.

    Parameters
    ----------
    model
        A Pyomo model with one active objective.
    solver
        A key of :data:`SOLVERS` (checked by :func:`check_solver`).

    Raises
    ------
    InputError
        An unknown or unavailable solver (``solver: ...``).
    """

    def __init__(self, model: pyo.ConcreteModel, solver: str = "highs"):
        self.model = model
        self.solver = check_solver(solver)
        self._opt: Any = None

    def solve(self, *, time_limit: float, threads: int = 1, seed: int = 0,
              rel_gap: float | None = None, abs_gap: float | None = None,
              cutoff: float | None = None, presolve: bool = True, warm_start: bool = False,
              options: dict[str, Any] | None = None) -> SolveOutcome:
        """Solve the model as it is now (current fixings); load the incumbent if there is one.

        Parameters
        ----------
        time_limit
            Seconds (wall clock).
        threads, seed
            Solver threads and random seed (CBC: seed + 1, since CBC's 0 is the time of day).
        rel_gap, abs_gap
            Relative and absolute MIP gaps to stop at (solver defaults when None).
        cutoff
            Only solutions with an objective better than this (minimisation: below it) are
            wanted: HiGHS ``objective_bound``, CBC ``cutoff``. A solve that finds none ends
            ``no_solution``.
        presolve
            False turns the solver's presolve off.
        warm_start
            Hand the variables' current values to the solver as a MIP start (HiGHS
            ``setSolution``, CBC ``-mipstart``).
        options
            Further solver options by the solver's own names; a value the solver rejects makes
            the outcome ``error`` with the solver's message.

        Returns
        -------
        SolveOutcome
        """
        t0 = time.perf_counter()
        try:
            if self.solver == "highs":
                out = self._highs(time_limit, threads, seed, rel_gap, abs_gap, cutoff,
                                  presolve, warm_start, options or {})
            else:
                out = self._cbc(time_limit, threads, seed, rel_gap, abs_gap, cutoff,
                                presolve, warm_start, options or {})
        except Exception as exc:  # a solver that crashes is an outcome, not the caller's crash
            out = SolveOutcome("error", "exception", f"{type(exc).__name__}: {exc}")
        out.solver = self.solver
        out.runtime_s = time.perf_counter() - t0
        return out

    # ----- HiGHS -----

    def _highs(self, time_limit: float, threads: int, seed: int, rel_gap: float | None,
               abs_gap: float | None, cutoff: float | None, presolve: bool, warm_start: bool,
               options: dict[str, Any]) -> SolveOutcome:
        from pyomo.contrib.solver.common.factory import SolverFactory

        from formulations.highs import warm_start as set_start

        m = self.model
        if self._opt is None:
            self._opt = SolverFactory("highs", treat_fixed_vars_as_params=False)
            self._opt.set_instance(m)
        elif warm_start:
            self._opt.update()  # the start is set on the model as it will be solved
        # Options set on the Highs object persist between its runs: start from the defaults
        # so that an option of an earlier solve (a cutoff, presolve off) does not leak.
        self._opt._solver_model.resetOptions()
        if warm_start:
            set_start(self._opt, m)
        solver_options: dict[str, Any] = {"random_seed": int(seed),
                                          "presolve": "choose" if presolve else "off"}
        if cutoff is not None:
            solver_options["objective_bound"] = float(cutoff)
        solver_options.update(options)
        kwargs: dict[str, Any] = dict(load_solutions=False,
                                      raise_exception_on_nonoptimal_result=False,
                                      time_limit=max(0.01, float(time_limit)),
                                      threads=int(threads), solver_options=solver_options)
        if rel_gap is not None:
            kwargs["rel_gap"] = float(rel_gap)
        if abs_gap is not None:
            kwargs["abs_gap"] = float(abs_gap)
        _reset_highs_scheduler()
        try:
            # the persistent solve pushes changed fixings to HiGHS (update) before running
            res = self._opt.solve(m, **kwargs)
        finally:
            _reset_highs_scheduler()
        tc = res.termination_condition.name
        errors = [line.strip().removeprefix("ERROR:").strip()
                  for line in (res.solver_log or "").splitlines()
                  if line.strip().startswith("ERROR:")]
        incumbent = _finite(res.incumbent_objective)
        status = _highs_status(tc, incumbent is not None, cutoff is not None)
        if errors:
            status = "error"  # HiGHS did not run as asked (rejected option, thread clash)
        message = "; ".join(errors)
        if status == "error" and not message:
            message = f"HiGHS ended with termination '{tc}'"
        elif status == "unbounded" and not message:
            message = "the model is unbounded"
        elif tc == "infeasibleOrUnbounded" and status == "infeasible":
            message = "HiGHS did not tell infeasible from unbounded"
        out = SolveOutcome(status, tc, message, incumbent, _finite(res.objective_bound))
        if incumbent is not None and status in ("optimal", "feasible", "time_limit"):
            res.solution_loader.load_vars()
            out.has_solution = True
        return out

    # ----- CBC -----

    def _cbc(self, time_limit: float, threads: int, seed: int, rel_gap: float | None,
             abs_gap: float | None, cutoff: float | None, presolve: bool, warm_start: bool,
             options: dict[str, Any]) -> SolveOutcome:
        from pyomo.opt import SolverStatus, TerminationCondition
        from pyomo.opt.solver import shellcmd

        if self._opt is None:
            self._opt = pyo.SolverFactory("cbc")
        opt = self._opt
        opt.options.clear()
        cbc_seed = min(int(seed) + 1, (1 << 31) - 1)
        opt.options["randomCbcSeed"] = cbc_seed
        opt.options["randomSeed"] = cbc_seed
        if threads > 1:
            opt.options["threads"] = int(threads)
        if rel_gap is not None:
            opt.options["ratioGap"] = float(rel_gap)
        if abs_gap is not None:
            opt.options["allowableGap"] = float(abs_gap)
        if cutoff is not None:
            opt.options["cutoff"] = float(cutoff)
        if not presolve:
            opt.options["presolve"] = "off"
            opt.options["preprocess"] = "off"
        opt.options.update(options)
        limit = max(0.01, float(time_limit))
        with tempfile.TemporaryDirectory(prefix="aras-cbc-") as tmp:
            log = os.path.join(tmp, "cbc.log")
            try:
                res = opt.solve(self.model, load_solutions=False, timelimit=limit,
                                warmstart=warm_start, logfile=log)
            except subprocess.TimeoutExpired:
                # Pyomo kills the process this long after the limit
                grace = max(shellcmd.SUBPROCESS_TIMEOUT_ABS_ADJUST,
                            shellcmd.SUBPROCESS_TIMEOUT_REL_ADJUST * limit)
                return SolveOutcome("time_limit", "killed",
                                    f"CBC did not stop at its {limit:g} s limit and was killed "
                                    f"after {limit + grace:g} s")
            text = ""
            if os.path.exists(log):
                with open(log) as f:
                    text = f.read()
        tc = res.solver.termination_condition
        st = res.solver.status
        name = str(tc.value if hasattr(tc, "value") else tc)
        sol = len(res.solution) > 0 and tc in (TerminationCondition.optimal,
                                               TerminationCondition.maxTimeLimit,
                                               TerminationCondition.feasible,
                                               TerminationCondition.other,
                                               TerminationCondition.maxEvaluations,
                                               TerminationCondition.maxIterations)
        sense_min = _minimising(self.model)
        upper, lower = _finite(res.problem[0].upper_bound), _finite(res.problem[0].lower_bound)
        incumbent, bound = (upper, lower) if sense_min else (lower, upper)
        if not sol:
            incumbent = None
        complaints = [ln.strip() for ln in text.splitlines()
                      if ln.strip().startswith(("No match for", "** ", "Error", "ERROR"))
                      or "not recognized" in ln]
        if tc == TerminationCondition.optimal:
            status = "optimal" if sol else "no_solution"
        elif tc == TerminationCondition.maxTimeLimit or "Result - Stopped on time" in text:
            # Pyomo reads CBC's "Stopped on time limit" without a solution (its solution file
            # then says "Stopped on time - no solution") as intermediateNonInteger
            status = "time_limit"
        elif tc == TerminationCondition.feasible:
            status = "feasible"
        elif tc in (TerminationCondition.infeasible, TerminationCondition.infeasibleOrUnbounded):
            status = "no_solution" if cutoff is not None else "infeasible"
        elif tc == TerminationCondition.unbounded:
            status = "unbounded"
        else:
            status = "error"
        if st in (SolverStatus.error, SolverStatus.unknown) and status != "error":
            status = "error"
        if complaints:
            status = "error"  # CBC skipped an option it did not understand
        message = "; ".join(complaints)
        if status in ("error", "unbounded") and not message:
            message = (f"CBC ended with status '{st}', termination '{name}'"
                       + (f": {extra}" if (extra := str(getattr(res.solver, "message", "")
                                                         or "")) and extra != "<undefined>"
                          else ""))
        out = SolveOutcome(status, name, message, incumbent, bound)
        if sol and status in ("optimal", "feasible", "time_limit"):
            # the status is decided above; without this, Pyomo logs a warning for a solution
            # of a solve stopped by its limit, on stdout (where it would break --json)
            res.solver.status = SolverStatus.ok
            self.model.solutions.load_from(res)
            out.has_solution = True
            if out.objective is None:
                out.objective = _finite(pyo.value(_objective(self.model)))
        return out


def _objective(m: pyo.ConcreteModel) -> Any:
    return next(m.component_data_objects(pyo.Objective, active=True))


def _minimising(m: pyo.ConcreteModel) -> bool:
    return _objective(m).sense == pyo.minimize


def _highs_status(tc: str, incumbent: bool, cutoff: bool) -> str:
    """A :data:`STATUSES` entry for a Pyomo contrib termination of HiGHS."""
    if tc == "convergenceCriteriaSatisfied":
        return "optimal" if incumbent else "no_solution"
    if tc in _TIME_LIMIT:
        return "time_limit"
    if tc == "objectiveLimit":  # HiGHS's objective_bound (the cutoff) ended the search
        return "feasible" if incumbent else "no_solution"
    if tc in ("provenInfeasible", "locallyInfeasible", "infeasibleOrUnbounded"):
        return "no_solution" if cutoff else "infeasible"
    if tc == "unbounded":
        return "unbounded"
    # error, unknown (HiGHS ran nothing: kNotset), interrupted, an iteration or node limit
    # aras never sets, a licensing problem, an empty model
    return "error"
