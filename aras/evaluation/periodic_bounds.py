"""Lower bounds on the period of any valid periodic schedule (docs/bounds.md, "Periodic
bound"), at any replication and any choice of resident layers.

- ``compute``: the computes of one inference run one at a time and those of consecutive
  inferences do not overlap (R4, R4p), so ``P >= sum of the shortest computes``.
- ``area``: in one period every APU row is held by at most one tile at a time (R2p, R9). A
  streamed part of ``a`` rows at replication ``r`` holds ``r a`` rows for at least
  ``T + ceil(w / r) L`` cycles each per period, at least ``a (T + w L)`` row-cycles in all; a
  resident one holds ``r a >= a`` rows for the whole period. So ``N P >= sum over parts of
  a min(T + w L, P)``, and ``P`` is at least the smallest positive root of that inequality.
- ``rows``: a streamed row's holds are disjoint modulo ``P`` and each lasts at least
  ``h = T + `` the shortest compute of any part, so a row takes at most ``floor(P / h)``
  writes per period. With ``R`` rows resident, at least ``W - R`` writes (``W``: the rows of
  all parts at replication 1) go to the other ``N - R`` rows every period:
  ``(N - R) floor(P / h) >= W - R``, which for ``W > N`` holds for no ``R`` unless
  ``floor(P / h) >= ceil(W / N)`` (``R (q - 1) <= N q - W`` needs ``N q >= W``). So
  ``P >= ceil(W / N) h``: the rounding of the write bound stays with one inference per period.
- ``bandwidth``: at most ``N`` rows are resident, so at least ``W - N`` rows are written
  every period, ``T`` cycles each, at most ``S`` at a time: ``P >= (W - N) T / S``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from aras.model.mapping import Problem, ceil_div


@dataclass(frozen=True)
class PeriodicBounds:
    """Period bounds in cycles; ``lower`` is the strongest.

    ``write_rounds`` is the unrounded write bound ``W T / N`` without resident layers, the
    figure a periodic schedule approaches on write-bound networks; it is not a bound when
    layers may be resident (they take writes away), so it is reported beside the others.
    """

    compute: int
    area: int
    rows: int
    bandwidth: int
    write_rounds: float

    @property
    def lower(self) -> int:
        """The strongest certified bound."""
        return max(self.compute, self.area, self.rows, self.bandwidth)

    def to_dict(self) -> dict[str, float]:
        """Every bound and ``lower``."""
        d: dict[str, float] = asdict(self)
        d["lower"] = self.lower
        return d


def area_period(demands: list[tuple[int, int]], rows: int) -> int:
    """The smallest integer ``P >= 0`` with ``rows * P >= sum of a * min(c, P)``.

    Parameters
    ----------
    demands
        ``(a, c)`` per part: rows and the cycles each row is held per period when streamed.
    rows
        APU rows of the accelerator.

    Returns
    -------
    int
        0 when every part fits the rows at once (all may be resident).
    """
    total = sum(a for a, _ in demands)
    if total <= rows:
        return 0
    # g(P) = rows P - sum a min(c, P) is convex, g(0) = 0 and g'(0) < 0: one positive root.
    # On a segment where the parts with c <= P are `done`, g(P) = (rows - rest) P - held.
    items = sorted(demands, key=lambda x: x[1])
    held = 0  # sum of a c over the parts with c below the segment
    rest = total  # rows of the parts with c above it
    lo = 0
    for a, c in items:
        denom = rows - rest
        if denom > 0:
            p = ceil_div(held, denom)
            if p <= c:
                return max(p, lo)
        held += a * c
        rest -= a
        lo = c
    return lo if held <= rows * lo else ceil_div(held, rows)


def periodic_bounds(problem: Problem) -> PeriodicBounds:
    """Every period bound of a mapped network (see the module docstring)."""
    hw = problem.hardware
    T, N, S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
    compute = sum(problem.min_compute_cycles(s) for s in problem.steps)
    demands = [(s.apu_rows, T + s.windows * s.window_cycles) for s in problem.weighted_steps]
    area = area_period(demands, N)
    W = problem.weight_rows
    bandwidth = ceil_div(max(W - N, 0) * T, S) if S < N else 0
    rows = 0
    if W > N:
        h = T + min(problem.min_compute_cycles(s) for s in problem.weighted_steps)
        rows = ceil_div(W, N) * h
    return PeriodicBounds(compute=compute, area=area, rows=rows, bandwidth=bandwidth,
                          write_rounds=W * T / N)


__all__ = ["PeriodicBounds", "periodic_bounds", "area_period"]
