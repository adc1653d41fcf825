"""Trained models that PyPI packages ship inside their wheels: where the files are installed.

``benchmarks/real_models_gap.py`` and ``benchmarks/precision_models.py`` each keep a registry
of such models (a package, the module that holds the file, the file's path inside it); both
locate the files and look their entries up here. Nothing is imported to find a file, so a
package that is slow to import, or broken, does not stand in the way.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol, TypeVar


def package_dir(module: str) -> Path | None:
    """The folder of the installed package ``module``, found without importing it.

    Returns
    -------
    Path or None
        None when ``module`` is not installed, or is a single-file module (no folder to ship
        data files in).
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, resource: str) -> Path | None:
    """The file ``resource`` (a path inside the folder of package ``module``), or None when
    the package is not installed or does not hold that file."""
    folder = package_dir(module)
    if folder is None:
        return None
    path = folder / resource
    return path if path.is_file() else None


class _Named(Protocol):
    @property
    def name(self) -> str: ...


Entry = TypeVar("Entry", bound=_Named)


def by_name(entries: Iterable[Entry], name: str, unknown: str) -> Entry:
    """The entry of a registry called ``name``.

    Raises
    ------
    KeyError
        ``"{unknown} {name!r}; known: ..."`` with every known name, in registry order.
    """
    entries = list(entries)
    for e in entries:
        if e.name == name:
            return e
    raise KeyError(f"{unknown} {name!r}; known: {', '.join(e.name for e in entries)}")
