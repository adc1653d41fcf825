r"""Least periods of reduced periodic instances by a dedicated MILP (docs/bounds.md,
"Periodic bound", "Whose gap on ResNet-50 and DenseNet-161").

Run: ``python benchmarks/periodic_milp.py [--network resnet50] [--k 4,8,12] [--ratio R]
[--time-limit 120] [--orders 24] [--jit-replication]``; networks: the built-in ones and
the reduced ``resnet-1111``, ``densenet-1111``, ``densenet-1221`` (:data:`REDUCED`).

For each prefix with the first ``k`` weight-bearing layers (as ``benchmarks/prefix_gap.py``
builds them) on a copy of the hardware with fewer PEs (``N`` = the prefix's rows at
replication 1 over ``R``, default the full network's ratio, rounded up to whole PEs), prints
the MILP's least period (status and dual bound), the steady-state ``jit`` period and the
periodic lower bound (``lower``, with its window bound).

The model is the *row-count relaxation* of the periodic problem for one compute order: it
keeps every rule of a periodic schedule with one inference per period except that the rows
are counted instead of named (at every instant at most ``N`` rows are held; the evaluator
also asks that each row's holds be disjoint modulo ``P``, which counting alone does not give
for arcs of a circle). Its optimum is therefore a lower bound on the least period of that
order, and the least over every order (``Problem.orders``) a lower bound on the least period:

- the computes of one inference are one sequence in the order (R4), each step at
  ``c_i >= c_{i-1} + d_{i-1}``, ``d_i = ceil(w_i / r_i) L`` at the chosen replication
  ``r_i`` (binaries over every factor that gives a distinct compute), and span at most ``P``
  (R4p, ``c_0 = 0``);
- a streamed part holds ``h_k = r_k a_k`` rows over ``[c_k - T, e_k)`` (writing earlier only
  holds longer), and ``T + d_k <= P``; a resident layer holds its rows for good;
- the rows held are largest at the start of some hold, so it is enough to count at every
  streamed part's write start ``c_j - T``: the holds of this inference's parts ``k`` before
  ``j`` that end after it (``e_k > c_j - T``, binary ``delta``) and of the previous
  inference's parts ``k`` after ``j`` (``e_k - P > c_j - T``, binary ``gamma``); no other
  copy of a hold can contain that instant, since the computes span at most ``P``;
- memory bandwidth does not bind (``write_slots >= N``, checked).

Times are continuous, so the optimum is rounded up. When it meets the ``jit`` period the
``jit`` schedule is optimal; the periodic bound's distance to it is the bound's share.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace

import pyomo.environ as pyo
from prefix_gap import prefix

from aras.evaluation.periodic import evaluate_periodic
from aras.evaluation.periodic_bounds import periodic_bounds
from aras.frontends.zoo import BUILTIN, _densenet, _resnet
from aras.methods.heuristics.steady import shortest_period
from aras.methods.steady import solve_steady
from aras.model.hardware import load_hardware
from aras.model.mapping import Problem, map_network


def candidates(p: Problem, k: int) -> list[int]:
    """The smallest factor of every distinct compute ``ceil(w / r)`` up to the largest."""
    s = p.steps[k]
    out: dict[int, int] = {}
    for r in range(1, p.max_replication(s) + 1):
        out.setdefault(p.compute_cycles(s, r), r)
    return sorted(out.values())


def build(p: Problem) -> pyo.ConcreteModel:
    """The row-count relaxation of ``p``'s compute order (module docstring)."""
    hw = p.hardware
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    assert hw.max_concurrent_row_writes >= N, "memory bandwidth binds: not modelled"
    steps = p.steps
    W = [s.index for s in steps if s.weighted]
    R = {k: candidates(p, k) for k in W}
    H = {k: max(R[k]) * steps[k].apu_rows for k in W}
    layers = sorted({steps[k].layer for k in W})
    m = pyo.ConcreteModel()
    m.KR = pyo.Set(initialize=[(k, r) for k in W for r in R[k]], dimen=2)
    m.x = pyo.Var(m.KR, domain=pyo.Binary)
    m.y = pyo.Var(layers, domain=pyo.Binary)  # resident layer
    m.c = pyo.Var(range(len(steps)), domain=pyo.NonNegativeReals)
    m.P = pyo.Var(domain=pyo.NonNegativeReals)
    m.one = pyo.Constraint(W, rule=lambda m, k: sum(m.x[k, r] for r in R[k]) == 1)

    def d(i: int):  # noqa: ANN202
        s = steps[i]
        if not s.weighted:
            return s.fixed_cycles
        return sum(p.compute_cycles(s, r) * m.x[i, r] for r in R[i])

    def h(k: int):  # noqa: ANN202
        return sum(r * steps[k].apu_rows * m.x[k, r] for r in R[k])

    m.c[0].fix(0)
    m.seq = pyo.Constraint(range(1, len(steps)),
                           rule=lambda m, i: m.c[i] >= m.c[i - 1] + d(i - 1))
    last = len(steps) - 1
    m.span = pyo.Constraint(expr=m.c[last] + d(last) <= m.P)
    bigP = T + sum(p.compute_cycles(s, 1) if s.weighted else s.fixed_cycles for s in steps)
    lay = {k: steps[k].layer for k in W}
    m.hold = pyo.Constraint(W, rule=lambda m, k: T + d(k) - bigP * m.y[lay[k]] <= m.P)
    # resident rows
    m.res = pyo.Var(W, domain=pyo.NonNegativeReals)
    m.res_lo = pyo.Constraint(W, rule=lambda m, k: m.res[k] >= h(k) - H[k] * (1 - m.y[lay[k]]))
    resident = sum(m.res[k] for k in W)
    m.res_fit = pyo.Constraint(expr=resident <= N)
    pairs = [(j, k) for j in W for k in W if k != j]
    m.z = pyo.Var(pairs, domain=pyo.Binary)  # hold of k contains the write start of j
    m.zh = pyo.Var(pairs, domain=pyo.NonNegativeReals)  # its rows
    e = {k: m.c[k] + d(k) for k in W}

    def contain(m, j, k):  # noqa: ANN001, ANN202
        if k < j:  # this inference's k: not counted only if it ends by c_j - T
            return e[k] - (m.c[j] - T) <= T * m.z[j, k]
        return e[k] - m.P - (m.c[j] - T) <= T * m.z[j, k]  # previous inference's k

    m.contain = pyo.Constraint(pairs, rule=contain)
    m.zh_lo = pyo.Constraint(
        pairs, rule=lambda m, j, k: m.zh[j, k] >= h(k) - H[k] * (1 - m.z[j, k])
        - H[k] * m.y[lay[k]])
    m.rows_held = pyo.Constraint(
        W, rule=lambda m, j: h(j) + sum(m.zh[j, k] for k in W if k != j) + resident
        <= N + (N + sum(H.values())) * m.y[lay[j]])
    # valid cuts: ends grow along the order, write starts too
    m.mono = pyo.ConstraintList()
    for j in W:
        prev = None
        for k in W:
            if k == j:
                prev = None
                continue
            if prev is not None:
                m.mono.add(m.z[j, k] >= m.z[j, prev])
            prev = k
    m.obj = pyo.Objective(expr=m.P, sense=pyo.minimize)
    return m


#: HiGHS terminations as the table names them
STATUS = {"convergenceCriteriaSatisfied": "optimal", "maxTimeLimit": "time limit"}


def least_period(p: Problem, time_limit: float, fixed: dict[int, int] | None = None
                 ) -> tuple[float, float, str, dict[int, int] | None]:
    """(best period found, dual bound, status, the incumbent's replication by step index) of
    ``p``'s order; ``fixed``: only these factors (by step index; the smallest factor with the
    same compute stands for each)."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    m = build(p)
    for k, r in m.KR if fixed else ():
        s = p.steps[k]
        assert fixed is not None
        if not (r <= fixed[k] and p.compute_cycles(s, r) == p.compute_cycles(s, fixed[k])):
            m.x[k, r].fix(0)
    opt = SolverFactory("highs")
    res = opt.solve(m, load_solutions=False, raise_exception_on_nonoptimal_result=False,
                    time_limit=time_limit, threads=1, rel_gap=1e-6,
                    solver_options={"random_seed": 0})
    best = res.incumbent_objective
    bound = res.objective_bound
    reps = None
    if best is not None:
        res.solution_loader.load_vars()
        reps = {k: r for (k, r) in m.KR if pyo.value(m.x[k, r]) > 0.5}
    return (float(best) if best is not None else math.inf,
            float(bound) if bound is not None else 0.0,
            STATUS.get(res.termination_condition.name, res.termination_condition.name), reps)


def placed(p: Problem, reps: dict[int, int], lower: int) -> int | None:
    """The period of the just-in-time placement (:func:`shortest_period`, rows named) of the
    MILP's order and replication, checked by the periodic evaluator; None if it fails."""
    ps = shortest_period(p, reps, lower)
    if ps is None:
        return None
    rep = evaluate_periodic(p, ps)
    assert rep.valid, rep.violations
    return ps.period


#: Reduced networks of the same layers: ResNet-50 with one bottleneck block per stage,
#: DenseNet-161 with fewer dense layers per block.
REDUCED = {"resnet-1111": lambda: _resnet("resnet-1111", (1, 1, 1, 1), True),
           "densenet-1111": lambda: _densenet("densenet-1111", (1, 1, 1, 1)),
           "densenet-1221": lambda: _densenet("densenet-1221", (1, 2, 2, 1))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet50", choices=sorted(BUILTIN) + sorted(REDUCED))
    ap.add_argument("--k", default="4,8,12")
    ap.add_argument("--ratio", type=float, default=None,
                    help="rows at replication 1 per APU row (default: the full network's)")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--orders", type=int, default=24)
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--jit-replication", action="store_true",
                    help="also solve jit's order at jit's replication (last column)")
    args = ap.parse_args()
    hw = load_hardware(args.hardware)
    net = (BUILTIN.get(args.network) or REDUCED[args.network])()
    full = map_network(net, hw)
    ratio = args.ratio or full.weight_rows / hw.total_apu_rows
    print(f"{args.network} prefixes, N = rows / {ratio:.2f} in whole PEs, MILP "
          f"{args.time_limit:g} s an order; periods in cycles (T = {hw.write_latency_cycles})\n")
    extra_col = " MILP at jit's order and replication |" if args.jit_replication else ""
    print("| weighted layers | N | orders | MILP least period | status | MILP bound "
          "| MILP's choice placed | jit | periodic bound | window bound | jit above least "
          "| bound below least | seconds |" + extra_col)
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|" + "---|" * bool(extra_col))
    for k in (int(x) for x in args.k.split(",")):
        sub = prefix(net, k)
        rows = map_network(sub, hw).weight_rows
        pes = max(1, math.ceil(rows / ratio / hw.apu_rows_per_pe))
        h2 = replace(hw, pes=pes)
        p = map_network(sub, h2)
        t = time.perf_counter()
        jit = solve_steady(p, "jit", "auto")
        orders = p.orders(args.orders)
        n_orders = str(len(orders)) if orders is not None else "jit's"
        if orders is None:  # too many: jit's order only (the least period of that order)
            orders = [[(s.layer, s.part) for s in sorted(jit.schedule.schedule.steps,
                                                          key=lambda s: (s.start, s.end))]]
        best, bound, stats, place = math.inf, math.inf, set(), math.inf
        pb = periodic_bounds(p)
        for keys in orders:
            q = p.reordered(keys)
            v, b, st, reps = least_period(q, args.time_limit)
            best, bound = min(best, v), min(bound, b)
            stats.add(st)
            if reps is not None:
                place = min(place, placed(q, reps, pb.lower) or math.inf)
        jp = jit.schedule.period
        least = math.ceil(bound - 1e-6)
        extra = ""
        if args.jit_replication:
            done = sorted(jit.schedule.schedule.steps, key=lambda s: (s.start, s.end))
            q = p.reordered([(s.layer, s.part) for s in done])
            by_key = {(s.layer, s.part): s.replication for s in done}
            fixed = {s.index: by_key[(s.layer, s.part)] for s in q.weighted_steps}
            v, b, st_, _ = least_period(q, args.time_limit, fixed)
            extra = f" {math.ceil(b - 1e-6):,} ({st_}) |"
        print(f"| {k} | {h2.total_apu_rows} | {n_orders} | {math.ceil(best - 1e-6):,} | "
              f"{'/'.join(sorted(stats))} | {least:,} | {place:,} | {jp:,} | {pb.lower:,} | "
              f"{pb.window:,} | {jp / least - 1:.2%} | {1 - pb.lower / least:.2%} | "
              f"{time.perf_counter() - t:.0f} |{extra}", flush=True)


if __name__ == "__main__":
    main()
