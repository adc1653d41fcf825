"""DNN graphs and the ``aras-network/1`` JSON format.

The ops are in :mod:`aras.model.ops` and their shape inference in :mod:`aras.model.shapes`
(both re-exported here). A :class:`Network` is a DAG of :class:`Op` with batch 1. Every
op produces one tensor named after the op; graph inputs are tensors without a producer. Shapes
are ``(C, H, W)`` for feature maps and ``(tokens, features)`` for sequences.
The op list is kept in a topological order, which is the default compute order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, read_json
from aras.model.limits import (
    INT_LIMIT,
    MAX_NETWORK_WEIGHTS,
    MAX_OPS,
    shown,
)
from aras.model.ops import (
    DECLARABLE,
    KINDS,
    WEIGHTED,
    Op,
    Shape,
    check_elements,
    make_op,
    shape_of,
)
from aras.model.shapes import infer_shape, matmul_macs

FORMAT = "aras-network/1"

__all__ = ["DECLARABLE", "FORMAT", "KINDS", "WEIGHTED", "Network", "NetworkBuilder", "Op",
           "Shape", "infer_shape", "make_op", "matmul_macs"]


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
            self.inputs[k] = shape_of(s, f"input '{k}'")
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
            check_elements(shape, f"op '{op.name}': output")
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

    def conv_transpose(self, name: str, x: str, c_in: int, c_out: int, k: int,
                       stride: int = 1, padding: int = 0, output_padding: int = 0,
                       groups: int = 1, dilation: int = 1) -> str:
        """Append a square conv_transpose2d."""
        return self.add(name, "conv_transpose2d", [x], c_in=c_in, c_out=c_out, kernel=[k, k],
                        stride=[stride, stride], padding=[padding, padding],
                        output_padding=[output_padding, output_padding],
                        dilation=[dilation, dilation], groups=groups)

    def recurrent(self, name: str, x: str, cell: str, input_size: int, hidden: int,
                  directions: int = 1, linear_before_reset: bool = False) -> str:
        """Append a recurrent layer as its two weight-bearing ops: the input projection
        ``<name>.input`` (a linear of ``input_size`` to directions x gates x hidden, over
        every timestep) and the recurrent op ``name``; returns ``name``."""
        from aras.model.ops import GATES

        if cell not in GATES:
            raise InputError(f"op '{name}': cell must be one of {', '.join(GATES)}, got "
                             f"{cell!r}")
        proj = self.linear(f"{name}.input", x, input_size,
                           directions * GATES[cell] * hidden)
        extra = {"linear_before_reset": True} if linear_before_reset else {}
        return self.add(name, "recurrent", [proj], cell=cell, hidden=hidden,
                        directions=directions, **extra)

    def pool(self, name: str, x: str, k: int = 1, stride: int = 1, padding: int = 0,
             mode: str = "max", global_: bool = False) -> str:
        """Append a pooling op (``global_`` for global pooling)."""
        return self.add(name, "pool", [x], mode=mode, kernel=[k, k], stride=[stride, stride],
                        padding=[padding, padding], **{"global": global_})

    def build(self) -> Network:
        """The validated network."""
        return Network(self.name, self.inputs, self.ops)
