"""At most K APU rows written at once: a write-power cap tighter than the memory bandwidth.

Every write lasts the same T cycles, so "K rows at once" is K write channels: the WriteCap
family lowers the rows R6 lets be written at once to K. The MILP states it as write waves,
its exact timing queues writes on K channels, the heuristics that build its start keep it,
and the lower bounds are those of the capped problem, so the gap printed is to a bound that
knows K. The concurrency is then counted again from the schedule's own writes.

Run: ``python examples/write_cap.py [--network resnet50] [--rows 100]``
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from aras import load_hardware, load_network, map_network, solve
from formulations import WriteCap


def most_at_once(starts: np.ndarray, T: int) -> int:
    """Writes in progress at the same instant (a sweep over the writes' intervals)."""
    s = np.sort(np.asarray(starts, dtype=np.int64))
    # at each write's start, the writes started in (start - T, start] are in progress
    return int((np.searchsorted(s, s, side="right") - np.searchsorted(s, s - T, side="right"))
               .max(initial=0))


def run(network: str = "resnet50", rows: int = 100, time_limit: float = 60.0
        ) -> dict[str, Any]:
    """Schedule ``network`` with at most ``rows`` rows written at once.

    Returns
    -------
    dict
        status, makespan and bound (cycles), gap, the most rows written at once (counted
        from the writes), the uncapped makespan bound and the hardware's own limit.
    """
    problem = map_network(load_network(network), load_hardware(None))
    res = solve(problem, "milp", time_limit=time_limit, families=[WriteCap(rows)])
    assert res.schedule is not None, res.messages
    free = solve(problem, "jit")
    return {"status": res.status.value, "valid": res.report.valid,
            "makespan": res.report.makespan_cycles, "bound": res.bound, "gap": res.gap,
            "most_at_once": most_at_once(res.schedule.writes.start,
                                         problem.hardware.write_latency_cycles),
            "hardware_limit": problem.hardware.write_slots,
            "uncapped_bound": free.bound, "uncapped_jit": free.objective}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet50")
    ap.add_argument("--rows", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=60.0)
    a = ap.parse_args()
    r = run(a.network, a.rows, a.time_limit)
    print(f"{a.network}, at most {a.rows} rows written at once (hardware: "
          f"{r['hardware_limit']}): {r['status']}")
    print(f"  makespan {r['makespan']:,} cycles, bound {r['bound']:,.0f} (gap {r['gap']:.2%})")
    print(f"  most rows written at once: {r['most_at_once']}")
    print(f"  without the cap: jit {r['uncapped_jit']:,}, bound {r['uncapped_bound']:,}")


if __name__ == "__main__":
    main()
