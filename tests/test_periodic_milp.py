"""The row-count MILP of benchmarks/periodic_milp.py (least periods of reduced instances)
against the exhaustive least periods of tests/periodic_exhaustive.py."""

from __future__ import annotations

import math

import pytest

from aras.evaluation.periodic_bounds import periodic_bounds
from aras.model.mapping import map_network
from aras.model.network import NetworkBuilder
from tests.helpers import benchmark_script
from tests.periodic_exhaustive import hardware, periodic_optimum

pm = benchmark_script("periodic_milp")


def _cnn(h: int, c: int, d1: int, d2: int):  # noqa: ANN202
    b = NetworkBuilder(f"cnn{h}-{c}-{d1}-{d2}", {"x": (8, h, h)})
    y = b.linear("f1", b.pool("gap", b.conv("c1", "x", 8, c, 1), global_=True), c, d1)
    b.linear("f2", y, d1, d2)
    return b.build()


def _milp_least(p) -> int:  # noqa: ANN001
    orders = p.orders(24)
    assert orders is not None
    got = [pm.least_period(p.reordered(o), 30)[:3] for o in orders]
    assert all(st == "optimal" for _, _, st in got)
    return min(math.ceil(b - 1e-6) for _, b, _ in got)


@pytest.mark.parametrize(("shape", "rows", "T", "least"), [
    ((3, 64, 128, 384), 4, 3, 10),   # the bound is 8 here: the MILP meets the optimum
    ((3, 64, 256, 256), 3, 3, 18),   # (the bound 17)
    ((3, 128, 256, 128), 3, 4, 15),  # (the bound 14)
    ((3, 128, 256, 128), 4, 3, 10),  # the MILP is 9: row counts are not rows on a circle
])
def test_row_count_milp_is_a_lower_bound_on_the_least_period(shape, rows, T, least) -> None:
    """The exhaustive least period is known (tests/periodic_exhaustive.py); the MILP's
    optimum never exceeds it (it relaxes only the naming of rows) and reaches it where the
    row counts admit rows; the periodic bound stays below both."""
    p = map_network(_cnn(*shape), hardware(rows, T))
    assert periodic_optimum(p, limit=20000, p_max=200).period == least
    got = _milp_least(p)
    assert periodic_bounds(p).lower <= got <= least
    if shape != (3, 128, 256, 128) or rows != 4:
        assert got == least
