"""Calibration sets, output agreement and per-layer sensitivity of a precision assignment."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aras.evaluation.accuracy.quant import BITS, check_bits, requantize_codes, weight_error
from aras.evaluation.accuracy.runners import Runner, check_inputs
from aras.model.errors import InputError

__all__ = ["KINDS", "METRICS", "Agreement", "Calibration", "Sensitivity", "agreement",
           "load_calibration", "output_error", "random_calibration", "sensitivity"]

#: Output kinds ``agreement`` knows; ``auto`` picks by the runner and the output's shape.
KINDS = ("auto", "classifier", "embedding", "regression")
#: The metric of each kind, and whether it is a similarity (error = 1 - value) or an error.
METRICS = {"classifier": ("top1_agreement", True), "embedding": ("mean_cosine", True),
           "regression": ("mean_abs_error", False)}


@dataclass
class Calibration:
    """Inputs to measure on.

    Attributes
    ----------
    inputs
        Arrays by model input name, each ``(n, *sample_shape)``.
    n
        Number of samples.
    synthetic
        True for seeded random inputs (:func:`random_calibration`): figures on them are not
        figures on real data.
    source
        The file read, or ``random (seed S)``.
    """

    inputs: dict[str, np.ndarray]
    n: int
    synthetic: bool
    source: str


def load_calibration(path: str | Path, runner: Runner) -> Calibration:
    """Read a calibration set for ``runner``'s model.

    ``.npy``: one array, for a model of one input; ``.npz``: one array per input name;
    ``.txt``: one sentence per line (blank lines skipped), for a runner with a tokenizer
    (:class:`~aras.evaluation.accuracy.minilm.MiniLMRunner`). Arrays are ``n x sample`` with
    the model's sample shape; their dtype must be of the model's kind (float or integer) and
    is cast to it.

    Raises
    ------
    InputError
        Naming ``calibration``: a missing or unreadable file, another suffix, a missing or
        unknown input, a wrong shape, dtype or sample count.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"calibration: file not found: {p}")
    suffix = p.suffix.lower()
    inputs: Any
    if suffix == ".txt":
        tokenize = getattr(runner, "tokenize", None)
        if tokenize is None:
            raise InputError(f"calibration: {p}: text needs a model with a tokenizer; give "
                             "this model's inputs as .npy or .npz")
        lines = [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines()]
        lines = [ln for ln in lines if ln]
        if not lines:
            raise InputError(f"calibration: {p}: no sentences")
        inputs = tokenize(lines)
    elif suffix in (".npy", ".npz"):
        try:
            loaded = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"calibration: {p}: not a readable {suffix} file ({exc})"
                             ) from None
        if suffix == ".npy":
            if len(runner.inputs) != 1:
                raise InputError(f"calibration: {p}: the model has {len(runner.inputs)} inputs "
                                 f"({', '.join(runner.inputs)}); give them in an .npz")
            inputs = {next(iter(runner.inputs)): loaded}
        else:
            with loaded as z:
                inputs = {k: z[k] for k in z.files}
    else:
        raise InputError(f"calibration: {p}: expected .npy, .npz or .txt, got "
                         f"'{p.suffix or p.name}'")
    checked = check_inputs(runner, inputs, "calibration")
    n = next(iter(checked.values())).shape[0]
    return Calibration(checked, n, False, str(p))


def random_calibration(runner: Runner, n: int = 32, seed: int = 0) -> Calibration:
    """``n`` seeded random samples, marked ``synthetic`` (the fallback without real data).

    Raises
    ------
    InputError
        ``n`` or ``seed`` not a non-negative integer (``n`` at least 1).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"n: must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed: must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    inputs = check_inputs(runner, runner.random_inputs(n, rng), "calibration")
    return Calibration(inputs, n, True, f"random (seed {seed})")


def _kind(runner: Runner, out: np.ndarray, kind: str) -> str:
    if kind not in KINDS:
        raise InputError(f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind != "auto":
        if kind == "classifier" and (out.ndim < 2 or out.shape[-1] < 2):
            raise InputError(f"kind: a classifier's output has classes on its last axis; "
                             f"this one is {'x'.join(map(str, out.shape))}")
        return kind
    if runner.output_kind == "embedding":
        return "embedding"
    if out.ndim == 2 and out.shape[1] > 1:
        return "classifier"
    return "regression"


def _compare(ref: np.ndarray, out: np.ndarray, kind: str) -> float:
    """The metric of ``kind`` between the float output ``ref`` and ``out``."""
    a = np.asarray(ref, dtype=np.float64)
    b = np.asarray(out, dtype=np.float64)
    if kind == "classifier":
        return float(np.mean(a.argmax(-1) == b.argmax(-1)))
    if kind == "embedding":
        a2 = a.reshape(a.shape[0], -1)
        b2 = b.reshape(b.shape[0], -1)
        den = np.linalg.norm(a2, axis=1) * np.linalg.norm(b2, axis=1)
        cos = np.where(den > 0, (a2 * b2).sum(1) / np.where(den > 0, den, 1.0), 1.0)
        return float(cos.mean())
    return float(np.mean(np.abs(a - b)))


def output_error(metric: str, value: float) -> float:
    """The error of an agreement figure: ``1 - value`` for top-1 and cosine, the MAE itself."""
    sim = {m: s for m, s in METRICS.values()}
    if metric not in sim:
        raise InputError(f"metric: unknown metric {metric!r}")
    return 1.0 - value if sim[metric] else value


@dataclass
class Agreement:
    """How closely a precision assignment's outputs follow the float model's.

    Attributes
    ----------
    metric
        ``top1_agreement`` (share of samples whose arg-max class is the float model's),
        ``mean_cosine`` (mean cosine similarity of the outputs, flattened per sample) or
        ``mean_abs_error`` (mean absolute difference over all output elements).
    value
        The metric's value.
    n
        Samples measured.
    synthetic
        The calibration set was random (:func:`random_calibration`).
    weight_bits, activation_bits
        The assignment (layers not named stay float).
    """

    metric: str
    value: float
    n: int
    synthetic: bool
    weight_bits: dict[str, int] = field(default_factory=dict)
    activation_bits: dict[str, int] = field(default_factory=dict)

    @property
    def error(self) -> float:
        """``1 - value`` for top-1 and cosine, the value for MAE."""
        return output_error(self.metric, self.value)


def _calibrated(runner: Runner, calibration: Calibration) -> None:
    # the ranges belong to one calibration set: recompute when another one comes
    if getattr(runner, "_aras_calibration", None) is not calibration:
        runner.calibrate(calibration.inputs)
        runner._aras_calibration = calibration  # type: ignore[attr-defined]


def _check_calibration(calibration: Any) -> Calibration:
    if not isinstance(calibration, Calibration):
        raise InputError("calibration: must be a Calibration (load_calibration or "
                         f"random_calibration), got {type(calibration).__name__}")
    return calibration


def _all(runner: Runner, bits: int | Mapping[str, int] | None, name: str) -> dict[str, int]:
    """A number means every layer at those bits."""
    if bits is None:
        return {}
    if isinstance(bits, (int, np.integer)) and not isinstance(bits, bool):
        return check_bits({layer: int(bits) for layer in runner.layers}, runner.layers, name)
    if isinstance(bits, bool):
        raise InputError(f"{name}: must be bits or a mapping of layer to bits, got {bits!r}")
    return check_bits(bits, runner.layers, name)


def agreement(runner: Runner, calibration: Calibration,
              weight_bits: int | Mapping[str, int] | None = None,
              activation_bits: int | Mapping[str, int] | None = None, *,
              kind: str = "auto", reference: np.ndarray | None = None,
              ranges_from: Calibration | None = None) -> Agreement:
    """Compare the outputs at an assignment with the float model's on a calibration set.

    Parameters
    ----------
    runner
        The model (:class:`~aras.evaluation.accuracy.runners.OnnxRunner`,
        :class:`~aras.evaluation.accuracy.minilm.MiniLMRunner`).
    calibration
        The inputs; activation ranges are calibrated on them (float model) first.
    weight_bits, activation_bits
        Bits by layer, or one number for every layer; layers not named stay float.
    kind
        ``classifier`` (top-1 agreement over the last axis), ``embedding`` (mean cosine),
        ``regression`` (MAE) or ``auto``: embedding for a sentence-embedding runner,
        classifier for a 2-D output of more than one column, else regression.
    reference
        The float model's output on the calibration set, when already computed.
    ranges_from
        The set whose float-model activation ranges fix the activation quantisation
        (default: ``calibration`` itself); a held-out evaluation passes the calibration
        split here.

    Returns
    -------
    Agreement

    Raises
    ------
    InputError
        A bad ``kind``, layer or bits (naming the argument).
    """
    cal = _check_calibration(calibration)
    wb = _all(runner, weight_bits, "weight_bits")
    ab = _all(runner, activation_bits, "activation_bits")
    if ab:
        _calibrated(runner, cal if ranges_from is None else _check_calibration(ranges_from))
    ref = runner.run(cal.inputs) if reference is None else reference
    k = _kind(runner, np.asarray(ref), kind)
    out = runner.run(cal.inputs, wb, ab)
    return Agreement(METRICS[k][0], _compare(ref, out, k), cal.n, cal.synthetic, wb, ab)


def _table(rows: Mapping[str, Mapping[int, float]] | None) -> dict[str, dict[int, float]]:
    return {k: dict(v) for k, v in (rows or {}).items()}


@dataclass
class Sensitivity:
    """Per-layer sensitivity to precision: the proxy an error budget sums.

    Attributes
    ----------
    layers
        Layer names, in the network's order.
    candidates
        Weight bits measured.
    weight_error
        ``weight_error[layer][b]``: ``||W - Q_b(W)|| / ||W||`` (``codes_only``: the codes'
        error relative to their spread about their mean, the zero point not being stored).
        Empty for a user table without that column.
    output_error
        ``output_error[layer][b]``: the output error the layer adds at ``b`` weight bits
        with every other layer (and every activation) at INT8, over the all-INT8 error,
        clipped at 0; None when no model was run.
    activation_candidates, activation_error
        The same for activation bits (weights all INT8), when measured or given.
    metric
        What ``output_error`` is: ``1 - top1_agreement``, ``1 - mean_cosine``,
        ``mean_abs_error`` or ``table`` (a user's figures).
    baseline_error
        The all-INT8 output error against the float model (what the figures are over).
    n, synthetic
        Calibration samples, and whether they were random.
    source
        Where the figures come from (a runner, a table file, ``codes``).
    codes_only
        Only stored INT8 codes were available: weight quantisation error, no outputs.
    """

    layers: list[str]
    candidates: tuple[int, ...]
    weight_error: dict[str, dict[int, float]]
    output_error: dict[str, dict[int, float]] | None = None
    activation_candidates: tuple[int, ...] = ()
    activation_error: dict[str, dict[int, float]] | None = None
    metric: str = "table"
    baseline_error: float | None = None
    n: int = 0
    synthetic: bool = False
    source: str = ""
    codes_only: bool = False

    def error(self, layer: str, bits: int, *, activation: bool = False) -> float:
        """The sensitivity of ``layer`` at ``bits``: its output error where measured, else
        its weight quantisation error; 0 at 8 bits (the INT8 baseline) when not listed."""
        table = (self.activation_error if activation else self.output_error)
        if table is None and not activation:
            table = self.weight_error
        if table is None or layer not in table:
            raise InputError(f"layer: no sensitivity for {layer!r}"
                             + (" activations" if activation else ""))
        row = table[layer]
        if bits not in row:
            if bits == BITS[1]:
                return 0.0
            raise InputError(f"bits: no sensitivity of {layer!r} at {bits} bits (candidates: "
                             f"{', '.join(map(str, sorted(row)))})")
        return row[bits]

    def to_csv(self, path: str | Path) -> Path:
        """Write ``layer,weight_bits,activation_bits,error,weight_error`` rows: one per layer
        and weight candidate (``error`` the output error, or the weight error when none was
        measured), then one per layer and activation candidate. :meth:`from_table` reads it
        back."""
        p = Path(path)
        with p.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["layer", "weight_bits", "activation_bits", "error", "weight_error"])
            for layer in self.layers:
                for b in self.candidates:
                    we = self.weight_error.get(layer, {}).get(b)
                    w.writerow([layer, b, "", repr(self.error(layer, b)),
                                "" if we is None else repr(we)])
            if self.activation_error is not None:
                for layer in self.layers:
                    for b in self.activation_candidates:
                        w.writerow([layer, "", b, repr(self.error(layer, b, activation=True)),
                                    ""])
        return p

    @classmethod
    def from_table(cls, path: str | Path, layers: Sequence[str]) -> Sensitivity:
        """Read a user's per-layer table (networks without real weights).

        A CSV with a header naming ``layer``, ``weight_bits`` and ``error``, and optionally
        ``activation_bits`` and ``weight_error``. A row gives one layer at one precision:
        ``weight_bits`` set (and ``activation_bits`` empty) for a weight candidate, or
        ``activation_bits`` set (and ``weight_bits`` empty) for an activation candidate.
        The candidates are the bits the rows name; every layer needs a row for each (a
        missing 8-bit row counts as 0, the INT8 baseline).

        Raises
        ------
        InputError
            Naming ``table``, the file and the row: no such file, a missing column, a layer
            not in ``layers`` or left out, a duplicate or missing candidate, bits outside
            ``[1, 8]``, an error that is not a finite number >= 0.
        """
        p = Path(path)
        if not p.is_file():
            raise InputError(f"table: file not found: {p}")
        known = list(layers)
        where = f"table: {p}"
        try:
            with p.open(newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                head = [h.strip() for h in (reader.fieldnames or [])]
                rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()
                         if k is not None} for r in reader]
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"{where}: not a readable CSV ({exc})") from None
        for col in ("layer", "weight_bits", "error"):
            if col not in head:
                raise InputError(f"{where}: no '{col}' column (header: {', '.join(head)}; "
                                 "expected layer,weight_bits,error[,activation_bits])")
        weights: dict[str, dict[int, float]] = {}
        acts: dict[str, dict[int, float]] = {}
        qerr: dict[str, dict[int, float]] = {}

        def bits_of(text: str, col: str, line: int) -> int:
            try:
                b = int(text)
            except ValueError:
                raise InputError(f"{where}: row {line}: {col} {text!r} is not an integer"
                                 ) from None
            if not BITS[0] <= b <= BITS[1]:
                raise InputError(f"{where}: row {line}: {col} {b} outside "
                                 f"[{BITS[0]}, {BITS[1]}]")
            return b

        def number(text: str, col: str, line: int) -> float:
            try:
                v = float(text)
            except ValueError:
                v = math.nan
            if not math.isfinite(v) or v < 0:
                raise InputError(f"{where}: row {line}: {col} {text!r} is not a finite "
                                 "number >= 0")
            return v

        for line, r in enumerate(rows, start=2):
            layer = r.get("layer", "")
            if layer not in known:
                raise InputError(f"{where}: row {line}: unknown layer {layer!r}")
            wtxt, atxt = r.get("weight_bits", ""), r.get("activation_bits", "")
            if bool(wtxt) == bool(atxt):
                raise InputError(f"{where}: row {line}: give weight_bits or activation_bits "
                                 "(one of them)")
            err = number(r.get("error", ""), "error", line)
            if wtxt:
                b = bits_of(wtxt, "weight_bits", line)
                target = weights
            else:
                b = bits_of(atxt, "activation_bits", line)
                target = acts
            if b in target.setdefault(layer, {}):
                raise InputError(f"{where}: row {line}: layer {layer!r} at {b} bits given "
                                 "twice")
            target[layer][b] = err
            if wtxt and r.get("weight_error"):
                qerr.setdefault(layer, {})[b] = number(r["weight_error"], "weight_error", line)
        if not weights:
            raise InputError(f"{where}: no weight rows")

        def complete(table: dict[str, dict[int, float]], what: str) -> tuple[int, ...]:
            cands = sorted({b for row in table.values() for b in row})
            for layer in known:
                row = table.setdefault(layer, {})
                missing = [b for b in cands if b not in row and b != BITS[1]]
                if missing:
                    raise InputError(f"{where}: layer {layer!r} has no {what} row at "
                                     f"{missing[0]} bits")
                if BITS[1] in cands:
                    row.setdefault(BITS[1], 0.0)
            return tuple(cands)

        cands = complete(weights, "weight_bits")
        acands = complete(acts, "activation_bits") if acts else ()
        return cls(known, cands, qerr, _sorted(weights, known), acands,
                   _sorted(acts, known) if acts else None, "table", None, 0, False, str(p))

    @classmethod
    def from_codes(cls, codes: Mapping[str, np.ndarray], candidates: Iterable[int] = (4, 6, 8),
                   layers: Sequence[str] | None = None) -> Sensitivity:
        """Weight-only sensitivity from stored INT8 codes (``Network.codes``), no model run.

        Each layer's codes are requantised with
        :func:`~aras.evaluation.accuracy.quant.requantize_codes`; the error is
        ``||c - Q_b(c)|| / ||c - mean(c)||`` (the zero point is not stored with the codes).
        Marked ``codes_only``.

        Raises
        ------
        InputError
            Naming ``codes`` (no codes, a layer missing) or ``candidates``.
        """
        if not codes:
            raise InputError("codes: the network carries no weight codes")
        order = list(layers) if layers is not None else list(codes)
        cands = _candidates(candidates, "candidates")
        table: dict[str, dict[int, float]] = {}
        for layer in order:
            if layer not in codes:
                raise InputError(f"codes: no codes for layer {layer!r}")
            c = np.asarray(codes[layer], dtype=np.float64)
            table[layer] = {b: weight_error(c, requantize_codes(c, b), float(c.mean()))
                            for b in cands}
        return cls(order, cands, table, None, (), None, "weight_error_of_codes", None, 0, False,
                   "codes", True)


def _sorted(table: dict[str, dict[int, float]], layers: list[str]) -> dict[str, dict[int, float]]:
    return {layer: dict(sorted(table[layer].items())) for layer in layers}


def _candidates(values: Iterable[int] | None, name: str) -> tuple[int, ...]:
    if values is None:
        return ()
    try:
        vals = list(values)
    except TypeError:
        raise InputError(f"{name}: must be a list of bits, got {values!r}") from None
    if not vals:
        raise InputError(f"{name}: empty")
    for b in vals:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) \
                or not BITS[0] <= int(b) <= BITS[1]:
            raise InputError(f"{name}: bits must be integers in [{BITS[0]}, {BITS[1]}], got "
                             f"{b!r}")
    return tuple(sorted({int(b) for b in vals}))


def sensitivity(runner: Runner, calibration: Calibration,
                candidates: Iterable[int] = (4, 6, 8),
                activation_candidates: Iterable[int] | None = None, *,
                kind: str = "auto") -> Sensitivity:
    """Per-layer sensitivity measured on real outputs.

    For each layer and candidate ``b``: the weight quantisation error
    ``||W - Q_b(W)|| / ||W||``, and the output error with that layer's weights at ``b`` bits
    and every other layer (and every activation) at INT8, minus the all-INT8 output error,
    clipped at 0: the error the choice adds over the baseline the hardware runs. Output error
    is ``1 - agreement`` for top-1 and cosine, the MAE otherwise, each against the float
    model. With ``activation_candidates``, the same for one layer's activations at ``b``
    bits (every weight at INT8). A candidate of 8 bits is the baseline itself: 0 without a
    run.

    Parameters
    ----------
    runner, calibration, kind
        As for :func:`agreement`.
    candidates
        Weight bits to measure, each in ``[1, 8]``.
    activation_candidates
        Activation bits to measure (none by default).

    Returns
    -------
    Sensitivity
    """
    cal = _check_calibration(calibration)
    cands = _candidates(candidates, "candidates")
    acands = _candidates(activation_candidates, "activation_candidates")
    top = BITS[1]
    _calibrated(runner, cal)
    ref = runner.run(cal.inputs)
    k = _kind(runner, np.asarray(ref), kind)
    metric, _ = METRICS[k]
    int8 = {layer: top for layer in runner.layers}

    def err(wb: Mapping[str, int], ab: Mapping[str, int]) -> float:
        return output_error(metric, _compare(ref, runner.run(cal.inputs, wb, ab), k))

    base = err(int8, int8)
    werr: dict[str, dict[int, float]] = {}
    oerr: dict[str, dict[int, float]] = {}
    aerr: dict[str, dict[int, float]] | None = {} if acands else None
    for layer in runner.layers:
        werr[layer] = {b: runner.weight_error(layer, b) for b in cands}
        oerr[layer] = {b: 0.0 if b == top else max(0.0, err({**int8, layer: b}, int8) - base)
                       for b in cands}
        if aerr is not None:
            aerr[layer] = {b: 0.0 if b == top else max(0.0, err(int8, {**int8, layer: b}) - base)
                           for b in acands}
    label = metric if metric == "mean_abs_error" else f"1 - {metric}"
    return Sensitivity(list(runner.layers), cands, werr, oerr, acands, aerr, label, base,
                       cal.n, cal.synthetic, repr(runner))
