"""aras: offline schedules of the ARAS ReRAM processing-in-memory DNN accelerator.

Short public paths for research code: ``from aras import solve, load_network, load_hardware,
map_network, evaluate``. They load lazily, except ``solve``, whose module has the same name
(a submodule, once imported, would shadow a lazy attribute).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

from aras.solve import Result as Result  # noqa: E402
from aras.solve import solve as solve  # noqa: E402  (see the module docstring)

_PUBLIC = {
    "load_network": "aras.frontends",
    "load_hardware": "aras.hardware",
    "map_network": "aras.mapping",
    "evaluate": "aras.evaluator",
    "Network": "aras.network",
    "Schedule": "aras.schedule",
}
__all__ = sorted([*_PUBLIC, "Result", "solve"])


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'aras' has no attribute {name!r}")
