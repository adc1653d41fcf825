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
from typing import Any

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


def _cells(levels: int, hw: Hardware) -> int:
    """Cells of a weight whose codes are ``0..levels-1`` (docs/model.md "Precision")."""
    return -(-max(1, (levels - 1).bit_length()) // hw.bits_per_cell)


def at_bits(pmf: np.ndarray, bits: int) -> np.ndarray:
    """The pmf of ``requantize(w, bits)`` for ``w`` drawn from ``pmf`` (codes of
    ``log2(len(pmf))`` bits): a layer's codes at fewer bits (docs/model.md "Precision")."""
    from aras.model.precision import requantize

    src = (len(pmf) - 1).bit_length()
    if bits == src:
        return pmf
    out = np.zeros(1 << bits)
    np.add.at(out, requantize(np.arange(len(pmf)), bits, src), pmf)
    return out


def cell_level_probs(pmf: np.ndarray, hw: Hardware) -> np.ndarray:
    """P[c, level]: probability that cell ``c`` of a weight holds ``level`` (the weight's
    cells follow from its code range, ``len(pmf)``)."""
    b, C = hw.bits_per_cell, _cells(len(pmf), hw)
    L = 1 << b
    values = np.arange(len(pmf))
    out = np.zeros((C, L))
    for c in range(C):
        lv = (values >> (b * c)) & (L - 1)
        np.add.at(out[c], lv, pmf)
    return out


def cell_levels(values: np.ndarray, hw: Hardware, bits: int | None = None) -> np.ndarray:
    """Cell levels of unsigned weights of ``bits`` bits (the hardware's by default): shape
    ``values.shape + (cells,)``, ``cells = ceil(bits / bits_per_cell)``."""
    b = hw.bits_per_cell
    C = hw.cells_per_weight if bits is None else -(-bits // b)
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
                       levels: int = 256, bits: Mapping[str, int] | None = None
                       ) -> tuple[list[int], list[np.ndarray]]:
    """One distribution per distinct (layer, center), and the id of each step's.

    Parts of a layer share their weights' statistics; a center shifts the
    layer's distribution (clipping at the code range). ``bits`` gives the weight bits of
    layers stored at fewer bits than ``levels`` codes: their distribution is that of the
    requantised codes (:func:`at_bits`).
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
            if bits and layer in bits:
                pmf = at_bits(pmf, bits[layer])
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

    Distributions of different code ranges (layers at different weight bits) hold a weight
    in different numbers of cells: cell ``c`` of new weight ``k`` then lands on cell
    ``(k C_b + c) mod C_a`` of an old weight, and the cost is averaged over the
    ``lcm(C_a, C_b) / C_b`` alignments (docs/model.md "Precision").
    """
    if len({len(p) for p in pmfs}) > 1:
        return _mixed_pair_costs(pmfs, hw, pairs)
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


def _mixed_pair_costs(pmfs: list[np.ndarray], hw: Hardware,
                      pairs: tuple[np.ndarray, np.ndarray] | None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pair_costs` for distributions of different cell counts."""
    import math

    probs = [cell_level_probs(p, hw) for p in pmfs]
    L = 1 << hw.bits_per_cell
    lv = np.arange(L)
    dist = np.abs(lv[:, None] - lv[None, :]).astype(float)
    neq = (dist > 0).astype(float)

    def one(a: int, b: int) -> tuple[float, float]:
        Pa, Pb = probs[a], probs[b]
        ca, cb = len(Pa), len(Pb)
        nk = math.lcm(ca, cb) // cb
        s = c_ = 0.0
        for k in range(nk):
            for c in range(cb):
                old = Pa[(k * cb + c) % ca]
                s += float(old @ dist @ Pb[c])
                c_ += float(old @ neq @ Pb[c])
        return s / nk, c_ / nk

    if pairs is not None:
        memo: dict[tuple[int, int], tuple[float, float]] = {}
        out = [np.zeros(len(pairs[0])), np.zeros(len(pairs[0]))]
        for i, (a, b) in enumerate(zip(pairs[0].tolist(), pairs[1].tolist(), strict=True)):
            if (a, b) not in memo:
                memo[(a, b)] = one(a, b)
            out[0][i], out[1][i] = memo[(a, b)]
        return out[0], out[1]
    D = len(pmfs)
    steps, changed = np.zeros((D, D)), np.zeros((D, D))
    for a in range(D):
        for b in range(D):
            steps[a, b], changed[a, b] = one(a, b)
    return steps, changed


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


def replay_rows(rows: Iterable[Iterable[tuple[Any, ...]]], hw: Hardware, fill: int,
                per_row: list[int] | None = None) -> tuple[int, int, int]:
    """Level steps, changed cells and most updates of one cell when each APU row replays its
    writes twice: once to reach the steady state the previous inference leaves, once to count.

    ``rows`` gives, per APU row in its write order, each write's layer matrix
    (:func:`centred_matrices`) and tile index (:func:`tile_values`; ``fill`` for block-diagonal
    padding), and optionally the write's weight bits (a third item; the matrix then holds
    codes of those bits and ``fill`` is requantised to them). Cells no write has set yet cost
    nothing. Cells are counted where they sit on the row: kernel ``k`` of a ``C``-cell weight
    occupies cells ``(k mod w) C .. (k mod w) C + C - 1`` of crossbar ``k div w``, ``w =
    floor(crossbar_cols / C)``, so layers of different bits overwrite each other cell by cell.
    ``per_row``, when given, receives each row's level steps in the order of ``rows``.
    """
    from aras.model.precision import kernels_per_apu_row, requantize

    R, X = hw.crossbar_rows, hw.apus_per_row * hw.crossbar_cols
    level_steps = changed = most = 0
    place: dict[int, np.ndarray] = {}

    def physical(lv: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Row and cell column of every level of a tile's ``(r, k, C)`` array; None when
        the cells are the leading ``k C`` of each row (``C`` divides the crossbar width)."""
        r, k, C = lv.shape
        if hw.crossbar_cols % C == 0:
            return None
        if C not in place:
            wpr = hw.crossbar_cols // C
            kk = np.arange(X // C + wpr)[:, None]
            place[C] = ((kk // wpr) * hw.crossbar_cols + (kk % wpr) * C
                        + np.arange(C)[None, :])
        cols = place[C][:k].ravel()
        return np.repeat(np.arange(r), len(cols)), np.tile(cols, r)

    for writes in rows:
        levels = []
        for item in writes:
            m, t = item[0], item[1]
            bits = item[2] if len(item) > 2 else hw.weight_bits
            K = kernels_per_apu_row(bits, hw)
            f = int(requantize(fill, bits, hw.weight_bits))
            lv = cell_levels(tile_values(m, t, R, K, f), hw, bits).astype(np.int16)
            levels.append((lv, physical(lv)))
        state = np.full((R, X), -1, dtype=np.int16)
        updates = np.zeros((R, X), dtype=np.int32)
        before = level_steps
        for counting in (False, True):
            for lv, at in levels:
                if at is None:  # a block of the row: views, no gather
                    r, kc = lv.shape[0], lv.shape[1] * lv.shape[2]
                    new: np.ndarray = lv.reshape(r, kc)
                    old = state[:r, :kc]
                else:
                    new = lv.ravel()
                    old = state[at]
                if counting:
                    diff = np.where(old >= 0, np.abs(old - new), 0)
                    level_steps += int(diff.sum())
                    moved = diff > 0
                    changed += int(moved.sum())
                    if at is None:
                        updates[:r, :kc] += moved
                    else:
                        np.add.at(updates, at, moved)
                if at is None:
                    state[:r, :kc] = new
                else:
                    state[at] = new
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
