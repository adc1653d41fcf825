"""Markdown table of steady-state (periodic) schedules on the five networks (README figures).

Run: ``python benchmarks/steady_table.py --set instances/sets/steady.toml`` (12 minutes on 2
loaded cores; or ``[--method jit] [--hardware aras] [--shares 0.25]``); with ``--set`` it writes
``benchmarks/results/steady.md``, and it prints the table.
Per network: the method's isolated schedule (latency, throughput, energy), its steady-state
schedule without resident layers and with them (``--resident auto``, and each share of
``--shares``), energy and write energy per inference, lifespan at the real-time rate and
the gap to the periodic bound. Every figure comes from the evaluators.
"""

from __future__ import annotations

import argparse

from doctables import RESULTS, load_note, write_result

from aras.evaluation.evaluator import evaluate
from aras.frontends.zoo import BUILTIN
from aras.methods.heuristics import aras, baseline, jit
from aras.methods.steady import solve_steady
from aras.model.hardware import load_hardware
from aras.model.mapping import map_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--method", default="jit", choices=["baseline", "aras", "jit"])
    ap.add_argument("--shares", default="0.25", help="comma-separated resident shares")
    ap.add_argument("--networks", default=",".join(BUILTIN))
    ap.add_argument("--set", default=None, help="a steady-state study set (TOML)")
    args = ap.parse_args()
    methods = [args.method]
    residents: list[str | float] = ["none", "auto",
                                    *[float(x) for x in args.shares.split(",") if x]]
    networks = args.networks.split(",")
    milp: dict = {"write_weights": [], "time_limit": 10}
    if args.set:
        from aras.model.files import read_toml

        st = read_toml(args.set, "study set")
        networks, methods = st["networks"], st.get("methods", methods)
        residents = st.get("resident", residents)
        args.hardware = st.get("hardware", args.hardware)
        milp.update(st.get("milp", {}))
    hw = load_hardware(args.hardware)
    note = load_note()
    out = [f"Hardware `{hw.name}`. Times in ms, energy in mJ per inference (write: ReRAM write "
           "energy), lifespan in years at the real-time rate; isolated: the method's isolated "
           "schedule (`jit`'s for `milp`); gap = period / periodic lower bound - 1; `w=`: the "
           f"MILP with that write weight, {milp['time_limit']:g} s.\n",
           "| network | method | resident | isolated latency | isolated inf/s | isolated energy "
           "(write) | period | latency | steady inf/s | energy (write) | resident rows | "
           "lifespan | periodic bound | gap |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(out))
    runs = [(m, res, {}) for m in methods for res in residents]
    runs += [("milp", "none", {"omega": w, "time_limit": milp["time_limit"]})
             for w in milp["write_weights"]]
    for name in networks:
        p = map_network(BUILTIN[name](), hw)
        iso_of = {}
        for method, res, opts in runs:
            key = "jit" if method == "milp" else method
            if key not in iso_of:
                fn = {"baseline": baseline, "aras": aras, "jit": jit}[key]
                iso_of[key] = evaluate(p, fn(p))
            iso = iso_of[key]
            assert iso.valid
            r = solve_steady(p, method, res, **opts)
            label = f"w={opts['omega']}" if opts else res
            rep, ps = r.report, r.schedule
            assert rep.valid, rep.violations
            ms = lambda c: hw.seconds(c) * 1e3  # noqa: E731
            out.append(
                f"| {name} | {method} | {label} | {iso.latency_s * 1e3:.3f} | "
                f"{iso.throughput_inf_s:.1f} | "
                f"{iso.energy.total * 1e3:.2f} ({iso.energy.rram_write * 1e3:.2f}) | "
                f"{ms(ps.period):.3f} | {ms(ps.latency):.3f} | {rep.throughput_inf_s:.1f} | "
                f"{rep.energy.total * 1e3:.2f} ({rep.energy.rram_write * 1e3:.2f}) | "
                f"{rep.resident_rows} | {rep.lifespan_realtime_years:.2f} | "
                f"{ms(r.bounds.lower):.3f} | {ps.period / r.bounds.lower - 1:.1%} |")
            print(out[-1], flush=True)
    if args.set:
        write_result(RESULTS / "steady.md", f"python benchmarks/steady_table.py --set {args.set}",
                     "\n".join(out), note)


if __name__ == "__main__":
    main()
