"""Objectives of a :class:`~formulations.framework.Formulation`: named measures and how they
combine.

A :class:`Measure` is a figure an objective can minimise, with three faces: a model quantity
some family declares (the MILP's term), the evaluator's figure of a schedule (what
keep-or-discard tests and reports use) and, where known, a certified lower bound. An
:class:`Objective` is a weighted sum of measures or measures in lexicographic order.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aras.model.errors import InputError
from aras.model.mapping import Problem, Step

if TYPE_CHECKING:
    from formulations.framework import ModelContext

__all__ = ["Measure", "MEASURES", "register_measure", "Objective", "cells_of"]


@dataclass(frozen=True)
class Measure:
    """A figure an objective can minimise.

    Attributes
    ----------
    name
        The name objectives use.
    quantity
        The model quantity (a declared expression or variable) that states it in the MILP.
    evaluate
        ``(problem, schedule, report) -> float``: the evaluator's figure of a valid schedule.
        Keep-or-discard tests and reported objectives use it, never the model's value.
    bound
        ``(problem, bounds) -> float | None``: a certified lower bound over every valid
        schedule (``bounds`` is :func:`aras.evaluation.bounds.bounds`' result), or None.
    exact
        The model quantity equals the evaluator's figure for the extracted schedule.
    doc
        One line: what it measures and its unit.
    """

    name: str
    quantity: str
    evaluate: Callable[[Problem, Any, Any], float]
    bound: Callable[[Problem, Any], float | None] = lambda problem, b: None
    exact: bool = True
    doc: str = ""


def cells_of(problem: Problem, step: Step) -> int:
    """ReRAM cells that hold a weight in one copy of a part (its tiles' crossbar rows x
    kernels x cells per weight): what one copy of it writes."""
    from aras.model.precision import cells_per_weight

    g = problem.tiles(step)
    return int((g.rows_used * g.cols_used).sum()) * cells_per_weight(step.weight_bits,
                                                                    problem.hardware)


def _cells_written(problem: Problem, schedule: Any, report: Any) -> float:
    total = 0
    for s in schedule.steps:
        st = problem.by_key.get((s.layer, s.part))
        if st is not None and st.weighted:
            total += cells_of(problem, st) * s.replication
    return float(total)


#: Measures known by name. ``register_measure`` adds one.
MEASURES: dict[str, Measure] = {
    "makespan": Measure(
        "makespan", "makespan", lambda p, s, r: float(r.makespan_cycles),
        lambda p, b: float(b.lower), True, "cycles from the first write to the last compute"),
    "rows_written": Measure(
        "rows_written", "rows_written", lambda p, s, r: float(len(s.writes)),
        lambda p, b: float(sum(s.apu_rows for s in p.weighted_steps)), True,
        "APU-row writes of one inference (every part written once per copy)"),
    "cells_written": Measure(
        "cells_written", "cells_written", _cells_written,
        lambda p, b: float(sum(cells_of(p, s) for s in p.weighted_steps)), True,
        "ReRAM cells that hold a weight, summed over every write (a linear handle on "
        "write energy)"),
    "row_wear": Measure(
        "row_wear", "row_wear",
        lambda p, s, r: float(len(s.writes)) / p.hardware.total_apu_rows,
        lambda p, b: float(sum(s.apu_rows for s in p.weighted_steps))
        / p.hardware.total_apu_rows, True,
        "writes per APU row per inference under wear-leveling: with the binding rotated over "
        "a full cycle every row hosts every logical row once, so the most-written row's "
        "writes are rows_written / rows (lifespan is the endurance over this)"),
    "write_energy": Measure(
        "write_energy", "write_energy_estimate",
        lambda p, s, r: float(r.energy.rram_write), lambda p, b: 0.0, False,
        "RRAM write energy in joules (evaluator: pulses x energy per pulse; model: cells "
        "written x the mean level steps per cell of the statistical pulse model)"),
}


def register_measure(measure: Measure) -> None:
    """Make a measure usable by name in :class:`Objective` (its model quantity must be
    declared by a family of the formulation that uses it)."""
    MEASURES[measure.name] = measure


def _measure(name: str) -> Measure:
    if name not in MEASURES:
        raise InputError(f"objective: unknown measure '{name}' (known: "
                         f"{', '.join(MEASURES)})")
    return MEASURES[name]


class Objective:
    """What a formulation minimises: a weighted sum of measures, or measures in
    lexicographic order.

    Parameters
    ----------
    weights
        Measure name -> weight (default ``{"makespan": 1}``), for a weighted sum.
    lexicographic
        Measure names in priority order, instead of ``weights``: the first is minimised,
        then the second among the optima of the first, and so on.

    Examples
    --------
    >>> Objective()                                          # makespan
    >>> Objective({"makespan": 1.0, "cells_written": 0.05})  # weighted
    >>> Objective(lexicographic=["makespan", "rows_written"])
    """

    def __init__(self, weights: Mapping[str, float] | None = None, *,
                 lexicographic: Sequence[str] | None = None):
        if weights is not None and lexicographic is not None:
            raise InputError("objective: give weights or lexicographic, not both")
        if lexicographic is not None:
            names = list(lexicographic)
            if not names or len(set(names)) != len(names):
                raise InputError("objective: lexicographic needs distinct measure names, got "
                                 f"{names!r}")
            self.stages: list[dict[str, float]] = [{n: 1.0} for n in names]
        else:
            w = dict(weights or {"makespan": 1.0})
            if not w:
                raise InputError("objective: weights must name at least one measure")
            for n, x in w.items():
                if not isinstance(x, int | float) or not math.isfinite(x) or x < 0:
                    raise InputError(f"objective: weight of '{n}' must be a finite number "
                                     f">= 0, got {x!r}")
            if not any(x > 0 for x in w.values()):
                raise InputError("objective: at least one measure needs a weight > 0, got "
                                 f"{w!r}")
            self.stages = [w]
        for st in self.stages:
            for n in st:
                _measure(n)

    @classmethod
    def parse(cls, text: str, name: str = "objective") -> Objective:
        """An objective from text: ``"makespan"``, a weighted sum
        ``"makespan + 0.01*cells_written"`` (``*`` or a space between weight and measure),
        or a lexicographic order ``"makespan > rows_written"``.

        Raises
        ------
        InputError
            Naming ``name`` (a flag or a study field) for a term that does not parse.
        """
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"{name}: expected a measure name or a sum of weighted measures, "
                             f"got {text!r}")
        if ">" in text:
            names = [t.strip() for t in text.split(">")]
            try:
                return cls(lexicographic=names)
            except InputError as exc:
                raise InputError(f"{name}: {str(exc).removeprefix('objective: ')}") from None
        weights: dict[str, float] = {}
        for term in text.split("+"):
            parts = term.replace("*", " ").split()
            try:
                if len(parts) == 1:
                    w, n = 1.0, parts[0]
                elif len(parts) == 2:
                    w, n = float(parts[0]), parts[1]
                else:
                    raise ValueError(term)
            except ValueError:
                raise InputError(f"{name}: cannot read the term {term.strip()!r} (write "
                                 "'measure' or 'weight*measure')") from None
            weights[n] = weights.get(n, 0.0) + w
        try:
            return cls(weights)
        except InputError as exc:
            raise InputError(f"{name}: {str(exc).removeprefix('objective: ')}") from None

    @property
    def lexicographic(self) -> bool:
        """Whether stages are minimised in order."""
        return len(self.stages) > 1

    @property
    def is_makespan(self) -> bool:
        """The default objective: makespan alone (any positive weight)."""
        return (len(self.stages) == 1 and list(self.stages[0]) == ["makespan"]
                and self.stages[0]["makespan"] > 0)

    def measures(self) -> list[str]:
        """Every measure the objective uses."""
        return [n for st in self.stages for n in st]

    def value(self, problem: Problem, schedule: Any, report: Any) -> tuple[float, ...]:
        """The evaluator's value of every stage (one element for a weighted sum)."""
        return tuple(sum(w * _measure(n).evaluate(problem, schedule, report)
                         for n, w in st.items()) for st in self.stages)

    def bound(self, problem: Problem, b: Any) -> float | None:
        """A certified lower bound on the first stage (None when a measure has none)."""
        total = 0.0
        for n, w in self.stages[0].items():
            if w == 0:
                continue
            lb = _measure(n).bound(problem, b)
            if lb is None:
                return None
            total += w * lb
        return total

    def expression(self, ctx: ModelContext, stage: int = 0) -> Any:
        """The model expression of one stage."""
        terms = []
        for n, w in self.stages[stage].items():
            q = _measure(n).quantity
            if q not in ctx:
                raise InputError(f"objective: measure '{n}' needs model quantity '{q}', which "
                                 "no family of this formulation declares")
            if w:
                terms.append(w * ctx[q])
        return sum(terms)

    def describe(self) -> str:
        """A short human-readable form (``makespan``, ``makespan + 0.05 cells_written``,
        ``makespan, then rows_written``)."""
        def one(st: dict[str, float]) -> str:
            return " + ".join(n if w == 1 else f"{w:g} {n}" for n, w in st.items())
        return ", then ".join(one(st) for st in self.stages)

    def __repr__(self) -> str:
        return f"Objective({self.describe()})"
