"""Instruction streams of the paper's networks: size, lowering and replay time.

For each network: solve with ``aras`` (``--config all`` for MiniLM-L6, whose real weights
give cell deltas; ``baseline`` for the decoders), save the schedule, lower it into an
``aras-program/1`` file and replay that file (parse, re-derive the schedule, evaluator, sync
points, re-lowering). Times are wall and CPU seconds of one run, in this process.

    python benchmarks/program_sizes.py [NETWORK ...]

Writes ``benchmarks/results/program_sizes.md`` (the default networks only) and prints it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from doctables import RESULTS, load_note, write_result

from aras import load_hardware, load_network, map_network
from aras.evaluation.replay import check_program
from aras.frontends.pretrained import minilm_available, weights_for
from aras.methods.solve import solve
from aras.model.program import Program, lower
from aras.model.schedule import Schedule

DEFAULT = ["vgg16", "resnet50", "densenet161", "bert-base", "bert-large", "minilm-l6"]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - t[0], time.process_time() - t[1]


def table(names: list[str]) -> str:
    """The table (Markdown)."""
    lines = ["| network | method | steps | writes | schedule file | program file | lower + "
             "save (s, wall / CPU) | replay (s, wall / CPU) | cell deltas |",
             "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name in names:
            if name == "minilm-l6" and not minilm_available():
                continue
            p = map_network(load_network(name), load_hardware("aras"))
            weights = weights_for(p.network)
            method = "baseline" if name.startswith(("llama", "gpt")) else "aras"
            res = solve(p, method=method, reuse=weights is not None, weights=weights,
                        banks="ilp" if weights is not None else "greedy")
            assert res.schedule is not None
            res.schedule.save(d / "s.json")
            s = Schedule.load(d / "s.json")
            t = _clock()
            lower(p, s, weights=weights).save(d / "p.json")
            lw, lc = _since(t)
            t = _clock()
            back, violations = check_program(p, Program.load(d / "p.json"), weights=weights)
            rw, rc = _since(t)
            assert back.to_dict() == s.to_dict()
            assert violations == [], violations[:3]
            mb = (d / "s.json").stat().st_size / 1e6, (d / "p.json").stat().st_size / 1e6
            lines.append(f"| {name} | {method}{' +reuse' if weights is not None else ''} | "
                         f"{len(s.steps)} | {len(s.writes):,} | {mb[0]:.2f} MB | "
                         f"{mb[1]:.2f} MB | {lw:.2f} / {lc:.2f} | {rw:.2f} / {rc:.2f} | "
                         f"{'yes' if weights is not None else 'no'} |")
    return "\n".join(lines)


def main(names: list[str]) -> None:
    note = load_note()
    body = table(names or DEFAULT)
    if names and names != DEFAULT:
        print(body)
        return
    print(write_result(RESULTS / "program_sizes.md", "python benchmarks/program_sizes.py", body,
                       note).read_text())


if __name__ == "__main__":
    main(sys.argv[1:] or DEFAULT)
