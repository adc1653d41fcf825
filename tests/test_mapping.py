from __future__ import annotations

import pytest

from aras.frontends import load_network
from aras.model.errors import InputError
from aras.model.hardware import aras_hardware, baseline_hardware
from aras.model.mapping import apu_rows_of, map_network, split_sizes
from aras.model.network import Network, NetworkBuilder, make_op
from tests.helpers import tiny_hardware

HW = aras_hardware()


def _conv(c_in, c_out, k, groups=1):
    return make_op("c", "conv2d", ["x"], c_in=c_in, c_out=c_out, kernel=[k, k], groups=groups)


@pytest.mark.parametrize("op,rows", [
    (_conv(3, 64, 3), 1),                 # 27 rows x 64 cols
    (_conv(64, 64, 3), 5 * 1),            # 576 rows -> 5 segments
    (_conv(512, 512, 3), 36 * 4),         # 4608 rows -> 36 segments, 4 column blocks
    (_conv(32, 32, 3, groups=32), 3),     # depthwise: rows_g 9, 14 groups per segment
    (_conv(256, 256, 1, groups=2), 2 * 1 * 1),  # rows_g 128 fits: 1 group per segment
    (_conv(512, 512, 3, groups=2), 2 * 18 * 2),  # rows_g 2304 > 128
    (make_op("l", "linear", ["x"], in_features=25088, out_features=4096), 196 * 32),
])
def test_apu_rows_formulas(op, rows):
    assert apu_rows_of(op, HW) == rows


def test_block_diagonal_packing_by_hand():
    # groups=8, rows_g = 3*3*4 = 36 -> gps = min(8, 128 // 36 = 3) = 3 -> ceil(8/3) = 3 segments,
    # each ceil(3 * cols_g(=16) / 128) = 1 column block.
    assert apu_rows_of(_conv(32, 128, 3, groups=8), HW) == 3


def test_split_sizes_balanced():
    assert split_sizes(6272, 576) == [571] * 2 + [570] * 9
    assert sum(split_sizes(18440, 576)) == 18440
    assert split_sizes(576, 576) == [576]


def test_vgg_fc6_parts_and_cycles():
    p = map_network(load_network("vgg16"), HW)
    parts = [s for s in p.steps if s.layer == "classifier.0"]
    assert len(parts) == 11 and sum(s.apu_rows for s in parts) == 6272
    assert all(s.apu_rows <= 576 and s.windows == 1 for s in parts)
    first = p.by_key[("features.0", 0)]
    assert first.windows == 224 * 224 and first.apu_rows == 1
    assert p.compute_cycles(first, 1) == 50176 * 96
    assert p.compute_cycles(first, 7) == 7168 * 96
    assert p.max_replication(first) == 576
    assert p.min_compute_cycles(first) == 88 * 96  # ceil(50176 / 576) = 88


def test_activation_bytes_and_passes():
    p = map_network(load_network("vgg16"), HW)
    s0 = p.by_key[("features.0", 0)]
    assert (s0.in_bytes, s0.out_bytes, s0.passes) == (3 * 224 * 224, 64 * 224 * 224, 1)
    # 64x224x224 in and out = 6.4 MB, more than the 4.1 MB Gbuffer: two passes.
    s2 = p.by_key[("features.2", 0)]
    assert s2.passes == 2 and s2.in_need == 64 * 224 * 224 // 2
    pb = map_network(load_network("vgg16"), baseline_hardware())
    assert pb.by_key[("features.2", 0)].passes == 2


def test_bert_windows_and_weightless_cycles():
    p = map_network(load_network("bert-base"), HW)
    q = p.by_key[("encoder.0.attn.q", 0)]
    assert q.windows == 128 and q.apu_rows == 6 * 6
    scores = p.by_key[("encoder.0.attn.scores", 0)]
    # 12 heads x 128 x 64 x 128 MACs on 4096 MACs per cycle
    assert scores.fixed_cycles == 12 * 128 * 64 * 128 // 4096 == 3072
    assert p.compute_cycles(p.by_key[("encoder.0.attn.softmax", 0)]) == 0


def test_lifetimes_track_skip_connections():
    b = NetworkBuilder("skip", {"x": (8, 4, 4)})
    a = b.conv("a", "x", 8, 8, 1)
    c = b.conv("b", a, 8, 8, 1)
    b.add("sum", "add", [a, c])
    p = map_network(b.build(), HW)
    assert p.lifetimes["a"] == (0, 2)
    assert p.lifetimes["x"] == (-1, 0)


def test_single_bank_gbuffer_is_rejected():
    with pytest.raises(InputError, match="disjoint Gbuffer banks"):
        map_network(load_network("resnet50"), tiny_hardware(gbuffer_banks=(2**30,)))


def test_grid_matches_apu_rows_everywhere():
    for name in ("vgg16", "resnet50", "densenet161", "bert-base"):
        net: Network = load_network(name)
        p = map_network(net, HW)
        for op in net.weighted_ops:
            grid = p.grids[op.name]
            assert len(grid) == apu_rows_of(op, HW)
            # Used cells of the tiles add up to the weights for ungrouped layers.
            if op.matrix[0] == 1:
                assert int((grid.rows_used * grid.cols_used).sum()) == op.weights
