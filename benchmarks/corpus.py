"""Bounds and methods against exact optima on the small-instance corpus.

The corpus and its optima come from ``tests/exhaustive.py`` (exhaustive search over every
compute order and replication, no code shared with the methods; its schedules are checked by
the evaluator). For each instance this prints the optimum, the combinatorial certified bound
(``aras.evaluation.bounds``, without the MILP), ``jit`` and ``milp-full`` (with its own dual
bound), then the median and worst distance of the bound to the optimum.

Run from the repository root: ``python benchmarks/corpus.py [--n 30] [--csv out.csv]``.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aras.evaluation.bounds import bounds  # noqa: E402
from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.methods.solve import solve  # noqa: E402
from tests.exhaustive import corpus, optimum, schedule_of  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="instances (default 30, the tests')")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--csv", type=Path, default=None)
    args = ap.parse_args()
    rows = []
    print("| instance | steps | orders | optimum | bound (comb.) | distance | jit | milp-full "
          "| milp bound | status | milp s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, p in corpus(args.n, args.seed):
        opt = optimum(p)
        rep = evaluate(p, schedule_of(p, opt))
        assert rep.valid and rep.makespan_cycles == opt.makespan, name
        lb = bounds(p).lower
        j = solve(p, method="jit")
        t = time.perf_counter()
        m = solve(p, method="milp-full", time_limit=args.time_limit)
        dt = time.perf_counter() - t
        dist = (opt.makespan - lb) / opt.makespan
        rows.append(dict(instance=name, steps=len(p.steps), orders=opt.orders,
                         optimum=opt.makespan, bound=lb, distance=dist, jit=j.objective,
                         milp=m.objective, milp_bound=m.bounds.milp, status=m.status.value,
                         milp_s=round(dt, 2)))
        print(f"| {name} | {len(p.steps)} | {opt.orders} | {opt.makespan} | {lb} | "
              f"{dist:.1%} | {j.objective} | {m.objective} | {m.bounds.milp} | "
              f"{m.status.value} | {dt:.1f} |")
    d = [r["distance"] for r in rows]
    print(f"\n{len(rows)} instances. Combinatorial bound below the optimum: median "
          f"{statistics.median(d):.2%}, mean {statistics.mean(d):.2%}, worst {max(d):.2%}; "
          f"equal on {sum(x == 0 for x in d)}.")
    print(f"jit optimal on {sum(r['jit'] == r['optimum'] for r in rows)}; milp-full optimal on "
          f"{sum(r['milp'] == r['optimum'] for r in rows)}, its dual bound proving it on "
          f"{sum(r['milp_bound'] == r['optimum'] for r in rows)}; any schedule below the "
          f"optimum: {sum(min(r['jit'], r['milp']) < r['optimum'] for r in rows)}.")
    if args.csv:
        with args.csv.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)


if __name__ == "__main__":
    main()
