r"""Formulations assembled from named constraint families over one shared model context.

A :class:`Formulation` is the event model of :mod:`formulations.window` (or any model a
research script composes) built from a list of :class:`Family` objects. Each family adds its
variables, expressions and constraints to one Pyomo model through a :class:`ModelContext`,
declares them as named *quantities* (documented names other families, objectives and user
code read), may carry an evaluator :data:`~aras.evaluation.rules.Rule` so that what the MILP
enforces the evaluator verifies, may tighten the problem every start and bound must respect,
and may repair a start that breaks it.

.. code-block:: python

    from formulations import Formulation, default_families, ReplicationCap

    form = Formulation(problem, default_families(problem) + [ReplicationCap("conv1", 2)])
    out = form.solve(time_limit=30, start=schedule)   # any installed Pyomo solver
    out.schedule                                      # a Schedule, evaluator-ready

The objective is an :class:`Objective` over named :class:`Measure`\ s (both in
:mod:`formulations.objectives`, importable from here too): each measure has a
model term (a quantity), an evaluator figure (what a report says of a schedule) and, where one
is known, a certified lower bound; the drivers cut off, keep and report by the evaluator's
figures of the active objective.

Families of other packages are found by name through the ``aras.families`` entry-point group
(:func:`family_from_spec`), and by ``"package.module:factory"`` specs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyomo.environ as pyo

from aras.model.errors import InputError
from aras.model.mapping import Problem, Step
from formulations.objectives import MEASURES, Measure, Objective, register_measure

if TYPE_CHECKING:  # only for annotations: the framework never evaluates schedules itself
    from aras.model.schedule import Schedule
    from formulations.window import Incumbent

__all__ = [
    "Family", "ModelContext", "Quantity", "Formulation", "FormulationResult", "Objective",
    "Measure", "MEASURES", "register_measure", "Infeasible", "diagnose", "family_from_spec",
    "register_family", "FAMILIES",
]


@dataclass(frozen=True)
class Quantity:
    """A named, documented model component a family declared.

    Attributes
    ----------
    name
        The name user code and other families use (also the component's attribute name on
        the Pyomo model, ``model.<name>``).
    doc
        One line: what it is, its index and its unit.
    family
        The family that declared it.
    """

    name: str
    doc: str
    family: str


class ModelContext:
    """The shared state every family of one model reads and extends.

    The index sets of the event model are computed once here, so that families agree on
    them: steps ``I`` (compute order), weight-bearing steps ``K``, replication candidates
    ``R[k]`` and pairs ``KR``, (release event, part) pairs ``EK`` with ``into[k]`` and
    ``out_of[e]``, events ``E`` (0 for cycle 0, ``k + 1`` for the compute end of part ``k``).

    Attributes
    ----------
    problem
        The mapped problem the model is stated on (after every family's
        :meth:`Family.tighten`).
    model
        The Pyomo model.
    T, N, S
        Write latency (cycles), APU rows, and rows that may be written at once (R6, lowered by
        families such as :class:`~formulations.families.WriteCap`).
    quantities
        Every declared quantity by name.
    """

    def __init__(self, problem: Problem, *, lookback: int = 16,
                 incumbent: Incumbent | None = None,
                 options: Mapping[int, Iterable[int]] | None = None,
                 name: str | None = None):
        from formulations.window import replication_options

        hw = problem.hardware
        self.problem = problem
        self.T, self.N, self.S = hw.write_latency_cycles, hw.total_apu_rows, hw.write_slots
        self.lookback = lookback
        self.incumbent = incumbent
        self.steps: list[Step] = problem.steps
        self.W: list[Step] = [s for s in self.steps if s.weighted]
        pos = {s.index: n for n, s in enumerate(self.W)}
        m = self.model = pyo.ConcreteModel(name=name or f"events-{problem.network.name}")
        m.I = pyo.Set(initialize=[s.index for s in self.steps], ordered=True)
        m.K = pyo.Set(initialize=[s.index for s in self.W], ordered=True)
        R = {s.index: sorted(set(options[s.index]) if options and s.index in options
                             else replication_options(problem, s)) for s in self.W}
        if incumbent:
            for k, r in incumbent.replication.items():
                R[k] = sorted(set(R[k]) | {r})
        self.R = R
        m.KR = pyo.Set(dimen=2, initialize=[(k, r) for k in R for r in R[k]])
        pairs = []
        # the incumbent's events per part, gathered once (a scan per part is quadratic)
        drawn: dict[int, list[int]] = {}
        if incumbent:
            for (e, k), x in incumbent.rows_from.items():
                if x > 0:
                    drawn.setdefault(k, []).append(e)
        for s in self.W:
            n = pos[s.index]
            ev = [0] if n < lookback else []
            ev += [w.index + 1 for w in self.W[max(0, n - lookback):n]]
            ev += drawn.get(s.index, [])
            pairs += [(e, s.index) for e in sorted(set(ev))]
        self.pairs = pairs
        m.EK = pyo.Set(dimen=2, initialize=pairs)
        self.into: dict[int, list[int]] = {}
        self.out_of: dict[int, list[int]] = {}
        for e, k in pairs:
            self.into.setdefault(k, []).append(e)
            self.out_of.setdefault(e, []).append(k)
        self.events = sorted([0] + [s.index + 1 for s in self.W])
        #: the most APU rows part k may hold (a big-M of row supply): at its most rows over
        #: the problem's precision options, at its largest replication candidate
        rows_at = {s.index: s.apu_rows for s in self.W}
        for opt in _precision_variants(problem):
            for s in opt.weighted_steps:
                rows_at[s.index] = max(rows_at[s.index], s.apu_rows)
        self.max_rows = {k: rows_at[k] * max(R[k]) for k in R}
        m.E = pyo.Set(initialize=self.events, ordered=True)
        m._R = R  # candidate sets, for extraction and warm starts
        self.quantities: dict[str, Quantity] = {}
        self.owner: dict[str, str] = {}  # component name -> family name
        self._family = ""

    def add(self, name: str, component: Any, doc: str = "") -> Any:
        """Put ``component`` on the model as ``model.<name>``; with a ``doc`` it is also a
        declared :class:`Quantity` that objectives and other families may use by name.

        Raises
        ------
        ValueError
            When another family already declared ``name``.
        """
        if name in self.owner:
            raise ValueError(f"family '{self._family}': model component '{name}' is already "
                             f"declared by family '{self.owner[name]}'")
        setattr(self.model, name, component)
        self.owner[name] = self._family
        if doc:
            self.quantities[name] = Quantity(name, doc, self._family)
        return component

    def __getitem__(self, name: str) -> Any:
        """The model component called ``name`` (a KeyError names the known quantities)."""
        if name not in self.owner:
            raise KeyError(f"no model component '{name}' (declared: "
                           f"{', '.join(sorted(self.owner))})")
        return getattr(self.model, name)

    def __contains__(self, name: str) -> bool:
        return name in self.owner

    def between(self, e: int, k: int) -> Any:
        """Time from release event ``e`` to the start of part ``k``: the idles of the steps
        after the event's step up to ``k`` and the computes of those before ``k`` (needs the
        ``timing`` and ``replication`` families)."""
        m = self.model
        first = 0 if e == 0 else e  # e = j + 1 for the end of step j
        rng = range(first, k + 1)
        return sum(m.idle[i] for i in rng) + sum(m.d[i] for i in rng if i < k)

    def layer_of(self, k: int) -> str:
        """The layer of step index ``k``."""
        return self.steps[k].layer


class Family:
    """A named group of variables, constraints and checks of a formulation.

    Subclass it and override what the family needs; every hook has a do-nothing default.

    Attributes
    ----------
    name
        Unique name in a formulation (``without=`` and diagnoses use it).
    requires
        Names of families whose quantities :meth:`build` reads; they are built first.
    exact
        The family states its rule exactly (no feasible schedule is cut off and nothing it
        admits breaks the rule), so an exact model stays exact with it. User families default
        to False: a dual bound of a model with them is then not reported as certified.

    Examples
    --------
    A cap on the rows one layer may occupy, with the rule the evaluator checks::

        class RowCap(Family):
            def __init__(self, layer, rows):
                self.layer, self.rows, self.name = layer, rows, f"row_cap[{layer}]"
                self.requires = ("replication",)

            def build(self, ctx):
                ks = [s.index for s in ctx.W if s.layer == self.layer]
                ctx.add(self.name.replace("[", "_").rstrip("]"), pyo.Constraint(
                    ks, rule=lambda m, k: m.rows[k] <= self.rows))

            def check(self, problem, schedule):
                for s in schedule.steps:
                    if s.layer == self.layer and s.apu_rows * s.replication > self.rows:
                        yield f"{s.layer}#{s.part} holds {s.apu_rows * s.replication} rows"
    """

    name: str = ""
    requires: tuple[str, ...] = ()
    exact: bool = False

    def tighten(self, problem: Problem) -> Problem:
        """The problem that every start must solve and every bound may assume (default:
        ``problem`` itself). A family whose rule is a stricter hardware limit returns the
        problem of that hardware, so heuristics build starts that keep it and bounds know it.
        """
        return problem

    def build(self, ctx: ModelContext) -> None:
        """Add the family's components to ``ctx.model`` through :meth:`ModelContext.add`."""

    def start_values(self, ctx: ModelContext, incumbent: Incumbent,
                     times: Mapping[str, Mapping[int, int]]) -> None:
        """Give the family's own variables the values that go with ``incumbent`` (decisions)
        and ``times`` (its exact ``start``, ``end``, ``idle`` per step)."""

    def check(self, problem: Problem, schedule: Schedule) -> Iterable[str]:
        """Violations of the family's rule by a schedule, one line each (default: none).
        The evaluator runs it as a user rule named after the family."""
        return ()

    def repair(self, problem: Problem, incumbent: Incumbent) -> Incumbent | None:
        """Decisions close to ``incumbent`` that keep this family's rule, or None when the
        family cannot repair (the driver then searches for a start itself)."""
        return None

    def layers(self) -> list[str]:
        """The layers the family constrains by name (diagnoses name them)."""
        return []

    def fix(self, ctx: ModelContext, incumbent: Incumbent, free: set[int] | None) -> None:
        """Fix the family's own integer variables at ``incumbent`` except those of the steps
        in ``free`` (the rolling-horizon driver's window); ``free=None`` unfixes them all.
        Default: nothing (a family without integer variables of its own)."""

    def relax(self, problem: Problem) -> Problem:
        """A problem whose bounds hold for every schedule the family admits (default:
        ``problem``, which :meth:`tighten` returned). A family that lets the schedule change
        the problem itself (a precision choice) returns one every choice is at least as long
        as, so that bounds stay certified."""
        return problem

    # the family as an evaluator rule: name + check
    def rule(self) -> Any:
        """This family as an evaluator rule (:func:`aras.evaluate`'s ``rules``), or None when
        it carries no rule of its own (:meth:`check` not overridden)."""
        if type(self).check is Family.check:
            return None
        return _FamilyRule(self)

    def __repr__(self) -> str:
        return f"<family {self.name}>"


class _FamilyRule:
    """A family's :meth:`Family.check` as an evaluator rule."""

    def __init__(self, family: Family):
        self.family = family
        self.name = family.name

    def check(self, problem: Problem, schedule: Schedule) -> Iterable[str]:
        return self.family.check(problem, schedule)


# ----------------------------------------------------------------------- the formulation


class Infeasible(Exception):
    """A formulation was proven infeasible.

    Attributes
    ----------
    families
        The clashing families (a minimal set found by a deletion filter, the core families
        the rest of them need included), or every family when no filter ran.
    layers
        The layers those families constrain by name.
    """

    def __init__(self, message: str, families: Sequence[str] = (),
                 layers: Sequence[str] = ()):
        super().__init__(message)
        self.families = list(families)
        self.layers = list(layers)


@dataclass
class FormulationResult:
    """What :meth:`Formulation.solve` returns.

    Attributes
    ----------
    status
        ``optimal``, ``feasible``, ``time_limit``, ``infeasible``, ``no_solution`` (ended
        without one, e.g. nothing better than the cutoff) or ``error``.
    objective
        Model objective of the solution loaded (None without one).
    bound
        The solver's dual bound (None when unknown).
    schedule
        The schedule of the solution (None without one).
    messages
        The solver's words and notes (errors, mismatches).
    runtime_s
        Wall time of the solve(s).
    """

    status: str
    objective: float | None = None
    bound: float | None = None
    schedule: Schedule | None = None
    messages: list[str] = field(default_factory=list)
    runtime_s: float = 0.0


def _toposort(families: Sequence[Family]) -> list[Family]:
    by = {}
    for f in families:
        if not f.name:
            raise InputError(f"families: {f!r} has no name")
        if f.name in by:
            raise InputError(f"families: two families are called '{f.name}'")
        by[f.name] = f
    out: list[Family] = []
    state: dict[str, int] = {}

    def visit(f: Family, chain: tuple[str, ...]) -> None:
        if state.get(f.name) == 2:
            return
        if state.get(f.name) == 1:
            raise InputError(f"families: cyclic requirements {' -> '.join(chain + (f.name,))}")
        state[f.name] = 1
        for r in f.requires:
            if r not in by:
                raise InputError(f"families: '{f.name}' requires family '{r}', which is not "
                                 "in the list")
            visit(by[r], chain + (f.name,))
        state[f.name] = 2
        out.append(f)

    for f in families:
        visit(f, ())
    return out


def _precision_variants(problem: Problem) -> list[Problem]:
    """The problem at every precision its ``precision_options`` allow, one per option
    position (layer by layer the i-th option; fewer when a layer has fewer)."""
    if not problem.precision_options:
        return []
    most = max(len(v) for v in problem.precision_options.values())
    return [problem.with_precision({**problem.precision, **{
        layer: opts[min(i, len(opts) - 1)] for layer, opts in problem.precision_options.items()}})
        for i in range(most)]


def tightened(problem: Problem, families: Sequence[Family]) -> Problem:
    """``problem`` after every family's :meth:`Family.tighten`, in order."""
    for f in families:
        problem = f.tighten(problem)
    return problem


class Formulation:
    """A Pyomo model assembled from families, with its objective, start and extraction.

    Parameters
    ----------
    problem
        The mapped problem.
    families
        The families, e.g. ``default_families(problem) + [ReplicationCap("conv1", 2)]``
        (default: :func:`formulations.families.default_families`). Order does not matter
        beyond ``requires``.
    objective
        What to minimise (default: makespan).
    lookback, options, incumbent
        The event model's index sets (see :func:`formulations.window.build`): release events
        a part may draw rows from, replication candidates per step index, and decisions
        whose (event, part) pairs and replications the model must contain.

    Attributes
    ----------
    problem
        The problem after the families' tightening (what the model is stated on).
    original
        The problem as given (what schedules are reported against).
    model
        The Pyomo ``ConcreteModel``; components are ``model.<quantity>``.
    context
        The :class:`ModelContext` (quantities, index sets).
    """

    def __init__(self, problem: Problem, families: Sequence[Family] | None = None,
                 objective: Objective | None = None, *, start: Schedule | None = None,
                 lookback: int = 16, options: Mapping[int, Iterable[int]] | None = None,
                 incumbent: Incumbent | None = None):
        from formulations.families import default_families
        from formulations.window import incumbent_from_schedule

        self.original = problem
        self.families = _toposort(list(families) if families is not None
                                  else default_families(problem))
        self.problem = tightened(problem, self.families)
        self.objective = objective or Objective()
        if start is not None:
            keys = [(s.layer, s.part) for s in start.steps]
            if sorted(keys) != sorted(s.key for s in self.problem.steps):
                raise InputError("start: the schedule's steps are not the problem's")
            if keys != [s.key for s in self.problem.steps]:
                # the model is stated on one compute order: the start's
                self.problem = self.problem.reordered(keys)
            incumbent = incumbent_from_schedule(self.problem, start)
        self.context = ModelContext(self.problem, lookback=lookback, incumbent=incumbent,
                                    options=options)
        ctx = self.context
        for f in self.families:
            ctx._family = f.name
            try:
                f.build(ctx)
            except InputError:
                raise
            except Exception as exc:  # a family's own bug or a bad option: name the family
                raise InputError(f"families: {f.name}: building its constraints failed: "
                                 f"{type(exc).__name__}: {exc}") from exc
        ctx._family = ""
        self.model = m = ctx.model
        m.objective = pyo.Objective(expr=self.objective.expression(ctx, 0), sense=pyo.minimize)
        self._stage = 0
        n = len(self.objective.stages)
        if n > 1:
            # Each earlier stage keeps its value while a later one is minimised: a row per
            # stage whose right side is a mutable parameter (no bound until it is set), so a
            # persistent solver only changes a bound between stages.
            m.lex_cap = pyo.Param(range(n - 1), mutable=True, initialize=0.0)
            m.lex_keep = pyo.Constraint(range(n - 1), rule=lambda m, s: (
                None, self.objective.expression(ctx, s), m.lex_cap[s]))
            m.lex_keep.deactivate()
        #: the start's decisions (None without a start)
        self.start: Incumbent | None = None
        if incumbent is not None:
            self.start = self.start_from(incumbent)

    # ---- introspection
    @property
    def quantities(self) -> dict[str, Quantity]:
        """Every declared quantity by name (``model.<name>`` is the component)."""
        return self.context.quantities

    def __getitem__(self, name: str) -> Any:
        """The model component called ``name``."""
        return self.context[name]

    def rules(self) -> list[Any]:
        """The evaluator rules the families carry (for :func:`aras.evaluate`'s ``rules``)."""
        return [r for f in self.families if (r := f.rule()) is not None]

    def exact(self) -> bool:
        """Every family states its rule exactly (needed for a certified dual bound)."""
        return all(f.exact for f in self.families)

    def set_objective_stage(self, stage: int) -> None:
        """Make stage ``stage`` of a lexicographic objective the active one."""
        if stage != self._stage:
            self.model.objective.set_value(self.objective.expression(self.context, stage))
            self._stage = stage

    # ---- schedules <-> values
    def decisions(self) -> Incumbent:
        """The integer decisions of the values loaded in the model (replication and rows
        per release event)."""
        from formulations.window import extract

        return extract(self.model)

    def schedule(self, method: str = "formulation", banks: str = "greedy",
                 decisions: Incumbent | None = None) -> Schedule:
        """The schedule of ``decisions`` (default: the loaded values), reported against the
        original problem's hardware: rows bound lowest id first at each release, writes
        started at the release (later only if the write slots force it), computes
        left-shifted."""
        from formulations.window import schedule_from

        sched = schedule_from(self.problem, decisions or self.decisions(), method, banks)
        sched.hardware = self.original.hardware.to_dict()
        return sched

    def start_from(self, schedule: Schedule | Incumbent) -> Incumbent:
        """Load a schedule's (or decisions') values into the model as its start; returns the
        decisions. The schedule's compute order must be the problem's."""
        from formulations.window import Incumbent, at_precision, incumbent_from_schedule, timing

        inc = (schedule if isinstance(schedule, Incumbent)
               else incumbent_from_schedule(self.problem, schedule))
        times = timing(at_precision(self.problem, inc), inc.replication, inc.rows_from,
                       self.context.T)
        for f in self.families:
            f.start_values(self.context, inc, times)
        return inc

    def violated(self, tol: float = 1e-6, limit: int = 20, deadline: float | None = None
                 ) -> list[str]:
        """Constraints the loaded values break, as ``family: constraint[index]`` lines (at
        most ``limit``); variables without a value count as 0.

        Raises
        ------
        TimeoutError
            When ``deadline`` (a ``time.perf_counter()`` value) passes before the check ends
            (a big model's check takes seconds).
        """
        out = []
        for n, c in enumerate(self.model.component_data_objects(pyo.Constraint, active=True)):
            if deadline is not None and not n % 1000 and time.perf_counter() > deadline:
                raise TimeoutError("the check of the start did not end by its deadline")
            body = pyo.value(c.body, exception=False)
            if body is None:
                body = _value_or_zero(c.body)
            lo = pyo.value(c.lower) if c.has_lb() else None
            hi = pyo.value(c.upper) if c.has_ub() else None
            if (lo is not None and body < lo - tol * max(1, abs(lo))) or (
                    hi is not None and body > hi + tol * max(1, abs(hi))):
                comp = c.parent_component().local_name
                out.append(f"{self.context.owner.get(comp, '?')}: {c.name} "
                           f"({body:g} not in [{lo}, {hi}])")
                if len(out) >= limit:
                    break
        return out

    # ---- solving
    def solve(self, *, solver: str = "highs", time_limit: float = 60.0, threads: int = 1,
              seed: int = 0, gap: float | None = None, cutoff: bool = False,
              method: str = "formulation") -> FormulationResult:
        """Solve the model (every stage of a lexicographic objective, each keeping the last's
        value) and turn the solution into a schedule.

        Parameters
        ----------
        solver
            Any solver :mod:`formulations.solvers` knows (``highs``; ``cbc`` where
            installed).
        time_limit, threads, seed, gap
            Seconds for all stages together (a real limit: it reaches the solver), threads,
            random seed, relative gap.
        cutoff
            Search only solutions better than the start's values (needs a ``start``).
        method
            The ``method`` written into the schedule.

        Returns
        -------
        FormulationResult
            With the solver's status and words; ``schedule`` is None without a solution.
        """
        from aras.model.limits import integer, number
        from formulations.solvers import Session

        # arguments checked before the model is handed to the solver (a negative limit
        # would otherwise come back as a "time limit" status)
        number(time_limit, "time_limit", lo=0, lo_open=True)
        integer(threads, "threads", lo=1)
        integer(seed, "seed", lo=0)
        if gap is not None:
            number(gap, "gap", lo=0, hi=1, hi_open=True)
        t0 = time.perf_counter()
        m = self.model
        session = Session(m, solver)
        result = FormulationResult("no_solution")
        stages = len(self.objective.stages)
        for stage in range(stages):
            self.set_objective_stage(stage)
            left = time_limit - (time.perf_counter() - t0)
            if left <= 0:
                result.messages.append(f"time limit: stage {stage + 1} not solved")
                result.status = "time_limit"
                break
            cut = None
            if cutoff and self.start is not None and stage == 0:
                self.start_from(self.start)
                cut = float(pyo.value(m.objective)) + (1.0 if stages > 1 else 0.0)
            out = session.solve(time_limit=left, threads=threads, seed=seed, rel_gap=gap,
                                cutoff=cut)
            if out.message:
                result.messages.append(f"{solver}: {out.message}")
            result.status, result.bound = out.status, out.bound
            if not out.has_solution:
                if cut is not None and out.status in ("no_solution", "time_limit",
                                                      "optimal", "infeasible"):
                    # nothing better than the start: the start is the answer
                    self.start_from(self.start)  # type: ignore[arg-type]
                    result.objective = float(pyo.value(m.objective))
                    result.status = "feasible" if out.status == "time_limit" else "optimal"
                    result.messages.append("nothing better than the start was found")
                break
            result.objective = float(pyo.value(m.objective))
            if cut is not None and result.objective > cut:
                # HiGHS 1.16 keeps solutions of its primal heuristics above its cutoff
                # (objective_bound prunes the tree only): the start is better, keep it
                result.messages.append(f"the solver's solution ({result.objective:,.0f}) is "
                                       f"worse than the start; the start is kept")
                self.start_from(self.start)  # type: ignore[arg-type]
                result.objective = float(pyo.value(m.objective))
            if stage + 1 < stages:
                m.lex_cap[stage] = result.objective + 1e-6 * max(1.0, abs(result.objective))
                m.lex_keep[stage].activate()
        if result.objective is not None and result.status not in ("error", "infeasible"):
            result.schedule = self.schedule(method)
        if stages > 1:
            m.lex_keep.deactivate()
        self.set_objective_stage(0)
        result.runtime_s = time.perf_counter() - t0
        return result


def _value_or_zero(expr: Any) -> float:
    """An expression's value with unset variables taken as 0."""
    from pyomo.core.expr.visitor import identify_variables

    saved = []
    for v in identify_variables(expr, include_fixed=True):
        if v.value is None:
            saved.append(v)
            v.set_value(0, skip_validation=True)
    try:
        return float(pyo.value(expr))
    finally:
        for v in saved:
            v.set_value(None, skip_validation=True)


#: A zero objective: the deletion filter asks only whether a model has a solution.
_FEASIBILITY = Objective()
_FEASIBILITY.stages = [{"makespan": 0.0}]


def diagnose(problem: Problem, families: Sequence[Family], *, solver: str = "highs",
             time_limit: float = 30.0, threads: int = 1,
             lookback: int = 16) -> Infeasible | None:
    """Find a small set of clashing families by a deletion filter.

    The model of every family is solved for feasibility alone (a zero objective). When it is
    proven infeasible, each family is dropped in turn (with the families that require it):
    if the rest is still infeasible it stays dropped. What remains clashes, and no family in
    it can go (with respect to the families' own formulation; ``timing`` is always kept).

    Returns
    -------
    Infeasible or None
        None when the full model is not proven infeasible within ``time_limit``.
    """
    from formulations.solvers import Session

    t0 = time.perf_counter()
    fams = _toposort(list(families))

    def infeasible(keep: list[Family]) -> bool | None:
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0.2:
            return None
        form = Formulation(problem, keep, _FEASIBILITY,
                           lookback=lookback) if "timing" in {f.name for f in keep} else None
        if form is None:
            return None
        out = Session(form.model, solver).solve(time_limit=left, threads=threads)
        if out.status == "infeasible":
            return True
        if out.status in ("optimal", "feasible") or out.has_solution:
            return False
        return None

    if infeasible(fams) is not True:
        return None
    keep = list(fams)
    for f in list(fams):
        if f.name == "timing" or f not in keep:
            continue
        drop = _dependants(keep, f.name)
        trial = [g for g in keep if g.name not in drop]
        if infeasible(trial) is True:
            keep = trial
    names = [f.name for f in keep]
    layers = sorted({layer for f in keep for layer in f.layers()})
    msg = ("infeasible: the families " + ", ".join(names) + " cannot all hold"
           + (f" (layers: {', '.join(layers)})" if layers else ""))
    return Infeasible(msg, names, layers)


def _dependants(families: Sequence[Family], name: str) -> set[str]:
    """``name`` and every family that requires it, directly or not."""
    out = {name}
    changed = True
    while changed:
        changed = False
        for f in families:
            if f.name not in out and any(r in out for r in f.requires):
                out.add(f.name)
                changed = True
    return out


# ------------------------------------------------------------ families by name (plugins)

#: Family factories known by name: ``name -> callable(problem, **options) -> Family``.
FAMILIES: dict[str, Callable[..., Family]] = {}


def register_family(name: str, factory: Callable[..., Family]) -> None:
    """Make a family factory known by name (``family_from_spec(name, ...)``)."""
    FAMILIES[name] = factory


def family_from_spec(spec: str, problem: Problem, **options: Any) -> Family:
    """A family from a name: a registered factory, an ``aras.families`` entry point, or a
    ``"package.module:factory"`` spec. A factory is called with ``problem`` and ``options``;
    a :class:`Family` subclass with ``options`` alone.

    Raises
    ------
    InputError
        Naming ``families`` when the spec resolves to nothing.
    """
    from aras.model.plugins import entry_points, import_object, is_spec

    factory: Callable[..., Any] | None = FAMILIES.get(spec)
    if factory is None:
        eps = entry_points("aras.families")
        if spec in eps:
            factory = eps[spec].load()
    if factory is None and is_spec(spec):
        factory = import_object(spec, "families")
    if factory is None:
        raise InputError(f"families: unknown family '{spec}' (known: "
                         f"{', '.join(sorted(FAMILIES)) or 'none'}; or 'package.module:factory'"
                         ", or an 'aras.families' entry point)")
    # a Family subclass is built from the options alone; a factory also gets the problem
    make: Any = factory
    try:
        fam = (make(**options) if isinstance(make, type) and issubclass(make, Family)
               else make(problem, **options))
    except TypeError as exc:  # a missing or unknown option
        raise InputError(f"families: {spec}: {exc}") from None
    if not isinstance(fam, Family):
        raise InputError(f"families: '{spec}' made {type(fam).__name__}, not a Family")
    return fam


# The built-in families register themselves when their module loads; loading it here (last,
# when every name above exists) makes them known to whoever reads FAMILIES or calls
# family_from_spec, however formulations was first imported.
import formulations.families  # noqa: E402, F401, I001
