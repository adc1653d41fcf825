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
    assert set(d["writes"]) == {"runs", "pe", "row", "start"}  # columns (aras-schedule/2)
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


# ----- aras-schedule/2 (columnar writes) and aras-schedule/1 (records), both read -----

def _resnet_schedule():
    p = map_network(load_network("resnet50"), aras_hardware())
    return p, baseline(p)


def test_version_1_files_still_read_the_same(tmp_path):
    from aras.evaluation.evaluator import evaluate
    from aras.model.schedule import FORMAT_V1

    p, s = _resnet_schedule()
    s.extra["note"] = "kept"
    s.save(tmp_path / "v1.json", version=1)
    s.save(tmp_path / "v2.json")
    d1 = json.loads((tmp_path / "v1.json").read_text())
    assert d1["format"] == FORMAT_V1 and set(d1["writes"][0]) == {"layer", "part", "pe", "row",
                                                                  "start"}
    assert d1 == s.to_dict(version=1)
    assert json.loads((tmp_path / "v2.json").read_text()) == s.to_dict()
    a, b = Schedule.load(tmp_path / "v1.json"), Schedule.load(tmp_path / "v2.json")
    assert a.to_dict() == b.to_dict() == s.to_dict() and a.extra == b.extra == {"note": "kept"}
    assert evaluate(p, a).to_dict() == evaluate(p, b).to_dict() == evaluate(p, s).to_dict()


def test_version_2_keeps_explicit_tiles_and_write_order(tmp_path):
    _, s = _resnet_schedule()
    w = s.writes
    perm = np.random.default_rng(0).permutation(len(w))  # parts interleaved: many runs
    tile = np.where(np.arange(len(w)) % 3 == 0, np.arange(len(w)) % 5, -1)
    s.writes = type(w)(w.layer[perm], w.part[perm], w.pe[perm], w.row[perm], w.start[perm], tile)
    s.save(tmp_path / "s.json")
    d = json.loads((tmp_path / "s.json").read_text())
    assert d["writes"]["tile"][:4] == [0, None, None, 3]
    assert sum(r[2] for r in d["writes"]["runs"]) == len(w) and len(d["writes"]["runs"]) > 100
    back = Schedule.load(tmp_path / "s.json")
    for col in ("part", "pe", "row", "start", "tile"):
        assert np.array_equal(getattr(back.writes, col), getattr(s.writes, col))
    assert list(back.writes.layer) == list(s.writes.layer)


V2 = ('{"format": "aras-schedule/2", "network": "n", "method": "m", "hardware": {}, '
      '"steps": [], "makespan": 0, "writes": ')


@pytest.mark.parametrize("writes,fragment", [
    ('[]', "field 'writes' missing or not a dict"),
    ('{}', "writes.runs: missing or not a list"),
    ('{"runs": [["a", 0]], "pe": [], "row": [], "start": []}', "runs[0]: must be [layer, part"),
    ('{"runs": [[1, 0, 1]], "pe": [0], "row": [0], "start": [0]}', "layer must be a string"),
    ('{"runs": [["a", true, 1]], "pe": [0], "row": [0], "start": [0]}', "runs[0]: part: must be"),
    ('{"runs": [["a", 0, -1]], "pe": [], "row": [], "start": []}', "count must be >= 0"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0], "start": [0, 0]}',
     "writes.row: 1 values, the runs hold 2 writes"),
    ('{"runs": [["a", 0, 2]], "row": [0, 0], "start": [0, 0]}', "writes.pe: must be a list"),
    ('{"runs": [["a", 0, 2]], "pe": [0, true], "row": [0, 0], "start": [0, 0]}',
     "writes.pe[1]: must be an integer, got True"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": [0, 1.5]}',
     "writes.start[1]: must be an integer, got 1.5"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": [0, "7"]}',
     "writes.start[1]: must be an integer, got '7'"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, null], "start": [0, 0]}',
     "writes.row[1]: must be an integer, got None"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [[0], [1]], "start": [0, 0]}',
     "writes.row[0]: must be an integer, got [0]"),
    ('{"runs": [["a", 0, 1]], "pe": [0], "row": [0], "start": [18446744073709551615]}',
     "writes.start[0]"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": [0, 0], "tile": [1, false]}',
     "writes.tile[1]: must be an integer, got False"),
    # run-length encoded columns
    ('{"runs": [["a", 0, 2]], "pe": {"values": [0]}, "row": [0, 0], "start": [0, 0]}',
     "writes.pe: a run-length column is {\"values\": [...], \"repeats\": [...]}"),
    ('{"runs": [["a", 0, 2]], "pe": {"values": [0, 1], "repeats": [2]}, "row": [0, 0], '
     '"start": [0, 0]}', "writes.pe: 2 values but 1 repeats"),
    ('{"runs": [["a", 0, 2]], "pe": {"values": [0, 1], "repeats": [3, -1]}, "row": [0, 0], '
     '"start": [0, 0]}', "writes.pe.repeats[1]: must be >= 0, got -1"),
    ('{"runs": [["a", 0, 2]], "pe": {"values": [0], "repeats": [3]}, "row": [0, 0], '
     '"start": [0, 0]}', "writes.pe: 3 values, the runs hold 2 writes"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": {"values": [true], '
     '"repeats": [2]}}', "writes.start.values[0]: must be an integer, got True"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": {"values": [0], '
     '"repeats": [2.0]}}', "writes.start.repeats[0]: must be an integer, got 2.0"),
    ('{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": {"values": '
     '{"values": [0], "repeats": [2]}, "repeats": [2]}}', "writes.start.values: must be a list"),
])
def test_malformed_version_2_writes(tmp_path, writes, fragment):
    path = tmp_path / "s.json"
    path.write_text(V2 + writes + "}")
    with pytest.raises(InputError) as e:
        Schedule.load(path)
    assert fragment in str(e.value)
    # the same check on a document given as a dict
    with pytest.raises(InputError) as e:
        Schedule.from_dict(json.loads(V2 + writes + "}"))
    assert fragment in str(e.value)


def test_version_2_run_length_columns(tmp_path):
    """Columns with few runs (the starts of a heuristic's batches) are written as runs."""
    _, s = _resnet_schedule()
    s.save(tmp_path / "s.json")
    d = json.loads((tmp_path / "s.json").read_text())
    start = d["writes"]["start"]
    assert set(start) == {"values", "repeats"} and sum(start["repeats"]) == len(s.writes)
    assert len(start["values"]) * 2 <= len(s.writes)
    assert np.array_equal(np.repeat(start["values"], start["repeats"]), s.writes.start)
    assert isinstance(d["writes"]["row"], list)  # as many runs as writes: one value each
    s.writes.tile[:] = np.arange(len(s.writes)) // 1000 % 4  # long runs of explicit tiles
    s.writes.tile[:10] = -1
    s.save(tmp_path / "t.json")
    tile = json.loads((tmp_path / "t.json").read_text())["writes"]["tile"]
    assert tile["values"][:2] == [None, 0] and tile["repeats"][:2] == [10, 990]
    assert np.array_equal(Schedule.load(tmp_path / "t.json").writes.tile, s.writes.tile)


def test_a_bool_among_integers_is_caught_without_the_fast_path(tmp_path):
    """NumPy reads [0, true] as integers; the loader must not (its fast path needs no bools)."""
    writes = '{"runs": [["a", 0, 2]], "pe": [0, 0], "row": [0, 0], "start": [0, 1]}'
    path = tmp_path / "s.json"
    path.write_text(V2 + writes + ', "flag": true}')  # a true elsewhere: values checked
    assert Schedule.load(path).extra == {"flag": True}
    path.write_text(V2 + writes.replace('"start": [0, 1]', '"start": [0, true]') + "}")
    with pytest.raises(InputError, match=r"writes.start\[1\]: must be an integer, got True"):
        Schedule.load(path)


def test_unknown_version_is_refused(tmp_path):
    _, s = _resnet_schedule()
    with pytest.raises(InputError, match="version must be 1 or 2"):
        s.save(tmp_path / "s.json", version=3)
