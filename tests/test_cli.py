"""The command line: solve -> evaluate round trips, exit codes and one-line errors."""

from __future__ import annotations

import json

import pytest

from aras.frontends.zoo import BUILTIN
from tests.helpers import cli_inprocess as run_cli


@pytest.mark.parametrize("network", list(BUILTIN))
def test_solve_then_evaluate_every_network(tmp_path, network):
    for method in ("naive", "baseline"):
        out = tmp_path / f"{network}-{method}.json"
        r = run_cli("solve", network, "--method", method, "--output", str(out), "--json")
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        for key in ("network", "method", "status", "makespan_cycles", "latency_s",
                    "throughput_inf_s", "lower_bound_cycles", "write_bound_cycles", "gap",
                    "energy_j", "write_pulses", "runtime_s", "valid"):
            assert key in d
        assert d["valid"] and d["makespan_cycles"] >= d["lower_bound_cycles"]
        assert set(d["energy_j"]) == {"total", "rram_write", "gbuffer_static",
                                      "gbuffer_dynamic", "dram", "compute"}
        ev = run_cli("evaluate", str(out), "--json")
        assert ev.returncode == 0, ev.stdout + ev.stderr
        e = json.loads(ev.stdout)
        assert e["makespan_cycles"] == d["makespan_cycles"]
        assert e["energy_j"]["total"] == pytest.approx(d["energy_j"]["total"])


def test_evaluate_lists_every_violation_and_exits_1(tmp_path):
    out = tmp_path / "s.json"
    assert run_cli("solve", "resnet50", "-o", str(out)).returncode == 0
    d = json.loads(out.read_text())
    d["writes"]["row"][0] = 99        # R7 (the writes are columns in aras-schedule/2)
    d["steps"][0]["banks_in"] = d["steps"][0]["banks_out"]  # R8
    out.write_text(json.dumps(d))
    r = run_cli("evaluate", str(out))
    assert r.returncode == 1
    assert "R7:" in r.stdout and "R8:" in r.stdout
    assert "Traceback" not in r.stderr


def test_networks_listing_and_show():
    r = run_cli("networks", "--json")
    assert r.returncode == 0
    rows = {x["network"]: x for x in json.loads(r.stdout)}
    assert rows["resnet50"]["weights"] == 25_502_912
    assert rows["bert-large"]["apu_rows"] == 18_440
    s = run_cli("networks", "show", "resnet50", "--json")
    assert s.returncode == 0
    steps = json.loads(s.stdout)["steps"]
    assert steps[0]["layer"] == "conv1" and steps[0]["apu_rows"] == 2


def test_bound_command():
    r = run_cli("bound", "resnet50", "--json")
    assert r.returncode == 0
    d = json.loads(r.stdout)
    # ceil(1576 / 576) = 3 rounds of 768000 cycles + the fc layer at one window (96 cycles)
    assert d["write_cycles"] == 3 * 768_000 + 96
    assert d["lower_cycles"] >= d["write_cycles"]


def _one_line_error(r, fragment: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert fragment in lines[0], lines[0]


def test_bad_inputs_exit_2_with_one_line(tmp_path):
    _one_line_error(run_cli("solve", "no-such-net"), "unknown network 'no-such-net'")
    _one_line_error(run_cli("solve", str(tmp_path / "missing.json")), "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    _one_line_error(run_cli("solve", str(bad)), "malformed JSON")
    net = {"format": "aras-network/1", "name": "n", "inputs": {"x": [4, 4, 4]},
           "ops": [{"name": "a", "op": "warp", "inputs": ["x"]}]}
    bad.write_text(json.dumps(net))
    _one_line_error(run_cli("solve", str(bad)), "unknown op 'warp'")
    net["ops"] = [{"name": "a", "op": "conv2d", "inputs": ["b"], "c_in": 4, "c_out": 4,
                   "kernel": [1, 1]},
                  {"name": "b", "op": "conv2d", "inputs": ["a"], "c_in": 4, "c_out": 4,
                   "kernel": [1, 1]}]
    bad.write_text(json.dumps(net))
    _one_line_error(run_cli("solve", str(bad)), "cycle in the graph")
    net["ops"] = [{"name": "a", "op": "conv2d", "inputs": ["x"], "c_in": 4, "c_out": -4,
                   "kernel": [1, 1]}]
    bad.write_text(json.dumps(net))
    _one_line_error(run_cli("solve", str(bad)), "c_out must be a positive integer")
    hw = tmp_path / "hw.toml"
    hw.write_text("pes = 0\n")
    _one_line_error(run_cli("solve", "resnet50", "--hardware", str(hw)), "hardware.pes")
    hw.write_text("pes = [\n")
    _one_line_error(run_cli("solve", "resnet50", "--hardware", str(hw)), "malformed TOML")
    _one_line_error(run_cli("solve", "resnet50", "--method", "magic"), "unknown method")
    _one_line_error(run_cli("evaluate", str(tmp_path / "nope.json")), "schedule file not found")
    _one_line_error(run_cli("solve", "resnet50", "--time-limit", "-1"), "--time-limit")


def test_usage_error_is_exit_2_without_traceback() -> None:
    r = run_cli("solve", "resnet50", "--bogus")
    assert r.returncode == 2
    assert "No such option: --bogus" in r.stderr and "Traceback" not in r.stderr


def test_plot_and_trace_commands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    sched = tmp_path / "s.json"
    assert run_cli("solve", "resnet50", "--method", "aras", "--output", str(sched)
                   ).returncode == 0
    r = run_cli("plot", str(sched), "--output", str(tmp_path / "g.png"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = run_cli("trace", str(sched), "--output", str(tmp_path / "t.json"))
    assert r.returncode == 0, r.stderr
    events = json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    steps = json.loads(sched.read_text())["steps"]
    from aras.views.trace import PID_COMPUTE

    computes = [e for e in events if e.get("ph") == "X" and e["pid"] == PID_COMPUTE]
    assert len(computes) == len(steps)
    assert run_cli("plot", str(tmp_path / "missing.json")).returncode == 2


@pytest.mark.parametrize("args,needle", [
    (["--time-limit", "nan"], "--time-limit: must be a finite number > 0, got nan"),
    (["--time-limit", "inf"], "--time-limit: must be a finite number > 0, got inf"),
    (["--time-limit", "0"], "--time-limit: must be a finite number > 0"),
    (["--window-time", "nan"], "--window-time"),
    (["--gap", "nan"], "--gap"),
    (["--banks", "bogus"], "known: greedy, exact, ilp, liveness"),
])
def test_non_finite_and_unknown_solver_options_exit_2(args, needle):
    _one_line_error(run_cli("solve", "resnet-18", *args), needle)
