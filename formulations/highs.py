"""HiGHS helpers shared by the formulations' drivers."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo


def warm_start(opt: Any, m: pyo.ConcreteModel) -> None:
    """Hand HiGHS the model's current variable values as a MIP start (highspy ``setSolution``).

    ``opt`` is a Pyomo contrib ``highs`` solver after ``set_instance(m)``. Variables
    without a value start at 0. Pyomo's contrib interface has no MIP-start option of its
    own, hence the reach into the solver object.
    """
    import highspy

    h = opt._solver_model
    vmap = opt._pyomo_var_to_solver_var_map
    values = [0.0] * h.getNumCol()
    for v in m.component_data_objects(pyo.Var):
        if id(v) in vmap and v.value is not None:
            values[vmap[id(v)]] = float(v.value)
    sol = highspy.HighsSolution()
    sol.col_value = values
    h.setSolution(sol)
