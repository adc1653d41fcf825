"""Throughput and energy per inference against the batch (docs/results.md, "Batch").

Run: ``python benchmarks/batch_table.py`` (about a minute): Llama-2-7B decode (one new token
over 128 cached ones), BERT-Base and ResNet-50 on the paper's hardware, scheduled by ``jit`` at
batches 1, 2, 4, ..., 256; writes ``benchmarks/results/batch.md`` and the plot
``docs/figures/batch.png``, and prints the table. Every figure comes from the evaluator (the
statistical pulse model: the built-ins carry no weights) and the bounds.

A network is **compute-bound** from the smallest batch of the sweep at which its write bound
(the time the accelerator needs to write every APU row of the network once, at its write
bandwidth and slots: a floor that no batch changes) is less than half of the batch's latency:
from there on, the windows take more time than the writes, and doubling the batch nearly
doubles its latency, while below it the extra windows mostly hide under the writes.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from doctables import RESULTS, ROOT, markdown_table, write_result

from aras.evaluation.bounds import bounds
from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.heuristics import jit
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network

#: (label, built-in name, load options)
NETWORKS: list[tuple[str, str, dict[str, Any]]] = [
    ("Llama-2-7B decode", "llama-2-7b", {"phase": "decode"}),
    ("BERT-Base", "bert-base", {}),
    ("ResNet-50", "resnet50", {}),
]
BATCHES = [1 << k for k in range(9)]  # 1 .. 256
#: Compute-bound once the write bound is less than this share of the batch's latency.
WRITE_SHARE = 0.5
PLOT = ROOT / "docs" / "figures" / "batch.png"


def measure(hardware: str = "aras") -> list[dict[str, Any]]:
    """One record per network and batch: latency, throughput, energy per inference, bounds."""
    hw = load_hardware(hardware)
    rows = []
    for label, name, opts in NETWORKS:
        net = load_network(name, **opts)
        for b in BATCHES:
            p = map_network(net, hw, batch=b)
            rep = evaluate(p, jit(p))
            assert rep.valid, rep.violations
            bd = bounds(p)
            rows.append({"network": label, "batch": b, "latency_s": rep.latency_s,
                         "throughput_inf_s": rep.throughput_inf_s,
                         "energy_per_inference_j": rep.energy_per_inference_j,
                         "write_j": rep.energy.rram_write / b,
                         "write_bound_s": hw.seconds(bd.write),
                         "lower_bound_s": hw.seconds(bd.lower),
                         "steps": len(p.steps)})
    return rows


def compute_bound_batch(rows: list[dict[str, Any]], label: str) -> int | None:
    """The smallest batch of the sweep at which ``label`` is compute-bound (None: none)."""
    for r in rows:
        if r["network"] == label and r["write_bound_s"] < WRITE_SHARE * r["latency_s"]:
            return int(r["batch"])
    return None


def table(rows: list[dict[str, Any]] | None = None) -> str:
    """The Markdown body of ``benchmarks/results/batch.md``."""
    rows = measure() if rows is None else rows
    base = {r["network"]: r for r in rows if r["batch"] == 1}
    body = [[r["network"], str(r["batch"]), f"{r['latency_s'] * 1e3:.3f}",
             f"{r['throughput_inf_s']:,.1f}",
             f"{r['throughput_inf_s'] / base[r['network']]['throughput_inf_s']:.1f}x",
             f"{r['energy_per_inference_j'] * 1e3:.3f}", f"{r['write_j'] * 1e3:.3f}",
             f"{r['write_bound_s'] / r['latency_s']:.0%}",
             f"{r['latency_s'] / r['lower_bound_s'] - 1:.1%}"] for r in rows]
    cb = []
    for label, _, _ in NETWORKS:
        b = compute_bound_batch(rows, label)
        cb.append(f"{label}: " + (f"batch {b}" if b is not None else
                                  f"write-bound up to batch {BATCHES[-1]}"))
    head = ("Hardware `aras`, method `jit`, statistical pulse model. Latency of the whole batch "
            "(ms), throughput in inferences (tokens, for decode) per second, energy per "
            "inference (mJ) and its ReRAM write part; write share = the write bound over the "
            "batch's latency; gap = latency over the certified lower bound, less 1. "
            f"Compute-bound (write share under {WRITE_SHARE:.0%}) from: " + "; ".join(cb) + ".")
    return head + "\n\n" + markdown_table(
        ["network", "batch", "latency (ms)", "inf/s", "vs batch 1", "energy/inf (mJ)",
         "write/inf (mJ)", "write share", "gap"], body)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Throughput and energy per inference against the batch, one line per network."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, e) = plt.subplots(1, 2, figsize=(10, 4))
    for label, _, _ in NETWORKS:
        rs = [r for r in rows if r["network"] == label]
        bs = [r["batch"] for r in rs]
        line, = a.plot(bs, [r["throughput_inf_s"] for r in rs], "o-", label=label)
        e.plot(bs, [r["energy_per_inference_j"] * 1e3 for r in rs], "o-", label=label,
               color=line.get_color())
        cb = compute_bound_batch(rows, label)
        if cb is not None:
            r = next(x for x in rs if x["batch"] == cb)
            a.plot([cb], [r["throughput_inf_s"]], "s", ms=11, mfc="none",
                   color=line.get_color())
            e.plot([cb], [r["energy_per_inference_j"] * 1e3], "s", ms=11, mfc="none",
                   color=line.get_color())
    for ax, ylabel in ((a, "throughput (inferences / s)"), (e, "energy per inference (mJ)")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch")
        ax.set_ylabel(ylabel)
        ax.set_xticks(BATCHES, [str(b) for b in BATCHES])
        ax.grid(True, which="both", alpha=0.3)
    a.legend(title="squares: compute-bound from", fontsize=8, title_fontsize=8)
    fig.suptitle("ARAS, jit schedules: batch B on one set of written weights")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args()
    rows = measure()
    text = table(rows)
    print(text)
    if not args.no_write:
        write_result(RESULTS / "batch.md", "python benchmarks/batch_table.py", text)
        plot(rows, PLOT)
        print(f"wrote {RESULTS / 'batch.md'} and {PLOT}")


if __name__ == "__main__":
    main()
