"""Row binding post-pass: valid, same timing, never more pulses; exact matches cost nothing."""

from __future__ import annotations

import numpy as np

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
