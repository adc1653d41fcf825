"""The figures of `aras paper` and `aras study report`: what a reader needs is on them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure

from aras.methods.configs import CONFIGS
from aras.studies.report import plots
from aras.views.plots import paper_plots


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> dict[str, Figure]:
    """Every figure saved, by file name (saved as usual, kept for inspection)."""
    got: dict[str, Figure] = {}
    real = Figure.savefig

    def keep(self: Figure, fname: Any, *a: Any, **kw: Any) -> None:
        # Figures are written atomically: ".NAME.PID.tmp.SUFFIX" renamed over NAME.
        name = Path(fname).name
        m = re.fullmatch(r"\.(.+)\.\d+\.tmp\.[^.]+", name)
        got[m.group(1) if m else name] = self
        real(self, fname, *a, **kw)

    monkeypatch.setattr(Figure, "savefig", keep)
    return got


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(match=lambda a: hasattr(a, "get_text"))]


def _paper_rows() -> list[dict[str, Any]]:
    rows = []
    for k, net in enumerate(["vgg16", "resnet50", "bert-base"]):
        for j, c in enumerate(CONFIGS):
            e = 1.0 - 0.05 * j
            rows.append({"network": net, "config": c, "speedup": 1 + 0.3 * j,
                         "bound_fraction": 0.5 + 0.1 * j, "pulses_norm": 1 - 0.02 * j,
                         "extra_weights": 0.01 * j, "energy_total_j": e,
                         **{f"energy_{x}_j": e / 5 for x in ("rram_write", "gbuffer_static",
                                                             "gbuffer_dynamic", "dram",
                                                             "compute")},
                         "realtime_inf_s": 30.0 if k < 2 else 100.0,
                         "lifespan_realtime_years": 0.5 + k, "lifespan_max_years": 25.0 + k})
    return rows


def test_paper_figures_name_endurance_and_networks(tmp_path, saved):
    paper_plots(_paper_rows(), tmp_path, endurance=(1e10, 1e12))
    life = saved["lifespan.png"].axes[0]
    legend = [t.get_text() for t in life.get_legend().get_texts()]
    assert any("real time" in t and "10^{10}" in t for t in legend), legend
    assert any("maximum throughput" in t and "10^{12}" in t for t in legend), legend
    assert life.get_yscale() == "log"
    ticks = [t.get_text() for t in life.get_xticklabels()]
    assert "vgg16\nreal time 30 inf/s" in ticks and "bert-base\nreal time 100 inf/s" in ticks
    # every bar carries its value
    assert {"0.5", "1.5", "25", "27"} <= set(_texts(saved["lifespan.png"]))
    # energy: each network named once under its group, in a readable size
    energy = saved["energy.png"]
    names = [t for t in energy.axes[0].texts if t.get_text() in ("vgg16", "resnet50",
                                                                 "bert-base")]
    assert sorted(t.get_text() for t in names) == ["bert-base", "resnet50", "vgg16"]
    assert all(t.get_fontsize() >= 9 for t in names)
    assert not any("\n" in t.get_text() for t in energy.axes[0].get_xticklabels())


def _records() -> list[dict[str, Any]]:
    recs = []
    sizes = {"resnet50": 25_502_912, "densenet161": 28_460_064, "bert-base": 84_936_192}
    for net, w in sizes.items():
        for k, (m, ratio) in enumerate([("naive", 23.6), ("aras", 1.3), ("milp", 1.0)]):
            lb = 1_000_000
            recs.append({"task": f"{net}/base/{m}", "network": net, "hardware": "base",
                         "method": m, "status": "feasible", "seed": 0,
                         "time_limit": 60.0 if m == "milp" else None,
                         "makespan_cycles": int(lb * ratio), "latency_s": lb * ratio / 1e9,
                         "lower_bound_cycles": lb, "runtime_s": 0.01 * 10 ** k,
                         "size": {"weights": w, "apu_rows": w // 16_000},
                         "resources": {"total_apu_rows": 576}})
    recs.append({"task": "bert-base/base/jit", "network": "bert-base", "hardware": "base",
                 "method": "jit", "status": "failed", "error": "InputError: no"})
    return recs


def test_study_figures_log_gap_and_named_points(tmp_path, saved):
    plots(_records(), tmp_path)
    gap = saved["gap_per_method.png"]
    ax = gap.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo <= 0.1 and hi >= 2260        # naive's 2260% and the MILP's 0% both on it
    texts = _texts(gap)
    assert "2260%" in texts and "30%" in texts and "0" in texts and "x" in texts
    legend = [t.get_text() for t in gap.legends[0].get_texts()]
    assert {"naive", "aras", "milp", "no valid schedule", "gap 0 (optimal)"} <= set(legend)
    rt = saved["runtime_vs_size.png"]
    ax = rt.axes[0]
    assert not [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    top = ax.child_axes                    # the secondary axis on top
    assert top and {t.get_text() for t in top[0].get_xticklabels()} == {
        "resnet50", "densenet161", "bert-base"}
    markers = {c.get_paths()[0].vertices.tobytes() for c in ax.collections}
    assert len(markers) == 3               # one marker shape per method
    mk = saved["makespan_vs_resources.png"].axes[0]   # no sweep: latency against fills
    assert {t.get_text() for t in mk.child_axes[0].get_xticklabels()} == {
        "resnet50", "densenet161", "bert-base"}
    assert not [t.get_text() for t in mk.get_xticklabels(minor=True) if t.get_text()]
