"""Write pulses: cell by cell from real weight codes, and the statistical model."""

from __future__ import annotations

import numpy as np
import pytest

from aras.evaluation.evaluator import evaluate
from aras.methods.heuristics import baseline
from aras.model.errors import InputError
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network, tile_grid
from aras.model.network import NetworkBuilder, make_op
from aras.model.weights import cell_levels, normal_pmf, synthetic_stats, tile_values
from tests.helpers import tiny_hardware


def _three():
    b = NetworkBuilder("three", {"x": (4, 4, 4)})
    y = b.conv("c1", "x", 4, 8, 1)
    y = b.conv("c2", y, 8, 8, 1)
    b.conv("c3", y, 8, 8, 1)
    return b.build()


def test_cell_levels_msb_last():
    lv = cell_levels(np.array([0b11_10_01_00, 255, 0]), aras_hardware())
    assert lv.tolist() == [[0, 1, 2, 3], [3, 3, 3, 3], [0, 0, 0, 0]]


def test_exact_pulses_by_hand():
    """c3 overwrites c1 on row 0 and c1 overwrites c3 at the next inference (steady state).

    c1 (4x8 weights) is all 0, c3 (8x8) all 255: each of the 32 overlapping weights costs
    4 cells x 3 level steps in each direction; c3's extra rows keep their own values, and c2
    sits alone on row 1 (no pulses at all).
    """
    hw = tiny_hardware()
    p = map_network(_three(), hw)
    s = baseline(p)
    assert s.writes.row.tolist() == [0, 1, 0]
    weights = {"c1": np.zeros((4, 8), np.uint8), "c2": np.full((8, 8), 77, np.uint8),
               "c3": np.full((8, 8), 255, np.uint8)}
    rep = evaluate(p, s, weights=weights)
    assert rep.valid and rep.pulse_model == "weights"
    assert rep.level_steps == 2 * 32 * 4 * 3
    assert rep.write_pulses == rep.level_steps * hw.pulses_per_level_step
    assert rep.cells_written == 2 * 32 * 4
    assert rep.max_cell_writes == 2


def test_missing_or_misshaped_weights_are_input_errors():
    hw = tiny_hardware()
    p = map_network(_three(), hw)
    s = baseline(p)
    with pytest.raises(InputError, match="no values for layer 'c3'"):
        evaluate(p, s, weights={"c1": np.zeros((4, 8), np.uint8),
                                "c2": np.zeros((8, 8), np.uint8)})
    with pytest.raises(InputError, match="shape"):
        evaluate(p, s, weights={"c1": np.zeros((8, 4), np.uint8),
                                "c2": np.zeros((8, 8), np.uint8),
                                "c3": np.zeros((8, 8), np.uint8)})


def test_tiles_reassemble_the_matrix():
    hw = tiny_hardware(crossbar_rows=16, crossbar_cols=16)  # 16 input rows, 4x4=16 kernels
    op = make_op("c", "conv2d", ["x"], c_in=5, c_out=40, kernel=[3, 3])  # 45 x 40
    m = np.arange(45 * 40).reshape(1, 45, 40)
    grid = tile_grid(op, hw)
    out = np.full((45, 40), -1)
    # Tile order: column block outer, segment inner (3 segments of 16 input rows).
    for t in range(len(grid)):
        v = tile_values(m, t, 16, 16, fill=0)
        assert v.shape == (grid.rows_used[t], grid.cols_used[t])
        c, seg = divmod(t, 3)
        out[seg * 16:seg * 16 + v.shape[0], c * 16:c * 16 + v.shape[1]] = v
    assert np.array_equal(out, m[0])


def test_block_diagonal_tiles():
    # depthwise 3x3 on 6 channels, 16-row crossbars: rows_g 9, 1 group per segment.
    hw = tiny_hardware(crossbar_rows=32, crossbar_cols=16)  # 32 rows, 16 kernels
    op = make_op("d", "conv2d", ["x"], c_in=6, c_out=6, kernel=[3, 3], groups=6)
    m = np.arange(6 * 9).reshape(6, 9, 1) + 1
    grid = tile_grid(op, hw)
    assert len(grid) == 2  # 3 groups of 9 rows per 32-row segment
    v = tile_values(m, 0, 32, 16, fill=-7)
    assert v.shape == (27, 3)
    assert v[:9, 0].tolist() == m[0, :, 0].tolist()
    assert v[9:18, 1].tolist() == m[1, :, 0].tolist()
    assert (v[9:, 0] == -7).all() and (v[:9, 1:] == -7).all()


def test_statistical_model_matches_sampled_weights():
    """Weights drawn from the model's own distributions give the model's expected pulses."""
    b = NetworkBuilder("six", {"x": (64, 8, 8)})
    y = "x"
    for i in range(6):
        y = b.conv(f"c{i}", y, 64, 64, 3, padding=1)
    net = b.build()
    hw = tiny_hardware(pes=2, apu_rows_per_pe=4, gbuffer_banks=(8192, 8192, 8192))
    p = map_network(net, hw)
    s = baseline(p)
    stats = synthetic_stats([o.name for o in net.weighted_ops], seed=3)
    rng = np.random.default_rng(0)
    weights = {}
    for o in net.weighted_ops:
        pmf = normal_pmf(stats[o.name].mean, stats[o.name].std)
        _, r, c = o.matrix
        weights[o.name] = rng.choice(256, size=(r, c), p=pmf).astype(np.uint8)
    exact = evaluate(p, s, weights=weights)
    model = evaluate(p, s, stats=stats)
    assert exact.valid and model.valid
    assert exact.level_steps == pytest.approx(model.level_steps, rel=0.03)
    assert exact.cells_written == pytest.approx(model.cells_written, rel=0.03)
