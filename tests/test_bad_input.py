"""Bad input never crashes: one line on stderr naming the field, exit code 2, before any work.

One test (or one parametrized test) per class of bad input: non-finite numbers, integers too
large for the machine, absurd sizes, pathological files, output paths, study files, option
ranges. Every case asserts the exit code, the field in the message, a single line and no
traceback. Invalid schedules stay exit 1 with every violation listed.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from aras.model.errors import InputError
from tests.helpers import ROOT, cli_inprocess, tiny_hardware

R18 = ROOT / "instances" / "networks" / "resnet18-cifar.json"


def one_line(r, *needles: str, code: int = 2) -> str:  # type: ignore[no-untyped-def]
    """Assert a one-line error with ``code`` whose line holds every needle; return the line."""
    assert r.returncode == code, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr[-2000:]
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def schedule_doc(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A valid schedule of ResNet-18 (CIFAR) as a JSON document, in format version 1 (one
    object per write, so a test can edit one write; version 2's columns are checked by
    tests/test_schedule_file.py)."""
    from aras.model.schedule import Schedule

    out = tmp_path_factory.mktemp("sched") / "s.json"
    r = cli_inprocess("solve", str(R18), "--method", "baseline", "--output", str(out))
    assert r.returncode == 0, r.stderr
    Schedule.load(out).save(out, version=1)
    return json.loads(out.read_text())


def _write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def _net(ops: list[dict], inputs: dict | None = None) -> dict:
    return {"format": "aras-network/1", "name": "n", "inputs": inputs or {"x": [3, 8, 8]},
            "ops": ops}


def _conv(name: str = "c", src: str = "x", **kw: object) -> dict:
    return {"name": name, "op": "conv2d", "inputs": [src], "c_in": 3, "c_out": 8,
            "kernel": [3, 3], **kw}


# --------------------------------------------------------------------------- non-finite numbers

def _study(tmp: Path, body: str) -> Path:
    p = tmp / "set.toml"
    p.write_text(f'networks = ["{R18}"]\nmethods = ["baseline", "milp"]\ntime_limits = [4]\n'
                 + body)
    return p


@pytest.mark.parametrize("body, field", [
    ("[hardware.sweep]\nmemory_bandwidth_bytes_s = [nan]\n",
     "hardware.sweep.memory_bandwidth_bytes_s[0]"),
    ("[hardware.sweep]\nwrite_energy_per_pulse_j = [inf]\n",
     "hardware.sweep.write_energy_per_pulse_j[0]"),
    ("[hardware.variants]\nv = { frequency_hz = -inf }\n", "hardware.variants.v"),
    ("[hardware.sweep]\npes = [\"x1e400\"]\n", "hardware.sweep.pes[0]"),
    ("[options.milp]\nwindow_time = nan\n", "options.milp.window_time"),
    ("[options.milp]\ngap = inf\n", "options.milp.gap"),
])
def test_non_finite_numbers_in_a_study_file(tmp_path: Path, body: str, field: str) -> None:
    r = cli_inprocess("study", str(_study(tmp_path, body)), "-o", str(tmp_path / "out"))
    one_line(r, field)
    assert not (tmp_path / "out").exists()  # refused before anything ran


def test_non_finite_time_limits_in_a_study_file(tmp_path: Path) -> None:
    for v in ("nan", "inf", "1e400"):
        p = tmp_path / "set.toml"
        p.write_text(f'networks = ["{R18}"]\nmethods = ["milp"]\ntime_limits = [{v}]\n')
        one_line(cli_inprocess("study", str(p), "-o", str(tmp_path / "out")), "time_limits[0]",
                 "finite")


def test_non_finite_numbers_in_json_inputs(tmp_path: Path, schedule_doc: dict) -> None:
    # NaN and 1e400 (infinity) are valid Python JSON: each field's check must refuse them.
    doc = dict(schedule_doc, hardware=dict(schedule_doc["hardware"]))
    doc["hardware"]["memory_bandwidth_bytes_s"] = float("nan")
    one_line(cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc))),
             "hardware.memory_bandwidth_bytes_s", "finite")
    doc = json.loads(json.dumps(schedule_doc))
    doc["steps"][0]["start"] = float("nan")
    one_line(cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc))),
             "steps[0].start", "must be an integer")
    text = json.dumps(_net([_conv()])).replace('"c_out": 8', '"c_out": 1e400')
    one_line(cli_inprocess("solve", str(_write(tmp_path / "n.json", text))), "c_out")
    text = json.dumps(_net([_conv()])).replace('[3, 8, 8]', '[3, NaN, 8]')
    one_line(cli_inprocess("solve", str(_write(tmp_path / "n.json", text))), "input 'x'")
    cfg = ('{"model_type": "bert", "hidden_size": NaN, "num_attention_heads": 1, '
           '"num_hidden_layers": 1, "intermediate_size": 8}')
    one_line(cli_inprocess("solve", str(_write(tmp_path / "b.config.json", cfg))),
             "'hidden_size'")
    doc = json.loads(json.dumps(schedule_doc))
    doc["network_source"] = {"name": "bert-base", "tokens": float("nan")}
    one_line(cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc))),
             "network_source.tokens")


# --------------------------------------------------------------------------- huge integers

@pytest.mark.parametrize("where, value", [
    (("writes", 0, "start"), 10**20), (("writes", 0, "start"), -10**19),
    (("writes", 0, "tile"), 10**20), (("writes", 0, "tile"), -1), (("writes", 0, "pe"), 10**30),
    (("steps", 0, "start"), 10**20), (("steps", 0, "banks_in"), [10**20]),
    (("steps", 0, "replication"), -10**20), (("makespan",), 10**40),
])
def test_schedule_integers_beyond_the_machine(tmp_path: Path, schedule_doc: dict,
                                              where: tuple, value: object) -> None:
    doc = json.loads(json.dumps(schedule_doc))
    target = doc
    for k in where[:-1]:
        target = target[k]
    target[where[-1]] = value
    path = _write(tmp_path / "s.json", doc)
    field = (f"{where[0]}[{where[1]}].{where[2]}" if len(where) == 3 else where[0])
    for cmd in (["evaluate", str(path)], ["trace", str(path), "-o", str(tmp_path / "t.json")],
                ["plot", str(path), "-o", str(tmp_path / "g.png")]):
        one_line(cli_inprocess(*cmd), field, "2^53" if value != -1 else "0..2^53")


def test_schedule_integers_at_2_53_are_violations_not_crashes(tmp_path: Path,
                                                             schedule_doc: dict) -> None:
    doc = json.loads(json.dumps(schedule_doc))
    doc["writes"][0]["start"] = 2**53
    doc["steps"][1]["end"] = -(2**53)
    r = cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc)))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "R7" in r.stdout


@pytest.mark.parametrize("center", [1000, -5, 10**15, 256])
def test_reuse_center_outside_the_weight_codes_is_a_violation(tmp_path: Path,
                                                             schedule_doc: dict,
                                                             center: int) -> None:
    doc = json.loads(json.dumps(schedule_doc))
    weighted = [i for i, s in enumerate(doc["steps"]) if s["apu_rows"]]
    for i in weighted:
        doc["steps"][i]["center"] = center
    r = cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc)))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [x for x in r.stdout.splitlines() if "center" in x]
    assert len(lines) == len(weighted)  # every one listed
    assert f"steps[{weighted[0]}]" in lines[0] and "0..255" in lines[0]
    for i in weighted:  # 0 and 255 are codes: valid
        doc["steps"][i]["center"] = 255 if center > 0 else 0
    assert cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc))).returncode == 0


# --------------------------------------------------------------------------- absurd sizes

@pytest.mark.parametrize("ops, inputs, field", [
    ([_conv(c_out=10**12)], None, "per layer"),
    ([{"name": "l", "op": "linear", "inputs": ["x"], "in_features": 192,
       "out_features": 10**10}], None, "op 'l'"),
    ([_conv(padding=[10**30, 1])], None, "padding"),
    ([_conv(kernel=[10**6, 10**6], padding=[10**6, 10**6])], None, "per layer"),
    ([_conv()], {"x": [3, 10**7, 10**7]}, "input 'x'"),
    ([{"name": "l", "op": "linear", "inputs": ["x"], "in_features": 2**17,
       "out_features": 2**17}] + [{"name": f"l{i}", "op": "linear",
                                   "inputs": ["l" if i == 0 else f"l{i - 1}"],
                                   "in_features": 2**17, "out_features": 2**17}
                                  for i in range(9)], {"x": [1, 2**17]}, "per network"),
    ([{"name": "a", "op": "matmul", "inputs": ["x", "x"], "heads": 1, "transpose_b": True}],
     {"x": [2**21, 8]}, "op 'a': output"),
    ([dict(_conv(f"c{i}"), c_in=3, c_out=3) for i in range(140_000)], None, "ops"),
])
def test_absurd_network_sizes_fail_fast(tmp_path: Path, ops: list, inputs: dict | None,
                                        field: str) -> None:
    t0 = time.perf_counter()
    r = cli_inprocess("solve", str(_write(tmp_path / "n.json", _net(ops, inputs))))
    one_line(r, field, "supported" if field != "padding" else "at most")
    assert time.perf_counter() - t0 < 30


def test_absurd_token_counts_and_shapes_fail_fast(tmp_path: Path) -> None:
    one_line(cli_inprocess("solve", "bert-base", "--tokens", str(10**12)), "--tokens",
             "1,048,576")
    one_line(cli_inprocess("networks", "show", "gpt2", "--phase", "decode", "--context",
                           str(10**30)), "--context")
    cfg = {"model_type": "bert", "hidden_size": 10**9, "num_attention_heads": 1,
           "num_hidden_layers": 1, "intermediate_size": 10}
    one_line(cli_inprocess("solve", str(_write(tmp_path / "a.config.json", cfg))),
             "'hidden_size'")
    cfg = {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 1,
           "num_hidden_layers": 10**9, "intermediate_size": 64, "vocab_size": 10}
    one_line(cli_inprocess("solve", str(_write(tmp_path / "b.config.json", cfg))),
             "'num_hidden_layers'")
    cfg = {"model_type": "gpt2", "n_embd": 64, "n_layer": 1, "n_head": 1, "vocab_size": 10,
           "n_positions": 0}
    one_line(cli_inprocess("solve", str(_write(tmp_path / "c.config.json", cfg))),
             "'n_positions'")


def test_absurd_onnx_input_shape_fails_before_shape_inference(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    p = tmp_path / "m.onnx"
    p.write_bytes(helper.make_model(g).SerializeToString())
    one_line(cli_inprocess("solve", str(p), "--input-shape", "x=1x3x10000000x10000000"),
             "--input-shape", "x")
    one_line(cli_inprocess("solve", str(p), "--tokens", str(2**21)), "--tokens")


@pytest.mark.parametrize("hardware, field", [
    # 1x4-cell crossbars: 4 weights per APU row, 2^34 APU rows for one 2^17 x 2^17 linear
    ("crossbar_rows = 1\ncrossbar_cols = 4\n", "APU rows"),
    # one APU row: every APU row of every layer is its own part
    ("pes = 1\napu_rows_per_pe = 1\n", "compute steps"),
    ("compute_latency_cycles = 1125899906842624\n", "2^53"),
])
def test_mappings_beyond_the_machine_fail_before_any_array(tmp_path: Path, hardware: str,
                                                           field: str) -> None:
    net = _net([{"name": "l", "op": "linear", "inputs": ["x"], "in_features": 2**17,
                 "out_features": 2**15}], {"x": [64, 2**17]})
    hw = tmp_path / "hw.toml"
    hw.write_text(hardware)
    t0 = time.perf_counter()
    r = cli_inprocess("networks", "show", str(_write(tmp_path / "n.json", net)), "-H", str(hw))
    one_line(r, "network 'n' on hardware", field)
    assert time.perf_counter() - t0 < 30


# --------------------------------------------------------------------------- pathological files

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("content, needle", [
    (DEEP, "nested too deeply"), ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
    ("", "malformed JSON"), ("null", "expected a JSON object"), ("[1, 2]", "expected"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8"), ("{" + '"a": 1' * 3, "malformed JSON"),
    ("9" * 5000, "malformed JSON"),
])
@pytest.mark.parametrize("command", ["solve", "evaluate", "hf"])
def test_pathological_json_files(tmp_path: Path, content: str | bytes, needle: str,
                                 command: str) -> None:
    name = {"solve": "n.json", "evaluate": "s.json", "hf": "m.config.json"}[command]
    p = tmp_path / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content)
    if command == "hf" and content == DEEP:
        p.write_text('{"model_type": ' + DEEP + "}")
    line = one_line(cli_inprocess("evaluate" if command == "evaluate" else "solve", str(p)),
                    str(p))
    assert needle in line or command == "hf", line


@pytest.mark.parametrize("content, needle", [
    ("networks = " + "[" * 20_000 + "]" * 20_000 + "\n", "nested too deeply"),
    ("networks = [\n", "malformed TOML"), (random.Random(64).randbytes(64), "malformed TOML"),
    ("pes = " + "9" * 5000 + "\n", "malformed TOML"), ("", "'networks' is missing"),
    ("networks = [5]\nmethods = [\"aras\"]\n", "networks[0]"),
])
def test_pathological_toml_files(tmp_path: Path, content: str | bytes, needle: str) -> None:
    p = tmp_path / "set.toml"
    if isinstance(content, bytes):
        p.write_bytes(b"\xff" + content)
    else:
        p.write_text(content)
    one_line(cli_inprocess("study", str(p), "-o", str(tmp_path / "out")), needle)
    if "networks" not in needle:  # the same reader serves hardware files
        one_line(cli_inprocess("solve", str(R18), "-H", str(p)), str(p))


def test_a_directory_given_as_a_file(tmp_path: Path) -> None:
    d = tmp_path / "dir.json"
    d.mkdir()
    one_line(cli_inprocess("solve", str(d)), "is a directory")
    one_line(cli_inprocess("evaluate", str(d)), "is a directory")
    one_line(cli_inprocess("solve", str(R18), "-H", str(d)), "is a directory")
    one_line(cli_inprocess("study", str(d), "-o", str(tmp_path / "o")), "is a directory")
    o = tmp_path / "x.onnx"
    o.mkdir()
    one_line(cli_inprocess("solve", str(o)), "is a directory")


def test_json_suffix_is_never_read_as_onnx(tmp_path: Path) -> None:
    p = _write(tmp_path / "n.json", "null")  # used to reach onnx.load's JSON parser
    one_line(cli_inprocess("solve", str(p)), "expected a JSON object")


# --------------------------------------------------------------------------- output paths

def test_output_paths_are_checked_before_any_work(tmp_path: Path, schedule_doc: dict) -> None:
    afile = _write(tmp_path / "a.json", "{}")
    t0 = time.perf_counter()
    # a 10-minute MILP: refused at once, not after the solve
    one_line(cli_inprocess("solve", "resnet50", "-m", "milp", "--time-limit", "600",
                           "--output", str(tmp_path / "missing_dir" / "s.json")),
             "--output", "missing_dir")
    one_line(cli_inprocess("solve", str(R18), "--output", str(tmp_path)), "--output",
             "is a directory")
    one_line(cli_inprocess("solve", str(R18), "--output", str(afile / "s.json")), "--output",
             "is a file")
    one_line(cli_inprocess("solve", str(R18), "-m", "milp", "--dump-model",
                           str(tmp_path / "nope" / "m.lp")), "--dump-model")
    sched = _write(tmp_path / "s.json", schedule_doc)
    one_line(cli_inprocess("trace", str(sched), "--output", str(tmp_path)), "--output",
             "is a directory")
    one_line(cli_inprocess("plot", str(sched), "--output", str(tmp_path)), "--output")
    one_line(cli_inprocess("plot", str(sched), "--output", str(tmp_path / "g.xyz")),
             "--output", "image format 'xyz'")
    one_line(cli_inprocess("plot", str(sched), "--output", str(tmp_path / "no" / "g.png")),
             "--output")
    study = _study(tmp_path, "")
    one_line(cli_inprocess("study", str(study), "--output", str(afile)), "--output", "a file")
    one_line(cli_inprocess("study", str(study), "--output", str(afile / "sub")), "--output",
             "is a file")
    one_line(cli_inprocess("paper", "--output", str(afile)), "--output", "a file")
    one_line(cli_inprocess("paper", "--output", str(afile / "p")), "--output")
    assert time.perf_counter() - t0 < 60
    assert afile.read_text() == "{}"


def test_writes_are_atomic(tmp_path: Path) -> None:
    from aras.model.files import atomic_path, atomic_write_text

    target = tmp_path / "s.json"
    atomic_write_text(target, "old")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise KeyboardInterrupt  # interrupted mid-write: the old file stays, no temporary
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    r = cli_inprocess("solve", str(R18), "--output", str(target))
    assert r.returncode == 0 and json.loads(target.read_text())["format"] == "aras-schedule/2"
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]


# --------------------------------------------------------------------------- study files

@pytest.mark.parametrize("body, field", [
    ('[options.milp]\nwindow = "six"\n', "options.milp.window"),
    ("[options.milp]\nwindow = 0\n", "options.milp.window"),
    ("[options.milp]\noverlap = 10\n", "options.milp.overlap"),
    ("[options.milp]\ngap = 2\n", "options.milp.gap"),
    ('[options.milp]\nsolver = "bogus"\n', "options.milp.solver"),
    ('[options.milp]\nlookback = "x"\n', "options.milp.lookback"),
    ("[options.milp]\nwindow_time = -1\n", "options.milp.window_time"),
    ("seeds = [100000000000000000000]\n", "seeds[0]"),
    ("threads = 100000\n", "threads"),
    ('banks = ["x"]\n', "banks"),
    ('description = ["a list"]\n', "description"),
])
def test_study_options_are_validated_at_load(tmp_path: Path, body: str, field: str) -> None:
    r = cli_inprocess("study", str(_study(tmp_path, body)), "-o", str(tmp_path / "out"))
    one_line(r, field)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("body, field", [
    ('methods = [["x"]]', "methods[0]"),
    ('methods = ["aras"]\n[hardware.sweep]\npes = ["many"]', "hardware.sweep.pes[0]"),
    ('networks = [{network = "bert-base", tokens = "many"}]\nmethods = ["aras"]',
     "networks[0].tokens"),
    ('networks = [{network = "gpt2", phase = "middle"}]\nmethods = ["aras"]',
     "networks[0].phase"),
])
def test_study_entries_of_the_wrong_type(tmp_path: Path, body: str, field: str) -> None:
    p = tmp_path / "set.toml"
    p.write_text(body if body.startswith("networks") else f'networks = ["{R18}"]\n{body}\n')
    one_line(cli_inprocess("study", str(p), "-o", str(tmp_path / "out")), field)


def test_retry_failed_reruns_method_errors(tmp_path: Path) -> None:
    from aras.studies.run import pending_tasks
    from aras.studies.study import load_study

    p = _study(tmp_path, "")
    study = load_study(p)
    out = tmp_path / "out"
    out.mkdir()
    recs = [{"task": t.id, "status": s} for t, s in zip(study.tasks, ("error", "failed"),
                                                           strict=False)]
    recs += [{"task": t.id, "status": "feasible"} for t in study.tasks[2:]]
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    assert pending_tasks(study, out) == []
    assert pending_tasks(study, out, retry_failed=True) == study.tasks[:2]


# --------------------------------------------------------------------------- solve options

@pytest.mark.parametrize("args, field", [
    (["--seed", "-1"], "--seed"), (["--seed", str(2**40)], "--seed"),
    (["--threads", "0"], "--threads"), (["--window", "0"], "--window"),
    (["--overlap", "6"], "--overlap"), (["-m", "milp", "--solver", "bogus"], "--solver"),
    (["--banks", "nope"], "greedy, exact, ilp, liveness"), (["--gap", "inf"], "--gap"),
    (["--config", "nope"], "--config"),
])
def test_solve_options_in_range(args: list[str], field: str) -> None:
    one_line(cli_inprocess("solve", str(R18), *args), field)


def test_check_options_names_the_field_it_is_given() -> None:
    from aras.methods.solve import check_options

    with pytest.raises(InputError, match=r"^f\.window: must be >= 1"):
        check_options("milp", {"window": 0}, {"window": "f.window"})
    check_options("milp", {"window": 8, "overlap": 7, "gap": 0.0, "seed": 2**31 - 1})
    check_options(None, {"threads": 1})


# --------------------------------------------------------------------------- own inputs

@pytest.mark.parametrize("doc, field", [
    ({"format": "aras-network/1", "name": "n", "inputs": {"x": [3, 8, 8]}}, "ops"),
    (_net([_conv(c_out=0)]), "c_out"), (_net([_conv(c_out=-4)]), "c_out"),
    (_net([_conv(kernel=[0, 3])]), "kernel"), (_net([_conv()], {"x": [3, 0, 8]}), "input 'x'"),
    (_net([dict(_conv(), op="warp")]), "unknown op 'warp'"),
    (_net([_conv("a", "b", c_in=8), _conv("b", "a")]), "cycle"),
    (_net([_conv("a", "a")]), "cycle"), (_net([dict(_conv(), inputs=[])]), "inputs"),
    ({"format": "aras-network/1", "name": "n", "inputs": [[3, 8, 8]], "ops": []}, "inputs"),
])
def test_own_bad_networks(tmp_path: Path, doc: dict, field: str) -> None:
    one_line(cli_inprocess("solve", str(_write(tmp_path / "n.json", doc))), field)


def test_own_bad_schedules_and_hardware(tmp_path: Path, schedule_doc: dict) -> None:
    for change, field in ((lambda d: d.pop("steps"), "'steps'"),
                          (lambda d: d["steps"].__setitem__(0, 5), "steps[0]"),
                          (lambda d: d["writes"][0].__setitem__("layer", 5), "writes[0].layer"),
                          (lambda d: d["steps"][0].__setitem__("banks_in", "0"),
                           "steps[0].banks_in"),
                          (lambda d: d["hardware"].__setitem__("bogus", 1), "'bogus'"),
                          (lambda d: d.__setitem__("network_source", {
                              "name": "resnet-18", "input_shapes": [1]}),
                           "network_source.input_shapes")):
        doc = json.loads(json.dumps(schedule_doc))
        change(doc)
        one_line(cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc))), field)
    hw = tmp_path / "hw.toml"
    for text, field in (("gbuffer_banks = []", "gbuffer_banks"),
                        ("gbuffer_banks = [" + ", ".join(["1024"] * 2000) + "]",
                         "gbuffer_banks"),
                        ("[x]\na = 1", "'x'")):
        hw.write_text(text + "\n")
        one_line(cli_inprocess("solve", str(R18), "-H", str(hw)), field)
    # once an overflow of the write slots; now outside the plausible range, like values that
    # would print as "inf" or as 300-digit figures
    for text, field in (("frequency_hz = 1e-300", "frequency_hz"),
                        ("sram_leakage_w_per_byte = 1e300", "sram_leakage_w_per_byte"),
                        ("cell_endurance_cycles = 0", "cell_endurance_cycles"),
                        ("", "no hardware keys")):
        hw.write_text(text + "\n")
        one_line(cli_inprocess("solve", str(R18), "-H", str(hw)), field)


def test_tiny_hardware_still_maps() -> None:
    # the limits leave ordinary small accelerators alone
    from aras.frontends import load_network
    from aras.model.mapping import map_network

    assert map_network(load_network(str(R18)), tiny_hardware()).steps


def test_damaged_study_results_are_one_line_errors(tmp_path: Path) -> None:
    d = tmp_path / "out"
    d.mkdir()
    (d / "study.json").write_text('{"variants": 5, "sweeps": {"pes": [1]}}')
    (d / "results.jsonl").write_text(
        '{"task": "a"}\n{"task": "b", "status": "feasible", "makespan_cycles": "abc"}\n[1, 2]')
    # a torn last line is skipped (an interrupted write); the bad figure is named
    one_line(cli_inprocess("study", "report", str(d)), "task 'b'", "makespan_cycles")
    (d / "results.jsonl").write_text('{"task": "a"}\n[1, 2]\n{}\n{"task": "b"}\n')
    # a damaged line before the last is not counted around: the report would be wrong
    one_line(cli_inprocess("study", "report", str(d)), "line 2 is not a study record")
    (d / "results.jsonl").write_text('{"task": 5, "status": "feasible"}\n')
    one_line(cli_inprocess("study", "report", str(d)), "'task' must be a string")
    (d / "results.jsonl").unlink()
    (d / "results.jsonl").mkdir()
    one_line(cli_inprocess("study", "report", str(d)), "results.jsonl: not a file")


def test_reuse_on_hardware_whose_codes_cannot_hold_the_centers(tmp_path: Path) -> None:
    hw = tmp_path / "hw4.toml"
    hw.write_text("weight_bits = 4\n")
    one_line(cli_inprocess("solve", str(R18), "-H", str(hw), "--reuse"), "--reuse",
             "hardware.weight_bits = 4")
    assert cli_inprocess("solve", str(R18), "-H", str(hw)).returncode == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_onnx_weights_name_the_tensor(tmp_path: Path, bad: float) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = np.full((16, 16), 0.5, dtype=np.float32)
    w[3, 4] = bad
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16])],
                          [numpy_helper.from_array(w, "Wt")])
    g.node[0].input[1] = "Wt"
    f = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g), str(f))
    one_line(cli_inprocess("solve", str(f), "-m", "aras"), "tensor 'Wt'", "NaN or infinite")


@pytest.mark.skipif(not Path("/proc/version").exists(), reason="needs Linux's /proc")
@pytest.mark.parametrize("args", [
    ("solve", str(R18), "-m", "aras", "-o", "/proc/version"),
    ("lifetime", str(R18), "--csv", "/proc/x.csv"),
    ("study", "run", str(ROOT / "instances" / "sets" / "sensitivity.toml"), "-o",
     "/proc/study"),
])
def test_outputs_that_permissions_allow_but_the_file_system_refuses(args: tuple) -> None:
    # /proc passes os.access for root; only creating a file there shows the refusal, which
    # must come before the work, not as a traceback after it
    t0 = time.perf_counter()
    one_line(cli_inprocess(*args), "/proc/", "cannot be written")
    assert time.perf_counter() - t0 < 10


def test_dump_model_needs_a_format_before_the_solve(tmp_path: Path) -> None:
    t0 = time.perf_counter()
    one_line(cli_inprocess("solve", str(R18), "-m", "milp", "--time-limit", "30",
                           "--dump-model", str(tmp_path / "m.txt")), "--dump-model", ".lp")
    assert time.perf_counter() - t0 < 10


def test_periodic_schedule_with_a_tiny_period_is_invalid_not_out_of_memory(
        tmp_path: Path) -> None:
    out = tmp_path / "ss.json"
    assert cli_inprocess("solve", str(R18), "-m", "aras", "--steady-state", "-q",
                         "-o", str(out)).returncode == 0
    doc = json.loads(out.read_text())
    for period in (1, 1000):
        doc["period"] = period
        r = cli_inprocess("evaluate", str(_write(tmp_path / "p.json", doc)))
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert f"longer than the period {period}" in r.stdout
        # period 1 unrolls more inferences than memory holds: said, not attempted
        assert ("not checked further" in r.stdout) == (period == 1)


def _onnx(path: Path, nodes: list, inits: list, x_shape: list, opset: int | None = None) -> Path:
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                     x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    kw = {"opset_imports": [helper.make_opsetid("", opset)]} if opset else {}
    onnx.save(helper.make_model(g, **kw), str(path))
    return path


def test_inconsistent_onnx_graphs_are_refused(tmp_path: Path) -> None:
    import numpy as np
    from onnx import helper, numpy_helper

    w4 = numpy_helper.from_array(np.ones((4, 2, 3, 3), np.float32), "W")
    w16 = numpy_helper.from_array(np.ones((16, 16), np.float32), "W")
    conv = helper.make_node("Conv", ["x", "W"], ["y"], name="c", group=2)
    one_line(cli_inprocess("solve", str(_onnx(tmp_path / "g.onnx", [conv], [w4],
                                               [1, 3, 8, 8]))),
             "node 'c'", "3 input channels", "2 groups")
    two = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm"),
           helper.make_node("Relu", ["x"], ["y"], name="r")]
    one_line(cli_inprocess("solve", str(_onnx(tmp_path / "d.onnx", two, [w16], [1, 16]))),
             "tensor 'y'", "'mm' and 'r'")
    mm = [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    one_line(cli_inprocess("solve", str(_onnx(tmp_path / "o.onnx", mm, [w16], [1, 16],
                                               opset=99))), "opset 99")


def test_onnx_weights_whose_external_data_is_missing_are_said(tmp_path: Path) -> None:
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    from onnx.external_data_helper import set_external_data

    t = numpy_helper.from_array(np.ones((16, 16), np.float32), "W")
    set_external_data(t, "missing.bin")
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("raw_data")
    f = _onnx(tmp_path / "e.onnx", [helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
              [t], [1, 16])
    r = cli_inprocess("solve", str(f), "-m", "aras")
    assert r.returncode == 0
    assert "weights 'W' not read" in r.stderr


def test_wrong_python_arguments_name_the_argument() -> None:
    import aras
    from aras.model.hardware import load_hardware

    hw = load_hardware("aras")
    net = aras.load_network(str(R18))
    p = aras.map_network(net, hw)
    sched = aras.solve(p, "aras").schedule
    for call, needle in ((lambda: aras.solve(net, "jit"), "problem: expected Problem"),
                         (lambda: aras.solve(p, "milp", objective=42), "objective:"),
                         (lambda: aras.solve(p, "milp", start="s.json"), "start:"),
                         (lambda: aras.evaluate(p, sched.to_dict()), "sched: expected Schedule"),
                         (lambda: aras.map_network(hw, net), "network: expected Network")):
        with pytest.raises(TypeError, match=needle):
            call()
    with pytest.raises(InputError, match="windw: not an option of 'milp'"):
        aras.solve(p, "milp", time_limit=1, windw=3)
    from formulations import Formulation, default_families

    with pytest.raises(InputError, match="time_limit"):
        Formulation(p, default_families(p)).solve(time_limit=-5)


def test_network_source_and_its_name_must_agree(tmp_path: Path, schedule_doc: dict) -> None:
    doc = json.loads(json.dumps(schedule_doc))
    if "network_source" not in doc:
        pytest.skip("the fixture's schedule records no network_source")
    doc["network"] = "vgg16"
    one_line(cli_inprocess("evaluate", str(_write(tmp_path / "s.json", doc))), "network",
             "'vgg16'")
    ok = _write(tmp_path / "ok.json", schedule_doc)
    one_line(cli_inprocess("evaluate", str(ok), "--tokens", "5"), "--tokens",
             "network_source")


def test_group_hardware_reaches_networks_show(tmp_path: Path) -> None:
    hw = tmp_path / "half.toml"
    hw.write_text('name = "half"\nfrequency_hz = 5e8\n')
    r = cli_inprocess("networks", "-H", str(hw), "show", "vgg16")
    assert r.returncode == 0 and "on 'half'" in r.stdout


def test_a_network_without_weights_solves_and_evaluates(tmp_path: Path) -> None:
    # every op weightless (a lone Sigmoid): makespan 0, no throughput; the report of its
    # saved schedule must still print, not raise on the missing figure
    from onnx import helper

    f = _onnx(tmp_path / "s.onnx", [helper.make_node("Sigmoid", ["x"], ["y"], name="s")], [],
              [1, 16])
    out = tmp_path / "s.json"
    r = cli_inprocess("solve", str(f), "-m", "aras", "-o", str(out))
    assert r.returncode == 0, r.stderr[-1500:]
    r = cli_inprocess("evaluate", str(out))
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-1500:]
    assert "throughput" in r.stdout
