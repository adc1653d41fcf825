"""Every certified lower bound on the five networks, in ms, and how long they take.

Run: ``python benchmarks/bounds_table.py [--hardware aras|baseline|FILE] [--set PARAM=VALUE
...]`` (about 5 s); writes ``benchmarks/results/bounds.md`` (with ``--hardware`` or ``--set``:
``bounds-HW[-PARAM-VALUE].md``) and prints it. ``--set`` changes one hardware parameter as a
study's sweep does (``--set pes=192``, ``--set write_latency_cycles=x0.5``). The bounds and
their proofs are in docs/bounds.md; ``lower`` is the largest of them, the one every solve
reports. The time is one computation of all of them in this process.

``python benchmarks/bounds_table.py --study instances/sets/sensitivity.toml`` (about 3 minutes)
writes ``benchmarks/results/bounds-sensitivity.md`` instead: for each network and each
numeric variant of the study's sweep, ``lower``, ``jit``'s makespan now, the best makespan in
the study's stored results (``docs/studies/NAME/results.csv``) and the gap of the better of
the two to ``lower``.
"""

from __future__ import annotations

import argparse
import csv
import re
import time
from pathlib import Path

from doctables import RESULTS, load_note, markdown_table, write_result
from prefix_gap import variant

from aras.evaluation.bounds import bounds
from aras.frontends.zoo import BUILTIN
from aras.methods.solve import solve
from aras.model.files import read_toml
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network
from aras.studies.study import _value_name

KINDS = ("write", "chain", "area", "cut", "path", "window", "conflict", "exact", "lower")


def table(hardware: str = "aras", changes: list[str] | None = None) -> str:
    """The table (Markdown, with its one-line legend); ``changes``: ``PARAM=VALUE`` each."""
    changes = changes or []
    hw = variant(load_hardware(hardware), changes)
    rows = []
    for name in BUILTIN:
        p = map_network(BUILTIN[name](), hw)
        t = time.perf_counter()
        b = bounds(p).to_dict()
        dt = time.perf_counter() - t
        # (the exact DP's 0 means it gave up at its caps)
        rows.append([name, *["-" if k == "exact" and not b[k] else
                             f"{hw.seconds(b[k]) * 1e3:.3f}" for k in KINDS], f"{dt:.2f}"])
    label = hw.name + "".join(f", {c}" for c in changes)
    return (f"Hardware `{label}` ({hw.total_apu_rows} APU rows, {hw.write_slots} written at "
            f"once, T = {hw.write_latency_cycles:,} cycles); bounds in ms; `exact`: the exact "
            "DP's optimum, - where it gave up.\n\n"
            + markdown_table(["network", *KINDS, "time (s)"], rows))


def study_table(path: str) -> str:
    """``lower`` against the best known schedule on a study's hardware variants."""
    study = read_toml(path, "study")
    base = study["hardware"]["base"]
    stored: dict[tuple[str, str], tuple[int, str]] = {}
    results = Path("docs/studies") / study["name"] / "results.csv"
    if results.exists():
        with results.open() as f:
            for r in csv.DictReader(f):
                if r["makespan_cycles"]:
                    key, v = (r["network"], r["hardware"]), int(r["makespan_cycles"])
                    if key not in stored or v < stored[key][0]:
                        stored[key] = (v, r["method"])
    variants: list[tuple[str, list[str]]] = [("base", [])] + [
        (f"{param}={_value_name(v)}", [f"{param}={v}"])
        for param, values in study["hardware"].get("sweep", {}).items()
        for v in values if isinstance(v, (int, float)) or str(v).startswith("x")]
    rows = []
    for name in study["networks"]:
        net = BUILTIN[name]()
        for label, changes in variants:
            hw = variant(load_hardware(base), changes)
            p = map_network(net, hw)
            lower = bounds(p).lower
            res = solve(p, "jit")
            jit_ms = f"{hw.seconds(res.objective) * 1e3:.3f}" if res.objective else "-"
            best = [x for x in (res.objective, stored.get((name, label), (None, ""))[0]) if x]
            old = stored.get((name, label))
            rows.append([name, label, str(hw.write_slots), f"{hw.seconds(lower) * 1e3:.3f}",
                         jit_ms,
                         f"{hw.seconds(old[0]) * 1e3:.3f} ({old[1]})" if old else "-",
                         f"{min(best) / lower - 1:.2%}" if best else "-"])
    return (f"Study `{study['name']}` on `{base}`; `S`: rows written at once; times in ms.\n\n"
            + markdown_table(["network", "hardware", "S", "lower", "jit", "best stored",
                              "gap of the best"], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE")
    ap.add_argument("--study", default=None, help="a study file: its variants' table instead")
    args = ap.parse_args()
    note = load_note()
    if args.study:
        command = f"python benchmarks/bounds_table.py --study {args.study}"
        out = RESULTS / f"bounds-{Path(args.study).stem}.md"
        print(write_result(out, command, study_table(args.study), note).read_text())
        return
    suffix = "".join("-" + re.sub(r"[^A-Za-z0-9.]+", "-", c) for c in args.set)
    name = ("bounds.md" if args.hardware == "aras" and not suffix
            else f"bounds-{args.hardware}{suffix}.md")
    command = ("python benchmarks/bounds_table.py"
               + ("" if args.hardware == "aras" else f" --hardware {args.hardware}")
               + "".join(f" --set {c}" for c in args.set))
    print(write_result(RESULTS / name, command, table(args.hardware, args.set), note).read_text())


if __name__ == "__main__":
    main()
