"""Certified gaps of Llama-style decoders (prefill, 128 tokens) on the paper's hardware.

Run: ``python benchmarks/llm_bounds.py [--models llama-2-7b,llama-2-70b] [--time-limit 60]``
(about a minute per model on 2 cores). Builds each decoder from its HuggingFace config as
``benchmarks/evaluate_speed.py`` does, computes every bound (docs/bounds.md) and solves it with
``jit`` at the time limit; prints steps, the area, conflict and certified lower bounds, ``jit``'s
makespan and its gap, and the seconds the bounds and the solve took.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_speed import MODELS  # noqa: E402

from aras.evaluation.bounds import bounds  # noqa: E402
from aras.frontends import load_network  # noqa: E402
from aras.methods.solve import solve  # noqa: E402
from aras.model.hardware import load_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="llama-2-7b,llama-2-70b")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    hw = load_hardware("aras")
    print("| model | steps | area bound | conflict bound | lower | jit | gap | bounds (s) "
          "| jit (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for m in args.models.split(","):
            cfg = Path(tmp) / f"{m}.config.json"
            cfg.write_text(json.dumps({"architectures": ["LlamaForCausalLM"],
                                       "model_type": "llama", "vocab_size": 32000,
                                       **MODELS[m]}))
            p = map_network(load_network(str(cfg)), hw)
            t = time.perf_counter()
            b = bounds(p)
            tb = time.perf_counter() - t
            t = time.perf_counter()
            r = solve(p, "jit", time_limit=args.time_limit)
            ts = time.perf_counter() - t
            assert r.report is not None and r.report.valid
            print(f"| {m} | {len(p.steps):,} | {b.area:,} | {b.conflict:,} | {b.lower:,} | "
                  f"{r.objective:,} | {r.objective / b.lower - 1:.2%} | {tb:.1f} | {ts:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
