"""Per-layer precision: weight bits and activation bits of each weight-bearing layer.

The hardware's ``weight_bits`` and ``activation_bits`` (INT8, the paper's setting) are the
most a layer may use; a :class:`Precision` lowers them layer by layer (docs/model.md,
"Precision"). What a layer's bits change:

- **cells per weight** ``ceil(b_w / bits_per_cell)``, so more kernels per APU row
  (``apus_per_row x floor(crossbar_cols / cells)``) and fewer APU rows per part;
- **compute cycles per window** ``ceil(compute_latency_cycles x b_a / activation_bits)``: the
  crossbars take the input one bit per iteration (1-bit DACs, the paper's bit-serial
  streaming), so iterations, and cycles, scale with the activation bits;
- **write pulses**: a layer at ``b_w`` bits stores ``round(q x (2^b_w - 1) / 255)`` of its INT8
  code ``q`` (the min-max codes at ``b_w`` bits of the same range), in its own cells;
- **compute energy**: crossbar energy per window scales with the iterations, and optionally
  with the ADC resolution (``Hardware.adc_energy_fraction``).

Parts stay those of the full-precision layer (the layer's APU rows at the hardware's weight
bits split into parts of at most ``total_apu_rows``): a precision never changes a network's
compute steps, so schedules, bounds and models keep one step structure whatever precision
each layer takes; a part at fewer bits holds its balanced share of the fewer tiles.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.hardware import Hardware
from aras.model.limits import integer

__all__ = ["LayerPrecision", "Precision", "cells_per_weight", "kernels_per_apu_row",
           "window_cycles", "requantize", "weight_bits_of", "describe", "to_document",
           "from_document", "parse_bits", "load_precision", "check_precision"]


@dataclass(frozen=True, order=True)
class LayerPrecision:
    """Weight and activation bits of one layer.

    Attributes
    ----------
    weight_bits
        Bits of each weight (1 to the hardware's ``weight_bits``).
    activation_bits
        Bits of each input activation streamed into the crossbars (1 to the hardware's
        ``activation_bits``).
    """

    weight_bits: int
    activation_bits: int

    def __str__(self) -> str:
        return f"W{self.weight_bits}A{self.activation_bits}"


#: A precision assignment: layer name -> its precision. Layers not named keep the hardware's.
Precision = Mapping[str, LayerPrecision]


def cells_per_weight(weight_bits: int, hw: Hardware) -> int:
    """Cells holding one weight of ``weight_bits`` bits: ``ceil(weight_bits / bits_per_cell)``."""
    return -(-weight_bits // hw.bits_per_cell)


def kernels_per_apu_row(weight_bits: int, hw: Hardware) -> int:
    """Output columns (kernels) one APU row holds at ``weight_bits``: every crossbar of the row
    holds ``floor(crossbar_cols / cells)`` weights side by side."""
    return hw.apus_per_row * (hw.crossbar_cols // cells_per_weight(weight_bits, hw))


def window_cycles(activation_bits: int, hw: Hardware) -> int:
    """Cycles one window takes through a crossbar at ``activation_bits``: the hardware's
    ``compute_latency_cycles`` (all of ``activation_bits``) scaled by the bit-serial
    iterations, rounded up."""
    return -(-hw.compute_latency_cycles * activation_bits // hw.activation_bits)


def requantize(codes: Any, weight_bits: int, from_bits: int = 8) -> Any:
    """Codes of ``from_bits`` bits as ``weight_bits``-bit codes of the same range:
    ``round(q x (2^b - 1) / (2^from_bits - 1))`` (halves away from zero; numpy arrays in and
    out). The identity when the bits are equal."""
    import numpy as np

    q = np.asarray(codes, dtype=np.int64)
    if weight_bits == from_bits:
        return q
    top_b, top_f = (1 << weight_bits) - 1, (1 << from_bits) - 1
    # integer round-half-up of q * top_b / top_f: exact, no float rounding at the halves
    return (2 * q * top_b + top_f) // (2 * top_f)


def check_precision(precision: Mapping[str, Any], layers: Iterable[str], hw: Hardware,
                    where: str = "precision") -> dict[str, LayerPrecision]:
    """Validate an assignment against a network's weight-bearing layers and the hardware.

    Accepts :class:`LayerPrecision` values, ``(weight_bits, activation_bits)`` pairs, or a
    bare integer (weight bits; activations keep the hardware's). Returns only the layers whose
    precision differs from the hardware's, so that the uniform hardware precision is the empty
    assignment.

    Raises
    ------
    InputError
        A layer the network has no weight-bearing op of, or bits outside
        ``[1, hardware.weight_bits]`` / ``[1, hardware.activation_bits]``; the message starts
        with ``where``.
    """
    if not isinstance(precision, Mapping):
        raise InputError(f"{where}: must map layer names to bits, got "
                         f"{type(precision).__name__}")
    known = set(layers)
    out: dict[str, LayerPrecision] = {}
    for layer, value in precision.items():
        if layer not in known:
            near = [n for n in known if layer in n or n in layer][:3]
            hint = f" (did you mean {', '.join(map(repr, sorted(near)))}?)" if near else ""
            raise InputError(f"{where}: '{layer}' is not a weight-bearing layer of the "
                             f"network{hint}")
        if isinstance(value, LayerPrecision):
            wb, ab = value.weight_bits, value.activation_bits
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            wb, ab = value
        else:
            wb, ab = value, hw.activation_bits
        wb = integer(wb, f"{where}['{layer}'].weight_bits", lo=1, hi=hw.weight_bits)
        ab = integer(ab, f"{where}['{layer}'].activation_bits", lo=1, hi=hw.activation_bits)
        if (wb, ab) != (hw.weight_bits, hw.activation_bits):
            out[layer] = LayerPrecision(wb, ab)
    return out


def parse_bits(spec: str, hi: int, where: str) -> list[int]:
    """``"4,6,8"`` as sorted distinct integers in ``[1, hi]`` (``where`` names the flag or
    argument in errors)."""
    items = [x.strip() for x in str(spec).split(",") if x.strip()]
    if not items:
        raise InputError(f"{where}: give bits as a comma-separated list, e.g. 4,6,8")
    out = set()
    for x in items:
        try:
            b = int(x)
        except ValueError:
            raise InputError(f"{where}: '{x}' is not an integer number of bits") from None
        integer(b, where, lo=1, hi=hi)
        out.add(b)
    return sorted(out)


def load_precision(path: str | Path, layers: Iterable[str], hw: Hardware,
                   where: str = "precision") -> dict[str, LayerPrecision]:
    """Read a fixed per-layer assignment from a file.

    Formats: CSV with a ``layer,weight_bits[,activation_bits]`` header; JSON or TOML mapping
    layer names to ``weight_bits`` (an integer), ``[weight_bits, activation_bits]`` or
    ``{weight_bits = .., activation_bits = ..}``. Layers not listed keep the hardware's bits.

    Raises
    ------
    InputError
        Missing or malformed file, unknown layers, bits out of range (see
        :func:`check_precision`).
    """
    from aras.model.files import read_json, read_text, read_toml

    p = Path(path)
    raw: dict[str, Any] = {}
    suffix = p.suffix.lower()
    if suffix == ".csv":
        text = read_text(p, where, "CSV")
        rows = list(csv.DictReader(io.StringIO(text)))
        if not rows or "layer" not in rows[0] or "weight_bits" not in rows[0]:
            raise InputError(f"{where}: {p}: a CSV needs a header 'layer,weight_bits' "
                             "(and optionally ',activation_bits')")
        for i, row in enumerate(rows, start=2):
            try:
                wb = int(row["weight_bits"])
                ab = int(row["activation_bits"]) if row.get("activation_bits") else \
                    hw.activation_bits
            except (TypeError, ValueError):
                raise InputError(f"{where}: {p} line {i}: bits must be integers") from None
            if row["layer"] in raw:
                raise InputError(f"{where}: {p} line {i}: layer '{row['layer']}' twice")
            raw[row["layer"]] = (wb, ab)
    else:
        data = read_toml(p, where) if suffix == ".toml" else read_json(p, where)
        if not isinstance(data, dict):
            raise InputError(f"{where}: {p}: expected a table of layer -> bits")
        data = data.get("precision", data)
        for layer, v in data.items():
            if isinstance(v, dict):
                unknown = set(v) - {"weight_bits", "activation_bits"}
                if unknown:
                    raise InputError(f"{where}: {p}: layer '{layer}': unknown key "
                                     f"'{sorted(unknown)[0]}'")
                v = (v.get("weight_bits", hw.weight_bits),
                     v.get("activation_bits", hw.activation_bits))
            raw[layer] = tuple(v) if isinstance(v, list) else v
    return check_precision(raw, layers, hw, where=f"{where}: {p}")


def to_document(precision: Mapping[str, LayerPrecision]) -> dict[str, list[int]]:
    """The schedule file's ``precision`` field: layer -> ``[weight_bits, activation_bits]``."""
    return {k: [v.weight_bits, v.activation_bits] for k, v in sorted(precision.items())}


def from_document(data: Any, where: str) -> dict[str, LayerPrecision]:
    """Parse a schedule file's ``precision`` field (structure only; the layers and ranges are
    checked against the network when it is mapped)."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: must be an object of layer -> [weight_bits, "
                         "activation_bits]")
    out = {}
    for k, v in data.items():
        if not (isinstance(v, list) and len(v) == 2):
            raise InputError(f"{where}['{k}']: must be [weight_bits, activation_bits]")
        out[k] = LayerPrecision(integer(v[0], f"{where}['{k}'][0]", lo=1, hi=64),
                                integer(v[1], f"{where}['{k}'][1]", lo=1, hi=64))
    return out


def weight_bits_of(problem: Any) -> dict[str, int]:
    """Weight bits of a mapped problem's layers stored at other bits than the hardware's."""
    hw = problem.hardware
    return {k: v.weight_bits for k, v in problem.precision.items()
            if v.weight_bits != hw.weight_bits}


def describe(precision: Mapping[str, LayerPrecision], layers: int) -> str:
    """One line: how many layers run at which precision."""
    if not precision:
        return "uniform hardware precision"
    counts: dict[str, int] = {}
    for v in precision.values():
        counts[str(v)] = counts.get(str(v), 0) + 1
    rest = layers - len(precision)
    parts = [f"{n} at {k}" for k, n in sorted(counts.items())]
    if rest:
        parts.append(f"{rest} at the hardware's")
    return ", ".join(parts)
