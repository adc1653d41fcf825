"""Precision study: latency, energy and write pulses against output agreement.

    python benchmarks/precision_study.py [--time-limit 10] [--only NAME ...] [--quick]

For each network, per-layer errors at 4, 6 and 8 weight bits (activations at INT8), a sweep of
error budgets, and at each budget the bits three ways (greedy + jit, the two-stage knapsack +
milp, the joint milp; docs/precision.md), every schedule evaluated:

- **real weights**: MiniLM-L6 (sentence embeddings; errors measured on 64 sentences of
  ``benchmarks/data/sentences64.txt``, agreement, mean cosine to the float model, on 256
  other sentences of Python's own documentation) and the real-weight ONNX models of
  ``benchmarks/precision_models.py`` (errors on 64 calibration samples, top-1 agreement on 256
  others). Weights are quantised per output channel (``per_channel``), activations per tensor
  over ranges calibrated on the float model; agreement is that of the whole assignment,
  INT8 activations included, against the float model.
- **synthetic weights**: the paper's five networks, whose errors are the weight quantisation
  errors of their synthetic weights (``synthetic_weight_errors``): no outputs to agree on,
  the budget is a fraction of what every layer at 4 bits costs.

Writes ``benchmarks/results/precision_study.csv`` (every run), ``precision_speedup.md`` (the
summary table of docs/precision.md), ``docs/studies/precision/pareto.png``, and the measured
sensitivities in ``benchmarks/results/precision_sensitivity/`` (read back by later runs
unless ``--remeasure``).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from doctables import RESULTS, ROOT, load_note, markdown_table, write_result  # noqa: E402

from aras import load_hardware, load_network, map_network, solve  # noqa: E402
from aras.model.precision import LayerPrecision  # noqa: E402

PAPER = ("vgg16", "resnet50", "densenet161", "bert-base", "bert-large")
CANDS = [LayerPrecision(4, 8), LayerPrecision(6, 8), LayerPrecision(8, 8)]
#: Budgets as fractions of the error of every layer at its fewest bits.
FRACTIONS = (0.0, 0.001, 0.003, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.2,
             0.3, 0.5, 1.0)
#: Budgets at which the MILP methods run too (the greedy runs at every one).
MILP_AT = (0.01, 0.05, 0.2)
#: Measured sensitivities, kept so that a rerun of the sweep need not measure them again.
SENSITIVITY = RESULTS / "precision_sensitivity"
THRESHOLDS = (0.99, 0.999)
COMMAND = "python benchmarks/precision_study.py"
#: MiniLM-L6 with each token's activations quantised over their own range (dynamic).
DYNAMIC = "minilm-l6 (dynamic act.)"


@dataclass
class Case:
    name: str
    weights: str                 # "real" or "synthetic"
    problem: Any
    errors: dict[str, dict[LayerPrecision, float]]
    agree: Any = None            # assignment -> (metric, value), real weights only
    metric: str = ""
    sens_s: float = 0.0


def _sentences(n: int, skip: set[str]) -> list[str]:
    """``n`` sentences of Python's documentation (``pydoc_data.topics``), deterministic."""
    from pydoc_data.topics import topics

    out: list[str] = []
    for key in sorted(topics):
        text = re.sub(r"\s+", " ", topics[key])
        for s in re.split(r"(?<=[.!?])\s+", text):
            words = s.split()
            if 6 <= len(words) <= 30 and s[0].isupper() and s.endswith(".") and \
                    sum(c.isalpha() for c in s) > 0.7 * len(s) and s not in skip:
                out.append(s)
                skip.add(s)
                if len(out) == n:
                    return out
    return out


def _agreement_fn(runner: Any, cal: Any, ev: Any, layers: list[str], kind: str) -> Any:
    from aras.evaluation.accuracy import agreement

    ref = runner.run(ev.inputs)
    cache: dict[tuple[Any, ...], tuple[str, float]] = {}

    def agree(assign: dict[str, LayerPrecision]) -> tuple[str, float]:
        key = tuple(sorted((k, v.weight_bits) for k, v in assign.items()))
        if key not in cache:
            wb = {L: assign[L].weight_bits if L in assign else 8 for L in layers}
            a = agreement(runner, ev, wb, {L: 8 for L in layers}, reference=ref, kind=kind,
                          ranges_from=cal)  # activation ranges: the calibration split
            cache[key] = (a.metric, a.value)
        return cache[key]

    return agree


def real_cases(names: list[str] | None, n_eval: int, remeasure: bool) -> list[Case]:
    from aras.evaluation.accuracy import (
        Calibration,
        MiniLMRunner,
        OnnxRunner,
        Sensitivity,
        load_calibration,
        sensitivity,
    )
    from formulations.precision import errors_from_sensitivity

    hw = load_hardware(None)
    cases = []
    todo: list[tuple[str, Any]] = [("minilm-l6", None), (DYNAMIC, None)]
    try:
        import precision_models as pm

        todo += [(m.name, m) for m in pm.MODELS if m.available()]
    except ImportError:  # pragma: no cover
        pass
    for name, m in todo:
        if names and name not in names:
            continue
        t0 = time.perf_counter()
        # the registry's output kind: PP-OCR's recogniser is a classifier per time step
        kind = "auto" if m is None or m.kind == "other" else m.kind
        if m is None:
            runner = MiniLMRunner(per_channel=True, dynamic=name == DYNAMIC)
            cal = load_calibration(ROOT / "benchmarks/data/sentences64.txt", runner)
            first = set((ROOT / "benchmarks/data/sentences64.txt").read_text().splitlines())
            sents = _sentences(n_eval, first)
            ev = Calibration(runner.tokenize(sents), len(sents), False, "pydoc sentences")
            net = load_network("minilm-l6")
        else:
            path = m.path()
            runner = OnnxRunner(path, input_shapes=m.input_shapes, per_channel=True)
            cal = Calibration(m.calibration(64, 1), 64, False, f"{name} calibration")
            ev = Calibration(m.calibration(n_eval, 2), n_eval, False, f"{name} evaluation")
            net = load_network(str(path), input_shapes=m.input_shapes)
        layers = [o.name for o in net.weighted_ops]
        assert runner.layers == layers, name
        cached = SENSITIVITY / f"{name.split()[0]}{'-dynamic' if name == DYNAMIC else ''}.csv"
        if cached.exists() and not remeasure:
            sens = Sensitivity.from_table(cached, layers)
        else:
            sens = sensitivity(runner, cal, candidates=(4, 6, 8), kind=kind)
            cached.parent.mkdir(parents=True, exist_ok=True)
            sens.to_csv(cached)
        errors = errors_from_sensitivity(sens, hw, CANDS)
        agree = _agreement_fn(runner, cal, ev, layers, kind)
        metric = agree({})[0]
        cases.append(Case(name, "real", map_network(net, hw), errors, agree, metric,
                          time.perf_counter() - t0))
        print(f"{name}: sensitivity and references in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
    return cases


def synthetic_cases(names: list[str] | None) -> list[Case]:
    from aras.studies.precision import synthetic_weight_errors

    hw = load_hardware(None)
    out = []
    for n in PAPER:
        if names and n not in names:
            continue
        p = map_network(load_network(n), hw)
        out.append(Case(n, "synthetic", p, synthetic_weight_errors(p, CANDS)))
    return out


def run_case(case: Case, time_limit: float, quick: bool) -> list[dict[str, Any]]:
    from formulations.precision import Precision, assignment_error

    p, hw = case.problem, case.problem.hardware
    most = sum(max(t.values()) for t in case.errors.values())
    rows: list[dict[str, Any]] = []
    base = solve(p, "jit")
    assert base.report is not None and base.report.valid
    ref = base.report

    def record(method: str, frac: float, budget: float, res: Any) -> None:
        rep = res.report
        chosen = (res.schedule.precision or {}) if res.schedule is not None else {}
        row = {"network": case.name, "weights": case.weights, "method": method,
               "budget_fraction": frac, "budget": budget,
               "error": assignment_error(case.errors, chosen, hw),
               "layers_w4": sum(1 for v in chosen.values() if v.weight_bits == 4),
               "layers_w6": sum(1 for v in chosen.values() if v.weight_bits == 6),
               "status": res.status.value, "valid": bool(rep and rep.valid),
               "makespan_cycles": rep.makespan_cycles if rep else None,
               "speedup": ref.makespan_cycles / rep.makespan_cycles if rep else None,
               "energy_j": rep.energy.total if rep else None,
               "write_energy_j": rep.energy.rram_write if rep else None,
               "write_pulses": rep.write_pulses if rep else None,
               "energy_cut": 1 - rep.energy.total / ref.energy.total if rep else None,
               "write_energy_cut": (1 - rep.energy.rram_write / ref.energy.rram_write
                                    if rep and ref.energy.rram_write else None),
               "bound_cycles": res.bound, "runtime_s": res.runtime_s}
        if case.agree is not None and rep is not None and rep.valid:
            row["metric"], row["agreement"] = case.agree(chosen)
        if not row["valid"]:  # a failed run is a row too, with the solver's words
            row["message"] = "; ".join(res.messages)[-300:]
        rows.append(row)
        print(f"  {case.name} {method:<9} budget {frac:<6} {res.status.value} speedup "
              f"{row['speedup'] or float('nan'):.3f} agreement "
              f"{row.get('agreement') or float('nan'):.5f} ({res.runtime_s:.1f} s)",
              file=sys.stderr)

    record("int8", 0.0, 0.0, base)
    for frac in FRACTIONS[1:] if not quick else (0.01, 0.1):
        budget = frac * most
        fams = {"greedy": (Precision(case.errors, budget, start="greedy", joint=False), "jit")}
        if frac in MILP_AT or quick:
            fams["two-stage"] = (Precision(case.errors, budget, start="knapsack", joint=False),
                                 "milp")
            fams["joint"] = (Precision(case.errors, budget, start="greedy", joint=True), "milp")
        for method, (fam, solver_method) in fams.items():
            kw = {"time_limit": time_limit} if solver_method == "milp" else {}
            record(method, frac, budget, solve(p, solver_method, families=[fam], **kw))
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    """Two tables: the real-weight models at agreement thresholds, the paper networks at
    budgets of their synthetic weight error."""
    order = ["minilm-l6", DYNAMIC, "ppocr-cls", "ppocr-rec", "text-orientation", "magika",
             *PAPER]
    nets = sorted(dict.fromkeys(r["network"] for r in rows),
                  key=lambda n: order.index(n) if n in order else len(order))
    real = [n for n in nets if any(r["network"] == n and r["weights"] == "real" for r in rows)]
    syn = [n for n in nets if n not in real]
    out = []
    if real:
        head = ["model", "INT8 agreement"]
        for t in THRESHOLDS:
            head += [f"speedup, agreement >= {t:g}", "write energy"]
        body = []
        for n in real:
            rs = [r for r in rows if r["network"] == n and r["valid"]]
            int8 = next(r for r in rs if r["method"] == "int8")
            line = [n, f"{int8['agreement']:.4f} ({_short(int8['metric'])})"]
            for t in THRESHOLDS:
                ok = [r for r in rs if r["agreement"] >= t]
                if not ok:
                    line += ["none (INT8 below)", "-"]
                    continue
                best = max(ok, key=lambda r: (r["speedup"], r["write_energy_cut"] or 0))
                line += [f"{best['speedup']:.2f}x ({best['method']})",
                         _change(best['write_energy_cut'])]
            body.append(line)
        out.append(markdown_table(head, body))
    if syn:
        fracs = sorted({r["budget_fraction"] for r in rows if r["network"] in syn} - {0.0})
        show = [f for f in fracs if f in (0.01, 0.1, 0.3)] or fracs[:2]
        head = ["network (synthetic weights)"]
        for f in show:
            head += [f"speedup, budget {f:g}", "write energy"]
        body = []
        for n in syn:
            line = [n]
            for f in show:
                ok = [r for r in rows if r["network"] == n and r["valid"]
                      and r["budget_fraction"] == f]
                best = max(ok, key=lambda r: (r["speedup"], r["write_energy_cut"] or 0))
                line += [f"{best['speedup']:.2f}x ({best['method']})",
                         _change(best['write_energy_cut'])]
            body.append(line)
        out.append(markdown_table(head, body))
    return "\n\n".join(out)


def _change(cut: float | None) -> str:
    """A write energy cut as the signed change; none when INT8 writes nothing (it fits)."""
    if cut is None:
        return "none at INT8"
    return f"{-cut:+.0%}"


def _short(metric: str) -> str:
    return {"mean_cosine": "cosine", "top1_agreement": "top-1"}.get(metric, metric)


def milp_check(rows: list[dict[str, Any]]) -> str:
    """Joint MILP against the greedy heuristic at equal budget."""
    pairs = worse = 0
    for r in rows:
        if r["method"] != "joint":
            continue
        g = next(x for x in rows if x["network"] == r["network"] and x["method"] == "greedy"
                 and x["budget_fraction"] == r["budget_fraction"])
        pairs += 1
        worse += r["makespan_cycles"] > g["makespan_cycles"]
    return f"joint MILP worse than greedy at equal budget: {worse} of {pairs} budgets"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    for n in dict.fromkeys(r["network"] for r in rows if r["weights"] == "real"):
        pts = sorted((1 - r["agreement"], r["speedup"]) for r in rows
                     if r["network"] == n and r["valid"])
        front, best = [], 0.0
        for x, y in pts:  # the upper-left envelope: most speedup for an error at most x
            if y > best:
                front.append((max(x, 1e-5), y))
                best = y
        a.step([x for x, _ in front], [y for _, y in front], where="post", marker="o",
               ms=3, label=n)
    a.set_xscale("log")
    a.set_xlabel("1 - agreement with the float model (cosine or top-1)")
    a.set_ylabel("speedup over INT8 (jit)")
    a.set_title("real weights: best of greedy, two-stage, joint")
    for t in THRESHOLDS:
        a.axvline(1 - t, color="grey", lw=0.6, ls=":")
    a.legend(fontsize=7)
    for n in dict.fromkeys(r["network"] for r in rows if r["weights"] == "synthetic"):
        rs = [r for r in rows if r["network"] == n and r["method"] in ("int8", "greedy")]
        rs.sort(key=lambda r: r["budget_fraction"])
        b.plot([max(r["budget_fraction"], 1e-4) for r in rs], [r["speedup"] for r in rs],
               marker="o", ms=3, label=n)
    b.set_xscale("log")
    b.set_xlabel("budget (fraction of every layer at 4 bits; synthetic weight error)")
    b.set_ylabel("speedup over INT8 (jit)")
    b.set_title("paper networks, synthetic weights (greedy)")
    b.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def _typed(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row with its numbers and flags back as Python values."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if v in ("True", "False"):
            out[k] = v == "True"
        elif v == "":
            out[k] = None
        else:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=10.0)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--eval", type=int, default=256, help="held-out samples for agreement")
    ap.add_argument("--quick", action="store_true", help="two budgets (a smoke run)")
    ap.add_argument("--remeasure", action="store_true",
                    help="measure the sensitivities again (else read them from "
                         "benchmarks/results/precision_sensitivity/ when there)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--merge", type=Path, nargs="*", default=[],
                    help="CSV files of other runs whose networks' rows join this one's")
    a = ap.parse_args(argv)
    note = load_note()
    t0 = time.perf_counter()
    cases = real_cases(a.only, a.eval, a.remeasure) + synthetic_cases(a.only)
    rows: list[dict[str, Any]] = []
    for c in cases:
        rows += run_case(c, a.time_limit, a.quick)
        _write_csv(a.out / "precision_study.partial.csv", rows)  # nothing lost on a crash
    old = a.out / "precision_study.csv"
    done = {c.name for c in cases}
    for extra in ([old] if a.only and old.exists() else []) + a.merge:
        # the other networks' rows of earlier runs stay
        with open(extra, newline="") as f:
            kept = [_typed(r) for r in csv.DictReader(f) if r["network"] not in done]
        done |= {r["network"] for r in kept}
        rows = kept + rows
    _write_csv(a.out / "precision_study.csv", rows)
    (a.out / "precision_study.partial.csv").unlink(missing_ok=True)
    body = summary(rows) + "\n\n" + milp_check(rows) + "."
    cmd = COMMAND + (f" --time-limit {a.time_limit:g}" if a.time_limit != 10 else "")
    if a.merge:  # several runs of --only groups (run side by side), merged
        note += f"; the rows of {len(a.merge)} runs of --only groups merged (--merge)"
    took = "" if a.merge else f"; {time.perf_counter() - t0:.0f} s in all"
    write_result(a.out / "precision_speedup.md", cmd, body, note + took)
    plot(rows, ROOT / "docs/studies/precision/pareto.png" if a.out == RESULTS
         else a.out / "pareto.png")
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
