"""The precision study's real-weight models (``benchmarks/precision_models.py``).

Each model is skipped when its package (the ``precision-models`` extra) is absent. The expected
inputs and weight-bearing layers are read here from the ONNX file with the ``onnx`` package
alone, sharing no code with the registry or with :mod:`aras.frontends.onnx_graph`.
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import helper, numpy_helper  # noqa: E402

from aras.frontends.onnx_graph import load_onnx  # noqa: E402
from aras.model.hardware import aras_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402
from tests.helpers import benchmark_script, packaged_model  # noqa: E402

pm = benchmark_script("precision_models")

N = 4


def _model(name: str) -> pm.PrecisionModel:
    return packaged_model(pm, name, "precision-models")


def _graph_inputs(g) -> dict[str, tuple[np.dtype, list[int | str]]]:
    """Graph inputs that are not initializers: numpy dtype and dims (ints, or names if
    symbolic)."""
    init = {t.name for t in g.initializer}
    out = {}
    for i in g.input:
        if i.name in init:
            continue
        t = i.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in t.shape.dim]
        out[i.name] = (helper.tensor_dtype_to_np_dtype(t.elem_type), dims)
    return out


def _weighted(g) -> tuple[int, int]:
    """(layers, weights): Conv/ConvTranspose/Gemm/MatMul nodes with a constant operand (an
    initializer, a ``Constant`` node, or what is computed from constants alone), and the
    elements of those operands."""
    size = {t.name: int(np.prod(t.dims)) for t in g.initializer}
    const = set(size)
    for n in g.node:
        if n.op_type == "Constant":
            v = next(a for a in n.attribute if a.name == "value")
            size[n.output[0]] = numpy_helper.to_array(v.t).size
            const.add(n.output[0])
        elif n.input and all(x in const for x in n.input if x):
            const |= set(n.output)
    layers = weights = 0
    for n in g.node:
        if n.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            w = [x for x in n.input[:2] if x in const]
            if w:
                layers += 1
                weights += size[w[0]]
    return layers, weights


def test_registry_names_are_unique_and_get_names_the_known_ones():
    names = [m.name for m in pm.MODELS]
    assert len(set(names)) == len(names) >= 3
    with pytest.raises(KeyError, match="known: ppocr-cls"):
        pm.get("resnet")
    with pytest.raises(ValueError, match="n: must be a positive integer"):
        pm.MODELS[0].calibrate(0)


@pytest.mark.parametrize("name", [m.name for m in pm.MODELS])
def test_calibration_matches_the_model_inputs(name):
    m = _model(name)
    g = onnx.load(str(m.path())).graph
    want = _graph_inputs(g)
    cal = m.calibrate(N, seed=0)
    assert set(cal.inputs) == set(want)
    for k, x in cal.inputs.items():
        dtype, dims = want[k]
        assert x.dtype == dtype, k
        assert x.shape[0] == N and len(x.shape) == len(dims), (k, x.shape, dims)
        fixed = (m.input_shapes or {}).get(k, ())
        for j, d in enumerate(dims[1:], 1):
            # a symbolic size takes the one load_onnx maps with
            assert x.shape[j] == (d if isinstance(d, int) else fixed[j]), (k, j)
        assert np.isfinite(x).all()
    assert len(cal.truth) == len(cal.source) == N
    again = m.calibration(N, seed=0)
    assert all(np.array_equal(again[k], cal.inputs[k]) for k in want)
    other = m.calibration(N, seed=1)
    assert any(not np.array_equal(other[k], cal.inputs[k]) for k in want)


@pytest.mark.parametrize("name", [m.name for m in pm.MODELS])
def test_load_onnx_maps_every_weight_bearing_layer(name):
    m = _model(name)
    layers, weights = _weighted(onnx.load(str(m.path())).graph)
    net = load_onnx(m.path(), input_shapes=m.input_shapes)
    s = map_network(net, aras_hardware()).summary()
    assert (s["weighted_layers"], s["weights"]) == (layers, weights)
    assert net.codes is not None  # real weights, quantised per layer
    assert int(s["apu_rows"]) >= layers


@pytest.mark.parametrize("name", ["ppocr-cls", "text-orientation"])
def test_the_float_model_reads_the_rotation_of_the_calibration_samples(name):
    m = _model(name)
    cal = m.calibrate(N, seed=0)
    out = pm.run_float(m, cal.inputs)
    assert out.shape == (N, len(m.labels or ()))
    # half the lines turned (cls), each of the four turns once (orientation)
    assert sorted(cal.truth) == ([0, 0, 1, 1] if name == "ppocr-cls" else [0, 1, 2, 3])
    assert list(out.argmax(axis=1)) == cal.truth


def test_the_float_recogniser_reads_the_rendered_lines():
    m = _model("ppocr-rec")
    cal = m.calibrate(N, seed=0)
    res = pm.sanity(m, cal, pm.run_float(m, cal.inputs))
    assert float(res["char_accuracy"]) >= 0.9, res["examples"]
