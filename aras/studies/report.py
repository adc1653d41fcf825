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
            variant_order: list[str] | None = None) -> str:
    """The Markdown summary: per-instance makespans and gaps, geometric means, wins, runtimes."""
    tab = tabulate(records, variant_order)
    failed = [r for r in records if r.get("status") not in _OK]
    lines = [f"# Study `{title}`", "",
             f"{len(records)} tasks: {len(records) - len(failed)} solved, "
             f"{len(failed)} without a valid schedule. Latency in ms (gap to the certified "
             "lower bound in brackets); the best label of each instance in bold.", ""]
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
                     ("name", str)):
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

    # 1. Gap per method.
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(tab.instances) + 2), 4))
    n = max(1, len(tab.labels))
    width = 0.8 / n
    for k, lab in enumerate(tab.labels):
        xs, ys = [], []
        for i, inst in enumerate(tab.instances):
            r = tab.best.get((inst, lab))
            if r is not None and tab.bound.get(inst):
                xs.append(i + (k - (n - 1) / 2) * width)
                ys.append(100 * (r["makespan_cycles"] / tab.bound[inst] - 1))
        ax.bar(xs, ys, width, label=lab, color=colors[lab])
    ax.set_xticks(range(len(tab.instances)))
    ax.set_xticklabels([n_ if h == "base" else f"{n_}\n{h}" for n_, h in tab.instances],
                       rotation=30 if len(tab.instances) > 6 else 0, ha="right"
                       if len(tab.instances) > 6 else "center", fontsize=8)
    ax.set_ylabel("gap to the lower bound (%)")
    ax.set_title("Gap per method and instance")
    ax.legend(fontsize=8, ncol=min(3, n))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    written.append(_save(fig, out_dir / "gap_per_method.png"))

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
        fig, axes = plt.subplots(1, 1, squeeze=False, figsize=(6, 4))
        ax = axes[0][0]
        for lab in tab.labels:
            got = [r for (_, lb), r in tab.best.items() if lb == lab]
            xs = [(r.get("size") or {}).get("apu_rows", 0)
                  / max(1, (r.get("resources") or {}).get("total_apu_rows", 1)) for r in got]
            ys = [r["latency_s"] * 1e3 for r in got]
            if xs:
                ax.scatter(xs, ys, label=lab, color=colors[lab], s=25)
        _loglog(ax, "network APU rows / accelerator APU rows (fills)", "latency (ms)",
                "Makespan against the resources a network needs")
    fig.tight_layout()
    written.append(_save(fig, out_dir / "makespan_vs_resources.png"))

    # 3. Runtime against network size.
    fig, ax = plt.subplots(figsize=(6, 4))
    for lab in tab.labels:
        xs, ys = [], []
        for r in records:
            x, y = (r.get("size") or {}).get("weights"), r.get("runtime_s")
            if (r.get("status") in _OK and tab.label(r) == lab
                    and isinstance(x, (int, float)) and isinstance(y, (int, float))):
                xs.append(float(x))
                ys.append(max(float(y), 1e-4))  # a log axis has no zero
        if xs:
            ax.scatter(xs, ys, label=lab, color=colors[lab], s=25)
    _loglog(ax, "weights of the network", "runtime (s)", "Runtime against network size")
    fig.tight_layout()
    written.append(_save(fig, out_dir / "runtime_vs_size.png"))
    return written


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
    atomic_write_text(d / "summary.md", summary(records, str(meta.get("name", d.name)), order))
    return [d / "results.csv", d / "summary.md", *plots(records, d, _sweeps(meta), order)]


__all__ = ["report", "summary", "tabulate", "write_csv", "plots", "CSV_COLUMNS"]
