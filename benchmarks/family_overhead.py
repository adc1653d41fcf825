"""What assembling the event model from families costs: build time and milp results.

    python benchmarks/family_overhead.py [--time-limit 30] [--networks ...]

For each network: the time to build the whole event model (``formulations.window.build``,
best of 3), its size, and one ``milp`` solve (``--time-limit`` seconds, one thread): wall
time, windows solved and the makespan. Run it in two checkouts (e.g. ``git worktree add``)
to compare revisions: it only uses names both the family framework and the monolithic model
had (``build``, ``solve``). Machine-dependent: run with nothing else on the cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aras.frontends import load_network  # noqa: E402
from aras.methods.solve import solve  # noqa: E402
from aras.model.hardware import aras_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402
from formulations.window import build  # noqa: E402

NETWORKS = ["vgg16", "resnet50", "densenet161", "bert-base", "bert-large"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=30.0)
    ap.add_argument("--networks", nargs="+", default=NETWORKS)
    a = ap.parse_args()
    print("| network | build (s) | variables | constraints | milp wall (s) | windows "
          "| makespan (cycles) |")
    print("|---|---|---|---|---|---|---|")
    for net in a.networks:
        p = map_network(load_network(net), aras_hardware())
        times = []
        for _ in range(3):
            t = time.perf_counter()
            m = build(p, lookback=16)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        r = solve(p, "milp", time_limit=a.time_limit)
        wall = time.perf_counter() - t
        info = r.stats.get("milp", {})
        print(f"| {net} | {min(times):.3f} | {m.nvariables():,} | {m.nconstraints():,} "
              f"| {wall:.1f} | {info.get('windows', '-')} | {r.report.makespan_cycles:,} |",
              flush=True)


if __name__ == "__main__":
    main()
