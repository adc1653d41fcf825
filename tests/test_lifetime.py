"""aras lifetime: endurance draw, the life of a device under each scenario, CSV and plot."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from aras.evaluation.evaluator import SECONDS_PER_YEAR
from aras.methods.solve import solve
from aras.model.errors import InputError
from aras.model.hardware import Hardware
from aras.model.mapping import map_network
from aras.model.network import NetworkBuilder
from aras.studies.lifetime import CSV_FIELDS, lifetime, row_endurance
from tests.helpers import cli_inprocess as run_cli


def _net() -> NetworkBuilder:
    b = NetworkBuilder("chain", {"x": (200, 6, 6)})
    x = "x"
    for i in range(5):
        x = b.conv(f"c{i}", x, 200, 200, 1)
    return b


def _hw(**kw: object) -> Hardware:
    base: dict[str, object] = dict(name="small", pes=4, apu_rows_per_pe=4, apus_per_row=1,
                                   write_latency_cycles=2000, gbuffer_banks=(1 << 16,) * 4,
                                   memory_bandwidth_bytes_s=1e13, cell_endurance_cycles=1e6)
    base.update(kw)
    return Hardware(**base)  # type: ignore[arg-type]


def test_row_endurance_is_the_weakest_cell_of_a_seeded_lognormal() -> None:
    hw = _hw(pes=64, apu_rows_per_pe=64)  # 4096 rows: enough for the statistics
    one = row_endurance(hw, 3, 0.25, cells=1)
    sigma = math.sqrt(math.log1p(0.25**2))
    logs = np.log(one / 1e6)
    assert abs(np.median(logs)) < 0.02 and logs.std() == pytest.approx(sigma, rel=0.05)
    assert np.array_equal(one, row_endurance(hw, 3, 0.25, cells=1))
    assert not np.array_equal(one, row_endurance(hw, 4, 0.25, cells=1))
    # the least of n cells: P(min > x) = (1 - F(x))^n, checked at the draw's own median
    n = 1000
    low = row_endurance(hw, 3, 0.25, cells=n)
    from statistics import NormalDist
    x = float(np.median(low))
    tail = (1 - NormalDist(0, sigma).cdf(math.log(x / 1e6))) ** n
    assert tail == pytest.approx(0.5, abs=0.03)
    assert row_endurance(hw, 3, 0.0, cells=n) == pytest.approx(np.full(4096, 1e6))


def test_life_without_retirement_ends_at_the_first_failed_row() -> None:
    hw = _hw()
    net = _net().build()
    p = map_network(net, hw)
    res = solve(p, "aras")
    floor = res.report.throughput_inf_s / 2
    rows = lifetime(net, hw, seed=7, rate=10.0, floor=floor)
    # independently: the fixed binding's writes per row and the seeded endurance
    w = np.bincount(res.schedule.writes.pe * 4 + res.schedule.writes.row, minlength=16)
    e = row_endurance(hw, 7)
    with np.errstate(divide="ignore"):
        life = np.where(w > 0, e / (w * 10.0), np.inf).min() / SECONDS_PER_YEAR
    end = [r for r in rows if r["scenario"] == "fixed, no retire"]
    assert len(end) == 2 and end[-1]["years"] == pytest.approx(life)
    assert end[-1]["inferences"] == pytest.approx(life * SECONDS_PER_YEAR * 10)
    rot = [r for r in rows if r["scenario"] == "rotated, no retire"][-1]
    life_rot = (e / (w.mean() * 10.0)).min() / SECONDS_PER_YEAR
    assert rot["years"] == pytest.approx(life_rot)
    # retirement: rows fail one by one until the throughput is below the floor
    ret = [r for r in rows if r["scenario"] == "fixed, retire"]
    assert [r["rows_left"] for r in ret[:3]] == [16, 15, 14]
    assert ret[-1]["years"] > end[-1]["years"]
    assert ret[-1]["event"].startswith("throughput") and ret[-1]["throughput_inf_s"] < floor
    assert all(r["throughput_inf_s"] >= floor for r in ret[:-1])
    assert all(a["years"] <= b["years"] for a, b in zip(ret, ret[1:], strict=False))
    # deterministic under the seed
    assert lifetime(net, hw, seed=7, rate=10.0, floor=floor) == rows


def test_life_at_a_batch_and_a_floor_of_zero() -> None:
    hw = _hw()
    rows = lifetime(_net().build(), hw, seed=1, rate=10.0, floor=0.0, batches=(1, 4))
    b4 = [r for r in rows if r["batch"] == 4 and r["scenario"].startswith("fixed, no")]
    b1 = [r for r in rows if r["batch"] == 1 and r["scenario"].startswith("fixed, no")]
    # a batch of 4 writes its weights once per 4 inferences: 4 times the life
    assert b4[-1]["years"] == pytest.approx(4 * b1[-1]["years"])
    last = [r for r in rows if r["batch"] == 1 and r["scenario"] == "rotated, retire"][-1]
    assert last["rows_left"] == 0 and last["event"] == "every row has failed"


def test_lifetime_errors() -> None:
    with pytest.raises(InputError, match="spread: must be"):
        lifetime(_net().build(), _hw(), spread=-1)
    with pytest.raises(InputError, match="method: one of"):
        lifetime(_net().build(), _hw(), method="milp")


def test_lifetime_cli(tmp_path: Path) -> None:
    net = tmp_path / "chain.json"
    _net().build().save(net)
    hw = tmp_path / "hw.toml"
    _hw().save(hw)
    out, png = tmp_path / "life.csv", tmp_path / "life.png"
    r = run_cli("lifetime", str(net), "-H", str(hw), "--rate", "10", "--csv", str(out),
                "--plot", str(png), "--batch", "2")
    assert r.returncode == 0, r.stderr
    with out.open() as f:
        got = list(csv.DictReader(f))
    assert tuple(got[0]) == CSV_FIELDS
    assert {g["scenario"] for g in got} == {
        f"{b}, {c}{s}" for b in ("fixed", "rotated") for c in ("retire", "no retire")
        for s in ("", ", batch 2")}
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "fixed, retire" in r.stdout
    r = run_cli("lifetime", str(net), "-H", str(hw), "--spread", "-0.5", "--csv", str(out),
                "--plot", str(png))
    assert r.returncode == 2 and "--spread:" in r.stderr


def test_lifetime_time_limit_is_checked() -> None:
    # each re-solve of a searching method is limited (a life re-solves once per failed row)
    import pytest

    from aras import load_network
    from aras.model.errors import InputError
    from aras.model.hardware import load_hardware
    from aras.studies.lifetime import lifetime

    with pytest.raises(InputError, match="time_limit"):
        lifetime(load_network("vgg16"), load_hardware("aras"), method="jit", time_limit=-1)
