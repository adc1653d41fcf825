"""Rules of one's own: checked by the evaluator after R1-R8 (Python API, solve, the periodic
evaluator, ``--rule`` at the command line), and the evaluator's default weights (the network's
own codes, as ``solve`` costs them)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import aras
from aras.evaluation.evaluator import evaluate
from aras.evaluation.periodic import evaluate_periodic, validate_periodic
from aras.evaluation.rules import Rule, Violation, load_rule, rule
from aras.methods.heuristics import baseline, jit
from aras.methods.solve import Status, solve
from aras.model.errors import InputError
from aras.model.mapping import Problem, map_network
from aras.model.network import Network, NetworkBuilder
from aras.model.periodic import PeriodicSchedule
from aras.model.schedule import Schedule
from aras.model.weights import synthetic_stats
from tests.helpers import cli_inprocess, tiny_hardware


def _net() -> Network:
    """x(4,8,8) -> c1 (1x1, 4->8) -> c2 (1x1, 8->8): one APU row and 64 windows each."""
    b = NetworkBuilder("capped", {"x": (4, 8, 8)})
    y = b.conv("c1", "x", 4, 8, 1)
    b.conv("c2", y, 8, 8, 1)
    return b.build()


def _problem(rows: int = 4) -> Problem:
    return map_network(_net(), tiny_hardware(apu_rows_per_pe=rows))


@rule("c1-cap")
def c1_cap(problem: Problem, schedule: Schedule) -> Iterator[str]:
    """c1 replicated at most twice (used by the command-line tests as
    ``tests.test_user_rules:c1_cap``)."""
    for s in schedule.steps:
        if s.layer == "c1" and s.replication > 2:
            yield f"c1/{s.part}: replication {s.replication}, at most 2"


class MaxReplication(Rule):
    """At most ``cap`` copies of one layer."""

    name = "max-replication"

    def __init__(self, layer: str = "c1", cap: int = 2):
        self.layer, self.cap = layer, cap

    def check(self, problem: Problem, schedule: Schedule) -> Iterator[str]:
        for s in schedule.steps:
            if s.layer == self.layer and s.replication > self.cap:
                yield f"{s.layer}/{s.part}: replication {s.replication}, at most {self.cap}"


def test_a_replication_cap_rejects_jit_and_accepts_what_respects_it() -> None:
    p = _problem(4)
    fast = jit(p)  # four rows: jit copies c1 onto all of them
    assert [(s.layer, s.replication) for s in fast.steps] == [("c1", 4), ("c2", 4)]
    assert evaluate(p, fast).valid
    for r in (c1_cap, MaxReplication()):
        rep = evaluate(p, fast, rules=[r])
        assert not rep.valid and rep.makespan_cycles == 0  # costs only for valid schedules
        assert [str(v) for v in rep.violations] == [
            f"{r.name}: c1/0: replication 4, at most 2"]
    # baseline (no replication) and jit on two rows (c1 twice: the cap exactly) pass
    assert [s.replication for s in baseline(p).steps] == [1, 1]
    ok = evaluate(p, baseline(p), rules=[c1_cap, MaxReplication()])
    assert ok.valid and ok.violations == [] and ok.makespan_cycles == evaluate(
        p, baseline(p)).makespan_cycles
    p2 = _problem(2)
    two = jit(p2)
    assert [s.replication for s in two.steps if s.layer == "c1"] == [2]
    assert evaluate(p2, two, rules=[MaxReplication(cap=2)]).valid
    assert not evaluate(p2, two, rules=[MaxReplication(cap=1)]).valid


def test_user_violations_follow_r1_r8_in_the_same_one_line_format() -> None:
    p = _problem(4)
    s = jit(p)
    s.makespan += 1  # the file's own makespan is wrong too (an R1-R8 line)

    def plain(problem: Problem, schedule: Schedule) -> list[str]:
        return ["two\nlines   and  spaces", "second"]

    def other_name(problem: Problem, schedule: Schedule) -> Iterator[Violation]:
        yield Violation("elsewhere", "kept under its own rule")

    rep = evaluate(p, s, rules=[c1_cap, plain, other_name])
    lines = [str(v) for v in rep.violations]
    assert lines == [
        f"makespan: the file says {s.makespan}, the last compute ends at {s.makespan - 1}",
        "c1-cap: c1/0: replication 4, at most 2",
        "plain: two lines and spaces",
        "plain: second",
        "elsewhere: kept under its own rule"]
    assert rep.to_dict()["violations"] == lines and not rep.valid


def test_a_rule_that_raises_or_returns_no_messages_is_one_violation() -> None:
    p = _problem(4)
    s = baseline(p)

    def broken(problem: Problem, schedule: Schedule) -> list[str]:
        raise ValueError("no\nsuch layer")

    def numbers(problem: Problem, schedule: Schedule) -> list[int]:
        return [3]

    def nothing(problem: Problem, schedule: Schedule) -> None:
        return None

    def one_string(problem: Problem, schedule: Schedule) -> str:
        return "a single message"

    rep = evaluate(p, s, rules=[broken, numbers, nothing, one_string])
    assert [str(v) for v in rep.violations] == [
        "broken: the rule raised ValueError: no such layer",
        "numbers: the rule gave 3 (int), not a message",
        "one_string: a single message"]


def test_malformed_rules_are_input_errors_naming_the_argument() -> None:
    p = _problem(4)
    s = baseline(p)
    with pytest.raises(InputError, match=r"^rules\[1\]: a rule is an object"):
        evaluate(p, s, rules=[c1_cap, 42])
    with pytest.raises(InputError, match=r"^rules: a list of rules"):
        evaluate(p, s, rules=c1_cap)  # type: ignore[arg-type]
    nameless = MaxReplication()
    nameless.name = ""
    with pytest.raises(InputError, match=r"^rules\[0\]\.name: a rule's name"):
        evaluate(p, s, rules=[nameless])
    with pytest.raises(InputError, match=r"^rule: name"):
        rule("")
    # solve checks them before any work
    with pytest.raises(InputError, match=r"^rules\[0\]"):
        solve(p, method="jit", rules=["c1_cap"])


def test_solve_reports_a_broken_user_rule_as_an_error() -> None:
    p = _problem(4)
    res = solve(p, method="jit", rules=(r for r in [c1_cap]))  # a generator is read once
    assert res.status is Status.ERROR and res.objective is None
    assert res.report is not None
    assert [str(v) for v in res.report.violations] == ["c1-cap: c1/0: replication 4, at most 2"]
    assert res.to_dict(p)["violations"] == ["c1-cap: c1/0: replication 4, at most 2"]
    assert "the evaluator rejected the schedule" in res.messages
    ok = solve(p, method="baseline", rules=[c1_cap])
    assert ok.status in (Status.FEASIBLE, Status.OPTIMAL) and ok.report is not None
    assert ok.report.valid


def test_the_periodic_evaluator_checks_user_rules() -> None:
    p = _problem(4)
    s = jit(p)
    ps = PeriodicSchedule(s, s.makespan)
    assert evaluate_periodic(p, ps).valid
    rep = evaluate_periodic(p, ps, rules=[c1_cap])
    assert not rep.valid
    assert [str(v) for v in rep.violations] == ["c1-cap: c1/0: replication 4, at most 2"]
    assert [str(v) for v in validate_periodic(p, ps, rules=[c1_cap])] == [
        "c1-cap: c1/0: replication 4, at most 2"]


def test_public_names() -> None:
    assert aras.Rule is Rule and aras.rule is rule and aras.Violation is Violation
    assert isinstance(c1_cap, Rule) and c1_cap.name == "c1-cap"
    p = _problem(4)
    assert list(c1_cap(p, baseline(p)) or []) == []  # still a function
    assert list(c1_cap(p, jit(p)) or []) == ["c1/0: replication 4, at most 2"]


# ----------------------------------------------------------------------------- loading
def test_load_rule_from_a_module_and_a_file(tmp_path: Path) -> None:
    assert load_rule("tests.test_user_rules:c1_cap") is c1_cap
    got = load_rule("tests.test_user_rules:MaxReplication")  # a class: instantiated
    assert isinstance(got, MaxReplication) and got.cap == 2
    f = tmp_path / "my_rules.py"
    f.write_text("def no_c2(problem, schedule):\n"
                 "    return [f'c2/{s.part} is scheduled' for s in schedule.steps\n"
                 "            if s.layer == 'c2']\n")
    r = load_rule(f"{f}:no_c2")
    p = _problem(4)
    assert [str(v) for v in evaluate(p, baseline(p), rules=[r]).violations] == [
        "no_c2: c2/0 is scheduled"]


@pytest.mark.parametrize(("spec", "needle"), [
    ("tests.test_user_rules", "expected package.module:name or file.py:name"),
    ("no_such_module_xyz:r", "cannot import no_such_module_xyz: ModuleNotFoundError"),
    ("tests.test_user_rules:nope", "tests.test_user_rules has no 'nope'"),
    # a function of no arguments is callable, but cannot be called as (problem, schedule)
    ("tests.test_user_rules:_net", "cannot take them"),
    ("missing_file.py:r", "no file missing_file.py"),
    ("tests.test_user_rules:CONSTANT", "a rule is an object with a name"),
])
def test_load_rule_errors_name_the_argument(spec: str, needle: str) -> None:
    with pytest.raises(InputError) as exc:
        load_rule(spec)
    text = str(exc.value)
    # from Python the argument; the CLI's --rule wording is checked below
    assert text.startswith(f"spec: {spec!r}: ") and needle in text and "\n" not in text


CONSTANT = 3


# ----------------------------------------------------------------------------- command line
def _files(tmp_path: Path) -> tuple[str, str]:
    net, hw = tmp_path / "net.json", tmp_path / "hw.toml"
    _net().save(net)
    tiny_hardware(apu_rows_per_pe=4).save(hw)
    return str(net), str(hw)


def test_cli_rule_on_solve_and_evaluate(tmp_path: Path) -> None:
    net, hw = _files(tmp_path)
    spec = "tests.test_user_rules:c1_cap"
    line = "c1-cap: c1/0: replication 4, at most 2"
    # solve: jit breaks the cap (exit 1, the violation listed), baseline keeps it (exit 0)
    out = tmp_path / "jit.json"
    r = cli_inprocess("solve", net, "-H", hw, "-m", "jit", "--rule", spec, "-q",
                      "-o", str(out))
    assert r.returncode == 1, r.stdout + r.stderr
    assert line in r.stderr and "Traceback" not in r.stderr
    r = cli_inprocess("solve", net, "-H", hw, "-m", "jit", "--rule", spec, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["violations"] == [line]
    r = cli_inprocess("solve", net, "-H", hw, "-m", "baseline", "--rule", spec, "-q")
    assert r.returncode == 0, r.stderr
    # evaluate: the jit file is valid under R1-R8 alone, not with the rule (twice: both lines)
    assert cli_inprocess("evaluate", str(out)).returncode == 0
    f = tmp_path / "other.py"
    f.write_text("def no_c2(problem, schedule):\n"
                 "    return [f'c2/{s.part} is scheduled' for s in schedule.steps\n"
                 "            if s.layer == 'c2']\n")
    r = cli_inprocess("evaluate", str(out), "--rule", spec, "--rule", f"{f}:no_c2")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 violation(s)" in r.stderr
    assert [x.strip() for x in r.stdout.splitlines() if x.strip()] == [
        line, "no_c2: c2/0 is scheduled"]
    r = cli_inprocess("evaluate", str(out), "--rule", spec, "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["violations"] == [line]
    # periodic: solve --steady-state and the evaluation of its file check the rule too
    per = tmp_path / "per.json"
    r = cli_inprocess("solve", net, "-H", hw, "-m", "jit", "--steady-state", "--rule", spec,
                      "-o", str(per))
    assert r.returncode == 1 and line in r.stderr, r.stdout + r.stderr
    assert cli_inprocess("evaluate", str(per)).returncode == 0
    r = cli_inprocess("evaluate", str(per), "--rule", spec)
    assert r.returncode == 1 and [x.strip() for x in r.stdout.splitlines() if x.strip()] == [
        line]


@pytest.mark.parametrize("spec", ["nocolon", "no_such_module_xyz:r", "tests.test_user_rules:x"])
def test_cli_bad_rule_spec_exits_2_in_one_line(tmp_path: Path, spec: str) -> None:
    net, hw = _files(tmp_path)
    for args in (("solve", net, "-H", hw, "-m", "jit"), ("evaluate", str(tmp_path / "s.json"))):
        r = cli_inprocess(*args, "--rule", spec)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"error: --rule: {spec!r}: "), lines
        assert r.stdout == ""


# ----------------------------------------------------------------------------- weights
def _float_onnx(tmp_path: Path) -> Network:
    """Two float MatMuls (128x256, 256x64), 16 tokens: the ONNX reader quantises them to
    codes, so the network carries real weights."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w1 = numpy_helper.from_array(rng.normal(0, 0.1, (128, 256)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0.02, 0.05, (256, 64)).astype(np.float32), "w2")
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["a"], name="fc1"),
             helper.make_node("Relu", ["a"], ["b"], name="relu"),
             helper.make_node("MatMul", ["b", "w2"], ["y"], name="fc2")]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 16, 128])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)], initializer=[w1, w2])
    path = tmp_path / "float.onnx"
    path.write_bytes(helper.make_model(
        g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    del onnx
    from aras.frontends import load_network

    return load_network(str(path))


def test_evaluate_costs_with_the_network_s_codes_as_solve_does(tmp_path: Path) -> None:
    net = _float_onnx(tmp_path)
    assert net.codes is not None and sorted(net.codes) == ["fc1", "fc2"]
    p = map_network(net, tiny_hardware(apu_rows_per_pe=4))
    res = solve(p, method="jit")
    assert res.report is not None and res.schedule is not None and res.report.valid
    rep = evaluate(p, res.schedule)
    assert rep.pulse_model == res.report.pulse_model == "weights"
    # the same figures both ways, to the last bit (so to the picojoule)
    assert rep.energy.total == res.report.energy.total
    assert rep.write_pulses == res.report.write_pulses and rep.write_pulses > 0
    assert rep.max_cell_writes == res.report.max_cell_writes
    assert rep.energy.total == evaluate(p, res.schedule, weights=net.codes).energy.total
    # the statistical model prices the same schedule otherwise: the default matters here
    stats = synthetic_stats([o.name for o in net.weighted_ops], 0)
    stat = evaluate(p, res.schedule, stats=stats)
    assert stat.pulse_model == "statistical"
    assert abs(stat.energy.total - rep.energy.total) > 1e-9  # more than a nanojoule apart


def test_cost_false_validates_and_times_only() -> None:
    p = _problem(4)
    s = jit(p)
    full = evaluate(p, s)
    quick = evaluate(p, s, cost=False)
    assert quick.valid and quick.pulse_model == "none"
    assert (quick.makespan_cycles, quick.latency_s, quick.throughput_inf_s, quick.row_writes
            ) == (full.makespan_cycles, full.latency_s, full.throughput_inf_s, full.row_writes)
    assert quick.energy.total == 0.0 and full.energy.total > 0
    bad = evaluate(p, s, rules=[c1_cap], cost=False)
    assert not bad.valid and [v.rule for v in bad.violations] == ["c1-cap"]


def test_rules_given_as_specs_from_python(tmp_path) -> None:
    # solve/evaluate take the same "file.py:name" specs as the CLI's --rule
    import pytest

    from aras import evaluate, load_hardware, load_network, map_network, solve
    from aras.model.errors import InputError

    f = tmp_path / "myrules.py"
    f.write_text("def no_step_at_zero(problem, schedule):\n"
                 "    return ['a step starts at 0'] if any(s.start == 0 for s in "
                 "schedule.steps) else []\n"
                 "def always(problem, schedule):\n    return ['always broken']\n")
    p = map_network(load_network("vgg16"), load_hardware("aras"))
    sched = solve(p, "aras", rules=[f"{f}:no_step_at_zero"]).schedule
    rep = evaluate(p, sched, rules=[f"{f}:always"])
    assert not rep.valid and any("always broken" in str(v) for v in rep.violations)
    with pytest.raises(InputError, match=r"rules\[0\]"):
        evaluate(p, sched, rules=["no_such_module_xyz:rule"])
