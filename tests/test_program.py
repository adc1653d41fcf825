"""The instruction stream (aras-program/1): round trips, sync points, tampering, bad files."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from aras.evaluation.evaluator import evaluate
from aras.evaluation.replay import check_program
from aras.frontends import load_network
from aras.methods.heuristics import baseline
from aras.methods.solve import solve
from aras.model.errors import InputError
from aras.model.hardware import load_hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import NetworkBuilder
from aras.model.program import Program, decode_deltas, lower
from aras.model.schedule import Schedule, ScheduledStep, Writes
from tests.helpers import cli_inprocess, tiny_hardware

PAPER = ("vgg16", "resnet50", "densenet161", "bert-base", "bert-large")


@cache
def _problem(name: str) -> Problem:
    return map_network(load_network(name), load_hardware("aras"))


def _round_trip(p: Problem, sched: Schedule, tmp: Path) -> None:
    """schedule file -> program file -> schedule: the same file, and a clean replay."""
    sched.save(tmp / "s.json")
    s = Schedule.load(tmp / "s.json")
    lower(p, s).save(tmp / "p.json")
    prog = Program.load(tmp / "p.json")
    back, violations = check_program(p, prog)
    assert violations == []
    assert back.to_dict() == s.to_dict()
    back.save(tmp / "back.json")
    assert (tmp / "back.json").read_text() == (tmp / "s.json").read_text()


@pytest.mark.parametrize("network", PAPER)
def test_round_trip_on_the_paper_networks(tmp_path: Path, network: str) -> None:
    p = _problem(network)
    _round_trip(p, baseline(p), tmp_path)


def test_round_trip_of_a_multi_part_vgg16_layer(tmp_path: Path) -> None:
    """VGG-16's fc6 (25,088 x 4,096 weights, 6,272 APU rows) alone: 11 parts on 576 rows."""
    b = NetworkBuilder("vgg16-fc6", {"x": (1, 25088)})
    b.linear("classifier.0", "x", 25088, 4096)
    p = map_network(b.build(), load_hardware("aras"))
    s = baseline(p)
    assert [st.part for st in s.steps] == list(range(11))
    _round_trip(p, s, tmp_path)
    prog = lower(p, s)
    ids_of: dict[int, list[int]] = {}
    for r in prog.rows:
        for w in r.writes:
            ids_of.setdefault(w.part, []).append(w.id)
            # every row's writes after its first wait for the part that held the row before
            assert w.after is None or prog.compute[w.after].part < w.part
    for c in prog.compute:  # each part waits for exactly its own 570 or 571 writes
        assert sorted(ids_of[c.part]) == list(c.waits_for)
        assert len(c.waits_for) == c.apu_rows in (570, 571)
    # the first 576 writes find their rows free; each later one waits for a release
    assert sum(w.after is None for r in prog.rows for w in r.writes) == 576


def test_round_trip_of_reuse_and_liveness_schedules(tmp_path: Path) -> None:
    """Reuse centers (ResNet-50, aras) and liveness banks (a skip connection), whose extra
    keys (reuse notes, network_source, bank_mode, tensors) travel in schedule_extra."""
    p = _problem("resnet50")
    res = solve(p, method="aras", reuse=True)
    assert res.schedule is not None and any(st.center for st in res.schedule.steps)
    _round_trip(p, res.schedule, tmp_path)
    b = NetworkBuilder("skip", {"x": (4, 4, 4)})
    y = b.conv("c1", "x", 4, 8, 1)
    b.add("a", "add", [y, b.conv("c2", y, 8, 8, 1)])
    p = map_network(b.build(), tiny_hardware())
    res = solve(p, method="baseline", banks="liveness")
    assert res.schedule is not None and res.schedule.extra["bank_mode"] == "liveness"
    _round_trip(p, res.schedule, tmp_path)


def _hand() -> tuple[Problem, Schedule]:
    """Three 1x1 convs of one APU row and 16 windows each (96 cycles a window) on one PE of
    two rows, writes of 1000 cycles. c1 is replicated twice (rows 0 and 1, 8 windows each:
    768 cycles), c2 is written on row 0 once c1 has released it, c3 on row 0 after c2. The
    writes are listed out of time order (c3, c1, c2, c1) to check the ids."""
    b = NetworkBuilder("hand", {"x": (4, 4, 4)})
    y = b.conv("c1", "x", 4, 8, 1)
    y = b.conv("c2", y, 8, 8, 1)
    b.conv("c3", y, 8, 8, 1)
    p = map_network(b.build(), tiny_hardware())
    steps = [ScheduledStep("c1", 0, 1, 2, 16, 1000, 1768, (0,), (1,)),
             ScheduledStep("c2", 0, 1, 1, 16, 2768, 4304, (1,), (2,)),
             ScheduledStep("c3", 0, 1, 1, 16, 5304, 6840, (2,), (0,))]
    writes = Writes.from_lists(["c3", "c1", "c2", "c1"], [0, 0, 0, 0], [0, 0, 0, 0],
                               [0, 0, 0, 1], [4304, 0, 1768, 0])
    return p, Schedule("hand", "hand", p.hardware.to_dict(), steps, writes, 6840)


def test_sync_points_by_hand() -> None:
    p, s = _hand()
    assert evaluate(p, s).valid
    prog = lower(p, s)
    # Row 0 runs c1 (id 1, free at cycle 0), c2 (id 2, after step 0 = c1 ends at 1768),
    # c3 (id 0, after step 1 = c2 ends at 4304); row 1 only c1's replica (id 3).
    assert [(r.pe, r.row) for r in prog.rows] == [(0, 0), (0, 1)]
    assert [(w.id, w.layer, w.start, w.after) for w in prog.rows[0].writes] == [
        (1, "c1", 0, None), (2, "c2", 1768, 0), (0, "c3", 4304, 1)]
    assert [(w.id, w.layer, w.start, w.after) for w in prog.rows[1].writes] == [
        (3, "c1", 0, None)]
    # c1 waits for both its replicas (writes 1 and 3), c2 for write 2, c3 for write 0
    assert [c.waits_for for c in prog.compute] == [(1, 3), (2,), (0,)]
    assert [c.banks_powered for c in prog.compute] == [(0, 1), (1, 2), (0, 2)]
    assert [(c.inputs, c.output) for c in prog.compute] == [
        (("x",), "c1"), (("c1",), "c2"), (("c2",), "c3")]
    hw = p.hardware
    assert {w.delta_bytes for r in prog.rows for w in r.writes} == {
        hw.apus_per_row * hw.bytes_per_apu_write}
    assert prog.tiles == "implicit" and all(w.tile == 0 for r in prog.rows for w in r.writes)
    back, violations = check_program(p, Program.from_dict(prog.to_dict()))
    assert violations == [] and back.to_dict() == s.to_dict()


def test_a_compute_starting_before_a_write_it_waits_for_ends_is_a_sync_violation() -> None:
    """c2's write (id 2, row 0) moved one cycle later: it ends at 1769 + 1000 = 2769, one
    cycle after c2 starts at 2768. The schedule breaks R3 and the replay its sync point; the
    program is otherwise the one the schedule gives (same ids, waits and releases)."""
    p, s = _hand()
    doc = lower(p, s).to_dict()
    w = doc["rows"][0]["writes"][1]
    assert (w["id"], w["layer"], w["start"]) == (2, "c2", 1768)
    assert doc["compute"][1]["waits_for"] == [2] and doc["compute"][1]["start"] == 2768
    w["start"] = 1769
    _, violations = check_program(p, Program.from_dict(doc))
    assert [str(v) for v in violations] == [
        "R3: c2/0: write on (pe 0, row 0) ends at 2769, after the compute starts at 2768",
        "sync: step 1 (c2/0) starts at 2768, before write 2 ends at 2769"]
    w["start"] = 1768  # ending exactly at the compute start is allowed
    assert check_program(p, Program.from_dict(doc))[1] == []


def test_explicit_and_mixed_tiles_round_trip() -> None:
    p, s = _hand()
    for tiles, mode in (([0, 0, 0, 0], "explicit"), ([-1, -1, 0, -1], "mixed")):
        t = copy.deepcopy(s)
        t.writes.tile = np.array(tiles, dtype=np.int64)
        assert evaluate(p, t).valid  # mixed: c2 names its tile, c1 and c3 do not
        prog = lower(p, t)
        assert prog.tiles == mode
        back, violations = check_program(p, Program.from_dict(prog.to_dict()))
        assert violations == [] and back.to_dict() == t.to_dict()


def test_cell_deltas_with_real_weights() -> None:
    """c1 all 0 and c3 all 255 share row 0 (tests/test_pulses.py): c3 raises 32 weights x 4
    cells by 3 levels and c1 lowers them again at the next inference; c2 (row 1) and c3's
    other 32 weights overwrite themselves."""
    b = NetworkBuilder("three", {"x": (4, 4, 4)})
    y = b.conv("c1", "x", 4, 8, 1)
    y = b.conv("c2", y, 8, 8, 1)
    b.conv("c3", y, 8, 8, 1)
    p = map_network(b.build(), tiny_hardware())
    s = baseline(p)
    weights = {"c1": np.zeros((4, 8), np.uint8), "c2": np.full((8, 8), 77, np.uint8),
               "c3": np.full((8, 8), 255, np.uint8)}
    prog = lower(p, s, weights=weights)
    assert prog.pulses == "weights" and prog.delta_dtype == "int8"
    by_layer = {w.layer: w for r in prog.rows for w in r.writes}
    d1 = decode_deltas(by_layer["c1"].deltas or "", "int8")
    d3 = decode_deltas(by_layer["c3"].deltas or "", "int8")
    assert d1.tolist() == [-3] * (4 * 8 * 4)
    assert sorted(set(d3.tolist())) == [0, 3] and d3.sum() == 32 * 4 * 3 and len(d3) == 256
    assert by_layer["c2"].level_steps == 0
    total = sum(w.level_steps or 0 for w in by_layer.values())
    assert total == evaluate(p, s, weights=weights).level_steps == 2 * 32 * 4 * 3
    doc = prog.to_dict()
    assert check_program(p, Program.from_dict(doc), weights=weights)[1] == []
    # cell deltas that do not follow from the weights are caught
    w = next(w for r in doc["rows"] for w in r["writes"] if w["layer"] == "c2")
    w["deltas"] = by_layer["c1"].deltas
    found = check_program(p, Program.from_dict(doc), weights=weights)[1]
    assert any(v.rule == "program" and "cell deltas" in v.message for v in found)
    w["deltas"] = "not base64!"
    with pytest.raises(InputError, match="deltas"):
        check_program(p, Program.from_dict(doc), weights=weights)


# ----- the command line -----

@pytest.fixture(scope="module")
def program_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ResNet-50 scheduled by aras (replication), lowered by ``aras program``."""
    d = tmp_path_factory.mktemp("prog")
    r = cli_inprocess("solve", "resnet50", "-m", "aras", "-o", str(d / "s.json"), "-q")
    assert r.returncode == 0, r.stderr
    r = cli_inprocess("program", str(d / "s.json"), "--output", str(d / "p.json"))
    assert r.returncode == 0, r.stderr
    return d / "p.json"


def test_cli_round_trip(program_file: Path) -> None:
    r = cli_inprocess("program", "--check", str(program_file), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    d = json.loads(r.stdout)
    assert d["valid"] and d["violations"] == [] and d["pulses"] == "none"
    assert d["compute_waits"] == d["writes"] > 1576  # replication writes more than 1 copy
    s = Schedule.load(program_file.with_name("s.json"))
    back = Program.load(program_file).to_schedule()
    assert back.to_dict() == s.to_dict()
    r = cli_inprocess("program", "--check", str(program_file))
    assert r.returncode == 0 and "valid program" in r.stdout


def _doc(path: Path) -> dict:
    return json.loads(path.read_text())


def _run_check(tmp_path: Path, doc: object, name: str = "t.json"):  # type: ignore[no-untyped-def]
    f = tmp_path / name
    f.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return cli_inprocess("program", "--check", str(f))


def test_a_write_moved_before_its_release_is_rejected(tmp_path: Path, program_file: Path
                                                      ) -> None:
    doc = _doc(program_file)
    row = next(r for r in doc["rows"] if len(r["writes"]) > 1)
    w = row["writes"][1]
    w["start"] = doc["compute"][w["after"]]["end"] - 1
    r = _run_check(tmp_path, doc)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "sync:" in r.stdout and "releases the row" in r.stdout and "R2:" in r.stdout
    assert "Traceback" not in r.stderr


def test_a_dropped_write_is_rejected(tmp_path: Path, program_file: Path) -> None:
    doc = _doc(program_file)
    row = next(r for r in doc["rows"] if len(r["writes"]) > 1)
    gone = row["writes"].pop(0)
    r = _run_check(tmp_path, doc)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "R1:" in r.stdout
    assert f"waits for write {gone['id']}, which the program does not have" in r.stdout


def test_sync_points_that_do_not_follow_from_the_schedule_are_rejected(
        tmp_path: Path, program_file: Path) -> None:
    doc = _doc(program_file)
    w = next(w for r in doc["rows"] for w in r["writes"] if w["after"] is not None)
    w["after"] = None
    doc["compute"][3]["banks_powered"] = [0]
    r = _run_check(tmp_path, doc)
    assert r.returncode == 1
    assert "program: rows[" in r.stdout and ".after: the program says None" in r.stdout
    assert "program: compute[3].banks_powered" in r.stdout


def _set(doc: dict, path: str, value: object) -> dict:
    d = copy.deepcopy(doc)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    target = d
    for k in keys[:-1]:
        target = target[k]
    if value is _DROP:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return d


_DROP = object()


@pytest.mark.parametrize(("path", "value", "needle"), [
    ("format", "aras-program/9", "format must be 'aras-program/1'"),
    ("rows", {}, "field 'rows'"),
    ("rows.0.writes.0.start", _DROP, "rows[0].writes[0].start: missing"),
    ("rows.0.writes.0.start", "12", "rows[0].writes[0].start: must be an integer"),
    ("rows.0.writes.0.start", float("nan"), "rows[0].writes[0].start: must be an integer"),
    ("rows.0.writes.0.start", 2**60, "rows[0].writes[0].start: at most"),
    ("rows.0.writes.0.tile", True, "rows[0].writes[0].tile: must be an integer"),
    ("rows.0.writes.0.after", 10**6, "rows[0].writes[0].after: at most"),
    ("rows.0.writes.0.layer", "nope", "rows[0].writes[0].layer: nope/0"),
    ("compute.0.layer", "nope", "compute[0].layer: unknown layer 'nope'"),
    ("compute.0.part", 7, "compute[0].part: layer 'conv1' has no part 7"),
    ("compute.0.step", 5, "compute[0].step"),
    ("compute.0.waits_for", [1.5], "compute[0].waits_for[0]"),
    ("makespan", 1e400, "makespan"),
    ("hardware.pes", -1, "hardware"),
    ("tiles", "some", "tiles: must be one of"),
])
def test_malformed_programs_exit_2_naming_the_field(tmp_path: Path, program_file: Path,
                                                    path: str, value: object, needle: str
                                                    ) -> None:
    doc = _doc(program_file)
    text = json.dumps(_set(doc, path, value)).replace("Infinity", "1e400")
    r = _run_check(tmp_path, text)
    assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_bad_files_and_outputs_exit_2(tmp_path: Path, program_file: Path) -> None:
    for text, needle in (("{not json", "malformed JSON"), ("[1, 2]", "expected a JSON object")):
        r = _run_check(tmp_path, text)
        assert r.returncode == 2 and needle in r.stderr, r.stderr
    doc = _doc(program_file)
    dup = copy.deepcopy(doc)
    dup["rows"][0]["writes"][0]["id"] = dup["rows"][1]["writes"][0]["id"]
    r = _run_check(tmp_path, dup)
    assert r.returncode == 2 and "appears twice" in r.stderr, r.stderr
    schedule = program_file.with_name("s.json")
    # an output that cannot be written is refused before any work (the schedule is not read)
    for args, needle in (
            ((str(tmp_path / "missing.json"), "-o", str(tmp_path / "no" / "p.json")),
             "--output: directory"),
            ((str(schedule), "-o", str(tmp_path)), "is a directory"),
            ((), "give a SCHEDULE"),
            ((str(schedule), "--check", str(program_file)), "one of them")):
        r = cli_inprocess("program", *args)
        assert r.returncode == 2 and needle in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_an_invalid_schedule_gives_no_program(tmp_path: Path, program_file: Path) -> None:
    d = json.loads(program_file.with_name("s.json").read_text())
    d["steps"][0]["end"] += 1  # R5
    (tmp_path / "bad.json").write_text(json.dumps(d))
    r = cli_inprocess("program", str(tmp_path / "bad.json"), "-o", str(tmp_path / "p.json"))
    assert r.returncode == 1 and "R5:" in r.stdout
    assert not (tmp_path / "p.json").exists()
