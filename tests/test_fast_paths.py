"""The vectorised paths of the mapping, the evaluator and the schedule file give the results of
the straightforward code they replaced (kept here as references)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aras.model.mapping import apu_rows_of, ceil_div, tile_grid


def _tile_grid_reference(groups: int, rows_g: int, cols_g: int, R: int, K: int
                         ) -> tuple[list[int], list[int]]:
    """The tile list as first written: one (rows_used, cols_used) tuple per tile."""
    blocks: list[tuple[int, int]] = []
    if groups == 1 or rows_g > R:
        n_rep = 1 if groups == 1 else groups
        segs = [min(R, rows_g - s * R) for s in range(ceil_div(rows_g, R))]
        cols = [min(K, cols_g - c * K) for c in range(ceil_div(cols_g, K))]
        for _ in range(n_rep):
            blocks += [(r, c) for c in cols for r in segs]
    else:
        gps = min(groups, R // rows_g)
        for s in range(ceil_div(groups, gps)):
            ng = min(gps, groups - s * gps)
            width = ng * cols_g
            for c in range(ceil_div(gps * cols_g, K)):
                blocks.append((ng * rows_g, max(0, min(K, width - c * K))))
    return [b[0] for b in blocks], [b[1] for b in blocks]


class _Op:
    def __init__(self, matrix: tuple[int, int, int]):
        self.matrix = matrix


class _Hw:
    def __init__(self, R: int, K: int):
        self.crossbar_rows, self.kernels_per_apu_row = R, K


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 600), st.integers(1, 5000), st.integers(1, 5000),
       st.sampled_from([(128, 128), (32, 64), (64, 256), (16, 8), (7, 3)]))
def test_tile_grid_equals_reference(groups: int, rows_g: int, cols_g: int,
                                    rk: tuple[int, int]) -> None:
    op, hw = _Op((groups, rows_g, cols_g)), _Hw(*rk)
    assume(apu_rows_of(op, hw) <= 50_000)  # type: ignore[arg-type]
    grid = tile_grid(op, hw)  # type: ignore[arg-type]
    rows, cols = _tile_grid_reference(groups, rows_g, cols_g, *rk)
    assert grid.rows_used.tolist() == rows and grid.cols_used.tolist() == cols
    assert grid.rows_used.dtype == np.int64 and grid.cols_used.dtype == np.int64


@pytest.mark.parametrize("groups,rows_g,cols_g", [(1, 4096, 32000), (64, 9, 1), (96, 1, 1)])
def test_tile_grid_big_layers(groups: int, rows_g: int, cols_g: int) -> None:
    grid = tile_grid(_Op((groups, rows_g, cols_g)), _Hw(128, 128))  # type: ignore[arg-type]
    rows, cols = _tile_grid_reference(groups, rows_g, cols_g, 128, 128)
    assert grid.rows_used.tolist() == rows and grid.cols_used.tolist() == cols
