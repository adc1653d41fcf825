"""Whose is the periodic gap? Exact least periods of tiny instances against the periodic
bound and the steady-state ``jit`` (docs/bounds.md, "Periodic bound"; docs/steady-state.md).

Run: ``python benchmarks/periodic_exact.py`` (about a minute; ``--random N``, ``--seed S``).
It writes ``benchmarks/results/periodic_exact.md`` and prints it.

The exact least period comes from ``tests/periodic_exhaustive.py`` (every resident choice,
replication, order, compute start and row; no code shared with the methods or the bounds),
and its schedule is checked by the periodic evaluator. Two sets: small networks in the
shape of the CNNs (a convolution with many windows on one APU row, a global pool, then one
or two linears with many rows: early compute, late rows), each on 3-4 rows at T of 3-5
cycles; and ``N`` random tiny networks (linear chains, parallel linears joined by a concat,
and that CNN shape) on 2-4 rows at T of 2-5 cycles, one cycle a window.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from doctables import RESULTS, write_result  # noqa: E402

from aras.evaluation.periodic import evaluate_periodic  # noqa: E402
from aras.evaluation.periodic_bounds import periodic_bounds  # noqa: E402
from aras.methods.heuristics.steady import steady  # noqa: E402
from aras.model.mapping import Problem, map_network  # noqa: E402
from aras.model.network import Network, NetworkBuilder  # noqa: E402
from tests.periodic_exhaustive import hardware, periodic_optimum, schedule_of  # noqa: E402

WIDTHS = (64, 128, 256, 384)


def cnn_like(h: int, c: int, d1: int, d2: int | None) -> Network:
    """Conv 1x1 (8 -> c) on an h x h map, global pool, linear c -> d1 (and d1 -> d2)."""
    b = NetworkBuilder(f"cnn{h}-{c}-{d1}" + (f"-{d2}" if d2 else ""), {"x": (8, h, h)})
    y = b.linear("f1", b.pool("gap", b.conv("c1", "x", 8, c, 1), global_=True), c, d1)
    if d2:
        b.linear("f2", y, d1, d2)
    return b.build()


def random_network(rng: np.random.Generator, name: str) -> Network:
    """A linear chain, two parallel linears joined by a concat, or the CNN shape."""
    kind = int(rng.integers(0, 4))
    if kind >= 2:
        return cnn_like(int(rng.integers(2, 5)), int(rng.choice((32, 64, 128))),
                        int(rng.choice(WIDTHS)),
                        int(rng.choice(WIDTHS)) if kind == 3 else None)
    d = int(rng.choice(WIDTHS))
    b = NetworkBuilder(name, {"x": (int(rng.integers(1, 9)), d)})
    if kind == 0:
        x = "x"
        for i in range(int(rng.integers(2, 4))):
            d2 = int(rng.choice(WIDTHS))
            x, d = b.linear(f"l{i}", x, d, d2), d2
    else:
        w1, w2 = int(rng.choice(WIDTHS)), int(rng.choice(WIDTHS))
        cat = b.add("cat", "concat", [b.linear("a", "x", d, w1), b.linear("b", "x", d, w2)],
                    axis=1)
        b.linear("o", cat, w1 + w2, int(rng.choice(WIDTHS)))
    return b.build()


def measure(p: Problem) -> tuple[int, int, int, int] | None:
    """(least period, periodic bound, steady-state jit period, the bound without its window
    bound), or None when the instance is trivial (every row fits at once) or too large to
    enumerate."""
    N = p.hardware.total_apu_rows
    if p.weight_rows <= N or len(p.weighted_steps) > 4:
        return None
    try:
        opt = periodic_optimum(p, limit=20000, p_max=200)
    except ValueError:
        return None
    rep = evaluate_periodic(p, schedule_of(p, opt))
    assert rep.valid and rep.period_cycles == opt.period, rep.violations
    b = periodic_bounds(p)
    j = steady(p, "jit", "auto", lower=b.lower)
    assert evaluate_periodic(p, j).valid
    assert b.lower <= opt.period <= j.period, (b.to_dict(), opt.period, j.period)
    return opt.period, b.lower, j.period, max(b.compute, b.area, b.rows, b.bandwidth)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--random", type=int, default=400, help="random tiny instances")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    t0 = time.perf_counter()
    out = ["Least periods in cycles (exhaustive), the periodic lower bound (`lower`, with its "
           "window bound) and the steady-state `jit` (`--resident auto`).\n",
           "**Networks in the shape of the CNNs** (conv `c1` with h x h windows on one row, "
           "global pool, linears `f1`, `f2`):\n",
           "| network | rows N | T | rows per part | windows | least period | bound | "
           "window bound | jit |", "|---|---|---|---|---|---|---|---|---|"]
    shapes = [(3, 64, 256, 256), (3, 128, 256, 128), (4, 64, 384, 128), (2, 64, 256, 256),
              (3, 64, 128, 384)]
    for h, c, d1, d2 in shapes:
        for N, T in ((3, 3), (4, 3), (4, 4), (3, 4), (4, 5)):
            p = map_network(cnn_like(h, c, d1, d2), hardware(N, T))
            got = measure(p)
            if got is None:
                continue
            opt, low, jp, _ = got
            out.append(f"| {p.network.name} | {N} | {T} | "
                       f"{', '.join(str(s.apu_rows) for s in p.weighted_steps)} | "
                       f"{', '.join(str(s.windows) for s in p.weighted_steps)} | {opt} | "
                       f"{low} | {periodic_bounds(p).window} | {jp} |")
    rng = np.random.default_rng(args.seed)
    rows = []
    while len(rows) < args.random:
        net = random_network(rng, f"r{len(rows)}")
        p = map_network(net, hardware(int(rng.integers(2, 5)), int(rng.integers(2, 6))))
        got = measure(p)
        if got is not None:
            rows.append(got)
    opt_a, low_a, j_a, old_a = (np.array([r[i] for r in rows], dtype=float) for i in range(4))
    below = opt_a / low_a - 1
    old = opt_a / old_a - 1
    above = j_a / opt_a - 1
    gmean = math.exp(float(np.log(opt_a / low_a).mean())) - 1
    out += ["", f"**{len(rows)} random tiny instances** (seed {args.seed}): the bound never "
            "exceeds the least period and `jit` never beats it (both asserted).\n",
            "| | instances | at the least period | geometric mean | worst |",
            "|---|---|---|---|---|",
            f"| periodic bound below the least period | {len(rows)} | "
            f"{int((below == 0).sum())} | {gmean:.1%} | {below.max():.1%} |",
            f"| the same without the window bound | {len(rows)} | {int((old == 0).sum())} | "
            f"{math.exp(float(np.log(opt_a / old_a).mean())) - 1:.1%} | {old.max():.1%} |",
            f"| `jit` above the least period | {len(rows)} | {int((above == 0).sum())} | "
            f"{math.exp(float(np.log(j_a / opt_a).mean())) - 1:.2%} | {above.max():.1%} |"]
    body = "\n".join(out)
    print(body)
    print(f"({time.perf_counter() - t0:.0f} s)")
    write_result(RESULTS / "periodic_exact.md", "python benchmarks/periodic_exact.py", body)


if __name__ == "__main__":
    main()
