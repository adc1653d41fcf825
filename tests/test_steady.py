"""Periodic (steady-state) schedules: the file, the rules R4p, R2p, R6p, R9 at their
boundaries, the steady-state costs, the methods and the periodic bound (docs/model.md,
"Periodic schedules"; docs/bounds.md, "Periodic bound").

The hand-built schedules use :func:`tests.helpers.tiny_hardware` (write latency T = 1000
cycles, 96 cycles per window) and the numbers they are checked against come from the
arithmetic in the comments.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aras.evaluation.periodic import evaluate_periodic, validate_periodic
from aras.evaluation.periodic_bounds import periodic_bounds
from aras.methods.heuristics.steady import steady
from aras.model.errors import InputError
from aras.model.hardware import Hardware
from aras.model.mapping import map_network
from aras.model.network import Network, NetworkBuilder
from aras.model.periodic import FORMAT_PERIODIC, PeriodicSchedule, repeat_network
from aras.model.schedule import Schedule, ScheduledStep, Writes
from tests.helpers import sized_instances, tiny_hardware, tiny_network

T = 1000
C = 16 * 96  # 1536: one tiny_network conv at replication 1


def _sched(hw: Hardware, steps: list[ScheduledStep], writes: list[tuple[str, int, int, int]]
           ) -> Schedule:
    """``writes``: (layer, pe, row, start) of part 0."""
    w = Writes.from_lists([x[0] for x in writes], [0] * len(writes), [x[1] for x in writes],
                          [x[2] for x in writes], [x[3] for x in writes])
    return Schedule("t", "hand", hw.to_dict(), steps, w, max(s.end for s in steps))


def two_rows() -> Schedule:
    """c1 on row 0 written at 0, computing [1000, 2536); c2 on row 1 written at 1536 (just in
    time), computing [2536, 4072). Computes span 3072 cycles; row 0 is held [0, 2536) (2536
    cycles), row 1 [1536, 4072) (2536): valid for every period >= 3072."""
    hw = tiny_hardware()
    return _sched(hw, [ScheduledStep("c1", 0, 1, 1, 16, 1000, 2536, (0,), (1,)),
                       ScheduledStep("c2", 0, 1, 1, 16, 2536, 4072, (1,), (2,))],
                  [("c1", 0, 0, 0), ("c2", 0, 1, 1536)])


def one_row() -> Schedule:
    """Both layers on row 0: c1 written at 0, computing [1000, 2536); c2 written at 2536
    (when c1 releases the row), computing [3536, 5072). Row 0 is held [0, 5072) per
    inference: valid for periods >= 5072 (the computes span 4072)."""
    hw = tiny_hardware()
    return _sched(hw, [ScheduledStep("c1", 0, 1, 1, 16, 1000, 2536, (0,), (1,)),
                       ScheduledStep("c2", 0, 1, 1, 16, 3536, 5072, (1,), (2,))],
                  [("c1", 0, 0, 0), ("c2", 0, 0, 2536)])


def rules(s: Schedule, period: int, resident: tuple[str, ...] = (),
          net: Network | None = None, hw: Hardware | None = None) -> list[str]:
    p = map_network(net or tiny_network(), hw or tiny_hardware())
    return [f"{v.rule}: {v.message}" for v in validate_periodic(p, PeriodicSchedule(
        s, period, resident))]


def only(msgs: list[str], rule: str, *needles: str) -> None:
    assert msgs, "the schedule should be invalid"
    assert {m.split(":")[0] for m in msgs} == {rule}, msgs
    assert any(all(n in m for n in needles) for m in msgs), msgs


# ----- R4p: consecutive inferences' computes do not overlap -----

def test_r4p_boundary() -> None:
    assert rules(two_rows(), 3072) == []
    only(rules(two_rows(), 3071), "R4p", "3072 cycles", "period 3071")


# ----- R2p: occupancies of a row disjoint modulo the period -----

def test_r2p_rows_across_inferences_boundary() -> None:
    assert rules(one_row(), 5072) == []
    # at 5071 inference 1 writes c1 on row 0 at 5071, before c2 of inference 0 releases it
    only(rules(one_row(), 5071), "R2p", "inference 1", "written at 5071", "[2536, 5072)")


def test_r2p_one_occupancy_longer_than_the_period() -> None:
    s = two_rows()
    s.writes.start[1] = 0  # row 1 now held [0, 4072): 4072 cycles
    assert rules(s, 4072) == []
    only(rules(s, 4071), "R2p", "4072 cycles", "longer than the period 4071")


# ----- R9: resident rows hold one tile for good -----

def test_resident_layer_valid_and_costs_nothing_per_inference() -> None:
    p = map_network(tiny_network(), tiny_hardware())
    streamed = evaluate_periodic(p, PeriodicSchedule(two_rows(), 3072))
    pinned = evaluate_periodic(p, PeriodicSchedule(two_rows(), 3072, ("c1",)))
    assert streamed.valid and pinned.valid
    assert (streamed.row_writes, pinned.row_writes, pinned.resident_rows) == (2, 1, 1)
    # a row rewritten with the same tile every inference costs no pulses; DRAM counts writes
    hw = p.hardware
    per_row = hw.apus_per_row * hw.bytes_per_apu_write * hw.dram_energy_j_per_byte
    assert streamed.energy.dram - pinned.energy.dram == pytest.approx(per_row)
    assert pinned.throughput_inf_s == pytest.approx(1e9 / 3072)
    assert pinned.latency_cycles == 4072


def test_r9_resident_row_rewritten() -> None:
    # c1 resident on row 0, c2 streamed on the same row
    only(rules(one_row(), 5072, ("c1",)), "R9", "(pe 0, row 0) is resident", "c2/0")
    # two resident layers on one row
    only(rules(one_row(), 5072, ("c1", "c2")), "R9", "c1/0, c2/0")


def test_unknown_or_repeated_resident_is_bad_input() -> None:
    p = map_network(tiny_network(), tiny_hardware())
    with pytest.raises(InputError, match=r"resident\[0\]: no weight-bearing layer 'nope'"):
        evaluate_periodic(p, PeriodicSchedule(two_rows(), 3072, ("nope",)))
    with pytest.raises(InputError, match=r"resident\[1\]: layer 'c1' listed twice"):
        validate_periodic(p, PeriodicSchedule(two_rows(), 3072, ("c1", "c1")))


# ----- R6p: bandwidth modulo the period -----

def four_layers() -> tuple[Network, Hardware, Schedule]:
    """x (4, 1, 1) -> a -> b -> c -> d, 1x1 convs of one window (96 cycles) and one APU row
    each, on 2 PEs x 2 rows with 2 rows written at once (8 APUs). Writes: a [0, 1000),
    b [96, 1096), c [1000, 2000), d [1096, 2096): at most 2 at once in one inference. Computes
    a [1000, 1096), b [1096, 1192), c [2000, 2096), d [2096, 2192): span 1192. Inference 1
    writes a from P on: with c and d of inference 0 still in flight until 2000 and 2096, three
    writes at once unless P >= 2000 (c ends at 2000, ends before starts; b of inference 1
    starts at P + 96 >= 2096, when d ends)."""
    b = NetworkBuilder("four", {"x": (4, 1, 1)})
    y = b.conv("a", "x", 4, 8, 1)
    for name in "bcd":
        y = b.conv(name, y, 8, 8, 1)
    net = b.build()
    hw = tiny_hardware(pes=2, memory_bandwidth_bytes_s=2 * 4 * 4096 / 1e-6 + 1.0)
    assert hw.max_concurrent_row_writes == 2
    banks = [((0,), (1,)), ((1,), (2,)), ((2,), (0,)), ((0,), (1,))]
    times = [(1000, 1096), (1096, 1192), (2000, 2096), (2096, 2192)]
    steps = [ScheduledStep(n, 0, 1, 1, 1, t0, t1, bi, bo)
             for n, (t0, t1), (bi, bo) in zip("abcd", times, banks, strict=True)]
    s = _sched(hw, steps, [("a", 0, 0, 0), ("b", 0, 1, 96), ("c", 1, 0, 1000),
                           ("d", 1, 1, 1096)])
    return net, hw, s


def test_r6p_boundary() -> None:
    net, hw, s = four_layers()
    assert rules(s, 2000, net=net, hw=hw) == []
    only(rules(s, 1999, net=net, hw=hw), "R6p", "12 APUs", "allows 8", "inference 1")
    # at 1192, b of inference 1 also starts (at 1288) before c and d end: 4 rows at once
    msgs = rules(s, 1192, net=net, hw=hw)
    only(msgs, "R6p", "over [1192, 2096)", "16 APUs")
    assert len(msgs) == 1, msgs  # the steady state repeats it every period: reported once


def test_r6p_prologue_counts_resident_writes_once() -> None:
    net, hw, s = four_layers()
    # c and d resident: in the steady state only a and b are written (2 at once at most), but
    # the prologue writes c and d over [1000, 2096) once, while inference 1 writes a and b
    # from 1192 on: 4 rows at once, in inference 1 only
    msgs = rules(s, 1192, ("c", "d"), net=net, hw=hw)
    only(msgs, "R6p", "over [1192, 2096) (inference 1", "16 APUs")
    assert len(msgs) == 1, msgs
    p = map_network(net, hw)
    rep = evaluate_periodic(p, PeriodicSchedule(s, 2000, ("c", "d")))
    assert rep.valid, rep.violations
    assert (rep.row_writes, rep.resident_rows, rep.resident_layers) == (2, 2, 2)


def test_isolated_rules_still_apply() -> None:
    s = two_rows()
    s.steps[1] = ScheduledStep("c2", 0, 1, 1, 16, 2536, 4000, (1,), (2,))  # wrong duration
    s.makespan = 4000
    msgs = rules(s, 5000)
    assert {m.split(":")[0] for m in msgs} == {"R5"}, msgs


# ----- costs -----

def test_steady_costs_match_isolated_when_nothing_overlaps() -> None:
    """With a period as long as the latency and no resident layer, a periodic schedule is the
    isolated one repeated: the same pulses, DRAM, compute and Gbuffer access energy."""
    from aras.evaluation.evaluator import evaluate

    p = map_network(tiny_network(), tiny_hardware())
    s = one_row()
    iso = evaluate(p, s)
    per = evaluate_periodic(p, PeriodicSchedule(s, s.makespan))
    assert per.valid
    assert per.write_pulses == pytest.approx(iso.write_pulses) and iso.write_pulses > 0
    for k in ("dram", "compute", "gbuffer_dynamic", "rram_write"):
        assert getattr(per.energy, k) == pytest.approx(getattr(iso.energy, k)), k
    assert per.max_cell_writes == iso.max_cell_writes == 2
    assert per.lifespan_max_throughput_years == pytest.approx(iso.lifespan_max_throughput_years)


def test_cyclic_order_of_pulses() -> None:
    """Steady-state order on a row is by start modulo P: here c2 (start 2536) overwrites c1,
    c1 of the next inference overwrites c2, as in the isolated convention; with real
    weights the count is exact and does not depend on where the frame starts."""
    import numpy as np

    net = tiny_network()
    rng = np.random.default_rng(1)
    weights = {"c1": rng.integers(0, 256, (4, 8)), "c2": rng.integers(0, 256, (8, 8))}
    p = map_network(net, tiny_hardware())
    a = evaluate_periodic(p, PeriodicSchedule(one_row(), 5072), weights=weights)
    s = one_row()  # the same schedule one period later in the frame: the same steady state
    for x in s.steps:
        x.start += 5072
        x.end += 5072
    s.writes.start += 5072
    s.makespan += 5072
    b = evaluate_periodic(p, PeriodicSchedule(s, 5072), weights=weights)
    assert a.valid and b.valid and a.pulse_model == "weights"
    assert a.level_steps == b.level_steps > 0


# ----- the file -----

def test_file_round_trip_and_isolated_reader_refuses(tmp_path) -> None:
    ps = PeriodicSchedule(two_rows(), 3072, ("c1",))
    path = tmp_path / "p.json"
    ps.save(path)
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT_PERIODIC and data["period"] == 3072
    back = PeriodicSchedule.load(path)
    assert back.to_dict() == ps.to_dict()
    with pytest.raises(InputError, match="format must be"):
        Schedule.load(path)


@pytest.mark.parametrize("change, field", [
    ({"period": float("nan")}, "period"), ({"period": 0}, "period"),
    ({"period": 1.5}, "period"), ({"period": True}, "period"), ({"period": 2**60}, "period"),
    ({"resident": "c1"}, "resident"), ({"resident": [3]}, r"resident\[0\]"),
    ({"resident": ["c1", "c1"]}, r"resident\[1\]"), ({"format": "aras-schedule/2"}, "format"),
])
def test_malformed_file(tmp_path, change, field) -> None:
    d = PeriodicSchedule(two_rows(), 3072).to_dict()
    d.update(change)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(d))
    with pytest.raises(InputError, match=field):
        PeriodicSchedule.load(path)
    d = PeriodicSchedule(two_rows(), 3072).to_dict()
    del d["period"]
    with pytest.raises(InputError, match="'period' missing"):
        PeriodicSchedule.from_dict(d)


# ----- methods, bounds, and the unrolled rules against a direct oracle -----

def _oracle(p, ps: PeriodicSchedule) -> set[str]:
    """R4p, R2p and R6p decided directly (pairs of writes over a generous range of inference
    distances, concurrency at every write start of many inferences), not by the evaluator's
    unrolling."""
    hw = p.hardware
    s, P, T = ps.schedule, ps.period, hw.write_latency_cycles
    out = set()
    if max(x.end for x in s.steps) - min(x.start for x in s.steps) > P:
        out.add("R4p")
    ends = {(x.layer, x.part): x.end for x in s.steps}
    w = s.writes
    res = set(ps.resident)
    occ = [(int(w.pe[i]) * hw.apu_rows_per_pe + int(w.row[i]), int(w.start[i]),
            ends[(str(w.layer[i]), int(w.part[i]))], str(w.layer[i]) in res)
           for i in range(len(w))]
    span = max(e for _, _, e, _ in occ) - min(st for _, st, _, _ in occ) if occ else 0
    K = span // P + 3
    for ra, sa, ea, res_a in occ:
        if res_a:
            continue
        for rb, sb, eb, res_b in occ:
            if res_b or ra != rb:
                continue
            for k in range(1, K):  # b of inference k against a of inference 0
                if sb + k * P < ea and sa < eb + k * P:
                    out.add("R2p")
    # concurrency: streamed writes of inferences 0 .. 2K, residents once
    starts = [st + k * P for _, st, _, r in occ if not r for k in range(2 * K)]
    starts += [st for _, st, _, r in occ if r]
    limit = hw.max_concurrent_row_writes
    horizon = min(starts, default=0) + K * P
    for t in starts:
        if t < horizon and sum(1 for u in starts if u <= t < u + T) > limit:
            out.add("R6p")
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sized_instances(max_weighted_steps=4), st.sampled_from(["baseline", "aras", "jit"]),
       st.sampled_from(["none", "auto", 0.5, 2]), st.integers(1, 10**6))
def test_steady_methods_valid_above_bound_and_oracle(inst, method, resident, cut) -> None:
    """Every steady-state method's schedule validates and no period beats the periodic bound
    (``resident`` 2: no residents, two inferences per period); the evaluator's R4p, R2p and
    R6p agree with the direct oracle at that period, one cycle less and a random shorter
    one."""
    net, hw = inst
    p = map_network(net, hw)
    m = 2 if resident == 2 else 1
    pm = map_network(repeat_network(net, m), hw) if m > 1 else p
    b = periodic_bounds(pm)
    try:
        ps = steady(pm, method, "none" if m > 1 else resident, lower=b.lower)
    except InputError as exc:  # a part too big for the bandwidth: the placement refuses
        assert "bandwidth" in str(exc) or "rows" in str(exc), exc
        return
    ps = PeriodicSchedule(ps.schedule, ps.period, ps.resident, m)
    rep = evaluate_periodic(p, ps)
    assert rep.valid, [str(v) for v in rep.violations]
    assert ps.period >= b.lower, (ps.period, b.to_dict())
    assert rep.throughput_inf_s == pytest.approx(m * 1e9 / ps.period)
    for period in {ps.period, max(1, ps.period - 1), max(1, ps.period - cut % ps.period)}:
        other = PeriodicSchedule(ps.schedule, period, ps.resident, m)
        got = {v.rule for v in validate_periodic(p, other)} & {"R4p", "R2p", "R6p"}
        assert got == _oracle(pm, other), (period, got)


def test_two_inferences_per_period(tmp_path) -> None:
    """Two inferences per period: the file says so, the evaluator repeats the network, costs
    are per inference (the same writes per inference as one per period) and the throughput
    is 2 / P; residents and bad counts are refused."""
    from aras.methods.steady import solve_steady

    p = map_network(tiny_network(), tiny_hardware())
    one = solve_steady(p, "baseline")
    two = solve_steady(p, "baseline", inferences=2)
    assert one.report.valid and two.report.valid
    assert two.schedule.inferences == 2 and two.report.inferences == 2
    assert two.report.row_writes == one.report.row_writes == 2
    assert two.report.throughput_inf_s == pytest.approx(2e9 / two.schedule.period)
    assert two.schedule.period >= two.bounds.lower
    path = tmp_path / "two.json"
    two.schedule.save(path)
    back = PeriodicSchedule.load(path)
    assert back.inferences == 2 and back.schedule.network == "tiny"
    assert evaluate_periodic(p, back).valid
    d = json.loads(path.read_text())
    for bad, field in ((0, "inferences"), (65, "inferences"), (1.5, "inferences")):
        with pytest.raises(InputError, match=field):
            PeriodicSchedule.from_dict({**d, "inferences": bad})
    with pytest.raises(InputError, match="resident"):
        PeriodicSchedule.from_dict({**d, "resident": ["c1"]})
    with pytest.raises(InputError, match="^resident: resident layers"):  # the argument
        solve_steady(p, "baseline", "auto", inferences=2)


# ----- the command line -----

@pytest.fixture()
def files(tmp_path):
    from tests.helpers import run_cli

    net = tmp_path / "tiny.json"
    tiny_network().save(net)
    hw = tmp_path / "hw.toml"
    tiny_hardware().save(hw)

    def write(name: str, period: object, resident: list[str]) -> str:
        d = PeriodicSchedule(two_rows(), 3072).to_dict()
        d.update(period=period, resident=resident)
        (tmp_path / name).write_text(json.dumps(d))
        return str(tmp_path / name)

    return run_cli, str(net), str(hw), write, tmp_path


@pytest.mark.parametrize("args, code, needle", [
    (["--steady-state", "--method", "naive"], 2, "--method: no steady-state version"),
    (["--steady-state", "--resident", "nan"], 2, "--resident"),
    (["--steady-state", "--resident", "1.5"], 2, "--resident"),
    (["--steady-state", "--banks", "liveness"], 2, "--banks"),
    (["--resident", "auto"], 2, "--resident: only with --steady-state"),
])
def test_cli_solve_bad_options(files, args, code, needle) -> None:
    run_cli, net, hw, _, _ = files
    r = run_cli("solve", net, "--hardware", hw, *args)
    assert r.returncode == code, r.stderr
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_evaluate_periodic_files(files) -> None:
    run_cli, net, hw, write, tmp = files
    r = run_cli("evaluate", write("nan.json", float("nan"), []), "--network", net)
    assert r.returncode == 2 and "period" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("evaluate", write("res.json", 3072, ["nope"]), "--network", net)
    assert r.returncode == 2 and "resident[0]" in r.stderr, r.stderr
    r = run_cli("evaluate", write("short.json", 3000, ["c1"]), "--network", net)
    assert r.returncode == 1 and "R4p" in r.stdout, r.stdout + r.stderr
    r = run_cli("evaluate", write("ok.json", 3072, ["c1"]), "--network", net, "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["valid"] and d["period_cycles"] == 3072 and d["resident_rows"] == 1


def test_cli_solve_steady_state(files) -> None:
    run_cli, net, hw, _, tmp = files
    out = tmp / "s.json"
    r = run_cli("solve", net, "--hardware", hw, "--steady-state", "--method", "jit",
                "--resident", "auto", "--output", str(out), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["valid"] and d["steady_state"] and d["period_cycles"] >= d["lower_bound_cycles"]
    assert d["isolated_makespan_cycles"] > 0
    r = run_cli("evaluate", str(out), "--network", net)
    assert r.returncode == 0, r.stderr
    assert "period" in r.stdout


def test_milp_resident_choice_is_costed_and_never_worse_than_its_start() -> None:
    """The resident MILP's choice is placed by the scheduler and costed by the periodic
    evaluator; with a write weight the kept schedule is never worse than the jit start by
    the model's own objective (period + weight x T x rows written)."""
    from aras.methods.steady import solve_steady

    b = NetworkBuilder("chain", {"x": (64, 4, 4)})
    y = "x"
    for i, co in enumerate((256, 256, 128, 128)):
        y = b.conv(f"c{i}", y, 64 if i == 0 else (256 if i < 3 else 128), co, 1)
    net = b.build()
    hw = tiny_hardware(pes=4, apu_rows_per_pe=2)
    p = map_network(net, hw)
    T = hw.write_latency_cycles
    for omega in (1e-3, 2.0):
        r = solve_steady(p, "milp", "none", omega=omega, time_limit=2.0)
        j = solve_steady(p, "jit", "none")
        assert r.report.valid and r.schedule.period >= r.bounds.lower

        def value(x, omega=omega):
            return x.schedule.period + omega * T * x.report.row_writes

        assert value(r) <= value(j) + 1e-6
        assert r.stats["milp"]["variables"] > 0
    # a write weight high enough pins layers: fewer writes per inference
    assert r.report.row_writes < j.report.row_writes, (r.report.row_writes, j.report.row_writes)


# ----- a stream of models (aras serve) -----

def _mix(tmp_path, body: str):
    net = tmp_path / "tiny.json"
    tiny_network().save(net)
    b = NetworkBuilder("other", {"x": (8, 2, 2)})
    b.conv("k", b.conv("j", "x", 8, 200, 1), 200, 16, 1)
    b.build().save(tmp_path / "other.json")
    tiny_hardware(pes=2).save(tmp_path / "hw.toml")
    f = tmp_path / "mix.toml"
    f.write_text(body)
    return f


def test_serve_two_models_valid_and_transitions_checked(tmp_path) -> None:
    from aras.evaluation.evaluator import validate
    from aras.methods.heuristics import aras
    from aras.studies.serve import load_mix, request_order, serve, stream_network

    f = _mix(tmp_path, 'requests = 6\norder = "fixed"\nhardware = "hw.toml"\nsteady = true\n'
                       '[models]\n"tiny.json" = 2\n"other.json" = 1\n')
    mix = load_mix(f)
    assert request_order(mix) == ["tiny.json", "other.json", "tiny.json", "tiny.json",
                                  "other.json", "tiny.json"]
    d = serve(mix)
    assert d["valid"], d["violations"]
    assert d["models"]["tiny.json"]["requests"] == 4 and d["models"]["other.json"]["requests"] == 2
    assert d["throughput_inf_s"] == pytest.approx(6 / d["makespan_s"])
    assert d["isolated_makespan_s"] > 0 and d["latency_ms"]["p99"] >= d["latency_ms"]["p50"]
    st = d["steady"]  # the mix repeated: one periodic schedule, the wrap validated too
    assert st["valid"], st["violations"]
    assert st["period_s"] >= st["lower_bound_s"] > 0
    # the stream is one schedule: a transition that reuses a row too early is an R2 violation
    from aras.frontends import load_network

    nets = {n: load_network(tmp_path / n) for n in mix.models}
    p = map_network(stream_network(nets, request_order(mix)), tiny_hardware(pes=2))
    s = aras(p)
    assert validate(p, s) == []
    w = s.writes
    j = int(np.flatnonzero(np.char.startswith(w.layer.astype(str), "r1:"))[0])
    held = [i for i in range(len(w)) if str(w.layer[i]).startswith("r0:")]
    w.pe[j], w.row[j] = w.pe[held[-1]], w.row[held[-1]]
    w.start[j] = 0
    assert "R2" in {v.rule for v in validate(p, s)}


@pytest.mark.parametrize("body, field", [
    ('requests = 0\n[models]\nresnet50 = 1\n', "requests"),
    ('[models]\nresnet50 = nan\n', "models.resnet50"),
    ('[models]\nresnet50 = -1\n', "models.resnet50"),
    ('order = "zigzag"\n[models]\nresnet50 = 1\n', "order"),
    ('bogus = 1\n[models]\nresnet50 = 1\n', "unknown field 'bogus'"),
    ('requests = 3\n', "models"),
    ('steady = "yes"\n[models]\nresnet50 = 1\n', "steady"),
])
def test_serve_bad_mix(tmp_path, body, field) -> None:
    from aras.studies.serve import load_mix

    with pytest.raises(InputError, match=field):
        load_mix(_mix(tmp_path, body))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sized_instances(max_weighted_steps=4), st.data())
def test_random_periodic_schedules_never_beat_the_bound(inst, data) -> None:
    """Random replication and random resident layers, placed by the modular scheduler at its
    shortest period: whatever validates is at least the periodic bound (the bound must hold
    at any replication and any resident choice, not only the methods')."""
    from aras.methods.heuristics.steady import shortest_period

    net, hw = inst
    p = map_network(net, hw)
    b = periodic_bounds(p)
    reps = {s.index: data.draw(st.integers(1, p.max_replication(s)), label=s.layer)
            for s in p.weighted_steps}
    layers = sorted({s.layer for s in p.weighted_steps})
    res = frozenset(data.draw(st.lists(st.sampled_from(layers), unique=True), label="resident")
                    ) if layers else frozenset()
    try:
        ps = shortest_period(p, reps, 1, res)
    except InputError:
        return  # a part wider than the bandwidth's slots
    if ps is None:
        return
    rep = evaluate_periodic(p, ps)
    assert rep.valid, [str(v) for v in rep.violations]
    assert ps.period >= b.lower, (ps.period, b.to_dict())


# ----- the periodic window bound against exact least periods (tests/periodic_exhaustive.py) --

@st.composite
def tiny_periodic(draw: st.DrawFn) -> tuple[Network, Hardware]:
    """Chains of linears, two parallel linears joined by a concat, or a conv with many
    windows and few rows followed by a global pool and one or two linears with many rows
    (the early-compute, late-rows shape of the CNNs), on 2-4 APU rows with T of 2-5 cycles
    and one cycle a window."""
    from tests.periodic_exhaustive import hardware

    widths = st.sampled_from((64, 128, 256, 384))
    kind = draw(st.sampled_from(("chain", "branches", "cnn")))
    if kind == "cnn":
        h, c = draw(st.integers(2, 4)), draw(st.sampled_from((32, 64, 128)))
        b = NetworkBuilder("cnn", {"x": (8, h, h)})
        y = b.pool("gap", b.conv("c1", "x", 8, c, 1), global_=True)
        d = draw(widths)
        y = b.linear("f1", y, c, d)
        if draw(st.booleans()):
            b.linear("f2", y, d, draw(widths))
    else:
        d = draw(widths)
        b = NetworkBuilder(kind, {"x": (draw(st.integers(1, 8)), d)})
        if kind == "chain":
            y = "x"
            for i in range(draw(st.integers(2, 3))):
                d2 = draw(widths)
                y, d = b.linear(f"l{i}", y, d, d2), d2
        else:
            w1, w2 = draw(widths), draw(widths)
            cat = b.add("cat", "concat", [b.linear("a", "x", d, w1), b.linear("b", "x", d, w2)],
                        axis=1)
            b.linear("o", cat, w1 + w2, draw(widths))
    return b.build(), hardware(draw(st.integers(2, 4)), draw(st.integers(2, 5)))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_periodic())
def test_periodic_bound_below_exact_least_period(inst) -> None:
    """On tiny instances the exhaustive least period (every resident choice, replication,
    order, start and row) is reached by a schedule the periodic evaluator accepts; no bound
    exceeds it and the steady-state jit does not beat it."""
    from tests.periodic_exhaustive import periodic_optimum, schedule_of

    net, hw = inst
    p = map_network(net, hw)
    if p.weight_rows <= hw.total_apu_rows or len(p.weighted_steps) > 4:
        return  # everything fits at once (all may be resident), or too many to enumerate
    try:
        opt = periodic_optimum(p, limit=20000, p_max=200)
    except ValueError:
        return
    rep = evaluate_periodic(p, schedule_of(p, opt))
    assert rep.valid, [str(v) for v in rep.violations]
    assert rep.period_cycles == opt.period
    b = periodic_bounds(p)
    assert b.lower <= opt.period, (b.to_dict(), opt)
    assert steady(p, "jit", "auto", lower=b.lower).period >= opt.period


def test_periodic_window_bound_meets_the_least_period_where_the_others_do_not() -> None:
    """A conv of 9 windows on 1 row, then linears of 2 and 4 rows (one window each), on 4
    rows with T = 4: the exhaustive least period is 15 cycles (the conv on 2 rows, 5
    cycles). The area bound is 10 (4 P >= 1 min(13, P) + 2 x 5 + 4 x 5, a part may be
    resident) and so is the rows bound (2 writes of at least T + 1 = 5 cycles on some row).
    The window bound reaches 15: the last linear takes every row, so the steps before it end
    before its writes start (T, then the conv on at most 2 rows, 5 cycles, then the first
    linear's 1), and it ends before the next inference's conv is written (T + 1)."""
    from tests.periodic_exhaustive import hardware, periodic_optimum

    b = NetworkBuilder("cnn", {"x": (8, 3, 3)})
    y = b.linear("f1", b.pool("gap", b.conv("c1", "x", 8, 64, 1), global_=True), 64, 256)
    b.linear("f2", y, 256, 256)
    p = map_network(b.build(), hardware(4, 4))
    assert [s.apu_rows for s in p.weighted_steps] == [1, 2, 4]
    assert periodic_optimum(p).period == 15
    bd = periodic_bounds(p)
    assert max(bd.compute, bd.area, bd.rows, bd.bandwidth) <= 10
    assert bd.window == bd.lower == 15


def test_steady_jit_keeps_the_shortest_candidate_and_names_them() -> None:
    """The steady-state jit tries the isolated candidates and, with nothing pinned, the
    period-tuned ones; it keeps the shortest period among them, so it is never worse than
    the isolated candidates alone."""
    from aras.methods.heuristics.steady import BALANCES, REP_SCALES

    b = NetworkBuilder("chain", {"x": (64, 4, 4)})
    y = "x"
    for i, co in enumerate((256, 256, 128, 128)):
        y = b.conv(f"c{i}", y, 64 if i == 0 else (256 if i < 3 else 128), co, 1)
    p = map_network(b.build(), tiny_hardware(pes=4, apu_rows_per_pe=2))
    ps = steady(p, "jit", "none")
    tried = ps.runtime_info["tried"]
    names = [t["candidate"] for t in tried]
    assert names[:4] == ["search", "search, descent", "local search", "ones"]
    assert len(names) == 4 + 2 * len(REP_SCALES) + len(BALANCES)
    assert ps.period == min(t["period"] for t in tried)
    assert evaluate_periodic(p, ps).valid
