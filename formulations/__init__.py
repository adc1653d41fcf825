"""Pyomo MILP formulations of ARAS scheduling decisions.

The event model (replication and write scheduling) is assembled from named constraint
families (:mod:`formulations.families`) by a :class:`Formulation`
(:mod:`formulations.framework`); research code adds families, changes the :class:`Objective`,
solves with any installed solver (:mod:`formulations.solvers`) and gets schedules back. The
other models (:mod:`formulations.banks`, :mod:`formulations.liveness`,
:mod:`formulations.resident`, :mod:`formulations.binding`) are separate post-passes.

Short paths, loaded lazily::

    from formulations import (Formulation, Family, Objective, default_families,
                              ReplicationCap, WriteCap, schedule_from, incumbent_from_schedule)
"""

from __future__ import annotations

from aras.model.plugins import lazy_exports

_PUBLIC = {
    "Formulation": "formulations.framework",
    "FormulationResult": "formulations.framework",
    "Family": "formulations.framework",
    "ModelContext": "formulations.framework",
    "Quantity": "formulations.framework",
    "Objective": "formulations.objectives",
    "Measure": "formulations.objectives",
    "MEASURES": "formulations.objectives",
    "register_measure": "formulations.objectives",
    "register_family": "formulations.framework",
    "family_from_spec": "formulations.framework",
    "Infeasible": "formulations.framework",
    "diagnose": "formulations.framework",
    "default_families": "formulations.families",
    "families_from": "formulations.families",
    "CORE_FAMILIES": "formulations.families",
    "ReplicationCap": "formulations.families",
    "WriteCap": "formulations.families",
    "WritePowerCap": "formulations.families",
    "RowsWrittenCap": "formulations.families",
    "max_concurrent_writes": "formulations.families",
    "Precision": "formulations.precision",
    "greedy_precision": "formulations.precision",
    "knapsack_precision": "formulations.precision",
    "candidates": "formulations.precision",
    "load_errors": "formulations.precision",
    "assignment_error": "formulations.precision",
    "Incumbent": "formulations.window",
    "schedule_from": "formulations.window",
    "incumbent_from_schedule": "formulations.window",
    "timing": "formulations.window",
}
__all__ = sorted(_PUBLIC)


__getattr__ = lazy_exports('formulations', _PUBLIC)
