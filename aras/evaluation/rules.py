"""Rules R1-R8 (MODEL.md section 4): every violation of a schedule, with its rule, op/part,
APU row and cycles; and the rules of one's own (:class:`Rule`) that the evaluator checks
after them.

:class:`_Index` holds the per-schedule lookups (writes mapped to steps, writes sorted by row)
that the checks here and the costing (:mod:`aras.evaluation.pulses`) share.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aras.evaluation.liveness import check as check_liveness
from aras.model.errors import InputError, arg_name
from aras.model.mapping import Problem, Step
from aras.model.schedule import Schedule


@dataclass(frozen=True)
class Violation:
    """One broken rule."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def _row_desc(problem: Problem, rowid: int) -> str:
    per = problem.hardware.apu_rows_per_pe
    return f"APU row (pe {rowid // per}, row {rowid % per})"


class _Index:
    """Per-schedule lookups shared by validation and costing."""

    def __init__(self, problem: Problem, sched: Schedule):
        self.problem = problem
        self.sched = sched
        self.pos: dict[tuple[str, int], int] = {}
        self.dups: list[tuple[str, int]] = []
        self.unknown: list[int] = []
        for i, s in enumerate(sched.steps):
            key = (s.layer, s.part)
            if key not in problem.by_key:
                self.unknown.append(i)
            elif key in self.pos:
                self.dups.append(key)
            else:
                self.pos[key] = i
        n = len(sched.steps)
        self.start = np.array([s.start for s in sched.steps], dtype=np.int64).reshape(n)
        self.end = np.array([s.end for s in sched.steps], dtype=np.int64).reshape(n)
        w = sched.writes
        # Map every write to its schedule step (-1 when the step does not exist). The writes of
        # a part usually come in one run, so the (layer, part) keys are looked up once per run.
        heads, names, parts, self.run_count = w.run_table()  # (run_count: writes in each)
        step_of_run = np.array([self.pos.get((a, b), -1) for a, b in zip(
            names, parts, strict=True)], dtype=np.int64)
        #: The schedule step of every write (-1: none); int32 (steps are far fewer than 2^31).
        self.wstep = np.repeat(step_of_run.astype(np.int32), self.run_count)
        #: Whether every write names a computed part (then no mask is needed).
        self.all_known = bool((step_of_run >= 0).all())
        #: First write of every run of one (layer, part), and the run's step (-1: none).
        self.run_heads, self.run_step = heads, step_of_run
        self._by_row: tuple[np.ndarray, np.ndarray] | None = None

    def by_row(self, sel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Writes (all, or those of ``sel``) sorted by APU row, then start (stable), with
        their row ids and starts in that order.

        The same permutation as ``np.lexsort((start, rowid))`` (see :func:`_lex_order`); the
        one of all writes is kept for reuse (:meth:`row_order`).
        """
        w = self.sched.writes
        if sel is None and self._by_row is not None:
            return (*self._by_row, w.start[self._by_row[0]])
        hw = self.problem.hardware
        per = hw.apu_rows_per_pe
        st = w.start
        if sel is None and hw.total_apu_rows < 2**31 and len(w) and (
                int(w.pe.min()) >= 0 and int(w.pe.max()) < hw.pes
                and int(w.row.min()) >= 0 and int(w.row.max()) < per):
            # every row id is in range: int32 halves the sorted copy
            rowid = w.pe.astype(np.int32)
            rowid *= per
            rowid += w.row
        else:
            rowid = w.pe * per
            rowid += w.row
        if sel is not None:
            rowid, st = rowid[sel], st[sel]
        out = _lex_order(st, rowid)
        if sel is None:
            self._by_row = out[:2]  # (the starts are only needed once, by R2)
        return out

    def row_order(self) -> tuple[np.ndarray, np.ndarray]:
        """The order and the row ids of :meth:`by_row` of all writes."""
        if self._by_row is None:
            self.by_row()
        assert self._by_row is not None
        return self._by_row


def _lex_order(minor: np.ndarray, major: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``order = np.lexsort((minor, major))`` (the stable order by ``major``, then
    ``minor``), with ``major[order]`` and ``minor[order]``.

    With few ``major`` values (APU rows), a radix sort on them alone, kept when ``minor``
    already increases within each (writes listed in time order); else one argsort of a
    combined key when it fits int64; else lexsort.
    """
    if len(major) == 0:
        return np.zeros(0, dtype=np.int64), major, minor
    lo_a, hi_a = int(major.min()), int(major.max())
    if hi_a - lo_a < 2**16:
        order = np.argsort((major - lo_a).astype(np.uint16), kind="stable")  # radix sort
        a, b = major[order], minor[order]
        if not ((b[1:] < b[:-1]) & (a[1:] == a[:-1])).any():
            return order, a, b
    lo_b, hi_b = int(minor.min()), int(minor.max())
    span = hi_b - lo_b + 1
    if (hi_a - lo_a + 1) * span < 2**62:
        key = major.astype(np.int64)  # (int32 row ids: the key needs 64 bits)
        key -= lo_a
        key *= span
        key += minor
        key -= lo_b
        order = np.argsort(key, kind="stable")
        del key
    else:
        order = np.lexsort((minor, major))
    return order, major[order], minor[order]


def _peak_writes(start: np.ndarray, T: int) -> int:
    """Most writes in flight at once, ends before starts at equal times (as R6 counts).

    The level peaks right after the last write starting at some time ``t``: the writes
    started by then less those ended by then (start <= t - T).
    """
    s = start if not (start[1:] < start[:-1]).any() else np.sort(start)  # often in order
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # last write of each start time
    return int((last + 1 - np.searchsorted(s, s[last] - T, "right")).max())


def _problem_step(idx: _Index, i: int) -> Step:
    s = idx.sched.steps[i]
    return idx.problem.by_key[(s.layer, s.part)]


def validate(problem: Problem, sched: Schedule) -> list[Violation]:
    """Every violation of rules R1-R8 (MODEL.md section 4), in rule order."""
    return _validate(_Index(problem, sched))


def _validate(idx: _Index) -> list[Violation]:
    problem, sched, hw = idx.problem, idx.sched, idx.problem.hardware
    out: list[Violation] = []
    add = out.append
    steps = sched.steps
    # ----- which steps exist (R4: every op computed exactly once) -----
    for i in idx.unknown:
        s = steps[i]
        add(Violation("R4", f"steps[{i}] {s.layer}/{s.part}: no such op/part in the network"))
    for key in idx.dups:
        add(Violation("R4", f"{key[0]}/{key[1]}: computed more than once"))
    for key in problem.by_key:
        if key not in idx.pos:
            add(Violation("R4", f"{key[0]}/{key[1]}: never computed"))
    # ----- R1 replication and write counts -----
    w = sched.writes
    counts = np.bincount(idx.wstep if idx.all_known else idx.wstep[idx.wstep >= 0],
                         minlength=len(steps))
    for i in ([] if idx.all_known else np.flatnonzero(idx.wstep < 0)[:1]):
        bad = idx.wstep < 0
        add(Violation("R1", f"{int(bad.sum())} write(s) name no computed weight part, first "
                            f"writes[{int(i)}] {w.layer[i]}/{int(w.part[i])}"))
    for key, i in idx.pos.items():
        s, ps = steps[i], problem.by_key[key]
        name = f"{key[0]}/{key[1]}"
        if ps.weighted:
            if s.replication < 1:
                add(Violation("R1", f"{name}: replication {s.replication} must be >= 1"))
            if s.apu_rows != ps.apu_rows:
                add(Violation("R1", f"{name}: apu_rows {s.apu_rows}, the mapping gives "
                                    f"{ps.apu_rows}"))
            need = max(s.replication, 0) * ps.apu_rows
            if counts[i] != need:
                add(Violation("R1", f"{name}: {int(counts[i])} writes, replication "
                                    f"{s.replication} x {ps.apu_rows} APU rows needs {need}"))
        else:
            if s.replication != 0 or s.apu_rows != 0 or counts[i]:
                add(Violation("R1", f"{name}: a weightless op has apu_rows 0, replication 0 "
                                    f"and no writes (got {s.apu_rows}, {s.replication}, "
                                    f"{int(counts[i])})"))
        if s.windows != ps.windows:
            add(Violation("R5", f"{name}: windows {s.windows}, the mapping gives {ps.windows}"))
    # Explicit tiles: each of the part's tiles exactly r times.
    has_tile = (w.tile >= 0) & (idx.wstep >= 0)
    tiled = np.unique(idx.wstep[has_tile])
    if len(tiled):  # the tiles of each such part, in file order
        mine = np.flatnonzero(np.isin(idx.wstep, tiled))
        mine = mine[np.argsort(idx.wstep[mine], kind="stable")]
        cut = np.searchsorted(idx.wstep[mine], tiled)
        groups = np.split(w.tile[mine], cut[1:])
    for i, tiles in zip(tiled.tolist(), groups if len(tiled) else [], strict=True):
        s = steps[i]
        ps = _problem_step(idx, i)
        if (tiles < 0).any() or (tiles >= ps.apu_rows).any() or not np.array_equal(
                np.bincount(tiles.clip(0), minlength=ps.apu_rows),
                np.full(ps.apu_rows, max(s.replication, 0))):
            add(Violation("R1", f"{s.layer}/{s.part}: tiles must each be written "
                                f"{s.replication} time(s), got {sorted(tiles.tolist())[:8]}..."))
    # ----- R2 row occupancy -----
    ok = idx.wstep >= 0
    per = hw.apu_rows_per_pe
    valid_row = w.pe >= 0
    valid_row &= w.pe < hw.pes
    valid_row &= w.row >= 0
    valid_row &= w.row < per
    # (sel None: every write, the common case, without an index array)
    sel = None if idx.all_known and valid_row.all() else np.flatnonzero(ok & valid_row)
    if sel is None or len(sel):
        order, r_s, s_s = idx.by_row(sel)
        i_s = order if sel is None else sel[order]
        e_s = idx.end[idx.wstep[i_s]]
        clash = np.flatnonzero((r_s[1:] == r_s[:-1]) & (s_s[1:] < e_s[:-1]))
        for j in clash.tolist():
            a, b = int(i_s[j]), int(i_s[j + 1])
            add(Violation("R2", f"{_row_desc(problem, int(r_s[j]))}: write of "
                                f"{w.layer[a]}/{int(w.part[a])} holds it over [{int(s_s[j])}, "
                                f"{int(e_s[j])}) but {w.layer[b]}/{int(w.part[b])} is written "
                                f"at {int(s_s[j + 1])}"))
    # ----- R3 writes end before compute -----
    T = hw.write_latency_cycles
    if idx.all_known and len(w):
        # A run's writes share their compute start: look only at the runs whose latest
        # write ends after it
        run_late = np.maximum.reduceat(w.start, idx.run_heads) + T > idx.start[idx.run_step]
        sel = np.flatnonzero(np.repeat(run_late, idx.run_count)) if run_late.any() else (
            np.zeros(0, dtype=np.int64))
    else:
        sel = np.flatnonzero(ok)
    late = sel[w.start[sel] + T > idx.start[idx.wstep[sel]]]
    for j in late.tolist():
        i = int(idx.wstep[j])
        add(Violation("R3", f"{w.layer[j]}/{int(w.part[j])}: write on (pe {int(w.pe[j])}, row "
                            f"{int(w.row[j])}) ends at {int(w.start[j]) + T}, after the compute "
                            f"starts at {int(idx.start[i])}"))
    # ----- R4 one compute at a time, DAG order -----
    for i in range(1, len(steps)):
        if steps[i].start < steps[i - 1].end:
            add(Violation("R4", f"{steps[i].layer}/{steps[i].part} starts at {steps[i].start}, "
                                f"before {steps[i - 1].layer}/{steps[i - 1].part} (listed "
                                f"before it) ends at {steps[i - 1].end}"))
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    ends: dict[str, int] = {}    # latest compute end of each op's parts
    starts: dict[str, int] = {}  # earliest compute start of each op's parts
    for key, i in idx.pos.items():
        first[key[0]] = min(first.get(key[0], i), i)
        last[key[0]] = max(last.get(key[0], i), i)
        ends[key[0]] = max(ends.get(key[0], steps[i].end), steps[i].end)
        starts[key[0]] = min(starts.get(key[0], steps[i].start), steps[i].start)
    for op in problem.network.ops:
        if op.name not in first:
            continue
        for src in set(op.inputs):
            if src not in last:
                continue
            p_end, c_start = ends[src], starts[op.name]
            if last[src] > first[op.name] or p_end > c_start:
                add(Violation("R4", f"{op.name} reads {src} but starts at {c_start} (position "
                                    f"{first[op.name]}) before {src} ends at {p_end} "
                                    f"(position {last[src]})"))
    # ----- R5 compute durations -----
    for key, i in idx.pos.items():
        s, ps = steps[i], problem.by_key[key]
        r = max(s.replication, 1)
        need = problem.compute_cycles(ps, r)
        if s.end - s.start != need:
            add(Violation("R5", f"{key[0]}/{key[1]}: compute [{s.start}, {s.end}) lasts "
                                f"{s.end - s.start} cycles, replication {s.replication} needs "
                                f"{need}"))
    # ----- R6 write bandwidth -----
    if len(w) and _peak_writes(w.start, T) > hw.max_concurrent_row_writes:
        t = np.concatenate([w.start, w.start + T])
        d = np.concatenate([np.ones(len(w), np.int64), -np.ones(len(w), np.int64)])
        order = np.lexsort((d, t))  # at equal times ends (-1) come before starts
        level = np.cumsum(d[order])
        limit = hw.max_concurrent_row_writes
        over = level > limit
        if over.any():
            ts = t[order]
            # Report each maximal interval where too many APUs are being written.
            edges = np.flatnonzero(np.diff(np.concatenate([[0], over.astype(np.int8), [0]])))
            for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
                peak = int(level[a:b].max())
                add(Violation("R6", f"over [{int(ts[a])}, {int(ts[b])}) {peak * hw.apus_per_row}"
                                    f" APUs are written at once, the memory bandwidth allows "
                                    f"{hw.max_concurrent_apu_writes}"))
    # ----- R7 ranges -----
    for j in np.flatnonzero(~valid_row).tolist():
        add(Violation("R7", f"writes[{j}] {w.layer[j]}/{int(w.part[j])}: (pe {int(w.pe[j])}, "
                            f"row {int(w.row[j])}) outside {hw.pes} PEs x {per} rows"))
    if hw.failed_rows and len(w):
        # a failed row holds no weights (Hardware.failed_rows): a write there is out of range
        bad = np.isin(w.pe * per + w.row, np.fromiter(hw.failed_row_ids, np.int64))
        for j in np.flatnonzero(bad & valid_row).tolist():
            add(Violation("R7", f"writes[{j}] {w.layer[j]}/{int(w.part[j])}: (pe "
                                f"{int(w.pe[j])}, row {int(w.row[j])}) is a failed row"))
    for j in np.flatnonzero(w.start < 0).tolist():
        add(Violation("R7", f"writes[{j}] {w.layer[j]}/{int(w.part[j])}: start {int(w.start[j])}"
                            " < 0"))
    for i, s in enumerate(steps):
        if s.start < 0 or s.end < 0:
            add(Violation("R7", f"steps[{i}] {s.layer}/{s.part}: negative time "
                                f"[{s.start}, {s.end})"))
    # ----- reuse centers: a shifted layer's mean is a weight code (docs/model.md) -----
    top = (1 << hw.weight_bits) - 1
    for i, s in enumerate(steps):
        if s.center is not None and not 0 <= s.center <= top:
            add(Violation("center", f"steps[{i}] {s.layer}/{s.part}: center {s.center} outside "
                                    f"the weight codes 0..{top}"))
    # ----- R8 Gbuffer banks -----
    sizes = hw.gbuffer_banks
    for key, i in idx.pos.items():
        s, ps = steps[i], problem.by_key[key]
        name = f"{key[0]}/{key[1]}"
        bad_banks = [b for b in s.banks_in + s.banks_out if not 0 <= b < len(sizes)]
        if bad_banks:
            add(Violation("R8", f"{name}: bank index {bad_banks[0]} outside 0..{len(sizes) - 1}"))
            continue
        if len(set(s.banks_in)) != len(s.banks_in) or len(set(s.banks_out)) != len(s.banks_out):
            add(Violation("R8", f"{name}: a bank is listed twice"))
        both = sorted(set(s.banks_in) & set(s.banks_out))
        if both:
            add(Violation("R8", f"{name}: banks {both} hold both input and output"))
        cap_in = sum(sizes[b] for b in set(s.banks_in))
        cap_out = sum(sizes[b] for b in set(s.banks_out))
        per_pass = f" per pass ({ps.passes} passes)" if ps.passes > 1 else ""
        if cap_in < ps.in_need:
            add(Violation("R8", f"{name}: input banks hold {cap_in} bytes, the input needs "
                                f"{ps.in_need}{per_pass}"))
        if cap_out < ps.out_need:
            add(Violation("R8", f"{name}: output banks hold {cap_out} bytes, the output needs "
                                f"{ps.out_need}{per_pass}"))
    # Liveness mode (bank_mode "liveness", docs/model.md): tensors also keep their banks from
    # producer to last consumer; nothing is added in the default per-step mode.
    out += [Violation("R8", m) for m in check_liveness(problem, sched)]
    # ----- the file's own makespan -----
    if steps:
        real = int(idx.end.max())
        if sched.makespan != real:
            add(Violation("makespan", f"the file says {sched.makespan}, the last compute ends "
                                      f"at {real}"))
    return out


# ----------------------------------------------------------------------------- user rules
#: What a rule's check returns: messages (each a violation of the rule) or Violations.
Messages = Iterable[str | Violation] | str | None


class Rule:
    """A rule of one's own, checked by the evaluator after R1-R8.

    Subclass it and give it a ``name`` and a :meth:`check`; any object with a ``name`` (a
    non-empty string) and a ``check(problem, schedule)`` method is accepted alike, and so
    is a plain function ``fn(problem, schedule)`` (its name is ``fn.__name__``), or one
    wrapped by :func:`rule`.

    Every message the check yields becomes ``Violation(rule=name, message=message)``, one
    line of the report like those of R1-R8; a :class:`Violation` yielded is kept as it is.
    A check runs on every schedule, valid under R1-R8 or not, so it must not assume R1-R8
    hold (a step may name no op of the network). A check that raises is reported as one
    violation of the rule naming the exception.

    Examples
    --------
    >>> from aras.evaluation.rules import Rule
    >>> class MaxReplication(Rule):
    ...     name = "max-replication"
    ...
    ...     def __init__(self, layer, cap):
    ...         self.layer, self.cap = layer, cap
    ...
    ...     def check(self, problem, schedule):
    ...         for s in schedule.steps:
    ...             if s.layer == self.layer and s.replication > self.cap:
    ...                 yield (f"{s.layer}/{s.part}: replication {s.replication}, "
    ...                        f"at most {self.cap}")
    >>> cap = MaxReplication("c1", 2)   # aras.evaluate(problem, schedule, rules=[cap])
    """

    #: The rule's name, the first field of its violations' lines.
    name: str = ""

    def check(self, problem: Problem, schedule: Schedule) -> Messages:
        """Every violation of the rule by ``schedule`` of ``problem``.

        Returns
        -------
        iterable of str or Violation
            One message per violation (a generator, a list, None or an empty list when
            there is none; a single string is one message).
        """
        raise NotImplementedError(f"{type(self).__name__}.check")


class _FunctionRule(Rule):
    """A function as a :class:`Rule` (made by :func:`rule`); still callable as the function."""

    def __init__(self, name: str, fn: Callable[[Problem, Schedule], Messages]):
        self.name, self._fn = name, fn
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def check(self, problem: Problem, schedule: Schedule) -> Messages:
        return self._fn(problem, schedule)

    def __call__(self, problem: Problem, schedule: Schedule) -> Messages:
        return self._fn(problem, schedule)

    def __repr__(self) -> str:
        return f"rule({self.name!r})({getattr(self._fn, '__qualname__', self._fn)!r})"


def rule(name: str) -> Callable[[Callable[[Problem, Schedule], Messages]], _FunctionRule]:
    """Decorator: a function ``fn(problem, schedule)`` as a :class:`Rule` named ``name``.

    Parameters
    ----------
    name
        The rule's name in its violations' lines (a plain function is named by its
        ``__name__`` without this decorator).

    Examples
    --------
    >>> from aras.evaluation.rules import rule
    >>> @rule("c1-cap")
    ... def c1_cap(problem, schedule):
    ...     for s in schedule.steps:
    ...         if s.layer == "c1" and s.replication > 2:
    ...             yield f"c1/{s.part}: replication {s.replication}, at most 2"
    >>> c1_cap.name
    'c1-cap'
    """
    _rule_name(name, "rule: name")

    def wrap(fn: Callable[[Problem, Schedule], Messages]) -> _FunctionRule:
        if not callable(fn):
            raise InputError(f"rule: decorates a function (problem, schedule), got {fn!r}")
        return _FunctionRule(name, fn)

    return wrap


def _rule_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not name.strip() or "\n" in name:
        raise InputError(f"{where}: a rule's name is a non-empty string on one line, got "
                         f"{name!r}")
    return name


def _takes_two(fn: Any, at: str) -> None:
    """A rule is called as ``fn(problem, schedule)``: a function that cannot take those two
    arguments is the caller's error, not a violation of every schedule it checks."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins without a signature: trusted
        return
    try:
        sig.bind(None, None)
    except TypeError:
        params = ", ".join(sig.parameters)
        raise InputError(f"{at}: a rule is called with (problem, schedule); "
                         f"{getattr(fn, '__qualname__', fn)!s}({params}) cannot take them"
                         ) from None


def as_rules(rules: Iterable[Any] | None, where: str = "rules"
             ) -> list[tuple[str, Callable[[Problem, Schedule], Messages]]]:
    """Every rule as ``(name, check)``, in order; InputError naming the first that is none.

    A rule is a :class:`Rule` (or any object with a ``name`` and a ``check`` method), a
    plain function (named by its ``__name__``), or a ``"package.module:name"`` /
    ``"file.py:name"`` spec of either (:func:`load_rule`, as the CLI's ``--rule`` takes).

    Raises
    ------
    InputError
        ``rules``: not a list of rules; ``rules[i]``: neither kind of rule, or no usable name.
    """
    if rules is None:
        return []
    if isinstance(rules, (str, bytes, Rule)) or callable(rules) or not isinstance(
            rules, Iterable):
        raise InputError(f"{where}: a list of rules, got {rules!r}")
    out = []
    for i, r in enumerate(rules):
        at = f"{where}[{i}]"
        if isinstance(r, str):
            r = load_rule(r, at)
        check = getattr(r, "check", None)
        if callable(check) and not isinstance(r, type):
            _takes_two(check, f"{at}.check")
            out.append((_rule_name(getattr(r, "name", None), f"{at}.name"), check))
        elif callable(r) and not isinstance(r, type):
            _takes_two(r, at)
            out.append((_rule_name(getattr(r, "__name__", None), f"{at}.__name__"), r))
        else:
            raise InputError(f"{at}: a rule is an object with a name and a check(problem, "
                             f"schedule) method, or a function (problem, schedule); got {r!r}")
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(no message)"


def check_rules(problem: Problem, sched: Schedule, rules: Iterable[Any] | None
                ) -> list[Violation]:
    """Every violation of the user ``rules`` by ``sched``, rule by rule, one line each.

    Messages become :class:`Violation` lines of their rule (several lines of one message are
    joined into one); a rule that raises, or returns something other than messages, is one
    violation naming the rule and the error. See :class:`Rule`.

    Raises
    ------
    InputError
        When ``rules`` holds something that is no rule (:func:`as_rules`).
    """
    return run_rules(problem, sched, as_rules(rules))


def run_rules(problem: Problem, sched: Schedule,
              checks: Iterable[tuple[str, Callable[[Problem, Schedule], Messages]]]
              ) -> list[Violation]:
    """:func:`check_rules` of rules already resolved by :func:`as_rules`."""
    out: list[Violation] = []
    for name, check in checks:
        try:
            got = check(problem, sched)
            items = [] if got is None else [got] if isinstance(got, str) else list(got)
        except Exception as exc:  # a rule's bug is its violation, not the evaluator's crash
            out.append(Violation(name, _one_line(f"the rule raised {type(exc).__name__}: "
                                                 f"{exc}")))
            continue
        for item in items:
            if isinstance(item, Violation):
                out.append(Violation(item.rule, _one_line(item.message)))
            elif isinstance(item, str):
                out.append(Violation(name, _one_line(item)))
            else:
                out.append(Violation(name, _one_line(f"the rule gave {item!r} "
                                                     f"({type(item).__name__}), not a message")))
    return out


def load_rule(spec: str, where: str | None = None) -> Any:
    """The rule a ``package.module:name`` (or ``path/to/file.py:name``) spec names.

    The module is imported with the working directory on the import path (as ``python -m``
    would), so a module next to one's own files is found; ``name`` may be dotted
    (``module:Class.attr``). A class is instantiated without arguments.

    Raises
    ------
    InputError
        Naming ``where`` (default ``spec``, ``--rule`` under the CLI) and the spec: no ``:``,
        a module that does not import, no such name, or something that is no rule.
    """
    where = where or arg_name("spec", "--rule")
    mod_name, sep, attr = spec.rpartition(":")  # (a file's path may hold a drive's colon)
    if not sep or not mod_name or not attr:
        raise InputError(f"{where}: {spec!r}: expected package.module:name or file.py:name")
    try:
        if mod_name.endswith(".py"):
            path = Path(mod_name)
            if not path.is_file():
                raise InputError(f"{where}: {spec!r}: no file {mod_name}")
            key = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
            mspec = importlib.util.spec_from_file_location(f"aras_rules_{path.stem}_{key}", path)
            assert mspec is not None and mspec.loader is not None
            module = importlib.util.module_from_spec(mspec)
            sys.modules[mspec.name] = module  # (dataclasses and pickle look the module up)
            try:
                mspec.loader.exec_module(module)
            except BaseException:
                del sys.modules[mspec.name]
                raise
        else:
            cwd = os.getcwd()
            added = cwd not in sys.path and "" not in sys.path
            if added:
                sys.path.insert(0, cwd)
            try:
                module = importlib.import_module(mod_name)
            finally:
                if added:
                    sys.path.remove(cwd)
    except InputError:
        raise
    except Exception as exc:  # any error of someone else's module: one line, exit 2
        raise InputError(f"{where}: {spec!r}: cannot import {mod_name}: "
                         f"{_one_line(f'{type(exc).__name__}: {exc}')}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise InputError(f"{where}: {spec!r}: {mod_name} has no {attr!r}")
        obj = getattr(obj, part)
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as exc:
            raise InputError(f"{where}: {spec!r}: cannot instantiate {attr}: "
                             f"{_one_line(f'{type(exc).__name__}: {exc}')}") from None
    try:
        as_rules([obj], where)
    except InputError as exc:
        raise InputError(f"{where}: {spec!r}: {str(exc).split(': ', 1)[1]}") from None
    return obj


def load_rules(specs: Sequence[str] | None, where: str | None = None) -> list[Any]:
    """:func:`load_rule` of every spec, in order."""
    return [load_rule(s, where) for s in specs or []]


__all__ = ["Violation", "validate", "Rule", "rule", "check_rules", "as_rules", "load_rule",
           "load_rules"]
