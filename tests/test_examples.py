"""The research scripts in ``examples/`` run, and their figures hold (asserted, not printed).

Each example is imported from its file and its ``run``/``trace`` function called with the
settings a reader would use (shorter time limits where the figure does not depend on them).
"""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from aras import load_hardware, load_network, map_network
from tests.helpers import ROOT

EXAMPLES = ROOT / "examples"


def example(name: str) -> ModuleType:
    """The example's module, loaded from its file as a study worker would load it (so its
    functions have "file.py:function" specs that spawned workers can import)."""
    import sys

    from aras.model.plugins import import_object

    fn = import_object(f"{EXAMPLES / f'{name}.py'}:main", f"examples/{name}.py")
    return sys.modules[fn.__module__]


def test_replication_cap_example() -> None:
    r = example("replication_cap").run("resnet-18", "conv1", 2, time_limit=6)
    free, capped = r["free"], r["capped"]
    assert free["valid"] and capped["valid"]
    assert free["copies"] > 2 >= capped["copies"]
    # the capped problem's bound knows the cap, and no schedule beats its bound
    assert capped["bound"] > free["bound"]
    assert capped["makespan"] >= capped["bound"] and free["makespan"] >= free["bound"]
    assert capped["makespan"] > free["makespan"]


def test_write_cap_example_on_resnet50_at_100_rows() -> None:
    r = example("write_cap").run("resnet50", 100, time_limit=12)
    p = map_network(load_network("resnet50"), load_hardware(None))
    T = p.hardware.write_latency_cycles
    rows = sum(s.apu_rows for s in p.weighted_steps)
    assert r["valid"] and r["status"] in ("feasible", "optimal", "time_limit")
    assert r["most_at_once"] <= 100 < r["hardware_limit"]
    # every row written once at least, 100 at a time: the bound knows the cap
    assert r["bound"] >= math.ceil(rows / 100) * T > r["uncapped_bound"]
    assert r["bound"] <= r["makespan"]
    assert r["gap"] == pytest.approx(r["makespan"] / r["bound"] - 1)


def test_pareto_example_trades_latency_for_write_energy() -> None:
    ex = example("pareto_write_energy")
    pts = ex.trace("resnet-18", lambdas=(0.0, 1.0), time_limit=4)
    fast, frugal = pts
    assert frugal["cells_written"] < fast["cells_written"]
    assert frugal["write_energy_mj"] < fast["write_energy_mj"]
    assert frugal["makespan"] >= fast["makespan"]
    for p in pts:  # the reported objective is the evaluator's makespan + lam * cells
        assert p["objective"] == pytest.approx(p["makespan"] + p["lam"] * p["cells_written"])
    assert all(p["pareto"] for p in pts)


def test_pareto_example_plot(tmp_path: Path) -> None:
    ex = example("pareto_write_energy")
    pts = [{"lam": 0.0, "makespan": 10, "latency_ms": 1.0, "write_energy_mj": 2.0,
            "pareto": True}, {"lam": 1.0, "makespan": 20, "latency_ms": 2.0,
                              "write_energy_mj": 1.0, "pareto": True},
           {"lam": 0.5, "makespan": 30, "latency_ms": 3.0, "write_energy_mj": 3.0,
            "pareto": False}]
    out = ex.plot(pts, tmp_path / "p.png", "t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_user_rule_example() -> None:
    ex = example("user_rule")
    r = ex.run("resnet-18", "jit")
    assert r["at_most"]["valid_r1_r8"] and r["at_most"]["valid_with_rule"]
    assert r["one_fewer"]["valid_r1_r8"] and not r["one_fewer"]["valid_with_rule"]
    # one line per row written more than most - 1 times, counted here from the schedule
    from aras import solve

    p = map_network(load_network("resnet-18"), load_hardware(None))
    s = solve(p, "jit").schedule
    counts = np.bincount(s.writes.pe * p.hardware.apu_rows_per_pe + s.writes.row)
    assert len(r["one_fewer"]["violations"]) == int((counts > r["most"] - 1).sum())
    assert all(v.startswith(f"writes_per_row({r['most'] - 1}): APU row (pe ")
               for v in r["one_fewer"]["violations"])


def test_custom_heuristic_example_through_solve_and_a_two_worker_study(tmp_path: Path) -> None:
    ex = example("custom_heuristic")
    got = ex.run("resnet-18", tmp_path / "out")
    jit_mk, _, jit_copies, ok1 = got["solve"]["jit"]
    mk, _, copies, ok2 = got["solve"]["bounded-jit"]
    assert ok1 and ok2 and copies <= ex.MAX_COPIES < jit_copies and mk >= jit_mk
    # the spawned workers ran the same functions: the same makespans as solve() here
    assert got["study"]["jit"][0] == jit_mk and got["study"]["bounded-jit"][0] == mk
    assert {r[2] for r in got["study"].values()} <= {"feasible", "optimal"}


def test_precision_budget_example() -> None:
    r = example("precision_budget").run("resnet-18", budget=1.0, time_limit=4)
    for key, v in r.items():
        assert v["valid"], key
        assert v["bound"] <= v["makespan"]
        assert v["error"] <= 1.0 + 1e-9
    assert r["int8"]["layers_below_8"] == 0 and r["int8"]["error"] == 0
    # the joint MILP starts from jit at the greedy bits, so it is never worse than it
    assert r["joint"]["makespan"] <= r["greedy"]["makespan"]
    assert r["greedy"]["layers_below_8"] >= 1
    # fewer bits write fewer cells: less write energy than INT8
    assert r["greedy"]["write_energy_j"] < r["int8"]["write_energy_j"]
