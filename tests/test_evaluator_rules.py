"""Each rule R1-R8 broken by a schedule built to break only that rule."""

from __future__ import annotations

import copy
import time

from aras.evaluation.evaluator import evaluate, validate
from aras.frontends import load_network
from aras.model.mapping import map_network
from aras.model.schedule import Schedule, Writes
from tests.helpers import tiny_hardware, tiny_network, tiny_schedule


def _check(sched: Schedule, rule: str, hw=None) -> list[str]:
    hw = hw or tiny_hardware()
    p = map_network(tiny_network(), hw)
    v = validate(p, sched)
    assert v, "the schedule should be invalid"
    assert {x.rule for x in v} == {rule}, [str(x) for x in v]
    return [str(x) for x in v]


def _base() -> Schedule:
    return copy.deepcopy(tiny_schedule(tiny_hardware()))


def _writes(s: Schedule, **cols) -> None:
    w = s.writes
    d = dict(layer=list(w.layer), part=w.part.tolist(), pe=w.pe.tolist(), row=w.row.tolist(),
             start=w.start.tolist())
    d.update(cols)
    s.writes = Writes.from_lists(**d)


def test_hand_built_schedule_is_valid_and_costed():
    hw = tiny_hardware()
    p = map_network(tiny_network(), hw)
    rep = evaluate(p, tiny_schedule(hw))
    assert rep.valid, rep.violations
    assert rep.makespan_cycles == 4072
    assert rep.row_writes == 2
    # 4 input rows x 8 kernels of c1 and 8 x 8 of c2.
    assert rep.weights_written == 4 * 8 + 8 * 8


def test_r1_missing_write():
    s = _base()
    _writes(s, layer=["c1"], part=[0], pe=[0], row=[0], start=[0])
    (msg,) = _check(s, "R1")
    assert "c2/0" in msg and "0 writes" in msg


def test_r1_replication_without_extra_writes():
    s = _base()
    s.steps[1].replication = 2
    s.steps[1].end = s.steps[1].start + 8 * 96
    s.makespan = s.steps[1].end
    msgs = _check(s, "R1")
    assert any("needs 2" in m for m in msgs)


def test_r2_two_layers_on_one_row():
    s = _base()
    _writes(s, row=[0, 0])
    (msg,) = _check(s, "R2")
    assert "pe 0, row 0" in msg and "[0, 2536)" in msg


def test_r3_write_ends_after_compute_starts():
    s = _base()
    _writes(s, start=[0, 1600])
    (msg,) = _check(s, "R3")
    assert "c2/0" in msg and "2600" in msg and "2536" in msg


def test_r4_overlapping_computes():
    s = _base()
    s.steps[1].start, s.steps[1].end = 2500, 4036
    s.makespan = 4036
    msgs = _check(s, "R4")
    assert any("c2/0 starts at 2500" in m for m in msgs)


def test_r4_consumer_before_producer():
    s = _base()
    c1, c2 = s.steps
    c2.start, c2.end = 1000, 2536
    c1.start, c1.end = 2536, 4072
    s.steps = [c2, c1]
    msgs = _check(s, "R4")
    assert any("c2 reads c1" in m for m in msgs)


def test_r4_missing_compute():
    s = _base()
    s.steps = s.steps[:1]
    s.makespan = 2536
    _writes(s, layer=["c1"], part=[0], pe=[0], row=[0], start=[0])
    (msg,) = _check(s, "R4")
    assert "c2/0: never computed" in msg


def test_r5_wrong_duration():
    s = _base()
    s.steps[1].end += 1
    s.makespan += 1
    (msg,) = _check(s, "R5")
    assert "1537 cycles" in msg and "1536" in msg


def test_r6_bandwidth():
    # 4096 bytes per APU write, 1000 cycles at 1 GHz: 4.096e9 B/s lets one APU write at once.
    hw = tiny_hardware(apus_per_row=1, memory_bandwidth_bytes_s=4.096e9)
    assert hw.max_concurrent_apu_writes == 1
    s = tiny_schedule(hw)
    (msg,) = _check(s, "R6", hw)
    assert "[0, 1000)" in msg and "2 APUs" in msg


def test_r6_respected_when_staggered():
    hw = tiny_hardware(apus_per_row=1, memory_bandwidth_bytes_s=4.096e9)
    s = tiny_schedule(hw)
    _writes(s, start=[0, 1000])
    assert validate(map_network(tiny_network(), hw), s) == []


def test_r7_pe_out_of_range():
    s = _base()
    _writes(s, pe=[0, 1])
    (msg,) = _check(s, "R7")
    assert "(pe 1, row 1)" in msg


def test_r7_negative_time():
    s = _base()
    _writes(s, start=[-5, 0])
    (msg,) = _check(s, "R7")
    assert "start -5" in msg


def test_r8_shared_bank():
    s = _base()
    s.steps[1].banks_in = (2,)
    (msg,) = _check(s, "R8")
    assert "[2]" in msg and "both input and output" in msg


def test_r8_capacity():
    hw = tiny_hardware(gbuffer_banks=(100, 200, 200))
    s = tiny_schedule(hw)
    s.steps[0].banks_out = (0,)  # c1 writes 128 bytes, bank 0 holds 100
    s.steps[0].banks_in = (1,)
    msgs = _check(s, "R8", hw)
    assert any("output banks hold 100 bytes" in m and "128" in m for m in msgs)


def test_every_violation_is_listed():
    s = _base()
    _writes(s, row=[0, 0], start=[0, 1600])  # R2 and R3 at once
    s.steps[1].banks_in = (2,)  # and R8
    p = map_network(tiny_network(), tiny_hardware())
    rules = sorted({v.rule for v in validate(p, s)})
    assert rules == ["R2", "R3", "R8"]


def test_wrong_makespan_field_is_reported():
    s = _base()
    s.makespan = 1
    p = map_network(tiny_network(), tiny_hardware())
    (v,) = validate(p, s)
    assert v.rule == "makespan" and "4072" in v.message


def test_evaluator_handles_100k_writes_fast():
    """A valid 147k-write schedule validates, and is costed, well under a second each.

    BERT-Large on 32x64 crossbars needs 8x the APU rows of the paper's 128x128 ones.
    """
    from aras.methods.heuristics import baseline

    hw = tiny_hardware(pes=96, apu_rows_per_pe=6, crossbar_rows=32, crossbar_cols=64,
                       gbuffer_banks=(2**21,) * 4)
    p = map_network(load_network("bert-large"), hw)
    s = baseline(p)
    assert len(s.writes) >= 100_000
    t0 = time.perf_counter()
    assert validate(p, s) == []
    t_validate = time.perf_counter() - t0
    t0 = time.perf_counter()
    rep = evaluate(p, s)
    t_evaluate = time.perf_counter() - t0
    assert rep.valid and rep.row_writes == len(s.writes)
    assert t_validate < 0.5, t_validate
    assert t_evaluate < 0.8, t_evaluate
