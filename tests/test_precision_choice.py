"""Choosing precision under an error budget (formulations.precision): the heuristics against
enumeration of every assignment, the MILP family against the exact optimum over every
assignment (tests/exhaustive.py, which shares no code with the methods), and the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from aras import map_network, solve
from aras.model.errors import InputError
from aras.model.hardware import Hardware
from aras.model.network import NetworkBuilder
from aras.model.precision import LayerPrecision
from formulations.precision import (
    Precision,
    assignment_error,
    greedy_precision,
    knapsack_precision,
)
from tests.exhaustive import optimum
from tests.helpers import ROOT, cli_inprocess

W4, W8, W4A4 = LayerPrecision(4, 8), LayerPrecision(8, 8), LayerPrecision(4, 4)


def _chain(widths: list[int], tokens: int, rows: int, T: int):
    b = NetworkBuilder("chain", {"x": (tokens, widths[0])})
    x = "x"
    for i, (a, c) in enumerate(itertools.pairwise(widths)):
        x = b.add(f"l{i}", "linear", [x], in_features=a, out_features=c)
    hw = Hardware(name="small", pes=1, apu_rows_per_pe=rows, apus_per_row=4,
                  write_latency_cycles=T, gbuffer_banks=(1 << 20,) * 3,
                  memory_bandwidth_bytes_s=1e12)
    return map_network(b.build(), hw)


def _errors(layers: list[str], cands: list[LayerPrecision], seed: int):
    rng = np.random.default_rng(seed)
    return {L: {c: (0.0 if c == W8 else float(rng.uniform(0.001, 0.01))) for c in cands}
            for L in layers}


def _saving(p, L: str, c: LayerPrecision) -> float:
    """The heuristics' estimate restated: rows no longer written spread over N rows, plus
    compute at replication 1."""
    hw = p.hardware
    q = p.with_precision({L: c})
    out = 0.0
    for s0, s1 in zip(p.steps, q.steps, strict=True):
        if s0.layer == L:
            wc0 = -(-hw.compute_latency_cycles * s0.activation_bits // hw.activation_bits)
            wc1 = -(-hw.compute_latency_cycles * c.activation_bits // hw.activation_bits)
            out += (s0.apu_rows - s1.apu_rows) * hw.write_latency_cycles / hw.total_apu_rows
            out += s0.windows * (wc0 - wc1)
    return out


def _assignments(layers, cands, errors, budget):
    for combo in itertools.product(cands, repeat=len(layers)):
        a = dict(zip(layers, combo, strict=True))
        if sum(errors[L][a[L]] for L in layers) <= budget + 1e-12:
            yield {L: c for L, c in a.items() if c != W8}


@pytest.mark.parametrize("seed", range(4))
def test_knapsack_is_the_best_assignment_of_the_estimate_and_greedy_keeps_the_budget(seed):
    rng = np.random.default_rng(seed)
    widths = [int(w) for w in rng.choice([128, 256, 384, 512], size=5)]
    p = _chain(widths, tokens=int(rng.integers(1, 40)), rows=8, T=2000)
    layers = [o.name for o in p.network.weighted_ops]
    cands = [W4A4, W4, W8]
    errors = _errors(layers, cands, seed)
    budget = float(rng.uniform(0.005, 0.03))
    best = max(sum(_saving(p, L, a.get(L, W8)) for L in layers)
               for a in _assignments(layers, cands, errors, budget))
    ks = knapsack_precision(p, errors, budget, cands)
    assert assignment_error(errors, ks, p.hardware) <= budget + 1e-9
    assert sum(_saving(p, L, ks.get(L, W8)) for L in layers) == pytest.approx(best)
    gr = greedy_precision(p, errors, budget, cands)
    assert assignment_error(errors, gr, p.hardware) <= budget + 1e-9
    assert sum(_saving(p, L, gr.get(L, W8)) for L in layers) <= best + 1e-6


def test_a_budget_below_what_the_candidates_allow_is_refused() -> None:
    p = _chain([128, 256, 128], 4, 6, 1000)
    errors = {"l0": {W4: 0.1, W8: 0.05}, "l1": {W4: 0.1, W8: 0.0}}
    with pytest.raises(InputError, match="budget"):
        solve(p, "jit", families=[Precision(errors, 0.01, weight_bits=[4, 8])])


@pytest.mark.parametrize("seed", range(3))
def test_joint_milp_reaches_the_optimum_over_every_assignment(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    widths = [int(w) for w in rng.choice([128, 256, 384], size=4)]
    p = _chain(widths, tokens=int(rng.integers(2, 9)), rows=int(rng.integers(4, 7)),
               T=int(rng.choice([300, 1000, 3000])))
    layers = [o.name for o in p.network.weighted_ops]
    cands = [W4A4, W4, LayerPrecision(8, 4), W8]
    errors = _errors(layers, cands, seed)
    budget = float(np.median([e for t in errors.values() for e in t.values() if e]) * 1.5)
    joint = min(optimum(p.with_precision(a)).makespan
                for a in _assignments(layers, cands, errors, budget))
    fam = Precision(errors, budget, weight_bits=[4, 8], activation_bits=[4, 8])
    got = solve(p, "milp-full", time_limit=30, families=[fam])
    heur = solve(p, "jit", families=[Precision(errors, budget, weight_bits=[4, 8],
                                                activation_bits=[4, 8])])
    assert got.report.valid and heur.report.valid
    assert got.objective <= heur.objective
    assert got.objective <= joint
    assert got.objective >= got.bound  # the bound at the fewest bits holds
    stated = got.schedule.precision or {}
    assert assignment_error(fam.prepare(p)[0], stated, p.hardware) <= budget + 1e-9
    # the chosen assignment's own optimum is what the MILP found (chains: one order)
    assert got.objective == optimum(p.with_precision(stated)).makespan


def test_a_schedule_over_the_budget_breaks_the_family_rule() -> None:
    p = _chain([128, 512, 512, 128], 4, 6, 1000)
    errors = {L: {W4: 0.01, W8: 0.0} for L in ("l0", "l1", "l2")}
    fam = Precision(errors, 0.015, weight_bits=[4, 8])
    over = solve(p.with_precision({"l1": 4, "l2": 4}), "jit").schedule
    assert any("over the budget" in v for v in fam.check(p, over))
    off = solve(p.with_precision({"l1": 6}), "jit").schedule
    assert any("not a candidate" in v for v in fam.check(p, off))
    ok = solve(p.with_precision({"l1": 4}), "jit").schedule
    assert list(fam.check(p, ok)) == []


def test_cli_precision_auto_with_a_table_and_a_fixed_file(tmp_path) -> None:
    net = str(ROOT / "instances/networks/resnet18-cifar.json")
    from aras import load_network

    ops = load_network(net).weighted_ops
    rows = ["layer,weight_bits,activation_bits,error"]
    rows += [f"{o.name},4,,{0.002 * (i % 3)}" for i, o in enumerate(ops)]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    r = cli_inprocess("solve", net, "--precision", "auto", "--error-budget", "0.004",
                      "--sensitivity", str(tmp_path / "s.csv"), "--weight-bits", "4,8",
                      "--json", "-o", str(tmp_path / "o.json"))
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["precision_error"] <= 0.004 + 1e-12 and d["valid"]
    # every error-free layer whose rows shrink at 4 bits takes them
    assert len(d["precision"]) >= sum(1 for i in range(len(ops)) if i % 3 == 0) // 2
    ev = cli_inprocess("evaluate", str(tmp_path / "o.json"), "--network", net)
    assert ev.returncode == 0, ev.stderr
    (tmp_path / "fixed.csv").write_text(f"layer,weight_bits\n{ops[1].name},4\n")
    fx = cli_inprocess("solve", net, "--precision", str(tmp_path / "fixed.csv"), "--json")
    assert fx.returncode == 0 and json.loads(fx.stdout)["precision"] == {ops[1].name: [4, 8]}
    for args, flag in [(["--error-budget", "0.1"], "--error-budget"),
                       (["--precision", "auto"], "--error-budget"),
                       (["--precision", "auto", "--error-budget", "0.1", "--sensitivity",
                         str(tmp_path / "s.csv"), "--weight-bits", "0,8"], "--weight-bits"),
                       (["--precision", "auto", "--error-budget", "0.1", "--sensitivity",
                         str(tmp_path / "nope.csv")], "--sensitivity"),
                       (["--precision", str(tmp_path / "nope.csv")], "--precision")]:
        bad = cli_inprocess("solve", net, *args)
        assert bad.returncode == 2 and flag in bad.stderr, (args, bad.stderr)
        assert "Traceback" not in bad.stderr


def test_cli_sensitivity_writes_the_table_solve_reads(tmp_path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.4, (16, 300)).astype(np.float32)
    w2 = rng.normal(0, 0.4, (300, 4)).astype(np.float32)
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
         helper.make_node("MatMul", ["r", "w2"], ["y"])], "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))
    np.save(tmp_path / "cal.npy", rng.normal(0, 1, (40, 16)).astype(np.float32))
    table = tmp_path / "s.csv"
    r = cli_inprocess("sensitivity", str(path), "--calibration", str(tmp_path / "cal.npy"),
                      "--weight-bits", "2,4,8", "-o", str(table), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["samples"] == 40 and not d["synthetic"]
    assert set(d["layers"]) == set(_layers_of(path))
    # the table feeds solve; a budget of what every layer at 2 bits costs takes them all
    total = sum(v["W2"] for v in d["layers"].values())
    s = cli_inprocess("solve", str(path), "--precision", "auto", "--sensitivity", str(table),
                      "--weight-bits", "2,4,8", "--error-budget", repr(total + 1e-9), "--json")
    assert s.returncode == 0, s.stderr
    out = json.loads(s.stdout)
    assert out["precision_error"] <= total + 1e-9
    # measured inside solve: the chosen assignment's own agreement is reported beside it
    m = cli_inprocess("solve", str(path), "--precision", "auto", "--calibration",
                      str(tmp_path / "cal.npy"), "--weight-bits", "2,8", "--error-budget",
                      "1", "--quantization", "channel", "--json")
    assert m.returncode == 0, m.stderr
    md = json.loads(m.stdout)
    agr = md["precision_agreement"]
    assert agr["metric"] == "top1_agreement" and agr["samples"] == 40
    assert 0 <= agr["value"] <= 1 and not agr["synthetic"]
    np.save(tmp_path / "bad.npy", np.zeros((5, 7), dtype=np.float32))
    wrong = cli_inprocess("solve", str(path), "--precision", "auto", "--calibration",
                          str(tmp_path / "bad.npy"), "--error-budget", "1")
    assert wrong.returncode == 2 and "calibration" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    q = cli_inprocess("solve", str(path), "--quantization", "channel")
    assert q.returncode == 2 and "--quantization" in q.stderr
    rnd = cli_inprocess("sensitivity", str(path), "--samples", "8")
    assert rnd.returncode == 0 and "random" in rnd.stderr
    bad = cli_inprocess("sensitivity", str(path), "--calibration", str(tmp_path / "s.csv"))
    assert bad.returncode == 2 and "calibration" in bad.stderr


def _layers_of(path) -> list[str]:
    from aras import load_network

    return [o.name for o in load_network(str(path)).weighted_ops]


def test_the_family_takes_its_candidates_from_the_errors() -> None:
    p = _chain([128, 512, 512, 128], 4, 6, 1000)
    errors = {L: {4: 0.0, 6: 0.0} for L in ("l0", "l1", "l2")}
    fam = Precision(errors, 0.0)  # no bits given: W4A8, W6A8 and the hardware's W8A8
    assert fam.prepare(p)[1] == [W4, LayerPrecision(6, 8), W8]
    got = solve(p, "jit", families=[fam])
    # error-free 4 bits: every layer whose rows or cycles shrink takes them
    assert got.report.valid and got.schedule.precision
    assert all(v == W4 for v in got.schedule.precision.values())
