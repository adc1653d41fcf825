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
