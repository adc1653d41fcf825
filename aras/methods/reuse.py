"""Adaptive partial weight reuse (paper section V-C).

Weights are unsigned INT8 codes in four 2-bit cells (the last cell holds the
two MSBs). Shifting every layer's mean to a common center makes the MSB cells
of consecutive layers agree more often, so overwriting them costs fewer
pulses. The first weight-bearing layer is never shifted (errors there hurt
accuracy most); shifted codes leaving 0..255 are clipped, and the clipped
fraction is the accuracy risk. The center is chosen among the paper's six
candidates: the highest expected skip ratio of the two MSB cells between
consecutive layers (Eq. 3), among centers whose clipping stays negligible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from aras.model.errors import InputError, arg_name
from aras.model.hardware import Hardware
from aras.model.mapping import Problem
from aras.model.schedule import Schedule
from aras.model.weights import (
    LayerStats,
    cell_level_probs,
    normal_pmf,
    pmf_mean,
    shift_pmf,
    synthetic_stats,
)

#: The paper's six candidate centers (section V-C).
CENTERS: tuple[int, ...] = (88, 96, 104, 152, 160, 168)
#: Clipping above this fraction of a network's weights is not negligible.
MAX_CLIPPED = 0.005


@dataclass(frozen=True)
class CenterScore:
    """How one center does: skip ratio of the MSB cells, and clipped weights."""

    center: int
    skip_ratio: float
    clipped: float


def layer_pmfs(problem: Problem, *, stats: Mapping[str, LayerStats] | None = None,
               weights: Mapping[str, np.ndarray] | None = None, seed: int = 0
               ) -> dict[str, np.ndarray]:
    """Distribution of each weight-bearing layer's codes: from real codes or the model."""
    names = [o.name for o in problem.network.weighted_ops]
    levels = 1 << problem.hardware.weight_bits
    if weights is not None:
        return {n: np.bincount(np.asarray(weights[n]).ravel().astype(np.int64),
                               minlength=levels)[:levels] / np.asarray(weights[n]).size
                for n in names}
    st = stats if stats is not None else synthetic_stats(names, seed)
    return {n: normal_pmf(st[n].mean, st[n].std, levels) for n in names}


def shifted(pmf: np.ndarray, center: int) -> tuple[np.ndarray, float]:
    """The pmf shifted so its mean sits at ``center``, and the mass that was clipped."""
    delta = int(round(center - pmf_mean(pmf)))
    idx = np.arange(len(pmf)) + delta
    clipped = float(pmf[(idx < 0) | (idx >= len(pmf))].sum())
    return shift_pmf(pmf, delta), clipped


def skip_ratio(p: np.ndarray, q: np.ndarray, hw: Hardware, cells: tuple[int, ...]) -> float:
    """Eq. 3: probability that the given cells keep their level when q overwrites p."""
    P, Q = cell_level_probs(p, hw), cell_level_probs(q, hw)
    return float(np.mean([np.dot(P[c], Q[c]) for c in cells]))


def score_centers(problem: Problem, pmfs: Mapping[str, np.ndarray],
                  centers: tuple[int, ...] = CENTERS) -> list[CenterScore]:
    """Skip ratio of the MSB cells over consecutive layers, and clipping, for each center."""
    hw = problem.hardware
    names = [o.name for o in problem.network.weighted_ops]
    sizes = {o.name: o.weights for o in problem.network.weighted_ops}
    msb = tuple(range(max(0, hw.cells_per_weight - 2), hw.cells_per_weight))
    out = []
    for c in centers:
        shifted_pmfs, clipped = [pmfs[names[0]]], 0.0
        for n in names[1:]:
            s, cl = shifted(pmfs[n], c)
            shifted_pmfs.append(s)
            clipped += cl * sizes[n]
        ratios = [skip_ratio(a, b, hw, msb) for a, b in zip(shifted_pmfs, shifted_pmfs[1:],
                                                               strict=False)]
        out.append(CenterScore(c, float(np.mean(ratios)) if ratios else 0.0,
                               clipped / max(1, sum(sizes.values()))))
    return out


def choose_center(scores: list[CenterScore], max_clipped: float = MAX_CLIPPED) -> CenterScore:
    """Highest skip ratio among centers with negligible clipping (else the least clipping)."""
    ok = [s for s in scores if s.clipped <= max_clipped]
    if ok:
        return max(ok, key=lambda s: (s.skip_ratio, -s.clipped))
    return min(scores, key=lambda s: s.clipped)


def check_reuse(hw: Hardware, centers: tuple[int, ...] = CENTERS) -> None:
    """Refuse reuse on hardware whose weight codes cannot hold the candidate centers.

    The paper's centers are INT8 codes (0..255); with fewer weight bits every one of them
    would shift a layer off the code range, which the evaluator reports (rule ``center``).

    Raises
    ------
    InputError
        Naming ``hardware.weight_bits``.
    """
    top = (1 << hw.weight_bits) - 1
    if max(centers) > top:
        raise InputError(f"{arg_name('reuse')}: the candidate centers "
                         f"{', '.join(map(str, centers))} are INT8 codes; "
                         f"hardware.weight_bits = {hw.weight_bits} has codes 0..{top}")


def apply_reuse(problem: Problem, sched: Schedule, *, stats: Mapping[str, LayerStats] | None = None,
                weights: Mapping[str, np.ndarray] | None = None, seed: int = 0,
                center: int | None = None) -> CenterScore:
    """Choose a center and write it into every weight-bearing step but the first layer's.

    Returns the chosen center's score; the schedule's ``extra["reuse"]``
    records every candidate's.
    """
    pmfs = layer_pmfs(problem, stats=stats, weights=weights, seed=seed)
    scores = score_centers(problem, pmfs)
    chosen = (choose_center(scores) if center is None
              else next(s for s in score_centers(problem, pmfs, (center,))))
    first = problem.network.weighted_ops[0].name
    for st in sched.steps:
        if st.apu_rows and st.layer != first:
            st.center = chosen.center
    sched.extra["reuse"] = {"center": chosen.center, "candidates": [
        {"center": s.center, "skip_ratio": s.skip_ratio, "clipped": s.clipped} for s in scores]}
    return chosen
