"""The quantisation rule of :mod:`aras.evaluation.accuracy`: min-max to ``b``-bit unsigned
codes (paper Eq. 6 generalised) and back (fake quantisation)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from aras.model.errors import InputError

__all__ = ["BITS", "check_bits", "fake_quantize", "fake_quantize_rows", "fake_quantize_weights",
           "qparams",
           "requantize_codes", "weight_error"]

#: Bits a weight or an activation may take (the hardware's INT8 at most).
BITS = (1, 8)


def qparams(lo: float, hi: float, bits: int) -> tuple[float, int]:
    """Scale and zero point of Eq. 6 at ``bits`` bits over the range ``[lo, hi]``, widened to
    hold 0.

    ``scale = (hi - lo) / (2^bits - 1)`` (1 when the range is empty) and
    ``zero_point = round(-lo / scale)``. A range that spans 0 (every layer's weights in
    practice) is Eq. 6's own; one on one side of 0 (an output channel whose weights are all
    negative, an activation after a sigmoid) is widened to reach 0, since Eq. 6's zero point
    would otherwise be clipped and every value saturate.
    """
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    top = (1 << bits) - 1
    scale = (float(hi) - float(lo)) / top
    if not scale > 0.0:
        scale = 1.0
    zero_point = int(np.clip(round(-float(lo) / scale), 0, top))
    return scale, zero_point


def fake_quantize(a: np.ndarray, bits: int, lo: float | None = None,
                  hi: float | None = None) -> np.ndarray:
    """``a`` quantised to ``bits``-bit unsigned codes by Eq. 6 and de-quantised.

    ``q = clip(round(a / scale) + zero_point, 0, 2^bits - 1)``, value ``(q - zero_point) *
    scale``, with :func:`qparams` over ``[lo, hi]`` (default: ``a``'s own min and max, the
    per-layer rule for weights). At 8 bits over ``a``'s own range this is
    :func:`aras.frontends.pretrained.quantize_uint8` de-quantised.

    Parameters
    ----------
    a
        Real values (any shape).
    bits
        Bits of the codes, 1 to 8.
    lo, hi
        The range (a calibrated activation range); both or neither.

    Returns
    -------
    numpy.ndarray
        float64 values on the ``2^bits`` level grid, ``a``'s shape.
    """
    x = np.asarray(a, dtype=np.float64)
    if lo is None or hi is None:
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    scale, zp = qparams(lo, hi, bits)
    q = np.clip(np.rint(x / scale) + zp, 0, (1 << bits) - 1)
    return (q - zp) * scale


def fake_quantize_rows(a: np.ndarray, bits: int) -> np.ndarray:
    """``a`` fake-quantised by Eq. 6 with one range per vector along the last axis (each
    token's activations over their own min and max: dynamic quantisation)."""
    x = np.asarray(a, dtype=np.float64)
    top = (1 << bits) - 1
    lo = np.minimum(x.min(axis=-1, keepdims=True), 0.0)  # each range holds 0 (qparams)
    hi = np.maximum(x.max(axis=-1, keepdims=True), 0.0)
    scale = (hi - lo) / top
    scale[~(scale > 0)] = 1.0
    zp = np.clip(np.rint(-lo / scale), 0, top)
    return (np.clip(np.rint(x / scale) + zp, 0, top) - zp) * scale


def fake_quantize_weights(w: np.ndarray, bits: int, axis: int | None = None) -> np.ndarray:
    """A weight tensor fake-quantised per layer (``axis=None``: one range, paper Eq. 6) or
    per output channel (one min-max range for each index along ``axis``, the crossbar
    column a kernel's outputs leave by, whose ADC output is scaled on its own)."""
    if axis is None:
        return fake_quantize(w, bits)
    x = np.moveaxis(np.asarray(w, dtype=np.float64), axis, 0)
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = fake_quantize(x[i], bits)
    return np.moveaxis(out, 0, axis)


def requantize_codes(codes: np.ndarray, bits: int) -> np.ndarray:
    """Integer codes requantised to ``bits`` bits over their own range, in code units.

    Eq. 6 on the codes' offsets from their minimum: codes whose range already fits in
    ``2^bits`` levels stay exactly as they are (INT8 codes at 8 bits are unchanged); else they
    move to ``min + scale * round((c - min) / scale)`` with ``scale = (max - min) /
    (2^bits - 1)``.

    Parameters
    ----------
    codes
        Integer codes (any integer or float dtype holding integers).
    bits
        Bits of the new codes, 1 to 8.

    Returns
    -------
    numpy.ndarray
        float64 codes of ``codes``' shape (not integers below 8 bits in general).
    """
    c = np.asarray(codes, dtype=np.float64)
    if not c.size:
        return c
    lo, hi = float(c.min()), float(c.max())
    if hi - lo <= (1 << bits) - 1:
        return c.copy()
    return lo + fake_quantize(c - lo, bits, 0.0, hi - lo)


def weight_error(w: np.ndarray, wq: np.ndarray, centre: float = 0.0) -> float:
    """``||w - wq|| / ||w - centre||`` (Frobenius), 0 for an all-``centre`` ``w``."""
    a = np.asarray(w, dtype=np.float64)
    den = float(np.linalg.norm(a - centre))
    if den == 0.0:
        return 0.0
    return float(np.linalg.norm(a - np.asarray(wq, dtype=np.float64))) / den


def check_bits(bits: Mapping[str, int] | None, layers: list[str] | tuple[str, ...],
               name: str) -> dict[str, int]:
    """``bits`` as a dict, checked: known layers, integers in :data:`BITS`.

    Raises
    ------
    InputError
        Naming ``name`` (``weight_bits`` or ``activation_bits``) and the layer.
    """
    if bits is None:
        return {}
    if not isinstance(bits, Mapping):
        raise InputError(f"{name}: must map layer names to bits, got {type(bits).__name__}")
    known = set(layers)
    out: dict[str, int] = {}
    for layer, b in bits.items():
        if layer not in known:
            raise InputError(f"{name}: unknown layer {layer!r} (layers: "
                             f"{', '.join(list(layers)[:4])}{', ...' if len(layers) > 4 else ''})")
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) \
                or not BITS[0] <= int(b) <= BITS[1]:
            raise InputError(f"{name}: layer {layer!r}: bits must be an integer in "
                             f"[{BITS[0]}, {BITS[1]}], got {b!r}")
        out[layer] = int(b)
    return out
