"""Wear-leveling on the five paper networks (docs/energy.md, "Wear").

Run: ``python benchmarks/wear_table.py`` (about 30 s): every network on the paper's hardware,
scheduled by ``aras`` and ``jit``; the binding rotated by one row per inference, every
inference of the 576-inference cycle validated by the evaluator; writes per APU row per
inference (min / mean / max), the most-written row under rotation, and the lifespans at the
paper's real-time rate (30 inf/s CNNs, 100 inf/s BERT) and the default endurance (1e10).
Writes ``benchmarks/results/wear.md`` and prints the table.
"""

from __future__ import annotations

from doctables import RESULTS, markdown_table, write_result

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.methods.solve import METHODS
from aras.methods.wear import rotation
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network

NETS = ("vgg16", "resnet50", "densenet161", "bert-base", "bert-large")


def main() -> None:
    rows = []
    for name in NETS:
        p = map_network(load_network(name), aras_hardware())
        for method in ("aras", "jit"):
            s = METHODS[method](p)
            rep = evaluate(p, s)
            r = rotation(p, s, 1)
            assert r.valid, r.violations[:3]
            de = (r.write_energy_rotated_j - r.write_energy_fixed_j) / r.write_energy_fixed_j
            rows.append([name, method, f"{rep.row_writes_min:.0f} / {rep.row_writes_mean:.2f} / "
                         f"{rep.row_writes_max:.0f}", f"{r.rotated_max_row_writes:.2f}",
                         f"{r.lifespan_fixed_years:.2f}", f"{r.lifespan_rotated_years:.2f}",
                         f"{r.lifespan_ratio:.2f}x", f"{de:+.3%}"])
    table = markdown_table(["network", "method", "row writes min / mean / max",
                            "rotated max", "lifespan fixed (y)", "lifespan rotated (y)",
                            "ratio", "write energy"], rows)
    print(table)
    write_result(RESULTS / "wear.md", "python benchmarks/wear_table.py", table)


if __name__ == "__main__":
    main()
