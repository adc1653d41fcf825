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


# ----- evaluator -----

@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 300), st.sampled_from([3, 40, 70000]),
       st.booleans())
def test_lex_order_is_lexsort(seed: int, n: int, rows: int, in_time_order: bool) -> None:
    from aras.evaluation.evaluator import _lex_order

    rng = np.random.default_rng(seed)
    major = rng.integers(0, rows, n)
    minor = rng.integers(0, 50, n) if rng.random() < 0.5 else rng.integers(-2**40, 2**40, n)
    if in_time_order:  # as schedulers list writes: each row's starts increase
        minor = np.sort(minor)
    order, a, b = _lex_order(minor, major)
    assert np.array_equal(order, np.lexsort((minor, major)))
    assert np.array_equal(a, major[order]) and np.array_equal(b, minor[order])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 60), max_size=60), st.integers(0, 20))
def test_peak_writes_is_the_event_sweep(starts: list[int], T: int) -> None:
    from aras.evaluation.evaluator import _peak_writes

    s = np.array(starts, dtype=np.int64)
    assume(len(s))
    # R6's sweep: +1 at each start, -1 at each end, ends first at equal times.
    t = np.concatenate([s, s + T])
    d = np.concatenate([np.ones(len(s), np.int64), -np.ones(len(s), np.int64)])
    level = np.cumsum(d[np.lexsort((d, t))])
    assert _peak_writes(s, T) == level.max()


def test_pulse_pairs_equal_the_full_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many distributions: only the pairs the writes meet are computed, to the same sums."""
    from aras.evaluation import evaluator
    from aras.frontends.builders import DecoderShape, decoder
    from aras.methods.heuristics import aras
    from aras.model.hardware import aras_hardware
    from aras.model.mapping import map_network

    net = decoder("d", DecoderShape(hidden=512, layers=6, heads=8, ffn=2048, vocab=1000),
                  tokens=32)
    p = map_network(net, aras_hardware())
    s = aras(p)
    full = evaluator.evaluate(p, s)
    monkeypatch.setattr(evaluator, "_FULL_PAIR_TABLE", 0)
    pairs = evaluator.evaluate(p, s)
    assert pairs.level_steps == pytest.approx(full.level_steps, rel=1e-12)
    assert pairs.cells_written == pytest.approx(full.cells_written, rel=1e-12)
    assert pairs.max_cell_writes == full.max_cell_writes
