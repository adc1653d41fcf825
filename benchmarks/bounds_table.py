"""Every certified lower bound on the five networks, in ms, and how long they take.

Run: ``python benchmarks/bounds_table.py [--hardware aras|baseline|FILE]`` (about 5 s);
writes ``benchmarks/results/bounds.md`` (with ``--hardware``: ``bounds-HW.md``) and prints
it. The bounds and their proofs are in docs/bounds.md; ``lower`` is the largest of them,
the one every solve reports. The time is one computation of all of them in this process.
"""

from __future__ import annotations

import argparse
import time

from doctables import RESULTS, load_note, markdown_table, write_result

from aras.evaluation.bounds import bounds
from aras.frontends.zoo import BUILTIN
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network

KINDS = ("write", "chain", "area", "cut", "path", "window", "lower")


def table(hardware: str = "aras") -> str:
    """The table (Markdown, with its one-line legend)."""
    hw = load_hardware(hardware)
    rows = []
    for name in BUILTIN:
        p = map_network(BUILTIN[name](), hw)
        t = time.perf_counter()
        b = bounds(p).to_dict()
        dt = time.perf_counter() - t
        rows.append([name, *[f"{hw.seconds(b[k]) * 1e3:.3f}" for k in KINDS], f"{dt:.2f}"])
    return (f"Hardware `{hw.name}`; bounds in ms.\n\n"
            + markdown_table(["network", *KINDS, "time (s)"], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default="aras")
    args = ap.parse_args()
    note = load_note()
    name = "bounds.md" if args.hardware == "aras" else f"bounds-{args.hardware}.md"
    command = "python benchmarks/bounds_table.py" + (
        "" if args.hardware == "aras" else f" --hardware {args.hardware}")
    print(write_result(RESULTS / name, command, table(args.hardware), note).read_text())


if __name__ == "__main__":
    main()
