"""The evaluator of periodic (steady-state) schedules (docs/model.md, "Periodic schedules").

A periodic schedule runs one inference every ``period`` cycles. It is valid when

- the schedule of one inference is a valid isolated schedule (R1-R8 through
  :func:`aras.evaluation.evaluator.validate`: that is the first inference, whose prologue
  also writes the resident layers), and
- repeated every ``P`` cycles it stays valid: computes of consecutive inferences do not
  overlap (R4p), occupancies of streamed writes on one APU row are disjoint modulo ``P``
  (R2p), the writes in flight modulo ``P`` respect the bandwidth (R6p), and the rows of a
  resident layer hold nothing else, ever (R9).

R2p and R6p are checked on the schedule unrolled over enough inferences that every pair of
inferences that can meet, and a whole period of the steady state, are in it. Costs are per
inference in the steady state: the streamed writes only (residents are written once), each
overwriting the tile its row held one write earlier in the cyclic order of starts modulo ``P``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aras.evaluation.evaluator import SECONDS_PER_YEAR, Energy, Violation, evaluate
from aras.model.errors import InputError
from aras.model.mapping import Problem, map_network
from aras.model.periodic import PeriodicSchedule, base_layer, check_resident, repeat_network
from aras.model.precision import requantize, weight_bits_of
from aras.model.weights import (
    LayerStats,
    centred_matrices,
    pair_costs,
    replay_rows,
    step_distributions,
    synthetic_stats,
)

#: Occupancy end of a resident write (never released).
_FOREVER = 1 << 62


@dataclass
class PeriodicReport:
    """Validity and steady-state cost per inference of a periodic schedule.

    Attributes
    ----------
    valid, violations
        Whether every rule holds; every violation (isolated rules R1-R8 for one inference,
        then R4p, R2p, R6p and R9).
    period_cycles, latency_cycles
        The period and the latency of one inference (first write to last compute end).
    throughput_inf_s
        Inferences per second in steady state (one per period).
    energy
        Energy per inference in steady state.
    write_pulses, level_steps, cells_written, row_writes, weights_written
        Per inference, streamed writes only.
    resident_rows
        APU rows held by resident layers (written once, before the stream).
    max_cell_writes
        Most writes of one APU row per period (real weights: most updates of one cell); per
        inference with one inference per period.
    inferences
        Inferences per period: energies, pulses and writes are per inference, the latency the
        longest of one inference in the frame, the throughput ``inferences / period``.
    unrolled
        Inferences unrolled to check R2p and R6p.
    """

    valid: bool
    violations: list[Violation]
    period_cycles: int = 0
    latency_cycles: int = 0
    period_s: float = 0.0
    latency_s: float = 0.0
    throughput_inf_s: float = 0.0
    energy: Energy = field(default_factory=Energy)
    level_steps: float = 0.0
    write_pulses: float = 0.0
    cells_written: float = 0.0
    row_writes: float = 0
    weights_written: float = 0
    resident_rows: int = 0
    resident_layers: int = 0
    max_cell_writes: int = 0
    realtime_inf_s: float = 0.0
    endurance_cycles: float = 0.0
    lifespan_realtime_years: float = 0.0
    lifespan_max_throughput_years: float = 0.0
    pulse_model: str = "statistical"
    unrolled: int = 0
    inferences: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (infinite lifespans as None)."""
        d = {k: v for k, v in self.__dict__.items() if k not in ("violations", "energy")}
        d["violations"] = [str(v) for v in self.violations]
        d["energy_j"] = self.energy.to_dict()
        for k, v in list(d.items()):
            if isinstance(v, float) and math.isinf(v):
                d[k] = None
        return d


class _Writes:
    """The writes of one inference resolved to steps, rows, tiles and occupancy ends."""

    def __init__(self, problem: Problem, ps: PeriodicSchedule):
        sched = ps.schedule
        w = sched.writes
        pos: dict[tuple[str, int], int] = {}
        for i, s in enumerate(sched.steps):
            pos.setdefault((s.layer, s.part), i)
        n = len(w)
        self.step = np.array([pos.get((a, int(b)), -1) for a, b in zip(
            w.layer.tolist(), w.part.tolist(), strict=True)], dtype=np.int64).reshape(n)
        hw = problem.hardware
        inside = (w.pe >= 0) & (w.pe < hw.pes) & (w.row >= 0) & (w.row < hw.apu_rows_per_pe)
        #: writes that name a computed part on an existing row (the others are R1/R7's)
        self.known = (self.step >= 0) & inside
        self.row = w.pe * hw.apu_rows_per_pe + w.row
        self.start = w.start.astype(np.int64)
        ends = np.array([s.end for s in sched.steps] or [0], dtype=np.int64)
        self.end = ends[np.maximum(self.step, 0)]
        res = set(ps.resident)
        self.resident = np.array([x in res for x in w.layer.tolist()], dtype=bool).reshape(n)


def _desc(problem: Problem, rowid: int) -> str:
    per = problem.hardware.apu_rows_per_pe
    return f"APU row (pe {rowid // per}, row {rowid % per})"


#: Unrolled writes beyond which an already invalid schedule is not checked further.
_MAX_UNROLLED = 20_000_000


def _unroll_count(ps: PeriodicSchedule, wr: _Writes, T: int) -> int:
    """Inferences to unroll: every pair of inferences whose occupancies or writes can meet,
    and one whole period in which every inference that writes is present."""
    P = ps.period
    sel = wr.known
    starts = [s.start for s in ps.schedule.steps]
    ends = [s.end for s in ps.schedule.steps]
    lo = min([*wr.start[sel].tolist(), *starts] or [0])
    hi = max([*(wr.end[sel] + 0).tolist(), *(wr.start[sel] + T).tolist(), *ends] or [0])
    return max(1, -(-(hi - lo) // P)) + 2


def validate_periodic(problem: Problem, ps: PeriodicSchedule, *, rules: Any = None
                      ) -> list[Violation]:
    """Every violation of a periodic schedule (isolated rules first, then the user's
    ``rules``, then R4p, R2p, R6p, R9).

    Raises
    ------
    InputError
        A resident name that is no weight-bearing layer of the network (or listed twice), or
        a liveness bank mode (not defined for periodic schedules).
    """
    problem = _repeated(problem, ps.inferences, None, None)[0]
    return _validate(problem, ps, list(_base_report(problem, ps, None, rules).violations))[0]


def _repeated(problem: Problem, m: int, stats: dict[str, LayerStats] | None, weights: Any
              ) -> tuple[Problem, Any, Any]:
    """The problem of ``m`` inferences per period (:func:`repeat_network`), with every copy of
    a layer given the layer's weight statistics and codes."""
    if m == 1:
        return problem, stats, weights
    rep = map_network(repeat_network(problem.network, m), problem.hardware)
    names = [o.name for o in rep.network.weighted_ops]
    if stats is not None:
        stats = {n: stats[base_layer(n)] for n in names}
    if weights is not None:
        weights = {n: weights[base_layer(n)] for n in names if base_layer(n) in weights}
    return rep, stats, weights


def _base_report(problem: Problem, ps: PeriodicSchedule, stats: Any, rules: Any = None) -> Any:
    """The isolated evaluation of one inference (its rules, the user's ``rules`` and the
    per-inference compute and Gbuffer access energies, which the steady state shares)."""
    check_resident(ps.resident, {o.name for o in problem.network.weighted_ops})
    if ps.schedule.extra.get("bank_mode", "per-step") != "per-step":
        raise InputError("bank_mode: periodic schedules use per-step banks only, got "
                         f"{ps.schedule.extra.get('bank_mode')!r}")
    return evaluate(problem, ps.schedule, stats=stats, rules=rules)


def _validate(problem: Problem, ps: PeriodicSchedule, out: list[Violation]
              ) -> tuple[list[Violation], int]:
    hw = problem.hardware
    T, P = hw.write_latency_cycles, ps.period
    steps = ps.schedule.steps
    add = out.append
    # ----- R4p: the computes of inference k end before those of inference k + 1 start -----
    if steps:
        first = min(s.start for s in steps)
        last = max(s.end for s in steps)
        if last - first > P:
            add(Violation("R4p", f"the computes of one inference span [{first}, {last}), "
                                 f"{last - first} cycles, longer than the period {P}: the next "
                                 f"inference's first compute at {first + P} overlaps them"))
    wr = _Writes(problem, ps)
    w = ps.schedule.writes
    # ----- R9: a resident layer's rows hold nothing else, ever -----
    res_rows = wr.row[wr.known & wr.resident]
    uniq, counts = np.unique(res_rows, return_counts=True)
    for r in uniq[counts > 1].tolist():
        names = sorted({f"{w.layer[j]}/{int(w.part[j])}" for j in
                        np.flatnonzero(wr.known & wr.resident & (wr.row == r)).tolist()})
        add(Violation("R9", f"{_desc(problem, r)} holds {', '.join(names)}: a resident tile "
                            "keeps its row for good, so the row takes no second resident write"))
    other = wr.known & ~wr.resident & np.isin(wr.row, uniq)
    for j in np.flatnonzero(other).tolist():
        add(Violation("R9", f"{_desc(problem, int(wr.row[j]))} is resident but "
                            f"{w.layer[j]}/{int(w.part[j])} is written on it at "
                            f"{int(wr.start[j])}"))
    # ----- unrolled: streamed writes every period, residents once (inference 0) -----
    K = _unroll_count(ps, wr, T)
    st = np.flatnonzero(wr.known & ~wr.resident)
    # ----- R2p: occupancies of one row disjoint across inferences -----
    too_long = st[(wr.end[st] - wr.start[st]) > P]
    for j in too_long.tolist():
        add(Violation("R2p", f"{w.layer[j]}/{int(w.part[j])}: write on "
                             f"{_desc(problem, int(wr.row[j]))} holds it over "
                             f"[{int(wr.start[j])}, {int(wr.end[j])}), "
                             f"{int(wr.end[j] - wr.start[j])} cycles, longer than the period "
                             f"{P}: the next inference rewrites the row before it is released"))
    if len(too_long) and K * len(st) > _MAX_UNROLLED:
        # A period far below the rows' occupancies (a valid one is at least T) would unroll
        # more inferences than memory holds; the schedule is already invalid, so say what
        # is not checked rather than run out of memory.
        add(Violation("R2p", f"the period {P} would unroll {K:,} inferences of {len(st):,} "
                             "streamed writes: clashes between different writes and R6p are "
                             "not checked further"))
        return out, K
    shift = (np.arange(K, dtype=np.int64) * P)[:, None]
    u_start = (wr.start[st][None, :] + shift).ravel()
    u_end = (wr.end[st][None, :] + shift).ravel()
    u_row = np.tile(wr.row[st], K)
    u_inf = np.repeat(np.arange(K), len(st))
    u_id = np.tile(st, K)
    order = np.lexsort((u_start, u_row))
    r_s, s_s, e_s = u_row[order], u_start[order], u_end[order]
    i_s, k_s = u_id[order], u_inf[order]
    clash = np.flatnonzero((r_s[1:] == r_s[:-1]) & (s_s[1:] < e_s[:-1])
                           & (k_s[1:] != k_s[:-1]))
    seen: set[tuple[int, int, int]] = set()
    for c in clash.tolist():
        a, b = int(i_s[c]), int(i_s[c + 1])
        d = int(k_s[c + 1] - k_s[c])
        if (a, b, d) in seen or wr.end[a] - wr.start[a] > P:
            continue
        seen.add((a, b, d))
        ka = int(k_s[c])
        add(Violation("R2p", f"{_desc(problem, int(r_s[c]))}: write of {w.layer[a]}/"
                             f"{int(w.part[a])} (inference {ka}) holds it over "
                             f"[{int(s_s[c])}, {int(e_s[c])}) but {w.layer[b]}/{int(w.part[b])}"
                             f" of inference {ka + d} is written at {int(s_s[c + 1])} "
                             f"(period {P}; starts modulo P {int(wr.start[a]) % P} and "
                             f"{int(wr.start[b]) % P})"))
    # ----- R6p: writes in flight, the prologue (residents) and the steady state -----
    rs = np.flatnonzero(wr.known & wr.resident)
    t_start = np.concatenate([u_start, wr.start[rs]])
    limit = hw.max_concurrent_row_writes
    if len(t_start):
        lo = int(t_start.min())
        horizon = lo + K * P  # before it, every inference that writes is unrolled
        t = np.concatenate([t_start, t_start + T])
        dlt = np.concatenate([np.ones(len(t_start), np.int64), -np.ones(len(t_start), np.int64)])
        o = np.lexsort((dlt, t))  # ends before starts at equal times
        level = np.cumsum(dlt[o])
        ts = t[o]
        over = (level > limit) & (ts < horizon)
        if over.any():
            edges = np.flatnonzero(np.diff(np.concatenate([[0], over.astype(np.int8), [0]])))
            once: set[tuple[int, int, int]] = set()  # the steady state repeats: once each
            for a_, b_ in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
                peak = int(level[a_:b_].max())
                t0 = int(ts[a_])
                t1 = int(ts[b_]) if b_ < len(ts) else t0
                if ((t0 - lo) % P, t1 - t0, peak) in once:
                    continue
                once.add(((t0 - lo) % P, t1 - t0, peak))
                add(Violation("R6p", f"over [{t0}, {t1}) (inference {(t0 - lo) // P}, "
                                     f"{(t0 - lo) % P} into its period) {peak * hw.apus_per_row} "
                                     f"APUs are written at once, the memory bandwidth allows "
                                     f"{hw.max_concurrent_apu_writes}"))
    return out, K


def _per(total: int, m: int) -> float:
    """A per-period count per inference (an integer when it divides)."""
    return total // m if total % m == 0 else total / m


def _copy_latency(ps: PeriodicSchedule) -> int:
    """The longest span of one inference of the frame (``r<i>:`` copies)."""
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for s in ps.schedule.steps:
        c = s.layer.partition(":")[0]
        first[c] = min(first.get(c, s.start), s.start)
        last[c] = max(last.get(c, s.end), s.end)
    w = ps.schedule.writes
    for name, st in zip(w.layer.tolist(), w.start.tolist(), strict=True):
        c = name.partition(":")[0]
        first[c] = min(first.get(c, st), st)
    return max((last[c] - first[c] for c in last), default=0)


def _tiles(problem: Problem, ps: PeriodicSchedule, wr: _Writes) -> np.ndarray:
    """Tile held by every write: explicit, or its rank within its part modulo apu_rows."""
    w = ps.schedule.writes
    n = len(w)
    order = np.argsort(wr.step, kind="stable")
    ws = wr.step[order]
    heads = np.r_[0, np.flatnonzero(np.diff(ws)) + 1] if n else np.zeros(0, np.int64)
    group_start = np.repeat(heads, np.diff(np.r_[heads, n]))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - group_start
    rows = np.array([problem.by_key[(s.layer, s.part)].apu_rows or 1
                     for s in ps.schedule.steps] or [1], dtype=np.int64)
    rank %= rows[np.maximum(wr.step, 0)]
    explicit = w.tile >= 0
    rank[explicit] = w.tile[explicit]
    return rank


def _cyclic_rows(wr: _Writes, sel: np.ndarray, P: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The writes ``sel`` in steady-state order: by row, then start modulo ``P``; with the
    first and last position of each row's run."""
    order = sel[np.lexsort((wr.start[sel] % P, wr.row[sel]))]
    r = wr.row[order]
    n = len(order)
    heads = np.flatnonzero(np.r_[True, r[1:] != r[:-1]]) if n else np.zeros(0, np.int64)
    last = np.r_[heads[1:], n] - 1 if n else np.zeros(0, np.int64)
    return order, heads, last


def _statistical(problem: Problem, ps: PeriodicSchedule, wr: _Writes, tile: np.ndarray,
                 used: np.ndarray, sel: np.ndarray, stats: dict[str, LayerStats]
                 ) -> tuple[float, float, int]:
    """Expected level steps, changed cells and the most writes of a row, per inference."""
    if not len(sel):
        return 0.0, 0.0, 0
    hw = problem.hardware
    steps = ps.schedule.steps
    wsteps = [i for i, s in enumerate(steps) if s.apu_rows]
    ids, pmfs = step_distributions([(steps[i].layer, steps[i].center) for i in wsteps], stats,
                                   1 << hw.weight_bits, weight_bits_of(problem))
    dist = np.zeros(len(steps), dtype=np.int64)
    dist[wsteps] = ids
    order, heads, last = _cyclic_rows(wr, sel, ps.period)
    n = len(order)
    prev = np.empty(n, dtype=np.int64)  # position of the write each one overwrites
    prev[1:] = np.arange(n - 1)
    prev[heads] = last
    s_of, t_of = wr.step[order], tile[order]
    same = (s_of == s_of[prev]) & (t_of == t_of[prev])
    d = dist[s_of]
    lev, chg = pair_costs(pmfs, hw, (d[prev], d))
    u = used[order].astype(float)
    lev = np.where(same, 0.0, lev * u)
    chg = np.where(same, 0.0, chg * u)
    return float(lev.sum()), float(chg.sum()), int((last + 1 - heads).max())


def _exact(problem: Problem, ps: PeriodicSchedule, wr: _Writes, tile: np.ndarray,
           sel: np.ndarray, weights: Any, fill: int) -> tuple[float, float, int]:
    """Level steps, changed cells and most updates of a cell per inference, from real codes:
    each row replays its streamed writes in cyclic order twice (reach the steady state, then
    count)."""
    hw = problem.hardware
    steps = ps.schedule.steps
    matrices = centred_matrices(problem.network,
                                [(s.layer, s.center) for s in steps if s.apu_rows],
                                weights, hw.weight_bits)
    bits = weight_bits_of(problem)
    for key, m in matrices.items():
        if key[0] in bits:  # a layer at fewer bits stores its requantised codes
            matrices[key] = requantize(m, bits[key[0]], hw.weight_bits)
    order, heads, last = _cyclic_rows(wr, sel, ps.period)

    def tiles(a: int, b: int) -> Iterator[tuple[np.ndarray, int, int]]:
        for j in order[a:b].tolist():
            s = steps[int(wr.step[j])]
            yield (matrices[(s.layer, s.center)],
                   problem.by_key[(s.layer, s.part)].tile_offset + int(tile[j]),
                   bits.get(s.layer, hw.weight_bits))

    level_steps, changed, most = replay_rows(
        (tiles(a, b) for a, b in zip(heads.tolist(), (last + 1).tolist(), strict=True)),
        hw, fill)
    return float(level_steps), float(changed), most


def evaluate_periodic(problem: Problem, ps: PeriodicSchedule, *,
                      stats: dict[str, LayerStats] | None = None, weights: Any = None,
                      zero_code: int | None = None, seed: int = 0,
                      endurance: float | None = None,
                      realtime_inf_s: float | None = None, rules: Any = None
                      ) -> PeriodicReport:
    """Validate a periodic schedule and cost one inference of its steady state.

    Parameters
    ----------
    problem
        The mapped network.
    ps
        The periodic schedule.
    stats, weights, zero_code, seed, endurance, realtime_inf_s
        As for :func:`aras.evaluation.evaluator.evaluate` (weights: the network's codes by
        default, unless ``stats`` are given).
    rules
        Rules of one's own (:class:`aras.evaluation.rules.Rule`), checked on the schedule
        of one inference (``ps.schedule``; with several inferences per period, of the
        repeated network's problem) after R1-R8, before the periodic rules.

    Returns
    -------
    PeriodicReport
        ``valid`` False with every violation when a rule is broken; costs only for valid
        schedules.

    Raises
    ------
    InputError
        An unknown or repeated resident layer, a liveness bank mode, missing real weights,
        ``rules[i]`` that is no rule, a problem mapped at a batch above 1.
    """
    if problem.batch > 1:
        raise InputError(f"batch: periodic schedules run one inference at a time; the problem "
                         f"is mapped at batch {problem.batch}")
    m = ps.inferences
    if weights is None and stats is None:
        weights = problem.network.codes
    if stats is None:
        stats = synthetic_stats([o.name for o in problem.network.weighted_ops], seed)
    has_conv = any(o.kind in ("conv2d", "conv_transpose2d") for o in problem.network.ops)
    problem, stats, weights = _repeated(problem, m, stats, weights)
    base = _base_report(problem, ps, stats, rules)
    violations, K = _validate(problem, ps, list(base.violations))
    rep = PeriodicReport(valid=not violations, violations=violations, unrolled=K)
    if violations:
        return rep
    hw = problem.hardware
    sched, P = ps.schedule, ps.period
    rep.period_cycles, rep.latency_cycles = P, int(sched.makespan)
    rep.period_s, rep.latency_s = hw.seconds(P), hw.seconds(sched.makespan)
    rep.throughput_inf_s = m / rep.period_s
    if m > 1:  # the longest of the copies, from its first write to its last compute end
        rep.latency_cycles = _copy_latency(ps)
        rep.latency_s = hw.seconds(rep.latency_cycles)
    wr = _Writes(problem, ps)
    tile = _tiles(problem, ps, wr)
    used = np.zeros(len(tile), dtype=np.int64)
    for i, s in enumerate(sched.steps):
        st = problem.by_key[(s.layer, s.part)]
        if st.weighted:
            j = np.flatnonzero(wr.step == i)
            g = problem.tiles(st)
            used[j] = (g.rows_used * g.cols_used)[tile[j]]
    sel = np.flatnonzero(~wr.resident)
    if weights is not None:
        fill = zero_code if zero_code is not None else 1 << (hw.weight_bits - 1)
        lev, cells, most = _exact(problem, ps, wr, tile, sel, weights, fill)
        rep.pulse_model = "weights"
    else:
        assert stats is not None
        lev, cells, most = _statistical(problem, ps, wr, tile, used, sel, stats)
    rep.inferences = m
    rep.level_steps, rep.cells_written, rep.max_cell_writes = lev / m, cells / m, most
    rep.write_pulses = lev * hw.pulses_per_level_step / m
    rep.row_writes = _per(len(sel), m)
    rep.weights_written = _per(int(used[sel].sum()), m)
    rep.resident_rows = int(wr.resident.sum())
    rep.resident_layers = len(ps.resident)
    e = rep.energy
    e.rram_write = rep.write_pulses * hw.write_energy_per_pulse_j
    e.compute, e.gbuffer_dynamic = base.energy.compute, base.energy.gbuffer_dynamic
    # Per-step banks, cyclically: a step's banks are powered from its start to the next
    # step's start, the last step's until the next inference's first step starts.
    leak = hw.bank_leakage_w()
    steps = sched.steps
    for k, s in enumerate(steps):
        nxt = steps[k + 1].start if k + 1 < len(steps) else steps[0].start + P
        power = sum(leak[b] for b in set(s.banks_in) | set(s.banks_out))
        e.gbuffer_static += power * hw.seconds(nxt - s.start)
    spill = sum(problem.by_key[(s.layer, s.part)].spill_bytes for s in steps)
    e.dram = (len(sel) * hw.apus_per_row * hw.bytes_per_apu_write + spill
              ) * hw.dram_energy_j_per_byte
    for comp in ("gbuffer_static", "gbuffer_dynamic", "dram", "compute"):
        setattr(e, comp, getattr(e, comp) / m)
    rep.endurance_cycles = endurance if endurance is not None else hw.cell_endurance_cycles
    rep.realtime_inf_s = (realtime_inf_s if realtime_inf_s is not None
                          else 30.0 if has_conv else 100.0)
    if most:  # `most` writes of a row per period of m inferences
        rep.lifespan_realtime_years = (rep.endurance_cycles / (most / m * rep.realtime_inf_s)
                                       / SECONDS_PER_YEAR)
        rep.lifespan_max_throughput_years = (rep.endurance_cycles / (most / rep.period_s)
                                             / SECONDS_PER_YEAR)
    else:
        rep.lifespan_realtime_years = rep.lifespan_max_throughput_years = math.inf
    return rep


__all__ = ["PeriodicReport", "validate_periodic", "evaluate_periodic"]
