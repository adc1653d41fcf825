"""Reproduction of the paper's evaluation: four configurations on the five networks.

``aras paper --output DIR`` writes ``results.csv`` (one row per network and
configuration), ``summary.md`` (tables beside the paper's figures) and PNG
plots. Every figure comes from the evaluator.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aras.evaluation.evaluator import ENERGY_COMPONENTS
from aras.frontends.pretrained import weights_for
from aras.frontends.zoo import BUILTIN
from aras.methods.configs import CONFIGS
from aras.methods.solve import solve
from aras.model.files import atomic_path, atomic_write_text
from aras.model.mapping import map_network
from aras.model.network import Network

#: The paper's figures (MODEL.md section 8) used beside ours.
PAPER: dict[str, Any] = {
    "throughput_inf_s": {"vgg16": 43, "resnet50": 132, "densenet161": 95, "bert-base": 130,
                         "bert-large": 39},
    "lifespan_realtime_years": {"vgg16": 7, "resnet50": 26, "densenet161": 17, "bert-base": 4,
                                "bert-large": 3},
    "lifespan_max_years": {"vgg16": 50, "resnet50": 27, "densenet161": 56, "bert-base": 28,
                           "bert-large": 27},
    "bound_fraction": {"base": 0.66, "all": 0.88},
    "energy_saving": {"bank": 0.03, "bank-repl": 0.14, "all": 0.28},
    "pulse_reduction_reuse": 0.17,
    "extra_weights_replication": 0.064,
    "max_speedup": 2.2,
    # Figs. 16-17, ARAS over the TPU-like accelerator (MODEL.md section 8).
    "tpu_max_speedup": 1.5,
    "tpu_max_saving": 0.61,
    "tpu_mean_saving": 0.33,
}
#: Endurance for the real-time and the maximum-throughput lifespans. The paper's values were
#: lost from its text; 1e10 and 1e12 are the ends of the range it cites (docs/energy.md).
ENDURANCE_REALTIME = 1e10
ENDURANCE_MAX = 1e12

FIELDS = ["network", "config", "method", "makespan_cycles", "latency_s", "throughput_inf_s",
          "speedup", "write_bound_cycles", "lower_bound_cycles", "bound_fraction",
          "energy_total_j", "energy_rram_write_j", "energy_gbuffer_static_j",
          "energy_gbuffer_dynamic_j", "energy_dram_j", "energy_compute_j", "energy_norm",
          "write_pulses", "pulses_norm", "weights", "weights_written", "extra_weights",
          "max_cell_writes", "realtime_inf_s", "lifespan_realtime_years", "lifespan_max_years",
          "center", "pulse_model", "runtime_s"]


@dataclass
class Task:
    """One network under one configuration."""

    network: str
    config: str


def networks_for_paper(include_minilm: bool = True) -> dict[str, Callable[[], Network]]:
    """The five paper networks, plus MiniLM-L6 when its weights are installed."""
    nets: dict[str, Callable[[], Network]] = dict(BUILTIN)
    if include_minilm:
        from aras.frontends.pretrained import minilm_available, minilm_l6

        if minilm_available():
            nets["minilm-l6"] = minilm_l6
    return nets


def run_one(name: str, build: Callable[[], Network], config: str) -> dict[str, Any]:
    """Solve and evaluate one network under one configuration; a CSV row (not normalised)."""
    cfg = CONFIGS[config]
    p = map_network(build(), cfg.hardware())
    weights = weights_for(p.network)
    res = solve(p, cfg.method, banks=cfg.banks, reuse=cfg.reuse, weights=weights)
    rep = res.report
    assert rep is not None and rep.valid and res.schedule is not None, res.messages
    b = res.bounds  # computed by solve; computing them again doubled the run's time
    center = next((s.center for s in res.schedule.steps if s.center is not None), None)
    rt = rep.max_cell_writes * rep.realtime_inf_s
    mx = rep.max_cell_writes * rep.throughput_inf_s
    year = 365.25 * 86400
    e = rep.energy
    return {
        "network": name, "config": config, "method": cfg.method,
        "makespan_cycles": rep.makespan_cycles, "latency_s": rep.latency_s,
        "throughput_inf_s": rep.throughput_inf_s, "write_bound_cycles": b.write,
        "lower_bound_cycles": b.lower, "bound_fraction": b.write / rep.makespan_cycles,
        "energy_total_j": e.total, "energy_rram_write_j": e.rram_write,
        "energy_gbuffer_static_j": e.gbuffer_static, "energy_gbuffer_dynamic_j": e.gbuffer_dynamic,
        "energy_dram_j": e.dram, "energy_compute_j": e.compute,
        "write_pulses": rep.write_pulses, "weights": p.network.weight_count,
        "weights_written": rep.weights_written,
        "extra_weights": rep.weights_written / p.network.weight_count - 1,
        "max_cell_writes": rep.max_cell_writes, "realtime_inf_s": rep.realtime_inf_s,
        "lifespan_realtime_years": ENDURANCE_REALTIME / rt / year if rt else math.inf,
        "lifespan_max_years": ENDURANCE_MAX / mx / year if mx else math.inf,
        "center": center, "pulse_model": rep.pulse_model, "runtime_s": res.runtime_s,
    }


def normalise(rows: list[dict[str, Any]]) -> None:
    """Add speedup, energy and pulses relative to each network's Base row."""
    base = {r["network"]: r for r in rows if r["config"] == "base"}
    for r in rows:
        b = base[r["network"]]
        r["speedup"] = b["makespan_cycles"] / r["makespan_cycles"]
        r["energy_norm"] = r["energy_total_j"] / b["energy_total_j"]
        r["pulses_norm"] = r["write_pulses"] / b["write_pulses"]


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """results.csv with :data:`FIELDS`."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k) for k in FIELDS})


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


def summary_markdown(rows: list[dict[str, Any]]) -> str:
    """Markdown tables of every figure beside the paper's."""
    nets = list(dict.fromkeys(r["network"] for r in rows))
    by = {(r["network"], r["config"]): r for r in rows}
    cfgs = list(CONFIGS)
    out = ["# Reproduction of the ARAS evaluation", "",
           "Generated by `aras paper`. Paper figures from MODEL.md section 8; '-' where the "
           "paper gives none.", ""]

    def table(title: str, header: list[str], body: list[list[str]]) -> None:
        out.extend([f"## {title}", "", "| " + " | ".join(header) + " |",
                    "|" + "---|" * len(header)])
        out.extend("| " + " | ".join(row) + " |" for row in body)
        out.append("")

    pt = PAPER["throughput_inf_s"]
    table("Throughput (inf/s) and speedup over Base",
          ["network"] + [f"{CONFIGS[c].label} inf/s" for c in cfgs]
          + ["+All speedup", "paper ARAS inf/s"],
          [[n] + [f"{by[n, c]['throughput_inf_s']:.1f}" for c in cfgs]
           + [f"{by[n, 'all']['speedup']:.2f}x", str(pt.get(n, "-"))] for n in nets])
    fr = PAPER["bound_fraction"]
    table("Share of the write bound reached (write bound / makespan)",
          ["network"] + [CONFIGS[c].label for c in cfgs],
          [[n] + [f"{by[n, c]['bound_fraction']:.0%}" for c in cfgs] for n in nets]
          + [["mean"] + [f"{_mean([by[n, c]['bound_fraction'] for n in nets]):.0%}" for c in cfgs],
             ["paper mean", f"{fr['base']:.0%}", "-", "-", f"{fr['all']:.0%}"]])
    es = PAPER["energy_saving"]
    table("Energy normalised to Base",
          ["network"] + [CONFIGS[c].label for c in cfgs],
          [[n] + [f"{by[n, c]['energy_norm']:.3f}" for c in cfgs] for n in nets]
          + [["mean saving"] + [f"{1 - _mean([by[n, c]['energy_norm'] for n in nets]):.1%}"
                                for c in cfgs],
             ["paper mean saving", "-"] + [f"{es[c]:.0%}" for c in cfgs[1:]]])
    comps = list(ENERGY_COMPONENTS)
    table("Energy breakdown (mJ per inference)",
          ["network", "config"] + comps + ["total"],
          [[n, CONFIGS[c].label] + [f"{by[n, c]['energy_' + k + '_j'] * 1e3:.3f}" for k in comps]
           + [f"{by[n, c]['energy_total_j'] * 1e3:.3f}"] for n in nets for c in cfgs])
    table("Write pulses normalised to Base",
          ["network"] + [CONFIGS[c].label for c in cfgs] + ["reuse saving (+All vs +Bank+Repl)",
                                                             "center"],
          [[n] + [f"{by[n, c]['pulses_norm']:.3f}" for c in cfgs]
           + [f"{1 - by[n, 'all']['write_pulses'] / by[n, 'bank-repl']['write_pulses']:.1%}",
              str(by[n, "all"]["center"])] for n in nets]
          + [["mean reuse saving", "", "", "", "",
              f"{_mean([1 - by[n, 'all']['write_pulses'] / by[n, 'bank-repl']['write_pulses'] for n in nets]):.1%}",  # noqa: E501
              f"paper {PAPER['pulse_reduction_reuse']:.0%}"]])
    table("Extra weights written by replication (+Bank+Repl)",
          ["network", "weights", "weights written", "extra"],
          [[n, f"{by[n, 'bank-repl']['weights']:,}", f"{by[n, 'bank-repl']['weights_written']:,}",
            f"{by[n, 'bank-repl']['extra_weights']:.1%}"] for n in nets]
          + [["mean", "", "", f"{_mean([by[n, 'bank-repl']['extra_weights'] for n in nets]):.1%}"
              f" (paper {PAPER['extra_weights_replication']:.1%})"]])
    lr, lm = PAPER["lifespan_realtime_years"], PAPER["lifespan_max_years"]
    table(f"Lifespan (+All), years: real time at endurance {ENDURANCE_REALTIME:.0e}, maximum "
          f"throughput at {ENDURANCE_MAX:.0e}",
          ["network", "max writes of a cell", "real time", "paper", "max throughput", "paper"],
          [[n, str(by[n, "all"]["max_cell_writes"]),
            f"{by[n, 'all']['lifespan_realtime_years']:.1f}", str(lr.get(n, "-")),
            f"{by[n, 'all']['lifespan_max_years']:.1f}", str(lm.get(n, "-"))] for n in nets])
    return "\n".join(out)


TPU_FIELDS = ["network", "tpu_cycles", "tpu_latency_s", "tpu_throughput_inf_s",
              "tpu_energy_mac_j", "tpu_energy_sram_j", "tpu_energy_dram_j",
              "tpu_energy_static_j", "tpu_energy_total_j", "tpu_dram_bound_layers",
              "aras_latency_s", "aras_energy_total_j", "speedup", "energy_norm",
              "scalesim_shapes", "scalesim_runtime_s"]


def tpu_rows(rows: list[dict[str, Any]], nets: dict[str, Callable[[], Network]],
             progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """Figs. 16-17: ARAS (+All) against the TPU-like accelerator, one row per network.

    ``speedup`` is the TPU-like latency over ARAS's, ``energy_norm`` ARAS's energy over the
    TPU-like one's (below 1: ARAS saves energy).

    Raises
    ------
    InputError
        When SCALE-Sim is not installed.
    """
    from aras.evaluation.tpu import tpu_cost

    by = {(r["network"], r["config"]): r for r in rows}
    out = []
    for name, build in nets.items():
        if progress:
            progress(f"{name} / TPU-like (SCALE-Sim)")
        t = tpu_cost(build())
        a = by[name, "all"]
        out.append({
            "network": name, "tpu_cycles": t.cycles, "tpu_latency_s": t.latency_s,
            "tpu_throughput_inf_s": t.throughput_inf_s,
            **{f"tpu_energy_{k}_j": v for k, v in t.energy.items()},
            "tpu_dram_bound_layers": sum(1 for x in t.layers if x["bound"] == "dram"),
            "aras_latency_s": a["latency_s"], "aras_energy_total_j": a["energy_total_j"],
            "speedup": t.latency_s / a["latency_s"],
            "energy_norm": a["energy_total_j"] / t.energy["total"],
            "scalesim_shapes": t.simulated + t.cached, "scalesim_runtime_s": t.scalesim_s})
    return out


def tpu_markdown(trows: list[dict[str, Any]] | None, reason: str = "") -> str:
    """The summary.md section of Figs. 16-17 (or why it was skipped)."""
    head = ["## ARAS (+All) over the TPU-like accelerator (Figs. 16-17)", ""]
    if not trows:
        return "\n".join(head + [f"Skipped: {reason}", ""])
    five = [r for r in trows if r["network"] in PAPER["throughput_inf_s"]] or trows
    sp = [r["speedup"] for r in five]
    sv = [1 - r["energy_norm"] for r in five]
    over = "the five paper networks" if len(five) < len(trows) else "all"
    lines = head + [
        "TPU-like: SCALE-Sim, 64x64 MACs weight stationary, 4.5 MB buffer, 1 GHz, 19.2 GB/s "
        "(docs/energy.md). Speedup = TPU latency / ARAS latency; energy = ARAS / TPU.", "",
        "| network | TPU ms | ARAS ms | speedup | TPU mJ (MAC / SRAM / DRAM / static) | "
        "ARAS mJ | ARAS energy / TPU |", "|---|---|---|---|---|---|---|"]
    for r in trows:
        parts = " / ".join(f"{r[f'tpu_energy_{k}_j'] * 1e3:.2f}"
                           for k in ("mac", "sram", "dram", "static"))
        lines.append(f"| {r['network']} | {r['tpu_latency_s'] * 1e3:.3f} | "
                     f"{r['aras_latency_s'] * 1e3:.3f} | {r['speedup']:.2f}x | "
                     f"{r['tpu_energy_total_j'] * 1e3:.2f} ({parts}) | "
                     f"{r['aras_energy_total_j'] * 1e3:.2f} | {r['energy_norm']:.3f} |")
    lines += [f"| max / mean of {over} | | | {max(sp):.2f}x / {_mean(sp):.2f}x | | | saving max "
              f"{max(sv):.0%}, mean {_mean(sv):.0%} |",
              f"| paper | | | up to {PAPER['tpu_max_speedup']}x | | | saving max "
              f"{PAPER['tpu_max_saving']:.0%}, mean {PAPER['tpu_mean_saving']:.0%} |", ""]
    return "\n".join(lines)


def run_paper(output: Path, *, include_minilm: bool = True,
              progress: Callable[[str], None] | None = None,
              tpu: bool = False) -> list[dict[str, Any]]:
    """Run every network under every configuration and write CSV, Markdown and plots.

    With ``tpu`` the TPU-like comparison (Figs. 16-17) is added: ``tpu.csv``, a section of
    ``summary.md`` and two plots; without SCALE-Sim the section says it was skipped.
    """
    from aras.model.errors import InputError
    from aras.views.plots import paper_plots, tpu_plots

    output.mkdir(parents=True, exist_ok=True)
    nets = networks_for_paper(include_minilm)
    rows = []
    for name, build in nets.items():
        for config in CONFIGS:
            rows.append(run_one(name, build, config))
            if progress:
                progress(f"{name} / {config}")
    normalise(rows)
    write_csv(rows, output / "results.csv")
    text = summary_markdown(rows)
    if tpu:
        try:
            trows: list[dict[str, Any]] | None = tpu_rows(rows, nets, progress)
            reason = ""
        except InputError as exc:  # SCALE-Sim missing: the rest of the paper still runs
            trows, reason = None, str(exc)
        if trows:
            with atomic_path(output / "tpu.csv") as tmp, tmp.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=TPU_FIELDS)
                w.writeheader()
                for r in trows:
                    w.writerow({k: r.get(k) for k in TPU_FIELDS})
            tpu_plots(trows, output, paper=PAPER)
        text += "\n" + tpu_markdown(trows, reason)
    atomic_write_text(output / "summary.md", text)
    paper_plots(rows, output, endurance=(ENDURANCE_REALTIME, ENDURANCE_MAX))
    return rows
