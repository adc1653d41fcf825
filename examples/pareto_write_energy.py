"""Makespan against write energy: a Pareto curve traced by a weighted objective.

Replication shortens computes but writes more copies of a layer's weights, so it costs write
energy (and endurance). The objective ``makespan + lam * cells_written`` (cells written is the
model's exact linear handle on write energy) is minimised by the rolling-horizon MILP for a
range of ``lam``; every point is costed by the evaluator (write energy from its pulse count),
and the points no other point beats on both figures form the curve.

Run: ``python examples/pareto_write_energy.py [--network resnet-18] [--plot pareto.png]``
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Any

from aras import load_hardware, load_network, map_network, solve
from formulations import Objective

LAMBDAS = (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)


def trace(network: str = "resnet-18", lambdas: tuple[float, ...] = LAMBDAS,
          time_limit: float = 8.0) -> list[dict[str, Any]]:
    """One MILP solve per weight; every point with its evaluator figures.

    Returns
    -------
    list of dict
        ``lam``, ``makespan`` (cycles), ``latency_ms``, ``write_energy_mj`` (evaluator),
        ``cells_written``, ``rows_written``, ``objective`` (the evaluator's value of the
        weighted objective) and ``pareto`` (no other point is as good on both figures and
        better on one).
    """
    problem = map_network(load_network(network), load_hardware(None))
    hw = problem.hardware
    points = []
    for lam in lambdas:
        obj = Objective({"makespan": 1.0, "cells_written": lam})
        res = solve(problem, "milp", time_limit=time_limit, objective=obj)
        assert res.schedule is not None and res.report is not None, res.messages
        rep = res.report
        cells = sum(_cells(problem, s) * s.replication for s in res.schedule.steps
                    if s.apu_rows)
        points.append({"lam": lam, "makespan": rep.makespan_cycles,
                       "latency_ms": hw.seconds(rep.makespan_cycles) * 1e3,
                       "write_energy_mj": rep.energy.rram_write * 1e3,
                       "cells_written": cells, "rows_written": len(res.schedule.writes),
                       "objective": res.objective})
    for p in points:
        p["pareto"] = not any(
            q is not p and q["makespan"] <= p["makespan"]
            and q["write_energy_mj"] <= p["write_energy_mj"]
            and (q["makespan"], q["write_energy_mj"]) != (p["makespan"], p["write_energy_mj"])
            for q in points)
    return points


def _cells(problem: Any, s: Any) -> int:
    """Cells that hold a weight in one copy of a part (tiles' rows x kernels x cells)."""
    step = problem.by_key[(s.layer, s.part)]
    g = problem.tiles(step)
    return int((g.rows_used * g.cols_used).sum()) * problem.hardware.cells_per_weight


def plot(points: list[dict[str, Any]], path: Path, title: str) -> Path:
    """The curve as a PNG: latency against write energy, dominated points greyed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    front = sorted((p for p in points if p["pareto"]), key=lambda p: p["write_energy_mj"])
    ax.plot([p["write_energy_mj"] for p in front], [p["latency_ms"] for p in front], "o-",
            color="tab:blue", label="Pareto points")
    other = [p for p in points if not p["pareto"]]
    if other:
        ax.plot([p["write_energy_mj"] for p in other], [p["latency_ms"] for p in other], "o",
                color="0.6", label="dominated")
    for n, p in enumerate(sorted(points, key=lambda p: p["write_energy_mj"])):
        # labels alternate above and below the curve: neighbours may sit close together
        ax.annotate(f"λ={p['lam']:g}", (p["write_energy_mj"], p["latency_ms"]),
                    textcoords="offset points", xytext=(6, 6 if n % 2 else -12), fontsize=8)
    ax.margins(x=0.08, y=0.1)
    ax.set_xlabel("RRAM write energy per inference (mJ)")
    ax.set_ylabel("latency (ms)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet-18")
    ap.add_argument("--time-limit", type=float, default=8.0)
    ap.add_argument("--plot", type=Path, default=None, help="PNG to write")
    ap.add_argument("--csv", type=Path, default=None, help="CSV to write")
    a = ap.parse_args()
    points = trace(a.network, time_limit=a.time_limit)
    w = csv.DictWriter(sys.stdout if a.csv is None else a.csv.open("w", newline=""),
                       fieldnames=list(points[0]))
    w.writeheader()
    w.writerows(points)
    if a.plot:
        plot(points, a.plot, f"{a.network}: makespan + λ x cells written")


if __name__ == "__main__":
    main()
