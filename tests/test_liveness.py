"""Liveness bank mode: lifetimes, the MILP against brute force, the evaluator's new R8 checks.

The reference optimum is a brute force written here from the definitions of docs/model.md
(every tensor resident on a subset of banks or spilled; per-step banks for spilled tensors
chosen by enumerating every bank as spilled-input, spilled-output or off), independent of
``aras.evaluation.liveness`` and ``formulations.liveness`` except for the schedule it starts from.
"""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation.evaluator import evaluate, validate
from aras.evaluation.liveness import (
    Assignment,
    apply_assignment,
    assignment_energy,
    greedy_assignment,
    tensors_of,
)
from aras.methods.heuristics import aras, baseline
from aras.methods.solve import solve
from aras.model.hardware import Hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import Network, NetworkBuilder
from aras.model.schedule import Schedule
from formulations.liveness import LivenessInfo, assign_banks, build
from tests.helpers import (
    random_schedule,
    sized_instances,
    tiny_hardware,
    tiny_network,
    tiny_schedule,
)

BANKS = (256, 512, 768, 1024)
#: Banks on which the greedy assignment is far from optimal (found by a search).
GREEDY_TRAP = (128, 256, 384, 1536)


def skip_network() -> Network:
    """x (64 B) -> c1 (256 B) -> c2 (512 B) -> c3 (256 B); sum = c3 + c1 (the skip)."""
    b = NetworkBuilder("skip", {"x": (4, 4, 4)})
    c1 = b.conv("c1", "x", 4, 16, 1)
    c2 = b.conv("c2", c1, 16, 32, 1)
    c3 = b.conv("c3", c2, 32, 16, 1)
    b.add("sum", "add", [c3, c1])
    return b.build()


def skip_problem(write_latency: int = 100_000, dram: float = 20e-12,
                 banks: tuple[int, ...] = BANKS) -> Problem:
    """The skip network on two APU rows: c3 waits for c1's row, then ``write_latency`` cycles."""
    hw = tiny_hardware(gbuffer_banks=banks, write_latency_cycles=write_latency,
                       dram_energy_j_per_byte=dram)
    return map_network(skip_network(), hw)


def _rules(p: Problem, s: Schedule) -> list[str]:
    v = validate(p, s)
    assert {x.rule for x in v} <= {"R8"}, [str(x) for x in v]
    return [x.message for x in v]


# ----- the brute-force reference -----

def brute_force(p: Problem, s: Schedule) -> float:
    """Least leakage + spill DRAM energy over every liveness assignment (joules)."""
    hw: Hardware = p.hardware
    net = p.network
    sizes, leak = list(hw.gbuffer_banks), hw.bank_leakage_w()
    nb = len(sizes)
    pos = {st.layer: k for k, st in enumerate(s.steps)}  # single-part layers only
    assert len(pos) == len(s.steps)
    names = list(net.inputs) + [o.name for o in net.ops]
    nbytes = {t: net.elements(t) * hw.activation_bits // 8 for t in names}
    readers = {t: [pos[c] for c in net.consumers(t)] for t in names}
    first = {t: pos.get(t, 0) for t in names}
    last = {t: max(readers[t]) if readers[t] else pos[t] for t in names}
    t0 = {t: s.steps[pos[t]].start if t in pos else 0 for t in names}
    t1 = {t: s.steps[last[t]].end for t in names}
    traffic = {t: nbytes[t] * ((1 if t in pos else 0) + len(readers[t])) for t in names}
    ins = [list(dict.fromkeys(net.op(st.layer).inputs)) for st in s.steps]

    def cap(mask: int) -> int:
        return sum(sizes[b] for b in range(nb) if mask >> b & 1)

    def power(mask: int) -> float:
        return sum(leak[b] for b in range(nb) if mask >> b & 1)

    @cache
    def step_cost(k: int, free: int, need_in: int, need_out: int) -> float | None:
        if not need_in and not need_out:
            return 0.0
        best = None
        for roles in itertools.product((0, 1, 2), repeat=nb):
            if any(r and not free >> b & 1 for b, r in enumerate(roles)):
                continue
            mi = sum(1 << b for b, r in enumerate(roles) if r == 1)
            mo = sum(1 << b for b, r in enumerate(roles) if r == 2)
            if cap(mi) >= need_in and cap(mo) >= need_out:
                c = (power(mi) + power(mo)) * hw.seconds(s.steps[k].end - s.steps[k].start)
                best = c if best is None or c < best else best
        return best

    options = {t: [None] + [m for m in range(1, 1 << nb) if cap(m) >= nbytes[t]] for t in names}
    best = float("inf")

    def extend(i: int, got: dict[str, int | None], held: list[int]) -> None:
        # Depth-first over the tensors, pruning as soon as two live tensors share a bank.
        nonlocal best
        if i == len(names):
            e = sum(power(m) * hw.seconds(t1[t] - t0[t]) for t, m in got.items()
                    if m is not None)
            e += sum(traffic[t] for t, m in got.items() if m is None) * hw.dram_energy_j_per_byte
            for k, st in enumerate(s.steps):
                need_in = sum(nbytes[t] for t in ins[k] if got[t] is None)
                need_out = nbytes[st.layer] if got[st.layer] is None else 0
                c = step_cost(k, (1 << nb) - 1 - held[k], need_in, need_out)
                if c is None:
                    return
                e += c
            best = min(best, e)
            return
        t = names[i]
        span = range(first[t], last[t] + 1)
        for m in options[t]:
            if m is not None and any(held[k] & m for k in span):
                continue
            h = list(held)
            for k in span:
                h[k] |= m or 0
            extend(i + 1, {**got, t: m}, h)

    extend(0, {}, [0] * len(s.steps))
    return best


# ----- lifetimes -----

def test_lifetimes_of_the_skip_network():
    p = skip_problem()
    s = aras(p)
    # Two APU rows: c1 and c2 are written at 0, c3 waits for c1's row, then 100000 cycles.
    assert [(x.layer, x.start, x.end) for x in s.steps] == [
        ("c1", 100000, 101536), ("c2", 101536, 103072), ("c3", 201536, 203072),
        ("sum", 203072, 203072)]
    t = tensors_of(p, s)
    assert (t["x"].t0, t["x"].t1, t["x"].first, t["x"].last) == (0, 101536, 0, 0)
    assert (t["c1"].t0, t["c1"].t1, t["c1"].first, t["c1"].last) == (100000, 203072, 0, 3)
    assert (t["c2"].first, t["c2"].last, t["c3"].first, t["c3"].last) == (1, 2, 2, 3)
    assert (t["sum"].t0, t["sum"].t1) == (203072, 203072)
    assert t["c1"].consumers == (1, 3) and t["x"].producers == ()
    # Spilled: written once, read by each of its two consumers; the input is only read.
    assert t["c1"].spill_traffic == 256 * 3 and t["x"].spill_traffic == 64


# ----- the MILP against brute force -----

@pytest.mark.parametrize("latency,dram,banks", [
    (100_000, 20e-12, BANKS), (100_000, 64e-12, BANKS), (400_000, 5e-12, BANKS),
    (1000, 64e-12, BANKS), (10_000, 64e-12, GREEDY_TRAP), (100_000, 20e-12, GREEDY_TRAP)])
def test_milp_matches_brute_force(latency, dram, banks):
    p = skip_problem(latency, dram, banks)
    s = aras(p)
    info = LivenessInfo()
    got = assign_banks(p, s, info=info)
    assert info.source == "milp" and info.status == "convergenceCriteriaSatisfied"
    ref = brute_force(p, s)
    assert info.energy_j == pytest.approx(ref, rel=1e-9, abs=1e-18)
    assert info.energy_j <= info.greedy_energy_j * (1 + 1e-12)
    # The evaluator costs the file the same: static leakage plus spilled DRAM bytes.
    rep = evaluate(p, got)
    assert rep.valid, rep.violations
    weights_dram = len(got.writes) * p.hardware.apus_per_row * p.hardware.bytes_per_apu_write
    spill_j = rep.energy.dram - weights_dram * p.hardware.dram_energy_j_per_byte
    assert rep.energy.gbuffer_static + spill_j == pytest.approx(ref, rel=1e-9)


def test_brute_force_optimum_spills_some_but_not_all():
    """The instances above are not trivial: the optimum spills and keeps tensors."""
    p = skip_problem(400_000, 5e-12)
    info = LivenessInfo()
    got = assign_banks(p, aras(p), info=info)
    spilled = {r["tensor"] for r in got.extra["tensors"] if r["spilled"]}
    assert 0 < len(spilled) < 5, got.extra["tensors"]
    p = skip_problem(1000, 64e-12)
    got = assign_banks(p, aras(p))
    assert not any(r["spilled"] for r in got.extra["tensors"])


def test_model_objective_is_the_energy_in_microjoules():
    p = skip_problem()
    s = aras(p)
    m = build(p, s)
    assert m.nvariables() == 5 * 4 + 5 + 2 * 4 * 4  # x, s, zi, zo
    asg = greedy_assignment(p, s)
    tensors = tensors_of(p, s)
    assert asg.spilled  # x waits 0.1 ms for c1: cheaper in DRAM
    from formulations.liveness import _set_values

    _set_values(m, asg)
    import pyomo.environ as pyo

    e = assignment_energy(p, s, tensors, asg)
    assert pyo.value(m.energy_j) == pytest.approx(e, rel=1e-12)
    assert pyo.value(m.energy) == pytest.approx(e * 1e6, rel=1e-12)


def test_milp_beats_the_greedy_where_smallest_fit_is_short_sighted():
    p = skip_problem(10_000, 64e-12, GREEDY_TRAP)
    info = LivenessInfo()
    assign_banks(p, aras(p), info=info)
    assert info.energy_j == pytest.approx(4.21806e-09, rel=1e-6)
    assert info.greedy_energy_j == pytest.approx(7.4547e-09, rel=1e-6)


def test_no_incumbent_falls_back_to_greedy_and_says_so(monkeypatch):
    import formulations.liveness as fl
    from formulations.solvers import SolveOutcome

    class NoIncumbent:  # a solver stopped by its time limit before finding anything
        def __init__(self, model, solver="highs"):
            assert solver == "highs"

        def solve(self, **options):
            assert options["threads"] == 1 and options["time_limit"] == 0.5
            assert options["seed"] == 7 and options["warm_start"]
            return SolveOutcome("time_limit", "maxTimeLimit")

    monkeypatch.setattr(fl, "Session", NoIncumbent)
    p = skip_problem(10_000, 64e-12, GREEDY_TRAP)
    info = LivenessInfo()
    s = assign_banks(p, aras(p), time_limit=0.5, seed=7, info=info)
    assert info.source == "greedy" and info.energy_j == info.greedy_energy_j
    assert info.messages == [
        "liveness MILP: no incumbent (maxTimeLimit); used the greedy assignment",
        "liveness MILP: time limit 0.5 s reached"]
    assert evaluate(p, s).valid


def test_greedy_only_is_valid_and_never_beats_the_milp():
    p = skip_problem(400_000, 5e-12)
    s = aras(p)
    greedy = LivenessInfo()
    g = assign_banks(p, s, use_milp=False, info=greedy)
    assert greedy.source == "greedy" and not greedy.status
    assert evaluate(p, g).valid
    assert brute_force(p, s) <= greedy.energy_j * (1 + 1e-12)


# ----- the file format and the evaluator's mode switch -----

def _liveness_schedule() -> tuple[Problem, Schedule]:
    p = skip_problem()
    return p, assign_banks(p, aras(p))


def test_file_round_trip_keeps_mode_and_costs(tmp_path):
    p, s = _liveness_schedule()
    path = tmp_path / "s.json"
    s.save(path)
    d = json.loads(path.read_text())
    assert d["format"] == "aras-schedule/2" and d["bank_mode"] == "liveness"
    assert [r["tensor"] for r in d["tensors"]] == ["x", "c1", "c2", "c3", "sum"]
    back = Schedule.load(path)
    assert evaluate(p, back).to_dict() == evaluate(p, s).to_dict()


def test_liveness_schedule_is_also_valid_per_step_and_costs_differently():
    p, s = _liveness_schedule()
    per_step = copy.deepcopy(s)
    per_step.extra = {}
    a, b = evaluate(p, s), evaluate(p, per_step)
    assert a.valid and b.valid  # the liveness rules add to R8, they do not relax it
    assert a.energy.gbuffer_static != b.energy.gbuffer_static
    assert a.energy.rram_write == b.energy.rram_write


def test_per_step_mode_is_unchanged():
    """The default mode's static energy is the per-step rule of docs/model.md, to the bit."""
    hw = tiny_hardware()
    p = map_network(tiny_network(), hw)
    s = tiny_schedule(hw)
    rep = evaluate(p, s)
    leak = 1024 * hw.sram_leakage_w_per_byte
    # c1 banks {0, 1} from cycle 0 to c2's start, c2 banks {1, 2} over its compute.
    assert rep.energy.gbuffer_static == pytest.approx(
        2 * leak * 2536e-9 + 2 * leak * 1536e-9, rel=1e-12)
    explicit = copy.deepcopy(s)
    explicit.extra["bank_mode"] = "per-step"
    assert evaluate(p, explicit).to_dict() == rep.to_dict()


# ----- each new check, broken on purpose -----

def _tensors(s: Schedule) -> dict[str, dict]:
    return {r["tensor"]: r for r in s.extra["tensors"]}


def test_valid_liveness_schedule_has_no_violation():
    p, s = _liveness_schedule()
    assert validate(p, s) == []


def test_unknown_bank_mode():
    p, s = _liveness_schedule()
    s.extra["bank_mode"] = "lifetime"
    (msg,) = _rules(p, s)
    assert "bank_mode 'lifetime' is not one of per-step, liveness" in msg


def test_missing_tensor_list():
    p, s = _liveness_schedule()
    del s.extra["tensors"]
    msgs = _rules(p, s)
    assert "bank_mode 'liveness' needs a top-level 'tensors' list" in msgs


def test_tensor_missing_unknown_duplicated_or_malformed():
    p, s = _liveness_schedule()
    recs = [r for r in s.extra["tensors"] if r["tensor"] != "c3"]
    recs.append({"tensor": "ghost", "banks": [], "spilled": True})
    recs.append(dict(recs[0]))
    recs.append({"tensor": "c3", "banks": "0", "spilled": False})
    s.extra["tensors"] = recs
    msgs = _rules(p, s)
    assert "tensor ghost: no such tensor in the network" in msgs
    assert "tensor c3: missing from 'tensors'" in msgs
    assert "tensors[5]: tensor x is listed twice" in msgs
    assert "tensors[6] c3: 'banks' must be a list of integers" in msgs


def test_resident_tensor_too_small():
    p, s = _liveness_schedule()
    t = _tensors(s)
    assert t["c2"]["banks"] == [1]  # 512 bytes on the 512-byte bank
    t["c2"]["banks"] = [0]  # 256 bytes; also no longer c2/0's banks_out
    msgs = _rules(p, s)
    assert "tensor c2: banks [0] hold 256 bytes, the tensor has 512" in msgs
    assert "c2/0: banks_out [1] differ from the banks [0] of its output tensor c2" in msgs


def test_spilled_tensor_with_banks():
    p, s = _liveness_schedule()
    _tensors(s)["x"]["banks"] = [3]
    assert _tensors(s)["x"]["spilled"]
    assert "tensor x: spilled but lists banks [3]" in _rules(p, s)


def test_input_banks_must_hold_the_input_tensors():
    p, s = _liveness_schedule()
    k = [x.layer for x in s.steps].index("c2")
    assert s.steps[k].banks_in == (0,)  # c1 lives on bank 0
    s.steps[k].banks_in = (3,)
    msgs = _rules(p, s)
    assert "c2/0: banks_in [3] lacks banks [0] of its input tensor c1" in msgs
    assert "c2/0: banks_in has banks [3] that hold none of its input tensors (none of them " \
           "is spilled)" in msgs


def test_spilled_inputs_need_their_bytes_besides_the_resident_ones():
    p, s = _liveness_schedule()
    k = [x.layer for x in s.steps].index("c1")
    t = _tensors(s)
    assert t["x"]["spilled"] and s.steps[k].banks_in == (1,)
    t["c2"]["banks"], s.steps[1].banks_out, s.steps[2].banks_in = [3], (3,), (3,)
    s.steps[k].banks_in = ()
    msgs = _rules(p, s)
    assert "c1/0: banks_in besides its resident inputs hold 0 bytes, its spilled inputs x " \
           "need 64" in msgs


def test_live_tensors_must_not_share_banks():
    p, s = _liveness_schedule()
    t = _tensors(s)
    # c3 lives at steps 2-3 with the skip tensor c1 (bank 0): put c3 on bank 0 too.
    assert t["c1"]["banks"] == [0]
    t["c3"]["banks"] = [0]
    s.steps[2].banks_out = (0,)
    s.steps[3].banks_in = (0,)
    msgs = _rules(p, s)
    assert ("tensor c1 (live [100000, 203072)) and tensor c3 (live [201536, 203072)) share "
            "banks [0] at step c3/0 [201536, 203072)") in msgs


def test_spilled_tensor_banks_must_be_free_at_its_step():
    p, s = _liveness_schedule()
    # x is spilled: at c1/0 its per-step banks must avoid every tensor live there.
    s.steps[0].banks_in = (0, 1)
    s.steps[0].banks_out = (0,)
    msgs = _rules(p, s)
    assert ("tensor c1 (live [100000, 203072)) and spilled inputs of c1/0 share banks [0] at "
            "step c1/0 [100000, 101536)") in msgs


def test_tensors_of_multi_pass_steps_must_be_spilled():
    # 4 x 4 x 32 = 512-byte tensors on two 300-byte banks: c2 (512 in, 512 out) needs 2 passes.
    hw = tiny_hardware(gbuffer_banks=(300, 300))
    b = NetworkBuilder("mp", {"x": (4, 4, 4)})
    b.conv("c2", b.conv("c1", "x", 4, 32, 1), 32, 32, 1)
    p = map_network(b.build(), hw)
    assert [st.passes for st in p.steps] == [2, 2]
    s = assign_banks(p, baseline(p))
    assert all(r["spilled"] for r in s.extra["tensors"])
    assert validate(p, s) == []
    _tensors(s)["c1"].update(spilled=False, banks=[0, 1])
    msgs = _rules(p, s)
    assert "tensor c1: read or written by a multi-pass step, so it streams through DRAM and " \
           "must be spilled" in msgs


# ----- solve(banks="liveness") -----

def test_multi_part_layer_parts_share_the_output_banks():
    # 4 -> 300 channels: 3 APU rows on a 2-row accelerator, so two parts.
    hw = tiny_hardware(gbuffer_banks=(2048, 4096, 8192, 1024))
    b = NetworkBuilder("parts", {"x": (4, 4, 4)})
    b.conv("wide", b.conv("c1", "x", 4, 8, 1), 8, 300, 1)
    p = map_network(b.build(), hw)
    res = solve(p, method="aras", banks="liveness")
    assert res.report is not None and res.report.valid, res.messages
    s = res.schedule
    assert s is not None
    parts = [x for x in s.steps if x.layer == "wide"]
    assert len(parts) == 2 and parts[0].banks_out == parts[1].banks_out
    assert list(parts[0].banks_out) == _tensors(s)["wide"]["banks"]


@pytest.mark.parametrize("method", ["baseline", "aras", "naive"])
def test_solve_liveness_on_tiny_instances(method):
    for p in (map_network(tiny_network(), tiny_hardware()), skip_problem()):
        res = solve(p, method=method, banks="liveness")
        assert res.report is not None and res.report.valid, res.report.violations
        assert res.schedule is not None and res.schedule.extra["bank_mode"] == "liveness"
        assert res.stats["liveness"]["source"] == "milp"
        assert any(m.startswith("liveness banks (milp") for m in res.messages)
        # Timing is the method's: the post-pass only rewrites banks.
        plain = solve(p, method=method)
        assert res.objective == plain.objective


def test_greedy_handles_a_full_network():
    """The fallback is valid on ResNet-50 (skip tensors, 73 tensors) without the MILP."""
    from aras.frontends import load_network
    from aras.model.hardware import aras_hardware

    p = map_network(load_network("resnet50"), aras_hardware())
    s = aras(p)
    asg: Assignment = greedy_assignment(p, s)
    assert validate(p, apply_assignment(p, s, asg)) == []


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(sized_instances(max_weighted_steps=12, max_parts=3), st.integers(0, 2**32 - 1))
def test_random_schedules_get_valid_assignments_costed_as_the_model_says(inst, seed):
    """Random networks (adds, concats, groups, split layers), random compute orders and
    delays; at most 12 weight-bearing steps by construction (a classifier split into 10^4
    parts would take seconds to solve), so every example is checked."""
    net, hw = inst
    p = map_network(net, hw)
    assert len(p.weighted_steps) <= 12
    s = random_schedule(p, np.random.default_rng(seed))
    info = LivenessInfo()
    got = assign_banks(p, s, info=info, time_limit=5)
    rep = evaluate(p, got)
    assert rep.valid, rep.violations
    assert evaluate(p, assign_banks(p, s, use_milp=False)).valid
    assert info.energy_j <= info.greedy_energy_j * (1 + 1e-9)
    weights = len(got.writes) * hw.apus_per_row * hw.bytes_per_apu_write
    spill_j = rep.energy.dram - weights * hw.dram_energy_j_per_byte
    assert rep.energy.gbuffer_static + spill_j == pytest.approx(info.energy_j, rel=1e-9,
                                                                  abs=1e-18)
