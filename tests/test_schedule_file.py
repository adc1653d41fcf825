from __future__ import annotations

import json

import numpy as np
import pytest

from aras.frontends import load_network
from aras.methods.heuristics import baseline
from aras.model.errors import InputError
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network
from aras.model.schedule import FORMAT, Schedule


def test_round_trip_resnet(tmp_path):
    p = map_network(load_network("resnet50"), aras_hardware())
    s = baseline(p)
    path = tmp_path / "s.json"
    s.save(path)
    d = json.loads(path.read_text())
    assert d["format"] == FORMAT
    assert set(d) >= {"network", "method", "hardware", "steps", "writes", "makespan"}
    assert set(d["steps"][0]) == {"layer", "part", "apu_rows", "replication", "windows", "start",
                                  "end", "banks_in", "banks_out", "center"}
    assert set(d["writes"][0]) == {"layer", "part", "pe", "row", "start"}
    back = Schedule.load(path)
    assert back.steps == s.steps
    assert back.makespan == s.makespan and back.hardware == s.hardware
    for col in ("part", "pe", "row", "start", "tile"):
        assert np.array_equal(getattr(back.writes, col), getattr(s.writes, col))
    assert list(back.writes.layer) == list(s.writes.layer)
    assert back.to_dict() == s.to_dict()


def test_extra_keys_survive(tmp_path):
    p = map_network(load_network("resnet50"), aras_hardware())
    s = baseline(p)
    s.extra["note"] = "kept"
    s.save(tmp_path / "s.json")
    assert Schedule.load(tmp_path / "s.json").extra == {"note": "kept"}


@pytest.mark.parametrize("text,fragment", [
    ("{", "malformed JSON"),
    ("[]", "expected a JSON object"),
    ('{"format": "other"}', "format must be 'aras-schedule/1'"),
    ('{"format": "aras-schedule/1", "network": "n", "method": "m", "hardware": {}, '
     '"steps": [], "writes": [], "makespan": "x"}', "makespan: must be an integer"),
    ('{"format": "aras-schedule/1", "network": "n", "method": "m", "hardware": {}, '
     '"steps": [{"layer": "a", "part": 0}], "writes": [], "makespan": 0}',
     "steps[0].apu_rows: must be an integer"),
])
def test_malformed_files(tmp_path, text, fragment):
    path = tmp_path / "s.json"
    path.write_text(text)
    with pytest.raises(InputError) as e:
        Schedule.load(path)
    assert fragment in str(e.value)
