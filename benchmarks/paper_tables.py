"""The paper's evaluation reproduced: ``docs/paper/`` and the two tables the pages show.

Run: ``python benchmarks/paper_tables.py`` (about 30 s with the ``minilm`` and ``tpu``
extras installed; the TPU-like figures come from SCALE-Sim's results shipped with aras).
It runs ``aras paper --output docs/paper`` (``results.csv``, ``tpu.csv``, ``summary.md`` and
the plots), then writes ``benchmarks/results/paper.md`` (the four configurations: throughput,
share of the write bound, energy), ``benchmarks/results/tpu.md`` (ARAS against the
TPU-like accelerator) and ``benchmarks/results/energy_base.md`` (energy by component under
Base) from those CSV files. ``--from DIR`` reads another ``aras paper``
directory instead of running it.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from doctables import RESULTS, ROOT, markdown_table, write_result

from aras.studies.paper import PAPER

PAPER_DIR = ROOT / "docs" / "paper"
FIVE = list(PAPER["throughput_inf_s"])


def _rows(path: Path) -> list[dict[str, object]]:
    def num(v: str) -> object:
        try:
            return float(v)
        except ValueError:
            return v

    with path.open(newline="") as f:
        return [{k: num(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _pct(x: float) -> str:
    return f"{x * 100:+.1f}%" if x else "0.0%"


def paper_table(directory: Path = PAPER_DIR) -> str:
    """Throughput, share of the write bound, energy and pulses of the four configurations."""
    by = {(r["network"], r["config"]): r for r in _rows(directory / "results.csv")}
    nets = list(dict.fromkeys(n for n, _ in by))

    def f(n: str, c: str, k: str) -> float:
        v = by[n, c][k]
        assert isinstance(v, float), (n, c, k, v)
        return v

    def reuse(n: str) -> float:
        return 1 - f(n, "all", "write_pulses") / f(n, "bank-repl", "write_pulses")

    def row(n: str) -> list[str]:
        return [n, f"{f(n, 'base', 'throughput_inf_s'):.1f}",
                f"{f(n, 'all', 'throughput_inf_s'):.1f}",
                f"{f(n, 'all', 'speedup'):.2f}x", str(PAPER["throughput_inf_s"].get(n, "-")),
                f"{f(n, 'base', 'bound_fraction'):.0%}", f"{f(n, 'all', 'bound_fraction'):.0%}",
                f"{f(n, 'bank-repl', 'extra_weights'):.1%}",
                *[_pct(f(n, c, "energy_norm") - 1) for c in ("bank", "bank-repl", "all")],
                f"{reuse(n):.1%}"]

    five = [n for n in nets if n in FIVE]
    rows = [row(n) for n in five]
    rows.append(["mean of the five", "", "", "", "",
                 f"{_mean([f(n, 'base', 'bound_fraction') for n in five]):.0%}",
                 f"{_mean([f(n, 'all', 'bound_fraction') for n in five]):.0%}",
                 f"{_mean([f(n, 'bank-repl', 'extra_weights') for n in five]):.1%}",
                 *[_pct(_mean([f(n, c, 'energy_norm') for n in five]) - 1)
                   for c in ("bank", "bank-repl", "all")],
                 f"{_mean([reuse(n) for n in five]):.1%}"])
    es = PAPER["energy_saving"]
    rows.append(["paper", "", "", f"up to {PAPER['max_speedup']}x", "",
                 f"{PAPER['bound_fraction']['base']:.0%}", f"{PAPER['bound_fraction']['all']:.0%}",
                 f"{PAPER['extra_weights_replication']:.1%}",
                 *[f"-{es[c]:.0%}" for c in ("bank", "bank-repl", "all")],
                 f"{PAPER['pulse_reduction_reuse']:.0%}"])
    rows += [row(n) for n in nets if n not in FIVE]
    return ("Hardware `aras`; Base is the baseline scheduler on 15 x 256 KB banks, +All adds "
            "the heterogeneous banks (ILP bank choice), ARAS replication and weight reuse. "
            "Energy: change against Base.\n\n"
            + markdown_table(["network", "Base inf/s", "+All inf/s", "speedup",
                              "paper ARAS inf/s", "write bound / makespan, Base", "+All",
                              "extra weights (Repl)", "energy +Bank", "+Bank+Repl", "+All",
                              "pulses saved by reuse"], rows))


def tpu_table(directory: Path = PAPER_DIR) -> str:
    """ARAS (+All) against the TPU-like accelerator (Figs. 16-17)."""
    trows = _rows(directory / "tpu.csv")

    def g(r: dict[str, object], k: str) -> float:
        v = r[k]
        assert isinstance(v, float), (k, v)
        return v

    rows = []
    for r in trows:
        parts = " / ".join(f"{g(r, f'tpu_energy_{k}_j') * 1e3:.2f}"
                           for k in ("mac", "sram", "dram", "static"))
        rows.append([str(r["network"]), f"{g(r, 'tpu_latency_s') * 1e3:.3f}",
                     f"{g(r, 'aras_latency_s') * 1e3:.3f}", f"{g(r, 'speedup'):.2f}x",
                     f"{g(r, 'tpu_energy_total_j') * 1e3:.2f}", parts,
                     f"{g(r, 'aras_energy_total_j') * 1e3:.2f}", f"{g(r, 'energy_norm'):.3f}"])
    five = [r for r in trows if r["network"] in FIVE]
    sp = [g(r, "speedup") for r in five]
    sv = [1 - g(r, "energy_norm") for r in five]
    summary = [["max / mean of the five", "", "", f"{max(sp):.2f}x / {_mean(sp):.2f}x", "", "",
                "", f"saving max {max(sv):.0%}, mean {_mean(sv):.0%}"],
               ["paper", "", "", f"up to {PAPER['tpu_max_speedup']}x", "", "", "",
                f"saving max {PAPER['tpu_max_saving']:.0%}, mean {PAPER['tpu_mean_saving']:.0%}"]]
    order = [x for x in rows if x[0] in FIVE] + summary + [x for x in rows if x[0] not in FIVE]
    return ("TPU-like: SCALE-Sim, 64 x 64 MACs weight stationary, 4.5 MB buffer, 1 GHz, "
            "19.2 GB/s; speedup = TPU-like latency / ARAS latency.\n\n"
            + markdown_table(["network", "TPU-like ms", "ARAS +All ms", "speedup", "TPU-like mJ",
                              "of which MAC / SRAM / DRAM / static", "ARAS +All mJ",
                              "ARAS / TPU energy"], order))


def energy_table(directory: Path = PAPER_DIR) -> str:
    """Energy by component under Base (baseline scheduler, homogeneous banks), largest bold."""
    parts = ["rram_write", "gbuffer_static", "dram", "compute", "gbuffer_dynamic"]
    rows = []
    for r in _rows(directory / "results.csv"):
        if r["config"] != "base":
            continue
        mj = {k: float(r[f"energy_{k}_j"]) * 1e3 for k in parts}  # type: ignore[arg-type]
        top = max(mj, key=lambda k: mj[k])
        rows.append([str(r["network"]), *[f"**{mj[k]:.2f}**" if k == top else f"{mj[k]:.2f}"
                                          for k in parts],
                     f"{float(r['energy_total_j']) * 1e3:.2f}"])  # type: ignore[arg-type]
    return ("Base configuration (baseline scheduler, 15 x 256 KB banks), mJ per inference; the "
            "largest component in bold.\n\n"
            + markdown_table(["network", "ReRAM write", "Gbuffer static", "DRAM", "compute",
                              "Gbuffer dynamic", "total"], rows))


def run(directory: Path) -> None:
    """``aras paper --output DIR``, MiniLM-L6 and the TPU-like figures when installed."""
    from aras.studies.paper import run_paper

    run_paper(directory, include_minilm=True, tpu=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source", type=Path, default=None,
                    help="an 'aras paper' directory to read instead of running it")
    args = ap.parse_args()
    directory = args.source or PAPER_DIR
    command = "python benchmarks/paper_tables.py"
    if args.source is None:
        run(directory)
    else:
        command += f" --from {args.source}"
    for name, body in (("paper.md", paper_table(directory)), ("tpu.md", tpu_table(directory)),
                       ("energy_base.md", energy_table(directory))):
        print(write_result(RESULTS / name, command, body).read_text())


if __name__ == "__main__":
    main()
