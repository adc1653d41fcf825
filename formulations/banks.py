r"""Gbuffer bank selection of one compute step as an ILP (paper Eq. 1-2, MODEL.md R8).

Banks :math:`b \in B` have byte sizes :math:`s_b` and static power :math:`\ell_b` when
powered. A compute step needs :math:`I` input bytes and :math:`O` output bytes resident at
once, on two disjoint sets of banks. With binaries :math:`x^{in}_b` (bank ``b`` holds input)
and :math:`x^{out}_b` (bank ``b`` holds output)::

    minimise    sum_b  l_b * (x_in[b] + x_out[b])                      (static power)
    subject to  x_in[b] + x_out[b] <= 1                  for all b     (disjoint sets)
                sum_b  s_b * x_in[b]  >= I                             (input fits)
                sum_b  s_b * x_out[b] >= O                             (output fits)
                x_in[b], x_out[b] in {0, 1}

Numerics. Capacities are divided by :math:`g = \gcd_b s_b` and the demands rounded up,
``ceil(I / g)`` and ``ceil(O / g)``, which keeps every capacity row integral and exact
(a sum of multiples of ``g`` reaches ``I`` iff it reaches ``g * ceil(I / g)``); the
paper's 1 KB ... 2 MB banks become 1 ... 2048. The objective is divided by the smallest
positive leakage, so costs are at least 1 (the paper's linear leakage gives 1 ... 2048).

Ties. Banks of equal size and leakage are interchangeable; for each run of such banks,
taken in index order, the constraints::

    x_in[j] >= x_in[k],   x_in[j] + x_out[j] >= x_in[k] + x_out[k]    (j before k)

make the input take the first of them, the output the next ones and leave the rest off,
which removes the symmetry without cutting off any optimum. When the scaled costs are
integers (the linear-leakage case), a tie-breaking term worth less than half a unit of
cost is added: among equally cheap choices it prefers the fewest powered banks, then
outputs on lower-numbered banks. HiGHS runs single-threaded with zero relative gap, so
the answer is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache, reduce

import pyomo.environ as pyo

from aras.model.errors import InputError
from aras.model.hardware import Hardware
from formulations.solvers import Session

__all__ = ["build", "extract", "select_banks", "solve"]

#: Largest scaled cost for which the integral tie-breaking term is used.
_MAX_INTEGRAL_COST = 1_000_000
#: Relative tolerance for recognising a scaled cost as an integer.
_INTEGRAL_RTOL = 1e-9


def _scaled_costs(leakage: Sequence[float]) -> tuple[list[float], bool]:
    """Leakage divided by its smallest positive value, and whether the result is integral.

    Integral costs are returned rounded (they differ from the exact ratios by float noise
    only), so that the objective takes integer values and ties can be broken safely.
    """
    positive = [v for v in leakage if v > 0]
    scale = min(positive) if positive else 1.0
    costs = [v / scale for v in leakage]
    integral = all(
        c <= _MAX_INTEGRAL_COST and abs(c - round(c)) <= _INTEGRAL_RTOL * max(1.0, c)
        for c in costs
    )
    if integral:
        costs = [float(round(c)) for c in costs]
    return costs, integral


def build(sizes: Sequence[int], leakage: Sequence[float], in_bytes: int,
          out_bytes: int) -> pyo.ConcreteModel:
    """The bank-selection ILP of one compute step.

    Parameters
    ----------
    sizes
        Byte size of every bank (positive integers).
    leakage
        Static power of every bank when powered, in watts (non-negative).
    in_bytes, out_bytes
        Input and output bytes that must be resident at once.

    Returns
    -------
    pyomo.environ.ConcreteModel
        Binaries ``x_in[b]``, ``x_out[b]``; constraints ``disjoint[b]``, ``cover_in``,
        ``cover_out`` and ``symmetry_in`` / ``symmetry_on`` (identical banks);
        objective ``power`` (scaled leakage plus a tie-break below half a cost unit).
        ``model.leakage`` keeps the unscaled leakage and ``model.sizes`` the sizes.

    Raises
    ------
    ValueError
        When the lengths differ, a size is not a positive integer or a leakage is
        negative or not finite.
    """
    n = len(sizes)
    if len(leakage) != n:
        raise ValueError(f"sizes has {n} banks but leakage has {len(leakage)}")
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or int(s) != s or s <= 0:
            raise ValueError(f"sizes[{i}]: must be a positive integer, got {s!r}")
    for i, v in enumerate(leakage):
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"leakage[{i}]: must be finite and >= 0, got {v!r}")
    sz = [int(s) for s in sizes]
    g = reduce(math.gcd, sz) if sz else 1
    cap = [s // g for s in sz]
    need_in = max(0, -(-int(in_bytes) // g))
    need_out = max(0, -(-int(out_bytes) // g))
    costs, integral = _scaled_costs(leakage)

    m = pyo.ConcreteModel(name="gbuffer_banks")
    m.sizes = tuple(sz)
    m.leakage = tuple(float(v) for v in leakage)
    m.B = pyo.RangeSet(0, n - 1)
    m.x_in = pyo.Var(m.B, domain=pyo.Binary)
    m.x_out = pyo.Var(m.B, domain=pyo.Binary)
    m.disjoint = pyo.Constraint(m.B, rule=lambda m, b: m.x_in[b] + m.x_out[b] <= 1)
    m.cover_in = pyo.Constraint(expr=sum(cap[b] * m.x_in[b] for b in range(n)) >= need_in)
    m.cover_out = pyo.Constraint(expr=sum(cap[b] * m.x_out[b] for b in range(n)) >= need_out)

    # Symmetry breaking between consecutive members of each class of identical banks.
    pairs: list[tuple[int, int]] = []
    last: dict[tuple[int, float], int] = {}
    for b in range(n):
        key = (sz[b], float(leakage[b]))
        if key in last:
            pairs.append((last[key], b))
        last[key] = b
    m.P = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.symmetry_in = pyo.Constraint(m.P, rule=lambda m, j, k: m.x_in[j] >= m.x_in[k])
    m.symmetry_on = pyo.Constraint(
        m.P, rule=lambda m, j, k: m.x_in[j] + m.x_out[j] >= m.x_in[k] + m.x_out[k])

    power = sum(costs[b] * (m.x_in[b] + m.x_out[b]) for b in range(n))
    if integral and n:
        # Fewest banks first (weight k > the largest index term), then low output indices;
        # the whole term stays below 1/2, i.e. under the smallest cost difference of 1.
        k = n * (n + 1) // 2 + 1
        delta = 1.0 / (4.0 * n * k)
        power = power + delta * sum(k * (m.x_in[b] + m.x_out[b]) + (b + 1) * m.x_out[b]
                                    for b in range(n))
    m.power = pyo.Objective(expr=power, sense=pyo.minimize)
    m.tie_break_step = delta if integral and n else 0.0
    return m


def extract(model: pyo.ConcreteModel) -> tuple[list[int], list[int]]:
    """Input and output bank indices (each sorted) of a solved :func:`build` model."""
    banks_in = sorted(b for b in model.B if (pyo.value(model.x_in[b]) or 0.0) > 0.5)
    banks_out = sorted(b for b in model.B if (pyo.value(model.x_out[b]) or 0.0) > 0.5)
    return banks_in, banks_out


def solve(sizes: Sequence[int], leakage: Sequence[float], in_bytes: int, out_bytes: int,
          *, time_limit: float = 10.0, solver: str = "highs"
          ) -> tuple[list[int], list[int]] | None:
    """Cheapest disjoint input and output banks, by HiGHS (or ``solver``) on :func:`build`.

    Parameters
    ----------
    sizes, leakage, in_bytes, out_bytes
        As for :func:`build`.
    time_limit
        Seconds the solver may spend.
    solver
        A key of :data:`formulations.solvers.SOLVERS`.

    Returns
    -------
    (banks_in, banks_out) or None
        Sorted bank indices, or None when no disjoint cover exists.

    Raises
    ------
    RuntimeError
        When the solver stops without proving optimality or infeasibility (time limit,
        error), with the solver's message.
    """
    model = build(sizes, leakage, in_bytes, out_bytes)
    if sum(sizes) < max(in_bytes, 0) + max(out_bytes, 0):
        return None  # cheap, certain infeasibility: no need to call the solver
    # The tie-break term makes distinct choices differ by at least tie_break_step in the
    # objective; the absolute gap stays well below it (and below any cost difference).
    abs_gap = model.tie_break_step / 4 if model.tie_break_step else 1e-9
    out = Session(model, solver).solve(time_limit=time_limit, threads=1, rel_gap=0.0,
                                       abs_gap=abs_gap)
    if out.status == "infeasible":
        return None
    if out.status != "optimal":
        raise RuntimeError(f"the bank ILP was not solved to optimality: {out.describe()}")
    return extract(model)


@lru_cache(maxsize=4096)
def _select_cached(sizes: tuple[int, ...], leakage: tuple[float, ...], in_bytes: int,
                   out_bytes: int) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Memoised :func:`solve` (immutable result so cached values cannot be altered)."""
    got = solve(sizes, leakage, in_bytes, out_bytes)
    return None if got is None else (tuple(got[0]), tuple(got[1]))


def select_banks(hw: Hardware, in_bytes: int, out_bytes: int) -> tuple[list[int], list[int]]:
    """Least-static-power Gbuffer banks of a step on ``hw`` (exact; memoised per sizes).

    Parameters
    ----------
    hw
        Hardware whose ``gbuffer_banks`` and ``bank_leakage_w()`` are used.
    in_bytes, out_bytes
        Bytes resident at once (``Step.in_need``, ``Step.out_need``).

    Returns
    -------
    (banks_in, banks_out)
        Sorted, disjoint bank indices.

    Raises
    ------
    InputError
        One line, when no disjoint pair of bank sets holds the bytes.
    """
    got = _select_cached(tuple(hw.gbuffer_banks), tuple(hw.bank_leakage_w()),
                         int(in_bytes), int(out_bytes))
    if got is None:
        raise InputError(
            f"hardware '{hw.name}': {in_bytes} input + {out_bytes} output bytes do not fit "
            f"disjoint Gbuffer banks ({len(hw.gbuffer_banks)} banks, {hw.gbuffer_bytes} bytes)"
        )
    return list(got[0]), list(got[1])
