"""Matplotlib figures of studies (PNG, headless)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from aras.evaluation.evaluator import ENERGY_COMPONENTS  # noqa: E402
from aras.methods.configs import CONFIGS  # noqa: E402
from aras.model.files import atomic_path  # noqa: E402


def _save(fig: Any, path: Path) -> Path:
    """Lay out, write atomically (a run cut short leaves no half-written PNG) and close."""
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path


def _grouped(ax: Any, nets: list[str], series: dict[str, list[float]], ylabel: str) -> list[Any]:
    width = 0.8 / max(1, len(series))
    x = np.arange(len(nets))
    bars = []
    for i, (label, vals) in enumerate(series.items()):
        bars.append(ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=label))
    ax.set_xticks(x, nets, rotation=20)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    return bars


def _legend(ax: Any) -> None:
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _power_of_ten(v: float) -> str:
    """1e10 as mathtext 10^10 (other values as they are)."""
    e = math.log10(v)
    return f"$10^{{{e:.0f}}}$" if e == int(e) else f"{v:g}"


def _years(v: float) -> str:
    return "∞" if not math.isfinite(v) else f"{v:.2g}" if v < 10 else f"{v:.0f}"


def paper_plots(rows: list[dict[str, Any]], out: Path,
                endurance: tuple[float, float] = (1e10, 1e12)) -> list[Path]:
    """Speedup, share of write bound, energy breakdown, pulses, extra weights, lifespan.

    ``endurance`` is the pair of cell endurances (write cycles) of the real-time and the
    maximum-throughput lifespans, named in the lifespan plot's legend.
    """
    nets = list(dict.fromkeys(r["network"] for r in rows))
    by = {(r["network"], r["config"]): r for r in rows}
    cfgs = list(CONFIGS)
    labels = {c: CONFIGS[c].label for c in cfgs}
    paths = []

    def save(fig: Any, name: str) -> None:
        paths.append(_save(fig, out / name))

    def bars(series: dict[str, list[float]], ylabel: str, title: str,
             lines: tuple[tuple[float, str], ...] = (), log: bool = False,
             values: str | None = None) -> Any:
        fig, ax = plt.subplots(figsize=(8, 4))
        drawn = _grouped(ax, nets, series, ylabel)
        for (y, label), style in zip(lines, ("--", ":"), strict=False):
            ax.axhline(y, ls=style, c="gray", lw=1, label=label)
        if log:
            ax.set_yscale("log")
        if values is not None:
            for b in drawn:
                ax.bar_label(b, fmt=values, fontsize=7, padding=1)
        ax.set_title(title)
        _legend(ax)
        return fig, ax

    def per_config(key: str) -> dict[str, list[float]]:
        return {labels[c]: [by[n, c][key] for n in nets] for c in cfgs}

    save(bars(per_config("speedup"), "speedup over Base",
              "Speedup over Base (paper: up to 2.2x, CNNs only)")[0], "speedup.png")
    save(bars(per_config("bound_fraction"), "write bound / makespan",
              "Share of the write bound reached",
              lines=((0.66, "paper mean, Base (66%)"), (0.88, "paper mean, ARAS (88%)")))[0],
         "write_bound.png")

    # Energy: one stacked bar per configuration, grouped by network; the configurations
    # under their bars, the network under its group.
    comps = ENERGY_COMPONENTS
    fig, ax = plt.subplots(figsize=(10, 4.8))
    x0 = 0.0
    ticks, ticklabels, centres = [], [], []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n in nets:
        base = by[n, "base"]["energy_total_j"]
        for j, c in enumerate(cfgs):
            bottom = 0.0
            for k, comp in enumerate(comps):
                v = by[n, c][f"energy_{comp}_j"] / base
                ax.bar(x0 + j, v, 0.8, bottom=bottom, color=colors[k],
                       label=comp.replace("_", " ") if (n == nets[0] and j == 0) else None)
                bottom += v
            ticks.append(x0 + j)
            ticklabels.append(labels[c])
        centres.append(x0 + (len(cfgs) - 1) / 2)
        x0 += len(cfgs) + 1
    ax.set_xticks(ticks, ticklabels, fontsize=7, rotation=90)
    ax.set_xlim(-0.8, x0 - 1.2)
    for n, cx in zip(nets, centres, strict=True):
        ax.annotate(n, (cx, 0), xycoords=("data", "axes fraction"), xytext=(0, -52),
                    textcoords="offset points", ha="center", va="top", fontsize=10)
    ax.set_ylabel("energy / Base")
    ax.set_title("Energy breakdown normalised to Base")
    ax.grid(axis="y", alpha=0.3)
    _legend(ax)
    save(fig, "energy.png")

    save(bars(per_config("pulses_norm"), "write pulses / Base",
              "Write pulses normalised to Base (paper: reuse -17%)")[0], "pulses.png")
    save(bars({"+Bank+Repl": [by[n, "bank-repl"]["extra_weights"] * 100 for n in nets]},
              "extra weights written (%)",
              "Extra weights written by replication (paper: 6.4% on average)",
              lines=((6.4, "paper mean (6.4%)"),), values="%.1f%%")[0], "extra_weights.png")

    # Lifespan: the real-time rate of each network under its name, each bar's endurance in
    # the legend, the value on each bar.
    rates = [by[n, "all"].get("realtime_inf_s") for n in nets]
    fig, ax = bars({f"real time, endurance {_power_of_ten(endurance[0])} write cycles":
                    [by[n, "all"]["lifespan_realtime_years"] for n in nets],
                    f"maximum throughput, endurance {_power_of_ten(endurance[1])} write cycles":
                    [by[n, "all"]["lifespan_max_years"] for n in nets]},
                   "years (log scale)", "Lifespan of +All", log=True)
    for cont in ax.containers:
        ax.bar_label(cont, labels=[_years(v) for v in cont.datavalues], fontsize=7, padding=1)
    finite = [v for cont in ax.containers for v in cont.datavalues if math.isfinite(v) and v > 0]
    if finite:
        ax.set_ylim(top=max(finite) * 3)  # room for the value over the tallest bar
    ax.set_xticks(range(len(nets)), [n if not r else f"{n}\nreal time {r:g} inf/s"
                                     for n, r in zip(nets, rates, strict=True)],
                  rotation=0, fontsize=8)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    save(fig, "lifespan.png")
    return paths


def tpu_plots(trows: list[dict[str, Any]], out: Path, paper: dict[str, Any]) -> list[Path]:
    """Figs. 16 and 17: speedup and normalised energy of ARAS (+All) over the TPU-like model.

    ``trows`` are :func:`aras.studies.paper.tpu_rows`; ``paper`` holds the paper's
    ``tpu_max_speedup``, ``tpu_max_saving`` and ``tpu_mean_saving``.
    """
    nets = [r["network"] for r in trows]
    paths = []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]

    def save(fig: Any, name: str) -> None:
        paths.append(_save(fig, out / name))

    fig, ax = plt.subplots(figsize=(8, 4))
    vals = [r["speedup"] for r in trows]
    drawn = _grouped(ax, nets, {"ARAS (+All) over TPU-like": vals}, "speedup (TPU latency / ARAS)")
    for b in drawn:
        ax.bar_label(b, fmt="%.2fx", fontsize=8, padding=1)
    ax.axhline(1.0, c="black", lw=0.8)
    ax.axhline(paper["tpu_max_speedup"], ls="--", c="gray", lw=1,
               label=f"paper: up to {paper['tpu_max_speedup']}x")
    ax.set_ylim(0, max(vals + [paper["tpu_max_speedup"]]) * 1.2)
    ax.set_title("Fig. 16: speedup of ARAS (+All) over the TPU-like accelerator")
    _legend(ax)
    save(fig, "tpu_speedup.png")

    fig, ax = plt.subplots(figsize=(8, 4))
    vals = [r["energy_norm"] for r in trows]
    drawn = _grouped(ax, nets, {"ARAS (+All) / TPU-like": vals}, "energy, normalised to TPU-like")
    for b in drawn:
        ax.bar_label(b, fmt="%.2f", fontsize=8, padding=1)
    ax.axhline(1.0, c="black", lw=0.8)
    mean, best = paper["tpu_mean_saving"], paper["tpu_max_saving"]
    ax.axhline(1 - mean, ls="--", c="gray", lw=1, label=f"paper mean ({1 - mean:.2f}: -{mean:.0%})")
    ax.axhline(1 - best, ls=":", c=colors[3], lw=1,
               label=f"paper best ({1 - best:.2f}: -{best:.0%})")
    ax.set_ylim(0, max(vals + [1.0]) * 1.2)
    ax.set_title("Fig. 17: energy of ARAS (+All) normalised to the TPU-like accelerator")
    _legend(ax)
    save(fig, "tpu_energy.png")
    return paths
