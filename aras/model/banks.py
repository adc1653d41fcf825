"""Gbuffer bank choice for one compute step (MODEL.md R8, paper Eq. 1-2).

A step needs its input activations and its output activations on two
disjoint sets of banks, each large enough. Powered banks leak in proportion
to their size, so the cheapest choice powers the least capacity. This module
holds the fast smallest-fit heuristic the reference schedulers use; the exact
ILP of the paper lives in ``formulations/``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from aras.model.errors import InputError


def _cover(sizes: Sequence[int], free: list[int], need: int) -> list[int] | None:
    """Greedy cover of ``need`` bytes with banks from ``free`` (indices).

    Takes the smallest single free bank that fits; when none fits, takes the
    largest free bank and covers the rest the same way. ``free`` is consumed.
    """
    chosen: list[int] = []
    while need > 0:
        if not free:
            return None
        fitting = [i for i in free if sizes[i] >= need]
        pick = (min(fitting, key=lambda i: (sizes[i], i)) if fitting
                else max(free, key=lambda i: (sizes[i], -i)))
        free.remove(pick)
        chosen.append(pick)
        need -= sizes[pick]
    return sorted(chosen)


def smallest_fit(sizes: Sequence[int], in_bytes: int, out_bytes: int
                 ) -> tuple[list[int], list[int]] | None:
    """Disjoint input and output banks covering the bytes, by smallest fit.

    Both orders (output first, input first) are tried and the one powering
    less capacity is kept. When both fail although a cover exists, the exact
    :func:`min_capacity_cover` answers (for up to 20 banks).

    Returns
    -------
    (banks_in, banks_out) or None
        Bank indices, or None when no disjoint cover exists this way.
    """
    best: tuple[list[int], list[int]] | None = None
    best_cap = None
    for out_first in (True, False):
        free = list(range(len(sizes)))
        if out_first:
            bo = _cover(sizes, free, out_bytes)
            bi = _cover(sizes, free, in_bytes) if bo is not None else None
        else:
            bi = _cover(sizes, free, in_bytes)
            bo = _cover(sizes, free, out_bytes) if bi is not None else None
        if bi is None or bo is None:
            continue
        cap = sum(sizes[i] for i in bi + bo)
        if best_cap is None or cap < best_cap:
            best, best_cap = (bi, bo), cap
    if best is None and len(sizes) <= 20:
        return min_capacity_cover(sizes, in_bytes, out_bytes)
    return best


def min_capacity_cover(sizes: Sequence[int], in_bytes: int, out_bytes: int
                       ) -> tuple[list[int], list[int]] | None:
    """Exact disjoint input/output bank sets powering the least capacity (up to 20 banks).

    Leakage is linear in bank size, so this is also the least static power: the
    paper's Eq. 1-2 solved by enumeration. For every subset M of banks a
    subset-minimum DP finds the cheapest subset of M that covers the output;
    the answer is the best input set A plus the cheapest output set inside
    the complement of A.

    Returns
    -------
    (banks_in, banks_out) or None
        None when no disjoint cover exists.
    """
    n = len(sizes)
    if n > 20:
        raise ValueError("exact bank enumeration is limited to 20 banks")
    full = (1 << n) - 1
    masks = np.arange(1 << n, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n)) & 1
    cap = bits @ np.asarray(sizes, dtype=np.int64)
    inf = np.iinfo(np.int64).max // 4
    best = np.where(cap >= out_bytes, cap, inf)
    arg = masks.copy()
    for i in range(n):
        has = masks[(masks >> i) & 1 == 1]
        sub = has ^ (1 << i)
        better = best[sub] < best[has]
        best[has[better]] = best[sub[better]]
        arg[has[better]] = arg[sub[better]]
    ok = cap >= in_bytes
    total = np.where(ok, cap + best[full ^ masks], inf)
    a = int(np.argmin(total))
    if total[a] >= inf:
        return None
    b = int(arg[full ^ a])
    return ([i for i in range(n) if a >> i & 1], [i for i in range(n) if b >> i & 1])


@functools.lru_cache(maxsize=16)
def _subset_capacities(sizes: tuple[int, ...]) -> np.ndarray:
    """Bytes of every subset of the banks (bit i of the index: bank i), read-only."""
    n = len(sizes)
    masks = np.arange(1 << n, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n)) & 1
    cap = bits @ np.asarray(sizes, dtype=np.int64)
    cap.setflags(write=False)
    return cap


def cover_exists(sizes: Sequence[int], in_bytes: int, out_bytes: int) -> bool:
    """Whether some disjoint pair of bank sets covers the two byte counts.

    Exact (all subsets, vectorised) for up to 20 banks; beyond that the
    smallest-fit heuristic decides, which may say no where a cover exists.
    """
    n = len(sizes)
    if n > 20:
        return smallest_fit(sizes, in_bytes, out_bytes) is not None
    cap = _subset_capacities(tuple(sizes))
    total = int(cap[-1])
    return bool(np.any((cap >= in_bytes) & (total - cap >= out_bytes)))


def activation_passes(sizes: Sequence[int], in_bytes: int, out_bytes: int, what: str) -> int:
    """Fewest passes k such that 1/k of the input and output fit disjoint banks.

    A step whose activations exceed the Gbuffer is processed in k passes over
    slices of its windows (the paper: "partition the activations to process
    them in multiple iterations"); the other slices stay in main memory.

    Raises
    ------
    InputError
        With fewer than two banks (input and output need disjoint banks).
    """
    if len(sizes) < 2:
        raise InputError(f"{what}: input and output need disjoint Gbuffer banks, but the "
                         f"Gbuffer has {len(sizes)} bank")
    total = sum(sizes)

    def fits(k: int) -> bool:
        return cover_exists(sizes, -(-in_bytes // k), -(-out_bytes // k))

    # Fitting is monotone in k (the slices only shrink), so the fewest k is found by doubling
    # then bisection: the same answer as trying k, k + 1, ... but in O(log k) checks (a
    # tensor of 10^12 bytes needs some 10^5 passes).
    lo = max(1, -(-(in_bytes + out_bytes) // total))
    if fits(lo):
        return lo
    hi = lo * 2
    while not fits(hi):
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # fits(hi), not fits(lo)
        mid = (lo + hi) // 2
        if fits(mid):
            hi = mid
        else:
            lo = mid
    return hi
