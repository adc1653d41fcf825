"""Wear per APU row in the report, the Gantt chart and the trace; failed APU rows in the
hardware file, respected by every method and checked by the evaluator."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation.evaluator import evaluate
from aras.evaluation.wear import row_writes
from aras.methods.solve import solve
from aras.model.errors import InputError
from aras.model.hardware import Hardware, aras_hardware
from aras.model.mapping import map_network
from aras.model.network import NetworkBuilder
from aras.model.weights import synthetic_stats
from tests.helpers import cli_inprocess as run_cli
from tests.helpers import small_hardware, small_networks, tiny_hardware, tiny_network

HEURISTICS = ("naive", "baseline", "greedy-replication", "aras", "jit")


def _chain(n: int = 4, c: int = 200) -> NetworkBuilder:
    """A chain of 1x1 convolutions of c channels on 6x6 inputs: 2x2 APU rows each."""
    b = NetworkBuilder("chain", {"x": (c, 6, 6)})
    x = "x"
    for i in range(n):
        x = b.conv(f"c{i}", x, c, c, 1)
    return b


def _hw(**kw: object) -> Hardware:
    base: dict[str, object] = dict(name="small", pes=3, apu_rows_per_pe=4, apus_per_row=1,
                                   write_latency_cycles=2000, gbuffer_banks=(1 << 16,) * 4,
                                   memory_bandwidth_bytes_s=1e13)
    base.update(kw)
    return Hardware(**base)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- failed rows

def test_failed_rows_shrink_the_usable_rows_and_round_trip(tmp_path: Path) -> None:
    hw = _hw(failed_rows=[[2, 3], [0, 1]])
    assert hw.failed_rows == ((0, 1), (2, 3))  # sorted, as tuples
    assert hw.physical_apu_rows == 12
    assert hw.total_apu_rows == 10
    assert hw.failed_row_ids == frozenset({1, 11})
    assert hw.physical_rows(list(range(10))) == [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    path = tmp_path / "hw.toml"
    hw.save(path)
    assert "failed_rows = [[0, 1], [2, 3]]" in path.read_text()
    assert Hardware.load(path) == hw
    # a sound chip writes no failed_rows key: its files are the paper setting's
    assert "failed_rows" not in aras_hardware().to_dict()
    assert Hardware.from_dict(hw.to_dict()) == hw


@pytest.mark.parametrize(("rows", "message"), [
    ([[3, 0]], "hardware.failed_rows[0]: [3, 0] is outside the 3 PEs x 4 rows"),
    ([[0, 0], [1, -1]], "hardware.failed_rows[1]: [1, -1] is outside the 3 PEs x 4 rows"),
    ([[0, 2], [1, 1], [0, 2]], "hardware.failed_rows[2]: [0, 2] is listed twice"),
    ([[0, 1, 2]], "hardware.failed_rows[0]: must be a pair of integers"),
    ([[0, True]], "hardware.failed_rows[0]: must be a pair of integers"),
    ("0,1", "hardware.failed_rows: must be a list of [pe, row] pairs"),
    ([[p, r] for p in range(3) for r in range(4)], "hardware.failed_rows: all 12 APU rows"),
])
def test_bad_failed_rows_are_one_line_errors(rows: object, message: str) -> None:
    with pytest.raises(InputError) as e:
        _hw(failed_rows=rows)
    assert str(e.value).startswith(message)
    assert "\n" not in str(e.value)


def test_bad_failed_rows_exit_2_at_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "hw.toml"
    path.write_text("failed_rows = [[0, 0], [96, 1]]\n")
    r = run_cli("solve", "resnet50", "-m", "aras", "-H", str(path))
    assert r.returncode == 2
    assert "failed_rows[1]: [96, 1] is outside the 96 PEs x 6 rows" in r.stderr
    path.write_text("failed_rows = [[4, 2], [4, 2]]\n")
    r = run_cli("bound", "vgg16", "-H", str(path))
    assert r.returncode == 2
    assert "failed_rows[1]: [4, 2] is listed twice" in r.stderr


@pytest.mark.parametrize("method", [*HEURISTICS, "milp"])
def test_every_method_keeps_off_the_failed_rows(method: str) -> None:
    failed = [[0, 0], [1, 2], [2, 3]]
    hw = _hw(failed_rows=failed)
    p = map_network(_chain().build(), hw)
    assert p.total_apu_rows == 9
    opts = {"time_limit": 5} if method == "milp" else {}
    res = solve(p, method, **opts)
    assert res.report.valid, res.report.violations
    w = res.schedule.writes
    used = set(zip(w.pe.tolist(), w.row.tolist(), strict=True))
    assert not used & {tuple(x) for x in failed}
    # never more rows held at once than the usable ones: the methods count 9, not 12
    assert len(used) <= 9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(net=small_networks(), hw=small_hardware(), data=st.data())
def test_random_failed_rows_valid_schedules_on_the_rest(net: object, hw: Hardware,
                                                        data: st.DataObject) -> None:
    n = hw.physical_apu_rows
    dead = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1))
    per = hw.apu_rows_per_pe
    hw = hw.replace(failed_rows=tuple(divmod(r, per) for r in dead))
    try:
        p = map_network(net, hw)  # type: ignore[arg-type]
    except InputError:
        return  # (a network too large for the few rows left: mapping says so)
    for m in HEURISTICS:
        # the time limit only bounds jit's search, whose validity is what is checked here
        res = solve(p, m, time_limit=4)
        assert res.report.valid, (m, res.report.violations)
        rid = res.schedule.writes.pe * per + res.schedule.writes.row
        assert not set(rid.tolist()) & dead, m


def test_the_evaluator_rejects_a_write_on_a_failed_row() -> None:
    hw = tiny_hardware()
    p = map_network(tiny_network(), hw)
    sched = solve(p, "baseline").schedule
    w = sched.writes
    assert set(w.row.tolist()) == {0, 1}
    broken = map_network(tiny_network(), dataclasses.replace(hw, failed_rows=((0, 1),)))
    rep = evaluate(broken, sched)
    assert not rep.valid
    r7 = [str(v) for v in rep.violations if v.rule == "R7"]
    j = int(np.flatnonzero(w.row == 1)[0])
    assert r7[0] == f"R7: writes[{j}] {w.layer[j]}/0: (pe 0, row 1) is a failed row"
    assert len(r7) == int((w.row == 1).sum())


def test_a_recurrent_layer_the_remaining_rows_cannot_hold_is_named() -> None:
    b = NetworkBuilder("rnn", {"x": (16, 32)})
    b.recurrent("lstm", "x", "lstm", 32, 128)  # recurrent matrix 128 x 512: 4 APU rows
    net = b.build()
    hw = _hw(pes=2, apu_rows_per_pe=3, apus_per_row=4)
    assert map_network(net, hw).by_key[("lstm", 0)].apu_rows == 4
    with pytest.raises(InputError, match="recurrent layer 'lstm' needs 4 APU rows, more than "
                                         "the 3 of the accelerator \\(3 failed\\); a "
                                         "recurrent matrix must fit at once"):
        map_network(net, hw.replace(failed_rows=((0, 0), (1, 1), (1, 2))))


# ----------------------------------------------------------------------------- wear per row

def test_wear_per_row_in_the_report() -> None:
    hw = _hw(failed_rows=[[1, 0]])
    p = map_network(_chain(6).build(), hw)
    sched = solve(p, "baseline").schedule
    rep = evaluate(p, sched)
    counts = np.zeros(12)
    for pe, row in zip(sched.writes.pe.tolist(), sched.writes.row.tolist(), strict=True):
        counts[pe * 4 + row] += 1
    alive = np.delete(counts, 4)
    assert (rep.row_writes_min, rep.row_writes_mean, rep.row_writes_max) == (
        alive.min(), alive.mean(), alive.max())
    assert rep.row_writes_max == rep.max_cell_writes
    assert rep.rows is not None
    assert np.array_equal(rep.rows.writes, counts)
    # level steps per row add up to the evaluator's total, in both pulse models
    assert rep.rows.level_steps is not None
    assert rep.rows.level_steps.sum() == pytest.approx(rep.level_steps)
    assert rep.rows.level_steps[4] == 0
    steps = np.delete(rep.rows.level_steps, 4)
    assert rep.row_level_steps_max == pytest.approx(steps.max())
    assert rep.row_level_steps_min == pytest.approx(steps.min())
    codes = {o.name: np.random.default_rng(i).integers(0, 256, o.matrix)
             for i, o in enumerate(p.network.weighted_ops)}
    exact = evaluate(p, sched, weights=codes)
    assert exact.pulse_model == "weights"
    assert exact.rows is not None and exact.rows.level_steps is not None
    assert exact.rows.level_steps.sum() == exact.level_steps
    d = rep.to_dict()
    assert "rows" not in d and d["row_writes_mean"] == alive.mean()
    json.dumps(d)


def test_wear_per_inference_at_a_batch() -> None:
    hw = _hw()
    p1 = map_network(_chain().build(), hw)
    p4 = map_network(_chain().build(), hw, batch=4)
    r1, r4 = solve(p1, "aras").report, solve(p4, "aras").report
    assert r4.row_writes_max * 4 == pytest.approx(
        row_writes(p4, solve(p4, "aras").schedule).max())
    assert r1.row_writes_max >= r4.row_writes_max


def test_wear_in_the_cli_card(tmp_path: Path) -> None:
    r = run_cli("solve", "resnet50", "-m", "aras", "--json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    p = map_network(__import__("aras").load_network("resnet50"), aras_hardware())
    w = row_writes(p, solve(p, "aras").schedule)
    assert (d["row_writes_min"], d["row_writes_max"]) == (w.min(), w.max())
    assert d["row_writes_mean"] == pytest.approx(w.mean())
    r = run_cli("solve", "resnet50", "-m", "aras")
    line = next(x for x in r.stdout.splitlines() if x.startswith("writes per APU row"))
    assert f"{w.min():.4g} / {w.mean():.4g} / {w.max():.4g} per inference" in line


def test_gantt_and_trace_colour_rows_by_wear(tmp_path: Path) -> None:
    from matplotlib import colormaps

    from aras.views.gantt import GIDS, gantt
    from aras.views.trace import chrome_trace

    hw = _hw(failed_rows=[[0, 2]])
    p = map_network(_chain(6).build(), hw)
    sched = solve(p, "baseline").schedule
    per_row = row_writes(p, sched)
    fig = gantt(sched, p, colour_by="wear")
    ax = fig.axes[0]
    write = next(c for c in ax.collections if c.get_gid() == GIDS["write"])
    failed = next(c for c in ax.collections if c.get_gid() == GIDS["failed"])
    assert len(failed.get_paths()) == 1
    # the most-written row's writes in the map's top colour (darkened while writing)
    top = np.array(colormaps["viridis"](1.0))
    faces = write.get_facecolors()
    rid = sched.writes.pe * 4 + sched.writes.row
    j = int(np.flatnonzero(rid == int(per_row.argmax()))[0])
    assert np.allclose(faces[j][:3], top[:3] * 0.65)
    with pytest.raises(InputError, match="colour_by"):
        gantt(sched, p, colour_by="heat")
    doc = chrome_trace(sched, p, wear=True)
    rows = [e for e in doc["traceEvents"] if e.get("pid") == 2 and e["ph"] == "X"]
    for e in rows:
        share = per_row[e["tid"]] / per_row.max()
        assert e["args"]["row_writes"] == per_row[e["tid"]]
        assert e["cname"] == ("good" if share <= 0.25 else "yellow" if share <= 0.5
                              else "bad" if share <= 0.75 else "terrible")
    assert all("cname" not in e for e in chrome_trace(sched, p)["traceEvents"])
    path = tmp_path / "s.json"
    sched.save(path)
    p.network.save(tmp_path / "chain.json")
    r = run_cli("plot", str(path), "--colour-by", "wear", "-o", str(tmp_path / "g.png"),
                "--network", str(tmp_path / "chain.json"), "-H", str(_save_hw(hw, tmp_path)))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g.png").stat().st_size > 0
    r = run_cli("plot", str(path), "--colour-by", "rows")
    assert r.returncode == 2 and "--colour-by" in r.stderr


def _save_hw(hw: Hardware, tmp_path: Path) -> Path:
    path = tmp_path / "hw.toml"
    hw.save(path)
    return path


def test_statistical_wear_per_row_is_seeded() -> None:
    p = map_network(_chain().build(), _hw())
    sched = solve(p, "aras").schedule
    a = evaluate(p, sched, stats=synthetic_stats([o.name for o in p.network.weighted_ops], 3))
    b = evaluate(p, sched, stats=synthetic_stats([o.name for o in p.network.weighted_ops], 3))
    assert a.rows is not None and b.rows is not None and a.rows.level_steps is not None
    assert np.array_equal(a.rows.level_steps, b.rows.level_steps)


# ----------------------------------------------------------------------------- rotation

def test_rotation_every_inference_valid_and_rows_even_over_the_cycle() -> None:
    from aras.methods.wear import rotate, rotation

    hw = _hw(failed_rows=[[1, 1]])
    p = map_network(_chain(7).build(), hw)
    sched = solve(p, "baseline").schedule
    n = p.total_apu_rows
    assert n == 11
    for shift, cycle in ((1, 11), (3, 11), (0, 1)):
        r = rotation(p, sched, shift)
        assert r.valid and r.cycle == cycle
        # the cycle's writes per physical row, from the rotated schedules themselves
        total = sum(row_writes(p, rotate(p, sched, (i * shift) % n)) for i in range(cycle))
        assert total[5] == 0  # the failed row (pe 1, row 1) is never written
        assert r.rotated_max_row_writes == pytest.approx(total.max() / cycle)
        assert r.fixed_max_row_writes == row_writes(p, sched).max()
        assert r.lifespan_ratio == pytest.approx(r.fixed_max_row_writes
                                                 / r.rotated_max_row_writes)
        years = hw.cell_endurance_cycles / (r.rotated_max_row_writes * 30) / (365.25 * 86400)
        assert r.lifespan_rotated_years == pytest.approx(years)
    # a shift coprime to the rows: every row carries the mean
    r = rotation(p, sched, 4)
    assert r.rotated_max_row_writes == pytest.approx(len(sched.writes) / n)
    assert rotation(p, sched, 0).write_energy_rotated_j == pytest.approx(
        evaluate(p, sched).energy.rram_write)
    with pytest.raises(InputError, match=r"shift: must be in 0\.\.10"):
        rotation(p, sched, 11)


def test_rotation_a_rule_breaking_inference_is_reported() -> None:
    from aras.methods.wear import rotation

    p = map_network(_chain(3).build(), _hw())
    sched = solve(p, "naive").schedule  # every part on the lowest rows

    def not_on_pe_2(problem: object, schedule: object) -> list[str]:
        w = schedule.writes  # type: ignore[attr-defined]
        return [f"writes[{j}] on pe 2" for j in np.flatnonzero(w.pe == 2)[:1].tolist()]

    assert set(sched.writes.pe.tolist()) <= {0, 1}
    r = rotation(p, sched, 1, rules=[not_on_pe_2])
    assert not r.valid
    first = int(r.violations[0].split(":")[0].removeprefix("inference "))
    # the highest row used reaches pe 2 (rows 8..11) first, at inference 8 - that row
    used = int((sched.writes.pe * 4 + sched.writes.row).max())
    assert first == 8 - used


def test_rotation_write_energy_of_two_rows_swapping() -> None:
    from aras.methods.wear import rotation
    from aras.model.weights import normal_pmf, pair_costs

    hw = tiny_hardware()
    p = map_network(tiny_network(), hw)
    sched = solve(p, "baseline").schedule
    assert sorted(sched.writes.row.tolist()) == [0, 1]  # c1 and c2 each on a row of its own
    fixed = evaluate(p, sched)
    assert fixed.level_steps == 0  # every row rewrites its own tile
    st = synthetic_stats(["c1", "c2"], 0)
    pm = [normal_pmf(st[n].mean, st[n].std) for n in ("c1", "c2")]
    cost, _ = pair_costs(pm, hw)
    used = 4 * 8  # 1x1 convs: 4 input rows x 8 kernels (c1), 8 x 8 (c2)
    steps = cost[1, 0] * used + cost[0, 1] * 8 * 8
    r = rotation(p, sched, 1)
    assert r.cycle == 2 and r.valid
    assert r.write_energy_fixed_j == 0
    assert r.write_energy_rotated_j == pytest.approx(
        steps * hw.pulses_per_level_step * hw.write_energy_per_pulse_j)


def test_rotate_at_the_cli(tmp_path: Path) -> None:
    r = run_cli("solve", "resnet50", "-m", "aras", "--rotate", "1", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)["rotation"]
    assert d["cycle"] == 576 and d["valid"]
    assert d["rotated_max_row_writes"] == pytest.approx(d["mean_row_writes"])
    r = run_cli("solve", "resnet50", "-m", "aras", "--rotate", "576")
    assert r.returncode == 2 and "--rotate: must be in 0..575" in r.stderr
    r = run_cli("solve", "resnet50", "--steady-state", "--rotate", "1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1


def test_row_wear_measure_is_the_rotated_most_written_row() -> None:
    from aras.methods.wear import rotation

    p = map_network(_chain(5).build(), _hw())
    res = solve(p, "milp", time_limit=5, objective="makespan > row_wear")
    assert res.schedule is not None and res.report is not None and res.report.valid
    N = p.hardware.total_apu_rows
    rot = rotation(p, res.schedule, 1, cost=False)
    # over a full rotation every physical row hosts every logical row once: its writes per
    # inference are the schedule's writes over the rows, which is the measure's figure
    assert rot.rotated_max_row_writes == pytest.approx(len(res.schedule.writes) / N)
    from formulations.objectives import MEASURES

    wear = MEASURES["row_wear"]
    assert wear.evaluate(p, res.schedule, res.report) == len(res.schedule.writes) / N
    assert wear.bound(p, res.bounds) == sum(s.apu_rows for s in p.weighted_steps) / N
