r"""Precision as a decision: per-layer weight and activation bits under an error budget.

Each weight-bearing layer ``L`` may take one of its candidate precisions ``c`` (weight bits x
activation bits, at most the hardware's), and each candidate has an error ``e[L, c]``: a
per-layer sensitivity, measured from real weights and outputs (:mod:`aras.evaluation.accuracy`)
or given as a table. The budget bounds their sum, ``sum_L e[L, c_L] <= B``: a proxy of the
network's output error (errors of different layers add only approximately; the real outputs of
the chosen assignment are checked separately, docs/precision.md).

Three ways to choose, on the same data:

- :func:`greedy_precision`: the fast heuristic. From every layer at its most bits, repeatedly
  take the cheaper precision of one layer with the most latency saved per unit of error
  added, while the budget allows.
- :func:`knapsack_precision`: the first stage of the LRMP-style two-stage method, the
  precision that saves the most latency under the budget, exactly (a multiple-choice
  knapsack MILP); replication and writes are then chosen for that precision.
- :class:`Precision` as a family of the event model: the MILP chooses each layer's
  precision jointly with replication and row writes (``y[k, r]`` split into
  ``u[k, c, r]`` by candidate, one candidate per layer ``z[L, c]``, durations, rows and cells
  written following the candidate), starting from the greedy (or knapsack) choice.

The latency a precision saves is estimated, for the heuristics, as
``(rows(full) - rows(c)) T / N + windows (cycles(full) - cycles(c))``: the write time of the
rows it no longer writes, spread over the accelerator's ``N`` rows, and its compute time at
replication 1. The MILP needs no estimate: its makespan is the schedule's.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyomo.environ as pyo

from aras.model.errors import InputError
from aras.model.hardware import Hardware
from aras.model.limits import number
from aras.model.mapping import Problem
from aras.model.precision import LayerPrecision, describe
from formulations.framework import Family, ModelContext
from formulations.objectives import cells_of

if TYPE_CHECKING:
    from aras.model.schedule import Schedule
    from formulations.window import Incumbent

__all__ = ["Errors", "Precision", "candidates", "normalize_errors", "latency_savings",
           "greedy_precision", "knapsack_precision", "assignment_error", "load_errors",
           "errors_from_sensitivity"]

#: Per-layer errors: layer -> candidate precision -> error the layer adds at it.
Errors = Mapping[str, Mapping[LayerPrecision, float]]


def candidates(hw: Hardware, weight_bits: Iterable[int] | None = None,
               activation_bits: Iterable[int] | None = None) -> list[LayerPrecision]:
    """Every (weight bits, activation bits) pair of the lists (default: the hardware's
    bits), sorted; checked against the hardware (``weight_bits``/``activation_bits``)."""
    from aras.model.limits import integer

    wb = sorted({integer(b, "weight_bits", lo=1, hi=hw.weight_bits)
                 for b in (weight_bits or [hw.weight_bits])})
    ab = sorted({integer(b, "activation_bits", lo=1, hi=hw.activation_bits)
                 for b in (activation_bits or [hw.activation_bits])})
    return [LayerPrecision(w, a) for w in wb for a in ab]


def _as_precision(key: Any, hw: Hardware) -> LayerPrecision:
    """An error table's key: a LayerPrecision, ``(weight_bits, activation_bits)`` or weight
    bits."""
    if isinstance(key, LayerPrecision):
        return key
    if isinstance(key, tuple):
        return LayerPrecision(int(key[0]), int(key[1]))
    return LayerPrecision(int(key), hw.activation_bits)


def normalize_errors(errors: Mapping[str, Mapping[Any, float]], layers: Sequence[str],
                     cands: Sequence[LayerPrecision], hw: Hardware,
                     where: str = "errors") -> dict[str, dict[LayerPrecision, float]]:
    """Errors as ``{layer: {LayerPrecision: float}}`` for every layer and candidate.

    Keys may be :class:`LayerPrecision`, ``(weight_bits, activation_bits)`` or bare weight
    bits (activation bits: the hardware's). The hardware's own precision costs 0 unless the
    table says otherwise.

    Raises
    ------
    InputError
        Unknown layers, a missing candidate, or a negative or non-finite error.
    """
    known = set(layers)
    full = LayerPrecision(hw.weight_bits, hw.activation_bits)
    out: dict[str, dict[LayerPrecision, float]] = {}
    for layer, table in errors.items():
        if layer not in known:
            raise InputError(f"{where}: '{layer}' is not a weight-bearing layer of the network")
        row: dict[LayerPrecision, float] = {}
        for key, value in table.items():
            p = _as_precision(key, hw)
            row[p] = number(value, f"{where}['{layer}'][{p}]", lo=0.0)
        out[layer] = row
    for layer in layers:
        row = out.setdefault(layer, {})
        row.setdefault(full, 0.0)
        missing = [str(c) for c in cands if c not in row]
        if missing:
            raise InputError(f"{where}: layer '{layer}' has no error for {', '.join(missing)}")
    return out


def errors_from_sensitivity(sens: Any, hw: Hardware,
                            cands: Sequence[LayerPrecision] | None = None
                            ) -> dict[str, dict[LayerPrecision, float]]:
    """Per-layer errors of every candidate from a measured or tabled
    :class:`aras.evaluation.accuracy.Sensitivity`.

    A candidate ``(w, a)`` costs the layer's weight error at ``w`` plus its activation error
    at ``a`` (each measured with everything else at INT8): an additive proxy, like the
    budget's sum over layers. Default candidates: every pair of the bits the sensitivity
    has (activations at the hardware's bits when it has none).
    """
    wc = list(sens.candidates)
    ac = list(sens.activation_candidates) or [hw.activation_bits]
    pairs = list(cands) if cands is not None else [LayerPrecision(w, a) for w in wc
                                                   for a in ac]
    out: dict[str, dict[LayerPrecision, float]] = {}
    for layer in sens.layers:
        row: dict[LayerPrecision, float] = {}
        for c in pairs:
            if c.weight_bits not in wc and c.weight_bits != hw.weight_bits:
                continue  # not measured: normalize_errors names it
            e = sens.error(layer, c.weight_bits)
            if c.activation_bits != hw.activation_bits:
                if c.activation_bits not in sens.activation_candidates:
                    continue
                e += sens.error(layer, c.activation_bits, activation=True)
            row[c] = float(e)
        out[layer] = row
    return out


def load_errors(path: str | Path, layers: Sequence[str], hw: Hardware,
                where: str = "sensitivity") -> dict[str, dict[LayerPrecision, float]]:
    """Per-layer errors from a sensitivity table (the CSV ``aras sensitivity`` writes, or a
    user's: ``layer,weight_bits,activation_bits,error`` rows, each naming either weight bits
    or activation bits; see :meth:`aras.evaluation.accuracy.Sensitivity.from_table`), for
    every pair of the bits it names (:func:`errors_from_sensitivity`).

    Raises
    ------
    InputError
        Missing or malformed file, unknown layers, bits out of range, bad errors; the
        message starts with ``where``.
    """
    from aras.evaluation.accuracy import Sensitivity

    try:
        sens = Sensitivity.from_table(path, layers)
    except InputError as exc:
        raise InputError(f"{where}: {str(exc).removeprefix('table: ')}") from None
    return errors_from_sensitivity(sens, hw)


def assignment_error(errors: Errors, precision: Mapping[str, LayerPrecision],
                     hw: Hardware) -> float:
    """The budgeted error of an assignment: the sum of its layers' errors (layers not named
    at the hardware's precision)."""
    full = LayerPrecision(hw.weight_bits, hw.activation_bits)
    return float(sum(table.get(precision.get(layer, full), 0.0)
                     for layer, table in errors.items()))


def latency_savings(problem: Problem, cands: Sequence[LayerPrecision],
                    layers: Sequence[str]) -> dict[str, dict[LayerPrecision, float]]:
    """The heuristics' estimate of the cycles each layer saves at each candidate, against the
    hardware's precision (module docstring)."""
    hw = problem.hardware
    full = problem.with_precision({})
    T, N = hw.write_latency_cycles, hw.total_apu_rows
    base = {L: [s for s in full.steps if s.layer == L] for L in layers}
    out: dict[str, dict[LayerPrecision, float]] = {L: {} for L in layers}
    for c in cands:
        pc = problem.with_precision({L: c for L in layers})
        for L in layers:
            saved = 0.0
            for s0 in base[L]:
                s1 = pc.by_key[s0.key]
                saved += (s0.apu_rows - s1.apu_rows) * T / N
                saved += full.compute_cycles(s0, 1) - pc.compute_cycles(s1, 1)
            out[L][c] = saved
    return out


def _check_budget(errors: Errors, budget: float, cands: Sequence[LayerPrecision],
                  where: str) -> None:
    least = sum(min(table[c] for c in cands) for table in errors.values())
    if budget < least - 1e-12:
        raise InputError(f"{where}: {budget:g} is below the least error any assignment of the "
                         f"candidates has ({least:g})")


def greedy_precision(problem: Problem, errors: Errors, budget: float,
                     cands: Sequence[LayerPrecision]) -> dict[str, LayerPrecision]:
    """The fast heuristic: from every layer at its most bits, repeatedly move one layer to
    the candidate that saves the most estimated cycles per unit of error added, while the
    budget allows (moves that add no error first).

    Returns the assignment of the layers of ``errors`` (at the hardware's precision omitted).
    """
    hw = problem.hardware
    layers = sorted(errors)
    save = latency_savings(problem, cands, layers)
    top = max(cands, key=lambda c: (c.weight_bits, c.activation_bits))
    choice = {L: top for L in layers}
    spent = sum(errors[L][top] for L in layers)
    while True:
        best: tuple[float, float, str, LayerPrecision] | None = None
        for L in layers:
            cur = choice[L]
            for c in cands:
                gain = save[L][c] - save[L][cur]
                cost = errors[L][c] - errors[L][cur]
                if gain <= 0 or spent + cost > budget + 1e-12:
                    continue
                ratio = math.inf if cost <= 0 else gain / cost
                key = (ratio, gain, L, c)
                if best is None or key[:2] > best[:2]:
                    best = key
        if best is None:
            break
        _, _, L, c = best
        spent += errors[L][c] - errors[L][choice[L]]
        choice[L] = c
    full = LayerPrecision(hw.weight_bits, hw.activation_bits)
    return {L: c for L, c in choice.items() if c != full}


def knapsack_precision(problem: Problem, errors: Errors, budget: float,
                       cands: Sequence[LayerPrecision], *, time_limit: float = 10.0,
                       solver: str = "highs") -> dict[str, LayerPrecision]:
    """Stage one of the two-stage method: the assignment that saves the most estimated
    cycles within the budget, by a multiple-choice knapsack MILP.

    Raises
    ------
    InputError
        When the solver finds no assignment (the budget is checked first, so only a solver
        failure gets here); its words are in the message.
    """
    from formulations.solvers import Session

    hw = problem.hardware
    layers = sorted(errors)
    save = latency_savings(problem, cands, layers)
    m = pyo.ConcreteModel("precision-knapsack")
    idx = [(L, i) for L in layers for i in range(len(cands))]
    m.z = pyo.Var(idx, domain=pyo.Binary)
    m.one = pyo.Constraint(layers, rule=lambda m, L: sum(m.z[L, i] for i in range(len(cands)))
                           == 1)
    m.budget = pyo.Constraint(expr=sum(errors[L][cands[i]] * m.z[L, i] for L, i in idx)
                              <= budget)
    m.objective = pyo.Objective(expr=sum(save[L][cands[i]] * m.z[L, i] for L, i in idx),
                                sense=pyo.maximize)
    out = Session(m, solver).solve(time_limit=time_limit)
    if not out.has_solution:
        raise InputError(f"precision: the knapsack of precisions found no assignment "
                         f"({out.describe()})")
    full = LayerPrecision(hw.weight_bits, hw.activation_bits)
    choice = {L: cands[i] for L, i in idx if pyo.value(m.z[L, i]) > 0.5}
    return {L: c for L, c in choice.items() if c != full}


class Precision(Family):
    """Each layer's precision chosen from candidates under an error budget.

    Parameters
    ----------
    errors
        Per-layer errors (:data:`Errors`; keys may also be ``(weight_bits, activation_bits)``
        or weight bits). Only the layers named here are chosen; the others keep the
        problem's precision.
    budget
        Most total error (the sum of the chosen candidates' errors).
    weight_bits, activation_bits
        Candidate bits; every pair is a candidate. Default (both None): the precisions the
        errors name, and the hardware's own.
    start
        How the precision every heuristic and start runs at is chosen: ``"greedy"``
        (:func:`greedy_precision`) or ``"knapsack"`` (:func:`knapsack_precision`).
    joint
        True: the MILP methods choose the precision again, jointly with replication and
        writes (from the start's). False: they keep the start's (the two-stage method).

    Notes
    -----
    :meth:`tighten` returns the problem at the start's precision with every layer's
    candidates as ``precision_options``; :meth:`relax` the problem at the fewest bits of the
    candidates, whose bounds hold for every choice. The rule checks that a schedule states a
    candidate for every chosen layer and keeps the budget.
    """

    name = "precision"
    requires = ("replication",)
    exact = False
    #: schedules of this family may state another precision than the problem's
    chooses_precision = True

    def __init__(self, errors: Mapping[str, Mapping[Any, float]], budget: float, *,
                 weight_bits: Iterable[int] | None = None,
                 activation_bits: Iterable[int] | None = None, start: str = "greedy",
                 joint: bool = True, solver: str = "highs"):
        self.raw_errors = errors
        self.budget = number(budget, "budget", lo=0.0)
        self.weight_bits = list(weight_bits) if weight_bits is not None else None
        self.activation_bits = list(activation_bits) if activation_bits is not None else None
        if start not in ("greedy", "knapsack"):
            raise InputError(f"start: must be 'greedy' or 'knapsack', got {start!r}")
        self.start, self.joint, self.solver = start, bool(joint), solver
        self._prepared: tuple[int, dict[str, dict[LayerPrecision, float]],
                              list[LayerPrecision]] | None = None
        self.choice: dict[str, LayerPrecision] = {}

    # ---- data
    def prepare(self, problem: Problem) -> tuple[dict[str, dict[LayerPrecision, float]],
                                                 list[LayerPrecision]]:
        """Errors normalised for ``problem``'s layers, and the candidates (checked once)."""
        key = id(problem.network)
        if self._prepared is None or self._prepared[0] != key:
            hw = problem.hardware
            if self.weight_bits is None and self.activation_bits is None:
                # the precisions the errors name (and the hardware's own)
                cands = sorted({_as_precision(k, hw) for t in self.raw_errors.values()
                                for k in t} | {LayerPrecision(hw.weight_bits,
                                                              hw.activation_bits)})
                candidates(hw, {c.weight_bits for c in cands},
                           {c.activation_bits for c in cands})  # (range checks)
            else:
                cands = candidates(hw, self.weight_bits, self.activation_bits)
            layers = [o.name for o in problem.network.weighted_ops]
            errors = normalize_errors(self.raw_errors, layers, cands, hw)
            # only the layers the table names are chosen
            errors = {L: errors[L] for L in layers if L in self.raw_errors}
            _check_budget(errors, self.budget, cands, "budget")
            self._prepared = (key, errors, cands)
        return self._prepared[1], self._prepared[2]

    def layers(self) -> list[str]:
        return sorted(self.raw_errors)

    # ---- hooks
    def tighten(self, problem: Problem) -> Problem:
        errors, cands = self.prepare(problem)
        pick = greedy_precision if self.start == "greedy" else knapsack_precision
        self.choice = pick(problem, errors, self.budget, cands)
        fixed = {L: p for L, p in problem.precision.items() if L not in errors}
        out = problem.with_precision({**fixed, **self.choice})
        out.precision_options = {L: list(cands) for L in errors} if self.joint else {}
        return out

    def relax(self, problem: Problem) -> Problem:
        errors, cands = self.prepare(problem)
        least = LayerPrecision(min(c.weight_bits for c in cands),
                               min(c.activation_bits for c in cands))
        return problem.with_precision({**problem.precision, **{L: least for L in errors}})

    def build(self, ctx: ModelContext) -> None:
        if not self.joint:
            return
        m, problem, R = ctx.model, ctx.problem, ctx.R
        errors, cands = self.prepare(problem)
        hw = problem.hardware
        full = LayerPrecision(hw.weight_bits, hw.activation_bits)
        ks = {L: [s.index for s in ctx.W if s.layer == L] for L in errors}
        at = {c: problem.with_precision({**problem.precision, **{L: c for L in errors}})
              for c in cands}
        J = [(k, j, r) for L in errors for k in ks[L] for j in range(len(cands)) for r in R[k]]
        ctx.add("precision_u", pyo.Var(J, domain=pyo.Binary),
                "precision_u[k,j,r] = 1: part k at candidate j and replication r")
        LZ = [(L, j) for L in errors for j in range(len(cands))]
        ctx.add("precision_z", pyo.Var(LZ, domain=pyo.Binary),
                "precision_z[L,j] = 1: layer L at candidate j")
        u, z = m.precision_u, m.precision_z
        by_kr: dict[tuple[int, int], list[Any]] = {}
        by_kj: dict[tuple[int, int], list[Any]] = {}
        for (k, j, r) in J:
            by_kr.setdefault((k, r), []).append(u[k, j, r])
            by_kj.setdefault((k, j), []).append(u[k, j, r])
        ctx.add("precision_split", pyo.Constraint(
            list(by_kr), rule=lambda m, k, r: sum(by_kr[k, r]) == m.y[k, r]))
        layer_of = {k: L for L in errors for k in ks[L]}
        ctx.add("precision_link", pyo.Constraint(
            list(by_kj), rule=lambda m, k, j: sum(by_kj[k, j]) == z[layer_of[k], j]))
        ctx.add("precision_budget", pyo.Constraint(
            expr=sum(errors[L][cands[j]] * z[L, j] for L, j in LZ) <= self.budget))
        # durations, rows and cells follow the candidate
        steps = {c: at[c].steps for c in cands}
        for L in errors:
            for k in ks[L]:
                terms = [(j, r) for j in range(len(cands)) for r in R[k]]
                m.d[k].set_value(sum(at[cands[j]].compute_cycles(steps[cands[j]][k], r)
                                     * u[k, j, r] for j, r in terms))
                m.rows[k].set_value(sum(steps[cands[j]][k].apu_rows * r * u[k, j, r]
                                        for j, r in terms))
        cells = {(k, j): cells_of(at[cands[j]], steps[cands[j]][k])
                 for L in errors for k in ks[L] for j in range(len(cands))}
        others = [k for k in m.K if k not in layer_of]
        base_cells = {k: cells_of(problem, ctx.steps[k]) for k in others}
        m.cells_written.set_value(
            sum(base_cells[k] * sum(r * m.y[k, r] for r in R[k]) for k in others)
            + sum(cells[k, j] * r * u[k, j, r] for (k, j, r) in J))
        # (the write-energy estimate keeps the start precision's energy per cell)
        m.precision_choice = {(L, cands[j]): z[L, j] for L, j in LZ}
        m.precision_fixed = {L: p for L, p in problem.precision.items() if L not in errors}
        m.precision_full = full
        self._index = (J, LZ, cands, layer_of)

    def _values(self, ctx: ModelContext, inc: Incumbent) -> tuple[dict[Any, int],
                                                                  dict[Any, int]]:
        J, LZ, cands, layer_of = self._index
        hw = ctx.problem.hardware
        full = LayerPrecision(hw.weight_bits, hw.activation_bits)
        prec = inc.precision if inc.precision is not None else ctx.problem.precision
        pos = {c: j for j, c in enumerate(cands)}
        chosen = {L: pos.get(prec.get(L, full), -1) for L, _ in LZ}
        uv = {(k, j, r): int(inc.replication.get(k) == r and chosen[layer_of[k]] == j)
              for (k, j, r) in J}
        zv = {(L, j): int(chosen[L] == j) for L, j in LZ}
        return uv, zv

    def start_values(self, ctx: ModelContext, incumbent: Incumbent,
                     times: Mapping[str, Mapping[int, int]]) -> None:
        if not self.joint:
            return
        uv, zv = self._values(ctx, incumbent)
        m = ctx.model
        for key, v in uv.items():
            m.precision_u[key].set_value(v)
        for key, v in zv.items():
            m.precision_z[key].set_value(v)

    def fix(self, ctx: ModelContext, incumbent: Incumbent, free: set[int] | None) -> None:
        if not self.joint:
            return
        m = ctx.model
        if free is None:
            m.precision_u.unfix()
            m.precision_z.unfix()
            return
        uv, zv = self._values(ctx, incumbent)
        J, LZ, cands, layer_of = self._index
        open_layers = {layer_of[k] for k in free if k in layer_of}
        for key, v in uv.items():
            if key[0] in free:
                m.precision_u[key].unfix()
            else:
                m.precision_u[key].fix(v)
        for key, v in zv.items():
            if key[0] in open_layers:
                m.precision_z[key].unfix()
            else:
                m.precision_z[key].fix(v)

    def check(self, problem: Problem, schedule: Schedule) -> Iterable[str]:
        errors, cands = self.prepare(problem)
        hw = problem.hardware
        full = LayerPrecision(hw.weight_bits, hw.activation_bits)
        stated = schedule.precision or {}
        for L in sorted(errors):
            p = stated.get(L, full)
            if p not in cands:
                yield f"layer {L} at {p}, not a candidate ({', '.join(map(str, cands))})"
        spent = assignment_error(errors, stated, hw)
        if spent > self.budget * (1 + 1e-9) + 1e-12:
            yield (f"error {spent:.6g} over the budget {self.budget:.6g} "
                   f"({describe(stated, len(problem.network.weighted_ops))})")


def _factory(problem: Problem | None = None, **options: Any) -> Precision:
    """``precision sensitivity=FILE budget=X weight_bits=[4,6,8] ...`` (study files, --family)."""
    known = {"sensitivity", "budget", "weight_bits", "activation_bits", "start", "joint"}
    unknown = set(options) - known
    if unknown:
        raise InputError(f"precision: unknown option '{sorted(unknown)[0]}' (options: "
                         f"{', '.join(sorted(known))})")
    if problem is None or "sensitivity" not in options or "budget" not in options:
        raise InputError("precision: needs sensitivity=FILE (a per-layer error table) and "
                         "budget=X")
    layers = [o.name for o in problem.network.weighted_ops]
    errors = load_errors(options["sensitivity"], layers, problem.hardware)

    def bits(v: Any) -> list[int] | None:
        if v is None:
            return None
        return [int(x) for x in (v if isinstance(v, list) else str(v).split(","))]

    return Precision(errors, options["budget"], weight_bits=bits(options.get("weight_bits")),
                     activation_bits=bits(options.get("activation_bits")),
                     start=options.get("start", "greedy"), joint=options.get("joint", True))

