"""Output shapes and multiply-accumulates of DNN operations (batch 1)."""

from __future__ import annotations

import math

from aras.model.errors import InputError
from aras.model.ops import Op, Shape


def _conv_out(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _deconv_out(n: int, k: int, s: int, p: int, d: int, extra: int) -> int:
    """Output length of a transposed convolution (the inverse of :func:`_conv_out`)."""
    return (n - 1) * s - 2 * p + d * (k - 1) + extra + 1


def recurrent_steps(op: Op, ins: list[Shape]) -> int:
    """Timesteps of a recurrent op: input vectors of directions x gates x hidden elements
    (the input projection's output).

    Raises
    ------
    InputError
        When the first input is not a whole number of such vectors.
    """
    g, rows, cols = op.matrix
    width = g * cols
    if not ins:
        raise InputError(f"op '{op.name}': recurrent expects the input projection as its "
                         "first input")
    numel = math.prod(ins[0])
    if numel % width:
        raise InputError(f"op '{op.name}': input of {numel} elements is not a whole number of "
                         f"directions x gates x hidden = {width} vectors (the input "
                         "projection's outputs)")
    return numel // width


def infer_shape(op: Op, ins: list[Shape]) -> Shape:
    """Shape of the tensor ``op`` produces from its input shapes.

    Raises
    ------
    InputError
        When the input shapes do not fit the op.
    """
    a = op.attrs
    n = op.name
    if "shape" in a:
        return _declared(op, ins)
    if op.kind == "conv2d":
        if len(ins) != 1 or len(ins[0]) != 3 or ins[0][0] != a["c_in"]:
            raise InputError(f"op '{n}': conv2d expects one input of shape "
                             f"(c_in={a['c_in']}, H, W), got {[list(s) for s in ins]}")
        _, h, w = ins[0]
        ho = _conv_out(h, a["kernel"][0], a["stride"][0], a["padding"][0], a["dilation"][0])
        wo = _conv_out(w, a["kernel"][1], a["stride"][1], a["padding"][1], a["dilation"][1])
        if ho <= 0 or wo <= 0:
            raise InputError(f"op '{n}': output would be empty ({ho}x{wo}) for input {h}x{w}")
        return (a["c_out"], ho, wo)
    if op.kind == "conv_transpose2d":
        if len(ins) != 1 or len(ins[0]) != 3 or ins[0][0] != a["c_in"]:
            raise InputError(f"op '{n}': conv_transpose2d expects one input of shape "
                             f"(c_in={a['c_in']}, H, W), got {[list(s) for s in ins]}")
        _, h, w = ins[0]
        dims = [_deconv_out(x, a["kernel"][i], a["stride"][i], a["padding"][i],
                            a["dilation"][i], a["output_padding"][i])
                for i, x in enumerate((h, w))]
        if min(dims) <= 0:
            raise InputError(f"op '{n}': output would be empty ({dims[0]}x{dims[1]}) for "
                             f"input {h}x{w}")
        return (a["c_out"], dims[0], dims[1])
    if op.kind == "recurrent":
        # further inputs (initial states) are read but shape nothing
        return (recurrent_steps(op, ins), a["directions"] * a["hidden"])
    if op.kind == "linear":
        if len(ins) != 1:
            raise InputError(f"op '{n}': linear expects one input")
        numel = math.prod(ins[0])
        if numel % a["in_features"]:
            raise InputError(f"op '{n}': input of {numel} elements is not a whole number of "
                             f"in_features={a['in_features']} vectors")
        return (numel // a["in_features"], a["out_features"])
    if op.kind == "matmul":
        return _matmul_shape(op, ins)[0]
    if op.kind == "pool":
        if len(ins) != 1 or len(ins[0]) != 3:
            raise InputError(f"op '{n}': pool expects one (C, H, W) input")
        c, h, w = ins[0]
        if a["global"]:
            return (c, 1, 1)
        ho = _conv_out(h, a["kernel"][0], a["stride"][0], a["padding"][0], 1)
        wo = _conv_out(w, a["kernel"][1], a["stride"][1], a["padding"][1], 1)
        if ho <= 0 or wo <= 0:
            raise InputError(f"op '{n}': output would be empty ({ho}x{wo}) for input {h}x{w}")
        return (c, ho, wo)
    if op.kind == "eltwise":
        return _broadcast(n, ins)
    if op.kind == "add":
        if len(ins) < 2 or any(s != ins[0] for s in ins):
            raise InputError(f"op '{n}': add expects two or more inputs of one shape, "
                             f"got {[list(s) for s in ins]}")
        return ins[0]
    if op.kind == "concat":
        ax = a["axis"]
        if len(ins) < 2 or any(len(s) != len(ins[0]) or ax >= len(s) for s in ins):
            raise InputError(f"op '{n}': concat expects two or more inputs of equal rank > axis")
        rest = [s[:ax] + s[ax + 1:] for s in ins]
        if any(r != rest[0] for r in rest):
            raise InputError(f"op '{n}': concat inputs differ outside axis {ax}: "
                             f"{[list(s) for s in ins]}")
        return ins[0][:ax] + (sum(s[ax] for s in ins),) + ins[0][ax + 1:]
    # norm, act, softmax: element-wise
    if len(ins) != 1:
        raise InputError(f"op '{n}': {op.kind} expects one input")
    return ins[0]


def _declared(op: Op, ins: list[Shape]) -> Shape:
    """Check a declared output shape against what its inputs allow (element counts)."""
    shape: Shape = op.attrs["shape"]
    a, n = op.attrs, op.name
    if op.kind in ("conv2d", "conv_transpose2d"):
        if len(ins) != 1 or len(shape) != 3 or shape[0] != a["c_out"] \
                or math.prod(ins[0]) % a["c_in"]:
            raise InputError(f"op '{n}': declared shape {list(shape)} does not fit a {op.kind} "
                             f"with c_in={a['c_in']}, c_out={a['c_out']} on input "
                             f"{[list(s) for s in ins]}")
    elif op.kind == "concat":
        if math.prod(shape) != sum(math.prod(s) for s in ins):
            raise InputError(f"op '{n}': declared shape {list(shape)} does not hold the "
                             f"{sum(math.prod(s) for s in ins)} elements of its inputs")
    elif op.kind in ("norm", "act", "softmax") and len(ins) != 1:
        raise InputError(f"op '{n}': {op.kind} expects one input")
    return shape


def _broadcast(n: str, ins: list[Shape]) -> Shape:
    """NumPy broadcasting of element-wise inputs (one input is an op with a constant)."""
    if not ins:
        raise InputError(f"op '{n}': eltwise expects at least one input")
    rank = max(len(s) for s in ins)
    out = []
    for d in range(rank):
        dims = {s[len(s) - rank + d] for s in ins if len(s) - rank + d >= 0} - {1}
        if len(dims) > 1:
            raise InputError(f"op '{n}': eltwise inputs {[list(s) for s in ins]} do not "
                             "broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def _matmul_shape(op: Op, ins: list[Shape]) -> tuple[Shape, int]:
    """Output shape and MAC count of a weightless (multi-head) matmul.

    ``A`` is ``(m, heads*k)`` or ``(heads, m, k)``. ``B`` is ``(k, heads*n)``
    (or ``(n, heads*k)`` with ``transpose_b``) or the 3-D ``(heads, k, n)``
    (``(heads, n, k)``). The output is ``(m, heads*n)`` when ``B`` is 2-D and not
    transposed (heads merged back, as for the attention context) and
    ``(heads, m, n)`` otherwise (as for the attention scores). With grouped-query
    attention ``kv_heads`` (0: equal to ``heads``) divides ``heads`` and ``B`` carries
    ``kv_heads`` heads, each shared by ``heads / kv_heads`` query heads; the MACs are those
    of ``heads`` products. A matmul that declares ``shape`` and ``macs`` (an importer's,
    where a folded view left its inputs in another layout) takes them as given.
    """
    n_ = op.name
    h = op.attrs["heads"]
    kv = op.attrs.get("kv_heads") or h
    tb = op.attrs["transpose_b"]
    if len(ins) != 2:
        raise InputError(f"op '{n_}': matmul expects two inputs")
    if "shape" in op.attrs:
        return op.attrs["shape"], op.attrs["macs"]
    a, b = ins
    bad = InputError(f"op '{n_}': matmul shapes {list(a)} x {list(b)} do not fit heads={h}, "
                     f"kv_heads={kv}, transpose_b={tb}")
    if len(a) == 2 and a[1] % h == 0:
        m, k = a[0], a[1] // h
    elif len(a) == 3 and a[0] == h:
        m, k = a[1], a[2]
    else:
        raise bad
    if len(b) == 2:
        if tb:
            if b[1] != kv * k:
                raise bad
            nn = b[0]
        else:
            if b[0] != k or b[1] % kv:
                raise bad
            nn = b[1] // kv
    elif len(b) == 3 and b[0] in (h, kv):
        kb, nn = (b[2], b[1]) if tb else (b[1], b[2])
        if kb != k:
            raise bad
    else:
        raise bad
    out: Shape = (m, h * nn) if (len(b) == 2 and not tb) else (h, m, nn)
    return out, h * m * k * nn


def matmul_macs(op: Op, ins: list[Shape]) -> int:
    """Multiply-accumulates of a weightless matmul."""
    return _matmul_shape(op, ins)[1]
