"""Weight values and cell levels: what write pulses are counted from.

INT8 weights are stored unsigned (0..255) in ``cells_per_weight`` cells of
``bits_per_cell`` bits; cell ``c`` holds bits ``[c*b, (c+1)*b)``, so the last
cell holds the most significant bits. Updating a cell from level ``a`` to
``b`` costs ``|a - b|`` level steps.

When a network carries no weights, the evaluator uses a statistical model:
every layer's unsigned weights follow a discretised normal distribution
N(mean, std) on 0..255 (tails folded onto 0 and 255), weights independent.
The synthetic parameters are drawn per layer from a seeded generator:
``mean = 128 + U(-24, 24)`` and ``std = U(18, 36)``, the spread seen for
min-max quantised bell-shaped layers (a +-4.5 sigma range over 256 levels
gives sigma near 28; asymmetric min/max moves the mean off 128). See
``docs/model.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from aras.model.hardware import Hardware
from aras.model.network import Network


@dataclass(frozen=True)
class LayerStats:
    """Mean and standard deviation of a layer's unsigned weights (0..2^bits-1)."""

    mean: float
    std: float


def normal_pmf(mean: float, std: float, levels: int = 256) -> np.ndarray:
    """Discretised normal on 0..levels-1; mass beyond the ends folds onto them."""
    from math import erf, sqrt

    edges = (np.arange(levels + 1) - 0.5).tolist()  # Python floats: the same values, faster
    cdf = np.array([0.5 * (1 + erf((e - mean) / (std * sqrt(2)))) for e in edges])
    pmf = np.diff(cdf)
    pmf[0] += cdf[0]
    pmf[-1] += 1 - cdf[-1]
    return pmf / pmf.sum()


def shift_pmf(pmf: np.ndarray, delta: int) -> np.ndarray:
    """The pmf of ``clip(w + delta, 0, levels-1)``."""
    n = len(pmf)
    out = np.zeros(n)
    idx = np.clip(np.arange(n) + delta, 0, n - 1)
    np.add.at(out, idx, pmf)
    return out


def pmf_mean(pmf: np.ndarray) -> float:
    """Mean of a pmf over 0..n-1."""
    return float(np.dot(np.arange(len(pmf)), pmf))


def cell_level_probs(pmf: np.ndarray, hw: Hardware) -> np.ndarray:
    """P[c, level]: probability that cell ``c`` of a weight holds ``level``."""
    b, C = hw.bits_per_cell, hw.cells_per_weight
    L = 1 << b
    values = np.arange(len(pmf))
    out = np.zeros((C, L))
    for c in range(C):
        lv = (values >> (b * c)) & (L - 1)
        np.add.at(out[c], lv, pmf)
    return out


def cell_levels(values: np.ndarray, hw: Hardware) -> np.ndarray:
    """Cell levels of unsigned weights: shape ``values.shape + (cells_per_weight,)``."""
    b, C = hw.bits_per_cell, hw.cells_per_weight
    shifts = np.arange(C, dtype=np.int64) * b
    return ((values[..., None].astype(np.int64) >> shifts) & ((1 << b) - 1)).astype(np.uint8)


def synthetic_stats(layers: list[str], seed: int = 0) -> dict[str, LayerStats]:
    """Seeded per-layer (mean, std) of the statistical model, by layer position."""
    out = {}
    for i, name in enumerate(layers):
        rng = np.random.default_rng([seed, i])
        out[name] = LayerStats(mean=128.0 + rng.uniform(-24, 24), std=rng.uniform(18, 36))
    return out


def step_distributions(steps: list[tuple[str, int | None]], stats: Mapping[str, LayerStats],
                       levels: int = 256) -> tuple[list[int], list[np.ndarray]]:
    """One distribution per distinct (layer, center), and the id of each step's.

    Parts of a layer share their weights' statistics; a center shifts the
    layer's distribution (clipping at the code range).
    """
    key: dict[tuple[str, int | None], int] = {}
    pmfs: list[np.ndarray] = []
    ids = []
    for layer, center in steps:
        k = (layer, center)
        if k not in key:
            st = stats[layer]
            pmf = normal_pmf(st.mean, st.std, levels)
            if center is not None:
                pmf = shift_pmf(pmf, int(round(center - st.mean)))
            key[k] = len(pmfs)
            pmfs.append(pmf)
        ids.append(key[k])
    return ids, pmfs


def pair_costs(pmfs: list[np.ndarray], hw: Hardware,
               pairs: tuple[np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Expected level steps and expected changed cells per weight, for every pair.

    ``steps[a, b]`` is ``E[sum over cells |level_a - level_b|]`` when a weight drawn
    from ``pmfs[b]`` overwrites an independent one drawn from ``pmfs[a]``;
    ``changed[a, b]`` the expected number of cells whose level changes.

    With ``pairs = (a, b)`` (index arrays), only those pairs: ``steps[k]`` is the cost of
    ``b[k]`` overwriting ``a[k]`` (the same sums; memory and time grow with the pairs, not
    with the square of the distributions).
    """
    P = np.stack([cell_level_probs(p, hw) for p in pmfs])  # (D, C, L)
    L = P.shape[2]
    lv = np.arange(L)
    dist = np.abs(lv[:, None] - lv[None, :]).astype(float)
    neq = (dist > 0).astype(float)
    if pairs is not None:
        a, b = pairs
        out = []
        for m in (dist, neq):
            acc = np.zeros(len(a))
            for c in range(P.shape[1]):
                acc = acc + ((P[:, c, :] @ m)[a] * P[b, c, :]).sum(axis=1)
            out.append(acc)
        return out[0], out[1]
    steps = sum(P[:, c, :] @ dist @ P[:, c, :].T for c in range(P.shape[1]))
    changed = sum(P[:, c, :] @ neq @ P[:, c, :].T for c in range(P.shape[1]))
    return np.asarray(steps), np.asarray(changed)


def layer_matrix(values: np.ndarray, groups: int, rows_g: int, cols_g: int,
                 name: str) -> np.ndarray:
    """A layer's unsigned weights as ``(groups, rows_g, cols_g)``.

    Accepts that shape, or ``(rows, cols)`` when ``groups == 1`` (rows = the
    unrolled kernel ``k_h*k_w*c_in`` or ``in_features``, cols = outputs).
    """
    from aras.model.errors import InputError

    v = np.asarray(values)
    if v.shape == (rows_g, cols_g) and groups == 1:
        v = v[None]
    if v.shape != (groups, rows_g, cols_g):
        raise InputError(f"weights of '{name}': shape {list(v.shape)}, expected "
                         f"{[groups, rows_g, cols_g]}")
    if not np.issubdtype(v.dtype, np.integer):
        raise InputError(f"weights of '{name}': must be unsigned integer codes")
    return v.astype(np.int64)


def centred_matrices(network: Network, keys: Iterable[tuple[str, int | None]],
                     weights: Mapping[str, np.ndarray], weight_bits: int
                     ) -> dict[tuple[str, int | None], np.ndarray]:
    """The weight matrix of every ``(layer, center)`` in ``keys`` (:func:`layer_matrix`).

    A layer with a reuse center has its mean shifted to the center, clipped at the code
    range (paper section V-C). Raises InputError for a layer without values.
    """
    from aras.model.errors import InputError

    top = (1 << weight_bits) - 1
    out: dict[tuple[str, int | None], np.ndarray] = {}
    for layer, center in keys:
        if (layer, center) in out:
            continue
        if layer not in weights:
            raise InputError(f"weights: no values for layer '{layer}'")
        m = layer_matrix(weights[layer], *network.op(layer).matrix, name=layer)
        if center is not None:
            m = np.clip(m + int(round(center - m.mean())), 0, top)
        out[(layer, center)] = m
    return out


def replay_rows(rows: Iterable[Iterable[tuple[np.ndarray, int]]], hw: Hardware, fill: int,
                per_row: list[int] | None = None) -> tuple[int, int, int]:
    """Level steps, changed cells and most updates of one cell when each APU row replays its
    writes twice: once to reach the steady state the previous inference leaves, once to count.

    ``rows`` gives, per APU row in its write order, each write's layer matrix
    (:func:`centred_matrices`) and tile index (:func:`tile_values`; ``fill`` for block-diagonal
    padding). Cells no write has set yet cost nothing. ``per_row``, when given, receives each
    row's level steps in the order of ``rows``.
    """
    shape = (hw.crossbar_rows, hw.kernels_per_apu_row, hw.cells_per_weight)
    level_steps = changed = most = 0
    for writes in rows:
        levels = [cell_levels(tile_values(m, t, shape[0], shape[1], fill), hw).astype(np.int16)
                  for m, t in writes]
        state = np.full(shape, -1, dtype=np.int16)
        updates = np.zeros(shape, dtype=np.int32)
        before = level_steps
        for counting in (False, True):
            for lv in levels:
                r, k = lv.shape[:2]
                old = state[:r, :k]
                if counting:
                    diff = np.where(old >= 0, np.abs(old - lv), 0)
                    level_steps += int(diff.sum())
                    moved = diff > 0
                    changed += int(moved.sum())
                    updates[:r, :k] += moved
                state[:r, :k] = lv
        most = max(most, int(updates.max()))
        if per_row is not None:
            per_row.append(level_steps - before)
    return level_steps, changed, most

def tile_values(matrix: np.ndarray, tile: int, crossbar_rows: int, kernels: int,
                fill: int) -> np.ndarray:
    """Weight codes of one tile of a layer, laid out as on its APU row.

    The tile order is the one of :func:`aras.model.mapping.tile_grid`: replicas of
    groups (when a group needs several segments), column blocks, then input
    segments; with block-diagonal packing, segments of ``gps`` groups, each
    cut into column blocks, off-diagonal cells holding ``fill`` (the code of a
    zero weight) because they must not add to other groups' outputs.
    """
    groups, rows_g, cols_g = matrix.shape
    R, K = crossbar_rows, kernels
    if groups == 1 or rows_g > R:
        nseg, ncol = -(-rows_g // R), -(-cols_g // K)
        g, rest = divmod(tile, nseg * ncol)
        c, s = divmod(rest, nseg)
        return matrix[g, s * R:(s + 1) * R, c * K:(c + 1) * K]
    gps = min(groups, R // rows_g)
    ncol = -(-(gps * cols_g) // K)
    s, c = divmod(tile, ncol)
    ng = min(gps, groups - s * gps)
    block = np.full((ng * rows_g, ng * cols_g), fill, dtype=np.int64)
    for j in range(ng):
        block[j * rows_g:(j + 1) * rows_g, j * cols_g:(j + 1) * cols_g] = matrix[s * gps + j]
    return block[:, c * K:(c + 1) * K]
