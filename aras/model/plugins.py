"""Code of one's own, found by name: ``"package.module:function"`` specs and entry points.

The registries of the package (methods in :mod:`aras.methods.solve`, formulation families)
take extensions in three forms, and resolve all of them here:

- a spec ``"package.module:function"`` (a dotted attribute path after the colon), imported
  with :func:`importlib.import_module` with the working directory on the import path (as
  ``python -m`` would, and as :func:`aras.evaluation.rules.load_rule` does), so the module
  must be installed, on ``PYTHONPATH`` or in the working directory;
- a spec ``"path/to/file.py:function"``, the file loaded as a module of its own (a relative
  path is taken from ``base``, e.g. the directory of the study file that names it);
- an entry point of an installed distribution, in a group such as ``aras.methods``
  (:func:`entry_points`).

Specs are what crosses process boundaries: a spawned worker or a Dask worker gets the string
and imports the object itself, so nothing has to be registered in it first. Importing a spec
runs the module's code, as any import does: a spec names code you trust.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as _installed
from pathlib import Path
from typing import Any

from aras.model.errors import InputError

#: Modules loaded from files by :func:`import_object`: module name -> the file.
_FILE_MODULES: dict[str, Path] = {}


def is_spec(text: str) -> bool:
    """Whether ``text`` is a ``module:attribute`` or ``file.py:attribute`` spec (has a colon
    with something on both sides), rather than a registered name."""
    left, sep, right = text.rpartition(":")
    return bool(sep and left and right)


def _attribute(obj: Any, path: str, spec: str, what: str) -> Any:
    for part in path.split("."):
        if not part.isidentifier():
            raise InputError(f"{what}: '{spec}': '{path}' is not an attribute path")
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise InputError(f"{what}: '{spec}': {getattr(obj, '__name__', obj)!s} has no "
                             f"attribute '{part}'") from None
    return obj


def _file_module(path: Path, spec: str, what: str) -> Any:
    """The module of a Python file, loaded once per process (the running script is reused)."""
    main = sys.modules.get("__main__")
    main_file = getattr(main, "__file__", None)
    if main_file and Path(main_file).resolve() == path:
        # The script that is running, or a spawned worker's copy of it (``__mp_main__``):
        # loading it again would run its top level a second time.
        return main
    name = "aras_file_" + hashlib.sha1(str(path).encode()).hexdigest()[:12]
    if name in sys.modules:
        return sys.modules[name]
    if not path.is_file():
        raise InputError(f"{what}: '{spec}': no file {path}")
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise InputError(f"{what}: '{spec}': {path} is not a Python file")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module  # before running it, as import does (dataclasses, pickling)
    _FILE_MODULES[name] = path
    try:
        loader_spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        del _FILE_MODULES[name]
        if isinstance(exc, Exception):
            raise InputError(f"{what}: '{spec}': loading {path} failed: "
                             f"{type(exc).__name__}: {exc}") from exc
        raise
    return module


def import_object(spec: str, what: str, base: str | Path | None = None) -> Any:
    """The object a ``"package.module:attribute"`` or ``"file.py:attribute"`` spec names.

    Parameters
    ----------
    spec
        ``module:attr`` or ``path.py:attr``; ``attr`` may be dotted (``Class.method``).
    what
        How error messages name the spec's argument or field (``method``,
        ``study.toml: methods[2]``).
    base
        Directory of a relative file path (default: the working directory).

    Returns
    -------
    object
        The attribute, imported (the module's code runs on its first import).

    Raises
    ------
    InputError
        A malformed spec, a module or file that is not there, a missing attribute, or a
        module that failed to import (the original exception is chained).

    Examples
    --------
    >>> import_object("os.path:join", "method") is __import__("os").path.join
    True
    """
    left, _, attr = spec.rpartition(":")
    if not is_spec(spec):
        raise InputError(f"{what}: '{spec}' is not a \"module:function\" spec")
    if left.endswith(".py") or "/" in left or "\\" in left:
        path = Path(left).expanduser()
        if not path.is_absolute():
            path = Path(base or Path.cwd()) / path
        return _attribute(_file_module(path.resolve(), spec, what), attr, spec, what)
    if not all(p.isidentifier() for p in left.split(".")):
        raise InputError(f"{what}: '{spec}': '{left}' is not a module name")
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:  # (the `aras` console script does not put it there)
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(left)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (left == exc.name or left.startswith(exc.name + ".")):
            raise InputError(f"{what}: '{spec}': no module named '{exc.name}' (is it "
                             "installed, on PYTHONPATH or in the working directory?)") from None
        raise InputError(f"{what}: '{spec}': importing '{left}' failed: "
                         f"{type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise InputError(f"{what}: '{spec}': importing '{left}' failed: "
                         f"{type(exc).__name__}: {exc}") from exc
    finally:
        if added:
            sys.path.remove(cwd)
    return _attribute(module, attr, spec, what)


def object_spec(obj: Any) -> str | None:
    """The spec :func:`import_object` resolves back to ``obj``, or None when there is none.

    A function or class defined at the top level of a module (or as a class attribute) has
    one: ``"package.module:name"``, or ``"/abs/path/file.py:name"`` for one defined in the
    running script or in a file loaded by :func:`import_object`. Lambdas, nested functions
    and objects that were rebound have none: no other process can import them.
    """
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str) \
            or "<" in qualname:  # <lambda>, <locals>
        return None
    module = sys.modules.get(module_name)
    if module is None:
        return None
    try:
        found = module
        for part in qualname.split("."):
            found = getattr(found, part)
    except AttributeError:
        return None
    if found is not obj:
        return None
    if module_name in _FILE_MODULES:
        return f"{_FILE_MODULES[module_name]}:{qualname}"
    if module_name in ("__main__", "__mp_main__"):
        main_file = getattr(module, "__file__", None)
        if not main_file:  # python -c, a REPL or a notebook: no file to import it from
            return None
        return f"{Path(main_file).resolve()}:{qualname}"
    return f"{module_name}:{qualname}"


def entry_points(group: str) -> dict[str, EntryPoint]:
    """The entry points of installed distributions in ``group``, by name (first one wins).

    Nothing is imported: :func:`load_entry_point` loads one.

    Examples
    --------
    A distribution declares methods in its ``pyproject.toml``::

        [project.entry-points."aras.methods"]
        greedy2 = "mypkg.heuristics:greedy2"
    """
    found: dict[str, EntryPoint] = {}
    for ep in _installed(group=group):
        found.setdefault(ep.name, ep)
    return found


def load_entry_point(ep: EntryPoint, what: str) -> Any:
    """Load an entry point; a failure is a one-line :class:`InputError` naming it.

    Raises
    ------
    InputError
        When its module fails to import or lacks the attribute (the cause is chained).
    """
    try:
        return ep.load()
    except Exception as exc:
        dist = getattr(ep.dist, "name", None)
        raise InputError(f"{what}: entry point '{ep.name}' = '{ep.value}' of group "
                         f"'{ep.group}'{f' (distribution {dist})' if dist else ''} failed to "
                         f"load: {type(exc).__name__}: {exc}") from exc


def entry_point_spec(ep: EntryPoint) -> str:
    """The ``module:attribute`` spec an entry point names (its extras dropped)."""
    return f"{ep.module}:{ep.attr}" if ep.attr else ep.module


__all__ = ["entry_point_spec", "entry_points", "import_object", "is_spec", "load_entry_point",
           "object_spec"]


def lazy_exports(package: str, table: dict[str, str]) -> Any:
    """A module ``__getattr__`` that imports each public name of ``table`` (name -> module)
    on first use, so ``import aras`` stays cheap (no Pyomo, no solvers) until a name is read.
    """

    def __getattr__(name: str) -> Any:
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
