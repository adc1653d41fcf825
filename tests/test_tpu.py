"""The TPU-like accelerator (issue 11): SCALE-Sim cycles against the closed form, energy sums,
``aras tpu`` and the Figs. 16-17 views.

The closed form, derived here for a weight-stationary array of R rows and C columns computing
an (M x K) by (K x N) product (for a convolution M is the output pixels, K the window
kh * kw * C_in and N the filters): the weight matrix is cut into ceil(K / R) x ceil(N / C)
folds, computed one after the other. A fold first shifts its weights into the array, one row
a cycle: R cycles. Then M input vectors stream in, skewed by one cycle per row: the last one
enters row 0 at cycle M - 1, reaches row R - 1 R - 1 cycles later, and its sum leaves the
last column C - 1 cycles after that, so the fold ends after M + R + C - 2 cycles. A fold takes
2R + C + M - 2 cycles; without stalls the layer takes folds x that.
"""

from __future__ import annotations

import json
import math
import sys

import pytest

from aras.evaluation import tpu as T
from aras.model.network import NetworkBuilder
from tests.helpers import cli_inprocess as run_cli

R = C = 16  # a small array keeps SCALE-Sim's cycle-by-cycle run short


def closed_form(m: int, k: int, n: int, rows: int = R, cols: int = C) -> int:
    folds = math.ceil(k / rows) * math.ceil(n / cols)
    return folds * (2 * rows + cols + m - 2)


@pytest.fixture
def cfg() -> T.TpuConfig:
    return T.TpuConfig(array_rows=R, array_cols=C)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv(T.CACHE_ENV, str(tmp_path / "cache"))


def _scalesim() -> None:
    pytest.importorskip("scalesim")


def test_gemm_cycles_match_the_closed_form(cfg):
    _scalesim()
    m, k, n = 40, 50, 35
    r = T.run_scalesim(("gemm", m, k, n), cfg)
    assert r["stall_cycles"] == 0
    assert r["cycles"] == closed_form(m, k, n) == 12 * 86
    assert r["scalesim_total_cycles"] == closed_form(m, k, n) - 1  # the last cycle's index
    assert r["filter_dram_reads"] == k * n and r["ifmap_dram_reads"] == m * k


def test_strided_conv_cycles_match_the_closed_form(cfg):
    _scalesim()
    # 11 x 11 x 6 input, 3 x 3 kernel, stride 2, 20 filters: 5 x 5 outputs, window 54.
    r = T.run_scalesim(("conv", 11, 11, 3, 3, 6, 20, 2), cfg)
    m, k, n = 25, 3 * 3 * 6, 20
    assert r["cycles"] == closed_form(m, k, n) == 8 * 71
    assert r["ifmap_dram_reads"] == 11 * 11 * 6  # a convolution reads its input once


def _net():
    b = NetworkBuilder("tpu-tiny", {"x": (6, 10, 10)})
    y = b.conv("c1", "x", 6, 20, 3, padding=1)          # 10 x 10 out, K 54, N 20
    y = b.pool("p", y, 2, 2)                           # weightless: no systolic work
    y = b.add("flat", "linear", [y], in_features=20 * 25, out_features=37)
    return b.build()


def test_network_blocks_add_up_to_the_whole_layers_and_energy_sums(cfg, tmp_path):
    _scalesim()
    rep = T.tpu_cost(_net(), cfg)
    c1, fc = rep.layers
    assert c1["compute_cycles"] == closed_form(100, 54, 20)  # split into 16 + 4 filters
    assert fc["compute_cycles"] == closed_form(1, 500, 37)
    assert rep.compute_cycles == c1["compute_cycles"] + fc["compute_cycles"]
    assert rep.skipped == {"pool": 1}
    for lay in rep.layers:
        assert lay["cycles"] == max(lay["compute_cycles"], lay["dram_cycles"])
        assert lay["energy_j"]["mac"] == pytest.approx(lay["macs"] * cfg.mac_energy_j)
    e = rep.energy
    assert e["total"] == pytest.approx(sum(e[k] for k in T.ENERGY_PARTS))
    for k in T.ENERGY_PARTS:
        assert e[k] == pytest.approx(sum(lay["energy_j"][k] for lay in rep.layers))
    assert e["static"] == pytest.approx(cfg.sram_leakage_w_per_byte * cfg.buffer_bytes
                                        * rep.latency_s)
    assert e["dram"] == pytest.approx(sum(lay["dram_bytes"] for lay in rep.layers)
                                      * cfg.dram_energy_j_per_byte)
    again = T.tpu_cost(_net(), cfg)  # every shape from the cache now
    assert again.simulated == 0 and again.cached == rep.simulated + rep.cached
    assert again.cycles == rep.cycles and again.energy == rep.energy


def test_cli_tpu_json_and_table(tmp_path):
    _scalesim()
    f = tmp_path / "tiny.json"
    _net().save(f)
    r = run_cli("tpu", str(f), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert set(d["energy_j"]) == {"mac", "sram", "dram", "static", "total"}
    assert d["latency_s"] == pytest.approx(d["cycles"] / 1e9)
    assert d["throughput_inf_s"] == pytest.approx(1 / d["latency_s"])
    t = run_cli("tpu", str(f))
    assert t.returncode == 0
    assert "latency (ms)" in t.stdout and "energy static (mJ)" in t.stdout
    assert max(len(line) for line in t.stdout.splitlines()) <= 80


def test_cli_tpu_bad_input_and_missing_scalesim(monkeypatch):
    r = run_cli("tpu", "no-such-network")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    monkeypatch.setitem(sys.modules, "scalesim", None)  # import scalesim now fails
    r = run_cli("tpu", "resnet50")
    assert r.returncode == 2
    assert r.stderr.strip() == 'error: SCALE-Sim is not installed: pip install "aras[tpu]"'
    assert not T.available()


def test_figures_16_17_and_summary(tmp_path):
    from aras.studies.paper import PAPER, tpu_markdown
    from aras.views.plots import tpu_plots

    rows = [{"network": n, "speedup": s, "energy_norm": e, "tpu_latency_s": 1e-3,
             "aras_latency_s": 1e-3 / s, "tpu_energy_total_j": 1e-3,
             "aras_energy_total_j": e * 1e-3, **{f"tpu_energy_{k}_j": 2.5e-4
                                                   for k in T.ENERGY_PARTS}}
            for n, s, e in (("a", 0.8, 0.7), ("b", 1.3, 0.9))]
    paths = tpu_plots(rows, tmp_path, PAPER)
    assert [p.name for p in paths] == ["tpu_speedup.png", "tpu_energy.png"]
    assert all(p.stat().st_size > 1000 for p in paths)
    md = tpu_markdown(rows)
    assert "1.30x / 1.05x" in md and "saving max 30%, mean 20%" in md
    assert "Skipped: why" in tpu_markdown(None, "why")
