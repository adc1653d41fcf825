"""How fast a large schedule is saved, read and checked (issue 12, "big inputs stay fast").

Builds a Llama-style decoder from its HuggingFace config (prefill, 128 tokens), solves it with
``baseline``, saves the schedule, then prints, for the file read and for the checks separately,
the write records handled per second, and the peak memory (``ru_maxrss``) of this process and
of ``aras evaluate FILE`` run end to end in a fresh interpreter.

    python benchmarks/evaluate_speed.py [--model llama-2-70b] [--version 2] [--keep DIR]

``--version 1`` saves the old ``aras-schedule/1`` layout (one JSON object per write) instead.
Machine-dependent: on a shared 2-core machine the figures move by 2x from run to run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aras.evaluation.evaluator import _Index, _validate, evaluate  # noqa: E402
from aras.frontends import load_network  # noqa: E402
from aras.methods.solve import solve  # noqa: E402
from aras.model.hardware import Hardware, load_hardware  # noqa: E402
from aras.model.mapping import map_network  # noqa: E402
from aras.model.schedule import Schedule  # noqa: E402

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
    ap.add_argument("--keep", type=Path, help="directory for the config and schedule files "
                                              "(default: a temporary one)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        run(args.model, load_hardware(args.hardware), args.version, out)


def run(model: str, hw: Hardware, version: int, out: Path) -> None:
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
    # In this process: the file read, then the checks (R1-R8) and the costing, separately.
    t = time.perf_counter()
    sched = Schedule.load(path)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    violations = _validate(_Index(problem, sched))
    t_check = time.perf_counter() - t
    assert not violations, violations[:3]
    t = time.perf_counter()
    report = evaluate(problem, sched)  # checks again, then costs
    t_eval = time.perf_counter() - t
    assert report.valid
    print(f"  file read       {t_read:6.2f} s  {n / t_read:12,.0f} writes/s")
    print(f"  checks R1-R8    {t_check:6.2f} s  {n / t_check:12,.0f} writes/s")
    print(f"  checks + costs  {t_eval:6.2f} s  {n / t_eval:12,.0f} writes/s")
    print(f"  peak memory of this process (solve included): "
          f"{_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)}")
    # End to end, as a user runs it: interpreter start, imports, file read, network build.
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "cli.py"), "evaluate", str(path), "--json"],
                          capture_output=True, text=True, cwd=ROOT)
    t_cli = time.perf_counter() - t
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["makespan_cycles"] == report.makespan_cycles
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = child.ru_utime + child.ru_stime
    print(f"  aras evaluate   {t_cli:6.2f} s  {n / t_cli:12,.0f} writes/s end to end "
          f"({cpu:.2f} s of CPU: {n / cpu:,.0f} writes/s), peak memory {_mb(child.ru_maxrss)}")


if __name__ == "__main__":
    main()
