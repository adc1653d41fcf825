"""How fast a large schedule is saved, read and checked (big inputs must stay fast).

Builds a Llama-style decoder from its HuggingFace config (prefill, 128 tokens), solves it with
``baseline``, saves the schedule, then prints where the time of an evaluation goes, stage by
stage in this process (file read, JSON parse, schedule columns, network and mapping, the
writes' index, checks R1-R8, tiles and weights, pulses, the report), with the write records
handled per second, and ``--repeat`` runs of ``aras solve`` and ``aras evaluate FILE`` end to
end in fresh interpreters (wall and CPU seconds, peak memory ``ru_maxrss``, load average).

    python benchmarks/evaluate_speed.py [--model llama-2-70b] [--version 2] [--repeat 3]
                                        [--keep DIR]

``--version 1`` saves the old ``aras-schedule/1`` layout (one JSON object per write) instead.
Machine-dependent: on a shared 2-core machine the figures move by 2x from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aras.evaluation.evaluator import evaluate  # noqa: E402
from aras.evaluation.pulses import _statistical_pulses, _tile_index, _used_cells  # noqa: E402
from aras.evaluation.rules import _Index, _validate  # noqa: E402
from aras.frontends import load_network, network_from_source  # noqa: E402
from aras.methods.solve import solve  # noqa: E402
from aras.model.files import read_text  # noqa: E402
from aras.model.hardware import Hardware, load_hardware  # noqa: E402
from aras.model.mapping import Problem, map_network  # noqa: E402
from aras.model.memory import keep_freed_memory  # noqa: E402
from aras.model.schedule import Schedule, orjson  # noqa: E402
from aras.model.weights import synthetic_stats  # noqa: E402

#: Public shapes of the released checkpoints (``config.json``), as in ``aras.frontends.zoo``.
MODELS = {
    "llama-2-7b": {"hidden_size": 4096, "intermediate_size": 11008, "num_attention_heads": 32,
                   "num_hidden_layers": 32, "num_key_value_heads": 32},
    "codellama-34b": {"hidden_size": 8192, "intermediate_size": 22016,
                      "num_attention_heads": 64, "num_hidden_layers": 48,
                      "num_key_value_heads": 8},
    "llama-2-70b": {"hidden_size": 8192, "intermediate_size": 28672, "num_attention_heads": 64,
                    "num_hidden_layers": 80, "num_key_value_heads": 8},
}


def _mb(kb: float) -> str:
    return f"{kb / 1024:,.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="llama-2-70b")
    ap.add_argument("--hardware", default="aras")
    ap.add_argument("--version", type=int, choices=(1, 2), default=2,
                    help="schedule file format written")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs of aras solve and aras evaluate end to end (default 3)")
    ap.add_argument("--keep", type=Path, help="directory for the config and schedule files "
                                              "(default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        run(args.model, load_hardware(args.hardware), args.version, out, args.repeat)


def _cli(args: list[str], n: int, label: str, writes: int | None = None) -> dict[str, Any]:
    """Runs of ``cli.py ARGS``, one line each; returns the last JSON output.

    Timed by ``/usr/bin/time`` (GNU time): a child forked from this big process would count
    this process's memory in its own peak until it starts Python.
    """
    out: dict[str, Any] = {}
    timer = ["/usr/bin/time", "-f", "TIME %e %U %S %M"] if Path("/usr/bin/time").exists() else []
    for k in range(n):
        t = time.perf_counter()
        proc = subprocess.run([*timer, sys.executable, str(ROOT / "cli.py"), *args],
                              capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t
        assert proc.returncode == 0, proc.stderr
        if timer:
            f = proc.stderr.strip().splitlines()[-1].split()
            wall, user, system, peak = float(f[1]), float(f[2]), float(f[3]), _mb(float(f[4]))
        else:
            user = system = float("nan")
            peak = "?"
        cpu = user + system
        rate = (f"  {writes / wall:11,.0f} writes/s wall, {writes / cpu:11,.0f} per CPU s"
                if writes else "")
        print(f"  {label} run {k + 1}: {wall:6.2f} s wall {cpu:6.2f} s CPU (user {user:.2f}, "
              f"system {system:.2f}){rate}, peak memory {peak}, load "
              f"{os.getloadavg()[0]:.2f}", flush=True)
        out = json.loads(proc.stdout)
    return out


def run(model: str, hw: Hardware, version: int, out: Path, repeat: int) -> None:
    keep_freed_memory()  # as the command line does
    cfg = out / f"{model}.config.json"
    cfg.write_text(json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                               "vocab_size": 32000, **MODELS[model]}))
    t = time.perf_counter()
    problem = map_network(load_network(str(cfg)), hw)
    res = solve(problem, "baseline")
    assert res.schedule is not None and res.report is not None and res.report.valid
    t_solve = time.perf_counter() - t
    n = len(res.schedule.writes)
    path = out / f"{model}.baseline.json"
    t = time.perf_counter()
    res.schedule.save(path, version=version)
    t_save = time.perf_counter() - t
    print(f"{model}: {len(problem.steps):,} steps, {n:,} writes, solve + evaluate "
          f"{t_solve:.1f} s, save (aras-schedule/{version}) {t_save:.2f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)")
    del res
    # In this process, stage by stage (seconds wall, and writes per second).
    times: dict[str, float] = {}

    def stage(name: str, fn: Callable[[], Any]) -> Any:
        t = time.perf_counter()
        got = fn()
        times[name] = time.perf_counter() - t
        return got

    text = stage("file read", lambda: read_text(path, "schedule", "JSON"))
    data = stage("JSON parse", lambda: orjson.loads(text) if orjson else json.loads(text))
    sched = stage("schedule columns", lambda: Schedule.from_dict(data, source=str(path)))
    def problem_of(s: Schedule) -> Problem:
        net = network_from_source(s.extra["network_source"], "network_source")
        assert net is not None
        return map_network(net, Hardware.from_dict(s.hardware))

    prob = stage("network + mapping", lambda: problem_of(sched))
    idx = stage("writes' index", lambda: _Index(prob, sched))
    violations = stage("checks R1-R8", lambda: _validate(idx))
    assert not violations, violations[:3]
    tile = stage("tiles", lambda: _tile_index(idx))
    used = stage("weights written", lambda: _used_cells(idx, tile))
    stats = synthetic_stats([o.name for o in prob.network.weighted_ops], 0)
    stage("pulses", lambda: _statistical_pulses(idx, tile, used, stats))
    report = stage("evaluate (all)", lambda: evaluate(prob, sched))
    assert report.valid
    stage("report (JSON)", lambda: json.dumps(report.to_dict(), indent=2))
    for name, secs in times.items():
        print(f"  {name:18s} {secs:6.2f} s  {n / max(secs, 1e-9):13,.0f} writes/s")
    t_read = times["file read"] + times["JSON parse"] + times["schedule columns"]
    print(f"  {'read (the three)':18s} {t_read:6.2f} s  {n / t_read:13,.0f} writes/s")
    print(f"  peak memory of this process (solve included): "
          f"{_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}")
    # End to end, as a user runs them: interpreter start, imports, file read, network build.
    got = _cli(["solve", str(cfg), "-m", "baseline", "--json"], repeat, "aras solve   ")
    assert got["makespan_cycles"] == report.makespan_cycles
    got = _cli(["evaluate", str(path), "--json"], repeat, "aras evaluate", n)
    assert got["makespan_cycles"] == report.makespan_cycles


if __name__ == "__main__":
    main()
