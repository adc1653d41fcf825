"""Cap one layer's replication and let the MILP schedule the rest around it.

A research question of the kind "what if conv1 may run at most 2 copies (an ADC budget, a
placement rule)?": the cap is one family added to the event model. The same family caps what
every heuristic may choose, gives the bounds the cap, and hands the evaluator its rule, so
the schedule that comes back is checked against the cap, not trusted.

Run: ``python examples/replication_cap.py [--network resnet-18] [--layer conv1] [--cap 2]``
"""

from __future__ import annotations

import argparse
from typing import Any

from aras import load_hardware, load_network, map_network, solve
from formulations import ReplicationCap


def run(network: str = "resnet-18", layer: str = "conv1", cap: int = 2,
        time_limit: float = 20.0) -> dict[str, Any]:
    """Schedule ``network`` free and with ``layer`` capped at ``cap`` copies.

    Returns
    -------
    dict
        For ``free`` and ``capped``: status, makespan (cycles), lower bound, gap and the
        largest replication of ``layer``.
    """
    problem = map_network(load_network(network), load_hardware(None))
    out: dict[str, Any] = {}
    for key, families in (("free", None), ("capped", [ReplicationCap(layer, cap)])):
        res = solve(problem, "milp", time_limit=time_limit, families=families)
        assert res.schedule is not None, res.messages
        out[key] = {
            "status": res.status.value,
            "makespan": res.report.makespan_cycles,
            "bound": res.bound,
            "gap": res.gap,
            "copies": max(s.replication for s in res.schedule.steps if s.layer == layer),
            "valid": res.report.valid,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet-18")
    ap.add_argument("--layer", default="conv1")
    ap.add_argument("--cap", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=20.0)
    a = ap.parse_args()
    res = run(a.network, a.layer, a.cap, a.time_limit)
    print(f"{'schedule':<8} {'status':<10} {'makespan':>12} {'bound':>12} {'gap':>7} "
          f"{a.layer + ' copies':>14}")
    for key, r in res.items():
        print(f"{key:<8} {r['status']:<10} {r['makespan']:>12,} {r['bound']:>12,.0f} "
              f"{r['gap']:>7.2%} {r['copies']:>14}")


if __name__ == "__main__":
    main()
