"""The default energy parameters reproduce the paper's qualitative picture (MODEL.md 2)."""

from __future__ import annotations

import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.heuristics import baseline
from aras.model.hardware import baseline_hardware
from aras.model.mapping import map_network


@pytest.mark.parametrize("name,largest", [
    ("vgg16", "gbuffer_static"), ("resnet50", "gbuffer_static"),
    ("densenet161", "gbuffer_static"), ("bert-base", "rram_write"),
    ("bert-large", "rram_write")])
def test_largest_energy_component_in_base_configuration(name, largest):
    p = map_network(load_network(name), baseline_hardware())
    e = evaluate(p, baseline(p)).energy.to_dict()
    e.pop("total")
    assert max(e, key=lambda k: e[k]) == largest
    # compute energy is small (the paper calls it negligible)
    assert e["compute"] < 0.2 * sum(e.values())
