r"""APU-row binding: which free physical row each tile is written to, minimising pulses.

The timing of a schedule fixes, at every write time ``t``, the set of rows that
are free (their previous part has computed) and the tiles to write. Which
free row takes which tile decides the write pulses: a cell costs
``|old level - new level|``. With the statistical pulse model of
:mod:`aras.model.weights`, the expected cost of writing tile ``j`` over a row whose
content came from distribution ``c`` is ``used_j * S[c, d_j]`` (``S`` the
expected level steps per weight between two distributions), and 0 when the
row already holds exactly tile ``j`` (the same part and tile).

Per write time, rows that hold exactly a tile to be written take it (cost 0);
the rest is a transportation problem between row classes (by content
distribution) and tile groups (by distribution and used area):

.. math::

    \min \sum_{c,g} used_g\, S[c, d_g]\, x_{cg} \quad
    \text{s.t.}\ \sum_g x_{cg} \le supply_c,\ \ \sum_c x_{cg} = demand_g,\ \ x \ge 0

whose LP optimum is integral. Write times are handled in time order, twice:
the second pass starts from the rows' contents at the end of the first, the
steady state of repeated inferences.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from aras.model.mapping import Problem
from aras.model.schedule import Schedule, Writes


def build(supply: dict[int, int], demand: dict[int, int], cost: dict[tuple[int, int], float]
          ) -> pyo.ConcreteModel:
    """Transportation model between row classes (supply) and tile groups (demand)."""
    m = pyo.ConcreteModel(name="binding")
    m.C = pyo.Set(initialize=sorted(supply))
    m.G = pyo.Set(initialize=sorted(demand))
    m.x = pyo.Var(m.C, m.G, domain=pyo.NonNegativeReals)
    m.supply = pyo.Constraint(m.C, rule=lambda m, c: sum(m.x[c, g] for g in m.G) <= supply[c])
    m.demand = pyo.Constraint(m.G, rule=lambda m, g: sum(m.x[c, g] for c in m.C) == demand[g])
    scale = max([abs(v) for v in cost.values()] + [1.0])
    m.cost = pyo.Objective(expr=sum(cost[c, g] / scale * m.x[c, g] for c in m.C for g in m.G))
    return m


def extract(m: pyo.ConcreteModel) -> dict[tuple[int, int], int]:
    """Rows of each class given to each tile group."""
    return {(c, g): int(round(pyo.value(m.x[c, g]))) for c in m.C for g in m.G
            if pyo.value(m.x[c, g]) > 0.5}


def _solve(m: pyo.ConcreteModel) -> None:
    from formulations.solvers import Session

    out = Session(m).solve(time_limit=float("inf"), threads=1)
    if not out.has_solution:  # a transportation LP with supply >= demand always has one
        raise RuntimeError(f"the row-binding LP was not solved: {out.describe()}")


def bind(problem: Problem, sched: Schedule, dist_of_step: dict[int, int],
         pair_steps: np.ndarray) -> Schedule:
    """A copy of ``sched`` with every write re-bound to minimise expected pulses.

    Parameters
    ----------
    dist_of_step
        Distribution id of every weight-bearing schedule step (index in ``sched.steps``).
    pair_steps
        Expected level steps per weight, ``pair_steps[a, b]`` for b over a.
    """
    from aras.evaluation.evaluator import _Index, _tile_index

    hw = problem.hardware
    idx = _Index(problem, sched)
    tile = _tile_index(idx)
    w = sched.writes
    n_rows = hw.physical_apu_rows
    end_of = idx.end[idx.wstep]
    used = np.zeros(len(w), dtype=np.int64)
    for i in np.unique(idx.wstep).tolist():
        grid = problem.tiles(problem.by_key[(sched.steps[i].layer, sched.steps[i].part)])
        sel = idx.wstep == i
        used[sel] = (grid.rows_used * grid.cols_used)[tile[sel]]
    order = np.argsort(w.start, kind="stable")
    # Initial contents: the last write on each row in the given schedule (steady state).
    content = np.full(n_rows, -1, dtype=np.int64)       # write id whose tile the row holds
    rowid = w.pe * hw.apu_rows_per_pe + w.row
    last = np.lexsort((w.start, rowid))
    content[rowid[last]] = last
    new_row = rowid.copy()
    for _ in range(2):
        busy_until = np.zeros(n_rows, dtype=np.int64)
        busy_until[list(hw.failed_row_ids)] = np.iinfo(np.int64).max  # never free
        starts = w.start[order]
        groups = np.split(order, np.flatnonzero(np.diff(starts)) + 1)
        for g in groups:
            t = int(w.start[g[0]])
            free = np.flatnonzero(busy_until <= t).tolist()
            key = {(int(idx.wstep[j]), int(tile[j])) for j in g}
            holds: dict[tuple[int, int], list[int]] = defaultdict(list)
            for r in free:
                c = content[r]
                if c >= 0 and (int(idx.wstep[c]), int(tile[c])) in key:
                    holds[(int(idx.wstep[c]), int(tile[c]))].append(r)
            taken: set[int] = set()
            rest = []
            for j in g.tolist():
                k = (int(idx.wstep[j]), int(tile[j]))
                if holds.get(k):
                    r = holds[k].pop()
                    new_row[j] = r
                    taken.add(r)
                else:
                    rest.append(j)
            avail = [r for r in free if r not in taken]
            if rest:
                cls = defaultdict(list)
                for r in avail:
                    c = content[r]
                    cls[-1 if c < 0 else dist_of_step[int(idx.wstep[c])]].append(r)
                grp: dict[int, list[int]] = defaultdict(list)
                gkey: dict[tuple[int, int], int] = {}
                for j in rest:
                    k2 = (dist_of_step[int(idx.wstep[j])], int(used[j]))
                    gid = gkey.setdefault(k2, len(gkey))
                    grp[gid].append(j)
                inv = {v: k for k, v in gkey.items()}
                cost = {(c, gid): (0.0 if c < 0 else float(pair_steps[c, inv[gid][0]]))
                        * inv[gid][1] for c in cls for gid in grp}
                m = build({c: len(v) for c, v in cls.items()},
                          {gid: len(v) for gid, v in grp.items()}, cost)
                _solve(m)
                for (c, gid), x in sorted(extract(m).items()):
                    for _n in range(x):
                        j = grp[gid].pop()
                        new_row[j] = cls[c].pop()
            for j in g.tolist():
                r = int(new_row[j])
                busy_until[r] = int(end_of[j])
                content[r] = j
    out = Schedule(sched.network, sched.method, sched.hardware, sched.steps,
                   Writes(layer=w.layer.copy(), part=w.part.copy(),
                          pe=new_row // hw.apu_rows_per_pe, row=new_row % hw.apu_rows_per_pe,
                          start=w.start.copy(), tile=tile.copy()),
                   sched.makespan, dict(sched.extra))
    return out
