"""Where the gap lies: prefixes of a network, solved to optimality where milp-full can.

Run: ``python benchmarks/prefix_gap.py [--network resnet50] [--k 4,8,12,16,24]
[--time-limit 120] [--hardware aras] [--set PARAM=VALUE ...] [--without-r6]`` (about 5
minutes with the defaults on 2 cores). ``--network`` is a built-in network or a real trained
model of ``benchmarks/real_models_gap.py`` (e.g. ``nudenet-320n``, whose package must be
installed). ``--set`` changes one hardware parameter as a study's sweep does
(``--set pes=192``, ``--set write_latency_cycles=x0.5``: ``xF`` scales the base value).

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

Where memory bandwidth binds (``S < N``: the write slots below the APU rows), milp-full is
not exact. With ``--without-r6`` the script then also solves the prefix with R6 dropped
(bandwidth raised until it no longer binds, every other parameter equal): every schedule of
the real hardware is one of that relaxation, so its certified bound (its optimum when
proven; column "optimum without R6") is a lower bound on the real optimum, and "bound below
R6-free optimum" is a share of the gap that is certainly the bound's. (With fast writes that
relaxation is often below the bound, which counts R6's write rounds.)

``--first-round`` skips the solvers and prints, for each prefix, ``jit``'s makespan and the
exact optimum when it is
below ``2T``: every write is then the first on its write slot, so at most ``S`` rows are
written, all by the time the first compute starts, and the optimum is ``T`` plus the least
total compute with at most ``S`` rows (a knapsack over the parts' replications, solved
exactly here), reached by writing those rows in ``[0, T)`` and computing in order
(docs/bounds.md, "Slot rounds"). This holds with or without a binding bandwidth; it is
informative where fast writes or few write slots keep prefixes short.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from real_models_gap import MODELS, get

from aras.evaluation.bounds import bounds
from aras.evaluation.relaxed_bounds import _after_weight
from aras.frontends.zoo import BUILTIN
from aras.methods.heuristics.jit import jit_search
from aras.methods.solve import solve
from aras.model.errors import InputError
from aras.model.hardware import Hardware, load_hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import Network


def variant(hw: Hardware, changes: list[str]) -> Hardware:
    """``hw`` with ``PARAM=VALUE`` changes (``xF``: F times the current value)."""
    params = {}
    for change in changes:
        name, sep, value = change.partition("=")
        cur = getattr(hw, name, None)
        if not sep or not isinstance(cur, (int, float)) or isinstance(cur, bool):
            raise InputError(f"--set: '{change}' is not PARAM=VALUE with a numeric hardware "
                             "parameter")
        try:
            x = float(value[1:]) * cur if value.startswith("x") else float(value)
        except ValueError:
            raise InputError(f"--set: '{value}' is not a number or a scale like x0.5") from None
        params[name] = int(round(x)) if isinstance(cur, int) else x
    return hw.replace(**params) if params else hw


def without_bandwidth(hw: Hardware) -> Hardware:
    """``hw`` with a memory bandwidth that lets every row write at once (R6 never binds)."""
    bw = hw.memory_bandwidth_bytes_s
    while hw.replace(memory_bandwidth_bytes_s=bw).write_slots < hw.total_apu_rows:
        bw *= 2
    return hw.replace(memory_bandwidth_bytes_s=bw)


def prefix(net: Network, k: int) -> Network:
    """Every op of ``net`` up to its ``k``-th weight-bearing one."""
    seen, cut = 0, len(net.ops)
    for i, op in enumerate(net.ops):
        seen += op.weighted
        if seen == k:
            cut = i + 1
            break
    return Network(f"{net.name}-prefix{k}", net.inputs, net.ops[:cut])


def first_round_optimum(p: Problem) -> int | None:
    """The optimum of ``p`` when it is below ``2T`` (``None`` otherwise): ``T`` plus the least
    compute of every step with at most ``S`` rows written (see the module's docstring)."""
    hw = p.hardware
    T, S = hw.write_latency_cycles, hw.write_slots
    timed = _after_weight(p, {s.layer for s in p.steps if s.weighted})
    least = np.zeros(S + 1)  # least[b]: least compute of the steps so far with at most b rows
    fixed = 0
    for s in p.steps:
        if not s.weighted:
            fixed += s.fixed_cycles if s.layer in timed else 0
            continue
        new = np.full(S + 1, np.inf)
        for r in range(1, p.max_replication(s) + 1):
            rows = r * s.apu_rows
            if rows > S:
                break
            new[rows:] = np.minimum(new[rows:], least[:S + 1 - rows] + p.compute_cycles(s, r))
        least = new
    best = T + least[S] + fixed
    return int(best) if best < 2 * T else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet50",
                    choices=sorted(BUILTIN) + [m.name for m in MODELS])
    ap.add_argument("--k", default="4,8,12,16,24")
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE")
    ap.add_argument("--without-r6", action="store_true",
                    help="also solve each prefix with the bandwidth limit lifted")
    ap.add_argument("--first-round", action="store_true",
                    help="no solvers: the exact optimum of each prefix whose optimum is < 2T")
    args = ap.parse_args()
    hw = variant(load_hardware(args.hardware), args.set)
    net = BUILTIN[args.network]() if args.network in BUILTIN else get(args.network).load()
    if args.first_round:
        label = hw.name + "".join(f", {c}" for c in args.set)
        print(f"{args.network} prefixes on `{label}` (N = {hw.total_apu_rows} rows, "
              f"S = {hw.write_slots} write slots, T = {hw.write_latency_cycles:,}); cycles\n")
        print("| weighted layers | steps | lower bound | optimum (< 2T) | bound below optimum "
              "| jit |")
        print("|---|---|---|---|---|---|")
        for k in (int(x) for x in args.k.split(",")):
            p = map_network(prefix(net, k), hw)
            lower, opt = bounds(p).lower, first_round_optimum(p)
            found = jit_search(p).makespan
            print(f"| {k} | {len(p.steps)} | {lower:,} | "
                  + (f"{opt:,} | {1 - lower / opt:.3%} |" if opt else ">= 2T | - |")
                  + f" {found:,} |", flush=True)
        return
    free = (without_bandwidth(hw)
            if args.without_r6 and hw.write_slots < hw.total_apu_rows else None)
    label = hw.name + "".join(f", {c}" for c in args.set)
    print(f"{args.network} prefixes on `{label}` (N = {hw.total_apu_rows} rows, "
          f"S = {hw.write_slots} write slots), milp-full at {args.time_limit:g} s; cycles\n")
    extra = (" optimum without R6 | its status | bound below R6-free optimum |"
             if free else "")
    print("| weighted layers | steps | lower bound | jit | milp-full | status | milp-full bound "
          "| order bound | bound below best | bound below order optimum | jit above best |"
          + extra + " seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" * 3 if free else "")
          + "---|")
    for k in (int(x) for x in args.k.split(",")):
        sub = prefix(net, k)
        p = map_network(sub, hw)
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
        cells = ""
        if free:
            # the relaxation's certified bound (its optimum when proven) bounds the real optimum
            rf = solve(map_network(sub, free), method="milp-full", time_limit=args.time_limit)
            assert rf.objective is not None and rf.bound is not None
            known = rf.bound
            cells = (f" {known:,} | {rf.status.value} | "
                     f"{max(0.0, 1 - lower / known):.2%} |")
        print(f"| {k} | {len(p.steps)} | {lower:,} | {rj.objective:,} | {rm.objective:,} | "
              f"{rm.status.value} | {rm.bounds.milp:,} | {order:,} | {1 - lower / best:.2%} | "
              f"{in_order} | {rj.objective / best - 1:.2%} |{cells} "
              f"{time.perf_counter() - t:.0f} |", flush=True)


if __name__ == "__main__":
    main()
