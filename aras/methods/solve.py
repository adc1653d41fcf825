"""One entry point for every method: ``solve(problem, method=...) -> Result``.

Methods only produce a :class:`~aras.model.schedule.Schedule`; :func:`solve` times
them, hands the schedule to the evaluator and attaches the bounds, so every
figure a Result carries comes from the same evaluator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from aras.evaluation.bounds import Bounds, bounds
from aras.evaluation.evaluator import Report, evaluate
from aras.evaluation.rules import as_rules
from aras.methods.heuristics import aras, baseline, greedy_replication, jit, naive
from aras.model.errors import InputError, arg_name, expect
from aras.model.limits import integer, number
from aras.model.mapping import Problem
from aras.model.precision import describe
from aras.model.schedule import Schedule
from formulations.framework import Objective


class Status(StrEnum):
    """Outcome of a solve (explicit, like linopy's status maps)."""

    OPTIMAL = "optimal"          # makespan equals a certified lower bound
    FEASIBLE = "feasible"        # a valid schedule, optimality not proven
    TIME_LIMIT = "time_limit"    # stopped by the time limit, with a valid schedule
    INFEASIBLE = "infeasible"    # no valid schedule found
    ERROR = "error"              # the method or a solver failed (a valid fallback schedule
    #                              may still be attached; the messages say what failed)


Method = Callable[..., Schedule]


def _search_deadline(time_limit: float | None) -> float | None:
    """When a search given ``time_limit`` seconds stops (``time.perf_counter()``): at three
    quarters of it, leaving the rest to assemble the schedule (seconds on networks of
    thousands of parts)."""
    return None if time_limit is None else time.perf_counter() + 0.75 * time_limit

#: Gbuffer bank choices (``--banks``).
BANK_MODES = ("greedy", "exact", "ilp", "liveness")

#: Registered methods. Each takes the problem and keyword options and returns a Schedule.
METHODS: dict[str, Method] = {
    "naive": lambda problem, banks="greedy", **_: naive(problem, banks=banks),
    "baseline": lambda problem, banks="greedy", **_: baseline(problem, banks=banks),
    "greedy-replication": lambda problem, banks="greedy", **_: greedy_replication(
        problem, banks=banks),
    "aras": lambda problem, banks="greedy", **_: aras(problem, banks=banks),
    "jit": lambda problem, banks="greedy", time_limit=None, **_: jit(
        problem, banks=banks, deadline=_search_deadline(time_limit)),
}


def _milp(full: bool) -> Method:
    def run(problem: Problem, **options: Any) -> Schedule:
        from aras.methods.milp import milp

        return milp(problem, full=full, **options)

    return run


METHODS["milp"] = _milp(False)
METHODS["milp-full"] = _milp(True)


#: The shipped methods as shipped (:func:`register` may replace one when asked to).
_SHIPPED: dict[str, Method] = dict(METHODS)
#: Keyword options the shipped methods take through :func:`solve` (the MILP's).
_OPTIONS = frozenset({"window", "overlap", "window_time", "lookback", "candidates",
                      "keep_order", "solver", "threads", "seed", "gap", "dump_model",
                      "stats", "certified_bound"})

#: One line per method (``aras methods``).
DESCRIPTIONS: dict[str, str] = {
    "naive": "paper Fig. 7: write a part's weights, then compute it; no overlap",
    "baseline": "paper Fig. 8: layer by layer; released rows take the next tiles in order",
    "greedy-replication": "baseline writes with the prior work's greedy replication",
    "aras": "baseline writes with ARAS adaptive replication (paper Algorithm 1)",
    "jit": "just-in-time writes, replication by coordinate descent; exact where the "
           "order-prefix DP finishes (not in the paper)",
    "milp": "rolling-horizon MILP of the event model, from the best heuristic (searches)",
    "milp-full": "the event-model MILP over the whole network, from the best heuristic "
                 "(searches; small networks)",
}


#: Search options (``aras solve`` flags, study ``options``): what each must be.
MAX_THREADS = 1024
MAX_WINDOW = 1 << 16
MAX_SEED = (1 << 31) - 1  # HiGHS's random_seed is a C int


def check_options(method: str | Method | None, options: Mapping[str, Any],
                  names: Mapping[str, str] | None = None) -> None:
    """Check a solve's method and search options before any work (one-line errors).

    The same checks serve :func:`solve` (messages name its arguments, ``window``), ``aras
    solve`` (under :func:`~aras.model.errors.flag_names` they name the flags, ``--window``)
    and study files (``names`` maps each option to its field, ``options.milp.window``).
    Options that are absent or None are not checked; unknown keys are the caller's concern.
    ``method`` None checks the options alone; a method is resolved as :func:`resolve_method`
    does (importing a ``"module:function"`` spec).

    Raises
    ------
    InputError
        Naming the option: an unknown method or bank mode, a value of the wrong type, out of
        range or not finite, an unknown or unavailable solver.
    """
    def name(key: str) -> str:
        return (names or {}).get(key) or arg_name(key)

    def given(key: str) -> bool:
        return options.get(key) is not None

    if method is not None:
        resolve_method(method, name("method"))
    if given("banks") and options["banks"] not in BANK_MODES:
        raise InputError(f"{name('banks')}: unknown bank mode {options['banks']!r} (known: "
                         f"{', '.join(BANK_MODES)})")
    if given("time_limit"):
        number(options["time_limit"], name("time_limit"), lo=0, lo_open=True)
    if given("window_time"):
        number(options["window_time"], name("window_time"), lo=0, lo_open=True)
    if given("gap"):
        number(options["gap"], name("gap"), lo=0, hi=1, hi_open=True)
    if given("threads"):
        integer(options["threads"], name("threads"), lo=1, hi=MAX_THREADS)
    if given("seed"):
        integer(options["seed"], name("seed"), lo=0, hi=MAX_SEED)
    if given("lookback"):
        integer(options["lookback"], name("lookback"), lo=1, hi=MAX_WINDOW)
    window = 6 if not given("window") else integer(options["window"], name("window"), lo=1,
                                                   hi=MAX_WINDOW)
    if given("overlap"):
        overlap = integer(options["overlap"], name("overlap"), lo=0)
        if overlap >= window:
            raise InputError(f"{name('overlap')}: parts shared by windows must be fewer than "
                             f"the window's {window}, got {overlap}")
    if given("solver"):
        if not isinstance(options["solver"], str):
            raise InputError(f"{name('solver')}: must be a solver name, got "
                             f"{options['solver']!r}")
        if isinstance(method, str) and method.startswith("milp"):
            from formulations.solvers import check_solver

            try:
                check_solver(options["solver"])
            except InputError as exc:
                # formulations.solvers names the argument; say it the caller's way
                raise InputError(f"{name('solver')}: "
                                 f"{str(exc).removeprefix('solver: ')}") from None


# --------------------------------------------------------------------------- methods of one's own

#: The methods this package ships; :func:`register` replaces one only when asked to.
BUILTIN_METHODS = frozenset(METHODS)
#: Entry-point group of methods that installed distributions provide.
ENTRY_POINT_GROUP = "aras.methods"


def register(name: str, fn: Method, description: str | None = None, *,
             replace: bool = False) -> None:
    """Make a method of one's own known by name to :func:`solve`, studies and ``aras``.

    A method is a function ``fn(problem, **options) -> Schedule``. :func:`solve` calls it as
    ``fn(problem, time_limit=..., banks=..., **options)``: ``time_limit`` in seconds or None
    (a method that does not search may ignore it), ``banks`` the per-step Gbuffer bank choice
    (``greedy``, ``exact`` or ``ilp``; :class:`~aras.methods.heuristics.engine.Builder`
    applies it), and whatever keyword options the caller gave :func:`solve` (a study adds
    ``threads`` and ``seed`` to searching methods). Accept ``**options`` so that options
    meant for other methods do not break yours. :func:`solve` times the call, evaluates the
    schedule with the package's evaluator and attaches the bounds; an exception becomes a
    result with status ``error`` (an :class:`~aras.model.errors.InputError` is raised).

    A registration lives in the process that made it. Worker processes of a study (spawned
    or on a Dask cluster) import the function instead, by its ``"module:function"`` spec,
    so ``fn`` must be defined at the top level of a module or of the running script (not a
    lambda or a nested function) for a study to run it; :func:`solve` takes any callable.

    Parameters
    ----------
    name
        The method's name: no spaces, ``/`` or ``:`` (a colon marks a spec).
    fn
        The method.
    description
        One line for ``aras methods`` (default: the first line of ``fn``'s docstring).
    replace
        Allow replacing a built-in method (another registration of yours is replaced
        without it).

    Raises
    ------
    InputError
        A malformed name, ``fn`` not callable, or a built-in name without ``replace``.

    Examples
    --------
    >>> import aras
    >>> from aras.methods.heuristics import aras as aras_method, jit
    >>> def best_of(problem, banks="greedy", **options):
    ...     '''The shorter of the aras and jit schedules.'''
    ...     found = [aras_method(problem, banks=banks), jit(problem, banks=banks)]
    ...     return min(found, key=lambda s: s.makespan)
    >>> aras.register("best-of", best_of)
    >>> problem = aras.map_network(aras.load_network("resnet50"), aras.load_hardware("aras"))
    >>> aras.solve(problem, method="best-of").status.value
    'feasible'
    """
    if not isinstance(name, str) or not name or any(c in name for c in ":/") \
            or any(c.isspace() for c in name):
        raise InputError(f"name: a method name is a non-empty string without spaces, '/' or "
                         f"':', got {name!r}")
    if not callable(fn):
        raise InputError(f"fn: a method is a function (problem, **options) -> Schedule, got "
                         f"{fn!r}")
    if name in BUILTIN_METHODS and not replace and METHODS.get(name) is not fn:
        raise InputError(f"name: '{name}' is a built-in method (replace=True replaces it)")
    METHODS[name] = fn
    doc = (fn.__doc__ or "").strip().splitlines()
    DESCRIPTIONS[name] = description or (doc[0] if doc else "")


def known_methods() -> list[str]:
    """Every method name :func:`resolve_method` takes: registered, then entry points."""
    from aras.model.plugins import entry_points

    return [*METHODS, *(n for n in entry_points(ENTRY_POINT_GROUP) if n not in METHODS)]


def _label(fn: Method) -> str:
    """The name of an unregistered function in results: its spec (the file's name only)."""
    from pathlib import Path

    from aras.model.plugins import object_spec

    spec = object_spec(fn)
    if spec is None:
        return str(getattr(fn, "__qualname__", None) or repr(fn))
    left, _, attr = spec.rpartition(":")
    return f"{Path(left).name}:{attr}" if left.endswith(".py") else spec


def resolve_method(method: str | Method, what: str | None = None,
                   base: str | None = None) -> tuple[str, Method]:
    """The name and function of a method given by name, spec or function.

    Looked up in this order: a registered name (:data:`METHODS`, :func:`register`); a
    ``"package.module:function"`` or ``"file.py:function"`` spec, imported (see
    :func:`aras.model.plugins.import_object`); an entry point of the ``aras.methods`` group
    of an installed distribution. A function is taken as it is.

    Parameters
    ----------
    method
        The name, spec or function.
    what
        How messages name the argument (default ``method``, ``--method`` under the CLI).
    base
        Directory of a relative ``file.py`` spec (default: the working directory).

    Returns
    -------
    tuple
        ``(name, function)``: a spec's name is the spec; an unregistered function's is
        its ``module:function`` spec.

    Raises
    ------
    InputError
        An unknown name, a spec that does not import, or an object that is not callable.
    """
    from aras.model.plugins import entry_points, import_object, is_spec, load_entry_point

    what = what or arg_name("method")
    if callable(method):
        named = next((n for n, f in METHODS.items() if f is method), None)
        return named or _label(method), method
    if not isinstance(method, str):
        raise InputError(f"{what}: a method is a name, a \"module:function\" spec or a "
                         f"function, got {method!r}")
    if method in METHODS:
        return method, METHODS[method]
    if is_spec(method):
        fn = import_object(method, what, base)
    else:
        ep = entry_points(ENTRY_POINT_GROUP).get(method)
        if ep is None:
            raise InputError(f"{what}: unknown method '{method}' (known: "
                             f"{', '.join(known_methods())}; or a \"module:function\" spec)")
        fn = load_entry_point(ep, what)
    if not callable(fn):
        raise InputError(f"{what}: '{method}' is a {type(fn).__name__}, not a method "
                         "(a function (problem, **options) -> Schedule)")
    return method, fn


def method_spec(method: str | Method, what: str | None = None, base: str | None = None
                ) -> tuple[str, str | None]:
    """The name of a method and what another process imports to run it.

    Studies hand this spec to their workers (spawned processes, Dask workers), which
    resolve it with :func:`resolve_method` and so need no registration of their own.

    Returns
    -------
    tuple
        ``(name, spec)``: spec None for the built-in methods (every worker has them), the
        ``"module:function"`` (or absolute ``"/path/file.py:function"``) of anything else.

    Raises
    ------
    InputError
        As :func:`resolve_method`, and for a function no other process can import: a
        lambda, a nested function, or one defined in a REPL or notebook.
    """
    from pathlib import Path

    from aras.model.plugins import entry_point_spec, entry_points, is_spec, object_spec

    what = what or arg_name("method")
    name, fn = resolve_method(method, what, base)
    if name in BUILTIN_METHODS and METHODS.get(name) is fn:
        return name, None
    if isinstance(method, str) and is_spec(method):
        left, _, attr = method.rpartition(":")
        if left.endswith(".py") or "/" in left or "\\" in left:
            path = Path(left).expanduser()
            return name, f"{(Path(base or Path.cwd()) / path).resolve()}:{attr}"
        return name, method
    if isinstance(method, str) and method not in METHODS:
        return name, entry_point_spec(entry_points(ENTRY_POINT_GROUP)[method])
    spec = object_spec(fn)
    if spec is None:
        raise InputError(f"{what}: method '{name}' cannot be imported by worker processes "
                         "(a lambda, a nested function, or defined in a REPL or notebook): "
                         "define it at the top level of a module or script")
    return name, spec


@dataclass
class Result:
    """What a solve returns.

    Attributes
    ----------
    method, status
        Method name and :class:`Status`.
    objective
        The evaluator's value of the active objective: the makespan in cycles by default
        (None without a valid schedule); for a lexicographic objective, its first stage.
    bound
        Best certified lower bound on the objective (cycles for the makespan; None when a
        measure of a custom objective has none).
    gap
        ``objective / bound - 1`` (None without a valid schedule or a bound).
    runtime_s
        Wall time of the method (evaluation excluded).
    schedule, report
        The schedule and its evaluation.
    bounds
        Every bound (write, chain, area).
    messages
        Notes from the method (fallbacks, warnings).
    """

    method: str
    status: Status
    objective: int | float | None
    bound: int | float | None
    gap: float | None
    runtime_s: float
    schedule: Schedule | None
    report: Report | None
    bounds: Bounds
    messages: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, problem: Problem) -> dict[str, Any]:
        """The JSON report of ``aras solve --json``."""
        hw = problem.hardware
        rep = self.report
        d: dict[str, Any] = {
            "network": problem.network.name, "hardware": hw.name, "method": self.method,
            "status": self.status.value,
            "makespan_cycles": rep.makespan_cycles if rep and rep.valid else None,
            "objective": self.objective,
            "latency_s": rep.latency_s if rep and rep.valid else None,
            "throughput_inf_s": rep.throughput_inf_s if rep and rep.valid else None,
            "lower_bound_cycles": self.bounds.lower, "write_bound_cycles": self.bounds.write,
            "bounds_cycles": self.bounds.to_dict(),
            "gap": (rep.makespan_cycles / self.bounds.lower - 1
                    if rep and rep.valid and self.bounds.lower > 0 else self.gap),
            "energy_j": rep.energy.to_dict() if rep and rep.valid else None,
            "write_pulses": rep.write_pulses if rep else None,
            "runtime_s": self.runtime_s, "valid": bool(rep and rep.valid),
            "messages": self.messages,
        }
        if rep and rep.valid:
            d.update({k: v for k, v in rep.to_dict().items()
                      if k not in d and k not in ("valid", "violations")})
        elif rep:
            d["violations"] = [str(v) for v in rep.violations]
        d.update(self.stats)
        return d


def solve(problem: Problem, method: str | Method = "jit", time_limit: float | None = None,
          *, banks: str = "greedy", reuse: bool = False, weights: Any = None,
          bank_time_limit: float = 10.0,
          progress: Callable[[dict[str, Any]], None] | None = None,
          families: Sequence[Any] | None = None, objective: Objective | str | None = None,
          start: Schedule | None = None, rules: Iterable[Any] | None = None,
          **options: Any) -> Result:
    """Schedule a mapped problem with one method and evaluate the result.

    Parameters
    ----------
    problem
        The mapped network (see :func:`aras.model.mapping.map_network`).
    method
        A registered name (:data:`METHODS`, :func:`register`), a ``"package.module:function"``
        or ``"file.py:function"`` spec, the name of an ``aras.methods`` entry point, or a
        function ``(problem, **options) -> Schedule`` (see :func:`resolve_method`). The
        default, ``jit``, is the best of the methods that finish in seconds on networks of
        every size (``aras methods`` states the rule).
    time_limit
        Seconds for methods that search (ignored by the constructive ones).
    banks
        Gbuffer bank choice: ``greedy`` (smallest fit), ``exact`` or ``ilp`` per compute
        step, or ``liveness``: tensors keep their banks from producer to last consumer
        (or are spilled to DRAM), chosen by the MILP of :mod:`formulations.liveness` after
        the method has fixed the timing.
    reuse
        Apply adaptive partial weight reuse (shift layers to a common center).
    weights
        Real weight codes per layer, for reuse and pulse counting; by default those the
        network carries (``Network.codes``, e.g. an ONNX file's INT8 initializers), else
        the statistical model.
    bank_time_limit
        Seconds for the liveness bank MILP (``banks="liveness"`` only).
    progress
        MILP methods: called once the model is built and after every window with a dict of
        ``window``, ``windows``, ``sweep``, ``incumbent_cycles``, ``bound_cycles`` and
        ``elapsed_s`` (see :func:`aras.methods.milp.milp`); other methods ignore it.
    families
        Constraint families of :mod:`formulations.families` beyond the core ones (objects,
        names, or ``{"family": name, **options}`` tables). The MILP methods state them in
        their model; every method runs on the problem they tighten (e.g. a write cap's
        write slots), and the evaluator checks every family's rule, so a schedule that
        breaks one is never returned under a success status. Bounds are those of the
        tightened problem.
    objective
        What to minimise (:class:`formulations.Objective`, or its text for
        :meth:`~formulations.Objective.parse`; default makespan): the MILP methods optimise
        it; every method's ``objective``, ``bound`` and ``gap`` report it.
    start
        MILP methods: a schedule to start from (repaired or refused when it breaks a family).
    rules
        Rules of one's own (:class:`aras.evaluation.rules.Rule` objects or functions), which
        the evaluator checks after R1-R8: a schedule breaking one comes back with
        :attr:`Status.ERROR`, its violations in ``report.violations``. The methods do not
        know them.
    **options
        Passed to the method.

    Returns
    -------
    Result
        ``infeasible`` when the families are proven unable to hold together (the messages
        name the clashing families and layers), ``error`` when a method fails or its
        schedule breaks a rule.

    Raises
    ------
    InputError
        When the method is unknown or an option is invalid (the message names the argument),
        ``rules[i]`` when it is no rule.
    """
    # before any work, not inside a method after the bounds
    expect(problem, Problem, "problem", "map a network first: map_network(network, hardware)")
    if objective is not None:
        expect(objective, (Objective, str), "objective")
    if start is not None:
        expect(start, Schedule, "start", "load a file with Schedule.load(path)")
    check_options(method, {"banks": banks, "time_limit": time_limit, **options})
    if isinstance(method, str) and METHODS.get(method) is _SHIPPED.get(method):
        # the shipped methods take the MILP's options (a study gives every method the same
        # ones) and nothing else: a misspelt option would otherwise be silently dropped
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise InputError(f"{arg_name(unknown[0])}: not an option of {method!r} (options: "
                             f"{', '.join(sorted(_OPTIONS))})")
    method, run = resolve_method(method)
    rules = list(rules) if isinstance(rules, Iterator) else rules  # (read once below)
    as_rules(rules)
    from formulations.families import CORE_FAMILIES, families_from
    from formulations.framework import Infeasible

    fams = families_from(families, problem) if families else []
    custom = [f for f in fams if f.name not in CORE_FAMILIES]
    if isinstance(objective, str):  # a study file's or the CLI's text
        objective = Objective.parse(objective, arg_name("objective"))
    objective = objective or Objective()
    family_rules = [r for f in custom if (r := f.rule()) is not None]
    original = problem
    # every method runs on the problem the families tighten (a write cap's slots): its
    # heuristics then keep those families by construction, and its bounds know them
    tightened_by: list[str] = []
    for f in custom:
        nxt = f.tighten(problem)
        if nxt is not problem and not getattr(f, "chooses_precision", False):
            tightened_by.append(f.name)
        problem = nxt
    if reuse:
        from aras.methods.reuse import check_reuse

        check_reuse(problem.hardware)
    if weights is None:
        weights = problem.network.codes
    # bounds of the problem every schedule the families admit is at least as long as (a
    # precision choice's: the fewest bits of its candidates)
    relaxed = problem
    for f in custom:
        relaxed = f.relax(relaxed)
    b = bounds(relaxed)
    if relaxed is not problem:
        messages_pre = ["bounds: of the problem at the fewest bits of the precision candidates "
                        "(they hold for every choice)"]
    else:
        messages_pre = []
    t0 = time.perf_counter()
    messages: list[str] = list(b.notes) + messages_pre
    stats: dict[str, Any] = {}
    #: solver failures: the result's status is then ERROR, whatever schedule came back
    solver_failures: list[str] = []
    # Liveness banks are a post-pass on the finished timing (banks never change timing), so
    # the method itself runs with the cheap per-step smallest fit, rewritten afterwards.
    step_banks = "greedy" if banks == "liveness" else banks
    if method.startswith("milp"):
        options.setdefault("certified_bound", b.lower)
        if progress is not None:
            options["progress"] = progress
        if families:
            options["families"] = fams
        if not objective.is_makespan:
            options["objective"] = objective
        if start is not None:
            options["start"] = start
    elif start is not None:
        messages.append(f"start: ignored by {method} (only the MILP methods take one)")
    try:
        if method.startswith("milp"):
            from aras.methods.milp import StartRefused
            try:
                sched = run(original, time_limit=time_limit, banks=step_banks, **options)
            except Infeasible as exc:
                return Result(method, Status.INFEASIBLE, None, b.lower, None,
                              time.perf_counter() - t0, None, None, b,
                              messages + [str(exc)],
                              {"infeasible": {"families": exc.families,
                                              "layers": exc.layers}})
            except StartRefused as exc:
                return Result(method, Status.ERROR, None, b.lower, None,
                              time.perf_counter() - t0, None, None, b, messages + [str(exc)])
        else:
            try:
                sched = run(problem, time_limit=time_limit, banks=step_banks, **options)
            except InputError as exc:
                if problem is original:
                    raise
                # a method that cannot keep the families (on the tightened problem) fails
                # by the families' doing
                raise InputError(f"{exc} (under the families "
                                 f"{', '.join(f.name for f in custom)}: another method, e.g. "
                                 "aras, baseline or milp, keeps them)") from None
        if not isinstance(sched, Schedule):
            return Result(method, Status.ERROR, None, b.lower, None, time.perf_counter() - t0,
                          None, None, b, messages + [
                              f"method {method!r} returned {type(sched).__name__}, not a "
                              "Schedule"])
        if problem is not original:
            sched.hardware = original.hardware.to_dict()
        if reuse:
            from aras.methods.reuse import apply_reuse

            chosen = apply_reuse(problem, sched, weights=weights)
            messages.append(f"weight reuse: center {chosen.center}, MSB skip ratio "
                            f"{chosen.skip_ratio:.3f}, clipped {chosen.clipped:.2%}")
        if banks == "liveness":
            from formulations.liveness import LivenessInfo, assign_banks

            live = LivenessInfo()
            sched = assign_banks(problem, sched, time_limit=bank_time_limit, info=live)
            messages += live.messages
            messages.append(f"liveness banks ({live.source}, {live.status or 'no MILP'}): "
                            f"{live.spilled} of {live.tensors} tensors spilled, "
                            f"{live.runtime_s:.1f} s")
            if live.solver_error:
                solver_failures.append(f"the liveness bank MILP failed ({live.solver_error}); "
                                       "the banks are the greedy assignment's")
            stats["liveness"] = {k: v for k, v in live.__dict__.items() if k != "messages"}
    except InputError:
        raise
    except Exception as exc:  # a method's failure is a result, not a crash of the caller
        return Result(method, Status.ERROR, None, b.lower, None, time.perf_counter() - t0,
                      None, None, b, [f"{type(exc).__name__}: {exc}"])
    runtime = time.perf_counter() - t0
    if problem.network.source is not None:
        # how to load the network again: `aras evaluate` of the file needs no --network
        sched.extra.setdefault("network_source", problem.network.source)
    if problem.batch > 1:  # the file says at which batch to map the network again
        sched.extra["batch"] = problem.batch
    problem = original
    stated = sched.precision
    if stated is not None and stated != problem.precision:
        if not any(getattr(f, "chooses_precision", False) for f in custom):
            return Result(method, Status.ERROR, None, b.lower, None, runtime, sched, None, b,
                          messages + [f"method {method!r} returned a schedule at another "
                                      "precision than the problem's, and no family chooses "
                                      "precision"])
        # a family chose the layers' bits: the schedule is the problem's at its precision
        problem = problem.with_precision(stated)
        messages.append("precision: " + describe(stated, len(problem.network.weighted_ops)))
    user_rules = list(rules or []) + family_rules
    report = evaluate(problem, sched, weights=weights, rules=user_rules or None)
    if not report.valid:
        return Result(method, Status.ERROR, None, b.lower, None, runtime, sched, report, b,
                      messages + ["the evaluator rejected the schedule"])
    obj = report.makespan_cycles
    status = Status.OPTIMAL if obj <= b.lower else Status.FEASIBLE
    if status is Status.FEASIBLE and sched.extra.get("jit", {}).get("stopped_by_time_limit"):
        status = Status.TIME_LIMIT
        messages.append("time limit: jit's search stopped at its deadline")
    info = sched.extra.get("milp")
    if isinstance(info, dict):
        run_info = sched.runtime_info.get("milp", {})
        messages += list(run_info.get("messages", []))
        if info.get("fallbacks"):
            messages.append(f"{info['fallbacks']} window(s) ended by their time limit without "
                            f"a solution kept their incumbent ({info['start_method']}'s start)")
        if status is not Status.OPTIMAL and (info.get("stopped_by_time_limit")
                                             or info.get("time_limited")):
            status = Status.TIME_LIMIT
        dual = info.get("dual_bound")
        if dual is not None and info.get("every_order"):
            if dual > obj:  # an exact model's bound above a valid schedule: never trust it
                messages.append(f"bug: the MILP's dual bound {dual:,} is above a valid "
                                f"schedule's makespan {obj:,}; not used")
            else:
                b = replace(b, milp=int(dual))
                status = Status.OPTIMAL if obj <= b.lower else status
        elif dual is not None:
            messages.append(f"MILP dual bound {dual:,} cycles: every schedule in this compute "
                            "order is at least that long (the DAG allows other orders, so it "
                            "is not a certified bound)")
            stats["order_bound_cycles"] = int(dual)
        stats.update({"milp": {**info, "trace": run_info.get("trace", [])},
                      "model_evaluator_diff_cycles": int(info["model_makespan"]) - obj,
                      "model_size": {"variables": info["variables"],
                                     "constraints": info["constraints"]}})
        if info.get("solver_errors"):
            kept = ("windows that failed kept their incumbent" if info.get("improved_windows")
                    else f"it is the {info['start_method']} start")
            solver_failures.append(
                f"the MILP solver failed in {info['solver_errors']} of {info['windows']} "
                f"solve(s) (its messages above); the schedule is valid but not the MILP's "
                f"answer: {kept}")
    if solver_failures:
        # a solver that did not do its job is never a silent "feasible" (the valid schedule
        # that came back is kept in the Result)
        status = Status.ERROR
        messages += solver_failures
    if tightened_by:
        messages.append("bounds: of the problem as " + ", ".join(tightened_by)
                        + " tighten it (they hold for every schedule that keeps them)")
    if not objective.is_makespan:
        # the active objective's value and bound replace the makespan's (first stage)
        value = objective.value(problem, sched, report)
        lower = objective.bound(problem, b)
        stats["objective_info"] = {"describe": objective.describe(), "value": list(value),
                                   "bound": lower}
        status = (Status.OPTIMAL if lower is not None and value[0] <= lower
                  and not objective.lexicographic else
                  status if status in (Status.TIME_LIMIT, Status.ERROR) else Status.FEASIBLE)
        gap_o = value[0] / lower - 1 if lower else None
        return Result(method, status, value[0], lower, gap_o, runtime, sched, report, b,
                      messages, stats)
    gap = obj / b.lower - 1 if b.lower > 0 else 0.0
    return Result(method, status, obj, b.lower, gap, runtime, sched, report, b, messages, stats)
