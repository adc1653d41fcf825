"""The slot DP (docs/bounds.md, "Slot DP"): the write slots along every compute order, over
(order prefix, rows so far), a lower bound on the steps' ends and the makespan where the
memory writes fewer rows at once than the accelerator holds."""

from __future__ import annotations

import numpy as np

from aras.evaluation.ideals import _closures, _Lattice
from aras.evaluation.relaxed_bounds import _Relaxed

#: Cells (DP transitions x replications x row counts) of the slot DP; beyond, its row counts
#: are capped lower (a valid relaxation), and below one round of write slots it is skipped.
_SLOT_CELLS = 30_000_000


def _slot_dp(rx: _Relaxed, keep: list[int], preds: list[int], lattice: _Lattice, T: int,
             S: int, top: float) -> tuple[np.ndarray, float] | None:
    """The slot DP (docs/bounds.md, "Slot DP"): lower bounds on the ends of the kept steps
    and on the makespan from the write slots alone, every order and replication.

    Along any compute order, a step that starts at ``s`` follows the writes of every row of
    its own and of every step before it, all ended by ``s``; at most ``floor(s / T) S``
    writes end by then (R6), so ``s >= ceil(b / S) T`` with ``b`` the rows of those steps at
    their replications. The DP over (order prefix, rows so far ``b``) keeps the least end of
    the prefix's last compute, adding one step (at each replication) at a time:
    ``end' = max(end, ceil(b' / S) T) + c(r)``. Rows are counted up to ``B`` (past it, as
    ``B``: fewer rows only relax the test), ``B`` a few rounds beyond ``top`` (a lower bound
    on the makespan) and within :data:`_SLOT_CELLS`. A step's end is at least the DP's value
    on its ancestors and itself (a schedule restricted to them ends with it), the makespan at
    least its value on every step. None when not even one round of rows fits the cap.
    """
    m = len(keep)
    opts: list[tuple[np.ndarray, np.ndarray]] = []
    for i in keep:  # per step, the replications of least compute for their rows
        rho, c = rx.options[i]
        rows = np.floor(rho + 1e-9).astype(np.int64)
        by = np.lexsort((c, rows))
        least = np.minimum.accumulate(c[by])
        new = np.ones(len(by), dtype=bool)
        new[1:] = least[1:] < least[:-1]
        opts.append((rows[by][new], c[by][new]))
    work = sum(len(opts[v][0]) for ext in lattice.ext for v, _ in ext)
    rounds = int(np.ceil(max(top, float(T)) / T)) + 2
    most = sum(int(o[0][-1]) for o in opts)  # every step at its most rows: nothing saturates
    B = min(rounds * S, most, _SLOT_CELLS // max(1, work) - 1)
    if min(S, most) > B:
        return None
    row = np.arange(B + 1)
    ready = np.ceil(row / S - 1e-9) * T  # the earliest start after b rows of writes
    dp = np.full((len(lattice.masks), B + 1), np.inf)
    dp[0, 0] = 0.0
    for k in range(len(lattice.masks)):  # a prefix's parents come before it
        cur = dp[k]
        if not np.isfinite(cur).any():
            continue
        for v, y in lattice.ext[k]:
            out = dp[y]
            for w, c in zip(*opts[v], strict=True):
                w = int(min(w, B))
                # from b rows to b + w (at most B): start after both the previous compute and
                # the writes of b + w rows
                val = np.maximum(cur[:B + 1 - w], ready[w:]) + c
                np.minimum(out[w:], val, out=out[w:])
                if w:
                    tail = (np.maximum(cur[B + 1 - w:], ready[B]) + c).min()
                    out[B] = min(out[B], tail)
    best = dp.min(axis=1)
    found = np.zeros(m)
    for v, closed in enumerate(_closures(preds)):
        at = lattice.ids.get(closed)
        if at is not None and np.isfinite(best[at]):
            found[v] = best[at]
    return found, float(best[-1]) if np.isfinite(best[-1]) else 0.0
