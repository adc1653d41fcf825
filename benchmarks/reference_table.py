"""Markdown table of the reference schedulers on the five networks (README figures).

Run: ``python benchmarks/reference_table.py [--hardware aras|baseline|FILE]``.
"""

from __future__ import annotations

import argparse

from aras.frontends.zoo import BUILTIN
from aras.methods.solve import solve
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hardware", default="aras")
    args = ap.parse_args()
    hw = load_hardware(args.hardware)
    print(f"Hardware `{hw.name}`. Latency in ms, energy in mJ per inference, bounds in ms.\n")
    print("| network | write bound | lower bound | naive latency | naive energy | "
          "baseline latency | baseline energy | baseline inf/s | write bound / baseline |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in BUILTIN:
        p = map_network(BUILTIN[name](), hw)
        rn = solve(p, "naive")
        rb = solve(p, "baseline")
        assert rn.report and rb.report and rn.report.valid and rb.report.valid
        wb = hw.seconds(rb.bounds.write) * 1e3
        lb = hw.seconds(rb.bound) * 1e3
        print(f"| {name} | {wb:.2f} | {lb:.2f} | {rn.report.latency_s * 1e3:.2f} | "
              f"{rn.report.energy.total * 1e3:.2f} | {rb.report.latency_s * 1e3:.2f} | "
              f"{rb.report.energy.total * 1e3:.2f} | {rb.report.throughput_inf_s:.1f} | "
              f"{rb.bounds.write / rb.report.makespan_cycles * 100:.0f}% |")


if __name__ == "__main__":
    main()
