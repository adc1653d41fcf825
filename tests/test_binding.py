"""Row binding post-pass: valid, same timing, never more pulses; exact matches cost nothing."""

from __future__ import annotations

import numpy as np
import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.binding import rebind
from aras.methods.heuristics import aras, baseline
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network
from aras.model.network import NetworkBuilder
from tests.helpers import tiny_hardware


def test_rebind_valid_and_never_worse():
    p = map_network(load_network("resnet50"), aras_hardware())
    for h in (baseline, aras):
        s = h(p)
        s2, before, after = rebind(p, s)
        rep = evaluate(p, s2)
        assert rep.valid and rep.makespan_cycles == s.makespan
        assert after <= before
        assert np.array_equal(np.sort(s2.writes.start), np.sort(s.writes.start))


def test_binding_on_a_chain_that_reuses_rows_is_valid_and_not_worse():
    """Four layers on two rows: every row is written twice per inference."""
    b = NetworkBuilder("alt", {"x": (8, 4, 4)})
    y = "x"
    for i in range(4):
        y = b.conv(f"c{i}", y, 8, 8, 1)
    p = map_network(b.build(), tiny_hardware())
    s = baseline(p)
    s2, before, after = rebind(p, s)
    assert evaluate(p, s2).valid
    assert after <= before


# ----- a schedule that binding must improve, with hand-derived pulses -----

def _alternating():
    """a -> b -> c -> d (1x1 convs 8->8 on 8x2x2, one APU row each) on one PE of 2 rows.

    Point-mass weights (std 1e-3): a and c all code 0 (four cells at level 0), b and d all 255
    (four cells at level 3). Overwriting 0 by 255 or back costs 4 cells x |3 - 0| = 12 level
    steps per weight; equal codes cost nothing. Each tile holds 8 x 8 = 64 weights.
    """
    from aras.model.schedule import Schedule, ScheduledStep, Writes
    from aras.model.weights import LayerStats

    b = NetworkBuilder("alt", {"x": (8, 2, 2)})
    y = "x"
    for name in "abcd":
        y = b.conv(name, y, 8, 8, 1)
    hw = tiny_hardware()
    p = map_network(b.build(), hw)
    stats = {n: LayerStats(mean=m, std=1e-3) for n, m in zip("abcd", (0, 255, 0, 255),
                                                             strict=True)}
    # a and b written at 0 on rows 0 and 1; a computes [1000, 1384), b [1384, 1768) (4 windows
    # x 96 cycles). Both rows are free at 1768: c and d are written then, c computes
    # [2768, 3152), d [3152, 3536). The bad binding puts c (0) over b (255) and d (255) over a
    # (0).
    steps = [ScheduledStep(n, 0, 1, 1, 4, s, s + 384, (k % 3,), ((k + 1) % 3,))
             for k, (n, s) in enumerate(zip("abcd", (1000, 1384, 2768, 3152), strict=True))]
    writes = Writes.from_lists(list("abcd"), [0] * 4, [0] * 4, [0, 1, 1, 0], [0, 0, 1768, 1768])
    return p, Schedule("alt", "hand", hw.to_dict(), steps, writes, 3536), stats


def test_rebind_fixes_a_bad_binding_by_hand():
    p, s, stats = _alternating()
    rep = evaluate(p, s, stats=stats)
    assert rep.valid
    # Row 0 holds a then d, row 1 b then c; in steady state each row also goes back (a over d,
    # b over c): 4 overwrites x 64 weights x 12 level steps = 3072, x 10 pulses per step.
    assert rep.level_steps == pytest.approx(3072)
    assert rep.write_pulses == pytest.approx(30720)
    s2, before, after = rebind(p, s, stats=stats)
    assert before == pytest.approx(30720)
    # Putting c where a was and d where b was makes every overwrite free.
    assert after == pytest.approx(0, abs=1e-6)
    rows = dict(zip(s2.writes.layer.tolist(), s2.writes.row.tolist(), strict=True))
    assert rows["a"] == rows["c"] != rows["b"] == rows["d"]
    rep2 = evaluate(p, s2, stats=stats)
    assert rep2.valid and rep2.write_pulses == pytest.approx(0, abs=1e-6)
    # Same times; the write energy drops by 30720 pulses x 2 pJ and nothing else changes.
    assert rep2.makespan_cycles == 3536
    assert np.array_equal(s2.writes.start, s.writes.start)
    assert rep.energy.rram_write - rep2.energy.rram_write == pytest.approx(30720 * 2e-12)
    assert rep.energy.total - rep2.energy.total == pytest.approx(30720 * 2e-12)


def test_rebind_keeps_an_optimal_binding_as_it_is():
    p, s, stats = _alternating()
    s.writes.row[:] = [0, 1, 0, 1]  # c over a, d over b: already free
    s2, before, after = rebind(p, s, stats=stats)
    assert s2 is s and before == after == pytest.approx(0, abs=1e-6)


def _chain4(codes, rows, writes):
    """l0 -> l1 -> l2 -> l3 (1x1 convs 8->8 on 8x1x1: 1 window, 96 cycles, 1 APU row, 64
    weights each) on one PE of ``rows`` rows; every layer's weights all one code.

    ``writes``: (row, write start) per layer; layers compute in order, each as soon as its
    write has ended (1000 cycles) and the previous layer has computed.
    """
    from aras.model.schedule import Schedule, ScheduledStep, Writes
    from aras.model.weights import LayerStats

    b = NetworkBuilder("chain4", {"x": (8, 1, 1)})
    y = "x"
    for i in range(4):
        y = b.conv(f"l{i}", y, 8, 8, 1)
    hw = tiny_hardware(apu_rows_per_pe=rows)
    p = map_network(b.build(), hw)
    stats = {f"l{i}": LayerStats(mean=c, std=1e-3) for i, c in enumerate(codes)}
    steps, t = [], 0
    for i in range(4):
        t = max(t, writes[i][1] + 1000)
        steps.append(ScheduledStep(f"l{i}", 0, 1, 1, 1, t, t + 96, (i % 3,), ((i + 1) % 3,)))
        t += 96
    w = Writes.from_lists([f"l{i}" for i in range(4)], [0] * 4, [0] * 4,
                          [writes[i][0] for i in range(4)], [writes[i][1] for i in range(4)])
    return p, Schedule("chain4", "hand", hw.to_dict(), steps, w, t), stats


def _groups(s):
    """Which layers share a row: a set of frozensets (row ids do not matter)."""
    by_row: dict[int, set[str]] = {}
    for layer, row in zip(s.writes.layer.tolist(), s.writes.row.tolist(), strict=True):
        by_row.setdefault(row, set()).add(layer)
    return {frozenset(v) for v in by_row.values()}


# Codes and their cells (c0, c1, c2, c3), two bits each, c3 the MSBs; one unit below is one
# level step on each of a tile's 64 weights, 64 x 10 = 640 pulses.
#   85 = 01_01_01_01 (1, 1, 1, 1)   230 = 11_10_01_10 (2, 1, 2, 3)
#   43 = 00_10_10_11 (3, 2, 2, 0)   218 = 11_01_10_10 (2, 2, 1, 3)
# d(85, 230) = 1+0+1+2 = 4, d(85, 43) = 2+1+1+1 = 5, d(85, 218) = 1+1+0+2 = 4,
# d(230, 43) = 1+1+0+3 = 5, d(230, 218) = 0+1+1+0 = 2, d(43, 218) = 1+0+1+3 = 5.


def test_rebind_iterates_to_the_steady_state():
    """Four layers written one after another on 2 rows (each write when the previous layer
    has computed, so both rows are free every time), all on row 1 in the input: the cycle
    l0, l1, l2, l3, l0 costs 4 + 5 + 5 + 4 = 18 units.

    A row written with a set of layers costs the cycle through them in time order (a layer
    alone on a row rewrites itself: 0). With 2 rows: {0123} 18, {012}{3} 4+5+5 = 14,
    {013}{2} 4+2+4 = 10, {023}{1} 5+5+4 = 14, {123}{0} 5+5+2 = 12, {01}{23} 8+10 = 18,
    {02}{13} 10+4 = 14, {03}{12} 8+10 = 18: the best is {l0, l1, l3} and {l2} alone, 10 units.
    Placing each write by the input's last contents alone (one pass) ends at {03}{12} or
    {02}{13}; passing again from those contents reaches {013}{2}.
    """
    p, s, stats = _chain4((85, 230, 43, 218), 2,
                          [(1, 0), (1, 1096), (1, 2192), (1, 3288)])
    assert [(x.start, x.end) for x in s.steps] == [(1000, 1096), (2096, 2192), (3192, 3288),
                                                   (4288, 4384)]
    s2, before, after = rebind(p, s, stats=stats)
    assert before == pytest.approx(18 * 640)
    assert after == pytest.approx(10 * 640)
    assert _groups(s2) == {frozenset({"l0", "l1", "l3"}), frozenset({"l2"})}
    assert evaluate(p, s2, stats=stats).write_pulses == pytest.approx(10 * 640)


def test_rebind_starts_from_the_input_s_contents():
    """Codes 58 = 00_11_10_10 (2, 2, 3, 0), 5 = 00_00_01_01 (1, 1, 0, 0),
    197 = 11_00_01_01 (1, 1, 0, 3), 31 = 00_01_11_11 (3, 3, 1, 0):
    d(l0, l1) = 1+1+3+0 = 5, d(l0, l2) = 1+1+3+3 = 8, d(l0, l3) = 1+1+2+0 = 4,
    d(l1, l2) = 0+0+0+3 = 3, d(l1, l3) = 2+2+1+0 = 5, d(l2, l3) = 2+2+1+3 = 8.

    3 rows; l1 written at 0 (row 2), l0 at 100 (row 1) while l1 holds its row, l2 at 1292 and
    l3 at 2388 (all rows free then). Input: row 2 cycles l1, l2, l3: 3 + 8 + 5 = 16 units.
    l0 and l1 overlap, so 4 layers on 3 rows share one row in pairs at least: {l1, l2} 2 x 3
    = 6, {l0, l3} 8, {l1, l3} 10, {l0, l2} 16, {l2, l3} 16 (triples cost more): the best is
    {l1, l2}, 6 units. From the input's contents (row 0 never written, row 1 holding l0, row 2
    l3) every choice is strict and leads there; from empty rows l2 would take an empty row
    and l3 join l0, 8 units, a fixed point.
    """
    p, s, stats = _chain4((58, 5, 197, 31), 3, [(1, 100), (2, 0), (2, 1292), (2, 2388)])
    assert [(x.layer, x.start, x.end) for x in s.steps] == [
        ("l0", 1100, 1196), ("l1", 1196, 1292), ("l2", 2292, 2388), ("l3", 3388, 3484)]
    s2, before, after = rebind(p, s, stats=stats)
    assert before == pytest.approx(16 * 640)
    assert after == pytest.approx(6 * 640)
    assert _groups(s2) == {frozenset({"l1", "l2"}), frozenset({"l0"}), frozenset({"l3"})}


def test_rebind_keeps_a_tile_on_the_row_that_holds_it():
    """l0 (all 202 = 11_00_10_10, cells (2, 2, 0, 3)), l1 (spread: N(166, 40)), l2 (all 106 =
    01_10_10_10, cells (2, 2, 2, 1)) on 3 rows. Input: l0 and l2 share row 1, 2 x (0+0+2+2)
    = 8 level steps per weight, 8 x 64 x 10 = 5120 pulses; l1 alone on row 0 rewrites itself
    (0). Three layers on three rows each alone cost 0. Written over an independent copy of
    its own distribution, l1's spread weights would cost E|X - Y| > 0; over the row that holds
    exactly its tile they cost nothing, and the binding must use that row.
    """
    from aras.model.schedule import Schedule, ScheduledStep, Writes
    from aras.model.weights import LayerStats

    b = NetworkBuilder("three", {"x": (8, 1, 1)})
    y = "x"
    for i in range(3):
        y = b.conv(f"l{i}", y, 8, 8, 1)
    hw = tiny_hardware(apu_rows_per_pe=3)
    p = map_network(b.build(), hw)
    stats = {"l0": LayerStats(202, 1e-3), "l1": LayerStats(166, 40), "l2": LayerStats(106, 1e-3)}
    # l0 written at 0 on row 1, computes [1000, 1096); l1 at 100 on row 0, [1100, 1196); l2 at
    # 1196 (every row free) on row 1, [2196, 2292).
    steps = [ScheduledStep("l0", 0, 1, 1, 1, 1000, 1096, (0,), (1,)),
             ScheduledStep("l1", 0, 1, 1, 1, 1100, 1196, (1,), (2,)),
             ScheduledStep("l2", 0, 1, 1, 1, 2196, 2292, (2,), (0,))]
    w = Writes.from_lists(["l0", "l1", "l2"], [0] * 3, [0] * 3, [1, 0, 1], [0, 100, 1196])
    s = Schedule("three", "hand", hw.to_dict(), steps, w, 2292)
    s2, before, after = rebind(p, s, stats=stats)
    assert before == pytest.approx(5120)
    assert after == pytest.approx(0, abs=1e-6)
    assert _groups(s2) == {frozenset({"l0"}), frozenset({"l1"}), frozenset({"l2"})}
