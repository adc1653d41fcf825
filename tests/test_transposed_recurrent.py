"""Transposed convolutions and recurrent layers (docs/model.md), and clean errors for the ONNX
ops that stay unsupported.

Expected weight counts are read off the files with the ``onnx`` package alone (initializer
sizes); windows, shapes and compute cycles are worked out here from the ops' definitions.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from aras.evaluation.bounds import bounds  # noqa: E402
from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.frontends import load_network  # noqa: E402
from aras.methods.heuristics import aras, baseline, greedy_replication, jit, naive  # noqa: E402
from aras.methods.milp import milp  # noqa: E402
from aras.model.errors import InputError  # noqa: E402
from aras.model.hardware import Hardware, aras_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402
from aras.model.network import Network, NetworkBuilder  # noqa: E402
from tests.exhaustive import optimum, schedule_of  # noqa: E402
from tests.helpers import cli_inprocess as run_cli  # noqa: E402
from tests.helpers import random_schedule, small_hardware  # noqa: E402

HEURISTICS = {"naive": naive, "baseline": baseline, "greedy-replication": greedy_replication,
              "aras": aras, "jit": jit}
RNG = np.random.default_rng(21)


def _vi(name: str, shape: list | None, dtype: int = TensorProto.FLOAT) -> object:
    return helper.make_tensor_value_info(name, dtype, shape)


def _init(name: str, shape: tuple[int, ...], dtype: type = np.float32) -> object:
    if dtype == np.int8:
        a = RNG.integers(-128, 128, size=shape).astype(np.int8)
    else:
        a = RNG.normal(size=shape).astype(dtype)
    return numpy_helper.from_array(a, name)


def _save(tmp_path: Path, nodes: list, inputs: list, outputs: list, inits: list,
          name: str = "m.onnx", ms: bool = False, extra_domains: tuple[str, ...] = ()) -> Path:
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    ops = [helper.make_opsetid("", 17)] + [helper.make_opsetid(d, 1) for d in extra_domains]
    if ms:
        ops.append(helper.make_opsetid("com.microsoft", 1))
    p = tmp_path / name
    p.write_bytes(helper.make_model(g, opset_imports=ops).SerializeToString())
    return p


def initializer_weights(path: Path, roles: dict[str, tuple[int, ...]]) -> int:
    """Sum of the sizes of the initializers each node of a type reads at the given input
    positions (ConvTranspose: W; LSTM, GRU, RNN, DynamicQuantizeLSTM: W and R), read with
    onnx alone, through DequantizeLinear."""
    m = onnx.load(str(path))
    inits = {t.name: t for t in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}
    total = 0
    for n in m.graph.node:
        for i in roles.get(n.op_type, ()):
            t = n.input[i]
            while t not in inits and producer[t].op_type == "DequantizeLinear":
                t = producer[t].input[0]
            total += math.prod(inits[t].dims)
    return total


ROLES = {"ConvTranspose": (1,), "LSTM": (1, 2), "GRU": (1, 2), "RNN": (1, 2),
         "DynamicQuantizeLSTM": (1, 2), "Conv": (1,)}


def onnx_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    m = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    return {v.name: tuple(d.dim_value for d in v.type.tensor_type.shape.dim)
            for v in list(m.graph.value_info) + list(m.graph.output)}


def _all_valid(p) -> dict[str, int]:
    out = {}
    for name, method in HEURISTICS.items():
        rep = evaluate(p, method(p))
        assert rep.valid, (name, rep.violations[:3])
        out[name] = rep.makespan_cycles
    return out


# ----------------------------------------------------------------------------- ConvTranspose
def _deconv_model(tmp_path: Path) -> Path:
    dq_w = numpy_helper.from_array(RNG.integers(-128, 128, (8, 6, 4, 4)).astype(np.int8), "wq")
    inits = [_init("w1", (8, 2, 3, 3)), dq_w,
             numpy_helper.from_array(np.float32(0.05), "s"),
             numpy_helper.from_array(np.int8(0), "z"),
             _init("w3", (6, 4, 3, 3)), _init("w4", (8, 6, 2, 2)), _init("w1d", (4, 5, 5))]
    nodes = [
        # groups 2, stride 2, pads, output_padding, dilation: 2 x 4 = 8 output channels
        helper.make_node("ConvTranspose", ["x", "w1"], ["a"], name="g2", group=4,
                         strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1],
                         dilations=[1, 1]),
        # int8 codes behind DequantizeLinear; asymmetric pads (declared shape)
        helper.make_node("DequantizeLinear", ["wq", "s", "z"], ["wdq"], name="dq"),
        helper.make_node("ConvTranspose", ["a", "wdq"], ["b"], name="asym", strides=[1, 2],
                         pads=[0, 1, 2, 0], dilations=[2, 1]),
        helper.make_node("ConvTranspose", ["b", "w3"], ["c"], name="same", group=2,
                         strides=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("ConvTranspose", ["c", "w4"], ["d"], name="shaped", strides=[2, 2],
                         output_shape=[61, 57]),
        helper.make_node("ConvTranspose", ["v", "w1d"], ["e"], name="one_d", strides=[3],
                         pads=[1, 1], output_padding=[2]),
    ]
    return _save(tmp_path, nodes, [_vi("x", [1, 8, 5, 6]), _vi("v", [1, 4, 9])],
                 [_vi("d", None), _vi("e", None)], inits)


def test_conv_transpose_weights_windows_shapes_and_codes(tmp_path: Path) -> None:
    path = _deconv_model(tmp_path)
    net = load_network(str(path))
    assert net.weight_count == initializer_weights(path, ROLES) == (
        8 * 2 * 9 + 8 * 6 * 16 + 6 * 4 * 9 + 8 * 6 * 4 + 4 * 5 * 5)
    assert [o.kind for o in net.weighted_ops] == ["conv_transpose2d"] * 5
    # output shapes: ONNX's own inference, batch dropped (the 1-D one as (C, 1, L))
    want = onnx_shapes(path)
    for layer in ("g2", "asym", "same", "shaped"):
        assert net.shapes[layer] == want[{"g2": "a", "asym": "b", "same": "c",
                                          "shaped": "d"}[layer]][1:]
    assert net.shapes["one_d"] == (5, 1, (9 - 1) * 3 - 2 + 5 + 2)
    # windows: one per input pixel (the scatter form)
    p = map_network(net, aras_hardware())
    win = {s.layer: s.windows for s in p.steps}
    assert win == {"g2": 5 * 6, "asym": 10 * 12, "same": want["b"][2] * want["b"][3],
                   "shaped": want["c"][2] * want["c"][3], "one_d": 9}
    # the scatter matrix: groups x (c_in / g) x (c_out / g x k_h x k_w)
    assert net.op("g2").matrix == (4, 2, 2 * 9)
    assert net.op("one_d").matrix == (1, 4, 5 * 5)
    assert p.by_key[("g2", 0)].macs == 5 * 6 * 8 * 2 * 9
    # int8 codes of the file, offset by 128, row = input channel
    q = numpy_helper.to_array(onnx.load(str(path)).graph.initializer[1]).astype(np.int16) + 128
    assert net.codes is not None
    np.testing.assert_array_equal(net.codes["asym"][0, 5], q[5].reshape(-1))
    assert set(net.codes) == {o.name for o in net.weighted_ops}
    _all_valid(p)


def test_conv_transpose_split_into_parts_on_a_small_accelerator(tmp_path: Path) -> None:
    """A transposed convolution larger than the accelerator is split into parts; every
    heuristic stays valid, with replication where rows allow."""
    b = NetworkBuilder("up", {"x": (64, 6, 6)})
    y = b.conv_transpose("up1", "x", 64, 64, 4, stride=2, padding=1)   # 64 x 1024: 8 rows
    b.conv_transpose("up2", y, 64, 8, 3, stride=1, padding=1, groups=2)
    hw = Hardware(name="small", pes=1, apu_rows_per_pe=5, apus_per_row=4,
                  write_latency_cycles=3000, gbuffer_banks=(1 << 16,) * 4,
                  memory_bandwidth_bytes_s=1e12)
    p = map_network(b.build(), hw)
    assert [(s.layer, s.apu_rows, s.windows) for s in p.steps] == [
        ("up1", 4, 36), ("up1", 4, 36), ("up2", 1, 144)]
    assert b.build().shapes["up1"] == (64, 12, 12)
    spans = _all_valid(p)
    assert spans["jit"] <= spans["naive"]


def test_real_pytorch_exports_of_conv_transpose() -> None:
    """The ConvTranspose2d exports of PyTorch shipped with the onnx wheel."""
    root = Path(onnx.__file__).parent / "backend" / "test" / "data" / "pytorch-converted"
    for case in ("test_ConvTranspose2d", "test_ConvTranspose2d_no_bias"):
        path = root / case / "model.onnx"
        net = load_network(str(path))
        assert net.weight_count == initializer_weights(path, ROLES) == 3 * 4 * 3 * 3
        (x,) = (i for i in onnx.load(str(path)).graph.input if i.name == "0")
        h, w = (d.dim_value for d in x.type.tensor_type.shape.dim[2:])
        p = map_network(net, aras_hardware())
        assert p.steps[0].windows == h * w
        _all_valid(p)


# ----------------------------------------------------------------------------- recurrent layers
T_STEPS, IN, HID = 6, 10, 16


def _recurrent_model(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    """Every recurrent flavour in one chain: LSTM bidirectional (with biases, initial states
    as graph inputs and Y_h read), GRU reverse (linear_before_reset 0), GRU forward (1), RNN
    forward, DynamicQuantizeLSTM bidirectional; then a 1-D ConvTranspose."""
    H = HID
    arrays = {
        "W1": RNG.normal(size=(2, 4 * H, IN)).astype(np.float32),
        "R1": RNG.normal(size=(2, 4 * H, H)).astype(np.float32),
        "Wg": RNG.normal(size=(1, 3 * H, 2 * H)).astype(np.float32),
        "Rg": RNG.normal(size=(1, 3 * H, H)).astype(np.float32),
        "Wg2": RNG.normal(size=(1, 3 * H, H)).astype(np.float32),
        "Rg2": RNG.normal(size=(1, 3 * H, H)).astype(np.float32),
        "Wr": RNG.normal(size=(1, H, H)).astype(np.float32),
        "Rr": RNG.normal(size=(1, H, H)).astype(np.float32),
        "Wq": RNG.integers(-128, 128, (2, H, 4 * H)).astype(np.int8),
        "Rq": RNG.integers(-128, 128, (2, H, 4 * H)).astype(np.int8),
        "up": RNG.normal(size=(2 * H, 4, 3)).astype(np.float32),
    }
    inits = [numpy_helper.from_array(a, k) for k, a in arrays.items()]
    inits += [_init("B1", (2, 8 * H)),
              numpy_helper.from_array(np.ones(2, np.float32), "s"),
              numpy_helper.from_array(np.zeros(2, np.int8), "z"),
              numpy_helper.from_array(np.array([T_STEPS, 1, 2 * H], np.int64), "shp"),
              numpy_helper.from_array(np.array([1], np.int64), "ax"),
              numpy_helper.from_array(np.array([1, 2 * H, T_STEPS], np.int64), "shp2")]
    nodes = [
        helper.make_node("LSTM", ["x", "W1", "R1", "B1", "", "h0", "c0"], ["y1", "yh1"],
                         name="lstm", hidden_size=H, direction="bidirectional"),
        helper.make_node("Transpose", ["y1"], ["y1t"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["y1t", "shp"], ["y1r"]),
        helper.make_node("GRU", ["y1r", "Wg", "Rg"], ["y2"], name="gru_rev", hidden_size=H,
                         direction="reverse"),
        helper.make_node("Squeeze", ["y2", "ax"], ["y2s"]),
        helper.make_node("GRU", ["y2s", "Wg2", "Rg2"], ["y3"], name="gru_lbr", hidden_size=H,
                         linear_before_reset=1),
        helper.make_node("Squeeze", ["y3", "ax"], ["y3s"]),
        helper.make_node("RNN", ["y3s", "Wr", "Rr"], ["y4"], name="rnn", hidden_size=H),
        helper.make_node("Squeeze", ["y4", "ax"], ["y4s"]),
        helper.make_node("DynamicQuantizeLSTM",
                         ["y4s", "Wq", "Rq", "", "", "", "", "", "s", "z", "s", "z"],
                         ["y5"], name="dqlstm", domain="com.microsoft", hidden_size=H,
                         direction="bidirectional"),
        helper.make_node("Reshape", ["y5", "shp2"], ["seq"]),
        helper.make_node("ConvTranspose", ["seq", "up"], ["out"], name="head", strides=[2]),
        helper.make_node("Relu", ["yh1"], ["hout"], name="final"),
    ]
    path = _save(tmp_path, nodes, [_vi("x", [T_STEPS, 1, IN]), _vi("h0", [2, 1, H]),
                                   _vi("c0", [2, 1, H])],
                 [_vi("out", None), _vi("hout", None)], inits, ms=True)
    return path, arrays


def test_recurrent_layers_weights_structure_and_codes(tmp_path: Path) -> None:
    path, arr = _recurrent_model(tmp_path)
    net = load_network(str(path))
    H, T = HID, T_STEPS
    assert net.weight_count == initializer_weights(path, ROLES)
    assert net.weight_count == sum(a.size for a in arr.values())
    kinds = [(o.name, o.kind) for o in net.weighted_ops]
    assert kinds == [("lstm.input", "linear"), ("lstm", "recurrent"),
                     ("gru_rev.input", "linear"), ("gru_rev", "recurrent"),
                     ("gru_lbr.input", "linear"), ("gru_lbr", "recurrent"),
                     ("rnn.input", "linear"), ("rnn", "recurrent"),
                     ("dqlstm.input", "linear"), ("dqlstm", "recurrent"),
                     ("head", "conv_transpose2d")]
    # projections: input x directions x gates x hidden; recurrent: directions x H x gates H
    assert net.op("lstm.input").matrix == (1, IN, 2 * 4 * H)
    assert net.op("lstm").matrix == (2, H, 4 * H)
    assert net.op("gru_rev").matrix == (1, H, 3 * H)
    assert net.op("rnn").matrix == (1, H, H)
    assert net.op("dqlstm.input").matrix == (1, H, 2 * 4 * H)
    # the initial states are read by the recurrent op, the final state is a gather of it
    assert net.op("lstm").inputs == ("lstm.input", "h0", "c0")
    assert net.op("lstm.h").kind == "gather" and net.op("lstm.h").inputs == ("lstm",)
    assert net.shapes["lstm"] == (T, 2 * H) and net.shapes["dqlstm"] == (T, 2 * H)
    # windows: every timestep; a GRU without linear_before_reset makes two dependent passes
    p = map_network(net, aras_hardware())
    win = {s.layer: s.windows for s in p.weighted_steps}
    assert win == {"lstm.input": T, "lstm": T, "gru_rev.input": T, "gru_rev": 2 * T,
                   "gru_lbr.input": T, "gru_lbr": T, "rnn.input": T, "rnn": T,
                   "dqlstm.input": T, "dqlstm": T, "head": T}
    assert p.by_key[("gru_rev", 0)].macs == T * H * 3 * H  # passes do not double the MACs
    # codes: float layers quantised, DynamicQuantizeLSTM's int8 as stored + 128
    assert net.codes is not None and set(net.codes) == {o.name for o in net.weighted_ops}
    wq, rq = arr["Wq"].astype(np.int16) + 128, arr["Rq"].astype(np.int16) + 128
    proj = net.codes["dqlstm.input"]  # (input, directions x 4H): column d*4H + j = W[d, :, j]
    assert proj.shape == (H, 2 * 4 * H)
    np.testing.assert_array_equal(proj[:, 4 * H + 7], wq[1, :, 7])
    np.testing.assert_array_equal(net.codes["dqlstm"], rq)
    # float LSTM: R[d, j, h] sits at codes[d, h, j]; quantisation is monotonic per layer
    r1, c1 = arr["R1"], net.codes["lstm"].astype(int)
    assert c1.shape == (2, H, 4 * H)
    hi = np.unravel_index(np.argmax(r1), r1.shape)
    lo = np.unravel_index(np.argmin(r1), r1.shape)
    assert c1[hi[0], hi[2], hi[1]] == 255 and c1[lo[0], lo[2], lo[1]] == 0
    w1, p1 = arr["W1"], net.codes["lstm.input"].astype(int)
    hi = np.unravel_index(np.argmax(w1), w1.shape)
    assert p1[hi[2], hi[0] * 4 * H + hi[1]] == 255
    spans = _all_valid(p)
    assert min(spans.values()) >= bounds(p).lower


@pytest.mark.parametrize("direction,dirs", [("forward", 1), ("reverse", 1),
                                            ("bidirectional", 2)])
@pytest.mark.parametrize("op,gates", [("LSTM", 4), ("GRU", 3), ("RNN", 1)])
def test_every_cell_and_direction(tmp_path: Path, op: str, gates: int, direction: str,
                                  dirs: int) -> None:
    H = 12
    inits = [_init("W", (dirs, gates * H, IN)), _init("R", (dirs, gates * H, H))]
    path = _save(tmp_path, [helper.make_node(op, ["x", "W", "R"], ["y"], name="r",
                                             hidden_size=H, direction=direction)],
                 [_vi("x", [T_STEPS, 1, IN])], [_vi("y", None)], inits)
    net = load_network(str(path))
    assert net.weight_count == initializer_weights(path, ROLES) == dirs * gates * H * (IN + H)
    rec = net.op("r")
    assert (rec.attrs["cell"], rec.attrs["directions"], rec.attrs["hidden"]) == (
        op.lower(), dirs, H)
    p = map_network(net, aras_hardware())
    passes = 2 if op == "GRU" else 1
    assert [s.windows for s in p.steps] == [T_STEPS, T_STEPS * passes]
    _all_valid(p)


def test_recurrent_compute_time_by_hand() -> None:
    """T = 10 timesteps, compute_latency 96 cycles: the recurrent step takes 10 x 96 = 960
    cycles at any replication and is never replicated; its projection splits its windows."""
    b = NetworkBuilder("seq", {"x": (10, 64)})
    lstm = b.recurrent("lstm", "x", "lstm", 64, 32)
    gru = b.recurrent("gru", lstm, "gru", 32, 32)
    b.recurrent("gru2", gru, "gru", 32, 32, linear_before_reset=True)
    p = map_network(b.build(), aras_hardware())
    assert p.hardware.compute_latency_cycles == 96
    rec, proj = p.by_key[("lstm", 0)], p.by_key[("lstm.input", 0)]
    assert rec.serial and not proj.serial
    assert [p.compute_cycles(rec, r) for r in (1, 2, 5, 10)] == [960] * 4
    assert p.max_replication(rec) == 1 and p.min_compute_cycles(rec) == 960
    assert [p.compute_cycles(proj, r) for r in (1, 2, 3, 10)] == [960, 480, 4 * 96, 96]
    assert p.max_replication(proj) == 10
    # GRU, candidate gate after the reset gate: two dependent passes per timestep
    assert p.compute_cycles(p.by_key[("gru", 0)], 4) == 2 * 10 * 96
    assert p.compute_cycles(p.by_key[("gru2", 0)], 4) == 10 * 96
    # a replication cap changes nothing for it
    assert p.with_replication_caps({"lstm": 3}).max_replication(rec) == 1


def _tiny(T: int, rows: int, wl: int) -> Hardware:
    return Hardware(name="corpus", pes=1, apu_rows_per_pe=rows, apus_per_row=4,
                    write_latency_cycles=wl, gbuffer_banks=(1 << 20,) * 3,
                    memory_bandwidth_bytes_s=1e12)


@pytest.mark.parametrize("tokens,rows,wl,cell", [(6, 4, 300, "lstm"), (8, 5, 600, "gru"),
                                                 (5, 3, 1000, "rnn")])
def test_bounds_and_milp_agree_with_an_enumerated_optimum(tokens: int, rows: int, wl: int,
                                                          cell: str) -> None:
    """The enumerator (tests/exhaustive.py) tries every replication of every part, the
    recurrent one included, with its own reading of the time rule; the bounds stay below its
    optimum, the MILP (which offers the recurrent step one copy) reaches it, and the
    optimum's schedule is valid."""
    b = NetworkBuilder("rnn", {"x": (tokens, 64)})
    r = b.recurrent("r", "x", cell, 64, 32)
    b.linear("out", r, 32, 128)
    p = map_network(b.build(), _tiny(tokens, rows, wl))
    opt = optimum(p)
    rep = evaluate(p, schedule_of(p, opt))
    assert rep.valid, rep.violations[:2]
    assert rep.makespan_cycles == opt.makespan
    bd = bounds(p)
    for name in ("write", "chain", "area", "cut", "path", "window"):
        assert getattr(bd, name) <= opt.makespan, name
    # and tight here: with copies splitting the timesteps the optimum would be lower
    # (1176 and 1944 cycles in the first two cases), and so would these bounds
    assert bd.lower == opt.makespan
    s = milp(p, full=True, time_limit=20)
    got = evaluate(p, s)
    assert got.valid and got.makespan_cycles == opt.makespan
    assert all(st.replication == 1 for st in s.steps if st.layer == "r")


@st.composite
def _mixed_networks(draw: st.DrawFn) -> Network:
    """A recurrent layer (any cell, direction, size) feeding a linear, beside a transposed
    convolution (any kernel, stride, padding, output padding, dilation, groups)."""
    T, d = draw(st.integers(1, 6)), draw(st.sampled_from([8, 24, 40]))
    groups = draw(st.sampled_from([1, 2]))
    c_in, c_out = groups * draw(st.integers(1, 12)), groups * draw(st.integers(1, 12))
    k, stride, dil = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    side = draw(st.integers(1, 5))
    b = NetworkBuilder("mixed", {"x": (T, d), "img": (c_in, side, side)})
    cell = draw(st.sampled_from(["lstm", "gru", "rnn"]))
    hidden, dirs = draw(st.integers(2, 40)), draw(st.integers(1, 2))
    lbr = cell == "gru" and draw(st.booleans())
    r = b.recurrent("r", "x", cell, d, hidden, directions=dirs, linear_before_reset=lbr)
    b.linear("out", r, dirs * hidden, draw(st.sampled_from([8, 64, 200])))
    b.conv_transpose("up", "img", c_in, c_out, k, stride=stride,
                     padding=draw(st.integers(0, (k - 1) // 2)),
                     output_padding=draw(st.integers(0, max(stride, dil) - 1)),
                     groups=groups, dilation=dil)
    return b.build()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=_mixed_networks(), hw=small_hardware(), seed=st.integers(0, 2**32 - 1))
def test_every_schedule_valid_and_above_the_bounds(net: Network, hw: Hardware,
                                                    seed: int) -> None:
    try:
        p = map_network(net, hw)
    except InputError:  # the recurrent matrix or the activations do not fit this hardware
        assume(False)
    lower = bounds(p).lower
    for name, method in HEURISTICS.items():
        sched = method(p)
        rep = evaluate(p, sched)
        assert rep.valid, (name, rep.violations[:3])
        assert rep.makespan_cycles >= lower
        assert all(s.replication == 1 for s in sched.steps if s.layer == "r")
    rep = evaluate(p, random_schedule(p, np.random.default_rng(seed)))
    assert rep.valid and rep.makespan_cycles >= lower


def test_evaluator_r5_uses_the_recurrent_rule() -> None:
    b = NetworkBuilder("rnn", {"x": (6, 64)})
    r = b.recurrent("r", "x", "lstm", 64, 32)
    b.linear("out", r, 32, 128)
    p = map_network(b.build(), _tiny(6, 4, 300))
    # two copies of the recurrent step: valid (rows wasted), still 6 x 96 cycles
    idx = p.by_key[("r", 0)].index
    opt = optimum(p)
    reps = dict(opt.reps)
    reps[idx] = 2
    sched = schedule_of(p, dataclasses.replace(opt, reps=tuple(sorted(reps.items()))))
    rep = evaluate(p, sched)
    assert rep.valid, rep.violations[:2]
    step = next(s for s in sched.steps if s.layer == "r")
    assert step.replication == 2 and step.end - step.start == 6 * 96
    # a schedule that claims the copies split the timesteps breaks R5
    k = next(i for i, s in enumerate(sched.steps) if s.layer == "r")
    short = dataclasses.replace(step, end=step.start + 3 * 96)
    bad = dataclasses.replace(sched, steps=sched.steps[:k] + [short] + sched.steps[k + 1:])
    viol = [v for v in evaluate(p, bad).violations if v.rule == "R5"]
    assert viol and "r/0" in str(viol[0])


def test_recurrent_matrix_larger_than_the_accelerator_is_refused() -> None:
    b = NetworkBuilder("big", {"x": (4, 64)})
    b.recurrent("huge", "x", "lstm", 64, 512)  # 512 x 2048: 4 x 16 = 64 APU rows
    with pytest.raises(InputError) as e:
        map_network(b.build(), _tiny(4, 6, 1000))
    assert "recurrent layer 'huge'" in str(e.value) and "64 APU rows" in str(e.value)
    assert "\n" not in str(e.value)


# ----------------------------------------------------------------------------- JSON
def test_json_round_trip_of_the_new_kinds(tmp_path: Path) -> None:
    b = NetworkBuilder("json", {"x": (8, 6, 6), "s": (12, 40)})
    b.conv_transpose("up", "x", 8, 4, 3, stride=2, padding=1, output_padding=1, groups=2,
                     dilation=2)
    b.recurrent("bi", "s", "lstm", 40, 24, directions=2)
    b.recurrent("g", "bi", "gru", 48, 16, linear_before_reset=True)
    net = b.build()
    path = tmp_path / "n.json"
    net.save(path)
    back = Network.load(path)
    assert back.to_dict() == net.to_dict()
    assert back.shapes == net.shapes
    assert back.shapes["up"] == (4, 14, 14)  # (6 - 1) 2 - 2 + 2 (3 - 1) + 1 + 1
    hw = aras_hardware()
    a, c = map_network(net, hw), map_network(back, hw)
    assert [(s.key, s.kind, s.apu_rows, s.windows) for s in a.steps] == [
        (s.key, s.kind, s.apu_rows, s.windows) for s in c.steps]
    ops = {d["name"]: d for d in net.to_dict()["ops"]}
    assert ops["bi"] == {"name": "bi", "op": "recurrent", "inputs": ["bi.input"],
                         "cell": "lstm", "hidden": 24, "directions": 2}
    assert ops["g"]["linear_before_reset"] is True
    assert ops["up"]["output_padding"] == [1, 1]
    r = run_cli("solve", str(path), "--method", "aras", "--json")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("op,needle", [
    ({"op": "recurrent", "inputs": ["x"], "cell": "lstm2", "hidden": 8}, "cell must be"),
    ({"op": "recurrent", "inputs": ["x"], "cell": "lstm", "hidden": 8, "directions": 3},
     "directions must be 1 or 2"),
    ({"op": "recurrent", "inputs": ["x"], "cell": "lstm"}, "missing field 'hidden'"),
    ({"op": "recurrent", "inputs": ["x"], "cell": "rnn", "hidden": 8,
      "linear_before_reset": True}, "linear_before_reset is for a gru"),
    ({"op": "recurrent", "inputs": ["x"], "cell": "lstm", "hidden": 7}, "whole number"),
    ({"op": "conv_transpose2d", "inputs": ["x"], "c_in": 4, "c_out": 4, "kernel": 3,
      "stride": 2, "output_padding": 2}, "output_padding [2, 2] must be smaller"),
    ({"op": "conv_transpose2d", "inputs": ["x"], "c_in": 4, "c_out": 6, "kernel": 3,
      "groups": 4}, "groups 4 must divide"),
])
def test_bad_new_ops_in_json_are_one_line_errors(tmp_path: Path, op: dict, needle: str) -> None:
    import json

    doc = {"format": "aras-network/1", "name": "bad", "inputs": {"x": [4, 8, 8]},
           "ops": [{"name": "o", **op}]}
    with pytest.raises(InputError) as e:
        Network.from_dict(doc)
    assert needle in str(e.value) and "op 'o'" in str(e.value)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    r = run_cli("solve", str(path))
    assert r.returncode == 2 and needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


# ----------------------------------------------------------------------------- unsupported
def _loop_model(tmp_path: Path) -> Path:
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["v_in", "a"], ["v_out"])],  # reads 'a' from outside
        "body", [_vi("i", [], TensorProto.INT64), _vi("cond_in", [], TensorProto.BOOL),
                 _vi("v_in", [1, 4])],
        [_vi("cond_out", [], TensorProto.BOOL), _vi("v_out", [1, 4])])
    inits = [numpy_helper.from_array(np.array(3, np.int64), "n"),
             numpy_helper.from_array(np.array(True), "t")]
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("Loop", ["n", "t", "a"], ["l1"], name="loop1", body=body),
             helper.make_node("Loop", ["n", "t", "l1"], ["l2"], name="loop2", body=body)]
    return _save(tmp_path, nodes, [_vi("x", [1, 4])], [_vi("l2", None)], inits, "loop.onnx")


def _scan_model(tmp_path: Path) -> Path:
    body = helper.make_graph(
        [helper.make_node("Add", ["s_in", "x_t"], ["s_out"]),
         helper.make_node("Identity", ["s_out"], ["y_t"])],
        "body", [_vi("s_in", [4]), _vi("x_t", [4])], [_vi("s_out", [4]), _vi("y_t", [4])])
    inits = [numpy_helper.from_array(np.zeros(4, np.float32), "s0")]
    nodes = [helper.make_node("Scan", ["s0", "x"], ["s", "ys"], name="scan", body=body,
                              num_scan_inputs=1)]
    return _save(tmp_path, nodes, [_vi("x", [5, 4])], [_vi("ys", None)], inits, "scan.onnx")


def _if_model(tmp_path: Path, constant_cond: bool) -> Path:
    then = helper.make_graph([helper.make_node("Relu", ["a"], ["t_out"])], "then", [],
                             [_vi("t_out", [1, 4])])
    other = helper.make_graph([helper.make_node("Neg", ["a"], ["e_out"])], "else", [],
                              [_vi("e_out", [1, 4])])
    inits = [numpy_helper.from_array(np.array(True), "c")] if constant_cond else []
    inputs = [_vi("x", [1, 4])] + ([] if constant_cond else [_vi("c", [], TensorProto.BOOL)])
    nodes = [helper.make_node("Sigmoid", ["x"], ["a"], name="sig"),
             helper.make_node("If", ["c"], ["y"], name="branch", then_branch=then,
                              else_branch=other)]
    return _save(tmp_path, nodes, inputs, [_vi("y", None)], inits, "if.onnx")


def _custom_model(tmp_path: Path) -> Path:
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("FancyConv", ["a"], ["b"], name="fancy1", domain="com.example"),
             helper.make_node("FancyConv", ["b"], ["c"], name="fancy2", domain="com.example"),
             helper.make_node("Loop2", ["c"], ["d"], name="odd", domain="com.example")]
    return _save(tmp_path, nodes, [_vi("x", [1, 4])], [_vi("d", None)], [], "custom.onnx",
                 extra_domains=("com.example",))


@pytest.mark.parametrize("make,needles", [
    (_loop_model, ["'Loop'", "node 'loop1'", "2 such nodes", "control flow"]),
    (_scan_model, ["'Scan'", "node 'scan'", "1 such node", "control flow"]),
    (lambda t: _if_model(t, False), ["'If'", "node 'branch'", "1 such node", "control flow"]),
    # a constant condition does not make the branches' reads of activations constant
    (lambda t: _if_model(t, True), ["'If'", "node 'branch'", "1 such node"]),
    (_custom_model, ["'FancyConv'", "domain 'com.example'", "node 'fancy1'", "2 such nodes",
                     "also com.example.Loop2 x1"]),
])
def test_unsupported_ops_are_one_line_errors(tmp_path: Path, make, needles: list[str]) -> None:
    path = make(tmp_path)
    with pytest.raises(InputError) as e:
        load_network(str(path))
    msg = str(e.value)
    assert all(n in msg for n in needles), msg
    assert "\n" not in msg
    r = run_cli("solve", str(path))
    assert r.returncode == 2, r.stderr
    assert all(n in r.stderr for n in needles)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_non_constant_recurrent_weights_are_refused(tmp_path: Path) -> None:
    path = _save(tmp_path, [helper.make_node("LSTM", ["x", "W", "R"], ["y"], name="l",
                                             hidden_size=4)],
                 [_vi("x", [3, 1, 5]), _vi("W", [1, 16, 5]), _vi("R", [1, 16, 4])],
                 [_vi("y", None)], [])
    with pytest.raises(InputError, match="node 'l' \\(LSTM\\): its W weights are not a "
                                         "constant"):
        load_network(str(path))


# ----------------------------------------------------------------------------- real models
def _package_file(package: str, rel: str) -> Path:
    """A model file shipped in an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{package} is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        pytest.skip(f"{package} ships no {rel}")
    return path


@pytest.mark.parametrize("package,rel,shape", [
    ("ddddocr", "common.onnx", {"input1": (1, 1, 64, 256)}),        # CNN + LSTM
    ("ddddocr", "common_old.onnx", {"input1": (1, 1, 64, 256)}),    # DynamicQuantizeLSTM
    ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx",   # DBNet, ConvTranspose
     {"x": (1, 3, 640, 640)}),
])
def test_real_models_from_packages(package: str, rel: str, shape: dict) -> None:
    """Where the package is installed: weights equal to the file's, every heuristic valid."""
    path = _package_file(package, rel)
    m = onnx.load(str(path))
    values = {t.name: math.prod(t.dims) for t in m.graph.initializer}
    values.update({n.output[0]: math.prod(helper.get_attribute_value(n.attribute[0]).dims)
                   for n in m.graph.node if n.op_type == "Constant"})
    producer = {o: n for n in m.graph.node for o in n.output}
    roles = {**ROLES, "ConvInteger": (1,), "MatMul": (1,), "MatMulInteger": (1,), "Gemm": (1,)}
    want = 0
    for n in m.graph.node:
        for i in roles.get(n.op_type, ()):
            t = n.input[i]
            while t not in values and t in producer and producer[t].op_type in (
                    "DequantizeLinear", "Reshape", "Transpose", "Cast"):
                t = producer[t].input[0]
            want += values.get(t, 0)
    net = load_network(str(path), input_shapes=shape)
    assert net.weight_count == want
    _all_valid(map_network(net, aras_hardware()))
