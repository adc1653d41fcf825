"""Studies: validation, task expansion, resumable results, kill -9, Dask, reports."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aras.model.errors import InputError
from aras.model.network import NetworkBuilder
from aras.studies.report import summary, tabulate
from aras.studies.run import ResultWriter, load_results, run_study, run_task
from aras.studies.study import Task, load_study
from tests.helpers import ROOT, run_cli, tiny_hardware

R18 = ROOT / "instances" / "networks" / "resnet18-cifar.json"


def small_net_file(tmp: Path) -> Path:
    """Four convs with a residual add: 4 APU rows, more than the 2 of tiny_hardware."""
    b = NetworkBuilder("small", {"x": (8, 4, 4)})
    y = b.conv("c1", "x", 8, 128, 1)
    z = b.conv("c2", y, 128, 128, 1)
    s = b.add("add", "add", [y, z])
    b.conv("c3", s, 128, 16, 1)
    path = tmp / "small.json"
    b.build().save(path)
    return path


def write_study(tmp: Path, body: str, *, with_net: bool = True) -> Path:
    if with_net:
        small_net_file(tmp)
        tiny_hardware().save(tmp / "tiny.toml")
    path = tmp / "set.toml"
    path.write_text(body)
    return path


TINY_SET = """
name = "tiny"
networks = ["small.json"]
methods = ["baseline", "aras", "milp-full"]
time_limits = [20]
seeds = [0, 1]
[hardware]
base = "tiny.toml"
[hardware.sweep]
apu_rows_per_pe = [3]
write_latency_cycles = ["x2", "x1"]
"""


# ----- the study file -----

def test_expansion_counts_ids_and_overrides(tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, TINY_SET))
    # "x1" equals the base: deduplicated, not solved twice.
    assert list(study.variants) == ["base", "apu_rows_per_pe=3", "write_latency_cycles=x2"]
    assert study.sweeps == {"apu_rows_per_pe": ["apu_rows_per_pe=3"],
                            "write_latency_cycles": ["write_latency_cycles=x2", "base"]}
    assert study.variants["write_latency_cycles=x2"]["write_latency_cycles"] == 2000
    assert study.variants["apu_rows_per_pe=3"]["apu_rows_per_pe"] == 3
    # 3 variants x (2 heuristics + 1 searching method x 1 limit x 2 seeds)
    assert len(study.tasks) == 3 * (2 + 2)
    ids = [t.id for t in study.tasks]
    assert len(set(ids)) == len(ids)
    assert "small/base/milp-full/t20/s1" in ids and "small/base/aras" in ids
    assert len({t.filename for t in study.tasks}) == len(ids)
    # Longest first: the searching tasks lead.
    assert all(t.method == "milp-full" for t in study.tasks[:6])


@pytest.mark.parametrize("body, message", [
    ('networks = ["small.json"]\nmethods = ["nope"]', "methods[0]: unknown method 'nope'"),
    ('methods = ["aras"]', "'networks' is missing"),
    ('networks = ["missing.json"]\nmethods = ["aras"]', "networks[0]: 'missing.json'"),
    ('networks = ["small.json"]\nmethods = ["aras"]\ntime_limits = [0]', "time_limits[0]"),
    ('networks = ["small.json"]\nmethods = ["aras"]\n[hardware.sweep]\npes = [0]',
     "hardware.sweep.pes[0]: pes: must be > 0"),
    ('networks = ["small.json"]\nmethods = ["aras"]\n[hardware.variants]\nv = {foo = 1}',
     "hardware.variants.v.foo: unknown hardware parameter"),
    ('networks = ["small.json"]\nmethods = ["aras"]\n[hardware.sweep]\n'
     'write_latency_cycles = ["xx"]', "is not a scale"),
    ('networks = ["small.json"]\nmethods = ["aras"]\n[hardware.sweep]\n'
     'gbuffer_banks = ["huge"]', "unknown bank set 'huge'"),
    ('networks = ["small.json"]\nmethods = ["aras"]\nbogus = 1', "unknown key 'bogus'"),
    ('networks = ["small.json"]\nmethods = ["aras"]\n[options.milp]\nspeed = 1',
     "options.milp.speed: unknown option"),
    ('networks = ["small.json"\nmethods', "malformed TOML"),
])
def test_invalid_study_is_one_line_exit_2(tmp_path: Path, body: str, message: str) -> None:
    path = write_study(tmp_path, body)
    r = run_cli("study", str(path), "--output", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_shipped_sets_load() -> None:
    files = sorted((ROOT / "instances" / "sets").glob("*.toml"))
    steady = [p for p in files if 'kind = "steady"' in p.read_text()]
    for p in steady:  # benchmarks/steady_table.py runs these; the study loader says so
        with pytest.raises(InputError, match="steady_table.py"):
            load_study(p)
    sets = {p.stem: load_study(p) for p in files if p not in steady}
    assert {"smoke", "paper", "sensitivity"} <= set(sets)
    paper = sets["paper"]
    assert {t.network for t in paper.tasks} == {"vgg16", "resnet50", "densenet161",
                                                "bert-base", "bert-large"}
    from aras.methods.solve import BUILTIN_METHODS

    # (the built-in methods: other tests in this process may have registered their own)
    assert {t.method for t in paper.tasks} == set(BUILTIN_METHODS)
    assert len(sets["smoke"].tasks) <= 12


# ----- running -----

def test_run_task_records_failure_instead_of_raising() -> None:
    t = Task("x/base/aras", "x", "/no/such/net.json", "base", tiny_hardware().to_dict(), "aras")
    rec = run_task(t)
    assert rec["status"] == "failed" and "not found: /no/such/net.json" in rec["error"]


def test_study_runs_resumes_and_records_failures(tmp_path: Path) -> None:
    body = TINY_SET.replace('methods = ["baseline", "aras", "milp-full"]',
                            'methods = ["baseline", "aras"]')
    # A variant whose single Gbuffer bank cannot hold input and output: every task of it fails.
    body += '[hardware.variants]\nonebank = { gbuffer_banks = [4096] }\n'
    study = load_study(write_study(tmp_path, body))
    out = tmp_path / "out"
    run = run_study(study, out, workers=2)
    assert (run.total, run.finished, run.skipped, run.failed) == (8, 8, 0, 2)
    recs = load_results(out)
    assert sorted(r["task"] for r in recs) == sorted(t.id for t in study.tasks)
    for r in recs:
        if r["hardware"] == "onebank":
            assert r["status"] == "failed" and "disjoint Gbuffer banks" in r["error"]
        else:
            assert r["status"] in ("feasible", "optimal")
            sched = json.loads((out / r["schedule"]).read_text())
            assert sched["makespan"] == r["makespan_cycles"]
    # A torn last line (kill during a write) is ignored, then cut off on the next run.
    with open(out / "results.jsonl", "a") as f:
        f.write('{"task": "small/base/ar')
    assert len(load_results(out)) == 8
    again = run_study(study, out, workers=2)
    assert (again.finished, again.skipped) == (0, 8)
    assert (out / "results.jsonl").read_text().endswith("}\n")
    # Failed tasks are kept unless asked to retry; a retry appends a new record that wins.
    retry = run_study(study, out, workers=1, retry_failed=True)
    assert (retry.finished, retry.failed) == (2, 2)
    assert len((out / "results.jsonl").read_text().splitlines()) == 10
    assert len(load_results(out)) == 8


def test_sigterm_and_kill_9_lose_and_repeat_nothing(tmp_path: Path) -> None:
    study_file = tmp_path / "kill.toml"
    study_file.write_text(f"""
networks = ["{R18}"]
methods = ["baseline", "aras", "milp"]
time_limits = [2]
[hardware.sweep]
pes = [48, 192]
[options.milp]
window_time = 1
""")
    expected = sorted(t.id for t in load_study(study_file).tasks)
    out = tmp_path / "out"
    results = out / "results.jsonl"

    def start_and_stop(sig: int, lines: int) -> int:
        proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "study",
                                 str(study_file), "--output", str(out), "--workers", "2"],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if results.exists() and results.read_text().count("\n") >= lines:
                break
            time.sleep(0.05)
        os.kill(proc.pid, sig)
        return proc.wait(timeout=20)

    # SIGTERM stops promptly (running MILP tasks are stopped, not awaited) with code 130.
    t0 = time.monotonic()
    assert start_and_stop(signal.SIGTERM, 1) == 130
    assert time.monotonic() - t0 < 20
    after_term = len(load_results(out))
    # kill -9 in the middle of the resumed run.
    start_and_stop(signal.SIGKILL, after_term + 1)
    done_before = len(load_results(out))
    assert after_term < done_before < len(expected)  # both stops came mid-run
    r = run_cli("study", str(study_file), "--output", str(out), "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert f"{done_before} already in" in r.stderr
    lines = [json.loads(x)["task"] for x in results.read_text().splitlines()]
    assert sorted(lines) == expected  # none lost, none repeated


def test_dask_local_cluster_gives_the_local_results(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    study = load_study(write_study(tmp_path, TINY_SET))
    run_study(study, tmp_path / "local", workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        run = run_study(study, tmp_path / "dask", scheduler=client)
    assert run.finished == len(study.tasks) and run.failed == 0

    def key(d: Path) -> dict[str, tuple[object, ...]]:
        return {r["task"]: (r["status"], r["makespan_cycles"], r["lower_bound_cycles"],
                            r["energy_j"]["total"],
                            (d / r["schedule"]).read_text()) for r in load_results(d)}

    assert key(tmp_path / "dask") == key(tmp_path / "local")


# ----- reports -----

def _rec(task: str, net: str, hw: str, method: str, mk: int, lb: int, runtime: float,
         status: str = "feasible") -> dict[str, object]:
    return {"task": task, "network": net, "hardware": hw, "method": method, "status": status,
            "time_limit": 10.0 if method.startswith("milp") else None, "seed": 0,
            "makespan_cycles": mk, "latency_s": mk / 1e9, "lower_bound_cycles": lb,
            "gap": mk / lb - 1, "runtime_s": runtime, "energy_j": {"total": 1e-3},
            "size": {"weights": 1000, "apu_rows": 10}, "resources": {"total_apu_rows": 4}}


def test_summary_geomean_and_wins() -> None:
    recs = [_rec("a/b/aras", "a", "base", "aras", 1100, 1000, 0.1),
            _rec("a/b/milp", "a", "base", "milp", 1100, 1000, 5.0),
            _rec("c/b/aras", "c", "base", "aras", 1500, 1000, 0.2),
            _rec("c/b/milp", "c", "base", "milp", 1210, 1000, 6.0)]
    tab = tabulate(recs)
    assert tab.labels == ["aras", "milp"]
    text = summary(recs, "t")
    gm_milp = math.sqrt(1.1 * 1.21) - 1          # 15.4%
    gm_aras = math.sqrt(1.1 * 1.5) - 1           # 28.5%
    assert f"| milp | 2 of 2 | {100 * gm_milp:.1f}% | 21.0% |" in text
    assert f"| aras | 2 of 2 | {100 * gm_aras:.1f}% | 50.0% |" in text
    mean_imp = (0 + (1 - 1210 / 1500)) / 2
    assert f"| milp | aras | 1 | 1 | 0 | {100 * mean_imp:.1f}% |" in text
    assert "| milp | 2 | 5.50 | 5.50 | 6.00 |" in text


def test_report_command_writes_csv_summary_plots(tmp_path: Path) -> None:
    study = load_study(write_study(tmp_path, TINY_SET.replace(', "milp-full"', "")))
    out = tmp_path / "out"
    run_study(study, out, workers=1)
    r = run_cli("study", "report", str(out))
    assert r.returncode == 0, r.stderr
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + len(study.tasks)
    assert rows[0].startswith("task,network,hardware,method")
    md = (out / "summary.md").read_text()
    assert md.startswith("# Study `tiny`") and "| small | base |" in md
    for png in ("gap_per_method.png", "makespan_vs_resources.png", "runtime_vs_size.png"):
        assert (out / png).stat().st_size > 5000
    missing = run_cli("study", "report", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "no results.jsonl" in missing.stderr


def test_result_writer_stores_schedule_before_the_record(tmp_path: Path) -> None:
    t = Task("n/base/aras", "n", "n", "base", {}, "aras")
    w = ResultWriter(tmp_path)
    w.write(t, {"task": t.id, "status": "feasible", "_schedule": {"makespan": 7}})
    w.close()
    rec = load_results(tmp_path)[0]
    assert "_schedule" not in rec
    assert json.loads((tmp_path / rec["schedule"]).read_text()) == {"makespan": 7}
    assert not list(tmp_path.glob("schedules/*.tmp"))


def test_study_networks_from_onnx_and_hf_configs_with_options(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    light = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    cfg = tmp_path / "tiny.config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 128,
                               "intermediate_size": 256, "num_attention_heads": 4,
                               "num_hidden_layers": 1, "vocab_size": 256}))
    body = f"""
networks = ["{light / 'light_squeezenet.onnx'}",
            {{network = "tiny.config.json", phase = "decode", context = 64, name = "dec"}},
            {{network = "tiny.config.json", tokens = 16}}]
methods = ["aras"]
"""
    study = load_study(write_study(tmp_path, body, with_net=False))
    by_net = {t.network: t for t in study.tasks}
    assert set(by_net) == {"light_squeezenet", "dec", "tiny"}
    assert by_net["dec"].network_options == {"phase": "decode", "context": 64}
    rec = run_task(by_net["dec"])
    assert rec["status"] in ("feasible", "optimal") and rec["size"]["layers"] == 8
    bad = write_study(tmp_path, 'networks = [{network = "tiny.config.json", tokens = 0}]\n'
                      'methods = ["aras"]', with_net=False)
    with pytest.raises(Exception, match=r"networks\[0\]\.tokens: must be a positive"):
        load_study(bad)


def test_summary_says_what_was_minimised_when_not_the_makespan() -> None:
    from aras.studies.report import summary

    recs = [{"task": "a", "network": "n", "hardware": "h", "method": "aras",
             "status": "feasible", "makespan_cycles": 10, "lower_bound_cycles": 8,
             "latency_s": 1e-8, "runtime_s": 0.1}]
    assert "minimised `makespan + 0.1*cells_written`" in summary(
        recs, objective="makespan + 0.1*cells_written")
    assert "minimised" not in summary(recs) and "minimised" not in summary(
        recs, objective="makespan")


def test_study_families_naming_a_layer_one_network_lacks_are_refused_on_load(tmp_path) -> None:
    import pytest

    from aras.model.errors import InputError
    from aras.studies.study import load_study

    f = tmp_path / "s.toml"
    f.write_text('name = "x"\nnetworks = ["vgg16", "bert-base"]\nmethods = ["aras"]\n'
                 '[[families]]\nfamily = "replication_cap"\nlayer = "features.0"\n'
                 'max_replication = 2\n')
    with pytest.raises(InputError, match="'features.0' is not in network 'bert-base'"):
        load_study(f)
    f.write_text(f.read_text().replace(', "bert-base"', ""))
    assert len(load_study(f).tasks) == 1
