"""The bank-selection ILP (formulations/banks.py) against exhaustive enumeration.

For every compute step of the five built-in networks, on the ARAS and the baseline
hardware, the ILP's powered leakage must equal the exhaustive optimum. On the 10 ARAS
banks the reference is a genuine brute force over all 3^10 assignments of each bank to
input / output / off; on the 15 identical baseline banks (3^15 is too many) it is the
closed form ceil(I / 256K) + ceil(O / 256K) banks, cross-checked with the exact
:func:`aras.model.banks.min_capacity_cover`. Run with ``-s`` to see how often the greedy
smallest fit is worse.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pytest

from aras.frontends.zoo import BUILTIN
from aras.model.banks import min_capacity_cover, smallest_fit
from aras.model.errors import InputError
from aras.model.hardware import Hardware, aras_hardware, baseline_hardware
from aras.model.mapping import map_network
from formulations import banks as ilp

HARDWARE = {"aras": aras_hardware, "baseline": baseline_hardware}
REL = 1e-9


def _assignments(n: int) -> np.ndarray:
    """Every assignment of n banks to off (0), input (1) or output (2): shape (3^n, n)."""
    return np.array(list(itertools.product((0, 1, 2), repeat=n)), dtype=np.int8)


class BruteForce:
    """3-way exhaustive optimum of the bank choice, vectorised over all assignments."""

    def __init__(self, sizes: tuple[int, ...], leakage: list[float]):
        a = _assignments(len(sizes))
        s = np.asarray(sizes, dtype=np.int64)
        self.cap_in = (a == 1).astype(np.int64) @ s
        self.cap_out = (a == 2).astype(np.int64) @ s
        self.power = (a > 0).astype(np.float64) @ np.asarray(leakage, dtype=np.float64)

    def optimum(self, in_bytes: int, out_bytes: int) -> float | None:
        """Least powered leakage, or None when no assignment covers both."""
        ok = (self.cap_in >= in_bytes) & (self.cap_out >= out_bytes)
        return float(self.power[ok].min()) if ok.any() else None


def _power(leakage: list[float], banks: list[int]) -> float:
    return sum(leakage[b] for b in banks)


def _check_feasible(sizes: tuple[int, ...], got: tuple[list[int], list[int]], in_bytes: int,
                    out_bytes: int) -> None:
    bi, bo = got
    assert bi == sorted(bi) and bo == sorted(bo)
    assert len(set(bi)) == len(bi) and len(set(bo)) == len(bo)
    assert not set(bi) & set(bo), "input and output banks overlap"
    assert all(0 <= b < len(sizes) for b in bi + bo)
    assert sum(sizes[b] for b in bi) >= in_bytes
    assert sum(sizes[b] for b in bo) >= out_bytes


@dataclass
class NetResult:
    """What one (hardware, network) comparison found."""

    steps: int = 0
    pairs: int = 0
    solve_s: float = 0.0
    greedy_worse_steps: int = 0
    greedy_worse_pairs: int = 0
    extra_w: float = 0.0  # summed over steps
    max_extra_w: float = 0.0
    mismatches: list[str] = field(default_factory=list)


@cache
def _aras_brute() -> BruteForce:
    hw = aras_hardware()
    return BruteForce(hw.gbuffer_banks, hw.bank_leakage_w())


def _reference(hw: Hardware, in_bytes: int, out_bytes: int) -> float | None:
    """Exhaustive optimum: 3-way brute force on ARAS banks, closed form on baseline banks."""
    leak = hw.bank_leakage_w()
    if hw.name == "aras":
        return _aras_brute().optimum(in_bytes, out_bytes)
    size = hw.gbuffer_banks[0]
    assert set(hw.gbuffer_banks) == {size}
    k = math.ceil(in_bytes / size) + math.ceil(out_bytes / size)
    exact = min_capacity_cover(hw.gbuffer_banks, in_bytes, out_bytes)
    if k > len(hw.gbuffer_banks):
        assert exact is None
        return None
    assert exact is not None
    assert math.isclose(_power(leak, exact[0] + exact[1]), k * leak[0], rel_tol=REL)
    return k * leak[0]


@cache
def _compare(hw_name: str, net_name: str) -> NetResult:
    hw = HARDWARE[hw_name]()
    leak = hw.bank_leakage_w()
    problem = map_network(BUILTIN[net_name](), hw)
    res = NetResult(steps=len(problem.steps))
    per_pair: dict[tuple[int, int], tuple[float, float]] = {}
    for step in problem.steps:
        pair = (step.in_need, step.out_need)
        if pair not in per_pair:
            t0 = time.perf_counter()
            got = ilp.select_banks(hw, *pair)
            res.solve_s += time.perf_counter() - t0
            _check_feasible(hw.gbuffer_banks, got, *pair)
            p_ilp = _power(leak, got[0] + got[1])
            want = _reference(hw, *pair)
            if want is None or not math.isclose(p_ilp, want, rel_tol=REL):
                res.mismatches.append(f"{pair}: ilp {p_ilp} W, exhaustive {want} W")
            greedy = smallest_fit(hw.gbuffer_banks, *pair)
            assert greedy is not None
            _check_feasible(hw.gbuffer_banks, greedy, *pair)
            p_greedy = _power(leak, greedy[0] + greedy[1])
            per_pair[pair] = (p_ilp, p_greedy)
            if p_greedy > p_ilp * (1 + REL):
                res.greedy_worse_pairs += 1
        p_ilp, p_greedy = per_pair[pair]
        assert p_greedy >= p_ilp * (1 - REL), f"greedy beats the ILP on {pair}"
        if p_greedy > p_ilp * (1 + REL):
            res.greedy_worse_steps += 1
            res.extra_w += p_greedy - p_ilp
            res.max_extra_w = max(res.max_extra_w, p_greedy - p_ilp)
    res.pairs = len(per_pair)
    return res


CASES = [(h, n) for h in HARDWARE for n in BUILTIN]


@pytest.mark.parametrize(("hw_name", "net_name"), CASES)
def test_ilp_matches_exhaustive_on_builtin_networks(hw_name: str, net_name: str) -> None:
    res = _compare(hw_name, net_name)
    assert res.pairs > 0
    assert not res.mismatches, res.mismatches[:5]


def test_report_greedy_gap() -> None:
    """Print, per network, distinct pairs and where smallest fit powers more (``-s``)."""
    lines = [f"{'hw':9} {'network':12} {'steps':>5} {'pairs':>5} {'ms/solve':>8} "
             f"{'greedy>ilp steps':>16} {'(pairs)':>7} {'extra mW sum':>12} {'max mW':>8}"]
    for hw_name, net_name in CASES:
        r = _compare(hw_name, net_name)
        lines.append(f"{hw_name:9} {net_name:12} {r.steps:5d} {r.pairs:5d} "
                     f"{1e3 * r.solve_s / r.pairs:8.1f} {r.greedy_worse_steps:16d} "
                     f"{r.greedy_worse_pairs:7d} {1e3 * r.extra_w:12.3f} "
                     f"{1e3 * r.max_extra_w:8.3f}")
    print("\n" + "\n".join(lines))
    # Homogeneous banks: smallest fit is optimal (whole banks, one size).
    for net_name in BUILTIN:
        assert _compare("baseline", net_name).greedy_worse_steps == 0


# ----------------------------------------------------------------------------- small cases
@pytest.mark.parametrize("seed", range(4))
def test_random_instances_match_brute_force(seed: int) -> None:
    """Random sizes, both linear (integral costs) and arbitrary (float) leakage."""
    rng = np.random.default_rng(seed)
    for trial in range(12):
        n = int(rng.integers(2, 8))
        sizes = tuple(int(v) for v in rng.integers(1, 40, size=n) * 1024)
        if trial % 2:
            leak = [float(v) for v in rng.uniform(1e-5, 1e-3, size=n)]
        else:
            leak = [s * 3.2e-7 for s in sizes]
        brute = BruteForce(sizes, leak)
        a, b = (int(v) for v in rng.integers(0, sum(sizes) // 2 + 2048, size=2))
        want = brute.optimum(a, b)
        got = ilp.solve(sizes, leak, a, b)
        if want is None:
            assert got is None
            continue
        assert got is not None
        _check_feasible(sizes, got, a, b)
        assert math.isclose(_power(leak, got[0] + got[1]), want, rel_tol=REL)


def test_ties_are_canonical_and_repeatable() -> None:
    hw = baseline_hardware()
    leak = hw.bank_leakage_w()
    got = ilp.solve(hw.gbuffer_banks, leak, 600_000, 300_000)
    # Identical banks: input on the first ones, output on the next.
    assert got == ([0, 1, 2], [3, 4])
    assert all(ilp.solve(hw.gbuffer_banks, leak, 600_000, 300_000) == got for _ in range(3))
    # Equal power, fewer banks preferred: 2 KB rather than 1 KB + 1 KB.
    aras = aras_hardware()
    assert ilp.solve(aras.gbuffer_banks, aras.bank_leakage_w(), 2048, 1) == ([2], [0])


def test_model_shape_and_extract() -> None:
    m = ilp.build([1024, 2048, 2048], [1.0, 2.0, 2.0], 1500, 2048)
    assert len(m.x_in) == len(m.x_out) == 3
    assert len(m.disjoint) == 3 and len(m.symmetry_in) == 1
    for b, (i, o) in enumerate([(0, 0), (1, 0), (0, 1)]):
        m.x_in[b].set_value(i)
        m.x_out[b].set_value(o)
    assert ilp.extract(m) == ([1], [2])
    with pytest.raises(ValueError):
        ilp.build([1024], [1.0, 2.0], 1, 1)


def test_infeasible_and_select_banks_cache() -> None:
    hw = aras_hardware()
    assert ilp.solve(hw.gbuffer_banks, hw.bank_leakage_w(), 2 * 2**20, 2 * 2**20) is None
    # Enough total bytes (4000 KB of 4040 KB), but no disjoint split: the solver decides.
    assert ilp.solve(hw.gbuffer_banks, hw.bank_leakage_w(), 1808 * 1024, 2192 * 1024) is None
    with pytest.raises(InputError) as err:
        ilp.select_banks(hw, 3 * 2**20, 2 * 2**20)
    assert "\n" not in str(err.value)
    before = ilp._select_cached.cache_info().hits
    first = ilp.select_banks(hw, 5000, 70_000)
    first[0].append(99)  # callers get fresh lists; the cache is not altered
    assert ilp.select_banks(hw, 5000, 70_000) != first
    assert ilp._select_cached.cache_info().hits >= before + 1
