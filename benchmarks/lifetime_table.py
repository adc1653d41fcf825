"""The life of a device whose rows wear out (docs/energy.md, "Wear").

Run: ``python benchmarks/lifetime_table.py`` (about two minutes): ``aras lifetime`` of
ResNet-50 and BERT-Base on the paper's hardware, seed 0, default endurance and spread, at the
paper's real-time rate, batch 1 and 8, re-solved by ``aras``; writes
``benchmarks/results/lifetime.md`` (each scenario's life, the rows left at its end and why it
ended, and the wall time of each network) and prints it.
"""

from __future__ import annotations

import time

from doctables import RESULTS, markdown_table, write_result

from aras.frontends import load_network
from aras.model.hardware import aras_hardware
from aras.studies.lifetime import lifetime

NETS = {"resnet50": "ResNet-50", "bert-base": "BERT-Base"}


def main() -> None:
    rows = []
    times = []
    for name, label in NETS.items():
        t = time.perf_counter()
        got = lifetime(load_network(name), aras_hardware(), batches=(1, 8))
        times.append(f"{label} {time.perf_counter() - t:.0f} s")
        start = {r["scenario"]: r["throughput_inf_s"] for r in got if r["years"] == 0}
        for r in got:
            if not r["event"]:
                continue
            end = ("first failed row" if "not retired" in r["event"] else
                   f"{r['throughput_inf_s']:.1f} inf/s < floor" if r["event"].startswith(
                       "throughput") else r["event"])
            rows.append([label, r["scenario"], f"{r['years']:.3f}", f"{r['inferences']:.3g}",
                         str(r["rows_left"]), f"{start[r['scenario']]:.1f}", end])
    table = markdown_table(["network", "scenario", "life (years)", "inferences",
                            "rows left", "inf/s at start", "end"], rows)
    note = ("Seed 0, endurance 1e10 (median), spread 0.25, real-time rate (30 inf/s ResNet-50, "
            "100 inf/s BERT-Base), floor = rate, method aras. Wall time (shared 2-core "
            "machine): " + ", ".join(times) + ".")
    print(note)
    print(table)
    write_result(RESULTS / "lifetime.md", "python benchmarks/lifetime_table.py",
                 note + "\n\n" + table)


if __name__ == "__main__":
    main()
