"""Markdown table: Gbuffer energy of per-step banks against liveness banks on the five networks.

Run: ``python benchmarks/liveness_table.py [--hardware aras|baseline|FILE] [--time-limit S]``
(about 20 s); writes ``benchmarks/results/liveness.md`` and prints it. Timing comes from
``solve(problem, method="aras", banks="ilp")``;
the liveness pass (``formulations/liveness.py``) rewrites only its banks. Columns:

- *per-step*: the evaluator's Gbuffer static energy of the per-step ILP banks (R8 as
  written) plus the DRAM bytes of multi-pass steps (VGG-16 only). Not liveness-correct: a
  tensor is only charged during the steps that read or write it (and the idle gaps after
  them), and it moves between banks for free, so skip tensors are never held.
- *per-step banks, all spilled*: the same banks made liveness-correct the only way they can
  be: every tensor goes to DRAM after its producer and comes back for each consumer (static
  leakage during computes plus the DRAM traffic).
- *greedy* and *MILP*: liveness assignments (leakage while tensors are held, plus the DRAM
  traffic of spilled tensors), the MILP warm-started from the greedy one.
- *spills if DRAM x1e4*: tensors the MILP still spills when DRAM traffic costs 10^4 times
  more, i.e. the spills forced by capacity or multi-pass steps rather than chosen on cost.
"""

from __future__ import annotations

import argparse

from doctables import RESULTS, load_note, write_result

from aras.evaluation.evaluator import evaluate
from aras.evaluation.liveness import Assignment, apply_assignment, tensors_of
from aras.frontends.zoo import BUILTIN
from aras.methods.solve import solve
from aras.model.hardware import Hardware, load_hardware
from aras.model.mapping import Problem, map_network
from aras.model.schedule import Schedule
from formulations.liveness import LivenessInfo, assign_banks


def _spill_j(p: Problem, s: Schedule) -> tuple[float, float]:
    """(Gbuffer static, activation DRAM) energy of a liveness schedule in joules."""
    hw = p.hardware
    rep = evaluate(p, s)
    assert rep.valid, rep.violations[:3]
    weights = len(s.writes) * hw.apus_per_row * hw.bytes_per_apu_write * hw.dram_energy_j_per_byte
    return rep.energy.gbuffer_static, rep.energy.dram - weights


def all_spilled(p: Problem, s: Schedule) -> Schedule:
    """The per-step schedule made liveness-correct: every tensor spilled, the step's banks."""
    asg = Assignment(spilled=set(tensors_of(p, s)),
                     spill_in={k: x.banks_in for k, x in enumerate(s.steps) if x.banks_in},
                     spill_out={k: x.banks_out for k, x in enumerate(s.steps)})
    return apply_assignment(p, s, asg)


def table(hardware: str = "aras", time_limit: float = 15.0) -> str:
    """The table (Markdown, with its one-line legend)."""
    hw: Hardware = load_hardware(hardware)
    lines = [f"Hardware `{hw.name}`, schedules of `aras` (Algorithm 1); energy in mJ per "
             f"inference; MILP time limit {time_limit:g} s.\n",
             "| network | tensors | per-step: static + DRAM | per-step banks, all spilled: "
             "static + DRAM | greedy: static + DRAM | MILP: static + DRAM | spilled (forced) "
             "| spills if DRAM x1e4 | MILP status | MILP time (s) | model (vars / cons) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name in BUILTIN:
        p = map_network(BUILTIN[name](), hw)
        res = solve(p, method="aras", banks="ilp")
        assert res.schedule is not None and res.report is not None and res.report.valid
        s = res.schedule
        per_step = res.report.energy.gbuffer_static
        per_step_dram = sum(x.spill_bytes for x in p.steps) * hw.dram_energy_j_per_byte
        a_st, a_dr = _spill_j(p, all_spilled(p, s))
        g_st, g_dr = _spill_j(p, assign_banks(p, s, use_milp=False))
        info = LivenessInfo()
        live = assign_banks(p, s, time_limit=time_limit, info=info)
        m_st, m_dr = _spill_j(p, live)
        dear = map_network(BUILTIN[name](), hw.replace(
            dram_energy_j_per_byte=hw.dram_energy_j_per_byte * 1e4))
        dear_info = LivenessInfo()
        assign_banks(dear, s, time_limit=time_limit, info=dear_info)
        status = "optimal" if info.status == "convergenceCriteriaSatisfied" else info.status
        lines.append(
            f"| {name} | {info.tensors} | {per_step * 1e3:.3f} + {per_step_dram * 1e3:.3f} = "
            f"{(per_step + per_step_dram) * 1e3:.3f} | {a_st * 1e3:.3f} + "
            f"{a_dr * 1e3:.3f} = {(a_st + a_dr) * 1e3:.3f} | {g_st * 1e3:.3f} + "
            f"{g_dr * 1e3:.3f} = {(g_st + g_dr) * 1e3:.3f} | {m_st * 1e3:.3f} + "
            f"{m_dr * 1e3:.3f} = {(m_st + m_dr) * 1e3:.3f} | {info.spilled} ({info.forced}) | "
            f"{dear_info.spilled} | {status} ({info.source}) | {info.runtime_s:.1f} | "
            f"{info.variables} / {info.constraints} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--time-limit", type=float, default=15.0)
    args = ap.parse_args()
    note = load_note()
    command = "python benchmarks/liveness_table.py" + (
        "" if args.hardware == "aras" else f" --hardware {args.hardware}") + (
        "" if args.time_limit == 15.0 else f" --time-limit {args.time_limit:g}")
    print(write_result(RESULTS / "liveness.md", command, table(args.hardware, args.time_limit),
                       note).read_text())


if __name__ == "__main__":
    main()
