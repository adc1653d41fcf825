"""Precision decisions from a user's point of view: the options of ``aras solve --precision``
turned into a problem (fixed bits) or a :class:`formulations.precision.Precision` family
(bits chosen under an error budget), with the per-layer errors from a table, or measured
from real weights and outputs (:mod:`aras.evaluation.accuracy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.mapping import Problem
from aras.model.precision import LayerPrecision, load_precision, parse_bits

__all__ = ["PRECISION_METHODS", "PrecisionRequest", "precision_request", "runner_for",
           "synthetic_weight_errors"]

#: How ``--precision auto`` chooses: the fast greedy heuristic, the LRMP-style two stages
#: (exact knapsack of precisions, then replication and writes), or the MILP jointly.
PRECISION_METHODS: dict[str, tuple[str, bool]] = {
    "greedy": ("greedy", False),
    "two-stage": ("knapsack", False),
    "joint": ("greedy", True),
}


@dataclass
class PrecisionRequest:
    """What ``--precision`` asks for, checked.

    Attributes
    ----------
    problem
        The problem to solve: at the fixed bits of a file, else as given.
    family
        The family that chooses bits (``--precision auto``), else None.
    errors
        The per-layer errors the family budgets (empty without one).
    source
        Where the errors come from (a table file, or the measurement and its calibration).
    notes
        Lines for the user (e.g. a synthetic calibration).
    runner, calibration
        The real model and the inputs the errors were measured on (None from a table), to
        measure the chosen assignment's own agreement (:meth:`agreement`).
    """

    problem: Problem
    family: Any = None
    errors: dict[str, dict[LayerPrecision, float]] = field(default_factory=dict)
    source: str = ""
    notes: list[str] = field(default_factory=list)
    runner: Any = None
    calibration: Any = None

    def agreement(self, chosen: dict[str, LayerPrecision]) -> Any:
        """The real outputs of an assignment (every other layer at the hardware's bits)
        against the float model's, on the calibration inputs; None without a runner."""
        if self.runner is None:
            return None
        from aras.evaluation.accuracy import agreement

        hw = self.problem.hardware
        layers = self.runner.layers
        return agreement(self.runner, self.calibration,
                         {L: chosen[L].weight_bits if L in chosen else hw.weight_bits
                          for L in layers},
                         {L: chosen[L].activation_bits if L in chosen else hw.activation_bits
                          for L in layers})


def precision_request(problem: Problem, precision: str | None, *,
                      error_budget: float | None = None, weight_bits: str | None = None,
                      activation_bits: str | None = None, sensitivity: Path | None = None,
                      calibration: Path | None = None, method: str = "joint",
                      network_path: str | None = None, samples: int = 64,
                      seed: int = 0, per_channel: bool = False) -> PrecisionRequest:
    """Check the precision flags and build what they ask for (errors name the flags).

    Parameters
    ----------
    problem
        The mapped problem.
    precision
        ``"auto"`` (choose under ``error_budget``), a file of fixed per-layer bits, or None.
    error_budget, weight_bits, activation_bits, sensitivity, calibration, method
        ``--error-budget``, ``--weight-bits`` (``"4,6,8"``), ``--activation-bits``,
        ``--sensitivity`` (a per-layer error table), ``--calibration`` (inputs to measure
        errors on), ``--precision-method`` (a key of :data:`PRECISION_METHODS`).
    network_path
        The network argument (an ONNX file, or ``minilm-l6``), to run it for a measurement.
    samples, seed
        Seeded random inputs when no calibration is given (said in ``notes``).
    per_channel
        Measure with weights quantised per output channel (``--quantization channel``)
        rather than per layer (paper Eq. 6).

    Raises
    ------
    InputError
        A flag without ``--precision auto`` or one that needs another, a missing or
        malformed file, bits outside the hardware's range, a budget below what the
        candidates allow.
    """
    hw = problem.hardware
    layers = [o.name for o in problem.network.weighted_ops]
    auto_only = {"--error-budget": error_budget, "--weight-bits": weight_bits,
                 "--activation-bits": activation_bits, "--sensitivity": sensitivity,
                 "--calibration": calibration}
    if precision != "auto":
        given = [k for k, v in auto_only.items() if v is not None]
        if method != "joint":
            given.append("--precision-method")
        if per_channel:
            given.append("--quantization")
        if given:
            raise InputError(f"{given[0]}: only with --precision auto")
        if precision is None:
            return PrecisionRequest(problem)
        fixed = load_precision(precision, layers, hw, where="--precision")
        return PrecisionRequest(problem.with_precision(fixed),
                                source=f"fixed by {precision}")
    if method not in PRECISION_METHODS:
        raise InputError(f"--precision-method: must be one of "
                         f"{', '.join(PRECISION_METHODS)}, got {method!r}")
    if error_budget is None:
        raise InputError("--error-budget: needed with --precision auto (the most total "
                         "per-layer error, e.g. 0.01)")
    from aras.model.limits import number

    budget = number(error_budget, "--error-budget", lo=0.0)
    wb = parse_bits(weight_bits or "4,6,8", hw.weight_bits, "--weight-bits")
    ab = parse_bits(activation_bits or str(hw.activation_bits), hw.activation_bits,
                    "--activation-bits")
    from formulations.precision import (
        Precision,
        _check_budget,
        candidates,
        load_errors,
        normalize_errors,
    )

    cands = candidates(hw, wb, ab)
    notes: list[str] = []
    if sensitivity is not None:
        if calibration is not None:
            raise InputError("--calibration: give --sensitivity or --calibration, not both")
        raw = load_errors(sensitivity, layers, hw, where="--sensitivity")
        source = f"table {sensitivity}"
    else:
        raw, source, notes, runner, calib = _measured(problem, network_path, cands,
                                                      calibration, samples, seed, per_channel)
    try:
        errors = normalize_errors(raw, layers, cands, hw, where="--sensitivity")
    except InputError as exc:
        raise InputError(f"{exc} (--weight-bits/--activation-bits name the candidates)"
                         ) from None
    errors = {L: errors[L] for L in layers if L in raw}
    _check_budget(errors, budget, cands, "--error-budget")
    start, joint = PRECISION_METHODS[method]
    fam = Precision(errors, budget, weight_bits=wb, activation_bits=ab, start=start,
                    joint=joint)
    req = PrecisionRequest(problem, fam, errors, source, notes)
    if sensitivity is None:
        req.runner, req.calibration = runner, calib
    return req


def runner_for(problem: Problem, network_path: str | None, per_channel: bool = False
               ) -> Any:
    """A runner of the network's real model (:mod:`aras.evaluation.accuracy`), or None: an
    ONNX file (at the mapped network's input shapes) or MiniLM-L6 (``minilm-l6``)."""
    from aras.evaluation.accuracy import MiniLMRunner, OnnxRunner

    net = problem.network
    src = net.source if isinstance(net.source, dict) else {}
    name = str(src.get("name", network_path or ""))
    if name == "minilm-l6":
        return MiniLMRunner(seq_len=int(src.get("tokens") or 128), per_channel=per_channel)
    path = src.get("path") or network_path
    if path is not None and Path(str(path)).suffix.lower() == ".onnx":
        shapes = src.get("input_shapes") if isinstance(src.get("input_shapes"), dict) else None
        return OnnxRunner(str(path), input_shapes=shapes, per_channel=per_channel)
    return None


def _measured(problem: Problem, network_path: str | None, cands: list[LayerPrecision],
              calibration: Path | None, samples: int, seed: int, per_channel: bool
              ) -> tuple[dict[str, dict[LayerPrecision, float]], str, list[str], Any, Any]:
    """Per-layer errors measured on the network's real weights and outputs."""
    from aras.evaluation.accuracy import load_calibration, random_calibration, sensitivity
    from formulations.precision import errors_from_sensitivity

    runner = runner_for(problem, network_path, per_channel)
    if runner is None:
        raise InputError("--sensitivity: this network has no real model to run (an ONNX file "
                         "with its weights, or minilm-l6); give a per-layer error table "
                         "(layer,weight_bits,activation_bits,error)")
    if calibration is not None:
        calib = load_calibration(calibration, runner)
    else:
        calib = random_calibration(runner, samples, seed)
    hw = problem.hardware
    acands = sorted({c.activation_bits for c in cands} - {hw.activation_bits})
    sens = sensitivity(runner, calib, candidates=sorted({c.weight_bits for c in cands}),
                       activation_candidates=acands or None)
    notes = []
    if calib.synthetic:
        notes.append(f"calibration: {calib.n} seeded random inputs (no --calibration given): "
                     "errors measured on them say little about real inputs")
    return (errors_from_sensitivity(sens, hw, cands), f"measured on {calib.source}", notes,
            runner, calib)


def synthetic_weight_errors(problem: Problem, cands: list[LayerPrecision], seed: int = 0
                            ) -> dict[str, dict[LayerPrecision, float]]:
    """Per-layer weight quantisation error of the statistical model's synthetic weights
    (:func:`aras.model.weights.synthetic_stats`): the relative RMS error
    ``||q - q'|| / ||q - mean(q)||`` of INT8 codes ``q`` requantised to ``b`` bits and
    de-quantised (``q' = round(q (2^b - 1) / 255) x 255 / (2^b - 1)``), exact over the
    layer's code distribution. Activation bits add nothing here (no activations to measure):
    for networks without real weights, a stand-in that only ranks layers by their weights'
    spread, never a measured accuracy.
    """
    import numpy as np

    from aras.model.precision import requantize
    from aras.model.weights import normal_pmf, synthetic_stats

    hw = problem.hardware
    names = [o.name for o in problem.network.weighted_ops]
    stats = synthetic_stats(names, seed)
    q = np.arange(1 << hw.weight_bits)
    top8 = (1 << hw.weight_bits) - 1
    out: dict[str, dict[LayerPrecision, float]] = {}
    for L in names:
        pmf = normal_pmf(stats[L].mean, stats[L].std, len(q))
        mean = float(pmf @ q)
        spread = float(pmf @ (q - mean) ** 2)
        row = {}
        for c in cands:
            top = (1 << c.weight_bits) - 1
            back = requantize(q, c.weight_bits, hw.weight_bits) * top8 / top
            row[c] = float(np.sqrt(pmf @ (q - back) ** 2 / spread))
        out[L] = row
    return out


def measure(problem: Problem, network_path: str | None, *, calibration: Path | None = None,
            weight_bits: str | None = None, activation_bits: str | None = None,
            samples: int = 64, seed: int = 0, per_channel: bool = False) -> tuple[Any, list[str]]:
    """``aras sensitivity``: the per-layer sensitivity of a network with a real model, and
    notes for the user (errors name the flags).

    Returns
    -------
    (Sensitivity, notes)
    """
    from aras.evaluation.accuracy import load_calibration, random_calibration, sensitivity
    from aras.model.limits import integer

    hw = problem.hardware
    wb = parse_bits(weight_bits or "4,6,8", hw.weight_bits, "--weight-bits")
    ab = (parse_bits(activation_bits, hw.activation_bits, "--activation-bits")
          if activation_bits else [])
    integer(samples, "--samples", lo=1, hi=1 << 16)
    runner = runner_for(problem, network_path, per_channel)
    if runner is None:
        raise InputError("NETWORK: no real model to run (an ONNX file with its weights, or "
                         "minilm-l6); networks without real weights take a per-layer table")
    calib = (load_calibration(calibration, runner) if calibration is not None
             else random_calibration(runner, samples, seed))
    sens = sensitivity(runner, calib, candidates=wb,
                       activation_candidates=[b for b in ab if b != hw.activation_bits] or None)
    notes = []
    if calib.synthetic:
        notes.append(f"calibration: {calib.n} seeded random inputs (no --calibration given): "
                     "errors measured on them say little about real inputs")
    return sens, notes
