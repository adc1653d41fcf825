"""Order prefixes (ideals) of a step DAG: the states of the window bound's DP, the slot DP and
the periodic window bound (docs/bounds.md, "Window bound")."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aras.evaluation.relaxed_bounds import _members


@dataclass
class _Lattice:
    """The order prefixes (ideals) of a step DAG, found breadth-first: every subset of an
    ideal comes before it, so a sum over ideals builds from ``parent`` and ``added``."""

    masks: list[int]                 # each ideal, as a bitmask over the steps
    ids: dict[int, int]              # an ideal's position from its mask
    ready: list[list[int]]           # per ideal, the steps that may come next
    ext: list[list[tuple[int, int]]]  # per ideal, (step added, ideal reached) for each
    parent: list[int]                # the ideal each was first reached from
    added: list[int]                 # and the step added to it (-1 for the empty one)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Per ideal, the sum over its steps of ``values`` (one entry or row per step)."""
        out = np.zeros((len(self.masks),) + values.shape[1:])
        for k in range(1, len(self.masks)):
            out[k] = out[self.parent[k]] + values[self.added[k]]
        return out


def _lattice(preds: list[int], cap: int) -> _Lattice | None:
    """The ideals of the DAG whose steps have direct predecessors ``preds`` (bitmasks), or
    None when there are more than ``cap``."""
    m = len(preds)
    succs: list[list[int]] = [[] for _ in range(m)]
    for w in range(m):
        for p in _members(preds[w]):
            succs[p].append(w)
    out = _Lattice([0], {0: 0}, [[v for v in range(m) if preds[v] == 0]], [[]], [0], [-1])
    frontier = [0]
    while frontier:
        nxt = []
        for prefix in frontier:
            k = out.ids[prefix]
            for v in out.ready[k]:
                J = prefix | (1 << v)
                if J not in out.ids:
                    if len(out.masks) >= cap:
                        return None
                    out.ids[J] = len(out.masks)
                    out.masks.append(J)
                    out.ready.append([u for u in out.ready[k] if u != v]
                                     + [w for w in succs[v] if preds[w] & ~J == 0])
                    out.ext.append([])
                    out.parent.append(k)
                    out.added.append(v)
                    nxt.append(J)
                out.ext[k].append((v, out.ids[J]))
        frontier = nxt
    return out


def _closures(preds: list[int]) -> list[int]:
    """Each step with its ancestors, as a bitmask (an ideal), for steps in a topological
    order with direct predecessors ``preds`` (bitmasks)."""
    closed: list[int] = []
    for v, mask in enumerate(preds):
        c = 1 << v
        while mask:
            low = mask & -mask
            c |= closed[low.bit_length() - 1]
            mask ^= low
        closed.append(c)
    return closed
