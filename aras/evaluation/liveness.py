"""Liveness-aware Gbuffer banks: every tensor stays in its banks from producer to last consumer.

MODEL.md R8 fixes banks per compute step; it allows "a liveness-aware mode" that also keeps
skip tensors (ResNet's shortcuts, DenseNet's concatenated features) in their banks. In that
mode a schedule file carries ``"bank_mode": "liveness"`` and a ``"tensors"`` list (see
``docs/model.md``, "Liveness bank mode"): each activation tensor is either *resident* on a set
of banks for its whole lifetime or *spilled* to DRAM, in which case it is only in the Gbuffer
during the steps that touch it, on per-step banks (the R8 rule). This module holds what the
evaluator, the MILP post-pass (:mod:`formulations.liveness`) and the greedy fallback share:

- :func:`tensors_of`: every tensor's bytes, producer and consumer steps and lifetime in the
  schedule's own order and times;
- :class:`Assignment`, :func:`apply_assignment`, :func:`read_assignment`: the decisions and
  their file form;
- :func:`check`: the liveness rules (messages, rule R8 in the evaluator);
- :func:`costs`: Gbuffer static energy and spilled DRAM bytes of a liveness schedule;
- :func:`greedy_assignment`: interval colouring by smallest fit, with spills on cost and a
  repair loop that keeps every step coverable.

Lifetimes are intervals of *positions* in the schedule's compute order: tensor ``t`` is live
at every step from its producer's first part to its last consumer's last part (inclusive).
Two tensors are live at the same time iff some step lies in both intervals. With R4 (one
compute at a time, in list order) this is the time overlap of ``[t0, t1)`` (producer's first
compute start to the last consumer's last compute end), made exact for zero-cycle steps
(pooling, concatenation, additions), which hold their input and output at the same instant
although they last no time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aras.model.banks import smallest_fit
from aras.model.mapping import Problem, ceil_div
from aras.model.schedule import Schedule

__all__ = ["PER_STEP", "LIVENESS", "BANK_MODES", "Tensor", "Assignment", "bank_mode",
           "tensors_of", "apply_assignment", "read_assignment", "check", "costs",
           "greedy_assignment", "assignment_energy", "spill_needs"]

#: Default bank mode: banks are chosen per compute step (R8 as written).
PER_STEP = "per-step"
#: Tensors keep their banks from producer to last consumer (or are spilled to DRAM).
LIVENESS = "liveness"
BANK_MODES = (PER_STEP, LIVENESS)


def bank_mode(sched: Schedule) -> Any:
    """The schedule's ``bank_mode`` (``per-step`` when the file has none)."""
    return sched.extra.get("bank_mode", PER_STEP)


@dataclass(frozen=True)
class Tensor:
    """One activation tensor of a scheduled network.

    Attributes
    ----------
    name
        The producing op's name, or the network input's name.
    bytes
        Activation bytes (elements x activation_bits / 8).
    producers
        Schedule positions of the producer's steps (every part of a multi-part layer); empty
        for a network input.
    consumers
        Schedule positions of every step that reads the tensor (all parts of all consumers).
    first, last
        First and last schedule positions where the tensor is live (inclusive). A network
        input is live from position 0.
    t0, t1
        Lifetime in cycles: the producer's first compute start (0 for a network input) to the
        last consumer's last compute end (the producer's last end when nothing reads it).
    forced
        Read or written by a multi-pass step (``Step.passes > 1``): it streams through DRAM
        and cannot be resident, so it must be spilled.
    """

    name: str
    bytes: int
    producers: tuple[int, ...]
    consumers: tuple[int, ...]
    first: int
    last: int
    t0: int
    t1: int
    forced: bool

    @property
    def cycles(self) -> int:
        """Length of the lifetime in cycles."""
        return self.t1 - self.t0

    @property
    def spill_traffic(self) -> int:
        """DRAM bytes moved when the tensor is spilled.

        Each producer step writes the tensor out; each later part of a multi-part producer
        first reads back the partial sums it accumulates into; each consumer step reads it.
        A network input is already in DRAM: only its reads count.
        """
        p = len(self.producers)
        return self.bytes * (p + max(p - 1, 0) + len(self.consumers))

    def live_at(self, k: int) -> bool:
        """Whether the tensor is live at schedule position ``k``."""
        return self.first <= k <= self.last


def _positions(problem: Problem, sched: Schedule) -> dict[str, list[int]]:
    """Schedule positions of every op's steps; ValueError unless each step appears once."""
    out: dict[str, list[int]] = {}
    seen: set[tuple[str, int]] = set()
    for i, s in enumerate(sched.steps):
        key = (s.layer, s.part)
        if key not in problem.by_key or key in seen:
            raise ValueError(f"steps[{i}] {s.layer}/{s.part}: unknown or repeated step")
        seen.add(key)
        out.setdefault(s.layer, []).append(i)
    if len(seen) != len(problem.by_key):
        raise ValueError("some steps of the problem are not scheduled")
    return out


def tensors_of(problem: Problem, sched: Schedule) -> dict[str, Tensor]:
    """Every tensor with its lifetime in ``sched`` (network inputs first, then ops in order).

    Raises
    ------
    ValueError
        When the schedule does not list every step of the problem exactly once (the
        evaluator reports that under R4 and skips the liveness rules).
    """
    net, hw = problem.network, problem.hardware
    pos = _positions(problem, sched)
    steps = sched.steps
    passes = {s.layer: s.passes for s in problem.steps}
    out: dict[str, Tensor] = {}
    for name in list(net.inputs) + [o.name for o in net.ops]:
        prod = tuple(sorted(pos.get(name, [])))
        readers = net.consumers(name)
        cons = tuple(sorted(i for c in readers for i in pos[c]))
        first = prod[0] if prod else 0
        last = max(cons) if cons else (prod[-1] if prod else 0)
        t0 = steps[prod[0]].start if prod else 0
        t1 = max((steps[i].end for i in (cons or prod)), default=t0)
        forced = any(passes[op] > 1 for op in readers + ([name] if prod else []))
        nbytes = ceil_div(net.elements(name) * problem.batch * hw.activation_bits, 8)
        out[name] = Tensor(name, nbytes, prod, cons, first, last, t0, max(t1, t0), forced)
    return out


def _step_inputs(problem: Problem, layer: str) -> list[str]:
    """Distinct input tensors of an op (a tensor read twice is stored once, as in mapping)."""
    return list(dict.fromkeys(problem.network.op(layer).inputs))


@dataclass
class Assignment:
    """Liveness bank decisions for one timed schedule.

    Attributes
    ----------
    banks
        Sorted bank indices of every resident tensor (held over its whole lifetime).
    spilled
        Spilled tensors (in DRAM between the steps that touch them).
    spill_in, spill_out
        Per schedule position, the banks that hold the step's spilled inputs (together) and
        its spilled output during that step; absent where the step touches no spilled tensor.
    """

    banks: dict[str, tuple[int, ...]] = field(default_factory=dict)
    spilled: set[str] = field(default_factory=set)
    spill_in: dict[int, tuple[int, ...]] = field(default_factory=dict)
    spill_out: dict[int, tuple[int, ...]] = field(default_factory=dict)

    def records(self, order: Iterable[str]) -> list[dict[str, Any]]:
        """The file's ``tensors`` list, in ``order``."""
        return [{"tensor": t, "banks": list(self.banks.get(t, ())), "spilled": t in self.spilled}
                for t in order]


def apply_assignment(problem: Problem, sched: Schedule, asg: Assignment) -> Schedule:
    """A copy of ``sched`` in liveness mode: steps' banks rewritten, timing and writes untouched.

    A step's ``banks_in`` is the union of its resident input tensors' banks and its spilled
    inputs' per-step banks; ``banks_out`` is its output tensor's banks (every part of a
    multi-part layer uses the same ones), or the per-step banks when the output is spilled.
    """
    tensors = tensors_of(problem, sched)
    new_steps = []
    for k, s in enumerate(sched.steps):
        bi: set[int] = set(asg.spill_in.get(k, ()))
        for t in _step_inputs(problem, s.layer):
            bi.update(asg.banks.get(t, ()))
        bo = asg.spill_out.get(k, ()) if s.layer in asg.spilled else asg.banks[s.layer]
        new_steps.append(dataclasses.replace(s, banks_in=tuple(sorted(bi)),
                                             banks_out=tuple(sorted(bo))))
    extra = dict(sched.extra)
    extra["bank_mode"] = LIVENESS
    extra["tensors"] = asg.records(tensors)
    return Schedule(network=sched.network, method=sched.method, hardware=sched.hardware,
                    steps=new_steps, writes=sched.writes, makespan=sched.makespan, extra=extra,
                    runtime_info=dict(sched.runtime_info))


def _records(sched: Schedule) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Well-formed ``tensors`` records by name, and a message for every malformed one."""
    got = sched.extra.get("tensors")
    if not isinstance(got, list):
        return {}, ["bank_mode 'liveness' needs a top-level 'tensors' list"]
    recs: dict[str, dict[str, Any]] = {}
    bad: list[str] = []
    for i, r in enumerate(got):
        where = f"tensors[{i}]"
        if not isinstance(r, dict) or not isinstance(r.get("tensor"), str):
            bad.append(f"{where}: must be an object with a string 'tensor'")
            continue
        banks, spilled = r.get("banks", []), r.get("spilled", False)
        if not isinstance(banks, list) or not all(
                isinstance(b, int) and not isinstance(b, bool) for b in banks):
            bad.append(f"{where} {r['tensor']}: 'banks' must be a list of integers")
            continue
        if not isinstance(spilled, bool):
            bad.append(f"{where} {r['tensor']}: 'spilled' must be true or false")
            continue
        if r["tensor"] in recs:
            bad.append(f"{where}: tensor {r['tensor']} is listed twice")
            continue
        recs[r["tensor"]] = {"banks": banks, "spilled": spilled}
    return recs, bad


def read_assignment(problem: Problem, sched: Schedule) -> Assignment:
    """The assignment a (valid) liveness schedule file describes.

    Resident tensors come from ``tensors``; a step's spill banks are what its ``banks_in``
    holds besides its resident inputs' banks, and its ``banks_out`` when its output is spilled.
    """
    recs, _ = _records(sched)
    asg = Assignment()
    for t, r in recs.items():
        if r["spilled"]:
            asg.spilled.add(t)
        else:
            asg.banks[t] = tuple(sorted(set(r["banks"])))
    for k, s in enumerate(sched.steps):
        ins = _step_inputs(problem, s.layer)
        if any(t in asg.spilled for t in ins):
            held = {b for t in ins for b in asg.banks.get(t, ())}
            asg.spill_in[k] = tuple(sorted(set(s.banks_in) - held))
        if s.layer in asg.spilled:
            asg.spill_out[k] = tuple(sorted(set(s.banks_out)))
    return asg


def _fmt(banks: Iterable[int]) -> str:
    return "[" + ", ".join(str(b) for b in sorted(banks)) + "]"


def check(problem: Problem, sched: Schedule) -> list[str]:
    """Every violation of the liveness rules (the evaluator reports them as R8).

    The per-step R8 rule (disjoint input and output banks covering the step's bytes) is
    checked by the evaluator in both modes; this adds, for ``bank_mode: liveness``:

    1. the ``tensors`` list names every tensor of the network once, resident tensors on valid
       banks covering their bytes, spilled ones with no banks, and tensors of multi-pass steps
       spilled;
    2. each step's ``banks_in`` holds its resident inputs' banks, and other banks only when
       an input is spilled, enough for the spilled inputs; ``banks_out`` equals the output
       tensor's banks when the output is resident;
    3. no bank holds two things at one step: two tensors live at the same time, or a live
       tensor and a step's spilled-tensor banks.

    Returns
    -------
    list of str
        Messages (empty when the liveness rules hold). The schedule must list every step of
        the problem once (otherwise an empty list: R4 already rejects it).
    """
    mode = bank_mode(sched)
    if mode == PER_STEP:
        return []
    if mode != LIVENESS:
        return [f"bank_mode {mode!r} is not one of {', '.join(BANK_MODES)}"]
    try:
        tensors = tensors_of(problem, sched)
    except ValueError:
        return []
    nb = len(problem.hardware.gbuffer_banks)
    sizes = problem.hardware.gbuffer_banks
    recs, out = _records(sched)
    for t in recs:
        if t not in tensors:
            out.append(f"tensor {t}: no such tensor in the network")
    resident: dict[str, frozenset[int]] = {}
    spilled: set[str] = set()
    for t, info in tensors.items():
        r = recs.get(t)
        if r is None:
            out.append(f"tensor {t}: missing from 'tensors'")
            continue
        banks = r["banks"]
        if r["spilled"]:
            spilled.add(t)
            if banks:
                out.append(f"tensor {t}: spilled but lists banks {_fmt(banks)}")
            continue
        if info.forced:
            out.append(f"tensor {t}: read or written by a multi-pass step, so it streams "
                       f"through DRAM and must be spilled")
        bad = [b for b in banks if not 0 <= b < nb]
        if bad:
            out.append(f"tensor {t}: bank index {bad[0]} outside 0..{nb - 1}")
            continue
        if len(set(banks)) != len(banks):
            out.append(f"tensor {t}: a bank is listed twice")
        cap = sum(sizes[b] for b in set(banks))
        if cap < info.bytes:
            out.append(f"tensor {t}: banks {_fmt(banks)} hold {cap} bytes, the tensor has "
                       f"{info.bytes}")
        resident[t] = frozenset(banks)
    # Steps against the tensors (rule 2), and what each bank holds at each step (rule 3).
    steps = sched.steps
    live_at: list[list[str]] = [[] for _ in steps]
    for t in resident:
        info = tensors[t]
        for k in range(info.first, info.last + 1):
            live_at[k].append(t)
    reported: set[tuple[str, str]] = set()
    for k, s in enumerate(steps):
        name = f"{s.layer}/{s.part}"
        ps = problem.by_key[(s.layer, s.part)]
        ins = _step_inputs(problem, s.layer)
        held: set[int] = set()
        for t in ins:
            if t in resident:
                missing = resident[t] - set(s.banks_in)
                if missing:
                    out.append(f"{name}: banks_in {_fmt(s.banks_in)} lacks banks "
                               f"{_fmt(missing)} of its input tensor {t}")
                held |= resident[t]
        extra_in = set(s.banks_in) - held
        spilled_ins = [t for t in ins if t in spilled]
        if extra_in and not spilled_ins:
            out.append(f"{name}: banks_in has banks {_fmt(extra_in)} that hold none of its "
                       f"input tensors (none of them is spilled)")
        if spilled_ins:
            need = ps.in_need if ps.passes > 1 else sum(tensors[t].bytes for t in spilled_ins)
            cap = sum(sizes[b] for b in extra_in if 0 <= b < nb)
            if cap < need:
                out.append(f"{name}: banks_in besides its resident inputs hold {cap} bytes, "
                           f"its spilled inputs {', '.join(spilled_ins)} need {need}")
        out_t = s.layer
        if out_t in resident and set(s.banks_out) != resident[out_t]:
            out.append(f"{name}: banks_out {_fmt(s.banks_out)} differ from the banks "
                       f"{_fmt(resident[out_t])} of its output tensor {out_t}")
        # Rule 3: occupants of each bank at this step.
        occupant: dict[int, str] = {}
        holders = [(t, resident[t]) for t in live_at[k]]
        if spilled_ins:
            holders.append((f"spilled inputs of {name}", frozenset(extra_in)))
        if out_t in spilled:
            holders.append((f"spilled output of {name}", frozenset(s.banks_out)))
        clash: dict[tuple[str, str], set[int]] = {}
        for who, banks in holders:
            for b in banks:
                if b in occupant:
                    clash.setdefault((occupant[b], who), set()).add(b)
                else:
                    occupant[b] = who
        for pair, shared in clash.items():
            if pair in reported:
                continue
            reported.add(pair)
            out.append(f"{_who(pair[0], tensors)} and {_who(pair[1], tensors)} share banks "
                       f"{_fmt(shared)} at step {name} [{s.start}, {s.end})")
    return out


def _who(name: str, tensors: dict[str, Tensor]) -> str:
    if name in tensors:
        t = tensors[name]
        return f"tensor {name} (live [{t.t0}, {t.t1}))"
    return name


def _union_cycles(intervals: list[tuple[int, int]]) -> int:
    """Length of a union of half-open intervals."""
    total, end = 0, None
    for a, b in sorted(intervals):
        if end is None or a > end:
            total += b - a
            end = b
        elif b > end:
            total += b - end
            end = b
    return total


def costs(problem: Problem, sched: Schedule) -> tuple[float, int]:
    """Gbuffer static energy (J) and spilled DRAM bytes of a valid liveness schedule.

    A bank leaks while it holds something: a resident tensor over ``[t0, t1)``, or a step's
    spilled inputs or output over that step's compute ``[start, end)``. Each spilled tensor
    moves :attr:`Tensor.spill_traffic` bytes through DRAM.
    """
    hw = problem.hardware
    tensors = tensors_of(problem, sched)
    asg = read_assignment(problem, sched)
    held: list[list[tuple[int, int]]] = [[] for _ in hw.gbuffer_banks]
    for t, banks in asg.banks.items():
        for b in banks:
            held[b].append((tensors[t].t0, tensors[t].t1))
    for per_step in (asg.spill_in, asg.spill_out):
        for k, banks in per_step.items():
            for b in banks:
                held[b].append((sched.steps[k].start, sched.steps[k].end))
    leak = hw.bank_leakage_w()
    static = sum(leak[b] * hw.seconds(_union_cycles(iv)) for b, iv in enumerate(held))
    spill = sum(tensors[t].spill_traffic for t in asg.spilled)
    return static, spill


def assignment_energy(problem: Problem, sched: Schedule, tensors: dict[str, Tensor],
                      asg: Assignment) -> float:
    """Liveness cost of an assignment in joules: bank leakage plus spilled DRAM traffic.

    Sums each holding separately (equal to :func:`costs` for a valid assignment, whose
    holdings of one bank never overlap); this is the MILP's objective.
    """
    hw = problem.hardware
    leak = hw.bank_leakage_w()
    e = sum(leak[b] * hw.seconds(tensors[t].cycles) for t, bs in asg.banks.items() for b in bs)
    for per_step in (asg.spill_in, asg.spill_out):
        for k, bs in per_step.items():
            s = sched.steps[k]
            e += sum(leak[b] for b in bs) * hw.seconds(s.end - s.start)
    return e + sum(tensors[t].spill_traffic for t in asg.spilled) * hw.dram_energy_j_per_byte


def _cover_from(sizes: Sequence[int], free: Sequence[int], need_in: int, need_out: int
                ) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Disjoint banks from ``free`` covering ``need_in`` and ``need_out`` (smallest fit)."""
    if need_in <= 0 and need_out <= 0:
        return (), ()
    if not free:
        return None
    got = smallest_fit([sizes[b] for b in free], need_in, need_out)
    if got is None:
        return None
    return tuple(sorted(free[i] for i in got[0])), tuple(sorted(free[i] for i in got[1]))


def spill_needs(problem: Problem, sched: Schedule, tensors: dict[str, Tensor], spilled: set[str],
                k: int) -> tuple[int, int]:
    """Bytes the spilled inputs and the spilled output of step ``k`` need during that step.

    A multi-pass step (all its tensors spilled) needs one pass's share, ``Step.in_need`` and
    ``Step.out_need``; any other step needs the whole spilled tensors.
    """
    s = sched.steps[k]
    ps = problem.by_key[(s.layer, s.part)]
    ins = [t for t in _step_inputs(problem, s.layer) if t in spilled]
    if ps.passes > 1:
        need_in = ps.in_need if ins else 0
        need_out = ps.out_need if s.layer in spilled else 0
    else:
        need_in = sum(tensors[t].bytes for t in ins)
        need_out = tensors[s.layer].bytes if s.layer in spilled else 0
    return need_in, need_out


def greedy_assignment(problem: Problem, sched: Schedule) -> Assignment:
    """A feasible liveness assignment by interval colouring (the MILP's fallback and start).

    Tensors are taken by first live position (longest first on ties); each gets, by smallest
    fit, banks free over its whole lifetime, or is spilled when none are free or when holding
    them would leak more than the spill's DRAM traffic costs. Then every step's spilled
    tensors get per-step banks among those free at that step; where they do not fit, a
    resident tensor live there is spilled (first one the step does not touch, the largest
    holder first) and the steps are checked again. This ends: with every tensor spilled it
    is the per-step rule, which the mapping guarantees feasible.
    """
    hw = problem.hardware
    sizes = hw.gbuffer_banks
    leak = hw.bank_leakage_w()
    nb = len(sizes)
    tensors = tensors_of(problem, sched)
    spilled = {t for t, info in tensors.items() if info.forced}
    banks: dict[str, tuple[int, ...]] = {}
    busy: list[list[tuple[int, int]]] = [[] for _ in range(nb)]  # (first, last) per bank
    order = sorted((t for t in tensors if t not in spilled),
                   key=lambda t: (tensors[t].first, -tensors[t].last))
    for t in order:
        info = tensors[t]
        free = [b for b in range(nb)
                if all(last < info.first or first > info.last for first, last in busy[b])]
        got = _cover_from(sizes, free, info.bytes, 0)
        if got is not None:
            hold = sum(leak[b] for b in got[0]) * hw.seconds(info.cycles)
            if hold <= info.spill_traffic * hw.dram_energy_j_per_byte:
                banks[t] = got[0]
                for b in got[0]:
                    busy[b].append((info.first, info.last))
                continue
        spilled.add(t)
    n = len(sched.steps)
    while True:
        live: list[set[int]] = [set() for _ in range(n)]
        for t, bs in banks.items():
            for k in range(tensors[t].first, tensors[t].last + 1):
                live[k].update(bs)
        spill_in: dict[int, tuple[int, ...]] = {}
        spill_out: dict[int, tuple[int, ...]] = {}
        failed = None
        for k in range(n):
            need_in, need_out = spill_needs(problem, sched, tensors, spilled, k)
            if not need_in and not need_out:
                continue
            got = _cover_from(sizes, [b for b in range(nb) if b not in live[k]], need_in,
                              need_out)
            if got is None:
                failed = k
                break
            if need_in:
                spill_in[k] = got[0]
            if need_out:
                spill_out[k] = got[1]
        if failed is None:
            return Assignment(banks, spilled, spill_in, spill_out)
        s = sched.steps[failed]
        touched = set(_step_inputs(problem, s.layer)) | {s.layer}
        victims = [t for t in banks if tensors[t].live_at(failed)]
        assert victims, "with nothing resident every step fits (activation_passes)"
        victim = max(victims, key=lambda t: (t not in touched,
                                             sum(sizes[b] for b in banks[t]), t))
        del banks[victim]
        spilled.add(victim)
