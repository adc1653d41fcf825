"""Regenerate ``aras/evaluation/tpu_seed.json``: SCALE-Sim's per-layer results for the paper's
networks (and MiniLM-L6) at the default TPU-like configuration.

    python benchmarks/tpu_seed.py [--cache DIR]

Every layer shape is simulated by SCALE-Sim (or read from the cache DIR, default the user
cache, which this fills), then the entries the networks use are written to the seed file.
A cold run takes about 9 minutes on this project's 2-core machine (VGG-16 alone 7).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ["ARAS_TPU_CACHE_NO_SEED"] = "1"  # never copy the old seed into the new one

from aras.evaluation import tpu  # noqa: E402
from aras.frontends import load_network  # noqa: E402

NETWORKS = ["vgg16", "resnet50", "densenet161", "bert-base", "bert-large", "minilm-l6"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=None, help="SCALE-Sim cache directory")
    args = ap.parse_args()
    cfg = tpu.TpuConfig()
    version = tpu.scalesim_version()
    seed: dict[str, dict] = {}
    for name in NETWORKS:
        try:
            net = load_network(name)
        except Exception as exc:  # MiniLM needs its optional package
            print(f"{name}: skipped ({exc})")
            continue
        works, _ = tpu.network_work(net, cfg)
        shapes = list(dict.fromkeys(s for w in works for s, _ in w.blocks))
        for s in shapes:
            counts, _hit = tpu.simulate(s, cfg, args.cache)
            seed[tpu._key(s, cfg, version)] = {"shape": list(s), "scalesim": version,
                                               "config": cfg.simulator_key(), "counts": counts}
        print(f"{name}: {len(shapes)} shapes")
    tpu.SEED_FILE.write_text(json.dumps(seed, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {tpu.SEED_FILE} ({len(seed)} shapes)")


if __name__ == "__main__":
    main()
