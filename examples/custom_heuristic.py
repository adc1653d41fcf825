"""A heuristic of one's own, through ``solve()`` and through a study on 2 worker processes.

``bounded_jit`` is jit with at most ``MAX_COPIES`` copies of any part (say, the peripherals
one layer's copies share allow no more), for somewhat longer computes. A method is any
function ``(problem, **options) -> Schedule``; ``aras.register`` gives it a name for
``solve()`` and the CLI, and a study's spawned workers import it from this file (a
``"file.py:function"`` spec, or the function itself), so registration in the parent is not
needed there. The study call sits under ``if __name__ == "__main__":`` because spawned
workers run a script's top level again.

Run: ``python examples/custom_heuristic.py [--network resnet-18] [--out study-out]``
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import aras
from aras import load_hardware, load_network, map_network, solve
from aras.methods.heuristics import jit

MAX_COPIES = 4


def bounded_jit(problem: Any, banks: str = "greedy", **options: Any) -> Any:
    """jit with at most MAX_COPIES copies of every part."""
    caps = {s.layer: MAX_COPIES for s in problem.weighted_steps}
    sched = jit(problem.with_replication_caps(caps), banks=banks)
    sched.method = "bounded-jit"
    return sched


def run(network: str = "resnet-18", out: str | Path | None = None) -> dict[str, Any]:
    """``jit`` and ``bounded_jit`` through ``solve()``, then both as a study on 2 workers.

    Returns
    -------
    dict
        ``solve``: method -> (makespan, rows written, most copies, valid); ``study``: the same
        from the study's records.
    """
    from aras.studies.run import load_results, run_study
    from aras.studies.study import load_study

    aras.register("bounded-jit", bounded_jit)
    problem = map_network(load_network(network), load_hardware(None))
    got: dict[str, Any] = {"solve": {}, "study": {}}
    for m in ("jit", "bounded-jit"):
        r = solve(problem, m)
        assert r.schedule is not None and r.report is not None
        got["solve"][m] = (r.report.makespan_cycles, len(r.schedule.writes),
                           max(s.replication for s in r.schedule.steps), r.report.valid)
    with tempfile.TemporaryDirectory() as tmp:
        toml = Path(tmp) / "study.toml"
        toml.write_text(f'name = "custom"\nnetworks = ["{network}"]\nmethods = ["jit"]\n')
        # the function itself: the study carries its "file.py:bounded_jit" spec to workers
        study = load_study(toml, methods=["jit", bounded_jit])
        dest = Path(out) if out is not None else Path(tmp) / "out"
        run_study(study, dest, workers=2)
        for rec in load_results(dest):
            got["study"][rec["method"]] = (rec["makespan_cycles"], rec["row_writes"],
                                           rec["status"])
    return got


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="resnet-18")
    ap.add_argument("--out", default=None, help="keep the study's results here")
    a = ap.parse_args()
    got = run(a.network, a.out)
    print(f"{'method':<14} {'makespan':>12} {'rows written':>13} {'copies':>7}")
    for m, (mk, rows, copies, _valid) in got["solve"].items():
        print(f"{m:<14} {mk:>12,} {rows:>13,} {copies:>7}")
    print("study on 2 workers:", got["study"])


if __name__ == "__main__":
    main()
