"""Study files: networks x hardware variants x methods x time limits x seeds.

A study file (TOML, ``instances/sets/*.toml``) names the networks, a base
hardware with variants, the methods and, for the searching methods, time
limits and seeds. :func:`load_study` validates it (one-line errors naming the
field) and expands it into :class:`Task` objects with stable ids;
:mod:`aras.studies.run` runs them.

Study file format::

    name = "sensitivity"                # optional, defaults to the file name
    networks = ["resnet50", "nets/my.json",   # built-in names or files (relative to this file):
                {network = "model.onnx", tokens = 128, name = "minilm-128"},  # with options
                {network = "llama.config.json", phase = "decode", context = 2048}]
    methods = ["baseline", "aras", "milp",    # names, or methods of one's own:
               "mypkg.heuristics:greedy2", "my_method.py:run"]  # file relative to this file
    time_limits = [30]                  # seconds, searching methods only (default [60])
    seeds = [0]                         # searching methods only (default [0])
    banks = "greedy"                    # Gbuffer bank choice for every method
    threads = 1                         # solver threads per task

    [hardware]
    base = "aras"                       # built-in name or TOML file
    include_base = true                 # the base itself is a variant named "base"

    [hardware.variants]                 # named variants: overrides of any parameter
    small = { pes = 48 }

    [hardware.sweep]                    # one variant per value, other parameters at base
    pes = [48, 192]
    write_latency_cycles = ["x0.5", "x2"]   # "xF": F times the base value
    gbuffer_banks = ["baseline"]        # bank sets: "aras", "baseline" or a list of bytes

    [options.milp]                      # keyword options of one method
    window = 6

    objective = "makespan + 0.1*cells_written"   # what to minimise (formulations.Objective)
    [[families]]                        # constraint families every task keeps
    family = "write_cap"                # a name, an aras.families entry point or a spec
    rows = 100                          # the family's options
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aras.model.errors import InputError, flag_names
from aras.model.files import read_toml
from aras.model.hardware import ARAS_BANKS, BASELINE_BANKS, Hardware, load_hardware
from aras.model.limits import MAX_BATCH, integer, number

#: Methods that search and so take a time limit and a seed.
SEARCHING = ("milp", "milp-full")
#: Keyword options a study may pass to a method.
METHOD_OPTIONS = {
    "milp": {"window", "overlap", "window_time", "lookback", "gap", "solver"},
    "milp-full": {"lookback", "gap", "solver"},
}
_BANK_SETS = {"aras": list(ARAS_BANKS), "baseline": list(BASELINE_BANKS)}
_TOP_KEYS = {"name", "description", "networks", "methods", "time_limits", "seeds", "banks",
             "families", "objective",
             "threads", "hardware", "options"}


@dataclass(frozen=True)
class Task:
    """One solve of a study.

    Attributes
    ----------
    id
        Stable identifier ``network/variant/method[/tT/sS]``; results are keyed by it.
    network
        Display name of the network (built-in name or file stem).
    network_spec
        What :func:`aras.frontends.load_network` takes (a built-in name or an absolute path).
    network_options
        Its keyword options (``tokens``, ``input_shapes``, ``phase``, ``context``).
    variant
        Hardware variant name.
    hardware
        Every hardware parameter of the variant (so a worker needs no file).
    method
        The method's name: a key of :data:`aras.methods.solve.METHODS`, an entry point's name
        or a ``"module:function"`` spec.
    method_spec
        What a worker imports to run the method (:func:`aras.methods.solve.method_spec`):
        None for the built-in methods.
    time_limit, seed
        For searching methods; None for the constructive ones.
    banks, threads
        Bank choice and solver threads.
    options
        Extra keyword options of the method.
    """

    id: str
    network: str
    network_spec: str
    variant: str
    hardware: dict[str, Any]
    method: str
    time_limit: float | None = None
    seed: int | None = None
    banks: str = "greedy"
    threads: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    network_options: dict[str, Any] = field(default_factory=dict)
    method_spec: str | None = None

    @property
    def filename(self) -> str:
        """File name of the task's schedule: the id made safe, plus a short hash."""
        safe = re.sub(r"[^A-Za-z0-9_.=-]+", "_", self.id.replace("/", "__"))
        digest = hashlib.sha1(self.id.encode()).hexdigest()[:8]
        return f"{safe}-{digest}.json"


@dataclass
class Study:
    """A validated study: its tasks and where it came from."""

    name: str
    source: Path
    tasks: list[Task]
    variants: dict[str, dict[str, Any]]
    base_variant: str | None
    sweeps: dict[str, list[str]]          # parameter -> variant names of its sweep
    description: str = ""


# --------------------------------------------------------------------------- loading

def _list(data: dict[str, Any], key: str, where: str, default: list[Any] | None = None
          ) -> list[Any]:
    v = data.get(key, default)
    if v is None:
        raise InputError(f"{where}: '{key}' is missing")
    if not isinstance(v, list) or not v:
        raise InputError(f"{where}: {key} must be a non-empty list, got {v!r}")
    return v


def _override(base: Hardware, param: str, value: Any, where: str) -> Any:
    """The value an override sets: ``"xF"`` scales the base value, bank-set names expand."""
    if param == "gbuffer_banks" and isinstance(value, str):
        if value not in _BANK_SETS:
            raise InputError(f"{where}: unknown bank set '{value}' (known: "
                             f"{', '.join(_BANK_SETS)}, or a list of byte sizes)")
        return _BANK_SETS[value]
    if isinstance(value, str) and value.startswith("x"):
        try:
            factor = float(value[1:])
        except ValueError:
            raise InputError(f"{where}: '{value}' is not a scale like \"x2\"") from None
        cur = getattr(base, param, None)
        if not isinstance(cur, (int, float)) or isinstance(cur, bool):
            raise InputError(f"{where}: '{param}' cannot be scaled")
        if not math.isfinite(factor) or factor <= 0:
            raise InputError(f"{where}: the scale must be > 0, got {value}")
        scaled = cur * factor
        return int(round(scaled)) if isinstance(cur, int) else scaled
    return value


def _variant(base: Hardware, name: str, changes: Any, where: str, *, keyed: bool = True
             ) -> dict[str, Any]:
    """Every parameter of a variant; ``keyed``: ``where`` does not name the parameter yet."""
    if not isinstance(changes, dict):
        raise InputError(f"{where}: a variant is a table of parameter overrides")
    params = base.to_dict()
    for k, v in changes.items():
        at = f"{where}.{k}" if keyed else where
        if k not in params or k == "name":
            raise InputError(f"{at}: unknown hardware parameter '{k}'")
        params[k] = _override(base, k, v, at)
    params["name"] = name
    try:
        return Hardware.from_dict(params, source=where).to_dict()
    except InputError as exc:
        # Hardware messages start with "hardware."; name the study field instead.
        raise InputError(f"{where}: {str(exc).removeprefix('hardware.')}") from None


def _value_name(v: Any) -> str:
    if isinstance(v, float) and not math.isfinite(v):  # rejected later, by the hardware check
        return str(v)
    if isinstance(v, float) and v == int(v) and abs(v) < 1e6:
        return str(int(v))
    if isinstance(v, float):
        return f"{v:g}".replace("e+0", "e").replace("e+", "e")
    if isinstance(v, list):
        return "[" + ",".join(str(x) for x in v) + "]"
    return str(v)


_NET_KEYS = {"network", "name", "tokens", "input_shapes", "phase", "context", "batch"}


def _networks(data: dict[str, Any], p: Path, w: str, layers: dict[str, set[str]] | None = None
              ) -> list[tuple[str, str, dict[str, Any]]]:
    """(display name, load spec, load options) of every network, each loaded (validated) now.

    An entry is a built-in name or a file (relative to the study file), or a table
    ``{network = ..., name = ..., tokens = ..., input_shapes = {x = [1, 3, 224, 224]},
    phase = ..., context = ..., batch = ...}`` (``batch``: inferences computed together, as
    ``--batch``; kept in the load options, the task maps the network at it).
    """
    from aras.frontends import check_options, known_names, load_network

    networks: list[tuple[str, str, dict[str, Any]]] = []
    for i, n in enumerate(_list(data, "networks", w)):
        where = f"{w}: networks[{i}]"
        label: str | None = None
        opts: dict[str, Any] = {}
        batch: int | None = None
        if isinstance(n, dict):
            bad = sorted(set(n) - _NET_KEYS)
            if bad:
                raise InputError(f"{where}.{bad[0]}: unknown key (known: "
                                 f"{', '.join(sorted(_NET_KEYS))})")
            label = n.get("name")
            if label is not None and (not isinstance(label, str) or not label):
                raise InputError(f"{where}.name: must be a non-empty string")
            opts = {k: v for k, v in n.items() if k not in ("network", "name", "batch")}
            check_options(**opts, names={k: f"{where}.{k}" for k in _NET_KEYS})
            if "batch" in n:
                batch = integer(n["batch"], f"{where}.batch", lo=1, hi=MAX_BATCH)
            shapes = opts.get("input_shapes")
            if shapes is not None:
                opts["input_shapes"] = {k: tuple(v) for k, v in shapes.items()}
            n = n.get("network")
        if not isinstance(n, str):
            raise InputError(f"{where} must be a network name or file, or a table with "
                             f"'network', got {n!r}")
        builtin = n in known_names()
        spec = n if builtin else str((p.parent / n).resolve())
        if not builtin and not Path(spec).is_file():
            raise InputError(f"{where}: '{n}' is neither a built-in network "
                             f"({', '.join(known_names())}) nor a file")
        try:
            # validates now, not in a worker an hour later; messages name the file's keys
            # (tokens), not the CLI's flags, even under `aras study`
            with flag_names(False):
                loaded = load_network(spec, **opts)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from None
        shown = label or (n if builtin and not opts else loaded.name)
        if layers is not None:
            layers[shown] = {o.name for o in loaded.ops}
        if batch is not None:
            opts["batch"] = batch
        networks.append((shown, spec, {k: (list(v) if isinstance(v, tuple) else v)
                                       for k, v in opts.items()}))
    names = [n for n, _, _ in networks]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"{w}: networks: '{dup}' is listed twice (give the entries a name)")
    return networks


def _variants(data: dict[str, Any], p: Path, w: str
              ) -> tuple[dict[str, dict[str, Any]], str | None, dict[str, list[str]]]:
    """Hardware variants (name -> every parameter), the base variant's name and the sweeps.

    A variant equal to an earlier one is not added again (its name maps to the earlier one
    in the sweeps), so no instance is solved twice.
    """
    hw_data = data.get("hardware", {})
    if not isinstance(hw_data, dict):
        raise InputError(f"{w}: hardware must be a table")
    bad = sorted(set(hw_data) - {"base", "include_base", "variants", "sweep"})
    if bad:
        raise InputError(f"{w}: hardware.{bad[0]}: unknown key")
    base_spec = hw_data.get("base", "aras")
    if not isinstance(base_spec, str):
        raise InputError(f"{w}: hardware.base must be a name or a file")
    if base_spec not in ("aras", "baseline"):
        base_spec = str((p.parent / base_spec).resolve())
    try:
        base = load_hardware(base_spec)
    except InputError as exc:
        raise InputError(f"{w}: hardware.base: {exc}") from None
    variants: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}   # hardware fingerprint -> variant name (no duplicate solves)

    def put(vname: str, params: dict[str, Any]) -> str:
        key = json.dumps({k: v for k, v in params.items() if k != "name"}, sort_keys=True)
        if key in seen:
            return seen[key]
        if vname in variants:
            raise InputError(f"{w}: hardware variant '{vname}' is defined twice")
        seen[key] = vname
        variants[vname] = params
        return vname

    include_base = hw_data.get("include_base", True)
    if not isinstance(include_base, bool):
        raise InputError(f"{w}: hardware.include_base must be true or false")
    base_variant = put("base", _variant(base, "base", {}, f"{w}: hardware.base")
                       ) if include_base else None
    named = hw_data.get("variants", {})
    if not isinstance(named, dict):
        raise InputError(f"{w}: hardware.variants must be a table of tables")
    for vname, changes in named.items():
        put(vname, _variant(base, vname, changes, f"{w}: hardware.variants.{vname}"))
    sweep = hw_data.get("sweep", {})
    if not isinstance(sweep, dict):
        raise InputError(f"{w}: hardware.sweep must be a table of lists")
    sweeps: dict[str, list[str]] = {}
    for param, values in sweep.items():
        values = _list(sweep, param, f"{w}: hardware.sweep")
        sweeps[param] = []
        for i, v in enumerate(values):
            vname = f"{param}={_value_name(v)}"
            got = put(vname, _variant(base, vname, {param: v},
                                      f"{w}: hardware.sweep.{param}[{i}]", keyed=False))
            sweeps[param].append(got)
    if not variants:
        raise InputError(f"{w}: no hardware variant (include_base = false and none given)")
    return variants, base_variant, sweeps


def _families_and_objective(data: dict[str, Any], w: str, p: Path) -> dict[str, Any]:
    """The study's ``families`` (tables with a ``family`` key) and ``objective`` (text),
    checked now: every family resolves to a factory and the objective parses."""
    from formulations.framework import FAMILIES, Objective

    out: dict[str, Any] = {}
    fams = data.get("families", [])
    if not isinstance(fams, list):
        raise InputError(f"{w}: families must be a list of tables ([[families]])")
    for i, f in enumerate(fams):
        if not isinstance(f, dict) or not isinstance(f.get("family"), str):
            raise InputError(f"{w}: families[{i}] must be a table with a 'family' name")
        name = f["family"]
        if name not in FAMILIES and ":" not in name:
            from aras.model.plugins import entry_points

            if name not in entry_points("aras.families"):
                raise InputError(f"{w}: families[{i}].family: unknown family {name!r} "
                                 f"(known: {', '.join(sorted(FAMILIES))}; or "
                                 "'package.module:factory')")
        elif ":" in name:
            mod, _, attr = name.partition(":")
            if mod.endswith(".py") and not Path(mod).is_absolute():
                f = {**f, "family": f"{(p.parent / mod).resolve()}:{attr}"}
        fams[i] = f
    if fams:
        out["families"] = fams
    if "objective" in data:
        Objective.parse(data["objective"], f"{w}: objective")
        out["objective"] = data["objective"]
    return out


def load_study(path: str | Path, *, methods: list[Any] | None = None) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path
        A TOML study file (format in this module's docstring).
    methods
        Replaces the file's ``methods``: names, ``"module:function"`` specs (a relative
        ``file.py`` from the working directory) or functions defined at the top level of a
        module or script, as :func:`aras.methods.solve.method_spec` takes them. Worker
        processes import every method that is not built in, so a method registered with
        :func:`aras.register` reaches them as its function's spec.

    Returns
    -------
    Study
        The study with its tasks expanded, searching methods first.

    Raises
    ------
    InputError
        On a missing or malformed file or any invalid field (the message names it).
    """
    from aras.methods.solve import BANK_MODES, check_options, method_spec

    p = Path(path)
    data = read_toml(p, "study")
    w = p.name
    if data.get("kind") == "steady":
        raise InputError(f"{w}: kind = \"steady\" is a steady-state set, which `aras study` does "
                         f"not run; run: python benchmarks/steady_table.py --set {p}")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise InputError(f"{w}: unknown key '{unknown[0]}' (known: {', '.join(sorted(_TOP_KEYS))})")
    name = data.get("name", p.stem)
    if not isinstance(name, str) or not name:
        raise InputError(f"{w}: name must be a non-empty string")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InputError(f"{w}: description must be a string, got {description!r}")

    layers: dict[str, set[str]] = {}
    networks = _networks(data, p, w, layers)

    # Each method is resolved (a spec imported) now, and carried to the workers as a spec
    # they import, since a registration made in this process does not reach them.
    if methods is None:
        specs = [method_spec(m, f"{w}: methods[{i}]", str(p.parent))
                 for i, m in enumerate(_list(data, "methods", w))]
    else:
        if not isinstance(methods, (list, tuple)) or not methods:
            raise InputError(f"methods: a non-empty list of methods, got {methods!r}")
        specs = [method_spec(m, f"methods[{i}]") for i, m in enumerate(methods)]
    spec_of = dict(specs)
    if len(spec_of) != len(specs):
        raise InputError(f"{w if methods is None else 'methods'}: a method is listed twice")
    # Every option is checked as `aras solve` checks its flags (the same function), so that
    # no task fails an hour later on a value the file could have been refused for now.
    time_limits = _list(data, "time_limits", w, [60])
    for i, t in enumerate(time_limits):
        number(t, f"{w}: time_limits[{i}]", lo=0, lo_open=True)
    seeds = _list(data, "seeds", w, [0])
    for i, s in enumerate(seeds):
        check_options(None, {"seed": s}, {"seed": f"{w}: seeds[{i}]"})
    banks = data.get("banks", "greedy")
    if not isinstance(banks, str) or banks not in BANK_MODES:
        raise InputError(f"{w}: banks must be one of {', '.join(BANK_MODES)}, got {banks!r}")
    threads = data.get("threads", 1)
    check_options(None, {"threads": threads}, {"threads": f"{w}: threads"})
    common = _families_and_objective(data, w, p)
    # A study's families apply to every network: a layer one of them lacks would fail each
    # of that network's tasks at run time, so it is refused now.
    for i, f in enumerate(common.get("families", [])):
        named = f.get("layers", f.get("layer"))
        for layer in [named] if isinstance(named, str) else (
                named if isinstance(named, list) else []):
            missing = [n for n, have in layers.items()
                       if isinstance(layer, str) and layer not in have]
            if missing:
                raise InputError(f"{w}: families[{i}]: layer {layer!r} is not in network "
                                 f"'{missing[0]}' (a study's families apply to every network)")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise InputError(f"{w}: options must be a table of method tables")
    for m, opts in options.items():
        if m not in METHOD_OPTIONS:
            raise InputError(f"{w}: options.{m}: only {', '.join(METHOD_OPTIONS)} take options")
        if not isinstance(opts, dict):
            raise InputError(f"{w}: options.{m} must be a table")
        bad = sorted(set(opts) - METHOD_OPTIONS[m])
        if bad:
            raise InputError(f"{w}: options.{m}.{bad[0]}: unknown option (known: "
                             f"{', '.join(sorted(METHOD_OPTIONS[m]))})")
        check_options(m, opts, {k: f"{w}: options.{m}.{k}" for k in opts})

    variants, base_variant, sweeps = _variants(data, p, w)

    tasks: list[Task] = []
    for net, spec, net_opts in networks:
        for vname, params in variants.items():
            for m, mspec in spec_of.items():
                opts = {**common, **options.get(m, {})}
                if m in SEARCHING:
                    for t in time_limits:
                        for s in seeds:
                            tasks.append(Task(f"{net}/{vname}/{m}/t{_value_name(float(t))}/s{s}",
                                              net, spec, vname, params, m, float(t), s, banks,
                                              threads, opts, net_opts, mspec))
                else:
                    tasks.append(Task(f"{net}/{vname}/{m}", net, spec, vname, params, m,
                                      banks=banks, threads=threads, options=opts,
                                      network_options=net_opts, method_spec=mspec))
    # Longest first: searching tasks take their whole time limit, so starting them
    # early keeps the workers busy to the end (a classic LPT order).
    tasks.sort(key=lambda t: -(t.time_limit or 0.0))
    return Study(name, p, tasks, variants, base_variant, sweeps, description)


__all__ = ["Task", "Study", "load_study", "SEARCHING", "METHOD_OPTIONS"]
