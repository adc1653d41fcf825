"""Matplotlib figures of studies (PNG, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from aras.evaluation.evaluator import ENERGY_COMPONENTS  # noqa: E402
from aras.methods.configs import CONFIGS  # noqa: E402
from aras.model.files import atomic_path  # noqa: E402


def _grouped(ax: Any, nets: list[str], series: dict[str, list[float]], ylabel: str) -> None:
    width = 0.8 / max(1, len(series))
    x = np.arange(len(nets))
    for i, (label, vals) in enumerate(series.items()):
        ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=label)
    ax.set_xticks(x, nets, rotation=20)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def paper_plots(rows: list[dict[str, Any]], out: Path) -> list[Path]:
    """Speedup, share of write bound, energy breakdown, pulses, extra weights, lifespan."""
    nets = list(dict.fromkeys(r["network"] for r in rows))
    by = {(r["network"], r["config"]): r for r in rows}
    cfgs = list(CONFIGS)
    labels = {c: CONFIGS[c].label for c in cfgs}
    paths = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        p = out / name
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=120)
        plt.close(fig)
        paths.append(p)

    def bars(name: str, series: dict[str, list[float]], ylabel: str, title: str,
             lines: tuple[float, ...] = (), log: bool = False) -> None:
        fig, ax = plt.subplots(figsize=(8, 4))
        _grouped(ax, nets, series, ylabel)
        for y, style in zip(lines, ("--", ":"), strict=False):
            ax.axhline(y, ls=style, c="gray", lw=1)
        if log:
            ax.set_yscale("log")
        ax.set_title(title)
        save(fig, name)

    def per_config(key: str) -> dict[str, list[float]]:
        return {labels[c]: [by[n, c][key] for n in nets] for c in cfgs}

    bars("speedup.png", per_config("speedup"), "speedup over Base",
         "Speedup over Base (paper: up to 2.2x, CNNs only)")
    bars("write_bound.png", per_config("bound_fraction"), "write bound / makespan",
         "Share of the write bound (paper means: Base 66%, ARAS 88%)", lines=(0.66, 0.88))

    comps = ENERGY_COMPONENTS
    fig, ax = plt.subplots(figsize=(10, 4.5))
    x0 = 0.0
    ticks, ticklabels = [], []
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for n in nets:
        base = by[n, "base"]["energy_total_j"]
        for j, c in enumerate(cfgs):
            bottom = 0.0
            for k, comp in enumerate(comps):
                v = by[n, c][f"energy_{comp}_j"] / base
                ax.bar(x0 + j, v, 0.8, bottom=bottom, color=colors[k],
                       label=comp if (n == nets[0] and j == 0) else None)
                bottom += v
            ticks.append(x0 + j)
            ticklabels.append(f"{n}\n{labels[c]}" if j == 0 else labels[c])
        x0 += len(cfgs) + 1
    ax.set_xticks(ticks, ticklabels, fontsize=6, rotation=90)
    ax.set_ylabel("energy / Base")
    ax.set_title("Energy breakdown normalised to Base")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    save(fig, "energy.png")

    bars("pulses.png", per_config("pulses_norm"), "write pulses / Base",
         "Write pulses normalised to Base (paper: reuse -17%)")
    bars("extra_weights.png",
         {"+Bank+Repl": [by[n, "bank-repl"]["extra_weights"] * 100 for n in nets]},
         "extra weights written (%)",
         "Extra weights written by replication (paper: 6.4% on average)")

    bars("lifespan.png",
         {"real time": [by[n, "all"]["lifespan_realtime_years"] for n in nets],
          "max throughput": [by[n, "all"]["lifespan_max_years"] for n in nets]},
         "years", "Lifespan of +All", log=True)
    return paths
