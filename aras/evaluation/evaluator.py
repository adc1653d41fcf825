"""The one evaluator: validates a schedule against R1-R8 and costs it.

Every method's output goes through :func:`evaluate`; methods never cost
themselves. Validation lists every violation with its rule, op/part, APU row
and cycles. Costing follows ``docs/model.md``: latency from the last compute
end, energy from ReRAM write pulses, Gbuffer leakage and accesses, DRAM
traffic of weight deltas and crossbar/digital compute, and lifespan from the
most-written cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from aras.evaluation.liveness import LIVENESS, bank_mode
from aras.evaluation.liveness import check as check_liveness
from aras.evaluation.liveness import costs as liveness_costs
from aras.model.errors import InputError
from aras.model.mapping import Problem, Step, ceil_div
from aras.model.schedule import Schedule
from aras.model.weights import (
    LayerStats,
    cell_levels,
    layer_matrix,
    pair_costs,
    step_distributions,
    synthetic_stats,
    tile_values,
)

SECONDS_PER_YEAR = 365.25 * 86400


@dataclass(frozen=True)
class Violation:
    """One broken rule."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


#: Energy components, in report order (the fields of :class:`Energy`).
ENERGY_COMPONENTS = ("rram_write", "gbuffer_static", "gbuffer_dynamic", "dram", "compute")


@dataclass
class Energy:
    """Energy per inference in joules, by component."""

    rram_write: float = 0.0
    gbuffer_static: float = 0.0
    gbuffer_dynamic: float = 0.0
    dram: float = 0.0
    compute: float = 0.0

    @property
    def total(self) -> float:
        """Sum of the components."""
        return (self.rram_write + self.gbuffer_static + self.gbuffer_dynamic + self.dram
                + self.compute)

    def to_dict(self) -> dict[str, float]:
        """Components and ``total``."""
        d = asdict(self)
        d["total"] = self.total
        return d


@dataclass
class Report:
    """Validity and cost of one schedule for one inference (steady state)."""

    valid: bool
    violations: list[Violation]
    makespan_cycles: int = 0
    latency_s: float = 0.0
    throughput_inf_s: float = 0.0
    energy: Energy = field(default_factory=Energy)
    level_steps: float = 0.0
    write_pulses: float = 0.0
    cells_written: float = 0.0
    row_writes: int = 0
    weights_written: int = 0
    max_cell_writes: int = 0
    realtime_inf_s: float = 0.0
    endurance_cycles: float = 0.0
    lifespan_realtime_years: float = 0.0
    lifespan_max_throughput_years: float = 0.0
    pulse_model: str = "statistical"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = {k: v for k, v in self.__dict__.items() if k not in ("violations", "energy")}
        d["violations"] = [str(v) for v in self.violations]
        d["energy_j"] = self.energy.to_dict()
        for k, v in list(d.items()):
            if isinstance(v, float) and math.isinf(v):
                d[k] = None
        return d


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
        m = len(w)
        head = np.ones(m, dtype=bool)
        if m > 1:
            head[1:] = (w.layer[1:] != w.layer[:-1]) | (w.part[1:] != w.part[:-1])
        heads = np.flatnonzero(head)
        step_of_run = np.array([self.pos.get((a, b), -1) for a, b in zip(
            w.layer[heads].tolist(), w.part[heads].tolist(), strict=True)], dtype=np.int64)
        run = np.cumsum(head)
        run -= 1
        self.wstep = step_of_run[run] if m else np.zeros(0, dtype=np.int64)
        del run
        #: Whether every write names a computed part (then no mask is needed).
        self.all_known = bool((step_of_run >= 0).all())
        #: First write of every run of one (layer, part), and the run's step (-1: none).
        self.run_heads, self.run_step = heads, step_of_run
        self._by_row: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def by_row(self, sel: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Writes (all, or those of ``sel``) sorted by APU row, then start (stable), with
        their row ids and starts in that order.

        The same permutation as ``np.lexsort((start, rowid))`` (see :func:`_lex_order`); the
        one of all writes is kept for reuse.
        """
        if sel is None and self._by_row is not None:
            return self._by_row
        w = self.sched.writes
        per = self.problem.hardware.apu_rows_per_pe
        rowid = w.pe * per
        rowid += w.row
        st = w.start
        if sel is not None:
            rowid, st = rowid[sel], st[sel]
        out = _lex_order(st, rowid)
        if sel is None:
            self._by_row = out
        return out


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
        order = np.argsort((major - lo_a) * span + (minor - lo_b), kind="stable")
    else:
        order = np.lexsort((minor, major))
    return order, major[order], minor[order]


def _peak_writes(start: np.ndarray, T: int) -> int:
    """Most writes in flight at once, ends before starts at equal times (as R6 counts).

    The level peaks right after the last write starting at some time ``t``: the writes
    started by then less those ended by then (start <= t - T).
    """
    s = np.sort(start)
    last = np.flatnonzero(np.r_[s[1:] != s[:-1], True])  # last write of each start time
    return int((last + 1 - np.searchsorted(s, s[last] - T, "right")).max())


def _used_cells(idx: _Index, tile: np.ndarray) -> np.ndarray:  # valid schedules only
    """Weights (crossbar rows x kernels) that every write's tile holds.

    One table of every part's tiles, indexed by a per-step offset: no pass over the writes
    per part.
    """
    steps = idx.sched.steps
    parts = [_problem_step(idx, i) if i >= 0 else None for i in range(len(steps))]
    offset = np.zeros(len(steps) + 1, dtype=np.int64)
    tables = []
    for i, ps in enumerate(parts):
        if ps is not None and ps.weighted:
            grid = idx.problem.tiles(ps)
            tables.append(grid.rows_used * grid.cols_used)
            offset[i + 1] = len(grid)
    table = np.concatenate(tables) if tables else np.zeros(0, dtype=np.int64)
    at = np.cumsum(offset)[idx.wstep]
    at += tile
    return table[at]


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
    if idx.all_known:
        latest = idx.start[idx.wstep]  # the latest start of each write: its compute's, less T
        latest -= T
        late = np.flatnonzero(w.start > latest)
        del latest
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


def _tile_index(idx: _Index) -> np.ndarray:
    """Tile held by every write: explicit, or its rank within its part modulo apu_rows."""
    w = idx.sched.writes
    n = len(w)
    if len(np.unique(idx.run_step)) == len(idx.run_step):
        # Each part's writes form one run: the rank is the position in the run.
        rank = np.arange(n)
        rank -= np.repeat(idx.run_heads, np.diff(np.r_[idx.run_heads, n]))
    else:
        if len(idx.sched.steps) < 2**16 - 1:  # a radix sort (the same stable order)
            order = np.argsort((idx.wstep + 1).astype(np.uint16), kind="stable")
        else:
            order = np.argsort(idx.wstep, kind="stable")
        ws = idx.wstep[order]
        starts = np.r_[0, np.flatnonzero(np.diff(ws)) + 1]
        group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
        rank = np.empty(n, np.int64)
        rank[order] = np.arange(n) - group_start
    rows = np.array([_problem_step(idx, i).apu_rows if i >= 0 else 1
                     for i in range(len(idx.sched.steps))] or [1], dtype=np.int64)
    rank %= np.maximum(rows, 1)[np.maximum(idx.wstep, 0)]  # the implicit tile
    explicit = w.tile >= 0
    if explicit.any():
        rank[explicit] = w.tile[explicit]
    return rank


#: Distributions (weight-bearing layers) up to which the pulse model tabulates every pair
#: (8 MB); beyond, only the pairs that the writes meet.
_FULL_PAIR_TABLE = 1024


def _statistical_pulses(idx: _Index, tile: np.ndarray, used: np.ndarray,
                        stats: Mapping[str, LayerStats]) -> tuple[float, float, int]:
    """Expected level steps, expected changed cells and the most writes of any row.

    ``used``: the weights each write's tile holds (:func:`_used_cells`).
    """
    problem, sched, hw = idx.problem, idx.sched, idx.problem.hardware
    w = sched.writes
    if not len(w):
        return 0.0, 0.0, 0
    wsteps = np.flatnonzero(np.bincount(idx.wstep, minlength=1)).tolist()
    ids, pmfs = step_distributions([(sched.steps[i].layer, sched.steps[i].center)
                                    for i in wsteps], stats, 1 << hw.weight_bits)
    dist_of_step = np.full(max(len(sched.steps), 1), -1, dtype=np.int64)
    dist_of_step[wsteps] = ids
    order, r, _ = idx.by_row()
    # The previous content of a row is the write before it on that row; the first write of
    # each row overwrites the last one of the previous inference (steady state). In row order
    # that is the write just before, or for a row's first write, the row's last.
    n = len(r)
    heads = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])  # first write of each row
    last = np.r_[heads[1:], n] - 1

    def same_as_before(x: np.ndarray) -> np.ndarray:
        """Whether ``x`` equals ``x`` of the previous write on the same row."""
        out = np.empty(n, dtype=bool)
        np.equal(x[1:], x[:-1], out=out[1:])
        out[heads] = x[heads] == x[last]
        return out

    # Same part and same tile: the row holds exactly these weights already.
    wsel = idx.wstep[order]
    same = same_as_before(wsel)
    d = dist_of_step[wsel]
    del wsel
    t = tile[order]
    same &= same_as_before(t)
    del t
    pair = np.empty(n, dtype=np.int64)  # (previous, new) distributions, flattened
    pair[1:] = d[:-1]
    pair[heads] = d[last]
    pair *= len(pmfs)
    pair += d
    del d
    if len(pmfs) <= _FULL_PAIR_TABLE:
        steps_pp, changed_pp = pair_costs(pmfs, hw)
        steps_k, changed_k = steps_pp.ravel(), changed_pp.ravel()
    else:  # only the pairs that occur (a full table would be len(pmfs)^2)
        pair_ids, pair = np.unique(pair, return_inverse=True)
        steps_k, changed_k = pair_costs(pmfs, hw, (pair_ids // len(pmfs), pair_ids % len(pmfs)))
    used = used[order]
    totals = []
    for table in (steps_k, changed_k):
        x = table[pair]
        x *= used
        x[same] = 0.0
        totals.append(float(x.sum()))
    del problem
    return totals[0], totals[1], int((last + 1 - heads).max())


def _exact_pulses(idx: _Index, tile: np.ndarray, weights: Mapping[str, np.ndarray],
                  fill: int) -> tuple[float, float, int]:
    """Level steps, changed cells and the most updates of any cell, from real weight codes.

    Rows are independent, so each physical row replays its writes in time
    order twice: once to reach the steady state left by the previous
    inference, once to count.
    """
    problem, sched, hw = idx.problem, idx.sched, idx.problem.hardware
    w = sched.writes
    R, K, C = hw.crossbar_rows, hw.kernels_per_apu_row, hw.cells_per_weight
    top = (1 << hw.weight_bits) - 1
    matrices: dict[tuple[str, int | None], np.ndarray] = {}
    for s in sched.steps:
        key = (s.layer, s.center)
        if s.apu_rows and key not in matrices:
            op = problem.network.op(s.layer)
            if s.layer not in weights:
                raise InputError(f"weights: no values for layer '{s.layer}'")
            m = layer_matrix(weights[s.layer], *op.matrix, name=s.layer)
            if s.center is not None:
                # Shift the layer's mean to the center, clipping at the code range (section V-C).
                m = np.clip(m + int(round(s.center - m.mean())), 0, top)
            matrices[key] = m
    rowid = w.pe * hw.apu_rows_per_pe + w.row
    order = np.lexsort((w.start, rowid))
    bounds_ = np.r_[0, np.flatnonzero(np.diff(rowid[order])) + 1, len(order)]
    level_steps = changed = 0
    max_updates = 0
    for a, b in zip(bounds_[:-1].tolist(), bounds_[1:].tolist(), strict=True):
        state = np.full((R, K, C), -1, dtype=np.int16)
        updates = np.zeros((R, K, C), dtype=np.int32)
        levels = []
        for j in order[a:b].tolist():
            s = sched.steps[int(idx.wstep[j])]
            ps = problem.by_key[(s.layer, s.part)]
            vals = tile_values(matrices[(s.layer, s.center)], ps.tile_offset + int(tile[j]), R, K,
                               fill)
            levels.append(cell_levels(vals, hw).astype(np.int16))
        for counting in (False, True):
            for lv in levels:
                r, k = lv.shape[:2]
                old = state[:r, :k]
                if counting:
                    known = old >= 0
                    diff = np.where(known, np.abs(old - lv), 0)
                    level_steps += int(diff.sum())
                    moved = diff > 0
                    changed += int(moved.sum())
                    updates[:r, :k] += moved
                state[:r, :k] = lv
        max_updates = max(max_updates, int(updates.max()))
    return float(level_steps), float(changed), max_updates


def evaluate(problem: Problem, sched: Schedule, *, stats: Mapping[str, LayerStats] | None = None,
             weights: Mapping[str, np.ndarray] | None = None, zero_code: int | None = None,
             seed: int = 0, endurance: float | None = None,
             realtime_inf_s: float | None = None) -> Report:
    """Validate and cost a schedule.

    Parameters
    ----------
    problem
        The mapped network the schedule claims to solve.
    sched
        The schedule.
    stats
        Per-layer weight statistics for the pulse model; default: the seeded
        synthetic statistics of :func:`aras.model.weights.synthetic_stats`.
    weights
        Unsigned weight codes per layer (``(groups, rows_g, cols_g)`` or
        ``(rows, cols)``); when given, pulses are counted cell by cell from the
        actual levels and ``max_cell_writes`` is the most updates of one cell.
    zero_code
        Code of a zero weight, written off the diagonal of block-diagonal
        tiles (default ``2**(weight_bits-1)``).
    seed
        Seed of the synthetic statistics.
    endurance
        Cell endurance in write cycles (default: the hardware's).
    realtime_inf_s
        Real-time rate for the lifespan (default 30 inf/s for networks with
        convolutions, 100 inf/s otherwise, as in the paper).

    Returns
    -------
    Report
        ``valid`` False with every violation when a rule is broken; costs are
        only filled for valid schedules.
    """
    idx = _Index(problem, sched)
    violations = _validate(idx)
    rep = Report(valid=not violations, violations=violations)
    if violations:
        return rep
    hw = problem.hardware
    steps = sched.steps
    makespan = int(idx.end.max()) if steps else 0
    rep.makespan_cycles = makespan
    rep.latency_s = hw.seconds(makespan)
    rep.throughput_inf_s = 1.0 / rep.latency_s if makespan else math.inf
    # Pulses.
    if stats is None:
        stats = synthetic_stats([o.name for o in problem.network.weighted_ops], seed)
    tile = _tile_index(idx)
    used = _used_cells(idx, tile)
    if weights is not None:
        fill = zero_code if zero_code is not None else 1 << (hw.weight_bits - 1)
        level_steps, cells, max_row = _exact_pulses(idx, tile, weights, fill)
        rep.pulse_model = "weights"
    else:
        level_steps, cells, max_row = _statistical_pulses(idx, tile, used, stats)
    rep.level_steps = level_steps
    rep.write_pulses = level_steps * hw.pulses_per_level_step
    rep.cells_written = cells
    rep.max_cell_writes = max_row
    rep.row_writes = len(sched.writes)
    rep.weights_written = int(used.sum())
    # Energy.
    e = rep.energy
    e.rram_write = rep.write_pulses * hw.write_energy_per_pulse_j
    leak = hw.bank_leakage_w()
    spill = 0
    for k, s in enumerate(steps):
        # A step's banks stay powered from the previous step's start until the next step
        # starts, since its output waits there for the consumer (idle gaps included).
        t_from = 0 if k == 0 else steps[k].start
        t_to = steps[k + 1].start if k + 1 < len(steps) else s.end
        power = sum(leak[b] for b in set(s.banks_in) | set(s.banks_out))
        e.gbuffer_static += power * hw.seconds(t_to - t_from)
        ps = problem.by_key[(s.layer, s.part)]
        e.gbuffer_dynamic += (ps.in_bytes * hw.sram_read_energy_j_per_byte
                              + ps.out_bytes * hw.sram_write_energy_j_per_byte)
        if ps.weighted:
            e.compute += ps.windows * ps.apu_rows * hw.apus_per_row * hw.crossbar_compute_energy_j
        else:
            e.compute += ps.macs * hw.digital_mac_energy_j
        spill += ps.spill_bytes
    if bank_mode(sched) == LIVENESS:
        # Banks leak while they hold a live tensor (not per step); spilled tensors travel
        # through DRAM, which includes the tensors of multi-pass steps (all spilled).
        e.gbuffer_static, spill = liveness_costs(problem, sched)
    # Weight deltas travel per written APU; activations of multi-pass steps spill to DRAM.
    e.dram = (len(sched.writes) * hw.apus_per_row * hw.bytes_per_apu_write + spill
              ) * hw.dram_energy_j_per_byte
    # Lifespan.
    rep.endurance_cycles = endurance if endurance is not None else hw.cell_endurance_cycles
    if realtime_inf_s is None:
        has_conv = any(o.kind == "conv2d" for o in problem.network.ops)
        realtime_inf_s = 30.0 if has_conv else 100.0
    rep.realtime_inf_s = realtime_inf_s
    if max_row:
        per_s_rt = max_row * realtime_inf_s
        per_s_max = max_row * rep.throughput_inf_s
        rep.lifespan_realtime_years = rep.endurance_cycles / per_s_rt / SECONDS_PER_YEAR
        rep.lifespan_max_throughput_years = rep.endurance_cycles / per_s_max / SECONDS_PER_YEAR
    else:
        rep.lifespan_realtime_years = rep.lifespan_max_throughput_years = math.inf
    return rep


__all__ = ["Violation", "Energy", "Report", "validate", "evaluate", "ceil_div"]
