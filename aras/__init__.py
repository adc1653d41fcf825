"""aras: offline schedules of the ARAS ReRAM processing-in-memory DNN accelerator.

The package's folders follow the data flow, and no module imports from a folder later in it:
``model/`` (hardware, networks, mapping, schedules) -> ``frontends/`` (built-ins, JSON, ONNX,
HuggingFace configs) -> ``evaluation/`` (evaluator, bounds, liveness) -> ``formulations``
(the Pyomo models, a top-level package) -> ``methods/`` (``solve``, heuristics, MILP drivers)
-> ``views/`` (Gantt, traces, plots) -> ``studies/`` (study files, runs, reports, the paper).

Short public paths for research code, loaded lazily: ``from aras import solve, load_network,
load_hardware, map_network, evaluate, Network, Schedule, Result``; for rules of one's own
checked by the evaluator, ``Rule``, ``rule`` and ``Violation``; for methods of one's own,
``register`` (:func:`aras.register` makes one known to ``solve``, studies and the CLI); for
constraints and objectives of one's own, ``Formulation``, ``Family``, ``Objective`` and
``Infeasible`` (from :mod:`formulations`, which has the rest of the framework). Also:
``Hardware`` and ``NetworkBuilder`` (hardware and networks built in code), ``InputError``
(every bad argument or file), ``bounds`` (the certified lower bounds), ``solve_steady`` and
``PeriodicSchedule`` (steady state), ``lifetime`` and ``Scenario`` (device lifetime),
``load_study``, ``run_study`` and ``load_results`` (studies).
"""

from __future__ import annotations

from aras.model.plugins import lazy_exports

__version__ = "0.1.0"

_PUBLIC = {
    "load_network": "aras.frontends",
    "load_hardware": "aras.model.hardware",
    "map_network": "aras.model.mapping",
    "evaluate": "aras.evaluation.evaluator",
    "Rule": "aras.evaluation.rules",
    "rule": "aras.evaluation.rules",
    "Violation": "aras.evaluation.rules",
    "Network": "aras.model.network",
    "Schedule": "aras.model.schedule",
    "solve": "aras.methods.solve",
    "register": "aras.methods.solve",
    "Result": "aras.methods.solve",
    "Status": "aras.methods.solve",
    "Hardware": "aras.model.hardware",
    "NetworkBuilder": "aras.model.network",
    "InputError": "aras.model.errors",
    "bounds": "aras.evaluation.bounds",
    "PeriodicSchedule": "aras.model.periodic",
    "solve_steady": "aras.methods.steady",
    "lifetime": "aras.studies.lifetime",
    "Scenario": "aras.studies.lifetime",
    "load_study": "aras.studies.study",
    "run_study": "aras.studies.run",
    "load_results": "aras.studies.run",
    # the formulation framework (the ``formulations`` package), for one import line
    "Formulation": "formulations.framework",
    "Family": "formulations.framework",
    "Objective": "formulations.framework",
    "Infeasible": "formulations.framework",
}
__all__ = sorted(_PUBLIC)


__getattr__ = lazy_exports('aras', _PUBLIC)
