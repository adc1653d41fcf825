"""The figures of docs/extending.md: the examples' runs, written as a stamped result file.

    python benchmarks/extending_table.py        # about 2 minutes on 2 cores

Runs ``examples/write_cap.py`` (ResNet-50, at most 100 rows written at once),
``examples/replication_cap.py`` (ResNet-18, conv1 at most 2 copies) and
``examples/pareto_write_energy.py`` (ResNet-18, makespan + lam x cells written; also its PNG
and CSV in docs/figures/) with their default settings, and writes
``benchmarks/results/extending.md``. The MILP's figures depend on its time limits, so
``check_docs.py`` checks the page against this file only (no rerun).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from doctables import RESULTS, ROOT, load_note, markdown_table, write_result

COMMAND = "python benchmarks/extending_table.py"


def _example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def caps() -> str:
    """The write-cap and replication-cap runs as one table."""
    w = _example("write_cap").run("resnet50", 100, time_limit=60)
    r = _example("replication_cap").run("resnet-18", "conv1", 2, time_limit=20)
    rows = [
        ["ResNet-50", "none (jit)", f"{w['uncapped_jit']:,}", f"{w['uncapped_bound']:,}",
         f"{w['uncapped_jit'] / w['uncapped_bound'] - 1:.2%}",
         f"{w['hardware_limit']} rows at once allowed"],
        ["ResNet-50", "write_cap(100)", f"{w['makespan']:,}", f"{w['bound']:,.0f}",
         f"{w['gap']:.2%}", f"{w['most_at_once']} rows at once"],
        ["ResNet-18", "none", f"{r['free']['makespan']:,}", f"{r['free']['bound']:,.0f}",
         f"{r['free']['gap']:.2%}", f"conv1 x{r['free']['copies']}"],
        ["ResNet-18", "replication_cap(conv1) = 2", f"{r['capped']['makespan']:,}",
         f"{r['capped']['bound']:,.0f}", f"{r['capped']['gap']:.2%}",
         f"conv1 x{r['capped']['copies']}"],
    ]
    return markdown_table(["network", "family", "makespan (cycles)", "bound (cycles)", "gap",
                           "counted in the schedule"], rows)


def pareto() -> str:
    """The Pareto points (and the figure and CSV beside the page)."""
    import csv

    ex = _example("pareto_write_energy")
    pts = ex.trace("resnet-18")
    fig = ROOT / "docs" / "figures"
    fig.mkdir(parents=True, exist_ok=True)
    ex.plot(pts, fig / "pareto_write_energy.png", "resnet-18: makespan + λ x cells written")
    with (fig / "pareto_write_energy.csv").open("w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(pts[0]))
        wr.writeheader()
        wr.writerows(pts)
    rows = [[f"{p['lam']:g}", f"{p['latency_ms']:.3f}", f"{p['write_energy_mj']:.3f}",
             f"{p['rows_written']:,}", "yes" if p["pareto"] else "no"] for p in pts]
    return markdown_table(["lam", "latency (ms)", "write energy (mJ)", "rows written",
                           "Pareto"], rows)


def main() -> None:
    note = load_note()
    write_result(RESULTS / "extending_caps.md", COMMAND,
                 "MILP (`milp`, 60 s on ResNet-50, 20 s on ResNet-18); bounds are those of the "
                 "problem the family tightens.\n\n" + caps(), note)
    write_result(RESULTS / "extending_pareto.md", COMMAND,
                 "ResNet-18, `milp` at 8 s per point; write energy from the evaluator.\n\n"
                 + pareto(), note)
    print(Path(RESULTS / "extending_caps.md").read_text())
    print(Path(RESULTS / "extending_pareto.md").read_text())


if __name__ == "__main__":
    main()
