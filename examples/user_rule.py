"""A rule of one's own that the evaluator enforces next to R1-R8.

An endurance budget per row: no APU row may be written more than ``k`` times in one
inference (rows that take many tiles age first). Nothing in the model contract says so, so a
schedule that writes one row more often is valid for R1-R8; with the rule passed to the
evaluator it is not, and every offending row is reported in the same one-line format.

A rule is any object with a ``name`` and a ``check(problem, schedule)`` that yields one line
per violation (or a plain function of the two).

Run: ``python examples/user_rule.py [--network resnet-18] [--method jit]``
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import numpy as np

from aras import evaluate, load_hardware, load_network, map_network, solve


class WritesPerRow:
    """No APU row is written more than ``most`` times per inference."""

    def __init__(self, most: int):
        self.most = most
        self.name = f"writes_per_row({most})"

    def check(self, problem: Any, schedule: Any) -> Iterator[str]:
        per_pe = problem.hardware.apu_rows_per_pe
        w = schedule.writes
        counts = np.bincount(np.asarray(w.pe) * per_pe + np.asarray(w.row),
                             minlength=problem.total_apu_rows)
        for rowid in np.flatnonzero(counts > self.most):
            pe, row = divmod(int(rowid), per_pe)
            yield (f"APU row (pe {pe}, row {row}) is written {int(counts[rowid])} times, at "
                   f"most {self.most}")


def run(network: str = "resnet-18", method: str = "jit") -> dict[str, Any]:
    """Evaluate one schedule with the rule at its own most-written row's count, and at one
    write fewer.

    Returns
    -------
    dict
        ``most`` (the schedule's most writes of one row), and for ``at_most`` and
        ``one_fewer``: validity without and with the rule and the violation lines.
    """
    problem = map_network(load_network(network), load_hardware(None))
    res = solve(problem, method)
    assert res.schedule is not None, res.messages
    sched = res.schedule
    per_pe = problem.hardware.apu_rows_per_pe
    most = int(np.bincount(np.asarray(sched.writes.pe) * per_pe
                           + np.asarray(sched.writes.row)).max())
    out: dict[str, Any] = {"most": most}
    for key, k in (("at_most", most), ("one_fewer", most - 1)):
        plain = evaluate(problem, sched)
        ruled = evaluate(problem, sched, rules=[WritesPerRow(k)])
        out[key] = {"valid_r1_r8": plain.valid, "valid_with_rule": ruled.valid,
                    "violations": [str(v) for v in ruled.violations]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet-18")
    ap.add_argument("--method", default="jit")
    a = ap.parse_args()
    r = run(a.network, a.method)
    print(f"most writes of one row: {r['most']}")
    for key in ("at_most", "one_fewer"):
        x = r[key]
        print(f"{key}: R1-R8 {'valid' if x['valid_r1_r8'] else 'invalid'}, with the rule "
              f"{'valid' if x['valid_with_rule'] else 'invalid'} "
              f"({len(x['violations'])} violations)")
        for v in x["violations"][:5]:
            print(f"  {v}")


if __name__ == "__main__":
    main()
