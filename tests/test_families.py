"""The formulation framework: families, objectives, starts, diagnoses and the drivers.

Optima come from :mod:`tests.exhaustive` (enumeration sharing no code with the methods);
concurrency and counts are recomputed here from the schedules' writes.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest

from aras import evaluate, solve
from aras.methods.heuristics import jit
from aras.methods.solve import Status
from aras.model.errors import InputError
from formulations import (
    CORE_FAMILIES,
    Family,
    Formulation,
    Objective,
    ReplicationCap,
    RowsWrittenCap,
    WriteCap,
    default_families,
    families_from,
)
from formulations.window import build
from tests.exhaustive import corpus, optimum

CORPUS = corpus(12)


def _capped_cases() -> list[tuple[str, object, str, int]]:
    """Corpus instances whose optimum copies some layer; that layer capped one copy lower."""
    out = []
    for name, p in CORPUS:
        o = optimum(p, limit=30_000)
        k, r = max(o.reps, key=lambda kr: kr[1])
        if r > 1:
            out.append((name, p, p.steps[k].layer, r - 1))
    return out


def _most_concurrent(starts: np.ndarray, T: int) -> int:
    """Writes in progress at once, by a sweep over every write's interval (independent of
    the family's own count)."""
    events = sorted([(int(t), 1) for t in starts] + [(int(t) + T, -1) for t in starts],
                    key=lambda e: (e[0], e[1]))  # an end at t frees its slot before a start
    most = cur = 0
    for _, d in events:
        cur += d
        most = max(most, cur)
    return most


def test_core_families_state_the_event_model() -> None:
    name, p = CORPUS[0]
    f = Formulation(p)
    m = build(p)
    assert (f.model.nvariables(), f.model.nconstraints()) == (m.nvariables(),
                                                               m.nconstraints())
    assert [x.name for x in f.families] == list(CORE_FAMILIES)
    for q in ("y", "x", "v", "idle", "makespan", "d", "rows", "used", "rows_written",
              "cells_written"):
        assert q in f.quantities and f.quantities[q].doc
    assert f.quantities["x"].family == "row_supply"
    assert [x.name for x in default_families(p, without=["write_slots"])] == \
        list(CORE_FAMILIES[:-1])
    with pytest.raises(InputError, match="without: unknown core families"):
        default_families(p, without=["nope"])


@pytest.mark.parametrize("case", _capped_cases(), ids=lambda c: c[0])
def test_replication_cap_meets_the_enumerated_capped_optimum(case) -> None:
    name, p, layer, cap = case
    capped = optimum(p, limit=30_000, caps={layer: cap}).makespan
    free = optimum(p, limit=30_000).makespan
    assert capped >= free
    res = solve(p, "milp-full", time_limit=20, families=[ReplicationCap(layer, cap)])
    assert res.report is not None and res.report.valid
    assert res.objective == capped
    assert all(s.replication <= cap for s in res.schedule.steps if s.layer == layer)
    # the bound knows the cap: never above the capped optimum
    assert res.bound <= capped


def test_a_family_rule_rejects_a_schedule_built_to_break_it() -> None:
    name, p, layer, cap = _capped_cases()[0]
    sched = jit(p)
    over = [s for s in sched.steps if s.layer == layer and s.replication > cap]
    if not over:  # make it break the cap: the same schedule with a cap below its copies
        cap = max(s.replication for s in sched.steps if s.layer == layer) - 1
    fam = ReplicationCap(layer, max(cap, 1))
    rep = evaluate(p, sched, rules=[fam.rule()])
    broken = [s for s in sched.steps if s.layer == layer and s.replication > fam.max_replication]
    assert rep.valid is (not broken)
    assert len(rep.violations) == len(broken)
    assert all(str(v).startswith(f"{fam.name}: {layer}#") for v in rep.violations)


def test_a_start_that_breaks_a_family_is_repaired_never_returned() -> None:
    name, p, layer, cap = _capped_cases()[0]
    start = jit(p)
    r0 = max(s.replication for s in start.steps if s.layer == layer)
    cap = min(cap, r0 - 1) if r0 > 1 else cap
    res = solve(p, "milp", time_limit=10, families=[ReplicationCap(layer, max(cap, 1))],
                start=start)
    assert res.status in (Status.FEASIBLE, Status.OPTIMAL, Status.TIME_LIMIT)
    assert all(s.replication <= max(cap, 1) for s in res.schedule.steps if s.layer == layer)
    if r0 > max(cap, 1):
        assert any("repaired" in m for m in res.messages)


def test_families_that_cannot_hold_are_reported_infeasible_with_the_clash() -> None:
    name, p = CORPUS[0]
    least = sum(s.apu_rows for s in p.weighted_steps)  # every part written once
    res = solve(p, "milp", time_limit=20, families=[RowsWrittenCap(least - 1)])
    assert res.status is Status.INFEASIBLE and res.schedule is None
    clash = res.stats["infeasible"]["families"]
    assert f"rows_written_cap({least - 1})" in clash
    assert any("infeasible" in m and "rows_written_cap" in m for m in res.messages)
    # at the least count it holds, and every part is written once
    ok = solve(p, "milp", time_limit=10, families=[RowsWrittenCap(least)])
    assert ok.report.valid and len(ok.schedule.writes) == least


def test_write_cap_schedules_keep_the_cap_and_the_bound_knows_it() -> None:
    name, p = CORPUS[1]
    T = p.hardware.write_latency_cycles
    rows = sum(s.apu_rows for s in p.weighted_steps)
    k = 2
    res = solve(p, "milp", time_limit=10, families=[WriteCap(k)])
    assert res.report.valid
    assert _most_concurrent(res.schedule.writes.start, T) <= k
    # every row is written once at least, k at a time: a bound that knows k
    assert res.bound >= -(-rows // k) * T
    # heuristics keep it too (they run on the tightened problem)
    h = solve(p, "aras", families=[WriteCap(k)])
    assert h.report.valid and _most_concurrent(h.schedule.writes.start, T) <= k


def test_weighted_objective_is_reported_by_the_evaluator_figures() -> None:
    name, p = CORPUS[3]
    least = sum(s.apu_rows for s in p.weighted_steps)
    w = 1e9  # a row write costs more than any makespan: every part at one copy
    res = solve(p, "milp-full", time_limit=10,
                objective=Objective({"makespan": 1.0, "rows_written": w}))
    assert res.report.valid
    assert len(res.schedule.writes) == least
    assert res.objective == pytest.approx(res.report.makespan_cycles + w * least)
    assert res.bound == pytest.approx(res.bounds.lower + w * least)


def test_lexicographic_objective_keeps_the_first_stage() -> None:
    name, p = CORPUS[0]
    plain = solve(p, "milp-full", time_limit=10)
    lex = solve(p, "milp-full", time_limit=10,
                objective=Objective(lexicographic=["makespan", "rows_written"]))
    assert lex.report.valid
    assert lex.report.makespan_cycles == plain.report.makespan_cycles
    assert len(lex.schedule.writes) <= len(plain.schedule.writes)


class _RowsOfLayer(Family):
    """A user family: a layer's parts hold at most ``rows`` APU rows."""

    requires = ("replication",)

    def __init__(self, layer: str, rows: int):
        self.layer, self.rows, self.name = layer, rows, f"rows_of({layer})"

    def layers(self) -> list[str]:
        return [self.layer]

    def build(self, ctx) -> None:
        ks = [s.index for s in ctx.W if s.layer == self.layer]
        ctx.add("rows_of_layer", pyo.Constraint(ks, rule=lambda m, k: m.rows[k] <= self.rows))

    def check(self, problem, schedule):
        for s in schedule.steps:
            if s.layer == self.layer and s.apu_rows * s.replication > self.rows:
                yield f"{s.layer}#{s.part} holds {s.apu_rows * s.replication} rows"


def test_a_user_family_is_stated_solved_and_checked() -> None:
    name, p, layer, cap = _capped_cases()[0]
    a = p.by_key[(layer, 0)].apu_rows
    fam = _RowsOfLayer(layer, a * cap)
    res = solve(p, "milp-full", time_limit=20, families=[fam])
    assert res.report.valid
    # the same constraint as a replication cap: the enumerated capped optimum
    assert res.objective == optimum(p, limit=30_000, caps={layer: cap}).makespan
    assert not list(fam.check(p, res.schedule))
    # a user family is not known to be exact: no certified dual bound from its model
    assert not Formulation(p, default_families(p) + [fam]).exact()


def test_formulation_solve_returns_a_schedule_no_worse_than_its_start() -> None:
    name, p = CORPUS[5]
    start = jit(p)
    f = Formulation(p, start=start)
    assert f.violated() == []
    out = f.solve(time_limit=10, cutoff=True)
    assert out.schedule is not None
    rep = evaluate(p, out.schedule)
    assert rep.valid and rep.makespan_cycles <= evaluate(p, start).makespan_cycles
    assert out.objective == rep.makespan_cycles  # model objective = evaluator makespan


def test_family_specs_by_name_table_and_module() -> None:
    name, p, layer, cap = _capped_cases()[0]
    fams = families_from([{"family": "replication_cap", "layer": layer,
                           "max_replication": cap},
                          {"family": "write_cap", "rows": 3}], p)
    assert [f.name for f in fams][-2:] == [f"replication_cap({layer})", "write_cap(3)"]
    fams = families_from([{"family": "formulations.families:WriteCap", "rows": 2}], p)
    assert fams[-1].name == "write_cap(2)"
    with pytest.raises(InputError, match="families: unknown family 'nope'"):
        families_from(["nope"], p)
    with pytest.raises(InputError,
                       match=r"families: replication_cap\(missing\): no weight-bearing layer"):
        solve(p, "jit", families=[ReplicationCap("missing", 1)])


@pytest.mark.parametrize("text,err", [
    ("speed", "unknown measure 'speed'"), ("makespan + x*y", "cannot read the term"),
    ("makespan > makespan", "distinct"), ("makespan + -1*rows_written", "must be a finite"),
    ("0*makespan", "a weight > 0")])
def test_objective_text_errors_name_the_flag(text: str, err: str) -> None:
    with pytest.raises(InputError, match=f"--objective: .*{err}"):
        Objective.parse(text, "--objective")


def test_a_study_keeps_its_families_and_objective_on_spawned_workers(tmp_path) -> None:
    from aras.studies.run import load_results, run_study
    from aras.studies.study import load_study
    from tests.test_study import write_study

    body = ('name = "capped"\nnetworks = ["small.json"]\nmethods = ["aras", "milp"]\n'
            'time_limits = [5]\nobjective = "makespan + 0.5*rows_written"\n'
            '[hardware]\nbase = "tiny.toml"\n'
            '[[families]]\nfamily = "write_cap"\nrows = 1\n')
    study = load_study(write_study(tmp_path, body))
    run = run_study(study, tmp_path / "out", workers=2)
    assert run.failed == 0
    import json

    for r in load_results(tmp_path / "out"):
        sched = json.loads((tmp_path / "out" / r["schedule"]).read_text())
        starts = np.array([w[4] for w in sched["writes"]] if isinstance(sched["writes"], list)
                          else sched["writes"]["start"])
        T = sched["hardware"]["write_latency_cycles"]
        assert _most_concurrent(starts, T) <= 1
        # the reported objective is the study's: makespan + 0.5 x rows written
        assert r["objective"] == pytest.approx(r["makespan_cycles"] + 0.5 * r["row_writes"])


def test_study_file_family_and_objective_errors(tmp_path) -> None:
    from aras.studies.study import load_study
    from tests.test_study import write_study

    base = ('name = "x"\nnetworks = ["small.json"]\nmethods = ["aras"]\n'
            '[hardware]\nbase = "tiny.toml"\n')
    with pytest.raises(InputError, match=r"set.toml: families\[0\].family: unknown family 'nope'"):
        load_study(write_study(tmp_path, base + '[[families]]\nfamily = "nope"\n'))
    with pytest.raises(InputError, match="set.toml: objective: unknown measure 'speed'"):
        load_study(write_study(tmp_path, 'objective = "speed"\n' + base))


def test_cli_family_errors_name_the_flag_before_any_work() -> None:
    from tests.helpers import cli_inprocess

    for spec, msg in (("nope", "unknown family 'nope'"),
                      ("write_cap rows", "expected key=value"),
                      ("write_cap rows=x", "rows: must be an integer"),
                      ("replication_cap layer=zzz max_replication=2",
                       "replication_cap(zzz): no weight-bearing layer 'zzz'")):
        r = cli_inprocess("solve", "resnet-18", "--family", spec)
        assert r.returncode == 2, r.stderr
        assert "--family: " in r.stderr and msg in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    r = cli_inprocess("solve", "resnet-18", "--objective", "speed")
    assert r.returncode == 2 and "--objective: unknown measure 'speed'" in r.stderr


def test_cli_evaluate_checks_a_family_rule(tmp_path) -> None:
    from tests.helpers import cli_inprocess

    path = tmp_path / "s.json"
    r = cli_inprocess("solve", "resnet-18", "-q", "-o", str(path))
    assert r.returncode == 0, r.stderr
    import json

    copies = max(s["replication"] for s in json.loads(path.read_text())["steps"]
                 if s["layer"] == "conv1")
    ok = cli_inprocess("evaluate", str(path), "--family",
                       f"replication_cap layer=conv1 max_replication={copies}")
    assert ok.returncode == 0, ok.stderr
    bad = cli_inprocess("evaluate", str(path), "--family",
                        f"replication_cap layer=conv1 max_replication={copies - 1}")
    assert bad.returncode == 1
    assert f"replication_cap(conv1): conv1#0 runs {copies} copies, at most {copies - 1}" \
        in bad.stdout + bad.stderr


def test_python_family_errors_are_one_line_input_errors() -> None:
    name, p = CORPUS[0]
    with pytest.raises(InputError, match="families: expected a list of families"):
        solve(p, "jit", families=WriteCap(2))
    with pytest.raises(InputError, match=r"families: write_cap: .*missing 1 required"):
        solve(p, "jit", families=[{"family": "write_cap"}])

    class Broken(Family):
        name = "broken"

        def build(self, ctx):
            raise ValueError("a bug of the family's")

    with pytest.raises(InputError, match="families: broken: building its constraints failed"):
        Formulation(p, default_families(p) + [Broken()])


def test_builtin_families_are_known_however_formulations_is_first_imported(tmp_path) -> None:
    # a fresh interpreter that never imports formulations.families itself: the study loader
    # and family_from_spec must still know the built-in names
    import subprocess
    import sys

    study = tmp_path / "s.toml"
    study.write_text('name = "x"\nnetworks = ["vgg16"]\nmethods = ["aras"]\n[[families]]\n'
                     'family = "replication_cap"\nlayer = "features.0"\nmax_replication = 2\n')
    code = ("import sys\nfrom aras.studies.study import load_study\n"
            "s = load_study(sys.argv[1])\n"
            "import aras, formulations\n"
            "from aras.model.hardware import load_hardware\n"
            "p = aras.map_network(aras.load_network('vgg16'), load_hardware('aras'))\n"
            "print(len(s.tasks), formulations.family_from_spec('write_cap', p, rows=10))")
    r = subprocess.run([sys.executable, "-c", code, str(study)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]
    assert r.stdout.startswith("1 ") and "write_cap" in r.stdout
