"""ONNX files as networks, through the official ``onnx`` package and its shape inference.

The graph is read with :func:`onnx.load`, its symbolic input dimensions are fixed (batch
dimensions to 1, the rest from ``input_shapes`` or ``tokens``), and
:func:`onnx.shape_inference.infer_shapes` (with data propagation) gives every tensor a
static shape. Nodes then fall in three classes:

- **constants**: initializers, ``Constant``/``ConstantOfShape`` nodes, ``Shape``/``Size`` of
  anything, and every node whose inputs are all constants (shape arithmetic, weight
  de-quantisation). They leave no op;
- **views** on activations (``Reshape``, ``Flatten``, ``Transpose``, ``Squeeze``,
  ``Unsqueeze``, ``Dropout``, ``Identity``, ``Cast``, ``QuantizeLinear``/``DequantizeLinear``):
  folded away, their consumers read the tensor the view was taken of;
- **ops**: mapped by :data:`OPS` to network ops. Constant operands of weightless ops
  (biases, scales, masks) are parameters of the SFU and dropped; a constant operand of a
  ``Concat`` is data and becomes a graph input. Where a folded view left an op's input in
  another layout than ONNX's, the op declares the shape ONNX inferred (and a matmul its
  MACs), so every tensor keeps its element count.

Weights: a ``Conv``/``Gemm``/``MatMul`` operand that is a constant is the layer's weight;
its shape comes from shape inference, so ``ConstantOfShape`` placeholders count exactly.
Integer initializers reached through ``Cast``, ``Mul``/``Div`` by scales, ``Sub``/``Add`` of
zero points, ``DequantizeLinear``, ``Transpose`` and reshapes are the layer's real codes
(int8 stored offset by 128 as unsigned 0..255, uint8 as is); float initializers are
quantised per layer with :func:`aras.frontends.pretrained.quantize_uint8` (paper Eq. 6).
A network whose every weight-bearing layer has values carries them as ``Network.codes``.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from aras.model.errors import InputError
from aras.model.network import Network, Op, infer_shape, make_op, matmul_macs

__all__ = ["OPS", "VIEWS", "load_onnx", "parse_shape"]

#: Views and casts on activations: folded away, the consumer reads the viewed tensor.
VIEWS = frozenset({"Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Dropout",
                   "Identity", "Cast", "CastLike", "QuantizeLinear", "DequantizeLinear",
                   "DynamicQuantizeLinear"})
#: Nodes whose output depends only on the shapes of their inputs.
_SHAPE_ONLY = frozenset({"Shape", "Size"})
_ACT = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Erf": "erf", "Gelu": "gelu",
        "Clip": "clip", "HardSwish": "hardswish", "HardSigmoid": "hardsigmoid",
        "LeakyRelu": "leakyrelu", "PRelu": "prelu", "Elu": "elu", "Selu": "selu",
        "Celu": "celu", "Softplus": "softplus", "Softsign": "softsign", "Mish": "mish",
        "Swish": "silu", "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Abs": "abs",
        "Neg": "neg", "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil",
        "Round": "round", "Sign": "sign", "Not": "not", "IsNaN": "isnan", "IsInf": "isinf",
        "Sin": "sin", "Cos": "cos", "ThresholdedRelu": "thresholdedrelu"}
_ELTWISE = {"Add", "Sum", "Mul", "Sub", "Div", "Where", "Max", "Min", "Mean", "Pow", "Mod",
            "And", "Or", "Xor", "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual",
            "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor"}
_NORM = {"BatchNormalization", "LayerNormalization", "LRN", "InstanceNormalization",
         "GroupNormalization", "SimplifiedLayerNormalization", "RMSNormalization",
         "SkipLayerNormalization", "MeanVarianceNormalization", "LpNormalization"}
_POOL = {"MaxPool": "max", "AveragePool": "avg", "GlobalAveragePool": "avg",
         "GlobalMaxPool": "max", "LpPool": "avg", "GlobalLpPool": "avg"}
_REDUCE = {"ReduceMean": "avg", "ReduceSum": "avg", "ReduceMax": "max", "ReduceMin": "max",
           "ReduceProd": "avg", "ReduceL2": "avg", "ReduceL1": "avg", "ReduceSumSquare": "avg",
           "ReduceLogSumExp": "avg", "ArgMax": "max", "ArgMin": "max"}
#: Data movement on activations: weightless ``gather`` ops that declare their shape.
_MOVE = {"Gather", "GatherElements", "GatherND", "Slice", "Split", "Pad", "Expand", "Tile",
         "Resize", "Upsample", "DepthToSpace", "SpaceToDepth", "TopK", "NonZero", "Trilu",
         "ScatterND", "ScatterElements", "CumSum", "OneHot", "ReverseSequence", "Compress"}
#: Weight-bearing ops and where their weight may sit among the inputs.
_WEIGHTED = {"Conv": (1,), "ConvInteger": (1,), "QLinearConv": (3,), "Gemm": (1, 0),
             "MatMul": (1, 0), "MatMulInteger": (1, 0), "QLinearMatMul": (3, 0)}
#: Every ONNX op type this front-end maps (besides constants, which fold whatever they are).
OPS = frozenset(VIEWS | _SHAPE_ONLY | set(_ACT) | _ELTWISE | _NORM | set(_POOL) | set(_REDUCE)
                | _MOVE | set(_WEIGHTED) | {"Concat", "Softmax", "LogSoftmax", "Constant",
                                            "ConstantOfShape"})
#: Constant inputs through which integer codes stay the stored values.
_CODE_PATH = {"Cast", "Identity", "Mul", "Div", "Sub", "Add", "DequantizeLinear", "Transpose",
              "Reshape", "Squeeze", "Unsqueeze", "Flatten"}


def parse_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """Parse ``NAME=1x3x224x224`` (the ``--input-shape`` option).

    Raises
    ------
    InputError
        When the text is not ``NAME=DxDx...`` with positive integers.
    """
    name, sep, dims = text.rpartition("=")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        shape = ()
    if not sep or not name or not shape or min(shape) <= 0:
        raise InputError(f"--input-shape: expected NAME=DxDx... with positive integers, got "
                         f"{text!r}")
    return name, shape


def _strip(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Our layout: batch 1 dropped (a leading 1 of a tensor of rank >= 2), no zero rank."""
    if len(shape) >= 2 and shape[0] == 1:
        shape = shape[1:]
    return shape or (1,)


def _attr(node: Any, name: str, default: Any = None) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _read(path: Path) -> Any:
    import onnx
    from google.protobuf.message import DecodeError

    if not path.is_file():
        raise InputError(f"network file not found: {path}")
    try:
        # External weight files are not loaded here: shapes come from the tensor headers,
        # values (real codes) are read per tensor when needed, so a model larger than
        # protobuf's 2 GB stays within reach of shape inference.
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, OSError, UnicodeDecodeError) as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: malformed ONNX file ({msg})") from None
    if not len(model.graph.node):
        raise InputError(f"{path}: malformed ONNX file (the graph has no nodes)")
    return model


#: Sequence length given to an open sequence dimension when no --tokens is given (as for
#: HuggingFace configs).
DEFAULT_TOKENS = 128


def _fix_inputs(model: Any, src: str, init: set[str],
                input_shapes: dict[str, tuple[int, ...]], tokens: int | None,
                notes: list[str] | None = None) -> dict[str, tuple[int, ...]]:
    """Give every real graph input a static shape (in the model); return them.

    The batch (first) dimension becomes 1; other open dimensions take ``tokens``. Without
    ``tokens``, a sequence dimension (the second of an input of rank 2 or 3 whose other
    dimensions are fixed: token ids, masks, embeddings) takes :data:`DEFAULT_TOKENS`, said in
    ``notes``; any other open dimension (an image's height) is an error.
    """
    real = [i for i in model.graph.input if i.name not in init]
    names = {i.name for i in real}
    unknown = sorted(set(input_shapes) - names)
    if unknown:
        raise InputError(f"--input-shape: the model has no input '{unknown[0]}' (inputs: "
                         f"{', '.join(sorted(names))})")
    shapes: dict[str, tuple[int, ...]] = {}
    for inp in real:
        tt = inp.type.tensor_type
        if (not inp.type.HasField("tensor_type") or not tt.HasField("shape")) \
                and inp.name not in input_shapes:
            raise InputError(f"{src}: input '{inp.name}' has no shape: pass --input-shape "
                             f"{inp.name}=DxD...")
        dims = list(tt.shape.dim) if tt.HasField("shape") else []
        if inp.name in input_shapes:
            shape = input_shapes[inp.name]
            if dims and len(shape) != len(dims):
                raise InputError(f"--input-shape {inp.name}: rank {len(shape)}, the model's "
                                 f"input has rank {len(dims)}")
        else:
            shape_l = []
            fixed = [d.HasField("dim_value") and d.dim_value > 0 for d in dims]
            for k, d in enumerate(dims):
                if fixed[k]:
                    shape_l.append(d.dim_value)
                elif k == 0:
                    shape_l.append(1)  # batch
                elif tokens is not None:
                    shape_l.append(tokens)
                elif k == 1 and len(dims) <= 3 and all(fixed[2:]):
                    shape_l.append(DEFAULT_TOKENS)
                    if notes is not None:
                        notes.append(f"input '{inp.name}': sequence dimension "
                                     f"'{d.dim_param or '?'}' set to {DEFAULT_TOKENS} tokens "
                                     "(--tokens N to change)")
                else:
                    sym = d.dim_param or "?"
                    raise InputError(f"{src}: input '{inp.name}' has a symbolic dimension "
                                     f"{k} ('{sym}'): pass --tokens N or --input-shape "
                                     f"{inp.name}=" + "x".join(["1"] + ["N"] * (len(dims) - 1)))
            shape = tuple(shape_l)
        del tt.shape.dim[:]
        for v in shape:
            tt.shape.dim.add().dim_value = v
        shapes[inp.name] = shape
    return shapes


class _Graph:
    """Shapes, constants and producers of an inferred ONNX graph."""

    def __init__(self, model: Any, src: str):
        import onnx

        g = model.graph
        self.src = src
        self.init = {t.name: t for t in g.initializer}
        self.shapes: dict[str, tuple[int, ...] | None] = {}
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            tt = vi.type.tensor_type
            if vi.type.HasField("tensor_type") and tt.HasField("shape"):
                dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim)
                self.shapes[vi.name] = None if -1 in dims else dims
        for t in g.initializer:
            self.shapes[t.name] = tuple(t.dims)
        self.nodes = list(g.node)
        self.producer: dict[str, Any] = {}
        for n in self.nodes:
            for o in n.output:
                if o:
                    self.producer[o] = n
            if n.op_type == "Constant":
                t = _attr(n, "value")
                if t is not None and n.output:
                    self.shapes.setdefault(n.output[0], tuple(t.dims))
        self.onnx = onnx
        self._codes: dict[str, tuple[str, np.ndarray] | None] = {}

    def shape(self, name: str, node: Any) -> tuple[int, ...]:
        s = self.shapes.get(name)
        if s is None:
            raise InputError(f"{self.src}: shape inference left tensor '{name}' (output of "
                             f"{node.op_type} node '{node.name}') without a static shape; "
                             "fix the symbolic inputs with --input-shape")
        return s

    def values(self, name: str) -> tuple[str, np.ndarray] | None:
        """("int", stored codes) or ("float", values) of a constant tensor, when traceable."""
        if name in self._codes:
            return self._codes[name]
        self._codes[name] = None  # guards against cycles
        res = self._values(name)
        self._codes[name] = res
        return res

    def _values(self, name: str) -> tuple[str, np.ndarray] | None:
        from onnx import numpy_helper

        if name in self.init:
            try:
                a = _array(self.init[name], str(Path(self.src).parent))
            except Exception:  # external data missing or unreadable: no real values
                return None
            return self._classify(a)
        n = self.producer.get(name)
        if n is None:
            return None
        if n.op_type == "Constant":
            t = _attr(n, "value")
            return None if t is None else self._classify(numpy_helper.to_array(t))
        if n.op_type not in _CODE_PATH:
            return None
        out_shape = self.shapes.get(name)
        cands = [i for i in n.input if i]
        if n.op_type in ("Mul", "Div", "Sub", "Add"):
            # the operand with the output's own size carries the values; the other is a scale
            # or zero point (a float chain through arithmetic is not traced)
            best = None
            for i in cands:
                v = self.values(i)
                if v is not None and v[0] == "int" and out_shape is not None \
                        and math.prod(v[1].shape) == math.prod(out_shape):
                    best = v
            return best
        if not cands:
            return None
        v = self.values(cands[0])
        if v is None:
            return None
        kind, a = v
        if n.op_type == "DequantizeLinear" and kind != "int":
            return None
        if n.op_type == "Transpose":
            perm = _attr(n, "perm")
            a = np.transpose(a, perm) if perm is not None else a.T
        elif n.op_type in ("Reshape", "Squeeze", "Unsqueeze", "Flatten"):
            if out_shape is None or math.prod(out_shape) != a.size:
                return None
            a = a.reshape(out_shape)
        return kind, a

    @staticmethod
    def _classify(a: np.ndarray) -> tuple[str, np.ndarray] | None:
        if a.dtype == np.int8:
            return "int", (a.astype(np.int16) + 128).astype(np.uint8)
        if a.dtype == np.uint8:
            return "int", a
        if np.issubdtype(a.dtype, np.floating) and a.size > 1:
            return "float", a
        return None


_GLOBAL: dict[str, Any] = {"global": True}
_SMALL = 1 << 16  # constant folding keeps values up to this many elements (shape arithmetic)


def _array(t: Any, base: str | None) -> np.ndarray:
    """An initializer's values, reading external data from ``base`` (the model's folder)."""
    from onnx import numpy_helper

    return numpy_helper.to_array(t, base_dir=base or "")


def _infer(model: Any, src: str) -> Any:
    import onnx

    try:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False,
                                                 data_prop=True)
    except Exception as exc:  # onnx raises its own InferenceError and plain RuntimeErrors
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{src}: ONNX shape inference failed: {msg}") from None


def _static(model: Any, src: str, folded: Counter[str]) -> Any:
    """Infer shapes; where some stay open, fold small constants with onnx.reference, repeat.

    Data propagation does not reach through every op (``Range``, ``Max`` of shapes...), so
    the small constant subgraphs (shape arithmetic) are evaluated by ONNX's reference
    implementation and baked in as initializers, and inference runs again. Large constants
    (weights) are never materialised here.
    """
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    opsets = {o.domain or "": o.version for o in model.opset_import}
    # Exporters record intermediate and output shapes with symbolic dimensions; inference
    # keeps what it finds, so drop them now that the inputs are static.
    del model.graph.value_info[:]
    for o in model.graph.output:
        if o.type.HasField("tensor_type"):
            o.type.tensor_type.ClearField("shape")
    model = _infer(model, src)
    for _ in range(4):
        G = _Graph(model, src)
        read = {t for n in G.nodes for t in n.input} | {o.name for o in model.graph.output}
        if all(G.shapes.get(o) is not None for n in G.nodes for o in n.output if o in read):
            break
        g = model.graph
        values: dict[str, np.ndarray] = {}
        for t in g.initializer:
            if math.prod(t.dims) <= _SMALL:
                try:
                    values[t.name] = _array(t, str(Path(src).parent))
                except Exception:  # an external file missing: that constant stays unknown
                    continue
        baked: list[Any] = []
        for i in _order(G.nodes, src):
            n = G.nodes[i]
            ins = [t for t in n.input if t]
            outs = [o for o in n.output if o]
            try:
                if n.op_type == "Shape" and G.shapes.get(ins[0]) is not None:
                    sh = G.shapes[ins[0]]
                    assert sh is not None
                    lo, hi = _attr(n, "start", 0), _attr(n, "end", None)
                    res: list[Any] = [np.array(sh[lo:hi], dtype=np.int64)]
                elif n.op_type == "Size" and G.shapes.get(ins[0]) is not None:
                    res = [np.array(math.prod(G.shapes[ins[0]] or ()), dtype=np.int64)]
                elif n.op_type in ("Shape", "Size") or not all(t in values for t in ins):
                    continue
                else:
                    res = list(ReferenceEvaluator(n, opsets=opsets).run(
                        None, {t: values[t] for t in ins}))
            except Exception:  # a node the reference cannot run stays as it is
                continue
            if all(isinstance(v, np.ndarray) and v.size <= _SMALL for v in res):
                values.update(zip(outs, res, strict=False))
                baked.append(n)
        if not baked:
            break
        drop = {id(n) for n in baked}
        keep = [n for n in g.node if id(n) not in drop]
        new_init = [numpy_helper.from_array(np.asarray(values[o]), o)
                    for n in baked for o in n.output if o]
        for n in baked:
            folded["constant " + n.op_type] += 1
        del g.node[:]
        g.node.extend(keep)
        g.initializer.extend(new_init)
        if model.ir_version < 4:  # before IR 4 inference reads only initializers listed as inputs
            g.input.extend(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                           for t in new_init)
        del g.value_info[:]  # inference keeps what it finds there, open dimensions included
        model = _infer(model, src)
    return model


def _order(nodes: list[Any], src: str) -> list[int]:
    """Node indices in a topological order (the file's where it is one); cycles are errors."""
    g = nx.DiGraph()
    g.add_nodes_from(range(len(nodes)))
    prod: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for o in n.output:
            if o:
                prod[o] = i
    for i, n in enumerate(nodes):
        for t in n.input:
            if t in prod and prod[t] != i:
                g.add_edge(prod[t], i)
            elif t in prod:
                raise InputError(f"{src}: cyclic graph: node '{n.name}' reads its own output")
    try:
        return list(nx.lexicographical_topological_sort(g))
    except nx.NetworkXUnfeasible:
        cyc = nx.find_cycle(g)
        path = " -> ".join(nodes[a].name or nodes[a].op_type for a, _ in cyc)
        raise InputError(f"{src}: cyclic graph: {path}") from None


def _macs(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """MACs and output shape of numpy matmul semantics."""
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    m, k, n = a2[-2], a2[-1], b2[-1]
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    out = tuple(batch) + ((m,) if len(a) > 1 else ()) + ((n,) if len(b) > 1 else ())
    return math.prod(batch) * m * k * n, out


def load_onnx(path: str | Path, *, input_shapes: dict[str, tuple[int, ...]] | None = None,
              tokens: int | None = None, name: str | None = None) -> Network:
    """Import an ONNX file as a :class:`~aras.model.network.Network`.

    Parameters
    ----------
    path
        The ``.onnx`` file.
    input_shapes
        Static shapes of graph inputs by name (``--input-shape``), batch included.
    tokens
        The value of every symbolic non-batch input dimension (``--tokens``).
    name
        Network name (default: the file's stem, or its folder's name for ``model.onnx``).

    Returns
    -------
    Network
        With ``folded`` (what left no op), ``source`` and, when every weight-bearing layer has
        values, ``codes``.

    Raises
    ------
    InputError
        Missing or malformed file, an unsupported op (its type, a node, how many), a symbolic
        dimension left open, a cyclic graph, a non-constant weight.
    """
    p = Path(path)
    src = str(p)
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int)
                               or tokens <= 0):
        raise InputError(f"--tokens: must be a positive integer, got {tokens!r}")
    model = _read(p)
    g0 = model.graph
    init = {t.name for t in g0.initializer}
    notes: list[str] = []
    _fix_inputs(model, src, init, dict(input_shapes or {}), tokens, notes)
    if notes and tokens is None:
        tokens_used: int | None = DEFAULT_TOKENS
    else:
        tokens_used = tokens
    folded: Counter[str] = Counter()
    model = _static(model, src, folded)
    init = {t.name for t in model.graph.initializer}
    G = _Graph(model, src)
    real_inputs = [i.name for i in model.graph.input if i.name not in init]
    nodes = G.nodes
    order = _order(nodes, src)

    # Constants: fixed point over the topological order.
    const: set[str] = set(init)
    for i in order:
        n = nodes[i]
        ins = [t for t in n.input if t]
        if n.op_type in _SHAPE_ONLY or all(t in const for t in ins):
            const.update(o for o in n.output if o)
    # Only nodes that reach a graph output matter.
    needed: set[str] = {o.name for o in model.graph.output}
    live = [False] * len(nodes)
    for i in reversed(order):
        n = nodes[i]
        if any(o in needed for o in n.output if o):
            live[i] = True
            needed.update(t for t in n.input if t)
    bad: Counter[str] = Counter()
    for i in order:
        n = nodes[i]
        if not live[i]:
            folded["unused"] += 1
            continue
        if all(o in const for o in n.output if o):
            folded["constant " + n.op_type] += 1
            continue
        if n.domain not in ("", "ai.onnx") or n.op_type not in OPS:
            bad[n.op_type] += 1
    if bad:
        kind, count = bad.most_common(1)[0]
        first = next(n for n in nodes if n.op_type == kind)
        more = ", ".join(f"{k} x{c}" for k, c in bad.items() if k != kind)
        raise InputError(f"{src}: unsupported ONNX op '{kind}' (node '{first.name}', {count} "
                         f"such node{'s' if count > 1 else ''})" + (f"; also {more}" if more
                                                                    else ""))

    alias: dict[str, str] = {t: t for t in real_inputs}
    ours: dict[str, tuple[int, ...]] = {t: _strip(G.shape(t, nodes[0])) for t in real_inputs}
    inputs: dict[str, tuple[int, ...]] = {}
    ops: list[Op] = []
    used: set[str] = set()
    codes: dict[str, np.ndarray] = {}
    weighted = 0

    def fresh(node: Any, k: int) -> str:
        base = node.name or f"{node.op_type}_{k}"
        nm, j = base, 1
        while nm in used or nm in ours:  # op names are tensor names: unique among all
            j += 1
            nm = f"{base}_{j}"
        used.add(nm)
        return nm

    def emit(node: Any, k: int, kind: str, act_in: list[str], out: str,
             alternatives: list[dict[str, Any]] | None = None,
             as_shape: tuple[int, ...] | None = None, **attrs: Any) -> str:
        """Append an op and return its name.

        The first of ``attrs`` (updated by each of ``alternatives``) under which our own
        inference gives ONNX's element count (and, for a conv or pool, ONNX's shape; for a
        matmul, ONNX's MACs) is taken; else the op declares ONNX's shape (and MACs), or
        ``as_shape`` (the same elements in our layout: a 1-D conv's ``(C, 1, L)``).
        """
        nm = fresh(node, k)
        ins_ours = [alias[t] for t in act_in]
        shapes = [ours[t] for t in ins_ours]
        onnx_shape = as_shape or _strip(G.shape(out, node))
        want_macs = None
        if kind == "matmul":
            want_macs = _macs(*(G.shape(t, node) for t in act_in))[0]
        for alt in alternatives or [{}]:
            cand = {**attrs, **alt}
            op = make_op(nm, kind, ins_ours, **cand)
            try:
                mine = infer_shape(op, shapes)
            except InputError:
                continue
            if math.prod(mine) != math.prod(onnx_shape):
                continue
            if kind in ("conv2d", "pool") and mine != onnx_shape:
                continue
            if want_macs is not None and matmul_macs(op, shapes) != want_macs:
                continue
            break
        else:
            if kind == "linear":
                raise InputError(f"{src}: node '{node.name}' ({node.op_type}): input of "
                                 f"{[list(s) for s in shapes]} does not fit a linear of "
                                 f"{attrs['in_features']} inputs")
            extra: dict[str, Any] = {"shape": list(onnx_shape)}
            if kind == "matmul":
                extra["macs"] = want_macs
            op = make_op(nm, kind, ins_ours, **attrs, **extra)
            mine = infer_shape(op, shapes)
        ops.append(op)
        ours[nm] = mine
        alias[out] = nm
        return nm

    for k in order:
        n = nodes[k]
        t = n.op_type
        outs = [o for o in n.output if o]
        if not live[k] or all(o in const for o in outs):
            continue
        act = [x for x in n.input if x and x not in const]
        for x in act:
            if x not in alias:
                raise InputError(f"{src}: node '{n.name}' ({t}) reads '{x}', which no node "
                                 "produces and no graph input provides")
        if t in VIEWS:
            alias[outs[0]] = alias[act[0]]
            folded[t] += 1
            continue
        if t in _WEIGHTED:
            weighted += 1
            _weighted(G, n, k, act, const, emit, codes, src)
            continue
        if t in _ACT:
            if len(act) == 1:
                emit(n, k, "act", act, outs[0], fn=_ACT[t])
            else:
                emit(n, k, "eltwise", act, outs[0], fn=t.lower())
        elif t in _ELTWISE:
            emit(n, k, "eltwise", act, outs[0], fn=t.lower())
        elif t in _NORM:
            emit(n, k, "norm", act[:1], outs[0])
        elif t in ("Softmax", "LogSoftmax"):
            emit(n, k, "softmax", act[:1], outs[0])
        elif t in _POOL:
            glob = t.startswith("Global")
            if glob:
                emit(n, k, "pool", act[:1], outs[0], mode=_POOL[t], **_GLOBAL)
            else:
                ks = list(_attr(n, "kernel_shape", [1, 1]))
                st = list(_attr(n, "strides", [1] * len(ks)))
                pads = list(_attr(n, "pads", [0] * 2 * len(ks)))
                if len(ks) == 1:
                    ks, st, pads = [1, ks[0]], [1, st[0]], [0, pads[0], 0, pads[1]]
                if len(ks) != 2:
                    raise InputError(f"{src}: node '{n.name}' ({t}): only 1-D and 2-D pooling "
                                     f"are supported, got {len(ks)}-D")
                emit(n, k, "pool", act[:1], outs[0], mode=_POOL[t], kernel=ks, stride=st,
                     padding=pads[:2])
        elif t in _REDUCE:
            emit(n, k, "pool", act[:1], outs[0], mode=_REDUCE[t], shape=list(
                _strip(G.shape(outs[0], n))), **_GLOBAL)
        elif t == "Concat":
            ins = []
            for x in n.input:
                if not x:
                    continue
                if x in const:
                    # constant data (a class token, a cache) is a tensor of its own
                    cname = x
                    if cname in used:
                        raise InputError(f"{src}: constant '{x}' has the name of a node")
                    if cname not in inputs:
                        inputs[cname] = _strip(G.shape(x, n))
                        ours[cname] = inputs[cname]
                        alias[cname] = cname
                ins.append(x)
            if len(ins) == 1:
                alias[outs[0]] = alias[ins[0]]
                folded[t] += 1
                continue
            emit(n, k, "concat", ins, outs[0], axis=0)
        elif t in _MOVE:
            for j, o in enumerate(outs):
                if o in const:
                    continue
                emit(n, k + j * len(nodes), "gather", act, o, fn=t.lower(),
                     shape=list(_strip(G.shape(o, n))))
        else:  # pragma: no cover - OPS and the branches above cover the same set
            raise InputError(f"{src}: unsupported ONNX op '{t}' (node '{n.name}')")

    graph_inputs = {alias[t]: ours[alias[t]] for t in real_inputs}
    graph_inputs.update(inputs)
    consumed = {i for op in ops for i in op.inputs}
    graph_inputs = {k: v for k, v in graph_inputs.items() if k in consumed}
    if not ops:
        raise InputError(f"{src}: no operation left after folding views and constants")
    stem = p.name.removesuffix(".onnx")
    net_name = name or (p.resolve().parent.name if stem == "model" else stem)
    net = Network(net_name, graph_inputs, ops)
    net.folded = dict(sorted(folded.items()))
    net.notes = notes
    net.source = {"path": str(p.resolve()), **({"tokens": tokens_used} if tokens_used else {}),
                  **({"input_shapes": {k: list(v) for k, v in input_shapes.items()}}
                     if input_shapes else {})}
    if weighted and len(codes) == len(net.weighted_ops):
        net.codes = codes
    return net


def _weighted(G: _Graph, n: Any, k: int, act: list[str], const: set[str], emit: Any,
              codes: dict[str, np.ndarray], src: str) -> None:
    """Map a Conv / Gemm / MatMul (plain or quantised) onto conv2d, linear or a matmul."""
    from aras.frontends.pretrained import quantize_uint8

    t = n.op_type
    out = n.output[0]
    ins = list(n.input)
    w_idx = next((i for i in _WEIGHTED[t] if i < len(ins) and ins[i] and ins[i] in const),
                 None)
    if w_idx is None:
        if t in ("Gemm", "MatMul", "MatMulInteger", "QLinearMatMul"):
            a, b = (ins[0], ins[3] if t == "QLinearMatMul" else ins[1])
            a_s, b_s = G.shape(a, n), G.shape(b, n)
            if t == "Gemm":
                if _attr(n, "transA", 0):
                    a_s = a_s[::-1]
                if _attr(n, "transB", 0):
                    b_s = b_s[::-1]
            batch = math.prod(np.broadcast_shapes(a_s[:-2], b_s[:-2])) if max(
                len(a_s), len(b_s)) > 2 else 1
            alts = [{"heads": h, "transpose_b": tb} for h in dict.fromkeys((max(1, batch), 1))
                    for tb in (False, True)]
            emit(n, k, "matmul", [a, b], out, alternatives=alts)
            return
        raise InputError(f"{src}: node '{n.name}' ({t}) has no constant weight; only "
                         "weights held as constants can be written to crossbars")
    x = act[0] if act else None
    if x is None:
        raise InputError(f"{src}: node '{n.name}' ({t}) has no activation input")
    w = ins[w_idx]
    ws = G.shape(w, n)
    try:
        vals = G.values(w)
    except RecursionError:  # a constant chain too deep to trace: no real values
        vals = None
    mat: np.ndarray | None = None
    if t in ("Conv", "ConvInteger", "QLinearConv"):
        if len(ws) not in (3, 4):
            raise InputError(f"{src}: node '{n.name}' ({t}): only 1-D and 2-D convolutions "
                             f"are supported, weight shape {list(ws)}")
        groups = int(_attr(n, "group", 1))
        c_out, cin_g = ws[0], ws[1]
        kern = list(ws[2:]) if len(ws) == 4 else [1, ws[2]]
        nd = len(ws) - 2
        st = list(_attr(n, "strides", [1] * nd))
        dil = list(_attr(n, "dilations", [1] * nd))
        pads = list(_attr(n, "pads", [0] * 2 * nd))
        if nd == 1:
            st, dil, pads = [1, st[0]], [1, dil[0]], [0, pads[0], 0, pads[1]]
        if c_out % groups:
            raise InputError(f"{src}: node '{n.name}': group {groups} does not divide "
                             f"{c_out} output channels")
        if vals is not None:
            a = vals[1].reshape(groups, c_out // groups, -1)      # (g, cols_g, rows_g)
            mat = np.ascontiguousarray(np.transpose(a, (0, 2, 1)))  # (g, rows_g, cols_g)
            mat = _as_codes(vals[0], mat, quantize_uint8)
        as_shape = None
        if nd == 1:  # a 1-D conv is a 1 x k conv2d over a (C, 1, L) map
            o_s = G.shape(out, n)
            as_shape = (o_s[-2], 1, o_s[-1])
        nm = emit(n, k, "conv2d", [x], out, as_shape=as_shape, c_in=cin_g * groups,
                  c_out=c_out, kernel=kern, stride=st, padding=pads[:2], dilation=dil,
                  groups=groups)
    else:
        while len(ws) > 2 and ws[0] == 1:  # a (1, K, N) weight is a K x N matrix
            ws = ws[1:]
            if vals is not None:
                vals = (vals[0], vals[1].reshape(ws))
        if len(ws) != 2:
            raise InputError(f"{src}: node '{n.name}' ({t}): a constant operand of shape "
                             f"{list(ws)}; only 2-D weight matrices map onto crossbars")
        # A weight on the right is (in, out), transposed with transB; on the left (W @ x) it
        # is (out, in), or (in, out) again with transA.
        left = w_idx == 0
        wt = bool(_attr(n, "transA" if left else "transB", 0)) if t == "Gemm" else False
        kdim, ndim = (ws[1], ws[0]) if (wt != left) else (ws[0], ws[1])
        if vals is not None:
            a = vals[1]
            m2 = a.T if (wt != left) else a        # (in, out)
            mat = _as_codes(vals[0], np.ascontiguousarray(m2), quantize_uint8)
        nm = emit(n, k, "linear", [x], out, in_features=int(kdim), out_features=int(ndim))
    if mat is not None:
        codes[nm] = mat


def _as_codes(kind: str, a: np.ndarray, quantize: Any) -> np.ndarray:
    """Integer codes stay; float weights are quantised per layer (min-max, unsigned)."""
    if kind == "int":
        return a.astype(np.uint8)
    return quantize(a)[0]
