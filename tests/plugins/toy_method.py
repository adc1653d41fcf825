"""A method of one's own for the tests: the baseline schedule, recorded under its own name."""

from __future__ import annotations

from typing import Any

from aras.methods.heuristics import baseline
from aras.model.mapping import Problem
from aras.model.schedule import Schedule


def toy(problem: Problem, banks: str = "greedy", **options: Any) -> Schedule:
    """The paper's baseline, recorded as method 'toy'."""
    return baseline(problem, method="toy", banks=banks)


#: Not a method: resolving it must fail with a one-line error.
NOT_A_METHOD = 42
