"""Per-layer precision in the model (docs/model.md "Precision"): mapping, cycles, pulses,
energy, schedule files and the evaluator's checks. Expected values are derived here from the
rules, independently of aras.model.precision."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from aras import evaluate, map_network, solve
from aras.frontends import load_network
from aras.model.errors import InputError
from aras.model.hardware import Hardware
from aras.model.network import NetworkBuilder
from aras.model.precision import LayerPrecision, load_precision, requantize
from aras.model.schedule import Schedule
from aras.model.weights import normal_pmf, pair_costs, replay_rows
from tests.helpers import ROOT, cli_inprocess, tiny_hardware, tiny_network

RES18 = str(ROOT / "instances/networks/resnet18-cifar.json")


def _linear_net(i: int, o: int, tokens: int = 3):
    b = NetworkBuilder("lin", {"x": (tokens, i)})
    y = b.linear("fc1", "x", i, o)
    b.linear("fc2", y, o, o)
    return b.build()


def _rows(i: int, o: int, bits: int, hw: Hardware) -> int:
    """APU rows of an i x o matrix at ``bits``: the rule restated."""
    cells = math.ceil(bits / hw.bits_per_cell)
    kernels = hw.apus_per_row * (hw.crossbar_cols // cells)
    return math.ceil(i / hw.crossbar_rows) * math.ceil(o / kernels)


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5, 6, 7, 8])
def test_apu_rows_and_window_cycles_follow_the_bits(bits: int) -> None:
    hw = Hardware()
    net = _linear_net(300, 1000)
    p = map_network(net, hw, precision={"fc1": (bits, bits)})
    fc1 = [s for s in p.steps if s.layer == "fc1"]
    assert sum(s.apu_rows for s in fc1) == _rows(300, 1000, bits, hw)
    assert all(s.window_cycles == math.ceil(96 * bits / 8) for s in fc1)
    assert p.compute_cycles(fc1[0], 2) == math.ceil(3 / 2) * math.ceil(96 * bits / 8)
    fc2 = [s for s in p.steps if s.layer == "fc2"]  # untouched
    assert sum(s.apu_rows for s in fc2) == _rows(1000, 1000, 8, hw)
    assert fc2[0].window_cycles == 96


def test_int8_everywhere_is_the_uniform_problem_bit_for_bit() -> None:
    net = load_network(RES18)
    hw = Hardware()
    base = map_network(net, hw)
    int8 = map_network(net, hw, precision={o.name: (8, 8) for o in net.weighted_ops})
    assert int8.precision == {} and int8.steps == base.steps
    a, b = solve(base, "aras"), solve(int8, "aras")
    assert a.schedule.to_dict() == b.schedule.to_dict()
    assert a.report.energy.__dict__ == b.report.energy.__dict__
    assert a.report.level_steps == b.report.level_steps


def test_a_layer_keeps_its_full_precision_parts() -> None:
    hw = tiny_hardware()  # 2 APU rows: a 4-row layer takes 2 parts at INT8
    net = _linear_net(128, 256, tokens=1)
    full = map_network(net, hw)
    low = map_network(net, hw, precision={"fc2": 4})
    k8 = [s.apu_rows for s in full.steps if s.layer == "fc2"]
    k4 = [s.apu_rows for s in low.steps if s.layer == "fc2"]
    assert len(k8) == len(k4) == 2
    assert sum(k8) == _rows(256, 256, 8, hw) and sum(k4) == _rows(256, 256, 4, hw)
    assert [s.key for s in full.steps] == [s.key for s in low.steps]


def test_requantize_is_round_half_up_of_the_same_range() -> None:
    q = np.arange(256)
    for b in range(1, 9):
        top = (1 << b) - 1
        want = np.floor(q * top / 255 + 0.5).astype(int)
        assert np.array_equal(requantize(q, b), want)
        assert requantize(255, b) == top and requantize(0, b) == 0


def test_bad_precision_is_one_line_naming_the_argument() -> None:
    net, hw = tiny_network(), tiny_hardware()
    for bad, word in [({"nope": 4}, "nope"), ({"c1": 0}, "weight_bits"),
                      ({"c1": 9}, "weight_bits"), ({"c1": (8, 9)}, "activation_bits"),
                      ({"c1": "4"}, "weight_bits")]:
        with pytest.raises(InputError, match=word) as e:
            map_network(net, hw, precision=bad)
        assert str(e.value).startswith("precision") and "\n" not in str(e.value)


def test_precision_files(tmp_path) -> None:
    net, hw = tiny_network(), tiny_hardware()
    layers = [o.name for o in net.weighted_ops]
    (tmp_path / "p.csv").write_text("layer,weight_bits,activation_bits\nc1,4,6\n")
    (tmp_path / "p.toml").write_text("c2 = [2, 8]\n[c1]\nweight_bits = 4\n")
    (tmp_path / "p.json").write_text(json.dumps({"c1": 3}))
    assert load_precision(tmp_path / "p.csv", layers, hw) == {"c1": LayerPrecision(4, 6)}
    assert load_precision(tmp_path / "p.toml", layers, hw) == {
        "c1": LayerPrecision(4, 8), "c2": LayerPrecision(2, 8)}
    assert load_precision(tmp_path / "p.json", layers, hw) == {"c1": LayerPrecision(3, 8)}
    (tmp_path / "bad.csv").write_text("layer,weight_bits\nzz,4\n")
    with pytest.raises(InputError, match="zz"):
        load_precision(tmp_path / "bad.csv", layers, hw)
    (tmp_path / "bad2.csv").write_text("layer,bits\nc1,4\n")
    with pytest.raises(InputError, match="header"):
        load_precision(tmp_path / "bad2.csv", layers, hw)


def _replay_by_hand(writes, hw: Hardware) -> int:
    """Level steps of one row, cell by cell on a flat row of cells, second pass counted."""
    X = hw.apus_per_row * hw.crossbar_cols
    state: dict[tuple[int, int], int] = {}
    total = 0
    for counting in (False, True):
        for codes, bits in writes:  # codes: (rows, kernels) at `bits`
            C = math.ceil(bits / hw.bits_per_cell)
            per_xbar = hw.crossbar_cols // C
            for r, k in itertools.product(range(codes.shape[0]), range(codes.shape[1])):
                for c in range(C):
                    col = (k // per_xbar) * hw.crossbar_cols + (k % per_xbar) * C + c
                    assert col < X
                    level = (int(codes[r, k]) >> (hw.bits_per_cell * c)) & 3
                    if counting and (r, col) in state:
                        total += abs(state[(r, col)] - level)
                    state[(r, col)] = level
    return total


@pytest.mark.parametrize("bits_b", [2, 4, 6])
def test_exact_pulses_count_cells_where_they_sit(bits_b: int) -> None:
    hw = Hardware(crossbar_rows=4, crossbar_cols=12, apus_per_row=2)
    rng = np.random.default_rng(bits_b)
    a = rng.integers(0, 256, size=(1, 4, 6))  # 8-bit layer: 3 weights x 2 APUs = 6 kernels
    kb = hw.apus_per_row * (hw.crossbar_cols // math.ceil(bits_b / 2))
    b8 = rng.integers(0, 256, size=(1, 3, kb))
    b = requantize(b8, bits_b)
    got, _, _ = replay_rows([[(a, 0), (b, 0, bits_b)]], hw, fill=128)
    want = _replay_by_hand([(a[0], 8), (b[0], bits_b)], hw)
    assert got == want


def test_mixed_statistical_pair_costs_by_enumeration() -> None:
    hw = Hardware()
    p8 = normal_pmf(120.0, 30.0)
    p4 = np.zeros(16)
    np.add.at(p4, requantize(np.arange(256), 4), normal_pmf(140.0, 20.0))
    steps, changed = pair_costs([p8, p4], hw)
    # 4-bit (2 cells) writing over 8-bit (4 cells): new weight k's cells sit on old cells
    # (2k + c) mod 4, so half the new weights meet cells 0-1 and half cells 2-3.
    want = 0.0
    for align in (0, 2):
        for x, px in enumerate(p8):
            for y, py in enumerate(p4):
                for c in range(2):
                    old = (x >> (2 * (align + c))) & 3
                    want += 0.5 * px * py * abs(old - ((y >> (2 * c)) & 3))
    assert steps[0, 1] == pytest.approx(want, rel=1e-12)
    assert changed[1, 1] <= 2 and changed[0, 0] <= 4


def test_lower_bits_cut_rows_cycles_and_energy_and_schedules_validate() -> None:
    net = load_network(RES18)
    hw = Hardware()
    base = map_network(net, hw)
    low = base.with_precision({o.name: (4, 4) for o in net.weighted_ops})
    assert low.weight_rows < base.weight_rows
    r8, r4 = solve(base, "jit"), solve(low, "jit")
    assert r4.report.valid and r4.schedule.precision == low.precision
    assert r4.report.makespan_cycles < r8.report.makespan_cycles
    assert r4.report.energy.compute < r8.report.energy.compute
    assert r4.report.energy.rram_write < r8.report.energy.rram_write
    with pytest.raises(InputError, match="precision"):
        evaluate(base, r4.schedule)


def test_schedule_file_states_precision_and_cli_checks_it(tmp_path) -> None:
    net = load_network(RES18)
    base = map_network(net, Hardware())
    # a layer whose APU rows shrink at 4 bits (more than 128 output columns)
    layer = next(o.name for o in net.weighted_ops
                 if base.with_precision({o.name: 4}).weight_rows < base.weight_rows)
    p = map_network(net, Hardware(), precision={layer: (4, 6)})
    sched = solve(p, "aras").schedule
    path = tmp_path / "s.json"
    sched.save(path)
    assert json.loads(path.read_text())["precision"] == {layer: [4, 6]}
    assert Schedule.load(path).precision == {layer: LayerPrecision(4, 6)}
    ok = cli_inprocess("evaluate", str(path), "--network", RES18)
    assert ok.returncode == 0, ok.stderr
    # the same writes, stated at INT8: the part's writes no longer match its rows (R1)
    d = json.loads(path.read_text())
    del d["precision"]
    (tmp_path / "w.json").write_text(json.dumps(d))
    bad = cli_inprocess("evaluate", str(tmp_path / "w.json"), "--network", RES18)
    assert bad.returncode == 1 and "R1" in bad.stdout and "R5" in bad.stdout
    d["precision"] = {"nope": [4, 8]}
    (tmp_path / "u.json").write_text(json.dumps(d))
    unk = cli_inprocess("evaluate", str(tmp_path / "u.json"), "--network", RES18)
    assert unk.returncode == 2 and "nope" in unk.stderr
