"""Reports of a study directory: ``results.csv``, ``summary.md`` and PNG plots.

Everything here reads ``results.jsonl`` (the last record per task) and, for
the hardware sweeps, the copy of the study file kept beside it. Figures are
those the evaluator gave each task; nothing is re-solved.

Conventions
-----------
- An *instance* is a (network, hardware variant) pair; a *label* is a method,
  with ``@T s`` appended for searching methods when the study has more than
  one time limit. With several seeds, a label's makespan on an instance is the
  best over the seeds (the summary says how many).
- Gap = makespan / certified lower bound - 1. The geometric-mean gap of a label
  is ``exp(mean(log(makespan / bound))) - 1`` over the instances it solved.
"""

from __future__ import annotations

import csv
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.files import atomic_path, atomic_write_text
from aras.studies.run import RESULTS, load_results
from aras.studies.study import SEARCHING

#: Columns of results.csv, in order.
CSV_COLUMNS = [
    "task", "network", "hardware", "method", "time_limit", "seed", "banks", "status",
    "makespan_cycles", "latency_ms", "throughput_inf_s", "lower_bound_cycles", "gap",
    "runtime_s", "wall_s", "energy_mj", "rram_write_mj", "gbuffer_static_mj",
    "gbuffer_dynamic_mj", "compute_mj", "dram_mj", "write_pulses", "weights", "apu_rows",
    "steps", "weighted_steps", "pes", "total_apu_rows", "write_latency_cycles",
    "memory_bandwidth_bytes_s", "gbuffer_bytes", "model_variables", "model_constraints",
    "model_evaluator_diff_cycles", "schedule", "error",
]
_OK = ("optimal", "feasible", "time_limit")


def _row(rec: dict[str, Any]) -> dict[str, Any]:
    energy = rec.get("energy_j") or {}
    size = rec.get("size") or {}
    res = rec.get("resources") or {}
    model = rec.get("model_size") or {}
    mk = rec.get("makespan_cycles")
    latency = rec.get("latency_s")
    row = {
        "task": rec["task"], "network": rec.get("network"), "hardware": rec.get("hardware"),
        "method": rec.get("method"), "time_limit": rec.get("time_limit"),
        "seed": rec.get("seed"), "banks": rec.get("banks"), "status": rec.get("status"),
        "makespan_cycles": mk,
        "latency_ms": latency * 1e3 if isinstance(latency, (int, float)) else None,
        "throughput_inf_s": rec.get("throughput_inf_s"),
        "lower_bound_cycles": rec.get("lower_bound_cycles"), "gap": rec.get("gap"),
        "runtime_s": rec.get("runtime_s"), "wall_s": rec.get("wall_s"),
        "energy_mj": energy.get("total", None) and energy["total"] * 1e3,
        "write_pulses": rec.get("write_pulses"),
        "model_variables": model.get("variables"), "model_constraints": model.get("constraints"),
        "model_evaluator_diff_cycles": rec.get("model_evaluator_diff_cycles"),
        "schedule": rec.get("schedule"), "error": rec.get("error"),
    }
    for comp in ("rram_write", "gbuffer_static", "gbuffer_dynamic", "compute", "dram"):
        v = energy.get(comp)
        row[f"{comp}_mj"] = v * 1e3 if isinstance(v, (int, float)) else None
    for k in ("weights", "apu_rows", "steps", "weighted_steps"):
        row[k] = size.get(k)
    for k in ("pes", "total_apu_rows", "write_latency_cycles", "memory_bandwidth_bytes_s",
              "gbuffer_bytes"):
        row[k] = res.get(k)
    return row


@dataclass
class Table:
    """Best makespan per (instance, label), with the bounds and sizes needed around it."""

    labels: list[str]
    instances: list[tuple[str, str]]
    best: dict[tuple[tuple[str, str], str], dict[str, Any]]   # (instance, label) -> record
    seeds: dict[tuple[tuple[str, str], str], int]
    bound: dict[tuple[str, str], int]
    multi_limit: bool = False   # several time limits: searching labels carry theirs

    def label(self, rec: dict[str, Any]) -> str:
        """The label of a record in this table."""
        return _label(rec, self.multi_limit)


def _label(rec: dict[str, Any], multi_limit: bool) -> str:
    m = str(rec.get("method"))
    if m in SEARCHING and multi_limit and rec.get("time_limit") is not None:
        return f"{m}@{rec['time_limit']:g}s"
    return m


def tabulate(records: list[dict[str, Any]], variant_order: list[str] | None = None) -> Table:
    """Group records by instance and label, keeping the best valid makespan.

    Instances come network by network (first appearance), variants in
    ``variant_order`` (the study's order) when given.
    """
    limits = {r.get("time_limit") for r in records if r.get("method") in SEARCHING}
    multi = len(limits) > 1
    labels: list[str] = []
    instances: list[tuple[str, str]] = []
    best: dict[tuple[tuple[str, str], str], dict[str, Any]] = {}
    seeds: dict[tuple[tuple[str, str], str], int] = defaultdict(int)
    bound: dict[tuple[str, str], int] = {}
    for r in records:
        inst = (str(r.get("network")), str(r.get("hardware")))
        lab = _label(r, multi)
        if inst not in instances:
            instances.append(inst)
        if lab not in labels:
            labels.append(lab)
        if r.get("status") not in _OK or r.get("makespan_cycles") is None:
            continue
        seeds[(inst, lab)] += 1
        if r.get("lower_bound_cycles"):
            bound[inst] = max(bound.get(inst, 0), int(r["lower_bound_cycles"]))
        cur = best.get((inst, lab))
        if cur is None or r["makespan_cycles"] < cur["makespan_cycles"]:
            best[(inst, lab)] = r
    nets = list(dict.fromkeys(i[0] for i in instances))
    vorder = list(variant_order or []) + sorted({i[1] for i in instances})
    instances.sort(key=lambda i: (nets.index(i[0]), vorder.index(i[1])))
    order = ["naive", "baseline", "greedy-replication", "aras", "jit", "milp", "milp-full"]
    labels.sort(key=lambda s: (order.index(s.split("@")[0]) if s.split("@")[0] in order
                               else len(order), s))
    return Table(labels, instances, best, dict(seeds), bound, multi)


def _geomean_gap(ratios: list[float]) -> float | None:
    if not ratios:
        return None
    return math.exp(statistics.fmean(math.log(x) for x in ratios)) - 1


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def summary(records: list[dict[str, Any]], title: str = "study",
            variant_order: list[str] | None = None, objective: str | None = None) -> str:
    """The Markdown summary: per-instance makespans and gaps, geometric means, wins, runtimes.

    ``objective``: the study's, when not the makespan (said above the tables, which compare
    latencies)."""
    tab = tabulate(records, variant_order)
    failed = [r for r in records if r.get("status") not in _OK]
    lines = [f"# Study `{title}`", "",
             f"{len(records)} tasks: {len(records) - len(failed)} solved, "
             f"{len(failed)} without a valid schedule. Latency in ms (gap to the certified "
             "lower bound in brackets); the best label of each instance in bold.", ""]
    if objective and objective.strip() != "makespan":
        lines += [f"The methods minimised `{objective}`; the tables below compare their "
                  "latencies (makespans), not that objective.", ""]
    multi_seed = any(n > 1 for n in tab.seeds.values())
    if multi_seed:
        lines += ["With several seeds a cell shows the best seed.", ""]
    head = ["network", "hardware", "lower bound (ms)"] + tab.labels
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for inst in tab.instances:
        b = tab.bound.get(inst)
        freq = _freq(tab, inst)
        cells = [inst[0], inst[1], f"{b / freq * 1e3:.3f}" if b and freq else "-"]
        got = {lab: tab.best[(inst, lab)] for lab in tab.labels if (inst, lab) in tab.best}
        top = min((r["makespan_cycles"] for r in got.values()), default=None)
        for lab in tab.labels:
            r = got.get(lab)
            if r is None:
                cells.append("-")
                continue
            ms = r["makespan_cycles"] / freq * 1e3 if freq else float("nan")
            text = f"{ms:.3f} ({_pct(r['makespan_cycles'] / b - 1 if b else None)})"
            cells.append(f"**{text}**" if r["makespan_cycles"] == top else text)
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Geometric-mean gap per method", "",
              "| method | instances solved | geometric-mean gap | worst gap |", "|---|---|---|---|"]
    for lab in tab.labels:
        ratios = [tab.best[(i, lab)]["makespan_cycles"] / tab.bound[i]
                  for i in tab.instances if (i, lab) in tab.best and tab.bound.get(i)]
        worst = max(ratios) - 1 if ratios else None
        lines.append(f"| {lab} | {len(ratios)} of {len(tab.instances)} | "
                     f"{_pct(_geomean_gap(ratios))} | {_pct(worst)} |")
    searching = [lab for lab in tab.labels if lab.split("@")[0] in SEARCHING]
    heuristics = [lab for lab in tab.labels if lab not in searching]
    if searching and heuristics:
        lines += ["", "## MILP against each heuristic", "",
                  "Wins / ties / losses over the instances both solved, and the mean improvement "
                  "of the makespan (positive: the MILP is faster).", "",
                  "| MILP | heuristic | wins | ties | losses | mean improvement |",
                  "|---|---|---|---|---|---|"]
        for s in searching:
            for h in heuristics:
                w = t = lo = 0
                imp: list[float] = []
                for inst in tab.instances:
                    a, c = tab.best.get((inst, s)), tab.best.get((inst, h))
                    if a is None or c is None:
                        continue
                    ma, mc = a["makespan_cycles"], c["makespan_cycles"]
                    w, t, lo = w + (ma < mc), t + (ma == mc), lo + (ma > mc)
                    imp.append(1 - ma / mc)
                lines.append(f"| {s} | {h} | {w} | {t} | {lo} | "
                             f"{_pct(statistics.fmean(imp) if imp else None)} |")
    lines += ["", "## Runtimes", "", "Seconds of the method (evaluation excluded), over its "
              "solved tasks.", "", "| method | tasks | mean | median | max |",
              "|---|---|---|---|---|"]
    by_label: dict[str, list[float]] = defaultdict(list)
    for r in records:
        if r.get("status") in _OK and isinstance(r.get("runtime_s"), (int, float)):
            by_label[tab.label(r)].append(float(r["runtime_s"]))
    for lab in tab.labels:
        v = by_label.get(lab, [])
        if v:
            lines.append(f"| {lab} | {len(v)} | {statistics.fmean(v):.2f} | "
                         f"{statistics.median(v):.2f} | {max(v):.2f} |")
    diffs = [r for r in records if r.get("model_evaluator_diff_cycles") not in (None, 0)]
    lines += ["", f"MILP tasks whose model makespan differs from the evaluator's: {len(diffs)}."]
    if failed:
        lines += ["", "## Tasks without a valid schedule", "", "| task | status | error |",
                  "|---|---|---|"]
        for r in failed:
            err = str(r.get("error") or "").replace("|", "\\|").splitlines()
            lines.append(f"| {r['task']} | {r.get('status')} | {err[0] if err else ''} |")
    return "\n".join(lines) + "\n"


def _freq(tab: Table, inst: tuple[str, str]) -> float | None:
    for (i, _), r in tab.best.items():
        if i == inst and r.get("latency_s") and r.get("makespan_cycles"):
            return float(r["makespan_cycles"]) / float(r["latency_s"])
    return None


def write_csv(records: list[dict[str, Any]], path: Path) -> None:
    """One row per task (the last record of each), columns :data:`CSV_COLUMNS`."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for r in records:
            w.writerow(_row(r))


def _meta(out_dir: Path) -> dict[str, Any]:
    """What the study run recorded of its study file (``study.json``), or nothing."""
    import json

    try:
        meta = json.loads((out_dir / "study.json").read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(meta, dict):
        return {}
    # A damaged file loses its parts of the wrong type, not the report.
    for key, typ in (("variants", dict), ("sweeps", dict), ("base_variant", str),
                     ("name", str), ("objective", str)):
        if key in meta and not isinstance(meta[key], typ):
            del meta[key]
    sweeps = meta.get("sweeps", {})
    meta["sweeps"] = {k: v for k, v in sweeps.items() if isinstance(v, list)
                      and all(isinstance(x, str) for x in v)}
    return meta


def _sweeps(meta: dict[str, Any]) -> dict[str, list[str]]:
    """Each swept parameter's variants, the base variant first."""
    base = meta.get("base_variant")
    sweeps = meta.get("sweeps") or {}
    return {p: ([base] if base else []) + list(v) for p, v in sweeps.items()}


_SWEEP_AXIS = {"pes": ("total_apu_rows", "APU rows"),
               "apu_rows_per_pe": ("total_apu_rows", "APU rows"),
               "write_latency_cycles": ("write_latency_cycles", "write latency (cycles)"),
               "memory_bandwidth_bytes_s": ("memory_bandwidth_bytes_s", "memory bandwidth (B/s)"),
               "gbuffer_banks": ("gbuffer_bytes", "Gbuffer bytes")}


def plots(records: list[dict[str, Any]], out_dir: Path,
          sweeps: dict[str, list[str]] | None = None,
          variant_order: list[str] | None = None) -> list[Path]:
    """Gap per method, makespan against resources and runtime against network size (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    tab = tabulate(records, variant_order)
    colors = {lab: plt.get_cmap("tab10")(i % 10) for i, lab in enumerate(tab.labels)}
    written: list[Path] = []

    # 1. Gap per method, on a log scale (naive's thousands of percent next to MILP's few).
    written.append(_gap_plot(records, tab, colors, out_dir / "gap_per_method.png"))

    # 2. Makespan against resources.
    sweeps = sweeps or {}
    nets = sorted({i[0] for i in tab.instances}, key=[i[0] for i in tab.instances].index)
    if sweeps:
        params = list(sweeps)
        fig, axes = plt.subplots(len(nets), len(params), squeeze=False,
                                 figsize=(3.6 * len(params), 2.8 * len(nets)))
        for a, net in enumerate(nets):
            for c, param in enumerate(params):
                ax = axes[a][c]
                key, xlabel = _SWEEP_AXIS.get(param, (param, param))
                ticks: set[float] = set()
                for lab in tab.labels:
                    pts = []
                    for v in sweeps[param]:
                        r = tab.best.get(((net, v), lab))
                        if r is not None:
                            x = (r.get("resources") or {}).get(key)
                            if isinstance(x, (int, float)):
                                pts.append((x, r["latency_s"] * 1e3))
                    ticks.update(x for x, _ in pts)
                    if pts:
                        pts.sort()
                        ax.plot(*zip(*pts, strict=True), marker="o", label=lab,
                                color=colors[lab])
                ax.set_xscale("log")
                # Ticks at the swept values only: a log axis over a factor of 4 has few
                # major ticks of its own.
                ax.set_xticks(sorted(ticks), [_si(v) for v in sorted(ticks)], fontsize=7)
                ax.xaxis.set_minor_formatter(ticker.NullFormatter())
                ax.set_title(f"{net}: {param}", fontsize=9)
                ax.set_xlabel(xlabel, fontsize=8)
                if c == 0:
                    ax.set_ylabel("latency (ms)", fontsize=8)
                ax.grid(alpha=0.3)
        axes[0][0].legend(fontsize=7)
    else:
        fig, axes = plt.subplots(1, 1, squeeze=False, figsize=(7.5, 4.5))
        ax = axes[0][0]
        fills: dict[str, float] = {}
        for k, lab in enumerate(tab.labels):
            got = [(inst, r) for (inst, lb), r in tab.best.items() if lb == lab]
            xs = [(r.get("size") or {}).get("apu_rows", 0)
                  / max(1, (r.get("resources") or {}).get("total_apu_rows", 1)) for _, r in got]
            ys = [r["latency_s"] * 1e3 for _, r in got]
            for ((net, hw), _), x in zip(got, xs, strict=True):
                fills.setdefault(net if hw == "base" else f"{net} ({hw})", x)
            if xs:
                ax.scatter(xs, ys, label=lab, color=colors[lab], s=28,
                           marker=_MARKERS[k % 10], alpha=0.85)
        _loglog(ax, "network APU rows / accelerator APU rows (fills)", "latency (ms)",
                "Makespan against the resources a network needs")
        _network_axis(ax, fills, unit="x")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    written.append(_save(fig, out_dir / "makespan_vs_resources.png"))

    # 3. Runtime against network size: one marker shape per method (points of two methods
    # at the same place stay visible), the networks named on the top axis.
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    sizes: dict[str, float] = {}
    for k, lab in enumerate(tab.labels):
        xs, ys = [], []
        for r in records:
            x, y = (r.get("size") or {}).get("weights"), r.get("runtime_s")
            if (r.get("status") in _OK and tab.label(r) == lab
                    and isinstance(x, (int, float)) and isinstance(y, (int, float))):
                xs.append(float(x))
                ys.append(max(float(y), 1e-4))  # a log axis has no zero
                sizes.setdefault(str(r.get("network")), float(x))
        if xs:
            ax.scatter(xs, ys, label=lab, color=colors[lab], s=28, marker=_MARKERS[k % 10],
                       alpha=0.85)
    _loglog(ax, "weights of the network", "runtime of the method (s)",
            "Runtime against network size")
    _network_axis(ax, sizes)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    written.append(_save(fig, out_dir / "runtime_vs_size.png"))
    return written


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")


def _network_axis(ax: Any, sizes: dict[str, float], unit: str = "") -> None:
    """SI ticks at powers of ten (and 2, 5 times them within one decade) on the bottom
    axis, no minor labels; the networks' names on the top axis at their sizes."""
    from matplotlib import ticker

    if not sizes:
        return
    lo, hi = min(sizes.values()), max(sizes.values())
    ax.set_xlim(lo / 1.6, hi * 1.6)
    subs = (1.0, 2.0, 5.0) if hi / lo < 100 else (1.0,)
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: _si(v) + unit))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    top = ax.secondary_xaxis("top")
    at: dict[float, list[str]] = {}
    for name in sorted(sizes, key=sizes.__getitem__):
        at.setdefault(sizes[name], []).append(name)   # networks of one size share a tick
    top.set_xticks(list(at), [", ".join(v) for v in at.values()], rotation=40, ha="left",
                   fontsize=7)
    top.xaxis.set_minor_locator(ticker.NullLocator())
    top.tick_params(axis="x", length=3)
    for x in at:
        ax.axvline(x, color="0.85", lw=0.6, zorder=0)


def _gap_plot(records: list[dict[str, Any]], tab: Table, colors: dict[str, Any],
              path: Path) -> Path:
    """Bars of the gap to the certified bound, log scale, one panel per network when the
    study has hardware variants. A gap of 0 is drawn to the floor and marked 0; a method
    without a valid schedule on an instance is marked x."""
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    failed = {((str(r.get("network")), str(r.get("hardware"))), tab.label(r))
              for r in records if r.get("status") not in _OK}
    gaps = {(inst, lab): 100 * (r["makespan_cycles"] / tab.bound[inst] - 1)
            for (inst, lab), r in tab.best.items() if tab.bound.get(inst)}
    positive = [g for g in gaps.values() if g > 0]
    floor = min(0.1, 10 ** math.floor(math.log10(min(positive)))) if positive else 0.1
    top = max(positive, default=1.0) * 8   # room for the values over the bars
    nets = list(dict.fromkeys(i[0] for i in tab.instances))
    per_net = [[i for i in tab.instances if i[0] == n] for n in nets]
    by_net = max(len(p) for p in per_net) > 1
    panels = per_net if by_net else [tab.instances]
    # the same variants for every network: one set of variant names, under the last panel
    shared = by_net and len({tuple(h for _, h in p) for p in per_net}) == 1
    widest = max(len(p) for p in panels)
    n = max(1, len(tab.labels))
    width = 0.8 / n
    fig, axes = plt.subplots(len(panels), 1, squeeze=False, sharex=shared,
                             figsize=(max(7.0, 0.2 * n * widest + 4.0), 2.4 * len(panels) + 1.2))
    values = n * widest <= 60   # the value over each bar, where there is room for it
    for a, (ax, insts) in enumerate(zip(axes[:, 0], panels, strict=True)):
        for k, lab in enumerate(tab.labels):
            for i, inst in enumerate(insts):
                x = i + (k - (n - 1) / 2) * width
                g = gaps.get((inst, lab))
                if g is not None:
                    ax.bar(x, max(g, floor) - floor, width, bottom=floor, color=colors[lab])
                    if g <= 0:
                        ax.text(x, floor * 1.15, "0", ha="center", va="bottom", fontsize=6)
                    elif values:
                        ax.text(x, max(g, floor) * 1.12, f"{g:.3g}%" if g < 100 else f"{g:.0f}%",
                                ha="center", va="bottom", rotation=90, fontsize=5.5)
                elif (inst, lab) in failed:
                    ax.text(x, floor * 1.15, "x", ha="center", va="bottom", fontsize=7,
                            color="0.4")
        ax.set_yscale("log")
        ax.set_ylim(floor, top)
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
        ax.set_xticks(range(len(insts)))
        if by_net:
            ticklabels = [h for _, h in insts]
            ax.set_title(insts[0][0], fontsize=9, loc="left")
        else:
            ticklabels = [n_ if h == "base" else f"{n_}\n{h}" for n_, h in insts]
        many = len(insts) > 6
        if not shared or a == len(panels) - 1:
            ax.set_xticklabels(ticklabels, rotation=25 if many else 0,
                               ha="right" if many else "center", fontsize=8)
        else:
            ax.tick_params(axis="x", labelbottom=False)
        ax.set_xlim(-0.6, len(insts) - 0.4)
        ax.set_ylabel("gap to the lower bound", fontsize=8)
        ax.grid(axis="y", alpha=0.3, which="major")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [Patch(color=colors[lab], label=lab) for lab in tab.labels]
    if failed:
        handles.append(Line2D([], [], ls="", marker="$x$", color="0.4",
                              label="no valid schedule"))
    if any(g <= 0 for g in gaps.values()):
        handles.append(Line2D([], [], ls="", marker="$0$", color="k", label="gap 0 (optimal)"))
    legend_w = max(len(h.get_label()) for h in handles) * 0.075 + 0.6  # inches
    split = 1 - legend_w / fig.get_size_inches()[0]
    fig.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(split, 0.93),
               frameon=False)
    fig.suptitle("Gap to the certified lower bound per method and instance (log scale)",
                 x=0.01, ha="left", fontsize=10)
    fig.tight_layout(rect=(0, 0, split, 0.95))
    return _save(fig, path)


def _loglog(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    """Log-log axes with labels, grid and legend (the scatter plots of the report)."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def _si(v: float) -> str:
    """Compact tick label: 576, 768k, 19.2G."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:.3g}{suffix}"
    return f"{v:g}"


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130)
    plt.close(fig)
    return path


def _check_record(rec: dict[str, Any], where: Path) -> None:
    """The fields the report computes with, of a finished task's record (a damaged
    ``results.jsonl`` is a one-line error naming the task and the field, not a traceback)."""
    task = rec.get("task")
    if not isinstance(task, str):
        raise InputError(f"{where}: a record's 'task' must be a string, got {task!r}")
    if rec.get("status") not in _OK:
        return
    for key in ("makespan_cycles", "latency_s"):
        v = rec.get(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}: task '{task}': {key} must be a finite number, got "
                             f"{v!r}")
    for key in ("energy_j", "size", "resources", "model_size"):
        if rec.get(key) is not None and not isinstance(rec[key], dict):
            raise InputError(f"{where}: task '{task}': {key} must be an object, got "
                             f"{rec[key]!r}")


def report(out_dir: str | Path) -> list[Path]:
    """Write ``results.csv``, ``summary.md`` and the plots of a study directory.

    Raises
    ------
    InputError
        When the directory has no results.
    """
    d = Path(out_dir)
    if not (d / RESULTS).exists():
        raise InputError(f"{d}: no {RESULTS} here (run 'aras study SET --output {d}' first)")
    records = load_results(d)
    if not records:
        raise InputError(f"{d / RESULTS}: no finished task yet")
    for rec in records:
        _check_record(rec, d / RESULTS)
    write_csv(records, d / "results.csv")
    meta = _meta(d)
    order = list(meta.get("variants") or [])
    atomic_write_text(d / "summary.md", summary(records, str(meta.get("name", d.name)), order,
                                                 meta.get("objective")))
    return [d / "results.csv", d / "summary.md", *plots(records, d, _sweeps(meta), order)]


__all__ = ["report", "summary", "tabulate", "write_csv", "plots", "CSV_COLUMNS"]
