"""Wear of the APU rows: writes and cell level steps per physical row.

A ReRAM cell wears with every change of its level, and ARAS rewrites its crossbars every
inference, so the rows that hold the most tiles age first. :class:`RowWear` gives, per
physical APU row (``pe * apu_rows_per_pe + row``), the writes and the level steps of one
inference; its summary (min, mean, max over the usable rows, failed rows excluded) is part
of every :class:`~aras.evaluation.evaluator.Report`. :mod:`aras.methods.wear` rotates the
binding across inferences so that the rows share the writes (docs/energy.md, "Wear").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aras.model.mapping import Problem
from aras.model.schedule import Schedule

__all__ = ["RowWear", "row_writes", "usable_mask"]


def usable_mask(problem: Problem) -> np.ndarray:
    """True for every physical row that is not failed (``Hardware.failed_rows``)."""
    hw = problem.hardware
    mask = np.ones(hw.physical_apu_rows, dtype=bool)
    mask[list(hw.failed_row_ids)] = False
    return mask


def row_writes(problem: Problem, sched: Schedule) -> np.ndarray:
    """Writes of one run of ``sched`` on every physical row (int64, ``physical_apu_rows``
    entries); writes outside the chip (an R7 violation) are left out."""
    hw = problem.hardware
    w = sched.writes
    inside = (w.pe >= 0) & (w.pe < hw.pes) & (w.row >= 0) & (w.row < hw.apu_rows_per_pe)
    rowid = (w.pe * hw.apu_rows_per_pe + w.row)[inside]
    return np.bincount(rowid, minlength=hw.physical_apu_rows).astype(np.int64)


@dataclass(frozen=True)
class RowWear:
    """Wear of every physical APU row in one inference.

    Attributes
    ----------
    writes
        Tile writes per inference on each physical row (a run's over its batch).
    level_steps
        Cell level steps per inference on each physical row (the evaluator's pulse model:
        expected steps of the statistical model, counted ones from real weights); None
        when the schedule was not costed.
    usable
        False for the failed rows, which the summary leaves out.
    """

    writes: np.ndarray
    level_steps: np.ndarray | None
    usable: np.ndarray

    @classmethod
    def of(cls, problem: Problem, sched: Schedule, level_steps: np.ndarray | None = None
           ) -> RowWear:
        """The wear of ``sched`` (per run ``level_steps``, if known, as the evaluator
        counted them), per inference."""
        b = problem.batch
        return cls(row_writes(problem, sched) / b,
                   None if level_steps is None else level_steps / b, usable_mask(problem))

    def summary(self) -> dict[str, float]:
        """``row_writes_min/mean/max`` and ``row_level_steps_min/mean/max`` over the usable
        rows (level steps 0 when not costed)."""
        out: dict[str, float] = {}
        for key, x in (("row_writes", self.writes), ("row_level_steps", self.level_steps)):
            v = np.zeros(1) if x is None else x[self.usable]
            out[f"{key}_min"] = float(v.min())
            out[f"{key}_mean"] = float(v.mean())
            out[f"{key}_max"] = float(v.max())
        return out
