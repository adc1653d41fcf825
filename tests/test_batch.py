"""Batch B (docs/model.md, "Batch"): B inputs on one written set of weights."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.heuristics import aras, baseline, greedy_replication, jit, naive
from aras.methods.solve import solve
from aras.methods.steady import solve_steady
from aras.model.errors import InputError
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network
from aras.model.network import NetworkBuilder
from aras.model.schedule import Schedule
from aras.studies.study import load_study
from tests.helpers import cli_inprocess, tiny_hardware, tiny_network

HEURISTICS = {"naive": naive, "baseline": baseline, "greedy-replication": greedy_replication,
              "aras": aras, "jit": jit}


def _attention() -> NetworkBuilder:
    """x(3, 256) -> q, k (linear 256 -> 64) -> scores (3 x 64 by 64 x 3, one head)."""
    b = NetworkBuilder("att", {"x": (3, 256)})
    q = b.linear("q", "x", 256, 64)
    k = b.linear("k", "x", 256, 64)
    b.add("scores", "matmul", [q, k], heads=1, transpose_b=True)
    return b


def test_batch_one_is_the_default_mapping_and_report() -> None:
    hw = load_hardware("aras")
    for name in ("resnet-18", "bert-base"):
        net = load_network(name)
        p0, p1 = map_network(net, hw), map_network(net, hw, batch=1)
        assert p0.steps == p1.steps and p1.batch == 1
        assert "batch" not in p1.summary()
        for method in ("aras", "baseline"):
            r0, r1 = evaluate(p0, HEURISTICS[method](p0)), evaluate(p1, HEURISTICS[method](p1))
            assert r1.makespan_cycles == r0.makespan_cycles
            assert r1.energy.to_dict() == r0.energy.to_dict()
            # per-inference figures of one inference are the run's own
            assert r1.batch == 1
            assert r1.energy_per_inference_j == r1.energy.total
            assert r1.throughput_inf_s == 1.0 / r1.latency_s


def test_hand_checked_batch_of_four() -> None:
    hw = load_hardware("aras")
    net = _attention().build()
    p1, p4 = map_network(net, hw), map_network(net, hw, batch=4)
    L = hw.compute_latency_cycles
    s1, s4 = p1.by_key, p4.by_key
    # q: 256 inputs = 2 crossbar segments, 64 outputs = 1 column block: 2 APU rows, 3 tokens
    assert s1[("q", 0)].apu_rows == s4[("q", 0)].apu_rows == 2
    assert (s1[("q", 0)].windows, s4[("q", 0)].windows) == (3, 12)
    assert p4.compute_cycles(s4[("q", 0)], 1) == 12 * L
    assert p4.compute_cycles(s4[("q", 0)], 4) == 3 * L
    # scores: 3 x 64 by 64 x 3 per sequence; 4 sequences of their own
    assert s4[("scores", 0)].macs == 4 * 3 * 64 * 3
    assert s4[("scores", 0)].fixed_cycles == math.ceil(4 * 3 * 64 * 3 / hw.digital_macs_per_cycle)
    # activation bytes: x is 3 x 256 bytes at 8 bits, four of them; q's out 4 x 3 x 64
    assert s4[("q", 0)].in_bytes == 4 * 3 * 256 * hw.activation_bits // 8
    assert s4[("q", 0)].out_bytes == 4 * 3 * 64
    assert s4[("scores", 0)].in_bytes == 2 * 4 * 3 * 64
    # the same rows written, the same pulses; the run costs one batch
    r1, r4 = evaluate(p1, naive(p1)), evaluate(p4, naive(p4))
    assert r4.valid and r4.row_writes == r1.row_writes == 4
    assert r4.write_pulses == r1.write_pulses
    assert r4.batch == 4
    assert r4.energy_per_inference_j == pytest.approx(r4.energy.total / 4, rel=1e-15)
    assert r4.throughput_inf_s == pytest.approx(4 / r4.latency_s, rel=1e-15)
    # compute energy: windows x APU rows x APUs per row crossbar activations, 4 x batch 1's
    assert r4.energy.compute == pytest.approx(4 * r1.energy.compute, rel=1e-12)
    # naive writes a part, then computes it: 4 writes of T and q, k at 12 windows, then scores
    T = hw.write_latency_cycles
    assert r4.makespan_cycles == 2 * (T + 12 * L) + s4[("scores", 0)].fixed_cycles
    # a cell is written the same times per run, and a run now serves 4 inferences
    assert r4.lifespan_realtime_years == pytest.approx(4 * r1.lifespan_realtime_years)


def test_recurrent_batch_keeps_the_serial_rule() -> None:
    b = NetworkBuilder("rnn", {"x": (5, 16)})
    b.recurrent("lstm", "x", "lstm", 16, 8)
    hw = load_hardware("aras")
    p = map_network(b.build(), hw, batch=3)
    s = p.by_key[("lstm", 0)]
    assert s.windows == 15 and p.max_replication(s) == 1
    assert p.compute_cycles(s, 1) == 15 * hw.compute_latency_cycles


@pytest.mark.parametrize("method", sorted(HEURISTICS))
def test_every_heuristic_is_evaluator_valid_at_batch_four(method: str) -> None:
    hw = tiny_hardware()
    nets = [tiny_network(), _attention().build()]
    for net in nets:
        h = hw if net.name == "tiny" else load_hardware("aras")
        p = map_network(net, h, batch=4)
        rep = evaluate(p, HEURISTICS[method](p))
        assert rep.valid, rep.violations
        assert rep.batch == 4


def test_a_large_batch_needs_more_gbuffer_passes() -> None:
    # c1 reads 64 bytes and writes 128 per inference, on three banks of 1 KB. At batch 16,
    # 1 KB in one bank and 2 KB in two: one pass. At 17, 1,088 and 2,176 bytes need 2 + 3
    # banks; in halves, 544 and 1,088 need 1 + 2: two passes.
    hw = tiny_hardware()
    assert map_network(tiny_network(), hw, batch=16).by_key[("c1", 0)].passes == 1
    assert map_network(tiny_network(), hw, batch=17).by_key[("c1", 0)].passes == 2


def test_schedule_file_round_trip_with_batch(tmp_path: Path) -> None:
    hw = tiny_hardware()
    p3 = map_network(tiny_network(), hw, batch=3)
    res = solve(p3, "aras")
    assert res.report is not None and res.report.valid and res.schedule is not None
    path = tmp_path / "s.json"
    res.schedule.save(path)
    back = Schedule.load(path)
    assert back.batch == 3
    again = evaluate(p3, back)
    assert again.valid and again.makespan_cycles == res.report.makespan_cycles
    with pytest.raises(InputError, match=r"^batch: the schedule states batch 3"):
        evaluate(map_network(tiny_network(), hw), back)
    # a batch-1 file states none; against a batch-2 mapping every step's windows differ (R5)
    one = solve(map_network(tiny_network(), hw), "aras").schedule
    assert one is not None and one.batch is None and "batch" not in one.to_dict()
    rep = evaluate(map_network(tiny_network(), hw, batch=2), one)
    assert not rep.valid
    assert sum(v.rule == "R5" and "windows 16, the mapping gives 32" in v.message
               for v in rep.violations) == 2


@pytest.mark.parametrize("bad", [0, -1, 4097, 2.0, True, "4"])
def test_python_batch_errors_name_batch(bad: object) -> None:
    with pytest.raises(InputError, match=r"^batch: "):
        map_network(tiny_network(), tiny_hardware(), batch=bad)  # type: ignore[arg-type]


def test_schedule_file_batch_is_checked(tmp_path: Path) -> None:
    d = solve(map_network(tiny_network(), tiny_hardware()), "aras").schedule.to_dict()
    d["batch"] = 0
    with pytest.raises(InputError, match=r"s\.json: batch: must be >= 1"):
        Schedule.from_dict(d, source=str(tmp_path / "s.json"))


def test_periodic_schedules_refuse_a_batch() -> None:
    p = map_network(tiny_network(), tiny_hardware(), batch=2)
    with pytest.raises(InputError, match=r"^batch: periodic schedules"):
        solve_steady(p, "baseline")


def test_study_network_batch(tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text('methods = ["aras"]\nnetworks = [{network = "resnet-18", batch = 0}]\n')
    with pytest.raises(InputError, match=r"networks\[0\]\.batch: must be >= 1"):
        load_study(f)
    f.write_text('methods = ["aras"]\nnetworks = [{network = "resnet-18", batch = 8, '
                 'name = "r18-b8"}]\n')
    study = load_study(f)
    assert [t.network_options for t in study.tasks] == [{"batch": 8}]
    from aras.studies.run import run_task

    rec = run_task(study.tasks[0])
    assert rec["status"] in ("feasible", "optimal") and rec["batch"] == 8
    assert rec["_schedule"]["batch"] == 8
    assert rec["throughput_inf_s"] == pytest.approx(8 / rec["latency_s"])


@pytest.mark.parametrize("value, says", [("0", "--batch: must be >= 1"),
                                         ("5000", "--batch: at most 4,096"),
                                         ("2.5", "'--batch'")])
def test_cli_batch_errors(value: str, says: str) -> None:
    r = cli_inprocess("bound", "resnet-18", "--batch", value)
    assert r.returncode == 2
    assert says in r.stderr


def test_cli_batch_solve_and_evaluate(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    r = cli_inprocess("solve", "resnet-18", "--batch", "4", "-m", "aras", "-o", str(out),
                      "--quiet")
    assert r.returncode == 0, r.stderr
    assert "for a batch of 4" in r.stdout and "energy per inference" in r.stdout
    r = cli_inprocess("evaluate", str(out), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["batch"] == 4
    assert d["throughput_inf_s"] == pytest.approx(4 / d["latency_s"])
    assert d["energy_per_inference_j"] == pytest.approx(d["energy_j"]["total"] / 4)
    r = cli_inprocess("evaluate", str(out), "--batch", "2")
    assert r.returncode == 2 and "--batch: " in r.stderr
    r = cli_inprocess("solve", "resnet-18", "--batch", "2", "--steady-state")
    assert r.returncode == 2 and "--batch: " in r.stderr


def test_serve_mix_at_a_batch(tmp_path: Path) -> None:
    from aras.studies.serve import load_mix, serve

    f = tmp_path / "mix.toml"
    f.write_text('requests = 3\norder = "fixed"\nmethod = "jit"\nbatch = 2\n'
                 '[models]\nresnet-18 = 1\n')
    one = serve(load_mix(f))
    assert one["valid"] and one["batch"] == 2
    # three requests of two inferences each
    assert one["throughput_inf_s"] == pytest.approx(6 / one["makespan_s"])
    assert one["models"]["resnet-18"]["throughput_inf_s"] == pytest.approx(
        6 / one["makespan_s"])
    f.write_text('requests = 3\norder = "fixed"\nmethod = "jit"\n[models]\nresnet-18 = 1\n')
    two = serve(load_mix(f))
    assert "batch" not in two
    assert one["energy_per_inference_mj"] < two["energy_per_inference_mj"]
    for body, says in (("batch = 0\n", "batch: must be >= 1"),
                       ("batch = 2\nsteady = true\n", "batch: periodic streams")):
        f.write_text(body + "[models]\nresnet-18 = 1\n")
        with pytest.raises(InputError, match=says):
            load_mix(f)
