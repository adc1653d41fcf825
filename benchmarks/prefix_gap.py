"""Where the gap lies: prefixes of a paper network, solved to optimality where milp-full can.

Run: ``python benchmarks/prefix_gap.py [--network resnet50] [--k 4,8,12,16,24]
[--time-limit 120]`` (about 5 minutes with the defaults on 2 cores). ``--network`` is a
built-in network or a real trained model of ``benchmarks/real_models_gap.py`` (e.g.
``nudenet-320n``, whose package must be installed).

For each prefix with the first ``k`` weight-bearing layers (every op up to the k-th weighted
one, in the network's order), prints the certified lower bound (``bounds``), ``jit``'s
makespan, and ``milp-full``'s makespan, status and own certified bound. Where milp-full is
``optimal`` the optimum is known, so the table separates the bound's distance to it from the
schedules' (docs/bounds.md, "How tight they are").

Where the prefix allows more than 24 compute orders, ``milp-full`` solves only ``jit``'s
order, and its dual bound (column "order bound") bounds only the schedules in that order: it
is not a certified bound, but when it meets ``milp-full``'s makespan that schedule is the
optimum of its order, and the certified bound's distance to it ("bound below order optimum")
is an upper estimate of the bound's own looseness (other orders could only be shorter).
"""

from __future__ import annotations

import argparse
import time

from real_models_gap import MODELS, get

from aras.evaluation.bounds import bounds
from aras.frontends.zoo import BUILTIN
from aras.methods.solve import solve
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network
from aras.model.network import Network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet50",
                    choices=sorted(BUILTIN) + [m.name for m in MODELS])
    ap.add_argument("--k", default="4,8,12,16,24")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--hardware", default="aras")
    args = ap.parse_args()
    hw = load_hardware(args.hardware)
    net = BUILTIN[args.network]() if args.network in BUILTIN else get(args.network).load()
    print(f"{args.network} prefixes on `{hw.name}`, milp-full at {args.time_limit:g} s; cycles\n")
    print("| weighted layers | steps | lower bound | jit | milp-full | status | milp-full bound "
          "| order bound | bound below best | bound below order optimum | jit above best "
          "| seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k in (int(x) for x in args.k.split(",")):
        seen, cut = 0, len(net.ops)
        for i, op in enumerate(net.ops):
            seen += op.weighted
            if seen == k:
                cut = i + 1
                break
        p = map_network(Network(f"{net.name}-prefix{k}", net.inputs, net.ops[:cut]), hw)
        t = time.perf_counter()
        lower = bounds(p).lower
        rj = solve(p, method="jit")
        rm = solve(p, method="milp-full", time_limit=args.time_limit)
        assert rj.objective is not None and rm.objective is not None
        best = min(rj.objective, rm.objective)
        order = int(rm.stats.get("order_bound_cycles", 0))
        # the order's optimum is known when its dual bound meets the schedule in that order
        in_order = (f"{1 - lower / rm.objective:.2%}"
                    if rm.bounds.milp >= rm.objective or order >= rm.objective else "-")
        print(f"| {k} | {len(p.steps)} | {lower:,} | {rj.objective:,} | {rm.objective:,} | "
              f"{rm.status.value} | {rm.bounds.milp:,} | {order:,} | {1 - lower / best:.2%} | "
              f"{in_order} | {rj.objective / best - 1:.2%} | {time.perf_counter() - t:.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
