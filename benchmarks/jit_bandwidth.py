"""jit where memory bandwidth binds: the sensitivity study's bandwidth variants.

Run: ``python benchmarks/jit_bandwidth.py [--set instances/sets/sensitivity.toml]
[--methods jit,baseline,aras]`` (about half a minute on 2 cores).

For every network of the study file and every memory bandwidth of its sweep, the study's base
hardware with that bandwidth: the write slots ``S`` (rows the memory writes at once), the
largest part's rows, the certified lower bound and each method's makespan (cycles) with its
gap to the bound and its wall time. ``jit`` schedules parts larger than ``S`` in waves
(docs/heuristics.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from aras.frontends import load_network
from aras.methods.solve import solve
from aras.model.files import read_toml
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="instances/sets/sensitivity.toml")
    ap.add_argument("--methods", default="jit,baseline,aras")
    args = ap.parse_args()
    study = read_toml(args.set, "set")
    base = load_hardware(study["hardware"]["base"])
    bandwidths = study["hardware"]["sweep"]["memory_bandwidth_bytes_s"]
    methods = args.methods.split(",")
    print("| network | GB/s | S | largest part | bound | "
          + " | ".join(f"{m} (gap, s)" for m in methods) + " |")
    print("|---|---|---|---|---|" + "---|" * len(methods))
    for name in study["networks"]:
        net = load_network(name)
        for bw in bandwidths:
            hw = dataclasses.replace(base, memory_bandwidth_bytes_s=float(bw))
            p = map_network(net, hw)
            cells = []
            bound = None
            for m in methods:
                t0 = time.perf_counter()
                r = solve(p, m)
                dt = time.perf_counter() - t0
                bound = r.bound
                if r.objective is None:
                    cells.append(f"{r.status.value}: {'; '.join(r.messages)}")
                else:
                    cells.append(f"{r.objective:,} ({r.gap:.2%}, {dt:.1f})")
            print(f"| {name} | {float(bw) / 1e9:g} | {hw.write_slots} | "
                  f"{max(s.apu_rows for s in p.weighted_steps)} | {bound:,} | "
                  + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
