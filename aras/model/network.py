"""DNN graphs: operations, tensor shapes and the ``aras-network/1`` JSON format.

A :class:`Network` is a DAG of :class:`Op` with batch 1. Every op produces one
tensor named after the op; graph inputs are tensors without a producer. Shapes
are ``(C, H, W)`` for feature maps and ``(tokens, features)`` for sequences.
The op list is kept in a topological order, which is the default compute order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, read_json
from aras.model.limits import (
    INT_LIMIT,
    MAX_DIM,
    MAX_ELEMENTS,
    MAX_LAYER_WEIGHTS,
    MAX_NETWORK_WEIGHTS,
    MAX_OPS,
    shown,
)

FORMAT = "aras-network/1"

#: Op kinds and the attributes each accepts (with defaults; ``None`` = required).
KINDS: dict[str, dict[str, Any]] = {
    "conv2d": {"c_in": None, "c_out": None, "kernel": None, "stride": [1, 1],
               "padding": [0, 0], "dilation": [1, 1], "groups": 1},
    "linear": {"in_features": None, "out_features": None},
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
WEIGHTED = frozenset({"conv2d", "linear"})
#: Kinds that may declare their output ``shape`` (importers do, from the source format's own
#: shape inference, where a folded view leaves the input in another layout). ``gather`` must.
DECLARABLE = frozenset(KINDS) - {"linear"}
_PAIRS = {"kernel", "stride", "padding", "dilation"}

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
        """True for ops whose weights live in the crossbars (conv2d, linear)."""
        return self.kind in WEIGHTED

    @property
    def matrix(self) -> tuple[int, int, int]:
        """(groups, rows per group, columns per group) of the weight matrix."""
        a = self.attrs
        if self.kind == "conv2d":
            g = a["groups"]
            return g, a["kernel"][0] * a["kernel"][1] * a["c_in"] // g, a["c_out"] // g
        if self.kind == "linear":
            return 1, a["in_features"], a["out_features"]
        return 0, 0, 0

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


def _shape(value: Any, where: str) -> Shape:
    """A tensor shape: a non-empty list of positive integers, each and their product bounded."""
    if (not isinstance(value, (list, tuple)) or not value
            or any(isinstance(x, bool) or not isinstance(x, int) or x <= 0 for x in value)):
        raise InputError(f"{where}: shape must be a non-empty list of positive integers, got "
                         f"{list(value) if isinstance(value, tuple) else value!r}")
    shape = tuple(int(x) for x in value)
    _check_elements(shape, where)
    return shape


def _check_elements(shape: Shape, where: str) -> None:
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
            value = _pair(name, key, value, minimum=0 if key == "padding" else 1)
        elif key in ("c_in", "c_out", "groups", "in_features", "out_features", "heads"):
            value = _pos_int(name, key, value)
        elif key == "kv_heads":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DIM:
                raise InputError(f"op '{name}': kv_heads must be an integer >= 0 (0: = heads), "
                                 f"got {value!r}")
        elif key in ("transpose_b", "global"):
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
    if kind == "conv2d":
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
        full["shape"] = _shape(declared, f"op '{name}'")
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


def _conv_out(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


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
    if op.kind == "conv2d":
        if len(ins) != 1 or len(shape) != 3 or shape[0] != a["c_out"] \
                or math.prod(ins[0]) % a["c_in"]:
            raise InputError(f"op '{n}': declared shape {list(shape)} does not fit a conv2d "
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


class Network:
    """A validated DNN graph.

    Parameters
    ----------
    name
        Network name.
    inputs
        Graph input tensors and their shapes.
    ops
        The operations; any order, re-ordered topologically (stable w.r.t. the
        given order).

    Raises
    ------
    InputError
        On duplicate names, dangling inputs, a cycle or a shape mismatch.
    """

    def __init__(self, name: str, inputs: Mapping[str, Iterable[int]], ops: Iterable[Op]):
        self.name = name
        self.inputs: dict[str, Shape] = {}
        for k, s in inputs.items():
            self.inputs[k] = _shape(s, f"input '{k}'")
        ops = list(ops)
        if not ops:
            raise InputError(f"network '{name}': no ops")
        if len(ops) > MAX_OPS:
            raise InputError(f"network '{name}': {len(ops):,} ops, at most {MAX_OPS:,} are "
                             "supported")
        by_name: dict[str, Op] = {}
        for op in ops:
            if op.name in by_name or op.name in self.inputs:
                raise InputError(f"op '{op.name}': duplicate name")
            by_name[op.name] = op
        g = nx.DiGraph()
        index = {op.name: i for i, op in enumerate(ops)}
        g.add_nodes_from(index)
        for op in ops:
            for src in op.inputs:
                if src in self.inputs:
                    continue
                if src not in by_name:
                    raise InputError(f"op '{op.name}': input '{src}' is neither an op nor a "
                                     "graph input")
                g.add_edge(src, op.name)
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            path = " -> ".join([e[0] for e in cycle] + [cycle[0][0]])
            raise InputError(f"network '{name}': cycle in the graph: {path}")
        order = list(nx.lexicographical_topological_sort(g, key=lambda n: index[n]))
        self.ops: list[Op] = [by_name[n] for n in order]
        self.graph = g
        self._by_name = by_name
        #: Real weight codes (unsigned INT8, by op name) when the source carried them.
        self.codes: dict[str, Any] | None = None
        #: How to load the network again (a front-end's spec), written into schedule files.
        self.source: dict[str, Any] | None = None
        #: What a front-end folded away: op type -> count (views, shape arithmetic, constants).
        self.folded: dict[str, int] = {}
        #: What a front-end decided for the user (a default sequence length), to be shown.
        self.notes: list[str] = []
        self.shapes: dict[str, Shape] = dict(self.inputs)
        for op in self.ops:
            ins = [self.shapes[i] for i in op.inputs]
            self.shapes[op.name] = shape = infer_shape(op, ins)
            _check_elements(shape, f"op '{op.name}': output")
            if op.kind == "matmul" and matmul_macs(op, ins) > INT_LIMIT:
                raise InputError(f"op '{op.name}': {shown(matmul_macs(op, ins))} MACs, at most "
                                 f"{INT_LIMIT:,} (2^53) are supported")
        if self.weight_count > MAX_NETWORK_WEIGHTS:
            raise InputError(f"network '{name}': {shown(self.weight_count)} crossbar weights, at "
                             f"most {MAX_NETWORK_WEIGHTS:,} (2^37) per network are supported")

    # ----- queries -----
    def op(self, name: str) -> Op:
        """The op called ``name``."""
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.ops)

    @property
    def weighted_ops(self) -> list[Op]:
        """Weight-bearing ops in compute order."""
        return [o for o in self.ops if o.weighted]

    @property
    def weight_count(self) -> int:
        """Total weights held in crossbars."""
        return sum(o.weights for o in self.ops)

    def consumers(self, tensor: str) -> list[str]:
        """Ops that read ``tensor``, in compute order."""
        return [o.name for o in self.ops if tensor in o.inputs]

    def elements(self, tensor: str) -> int:
        """Number of elements of a tensor."""
        return math.prod(self.shapes[tensor])

    def input_shapes(self, op: Op) -> list[Shape]:
        """Shapes of an op's inputs."""
        return [self.shapes[i] for i in op.inputs]

    # ----- serialisation -----
    def to_dict(self) -> dict[str, Any]:
        """The ``aras-network/1`` JSON document."""
        return {"format": FORMAT, "name": self.name,
                "inputs": {k: list(v) for k, v in self.inputs.items()},
                "ops": [o.to_dict() for o in self.ops]}

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "network") -> Network:
        """Parse an ``aras-network/1`` document with one-line errors."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object")
        if data.get("format") != FORMAT:
            raise InputError(f"{source}: format must be '{FORMAT}', got {data.get('format')!r}")
        name = data.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{source}: name must be a non-empty string")
        inputs = data.get("inputs")
        if not isinstance(inputs, dict) or not inputs:
            raise InputError(f"{source}: inputs must be an object of name -> shape")
        for k, v in inputs.items():
            if not isinstance(v, list):
                raise InputError(f"{source}: input '{k}' shape must be a list of integers")
        raw = data.get("ops")
        if not isinstance(raw, list) or not raw:
            raise InputError(f"{source}: ops must be a non-empty list")
        if len(raw) > MAX_OPS:
            raise InputError(f"{source}: ops: {len(raw):,} ops, at most {MAX_OPS:,} are "
                             "supported")
        ops = []
        for i, d in enumerate(raw):
            if not isinstance(d, dict):
                raise InputError(f"{source}: ops[{i}] must be an object")
            d = dict(d)
            op_name = d.pop("name", None)
            kind = d.pop("op", None)
            ins = d.pop("inputs", None)
            if not isinstance(op_name, str):
                raise InputError(f"{source}: ops[{i}].name must be a string")
            if not isinstance(kind, str):
                raise InputError(f"{source}: op '{op_name}': field 'op' must be a string")
            if not isinstance(ins, list):
                raise InputError(f"{source}: op '{op_name}': inputs must be a list")
            ops.append(make_op(op_name, kind, ins, **d))
        return cls(name, inputs, ops)

    def save(self, path: str | Path) -> None:
        """Write the network as JSON (one op per line, for readable diffs)."""
        d = self.to_dict()
        lines = ",\n  ".join(json.dumps(o) for o in d["ops"])
        head = json.dumps({k: d[k] for k in ("format", "name", "inputs")})[:-1]
        atomic_write_text(path, f'{head}, "ops": [\n  {lines}\n]}}\n')

    @classmethod
    def load(cls, path: str | Path) -> Network:
        """Read a network JSON file.

        Raises
        ------
        InputError
            Missing file, malformed JSON, unknown op, cycle, bad sizes.
        """
        return cls.from_dict(read_json(path, "network"), source=str(path))


class NetworkBuilder:
    """Small helper to write networks in code: each call appends an op.

    Methods return the new op's name so that calls chain naturally::

        b = NetworkBuilder("tiny", {"x": (3, 8, 8)})
        y = b.conv("c1", "x", 3, 8, 3, padding=1)
        b.linear("fc", b.pool("gp", y, global_=True), 8, 10)
    """

    def __init__(self, name: str, inputs: Mapping[str, Iterable[int]]):
        self.name = name
        self.inputs = {k: tuple(v) for k, v in inputs.items()}
        self.ops: list[Op] = []

    def add(self, name: str, kind: str, inputs: Iterable[str], **attrs: Any) -> str:
        """Append any op; returns its name."""
        if len(self.ops) >= MAX_OPS:  # fail fast while a front-end is still building
            raise InputError(f"network '{self.name}': more than {MAX_OPS:,} ops are not "
                             "supported")
        self.ops.append(make_op(name, kind, inputs, **attrs))
        return name

    def conv(self, name: str, x: str, c_in: int, c_out: int, k: int, stride: int = 1,
             padding: int = 0, groups: int = 1, dilation: int = 1) -> str:
        """Append a square conv2d."""
        return self.add(name, "conv2d", [x], c_in=c_in, c_out=c_out, kernel=[k, k],
                        stride=[stride, stride], padding=[padding, padding],
                        dilation=[dilation, dilation], groups=groups)

    def linear(self, name: str, x: str, i: int, o: int) -> str:
        """Append a linear layer."""
        return self.add(name, "linear", [x], in_features=i, out_features=o)

    def pool(self, name: str, x: str, k: int = 1, stride: int = 1, padding: int = 0,
             mode: str = "max", global_: bool = False) -> str:
        """Append a pooling op (``global_`` for global pooling)."""
        return self.add(name, "pool", [x], mode=mode, kernel=[k, k], stride=[stride, stride],
                        padding=[padding, padding], **{"global": global_})

    def build(self) -> Network:
        """The validated network."""
        return Network(self.name, self.inputs, self.ops)
