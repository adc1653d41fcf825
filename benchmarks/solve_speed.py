"""How long a solve of a deep network takes, bound by bound (big inputs must stay fast).

Builds a GPT-style decoder of ``--blocks`` blocks (hidden 768, 13 ops a block: 440 blocks are
5,721 ops) and a BERT encoder of ``--bert-blocks`` blocks (768 blocks: 9,985 ops), then times
each bound, the method and the evaluation, and the whole ``solve``, in wall and CPU seconds.

    python benchmarks/solve_speed.py [--blocks 440] [--bert-blocks 768]
                                     [--methods baseline aras jit]

Machine-dependent: on a shared 2-core machine wall time can be 2-3x the CPU time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aras.evaluation import bounds as B  # noqa: E402
from aras.evaluation import relaxed_bounds as RB  # noqa: E402
from aras.evaluation import window as W  # noqa: E402
from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.frontends.builders import DecoderShape, bert_encoder, decoder  # noqa: E402
from aras.methods.solve import METHODS, solve  # noqa: E402
from aras.model.hardware import aras_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402
from aras.model.network import Network  # noqa: E402


def timed(label: str, fn: Callable[[], Any]) -> Any:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    print(f"  {label:18s} {time.perf_counter() - w:7.2f} s wall {time.process_time() - c:7.2f} s "
          "CPU", flush=True)
    return out


def run(net: Network, methods: list[str]) -> None:
    p = map_network(net, aras_hardware())
    print(f"{net.name}: {len(net.ops):,} ops, {len(p.steps):,} steps")
    for name, fn in (("write bound", B.write_bound), ("chain bound", B.chain_bound),
                     ("area bound", B.area_bound), ("cut bound", B.cut_bound)):
        timed(name, lambda fn=fn: fn(p))
    rx = timed("relaxed instance", lambda: RB._relaxed(p))
    timed("path + window", lambda: W._window_with_path(p, rx, []))
    for m in methods:
        sched = timed(f"{m} (method)", lambda m=m: METHODS[m](p, banks="greedy"))
        timed(f"{m} evaluate", lambda s=sched: evaluate(p, s))
        res = timed(f"solve -m {m}", lambda m=m: solve(p, m))
        print(f"    {res.status.value}, makespan {res.objective:,}, lower bound {res.bound:,}")
    print(f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=440)
    ap.add_argument("--bert-blocks", type=int, default=768)
    ap.add_argument("--methods", nargs="+", default=["baseline", "aras", "jit"])
    args = ap.parse_args()
    if args.blocks:
        run(decoder(f"gpt-{args.blocks}", DecoderShape(hidden=768, layers=args.blocks, heads=12,
                                                       ffn=3072), tokens=128), args.methods)
    if args.bert_blocks:
        run(bert_encoder(f"bert-{args.bert_blocks}", 768, 12, 3072, args.bert_blocks, 128),
            args.methods)


if __name__ == "__main__":
    main()
