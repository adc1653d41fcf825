"""Adaptive partial weight reuse by hand: centre scores on the two MSB cells, and the pulses
the evaluator then counts from the codes.

An unsigned INT8 code v sits in four 2-bit cells, cell c holding bits 2c..2c+1 (cell 3 the
two MSBs): 144 = 0b10_01_00_00 has cells (c0, c1, c2, c3) = (0, 0, 1, 2). Every number below
comes from writing codes out in binary like this.
"""

from __future__ import annotations

import numpy as np
import pytest

from aras.evaluation.evaluator import evaluate
from aras.methods.heuristics import baseline
from aras.methods.reuse import CENTERS, apply_reuse, choose_center, layer_pmfs, score_centers
from aras.model.mapping import map_network
from aras.model.network import NetworkBuilder
from tests.helpers import tiny_hardware

# L0 (linear 4->2, the first layer, never shifted): rows = inputs, columns = outputs.
#   144 = 0b10_01_00_00: c3 = 2, c2 = 1        208 = 0b11_01_00_00: c3 = 3, c2 = 1
# Six 144s and two 208s: P(c3 = 2) = 6/8 = 0.75, P(c3 = 3) = 0.25; P(c2 = 1) = 1.
L0 = np.array([[144, 208], [144, 144], [144, 144], [208, 144]], dtype=np.uint8)
# L1 (linear 2->2): mean (126 + 130 + 130 + 126) / 4 = 128, so centre c shifts by c - 128 and
# L1 becomes half c - 2, half c + 2 (nothing leaves 0..255: no clipping).
L1 = np.array([[126, 130], [130, 126]], dtype=np.uint8)


def _problem():
    b = NetworkBuilder("two", {"x": (1, 4)})
    b.linear("L0", "x", 4, 2)
    b.linear("L1", "L0", 2, 2)
    # One APU row in all: L1 is written over L0 and L0 over L1 (the next inference).
    return map_network(b.build(), tiny_hardware(apu_rows_per_pe=1))


# Skip ratio of centre c = mean over the MSB cells c3, c2 of P(L0's cell == shifted L1's cell):
#  c    c-2 (c3, c2)        c+2 (c3, c2)        c3: P(L0 c3 = L1 c3)    c2        mean
#  88   86 = 01_01_01_10 (1, 1)  90 = 01_01_10_10 (1, 1)   0                  1         0.5
#  96   94 = 01_01_11_10 (1, 1)  98 = 01_10_00_10 (1, 2)   0                  0.5       0.25
#  104  102 = 01_10_01_10 (1, 2) 106 = 01_10_10_10 (1, 2)  0                  0         0
#  152  150 = 10_01_01_10 (2, 1) 154 = 10_01_10_10 (2, 1)  0.75               1         0.875
#  160  158 = 10_01_11_10 (2, 1) 162 = 10_10_00_10 (2, 2)  0.75               0.5       0.625
#  168  166 = 10_10_01_10 (2, 2) 170 = 10_10_10_10 (2, 2)  0.75               0         0.375
# (On the two LSB cells instead every L0 code has c1 = c0 = 0 and every shifted code c0 = 2:
# 0, 0.25, 0, 0, 0.25, 0, which would pick 96, not 152.)
MSB_SKIP = {88: 0.5, 96: 0.25, 104: 0.0, 152: 0.875, 160: 0.625, 168: 0.375}


def test_centre_scores_on_the_two_msb_cells_by_hand():
    p = _problem()
    scores = score_centers(p, layer_pmfs(p, weights={"L0": L0, "L1": L1}))
    assert [s.center for s in scores] == list(CENTERS) == [88, 96, 104, 152, 160, 168]
    for s in scores:
        assert s.skip_ratio == pytest.approx(MSB_SKIP[s.center]), s
        assert s.clipped == 0
    assert choose_center(scores).center == 152


def test_reuse_centre_and_pulses_by_hand():
    """L1 shifted to 152 over L0, then L0 over it: each overlapping cell moves twice.

    L1's 2x2 tile covers L0's top 2x2 block [[144, 208], [144, 144]]:
      code pair      cells (c0, c1, c2, c3)           level steps  changed cells
      144 vs 150     (0,0,1,2) vs (2,1,1,2)            2+1+0+0 = 3  2
      208 vs 154     (0,0,1,3) vs (2,2,1,2)            2+2+0+1 = 5  3
      144 vs 154     (0,0,1,2) vs (2,2,1,2)            2+2+0+0 = 4  2
      144 vs 150                                       3            2
    15 level steps and 9 cells each way: 30 and 18 per inference. Unshifted L1 (126 =
    01_11_11_10, 130 = 10_00_00_10): 8 + 4 + 3 + 8 = 23 steps and 4 + 3 + 2 + 4 = 13 cells,
    46 and 26.
    """
    p = _problem()
    weights = {"L0": L0, "L1": L1}
    plain = baseline(p)
    assert plain.writes.row.tolist() == [0, 0]
    rep = evaluate(p, plain, weights=weights)
    assert rep.valid and (rep.level_steps, rep.cells_written) == (46, 26)
    s = baseline(p)
    chosen = apply_reuse(p, s, weights=weights)
    assert chosen.center == 152 and chosen.skip_ratio == pytest.approx(0.875)
    assert [(st.layer, st.center) for st in s.steps] == [("L0", None), ("L1", 152)]
    rep = evaluate(p, s, weights=weights)
    assert rep.valid and (rep.level_steps, rep.cells_written) == (30, 18)
    assert rep.write_pulses == 30 * 10  # pulses_per_level_step = 10
    assert rep.max_cell_writes == 2     # a changed cell moves once each way


def test_clipping_by_hand():
    """L1 = half 40, half 216 (mean 128): centre 168 shifts by +40, 216 + 40 = 256 is clipped.

    Clipped fraction = (2 of L1's 4 weights) / (8 + 4 weights of the network) = 1/6 for 168,
    0 for every other centre (88 - 128 = -40 takes 40 to 0, still a code). The evaluator
    counts the clipped code as 255 (cells 3, 3, 3, 3): over [[144, 208], [144, 144]] the shifted
    [[80, 255], [80, 255]] (80 = 01_01_00_00: cells (0, 0, 1, 1)) costs
    |0-0|+|0-0|+|1-1|+|2-1| = 1, (0,0,1,3) vs (3,3,3,3): 3+3+2+0 = 8, 1, and
    (0,0,1,2) vs (3,3,3,3): 3+3+2+1 = 9: 19 each way, 38.
    """
    p = _problem()
    l1 = np.array([[40, 216], [40, 216]], dtype=np.uint8)
    weights = {"L0": L0, "L1": l1}
    scores = {s.center: s.clipped for s in score_centers(p, layer_pmfs(p, weights=weights))}
    assert scores == {88: 0, 96: 0, 104: 0, 152: 0, 160: 0, 168: pytest.approx(1 / 6)}
    s = baseline(p)
    apply_reuse(p, s, weights=weights, center=168)
    assert s.steps[1].center == 168
    assert evaluate(p, s, weights=weights).level_steps == 38


def test_choose_center_skips_centres_that_clip_too_much():
    from aras.methods.reuse import MAX_CLIPPED, CenterScore

    assert MAX_CLIPPED == 0.005
    scores = [CenterScore(88, 0.9, 0.006), CenterScore(96, 0.5, 0.0),
              CenterScore(152, 0.7, 0.005), CenterScore(160, 0.7, 0.001)]
    # 88 has the best skip ratio but clips 0.6% > 0.5%; 152 and 160 tie at 0.7 and both clip
    # at most 0.5%: the one clipping less wins.
    assert choose_center(scores).center == 160
    # When every centre clips too much, the least clipping one.
    assert choose_center([CenterScore(88, 0.9, 0.02), CenterScore(96, 0.1, 0.01)]).center == 96
