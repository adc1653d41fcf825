"""The reference schedulers (naive, baseline) on the five networks, with the bounds.

Run: ``python benchmarks/reference_table.py [--hardware aras|baseline|FILE]``; writes
``benchmarks/results/reference.md`` (with ``--hardware``: ``reference-HW.md``) and prints it.
About 10 s.
"""

from __future__ import annotations

import argparse

from doctables import RESULTS, markdown_table, write_result

from aras.frontends.zoo import BUILTIN
from aras.methods.solve import solve
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network


def table(hardware: str = "aras") -> str:
    """The table (Markdown, with its one-line legend)."""
    hw = load_hardware(hardware)
    rows = []
    for name in BUILTIN:
        p = map_network(BUILTIN[name](), hw)
        rn = solve(p, "naive")
        rb = solve(p, "baseline")
        assert rn.report and rb.report and rn.report.valid and rb.report.valid
        rows.append([name, f"{hw.seconds(rb.bounds.write) * 1e3:.2f}",
                     f"{hw.seconds(rb.bound) * 1e3:.2f}",
                     f"{rn.report.latency_s * 1e3:.2f}", f"{rn.report.energy.total * 1e3:.2f}",
                     f"{rb.report.latency_s * 1e3:.2f}", f"{rb.report.energy.total * 1e3:.2f}",
                     f"{rb.report.throughput_inf_s:.1f}",
                     f"{rb.bounds.write / rb.report.makespan_cycles * 100:.0f}%"])
    return (f"Hardware `{hw.name}`. Latency and bounds in ms, energy in mJ per inference.\n\n"
            + markdown_table(["network", "write bound", "lower bound", "naive latency",
                              "naive energy", "baseline latency", "baseline energy",
                              "baseline inf/s", "write bound / baseline"], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default="aras")
    args = ap.parse_args()
    name = "reference.md" if args.hardware == "aras" else f"reference-{args.hardware}.md"
    command = "python benchmarks/reference_table.py" + (
        "" if args.hardware == "aras" else f" --hardware {args.hardware}")
    print(write_result(RESULTS / name, command, table(args.hardware)).read_text())


if __name__ == "__main__":
    main()
