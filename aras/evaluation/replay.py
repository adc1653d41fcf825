"""The replayer of ``aras-program/1`` instruction streams (``aras program --check``).

A program is checked in three ways (docs/model.md, "Instruction stream"):

1. the schedule it describes is re-derived (:meth:`~aras.model.program.Program.to_schedule`)
   and validated by the evaluator (rules R1-R8);
2. its synchronisation points are replayed as a controller would: a write starts only after
   the compute step it waits for (``after``) has released the row, a compute step only after
   every write it waits for (``waits_for``) has ended (rule ``sync``);
3. the re-derived schedule is lowered again and must give the same program, field by field
   (rule ``program``): configurations, sync points, delta bytes and cell deltas that do not
   follow from the schedule are reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from aras.evaluation.evaluator import Violation, validate
from aras.model.errors import InputError
from aras.model.mapping import Problem
from aras.model.program import Program, decode_deltas, lower
from aras.model.schedule import Schedule

#: Differences listed at most (then a count of the rest).
MAX_DIFFERENCES = 20


def check_references(problem: Problem, program: Program) -> None:
    """Every compute step names a layer and part of the network.

    Raises
    ------
    InputError
        ``compute[i].layer`` (unknown layer) or ``compute[i].part`` (no such part).
    """
    names = {o.name for o in problem.network.ops}
    for i, c in enumerate(program.compute):
        if c.layer not in names:
            raise InputError(f"{program.source}: compute[{i}].layer: unknown layer "
                             f"'{c.layer}' (network '{problem.network.name}')")
        if (c.layer, c.part) not in problem.by_key:
            raise InputError(f"{program.source}: compute[{i}].part: layer '{c.layer}' has no "
                             f"part {c.part}")


def sync_violations(program: Program) -> list[Violation]:
    """The synchronisation points replayed: releases before writes, writes before computes."""
    out: list[Violation] = []
    steps = program.compute
    T = program.write_latency_cycles
    ends: dict[int, int] = {}
    for r in program.rows:
        for w in r.writes:
            ends[w.id] = w.start + T
            if w.after is not None and w.start < steps[w.after].end:
                c = steps[w.after]
                out.append(Violation("sync", f"write {w.id} ({w.layer}/{w.part} on pe {r.pe}, "
                                             f"row {r.row}) starts at {w.start}, before step "
                                             f"{c.step} ({c.layer}/{c.part}) releases the row "
                                             f"at {c.end}"))
    for c in steps:
        for j in c.waits_for:
            if j not in ends:
                out.append(Violation("sync", f"step {c.step} ({c.layer}/{c.part}) waits for "
                                             f"write {j}, which the program does not have"))
            elif ends[j] > c.start:
                out.append(Violation("sync", f"step {c.step} ({c.layer}/{c.part}) starts at "
                                             f"{c.start}, before write {j} ends at {ends[j]}"))
    return out


def differences(given: Program, derived: Program) -> list[str]:
    """Where ``given`` differs from ``derived`` (the program of its own schedule), by field."""
    out: list[str] = []
    dtype = given.delta_dtype or "int8"

    def walk(a: Any, b: Any, path: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for k in list(a) + [k for k in b if k not in a]:
                sub = f"{path}.{k}" if path else k
                where = f"{given.source}: {sub}"
                if k not in b:
                    out.append(f"{sub}: not in the program the schedule gives")
                elif k not in a:
                    out.append(f"{sub}: missing (the schedule gives {_short(b[k])})")
                elif k == "deltas" and isinstance(a[k], str) and isinstance(b[k], str):
                    if a[k] != b[k] and not np.array_equal(
                            decode_deltas(a[k], dtype, where), decode_deltas(b[k], dtype, where)):
                        out.append(f"{sub}: the cell deltas differ from the schedule's")
                else:
                    walk(a[k], b[k], sub)
        elif isinstance(a, list) and isinstance(b, list):
            if path.endswith("writes") and len(a) != len(b):
                out.append(f"{path}: {len(a)} writes, the schedule gives {len(b)} on this row")
            elif len(a) != len(b) and not all(isinstance(x, dict) for x in a + b):
                out.append(f"{path}: {_short(a)}, the schedule gives {_short(b)}")
                return
            elif len(a) != len(b):
                out.append(f"{path}: {len(a)} entries, the schedule gives {len(b)}")
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                walk(x, y, f"{path}[{i}]")
        elif a != b or type(a) is not type(b):
            out.append(f"{path}: the program says {_short(a)}, the schedule gives {_short(b)}")

    walk(given.to_dict(), derived.to_dict(), "")
    return out


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def check_program(problem: Problem, program: Program, *,
                  weights: Mapping[str, np.ndarray] | None = None
                  ) -> tuple[Schedule, list[Violation]]:
    """Replay a program: its schedule, its sync points and its derivation.

    Parameters
    ----------
    problem
        The mapped network the program was lowered for (network and hardware as the program
        names them).
    program
        The parsed program.
    weights
        Real weight codes, when the network has them (a program with cell deltas is checked
        against them; one without, when there are some, is a ``program`` violation).

    Returns
    -------
    tuple
        The re-derived schedule, and every violation: the evaluator's (R1-R8), ``sync`` and
        ``program`` (at most :data:`MAX_DIFFERENCES` of the latter, then a count).

    Raises
    ------
    InputError
        A compute step names an unknown layer or part, a write a part no step computes, two
        writes share an id, or cell deltas are not readable.
    """
    check_references(problem, program)
    sched = program.to_schedule()
    violations = validate(problem, sched)
    violations += sync_violations(program)
    derived = lower(problem, sched, weights=weights)
    diff = differences(program, derived)
    violations += [Violation("program", m) for m in diff[:MAX_DIFFERENCES]]
    if len(diff) > MAX_DIFFERENCES:
        violations.append(Violation("program", f"... and {len(diff) - MAX_DIFFERENCES} more "
                                               "differences"))
    return sched, violations


__all__ = ["check_program", "check_references", "sync_violations", "differences",
           "MAX_DIFFERENCES"]
