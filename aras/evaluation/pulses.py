"""Write pulses of a valid schedule: the tile each write holds, the weights it writes, and
the level steps and changed cells of the statistical or the exact pulse model
(docs/model.md)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from aras.evaluation.rules import _Index, _problem_step
from aras.model.precision import requantize, weight_bits_of
from aras.model.weights import (
    LayerStats,
    centred_matrices,
    pair_costs,
    replay_rows,
    step_distributions,
)


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
    if len(table) and table.max() < 2**31:
        table = table.astype(np.int32)  # (half the memory per write; sums stay 64-bit)
    at = np.cumsum(offset)[idx.wstep]
    at += tile
    return table[at]


def _tile_index(idx: _Index) -> np.ndarray:
    """Tile held by every write: explicit, or its rank within its part modulo apu_rows."""
    w = idx.sched.writes
    n = len(w)
    rows = np.array([_problem_step(idx, i).apu_rows if i >= 0 else 1
                     for i in range(len(idx.sched.steps))] or [1], dtype=np.int64)
    rows = np.maximum(rows, 1)
    if len(np.unique(idx.run_step)) == len(idx.run_step):
        # Each part's writes form one run: the rank is the position in the run, modulo the
        # run's part's rows (the implicit tile).
        rank: np.ndarray = np.arange(n, dtype=np.int32 if n < 2**31 else np.int64)
        rank -= np.repeat(idx.run_heads, idx.run_count)
        rank %= np.repeat(rows[np.maximum(idx.run_step, 0)], idx.run_count)
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
        rank %= rows[np.maximum(idx.wstep, 0)]  # the implicit tile
    explicit = w.tile >= 0
    if explicit.any():
        rank[explicit] = w.tile[explicit]
    return rank


#: Distributions (weight-bearing layers) up to which the pulse model tabulates every pair
#: (8 MB); beyond, only the pairs that the writes meet.
_FULL_PAIR_TABLE = 1024


def _statistical_pulses(idx: _Index, tile: np.ndarray, used: np.ndarray,
                        stats: Mapping[str, LayerStats], row_steps: np.ndarray | None = None
                        ) -> tuple[float, float, int]:
    """Expected level steps, expected changed cells and the most writes of any row.

    ``used``: the weights each write's tile holds (:func:`_used_cells`). ``row_steps``, when
    given (one entry per physical row), receives each row's expected level steps.
    """
    problem, sched, hw = idx.problem, idx.sched, idx.problem.hardware
    w = sched.writes
    if not len(w):
        return 0.0, 0.0, 0
    wsteps = np.flatnonzero(np.bincount(idx.wstep, minlength=1)).tolist()
    ids, pmfs = step_distributions([(sched.steps[i].layer, sched.steps[i].center)
                                    for i in wsteps], stats, 1 << hw.weight_bits,
                                   weight_bits_of(problem))
    dist_of_step = np.full(max(len(sched.steps), 1), -1, dtype=np.int32)
    dist_of_step[wsteps] = ids
    order, r = idx.row_order()
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
    x = np.empty(0)
    for table in (steps_k, changed_k):
        if x.dtype != table.dtype or len(x) != n:  # one buffer for both (the same dtype)
            x = np.empty(n, dtype=table.dtype)
        np.take(table, pair, out=x)
        x *= used
        x[same] = 0.0
        totals.append(float(x.sum()))
        if row_steps is not None and len(totals) == 1:
            row_steps += np.bincount(r, weights=x, minlength=len(row_steps))
    del problem
    return totals[0], totals[1], int((last + 1 - heads).max())


def _exact_pulses(idx: _Index, tile: np.ndarray, weights: Mapping[str, np.ndarray],
                  fill: int, row_steps: np.ndarray | None = None) -> tuple[float, float, int]:
    """Level steps, changed cells and the most updates of any cell, from real weight codes.

    Rows are independent, so each physical row replays its writes in time
    order twice: once to reach the steady state left by the previous
    inference, once to count. ``row_steps``, when given (one entry per physical row),
    receives each row's level steps.
    """
    problem, sched, hw = idx.problem, idx.sched, idx.problem.hardware
    w = sched.writes
    matrices = centred_matrices(problem.network,
                                [(s.layer, s.center) for s in sched.steps if s.apu_rows],
                                weights, hw.weight_bits)
    bits = weight_bits_of(problem)
    for key, m in matrices.items():
        if key[0] in bits:  # a layer at fewer bits stores its requantised codes
            matrices[key] = requantize(m, bits[key[0]], hw.weight_bits)
    rowid = w.pe * hw.apu_rows_per_pe + w.row
    order = np.lexsort((w.start, rowid))
    bounds_ = np.r_[0, np.flatnonzero(np.diff(rowid[order])) + 1, len(order)]
    def tiles(a: int, b: int) -> Iterator[tuple[np.ndarray, int, int]]:
        for j in order[a:b].tolist():
            s = sched.steps[int(idx.wstep[j])]
            yield (matrices[(s.layer, s.center)],
                   problem.by_key[(s.layer, s.part)].tile_offset + int(tile[j]),
                   bits.get(s.layer, hw.weight_bits))

    per_row: list[int] | None = [] if row_steps is not None else None
    level_steps, changed, max_updates = replay_rows(
        (tiles(a, b) for a, b in zip(bounds_[:-1].tolist(), bounds_[1:].tolist(), strict=True)),
        hw, fill, per_row)
    if row_steps is not None and len(order):
        row_steps[rowid[order][bounds_[:-1]]] += per_row
    return float(level_steps), float(changed), max_updates
