"""formulations.solvers: outcomes, HiGHS's per-thread scheduler, CBC against HiGHS.

HiGHS's scheduler is per OS thread and lives as long as the thread, so every test that
depends on what ran before in the thread runs in a fresh subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyomo.environ as pyo
import pytest

from aras.methods.solve import Status, solve
from aras.model.errors import InputError
from aras.model.hardware import aras_hardware, baseline_hardware
from formulations import banks as bank_ilp
from formulations.solvers import SOLVERS, Session, available_solvers, check_solver
from tests.exhaustive import corpus, optimum
from tests.helpers import ROOT, run_cli

HAVE_CBC = "cbc" in available_solvers()
if os.environ.get("CI") == "true" and not HAVE_CBC:  # .ci/run installs coinor-cbc
    raise RuntimeError("CI: the cbc executable is missing; .ci/run should have installed it")
needs_cbc = pytest.mark.skipif(not HAVE_CBC, reason="cbc not installed (apt-get install "
                                                    "coinor-cbc)")

#: The user's own model, solved first in the process with HiGHS's default threads.
USER_SOLVE = """
import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory

def user_solve(**kw):
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Integers, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.Integers, bounds=(0, 5))
    m.c = pyo.Constraint(expr=3 * m.x + 2 * m.y >= 7)
    m.o = pyo.Objective(expr=m.x + m.y)
    res = SolverFactory("highs").solve(m, load_solutions=False,
                                       raise_exception_on_nonoptimal_result=False, **kw)
    return res.termination_condition.name, res.incumbent_objective

assert user_solve() == ("convergenceCriteriaSatisfied", 3.0), user_solve()
"""


def _run(script: str) -> dict:
    """Run ``script`` (after :data:`USER_SOLVE`) in a fresh interpreter; its last stdout line
    is JSON."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", USER_SOLVE + textwrap.dedent(script)],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


ARAS_SOLVES = """
import json
from aras.frontends import load_network
from aras.methods.solve import solve
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network

p = map_network(load_network("resnet-18"), aras_hardware())
milp = solve(p, method="milp", time_limit=8, window_time=0.5, threads=1)
live = solve(p, method="aras", banks="liveness")
ilp = solve(p, method="aras", banks="ilp")
print(json.dumps({
    "milp": [milp.status.value, milp.stats["milp"]["solver_status"],
             milp.stats["milp"]["windows"], milp.stats["milp"]["improved_windows"],
             milp.messages],
    "liveness": [live.status.value, live.stats["liveness"]["status"],
                 live.stats["liveness"]["source"], live.messages],
    "ilp": [ilp.status.value, ilp.messages],
    "user_after": user_solve(threads=2)}))
"""


def test_highs_solves_after_a_default_threads_solve_in_the_process():
    """A HiGHS solve with default threads first (the scheduler starts with half the cores),
    then aras's single-threaded solves: the milp windows, the liveness bank MILP and the bank
    ILP all run (on the code without the scheduler reset every one of them ended 'unknown':
    milp returned its start as 'feasible', liveness fell back to greedy, the ILP raised)."""
    got = _run(ARAS_SOLVES)
    status, terminations, windows, improved, messages = got["milp"]
    assert status in ("feasible", "time_limit", "optimal"), messages
    assert windows >= 1 and terminations
    assert all(t.removeprefix("TerminationCondition.")
               in ("convergenceCriteriaSatisfied", "maxTimeLimit") for t in terminations), \
        terminations
    assert not any("solver" in m and "error" in m for m in messages), messages
    assert got["liveness"][:3] == ["feasible", "convergenceCriteriaSatisfied", "milp"], got
    assert got["ilp"][0] == "feasible", got["ilp"]
    # aras's single-threaded solves leave the thread as a fresh process has it: the user's
    # next solve runs with any thread count (2 here)
    assert got["user_after"] == ["convergenceCriteriaSatisfied", 3.0]


def test_solver_error_reaches_result_status_and_messages():
    """The clash itself, with the scheduler reset turned off (RESET_HIGHS_SCHEDULER): every
    milp window and the liveness MILP fail, and the Result says so with HiGHS's words."""
    got = _run("""
        import json
        import formulations.solvers
        formulations.solvers.RESET_HIGHS_SCHEDULER = False
        from aras.frontends import load_network
        from aras.evaluation.evaluator import evaluate
        from aras.methods.solve import solve
        from aras.model.hardware import aras_hardware
        from aras.model.mapping import map_network

        p = map_network(load_network("resnet-18"), aras_hardware())
        r = solve(p, method="milp", time_limit=8, window_time=0.5, threads=1)
        live = solve(p, method="aras", banks="liveness")
        ilp = solve(p, method="aras", banks="ilp")
        info = r.stats["milp"]
        print(json.dumps({"milp": [r.status.value, r.objective, info["start_makespan"],
                                   info["solver_errors"], info["windows"], r.messages,
                                   evaluate(p, r.schedule).valid],
                          "liveness": [live.status.value, live.stats["liveness"]["source"],
                                       live.messages],
                          "ilp": [ilp.status.value, ilp.messages]}))
    """)
    clash = "scheduler has already been initialized"
    status, objective, start, errors, windows, messages, valid = got["milp"]
    assert status == "error"
    assert errors == windows >= 1
    # the start is still returned, or what the order moves between sweeps made of it (they
    # need no solver), and it is valid
    assert objective <= start and valid
    assert any(clash in m and m.startswith("solver highs: error") for m in messages), messages
    assert any("MILP solver failed" in m for m in messages), messages
    status, source, messages = got["liveness"]
    assert (status, source) == ("error", "greedy")
    assert any(clash in m for m in messages), messages
    status, messages = got["ilp"]
    assert status == "error" and any(clash in m for m in messages), messages


def _tiny_mip() -> pyo.ConcreteModel:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.Integers, bounds=(0, 10))
    m.y = pyo.Var(domain=pyo.Integers, bounds=(0, 5))
    m.c = pyo.Constraint(expr=3 * m.x + 2 * m.y >= 7)
    m.o = pyo.Objective(expr=m.x + m.y)
    return m


@pytest.mark.parametrize("solver", [
    "highs", pytest.param("cbc", marks=needs_cbc)])
def test_outcomes(solver):
    m = _tiny_mip()
    s = Session(m, solver)
    out = s.solve(time_limit=10)
    # min x + y with 3x + 2y >= 7 over integers: (1, 2) and (3, 0) cost 3, nothing cheaper
    assert (out.status, out.objective, out.has_solution) == ("optimal", 3.0, True)
    assert 3 * m.x.value + 2 * m.y.value >= 7 and m.x.value + m.y.value == 3
    m.x.fix(0)  # then y >= 3.5: y = 4
    out = s.solve(time_limit=10)
    assert (out.status, out.objective, m.y.value) == ("optimal", 4.0, 4)
    m.y.fix(1)
    assert s.solve(time_limit=10).status == "infeasible"
    m.x.unfix()
    m.y.unfix()
    # the fixings are gone again, and so is nothing of the last solve's options
    assert s.solve(time_limit=10).objective == 3.0
    u = pyo.ConcreteModel()
    u.x = pyo.Var()
    u.c = pyo.Constraint(expr=u.x >= 1)
    u.o = pyo.Objective(expr=-u.x)
    out = Session(u, solver).solve(time_limit=10)
    assert out.status == "unbounded" and out.failed and out.message
    assert not out.has_solution


def test_a_rejected_highs_option_is_an_error_with_highs_words():
    m = _tiny_mip()
    s = Session(m)
    out = s.solve(time_limit=10, options={"mip_rel_gap": -1})
    assert out.status == "error" and out.failed and not out.has_solution
    assert 'Value -1 for option "mip_rel_gap" is below lower bound of 0' in out.message
    assert out.describe().startswith("highs: error (convergenceCriteriaSatisfied): ")
    assert s.solve(time_limit=10).status == "optimal"  # the bad option does not persist


def test_check_solver_and_cli_listing():
    assert available_solvers()[0] == "highs" and set(available_solvers()) <= set(SOLVERS)
    assert check_solver("highs") == "highs"
    for bad, needle in ((3, "must be a solver name"), ("gurobi", "unknown solver 'gurobi'")):
        with pytest.raises(InputError) as err:
            check_solver(bad)
        assert str(err.value).startswith("solver: ") and needle in str(err.value)
    with pytest.raises(InputError, match="^solver: unknown solver 'nosuch'"):
        from aras.methods.milp import milp

        milp(None, solver="nosuch")  # type: ignore[arg-type]  # checked before any work
    r = run_cli("solvers")
    assert r.returncode == 0
    rows = {ln.split()[0]: ln.split()[1] for ln in r.stdout.splitlines()[2:] if ln.strip()}
    assert rows == {n: "yes" if n in available_solvers() else "no" for n in SOLVERS}


# ----- CBC against HiGHS -----

@needs_cbc
def test_cbc_and_highs_agree_on_milp_full_optima():
    """milp-full proves the optimum of small chains and branch networks with either solver;
    both equal the exhaustive enumeration's."""
    checked = 0
    for _, p in corpus(6)[:4]:
        want = optimum(p).makespan
        got = {}
        for solver in ("highs", "cbc"):
            r = solve(p, method="milp-full", time_limit=20, solver=solver)
            assert r.status is Status.OPTIMAL, (solver, r.messages)
            assert r.stats["milp"]["solver_errors"] == 0
            got[solver] = r.objective
        assert got == {"highs": want, "cbc": want}
        checked += 1
    assert checked == 4


@needs_cbc
@pytest.mark.parametrize("seed", range(2))
def test_cbc_and_highs_agree_on_the_bank_ilp(seed):
    rng = np.random.default_rng(seed)
    cases = [(aras_hardware().gbuffer_banks, aras_hardware().bank_leakage_w(), 5000, 70_000),
             (baseline_hardware().gbuffer_banks, baseline_hardware().bank_leakage_w(),
              600_000, 300_000)]
    for trial in range(6):
        n = int(rng.integers(2, 8))
        sizes = [int(v) * 1024 for v in rng.integers(1, 40, size=n)]
        leak = ([float(v) for v in rng.uniform(1e-5, 1e-3, size=n)] if trial % 2
                else [s * 3.2e-7 for s in sizes])
        a, b = (int(v) for v in rng.integers(0, sum(sizes) // 2 + 2048, size=2))
        cases.append((sizes, leak, a, b))
    for sizes, leak, a, b in cases:
        h = bank_ilp.solve(sizes, leak, a, b)
        c = bank_ilp.solve(sizes, leak, a, b, solver="cbc")
        assert (h is None) == (c is None)
        if h is None or c is None:
            continue
        for banks_in, banks_out in (h, c):  # disjoint covers
            assert not set(banks_in) & set(banks_out)
            assert sum(sizes[i] for i in banks_in) >= a
            assert sum(sizes[i] for i in banks_out) >= b
        power = [sum(leak[i] for i in x[0] + x[1]) for x in (h, c)]
        assert power[1] == pytest.approx(power[0], rel=1e-9)


@needs_cbc
def test_cbc_liveness_and_cli():
    from aras.methods.heuristics import aras
    from formulations.liveness import LivenessInfo, assign_banks
    from tests.test_liveness import GREEDY_TRAP, skip_problem

    p = skip_problem(10_000, 64e-12, GREEDY_TRAP)
    s = aras(p)
    energies = []
    for solver in ("highs", "cbc"):
        info = LivenessInfo()
        assign_banks(p, s, info=info, solver=solver)
        assert info.source == "milp" and not info.solver_error, info.messages
        energies.append(info.energy_j)
    assert energies[1] == pytest.approx(energies[0], rel=1e-9)
    r = run_cli("solve", "resnet-18", "--method", "milp", "--solver", "cbc", "--time-limit",
                "3", "--window-time", "1", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["valid"] and d["milp"]["solver"] == "cbc" and d["milp"]["solver_errors"] == 0
    assert d["status"] in ("feasible", "time_limit", "optimal")
