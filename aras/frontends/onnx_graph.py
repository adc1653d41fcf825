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

import numpy as np

from aras.frontends.onnx_static import (
    DEFAULT_TOKENS,
    _attr,
    _fix_inputs,
    _Graph,
    _order,
    _read,
    _static,
    parse_shape,
)
from aras.model.errors import InputError, arg_name
from aras.model.network import Network, Op, infer_shape, make_op, matmul_macs

__all__ = ["CUSTOM", "OPS", "VIEWS", "load_onnx", "parse_shape"]

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
             "MatMul": (1, 0), "MatMulInteger": (1, 0), "QLinearMatMul": (3, 0),
             "ConvTranspose": (1,)}
#: Recurrent layers and their cell: an input projection and a recurrent op each.
_RECURRENT = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn", "DynamicQuantizeLSTM": "lstm"}
#: Every ONNX op type this front-end maps (besides constants, which fold whatever they are).
OPS = frozenset(VIEWS | _SHAPE_ONLY | set(_ACT) | _ELTWISE | _NORM | set(_POOL) | set(_REDUCE)
                | _MOVE | set(_WEIGHTED) | set(_RECURRENT) - {"DynamicQuantizeLSTM"}
                | {"Concat", "Softmax", "LogSoftmax", "Constant", "ConstantOfShape"})
#: Ops of other domains than ONNX's own that this front-end maps, by (domain, type).
CUSTOM = frozenset({("com.microsoft", "DynamicQuantizeLSTM")})
#: Control flow: a subgraph run a data-dependent number of times or not at all.
_CONTROL = frozenset({"Loop", "Scan", "If"})
def _supported(node: Any) -> bool:
    if node.domain in ("", "ai.onnx"):
        return node.op_type in OPS
    return (node.domain, node.op_type) in CUSTOM


def _outer_reads(node: Any) -> set[str]:
    """Tensors of the enclosing graph that a node's subgraphs (``If``, ``Loop``, ``Scan``
    bodies) read without naming them as inputs."""
    import onnx

    out: set[str] = set()
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            graphs = [a.g]
        elif a.type == onnx.AttributeProto.GRAPHS:
            graphs = list(a.graphs)
        else:
            continue
        for g in graphs:
            defined = {i.name for i in g.input} | {t.name for t in g.initializer}
            defined |= {o for n in g.node for o in n.output}
            reads: set[str] = set()
            for n in g.node:
                reads |= {t for t in n.input if t} | _outer_reads(n)
            out |= reads - defined
    return out


def _strip(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Our layout: batch 1 dropped (a leading 1 of a tensor of rank >= 2), no zero rank."""
    if len(shape) >= 2 and shape[0] == 1:
        shape = shape[1:]
    return shape or (1,)



_GLOBAL: dict[str, Any] = {"global": True}


def _macs(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    """MACs and output shape of numpy matmul semantics."""
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    m, k, n = a2[-2], a2[-1], b2[-1]
    batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    out = tuple(batch) + ((m,) if len(a) > 1 else ()) + ((n,) if len(b) > 1 else ())
    return math.prod(batch) * m * k * n, out


def constants_and_live(G: _Graph, model: Any, init: set[str], src: str
                       ) -> tuple[list[int], dict[int, set[str]], set[str], list[bool], set[str]]:
    """The topological order of ``G``'s nodes, the activations each node's subgraphs read,
    the constant tensors, which nodes reach a graph output and the tensors those read (the
    walk every reader of an ONNX graph in aras shares: :func:`load_onnx` and the accuracy
    runners)."""
    nodes = G.nodes
    order = _order(nodes, src)
    # Constants: fixed point over the topological order. A node's subgraphs may read
    # activations of this graph without naming them: those count as its inputs.
    outer = {i: _outer_reads(nodes[i]) for i in order}
    const: set[str] = set(init)
    for i in order:
        n = nodes[i]
        ins = [t for t in n.input if t] + sorted(outer[i])
        if n.op_type in _SHAPE_ONLY or all(t in const for t in ins):
            const.update(o for o in n.output if o)
        elif n.op_type == "DynamicQuantizeLinear":
            # its scale and zero point are scalars of the SFU's de-quantisation, not data
            const.update(o for o in n.output[1:] if o)
    # Only nodes that reach a graph output matter.
    needed: set[str] = {o.name for o in model.graph.output}
    live = [False] * len(nodes)
    for i in reversed(order):
        n = nodes[i]
        if any(o in needed for o in n.output if o):
            live[i] = True
            needed.update(t for t in n.input if t)
            needed.update(outer[i])
    return order, outer, const, live, needed


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
        raise InputError(f"{arg_name('tokens')}: must be a positive integer, got {tokens!r}")
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
    order, outer, const, live, needed = constants_and_live(G, model, init, src)
    bad: Counter[tuple[str, str]] = Counter()
    firsts: dict[tuple[str, str], Any] = {}
    for i in order:
        n = nodes[i]
        if not live[i]:
            folded["unused"] += 1
            continue
        if all(o in const for o in n.output if o):
            folded["constant " + n.op_type] += 1
            continue
        if not _supported(n):
            key = (n.domain if n.domain not in ("", "ai.onnx") else "", n.op_type)
            bad[key] += 1
            firsts.setdefault(key, n)
    if bad:
        key, count = bad.most_common(1)[0]
        domain, kind = key
        first = firsts[key]
        more = ", ".join(f"{d + '.' if d else ''}{k} x{c}" for (d, k), c in bad.items()
                         if (d, k) != key)
        where = f"domain '{domain}', " if domain else ""
        why = (": control flow has no static compute order" if kind in _CONTROL and not domain
               else "")
        raise InputError(f"{src}: unsupported ONNX op '{kind}' ({where}node '{first.name}', "
                         f"{count} such node{'s' if count > 1 else ''}){why}"
                         + (f"; also {more}" if more else ""))

    alias: dict[str, str] = {t: t for t in real_inputs}
    ours: dict[str, tuple[int, ...]] = {t: _strip(G.shape(t, nodes[0])) for t in real_inputs}
    inputs: dict[str, tuple[int, ...]] = {}
    ops: list[Op] = []
    used: set[str] = set()
    codes: dict[str, np.ndarray] = {}
    weighted = 0

    def fresh(node: Any, k: int, base: str | None = None) -> str:
        base = base or node.name or f"{node.op_type}_{k}"
        nm, j = base, 1
        while nm in used or nm in ours:  # op names are tensor names: unique among all
            j += 1
            nm = f"{base}_{j}"
        used.add(nm)
        return nm

    def emit(node: Any, k: int, kind: str, act_in: list[str], out: str,
             alternatives: list[dict[str, Any]] | None = None,
             as_shape: tuple[int, ...] | None = None, base: str | None = None,
             **attrs: Any) -> str:
        """Append an op and return its name (``base``, else the node's, made unique).

        The first of ``attrs`` (updated by each of ``alternatives``) under which our own
        inference gives ONNX's element count (and, for a conv or pool, ONNX's shape; for a
        matmul, ONNX's MACs) is taken; else the op declares ONNX's shape (and MACs), or
        ``as_shape`` (the same elements in our layout: a 1-D conv's ``(C, 1, L)``).
        """
        nm = fresh(node, k, base)
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
            if kind in ("conv2d", "conv_transpose2d", "pool") and mine != onnx_shape:
                continue
            if want_macs is not None and matmul_macs(op, shapes) != want_macs:
                continue
            break
        else:
            if kind == "linear":
                raise InputError(f"{src}: node '{node.name}' ({node.op_type}): input of "
                                 f"{[list(s) for s in shapes]} does not fit a linear of "
                                 f"{attrs['in_features']} inputs")
            if kind == "recurrent":
                raise InputError(f"{src}: node '{node.name}' ({node.op_type}): output of "
                                 f"{list(onnx_shape)} does not fit {attrs['directions']} "
                                 f"direction(s) of {attrs['hidden']} hidden units")
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
        if t in _RECURRENT:
            weighted += 2
            _recurrent(G, n, k, act, const, needed, emit, codes, src)
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
    net.notes = notes + list(dict.fromkeys(G.notes))
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
    if t == "ConvTranspose":
        nm, mat = _conv_transpose(G, n, k, x, ws, vals, emit, src)
    elif t in ("Conv", "ConvInteger", "QLinearConv"):
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
        x_s = G.shapes.get(x)
        if x_s is not None and len(x_s) >= 2 and x_s[1] != cin_g * groups:
            raise InputError(f"{src}: node '{n.name}': {x_s[1]} input channels, but its "
                             f"weight takes {cin_g} per group x {groups} groups")
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


def _conv_transpose(G: _Graph, n: Any, k: int, x: str, ws: tuple[int, ...],
                    vals: tuple[str, np.ndarray] | None, emit: Any, src: str
                    ) -> tuple[str, np.ndarray | None]:
    """Map a ConvTranspose onto ``conv_transpose2d`` (a 1-D one as 1 x k); its codes in the
    scatter form ``(groups, c_in / groups, c_out / groups x k_h x k_w)``."""
    from aras.frontends.pretrained import quantize_uint8

    if len(ws) not in (3, 4):
        raise InputError(f"{src}: node '{n.name}' (ConvTranspose): only 1-D and 2-D "
                         f"transposed convolutions are supported, weight shape {list(ws)}")
    groups = int(_attr(n, "group", 1))
    c_in, cout_g = ws[0], ws[1]
    if c_in % groups:
        raise InputError(f"{src}: node '{n.name}': group {groups} does not divide {c_in} "
                         "input channels")
    nd = len(ws) - 2
    kern = list(ws[2:]) if nd == 2 else [1, ws[2]]
    st = list(_attr(n, "strides", [1] * nd))
    dil = list(_attr(n, "dilations", [1] * nd))
    pads = list(_attr(n, "pads", [0] * 2 * nd))
    extra = list(_attr(n, "output_padding", [0] * nd))
    if nd == 1:
        st, dil, pads, extra = [1, st[0]], [1, dil[0]], [0, pads[0], 0, pads[1]], [0, extra[0]]
    # auto_pad, output_shape and asymmetric pads give shapes our symmetric attributes do not
    # reproduce: emit then declares ONNX's output shape (windows come from the input)
    mat = None
    if vals is not None:
        a = vals[1].reshape(groups, c_in // groups, -1)      # rows: input channels
        mat = _as_codes(vals[0], np.ascontiguousarray(a), quantize_uint8)
    as_shape = None
    if nd == 1:
        o_s = G.shape(n.output[0], n)
        as_shape = (o_s[-2], 1, o_s[-1])
    nm = emit(n, k, "conv_transpose2d", [x], n.output[0], as_shape=as_shape, c_in=c_in,
              c_out=cout_g * groups, kernel=kern, stride=st, padding=pads[:2],
              output_padding=extra, dilation=dil, groups=groups)
    return nm, mat


def _recurrent(G: _Graph, n: Any, k: int, act: list[str], const: set[str], needed: set[str],
               emit: Any, codes: dict[str, np.ndarray], src: str) -> None:
    """Map an LSTM, GRU, RNN or DynamicQuantizeLSTM onto its input projection (a linear
    ``<name>.input`` over every timestep) and a ``recurrent`` op (docs/model.md).

    ONNX's ``W`` is ``(directions, gates x hidden, input)`` and ``R`` is
    ``(directions, gates x hidden, hidden)``; DynamicQuantizeLSTM stores both transposed,
    ``(directions, input, 4 x hidden)`` and ``(directions, hidden, 4 x hidden)``, in INT8.
    The final states ``Y_h`` and ``Y_c``, where read, are weightless ``gather`` ops of the
    sequence. ``sequence_lens`` is not read: every sequence runs its full length.
    """
    from aras.frontends.pretrained import quantize_uint8
    from aras.model.ops import GATES

    t = n.op_type
    quant = t == "DynamicQuantizeLSTM"
    cell = _RECURRENT[t]
    gates = GATES[cell]
    ins = list(n.input) + [""] * 8
    x, w, r = ins[0], ins[1], ins[2]
    where = f"{src}: node '{n.name}' ({t})"
    if not x or x in const:
        raise InputError(f"{where} has no activation input")
    for name, role in ((w, "W"), (r, "R")):
        if not name or name not in const:
            raise InputError(f"{where}: its {role} weights are not a constant; only weights "
                             "held as constants can be written to crossbars")
    ws, rs = G.shape(w, n), G.shape(r, n)
    if len(ws) == 3 and len(rs) == 3:
        dirs, isz, gh = (ws[0], ws[1], ws[2]) if quant else (ws[0], ws[2], ws[1])
        hidden = rs[1] if quant else rs[2]
        fits = gh == gates * hidden and rs[0] == dirs and (rs[2] if quant else rs[1]) == gh
    else:
        fits = False
    if not fits:
        raise InputError(f"{where}: weights W {list(ws)} and R {list(rs)} do not fit a {cell} "
                         f"cell of {gates} gate(s)")
    size = _attr(n, "hidden_size")
    direction = _attr(n, "direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    if (size is not None and int(size) != hidden) or dirs != (
            2 if direction == "bidirectional" else 1):
        raise InputError(f"{where}: hidden_size {size} and direction '{direction}' do not fit "
                         f"R {list(rs)}")
    lbr = cell == "gru" and bool(_attr(n, "linear_before_reset", 0))
    base = n.name or f"{t}_{k}"
    x_elems = math.prod(G.shape(x, n))
    if x_elems % isz:
        raise InputError(f"{where}: input of {x_elems} elements is not a whole number of "
                         f"{isz}-element timesteps")
    steps = x_elems // isz
    proj_key = f"{base}\x00input"  # no ONNX tensor has this name
    pnm = emit(n, k, "linear", [x], proj_key, as_shape=(steps, dirs * gh), base=f"{base}.input",
               in_features=int(isz), out_features=int(dirs * gh))
    # initial states that are activations are read (they occupy the Gbuffer)
    states = [s for s in ins[5:7 if cell == "lstm" else 6] if s and s not in const]
    outs = list(n.output) + ["", "", ""]
    y = outs[0] or f"{base}\x00sequence"
    extra = {"linear_before_reset": True} if lbr else {}
    rnm = emit(n, k, "recurrent", [proj_key] + states, y, as_shape=(steps, dirs * hidden),
               base=base, cell=cell, hidden=int(hidden), directions=int(dirs), **extra)
    for j, suffix in ((1, "h"), (2, "c")):
        o = outs[j]
        if o and o in needed and o not in const:
            emit(n, k, "gather", [y], o, base=f"{base}.{suffix}", fn=f"final_{suffix}",
                 shape=list(_strip(G.shape(o, n))))
    wv, rv = G.values(w), G.values(r)
    if wv is not None and rv is not None:
        wm = wv[1].transpose(1, 0, 2) if quant else wv[1].transpose(2, 0, 1)  # (in, dirs, gh)
        rm = rv[1] if quant else rv[1].transpose(0, 2, 1)                      # (dirs, h, gh)
        codes[pnm] = _as_codes(wv[0], np.ascontiguousarray(wm.reshape(isz, dirs * gh)),
                               quantize_uint8)
        codes[rnm] = _as_codes(rv[0], np.ascontiguousarray(rm), quantize_uint8)
