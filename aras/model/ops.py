"""DNN operations: the op kinds, their attributes and the validated :class:`Op`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aras.model.errors import InputError
from aras.model.limits import INT_LIMIT, MAX_DIM, MAX_ELEMENTS, MAX_LAYER_WEIGHTS, shown

#: Op kinds and the attributes each accepts (with defaults; ``None`` = required).
KINDS: dict[str, dict[str, Any]] = {
    "conv2d": {"c_in": None, "c_out": None, "kernel": None, "stride": [1, 1],
               "padding": [0, 0], "dilation": [1, 1], "groups": 1},
    "conv_transpose2d": {"c_in": None, "c_out": None, "kernel": None, "stride": [1, 1],
                         "padding": [0, 0], "output_padding": [0, 0], "dilation": [1, 1],
                         "groups": 1},
    "linear": {"in_features": None, "out_features": None},
    "recurrent": {"cell": None, "hidden": None, "directions": 1,
                  "linear_before_reset": False},
    "matmul": {"heads": 1, "transpose_b": False, "kv_heads": 0},
    "pool": {"mode": "max", "kernel": [1, 1], "stride": [1, 1], "padding": [0, 0],
             "global": False},
    "add": {},
    "eltwise": {"fn": "add"},
    "concat": {"axis": 0},
    "norm": {},
    "act": {"fn": "relu"},
    "softmax": {},
    "gather": {"fn": "gather"},
}
WEIGHTED = frozenset({"conv2d", "conv_transpose2d", "linear", "recurrent"})
#: Weight-bearing kinds whose windows depend on each other (one timestep at a time), so that
#: replication cannot split them (docs/model.md, "Recurrent layers").
SERIAL = frozenset({"recurrent"})
#: Gate blocks of a recurrent cell: the columns of its recurrent matrix are gates x hidden.
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
#: Kinds that may declare their output ``shape`` (importers do, from the source format's own
#: shape inference, where a folded view leaves the input in another layout). ``gather`` must.
DECLARABLE = frozenset(KINDS) - {"linear", "recurrent"}
_PAIRS = {"kernel", "stride", "padding", "output_padding", "dilation"}

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Op:
    """One operation of the graph.

    Parameters
    ----------
    name
        Unique name; also the name of the tensor the op produces.
    kind
        One of :data:`KINDS`.
    inputs
        Names of the tensors it reads (op names or graph inputs), in order.
    attrs
        Kind-specific attributes (see :data:`KINDS`), completed with defaults.
    """

    name: str
    kind: str
    inputs: tuple[str, ...]
    attrs: Mapping[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.name, self.kind, self.inputs))

    @property
    def weighted(self) -> bool:
        """True for ops whose weights live in the crossbars (see :data:`WEIGHTED`)."""
        return self.kind in WEIGHTED

    @property
    def serial(self) -> bool:
        """True for weight-bearing ops whose windows run one after the other (recurrent)."""
        return self.kind in SERIAL

    @property
    def matrix(self) -> tuple[int, int, int]:
        """(groups, rows per group, columns per group) of the weight matrix.

        A transposed convolution is held in its scatter form: each input pixel's channels
        (rows) times every output channel at every kernel offset (columns). A recurrent op
        holds one recurrent matrix per direction (a group each): hidden rows times
        gates x hidden columns.
        """
        a = self.attrs
        if self.kind == "conv2d":
            g = a["groups"]
            return g, a["kernel"][0] * a["kernel"][1] * a["c_in"] // g, a["c_out"] // g
        if self.kind == "conv_transpose2d":
            g = a["groups"]
            return g, a["c_in"] // g, a["kernel"][0] * a["kernel"][1] * a["c_out"] // g
        if self.kind == "linear":
            return 1, a["in_features"], a["out_features"]
        if self.kind == "recurrent":
            h = a["hidden"]
            return a["directions"], h, GATES[a["cell"]] * h
        return 0, 0, 0

    @property
    def passes(self) -> int:
        """Dependent crossbar passes per input vector: 2 for a GRU whose candidate gate reads
        ``r * h`` (``linear_before_reset`` false: the reset gate must be known first), else
        1."""
        a = self.attrs
        if self.kind == "recurrent" and a["cell"] == "gru" and not a["linear_before_reset"]:
            return 2
        return 1

    @property
    def weights(self) -> int:
        """Number of weights held in crossbars (biases and norms excluded)."""
        g, r, c = self.matrix
        return g * r * c

    def to_dict(self) -> dict[str, Any]:
        """JSON form of the op (attributes equal to their default are omitted)."""
        d: dict[str, Any] = {"name": self.name, "op": self.kind, "inputs": list(self.inputs)}
        for k, v in self.attrs.items():
            default = KINDS[self.kind].get(k, ...)
            if k in KINDS[self.kind] and default is not None and _norm(k, default) == v:
                continue
            d[k] = list(v) if isinstance(v, tuple) else v
        return d


def _norm(key: str, value: Any) -> Any:
    if key in _PAIRS:
        return tuple(value)
    return value


def _pair(op: str, key: str, value: Any, *, minimum: int) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise InputError(f"op '{op}': {key} must be an integer or a pair of integers, "
                         f"got {value!r}")
    if min(value) < minimum:
        raise InputError(f"op '{op}': {key} must be >= {minimum}, got {list(value)}")
    if max(value) > MAX_DIM:
        raise InputError(f"op '{op}': {key} must be at most {MAX_DIM:,} (2^40), got "
                         f"[{', '.join(shown(v) for v in value)}]")
    return int(value[0]), int(value[1])


def _pos_int(op: str, key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InputError(f"op '{op}': {key} must be a positive integer, got {value!r}")
    if value > MAX_DIM:
        raise InputError(f"op '{op}': {key} must be at most {MAX_DIM:,} (2^40), got "
                         f"{shown(value)}")
    return value


def shape_of(value: Any, where: str) -> Shape:
    """A tensor shape: a non-empty list of positive integers, each and their product bounded."""
    if (not isinstance(value, (list, tuple)) or not value
            or any(isinstance(x, bool) or not isinstance(x, int) or x <= 0 for x in value)):
        raise InputError(f"{where}: shape must be a non-empty list of positive integers, got "
                         f"{list(value) if isinstance(value, tuple) else value!r}")
    shape = tuple(int(x) for x in value)
    check_elements(shape, where)
    return shape


def check_elements(shape: Shape, where: str) -> None:
    """Refuse a tensor of more elements than the limits allow (InputError naming ``where``)."""
    if math.prod(shape) > MAX_ELEMENTS:
        raise InputError(f"{where}: shape {list(shape)} has {shown(math.prod(shape))} elements, at "
                         f"most {MAX_ELEMENTS:,} (2^40) per tensor are supported")


def make_op(name: str, kind: str, inputs: Iterable[str], **attrs: Any) -> Op:
    """Build and validate an :class:`Op` (attributes completed with defaults).

    Raises
    ------
    InputError
        On an unknown kind, an unknown or missing attribute, or a bad value.
    """
    if not isinstance(name, str) or not name:
        raise InputError(f"op name must be a non-empty string, got {name!r}")
    if kind not in KINDS:
        raise InputError(f"op '{name}': unknown op '{kind}' (known: {', '.join(KINDS)})")
    spec = KINDS[kind]
    act, comment = attrs.pop("act", None), attrs.pop("comment", None)
    declared, macs = attrs.pop("shape", None), attrs.pop("macs", None)
    unknown = sorted(set(attrs) - set(spec))
    if unknown:
        raise InputError(f"op '{name}': unknown field '{unknown[0]}' for {kind}")
    full: dict[str, Any] = {}
    for key, default in spec.items():
        if key not in attrs:
            if default is None:
                raise InputError(f"op '{name}': missing field '{key}' for {kind}")
            value = default
        else:
            value = attrs[key]
        if key in _PAIRS:
            low = 0 if key in ("padding", "output_padding") else 1
            value = _pair(name, key, value, minimum=low)
        elif key in ("c_in", "c_out", "groups", "in_features", "out_features", "heads",
                     "hidden"):
            value = _pos_int(name, key, value)
        elif key == "directions":
            if isinstance(value, bool) or not isinstance(value, int) or value not in (1, 2):
                raise InputError(f"op '{name}': directions must be 1 or 2, got {value!r}")
        elif key == "cell":
            if not isinstance(value, str) or value not in GATES:
                raise InputError(f"op '{name}': cell must be one of {', '.join(GATES)}, got "
                                 f"{value!r}")
        elif key == "kv_heads":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIM:
                raise InputError(f"op '{name}': kv_heads must be an integer >= 0 (0: = heads), "
                                 f"got {value!r}")
        elif key in ("transpose_b", "global", "linear_before_reset"):
            if not isinstance(value, bool):
                raise InputError(f"op '{name}': {key} must be true or false, got {value!r}")
        elif key == "axis":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIM:
                raise InputError(f"op '{name}': axis must be an integer >= 0, got {value!r}")
        elif key == "mode":
            if value not in ("max", "avg"):
                raise InputError(f"op '{name}': mode must be 'max' or 'avg', got {value!r}")
        elif key == "fn" and not isinstance(value, str):
            raise InputError(f"op '{name}': fn must be a string, got {value!r}")
        full[key] = value
    if kind in ("conv2d", "conv_transpose2d"):
        g = full["groups"]
        if full["c_in"] % g or full["c_out"] % g:
            raise InputError(f"op '{name}': groups {g} must divide c_in {full['c_in']} "
                             f"and c_out {full['c_out']}")
        k = full["kernel"]
        weights = k[0] * k[1] * full["c_in"] * full["c_out"] // g
        if weights > MAX_LAYER_WEIGHTS:
            raise InputError(f"op '{name}': kernel x c_in x c_out / groups = {shown(weights)} "
                             f"weights, at most {MAX_LAYER_WEIGHTS:,} (2^34) per layer are "
                             "supported")
    if kind == "conv_transpose2d":
        op_, s_, d_ = full["output_padding"], full["stride"], full["dilation"]
        if any(o >= max(s, d) for o, s, d in zip(op_, s_, d_, strict=True)):
            # the output rows it adds would lie beyond every scattered contribution
            raise InputError(f"op '{name}': output_padding {list(op_)} must be smaller than "
                             f"the stride or the dilation ({list(s_)}, {list(d_)})")
    if kind == "recurrent":
        weights = full["directions"] * GATES[full["cell"]] * full["hidden"] ** 2
        if weights > MAX_LAYER_WEIGHTS:
            raise InputError(f"op '{name}': directions x gates x hidden^2 = {shown(weights)} "
                             f"weights, at most {MAX_LAYER_WEIGHTS:,} (2^34) per layer are "
                             "supported")
        if full["linear_before_reset"] and full["cell"] != "gru":
            raise InputError(f"op '{name}': linear_before_reset is for a gru cell, not "
                             f"{full['cell']}")
    if kind == "linear" and full["in_features"] * full["out_features"] > MAX_LAYER_WEIGHTS:
        raise InputError(f"op '{name}': in_features x out_features = "
                         f"{shown(full['in_features'] * full['out_features'])} weights, at most "
                         f"{MAX_LAYER_WEIGHTS:,} (2^34) per layer are supported")
    if kind == "matmul" and full["kv_heads"] and full["heads"] % full["kv_heads"]:
        raise InputError(f"op '{name}': kv_heads {full['kv_heads']} must divide heads "
                         f"{full['heads']}")
    for key, value in (("act", act), ("comment", comment)):
        if value is not None:
            if not isinstance(value, str):
                raise InputError(f"op '{name}': {key} must be a string, got {value!r}")
            full[key] = value
    if declared is not None:
        if kind not in DECLARABLE:
            raise InputError(f"op '{name}': a {kind} cannot declare its shape")
        full["shape"] = shape_of(declared, f"op '{name}'")
    elif kind == "gather":
        raise InputError(f"op '{name}': missing field 'shape' for gather")
    if macs is not None:
        if kind != "matmul" or declared is None:
            raise InputError(f"op '{name}': macs is for a matmul that declares its shape")
        if isinstance(macs, bool) or not isinstance(macs, int) or not 0 < macs <= INT_LIMIT:
            raise InputError(f"op '{name}': macs must be a positive integer of at most "
                             f"{INT_LIMIT:,} (2^53), got {macs!r}")
        full["macs"] = macs
    elif kind == "matmul" and declared is not None:
        raise InputError(f"op '{name}': a matmul that declares its shape needs macs")
    ins = tuple(inputs)
    if not ins or not all(isinstance(i, str) for i in ins):
        raise InputError(f"op '{name}': inputs must be a non-empty list of tensor names")
    return Op(name=name, kind=kind, inputs=ins, attrs=full)
