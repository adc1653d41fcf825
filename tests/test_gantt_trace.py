"""The Gantt chart (aras.views.gantt) and the Chrome trace (aras.views.trace) of schedules."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.solve import solve
from aras.model.hardware import aras_hardware
from aras.model.mapping import Problem, map_network
from aras.model.schedule import Schedule, Writes
from aras.views.gantt import GIDS, gantt, layer_colours
from aras.views.trace import (
    COUNTER_NAME,
    PID_COMPUTE,
    PID_GBUFFER,
    PID_ROWS,
    bank_intervals,
    chrome_trace,
    save_trace,
)
from tests.helpers import tiny_hardware, tiny_network, tiny_schedule

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def resnet() -> tuple[Problem, Schedule]:
    """ResNet-50 on the paper hardware, ARAS replication (2056 writes on 576 rows)."""
    p = map_network(load_network("resnet50"), aras_hardware())
    return p, solve(p, method="aras").schedule


def _tiny() -> tuple[Problem, Schedule]:
    """The hand-built tiny schedule: c1 reads bank 0 and writes bank 1, c2 reads 1 writes 2."""
    hw = tiny_hardware()
    return map_network(tiny_network(), hw), tiny_schedule(hw)


def _events(trace: dict, ph: str, pid: int, cat: str | None = None) -> list[dict]:
    return [e for e in trace["traceEvents"] if e["ph"] == ph and e["pid"] == pid
            and (cat is None or e.get("cat") == cat)]


def _collection(ax, key: str):
    found = [c for c in ax.collections if c.get_gid() == GIDS[key]]
    assert len(found) == 1, key
    return found[0]


def _x_extents(coll) -> np.ndarray:
    """(n, 2) array of the x range of each rectangle of a collection."""
    return np.array([[p.vertices[:, 0].min(), p.vertices[:, 0].max()] for p in coll.get_paths()]
                    ).reshape(-1, 2)


# ----- trace -----

def test_trace_compute_events_match_steps():
    p, s = _tiny()
    tr = chrome_trace(s, p)
    comp = _events(tr, "X", PID_COMPUTE)
    assert [e["name"] for e in comp] == ["c1/0", "c2/0"]
    # 1 GHz: one cycle is 1e-3 microseconds.
    assert [(e["ts"], e["dur"]) for e in comp] == [pytest.approx((1.0, 1.536)),
                                                   pytest.approx((2.536, 1.536))]
    assert comp[0]["args"] == {"replication": 1, "apu_rows": 1, "windows": 16,
                               "banks_in": [0], "banks_out": [1]}
    assert all(e["tid"] == 0 and e["cat"] == "crossbar" for e in comp)


def test_trace_tiny_writes_and_banks_exact():
    p, s = _tiny()
    tr = chrome_trace(s, p)
    rows = _events(tr, "X", PID_ROWS)
    got = sorted((e["tid"], e["cat"], e["name"], round(e["ts"], 9), round(e["dur"], 9))
                 for e in rows)
    # c1 on (pe 0, row 0): writes [0, 1) us, holds until c1 ends at 2.536 us; c2 on row 1
    # holds until 4.072 us.
    assert got == [(0, "hold", "c1", 1.0, 1.536), (0, "write", "c1", 0.0, 1.0),
                   (1, "hold", "c2", 1.0, 3.072), (1, "write", "c2", 0.0, 1.0)]
    banks = sorted((e["tid"], e["name"], round(e["ts"], 9), round(e["ts"] + e["dur"], 9),
                    e["args"]["step"]) for e in _events(tr, "X", PID_GBUFFER))
    # Step 0's banks are powered from cycle 0 to step 1's start, step 1's until its end.
    assert banks == [(0, "input", 0.0, 2.536, "c1/0"), (1, "input", 2.536, 4.072, "c2/0"),
                     (1, "output", 0.0, 2.536, "c1/0"), (2, "output", 2.536, 4.072, "c2/0")]
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in tr["traceEvents"]
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[PID_ROWS, 0] == "pe 0 row 0" and names[PID_ROWS, 1] == "pe 0 row 1"
    assert [names[PID_GBUFFER, b] for b in range(3)] == [f"bank {b} (1 KB)" for b in range(3)]
    procs = {e["pid"]: e["args"]["name"] for e in tr["traceEvents"]
             if e["ph"] == "M" and e["name"] == "process_name"}
    assert procs == {PID_COMPUTE: "compute", PID_ROWS: "APU rows", PID_GBUFFER: "Gbuffer"}


def test_trace_resnet_two_events_per_write(resnet):
    p, s = resnet
    hw = p.hardware
    us = 1e6 / hw.frequency_hz
    tr = chrome_trace(s, p)
    assert len(_events(tr, "X", PID_COMPUTE)) == len(s.steps)
    writes = _events(tr, "X", PID_ROWS, "write")
    holds = _events(tr, "X", PID_ROWS, "hold")
    assert len(writes) == len(holds) == len(s.writes) == 2056
    assert len(_events(tr, "X", PID_ROWS)) == 2 * len(s.writes)
    # Every write lasts the write latency (768 us at 1 GHz).
    assert all(e["dur"] == pytest.approx(hw.write_latency_cycles * us) for e in writes)
    assert writes[0]["dur"] == pytest.approx(768.0)
    # Writes match the schedule's (row, start, layer) one for one.
    w = s.writes
    per = hw.apu_rows_per_pe
    want = sorted(zip((w.pe * per + w.row).tolist(), (w.start * us).round(6).tolist(),
                      w.layer.tolist(), strict=True))
    assert sorted((e["tid"], round(e["ts"], 6), e["name"]) for e in writes) == want
    # A hold starts where its write ends and ends with its part's compute (R2).
    end_of = {f"{st.layer}": {} for st in s.steps}
    for st in s.steps:
        end_of[st.layer][st.part] = st.end * us
    wend = {(e["tid"], round(e["ts"] + e["dur"], 6)): e for e in writes}
    for h in holds:
        wr = wend[h["tid"], round(h["ts"], 6)]
        assert wr["name"] == h["name"] and wr["args"] == h["args"]
        assert h["ts"] + h["dur"] == pytest.approx(end_of[h["name"]][h["args"]["part"]])
        assert h["dur"] > 0


def test_trace_sorted_and_json_round_trip(resnet, tmp_path):
    p, s = resnet
    tr = chrome_trace(s, p)
    ts = [e["ts"] for e in tr["traceEvents"]]
    assert ts == sorted(ts)
    assert {e["ph"] for e in tr["traceEvents"]} == {"M", "X", "C"}
    assert all(isinstance(e["ts"], float) for e in tr["traceEvents"])
    assert all(isinstance(e["dur"], float) and e["dur"] >= 0 for e in tr["traceEvents"]
               if e["ph"] == "X")
    assert tr["displayTimeUnit"] == "ms"  # 3.6 ms makespan
    assert tr["otherData"]["makespan_cycles"] == s.makespan
    path = save_trace(s, p, tmp_path / "t.json")
    assert json.loads(path.read_text()) == tr
    # Compact: about 0.3 KB per write for ResNet-50.
    assert path.stat().st_size < 1_000_000


def test_trace_counter_matches_r6(resnet):
    p, s = resnet
    hw = p.hardware
    us = 1e6 / hw.frequency_hz
    tr = chrome_trace(s, p)
    cnt = _events(tr, "C", PID_ROWS)
    assert {e["name"] for e in cnt} == {COUNTER_NAME}
    apus = np.array([e["args"]["apus"] for e in cnt])
    assert apus.max() <= hw.max_concurrent_apu_writes
    assert apus.max() // hw.apus_per_row <= hw.max_concurrent_row_writes
    # All 576 rows are written from cycle 0 at once: 2304 APUs.
    assert cnt[0]["ts"] == 0.0 and apus[0] == 576 * hw.apus_per_row
    # The level after each change equals a brute-force count of writes in flight.
    w = s.writes
    T = hw.write_latency_cycles
    for e in cnt:
        t = round(e["ts"] / us)
        busy = int(((w.start <= t) & (t < w.start + T)).sum())
        assert e["args"]["apus"] == busy * hw.apus_per_row
    assert apus[-1] == 0


def test_trace_counter_under_bandwidth_limit():
    # Bandwidth for one APU row (4 APUs) at a time: the baseline serialises the two writes.
    hw = tiny_hardware(memory_bandwidth_bytes_s=4 * 4096 / 1e-6 * 1.0001)
    assert hw.max_concurrent_apu_writes == 4
    p = map_network(tiny_network(), hw)
    s = solve(p, method="baseline").schedule
    cnt = _events(chrome_trace(s, p), "C", PID_ROWS)
    levels = [e["args"]["apus"] for e in cnt]
    assert max(levels) == 4
    assert max(levels) // hw.apus_per_row <= hw.max_concurrent_row_writes


def test_bank_intervals_cost_the_evaluators_static_energy(resnet):
    p, s = resnet
    hw = p.hardware
    leak = hw.bank_leakage_w()
    ivs = bank_intervals(s)
    energy = sum(leak[iv.bank] * hw.seconds(iv.end - iv.start) for iv in ivs)
    assert energy == pytest.approx(evaluate(p, s).energy.gbuffer_static, rel=1e-12)
    # Intervals of one bank never overlap (one step at a time).
    by_bank: dict[int, list[tuple[int, int]]] = {}
    for iv in ivs:
        by_bank.setdefault(iv.bank, []).append((iv.start, iv.end))
    for spans in by_bank.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_trace_write_of_uncomputed_part_has_no_hold():
    p, s = _tiny()
    w = s.writes
    s.writes = Writes.from_lists(list(w.layer) + ["ghost"], list(w.part) + [0],
                                 list(w.pe) + [0], list(w.row) + [0], list(w.start) + [5000])
    tr = chrome_trace(s, p)
    assert len(_events(tr, "X", PID_ROWS, "write")) == 3
    assert len(_events(tr, "X", PID_ROWS, "hold")) == 2
    fig = gantt(s, p)
    hold = _x_extents(_collection(fig.axes[0], "hold"))
    ghost = hold[np.isclose(hold[:, 0], 6.0)]  # write 5..6 us, nothing held after it
    assert np.allclose(ghost, [[6.0, 6.0]])


# ----- Gantt -----

def test_gantt_tiny(tmp_path):
    p, s = _tiny()
    path = tmp_path / "tiny.png"
    fig = gantt(s, p, path)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 10_000
    assert len(fig.axes) == 3      # rows, banks, the layer key
    ax, axb, _ = fig.axes
    write = _x_extents(_collection(ax, "write"))
    hold = _x_extents(_collection(ax, "hold"))
    # Microseconds (makespan 4.072 us): writes [0, 1), holds until each part's compute ends.
    assert np.allclose(write, [[0.0, 1.0], [0.0, 1.0]])
    assert np.allclose(hold, [[1.0, 2.536], [1.0, 4.072]])
    assert np.allclose(_x_extents(_collection(ax, "compute")), [[1.0, 2.536], [2.536, 4.072]])
    assert ax.get_xlim() == pytest.approx((0.0, 4.072))
    assert axb.get_xlabel() == "time (µs)"
    assert len(axb.get_yticks()) == len(p.hardware.gbuffer_banks) == 3
    assert np.allclose(_x_extents(_collection(axb, "input")), [[0.0, 2.536], [2.536, 4.072]])
    assert np.allclose(_x_extents(_collection(axb, "output")), [[0.0, 2.536], [2.536, 4.072]])
    title = ax.get_title()
    assert "tiny" in title and "hand" in title and "4.072 µs" in title


def test_gantt_resnet_renders_fast(tmp_path):
    p = map_network(load_network("resnet50"), aras_hardware())
    s = solve(p, method="baseline").schedule
    path = tmp_path / "resnet50.png"
    t0 = time.perf_counter()
    fig = gantt(s, p, path)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0, elapsed
    assert path.stat().st_size > 50_000
    assert len(fig.axes) == 3
    ax, axb, _ = fig.axes
    n = len(s.writes)
    assert n == 1576
    assert len(_collection(ax, "hold").get_paths()) == n
    assert len(_collection(ax, "write").get_paths()) == n
    widths = np.diff(_x_extents(_collection(ax, "write")), axis=1)
    assert np.allclose(widths, 0.768)  # ms: the axis switches to ms above 1 ms
    assert axb.get_xlabel() == "time (ms)"
    assert len(_collection(ax, "compute").get_paths()) == len(s.steps)
    nb = len(p.hardware.gbuffer_banks)
    assert len(axb.get_yticks()) == nb == 10
    assert axb.get_ylim() == (nb, 0)
    drawn = sum(len(_collection(axb, k).get_paths()) for k in ("input", "output"))
    assert drawn == len(bank_intervals(s))
    assert ax.get_ylim()[0] == p.hardware.total_apu_rows
    assert "resnet50" in ax.get_title() and "baseline" in ax.get_title()
    assert "8.142 ms" in ax.get_title()


def test_gantt_max_rows(resnet):
    p, s = resnet
    fig = gantt(s, p, max_rows=12)
    ax = fig.axes[0]
    rowid = s.writes.pe * p.hardware.apu_rows_per_pe + s.writes.row
    assert len(_collection(ax, "hold").get_paths()) == int((rowid < 12).sum()) > 0
    assert ax.get_ylim()[0] == 12
    assert "first 12 of 576" in ax.get_ylabel()
    # Twelve rows are few enough to name each one.
    assert [t.get_text() for t in ax.get_yticklabels()][:3] == ["compute", "pe 0 row 0",
                                                               "pe 0 row 1"]


def test_layer_colours_are_distinct_and_neighbours_far_apart():
    c = layer_colours(320)   # more weight-bearing layers than any built-in network but llama
    assert len({tuple(np.round(x, 6)) for x in c}) == 320
    near = np.linalg.norm(np.diff(c[:, :3], axis=0), axis=1)
    assert near.min() > 0.25   # consecutive layers, the ones drawn next to each other


def test_gantt_axis_names_match_ticks_and_key_shows_the_drawn_colours(resnet):
    p, s = resnet
    fig = gantt(s, p)
    ax, _, key = fig.axes
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    per = p.hardware.apu_rows_per_pe
    assert ax.get_ylabel().startswith(f"PE ({per} APU rows each")
    assert ticks[0] == "compute" and all(t.isdigit() for t in ticks[1:])
    assert np.allclose(ax.get_yticks()[1:], [int(t) * per for t in ticks[1:]])
    # The key is the colours drawn: one row per weight-bearing layer, its writing, holding
    # and computing shades; every write and hold of a layer has that layer's row's colour.
    img = key.get_images()[0].get_array()
    layers = list(dict.fromkeys(st.layer for st in p.steps if st.weighted))
    assert img.shape[:2] == (len(layers), 3)
    assert len({tuple(np.round(r, 6)) for r in img[:, 2]}) == len(layers)
    row = {name: k for k, name in enumerate(layers)}
    for gid, col in (("write", 0), ("hold", 1)):
        faces = _collection(ax, gid).get_facecolors()
        want = np.array([img[row[name], col] for name in s.writes.layer.tolist()])
        assert np.allclose(faces, want)
    named = [t.get_text() for t in key.get_yticklabels()]
    assert named[0] == layers[0] and set(named) <= set(layers)
