"""Choose each layer's weight bits under an error budget, three ways, and compare.

A research question of the kind "how much latency and write energy does mixed precision buy
on ARAS, and does choosing bits jointly with replication beat choosing them first?". The
per-layer errors here are the weight quantisation errors of the network's synthetic weights
(``aras.studies.precision.synthetic_weight_errors``): a stand-in that ranks layers by how
their weights quantise, not a measured accuracy. For a network with real weights, measure them
with ``aras.evaluation.accuracy.sensitivity`` or ``aras sensitivity`` instead (docs/precision.md).

The three methods share one :class:`formulations.Precision` family: ``greedy`` and
``two-stage`` fix the bits first (greedy by cycles saved per unit of error, or the exact
knapsack), then schedule; ``joint`` lets the MILP re-choose the bits with replication and
writes. Every schedule is checked by the evaluator, with the family's rule (the budget).

Run: ``python examples/precision_budget.py [--network resnet50] [--budget 2.0]``
"""

from __future__ import annotations

import argparse
from typing import Any

from aras import load_hardware, load_network, map_network, solve
from aras.studies.precision import synthetic_weight_errors
from formulations import Precision, assignment_error, candidates


def run(network: str = "resnet50", budget: float = 2.0, weight_bits: tuple[int, ...] = (4, 6, 8),
        time_limit: float = 30.0) -> dict[str, Any]:
    """Schedule ``network`` at INT8 and with bits chosen by each method under ``budget``.

    Returns
    -------
    dict
        Per run (``int8``, ``greedy``, ``two-stage``, ``joint``): makespan (cycles), lower
        bound, write energy (J), layers below 8 bits, the budgeted error, validity.
    """
    problem = map_network(load_network(network), load_hardware(None))
    cands = candidates(problem.hardware, weight_bits)
    errors = synthetic_weight_errors(problem, cands)
    out: dict[str, Any] = {}
    runs = [("int8", "jit", None),
            ("greedy", "jit", Precision(errors, budget, weight_bits=weight_bits,
                                        start="greedy", joint=False)),
            ("two-stage", "milp", Precision(errors, budget, weight_bits=weight_bits,
                                            start="knapsack", joint=False)),
            ("joint", "milp", Precision(errors, budget, weight_bits=weight_bits))]
    for key, method, fam in runs:
        res = solve(problem, method, time_limit=time_limit,
                    families=[fam] if fam is not None else None)
        assert res.schedule is not None and res.report is not None, res.messages
        chosen = res.schedule.precision or {}
        out[key] = {
            "method": method,
            "makespan": res.report.makespan_cycles,
            "bound": res.bound,
            "write_energy_j": res.report.energy.rram_write,
            "layers_below_8": sum(1 for p in chosen.values() if p.weight_bits < 8),
            "error": assignment_error(errors, chosen, problem.hardware),
            "valid": res.report.valid,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet50")
    ap.add_argument("--budget", type=float, default=2.0)
    ap.add_argument("--time-limit", type=float, default=30.0)
    a = ap.parse_args()
    res = run(a.network, a.budget, time_limit=a.time_limit)
    base = res["int8"]["makespan"]
    print(f"{'run':<10} {'method':<6} {'makespan':>12} {'speedup':>8} {'write mJ':>9} "
          f"{'<8 bits':>8} {'error':>7}")
    for key, r in res.items():
        print(f"{key:<10} {r['method']:<6} {r['makespan']:>12,} {base / r['makespan']:>7.2f}x "
              f"{r['write_energy_j'] * 1e3:>9.3f} {r['layers_below_8']:>8} {r['error']:>7.3f}")


if __name__ == "__main__":
    main()
