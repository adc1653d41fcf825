"""What runs a network at a precision assignment: the :class:`Runner` protocol and
:class:`OnnxRunner` (onnxruntime on an ONNX file)."""

from __future__ import annotations

import importlib.util
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from aras.evaluation.accuracy.quant import (
    check_bits,
    fake_quantize_weights,
    qparams,
    requantize_codes,
)
from aras.model.errors import InputError

__all__ = ["INSTALL", "InputSpec", "OnnxRunner", "Runner", "check_inputs"]

INSTALL = "pip install 'aras[accuracy]'"


@dataclass(frozen=True)
class InputSpec:
    """One model input: the shape of a sample (``None`` for a free dimension, at most
    ``limit`` long) and the dtype the model takes."""

    shape: tuple[int | None, ...]
    dtype: np.dtype
    limit: int | None = None


@runtime_checkable
class Runner(Protocol):
    """A network that runs on a batch of inputs at a per-layer precision assignment.

    Attributes
    ----------
    layers
        The aras op names of the weight-bearing layers, in compute order (the network's
        ``weighted_ops``).
    inputs
        The model's inputs by name (:class:`InputSpec`); a batch maps each name to an array of
        ``(n, *shape)``.
    output_kind
        ``"embedding"`` when the output is a sentence embedding, else ``"auto"``.
    """

    layers: list[str]
    inputs: dict[str, InputSpec]
    output_kind: str

    def float_weights(self, layer: str) -> np.ndarray:
        """The layer's weight as the float model uses it."""
        ...

    def weight_error(self, layer: str, bits: int) -> float:
        """``||W - Q_b(W)|| / ||W||`` of the layer at ``bits`` bits."""
        ...

    def calibrate(self, inputs: Mapping[str, np.ndarray]) -> None:
        """Take each layer's activation range from the float model on ``inputs``."""
        ...

    def run(self, inputs: Mapping[str, np.ndarray], weight_bits: Mapping[str, int] | None = None,
            activation_bits: Mapping[str, int] | None = None) -> np.ndarray:
        """The output on ``inputs`` with the named layers at their bits (others float)."""
        ...

    def random_inputs(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """``n`` synthetic samples of every input."""
        ...


def check_inputs(runner: Runner, inputs: Mapping[str, Any], name: str = "calibration"
                 ) -> dict[str, np.ndarray]:
    """``inputs`` checked against ``runner.inputs`` (names, sample count, shape, dtype kind)
    and cast to the model's dtypes.

    Raises
    ------
    InputError
        Naming ``name`` and the input.
    """
    if not isinstance(inputs, Mapping):
        raise InputError(f"{name}: must map input names to arrays, got {type(inputs).__name__}")
    want = runner.inputs
    missing = [k for k in want if k not in inputs]
    extra = [k for k in inputs if k not in want]
    if missing or extra:
        what = (f"no input {missing[0]!r}" if missing else f"unknown input {extra[0]!r}")
        raise InputError(f"{name}: {what} (the model's inputs: {', '.join(want)})")
    out: dict[str, np.ndarray] = {}
    count = None
    for k, spec in want.items():
        a = np.asarray(inputs[k])
        if a.ndim != len(spec.shape) + 1 or any(
                d is not None and d != s for d, s in zip(spec.shape, a.shape[1:], strict=True)):
            shown = "x".join("N" if d is None else str(d) for d in spec.shape) or "scalar"
            raise InputError(f"{name}: input {k!r}: samples of shape "
                             f"{'x'.join(map(str, a.shape[1:])) or 'scalar'}, the model takes "
                             f"{shown} (arrays are n x sample)")
        if spec.limit is not None and any(
                d is None and s > spec.limit for d, s in zip(spec.shape, a.shape[1:],
                                                             strict=True)):
            raise InputError(f"{name}: input {k!r}: longer than {spec.limit}")
        if a.dtype.kind != spec.dtype.kind and not (
                a.dtype.kind in "iu" and spec.dtype.kind in "iu"):
            raise InputError(f"{name}: input {k!r}: dtype {a.dtype}, the model takes "
                             f"{spec.dtype}")
        if count is None:
            count = a.shape[0]
        elif a.shape[0] != count:
            raise InputError(f"{name}: input {k!r} has {a.shape[0]} samples, another has "
                             f"{count}")
        out[k] = a.astype(spec.dtype, copy=False)
    if not count:
        raise InputError(f"{name}: no samples")
    return out


@dataclass
class _Layer:
    """Where a weight-bearing op sits in the ONNX graph."""

    node: str           # first output of the ONNX node (unique in the graph)
    op_type: str
    weight: str         # the node's weight input
    w_index: int
    act: str | None     # the node's data input (None: no place to quantise it)
    a_index: int | None


def _ort() -> Any:
    if importlib.util.find_spec("onnxruntime") is None:
        raise InputError(f"running ONNX models needs onnxruntime: {INSTALL}")
    import onnxruntime

    return onnxruntime


def _onnx_layers(path: Path, input_shapes: dict[str, tuple[int, ...]] | None
                 ) -> tuple[list[str], list[_Layer], Any]:
    """The weight-bearing ops of :func:`~aras.frontends.onnx_graph.load_onnx` and their ONNX
    nodes.

    load_onnx emits one weighted op per ``Conv``/``Gemm``/``MatMul`` with a constant weight
    and two per recurrent node (``<name>.input`` then the cell), in the topological order of
    the statically shaped graph; the same walk here pairs them, so the names are load_onnx's
    own.
    """
    from aras.frontends.onnx_graph import (
        _RECURRENT,
        _WEIGHTED,
        constants_and_live,
        load_onnx,
    )
    from aras.frontends.onnx_static import _fix_inputs, _Graph, _read, _static

    net = load_onnx(path, input_shapes=input_shapes)
    src = str(path)
    model = _read(path)
    init = {t.name for t in model.graph.initializer}
    _fix_inputs(model, src, init, dict(input_shapes or {}), None, [])
    model = _static(model, src, Counter())
    G = _Graph(model, src)
    nodes = G.nodes
    order, _, const, live, _ = constants_and_live(G, model, init, src)
    found: list[_Layer] = []
    for i in order:
        n = nodes[i]
        outs = [o for o in n.output if o]
        if not live[i] or all(o in const for o in outs):
            continue
        ins = list(n.input)
        acts = [j for j, x in enumerate(ins) if x and x not in const]
        a_idx = acts[0] if acts else None
        a_name = ins[a_idx] if a_idx is not None else None
        if n.op_type in _WEIGHTED:
            w_idx = next((j for j in _WEIGHTED[n.op_type]
                          if j < len(ins) and ins[j] and ins[j] in const), None)
            if w_idx is None:
                continue  # a product of two activations: a matmul, no weights
            found.append(_Layer(outs[0], n.op_type, ins[w_idx], w_idx, a_name, a_idx))
        elif n.op_type in _RECURRENT:
            found.append(_Layer(outs[0], n.op_type, ins[1], 1, a_name, a_idx))
            found.append(_Layer(outs[0], n.op_type, ins[2], 2, None, None))
    names = [op.name for op in net.weighted_ops]
    if len(names) != len(found):  # pragma: no cover - the walk above is load_onnx's own
        raise InputError(f"{src}: {len(names)} weight-bearing ops but {len(found)} ONNX "
                         "weights found")
    return names, found, G


class OnnxRunner:
    """An ONNX file run by onnxruntime at per-layer weight and activation bits.

    Weights are replaced by their fake-quantised values (a new initializer per layer);
    activations are fake-quantised by ``Div``/``Round``/``Add``/``Clip``/``Sub``/``Mul``
    nodes, with the scale and zero point of the calibrated range, on the data input of each
    weight-bearing node. Each assignment builds one session (one intra-op thread).

    Parameters
    ----------
    path
        The ``.onnx`` file.
    input_shapes
        Static input shapes, as for :func:`~aras.frontends.onnx_graph.load_onnx`; they fix the
        layer names and the sample shapes a calibration set must have.
    per_channel
        Quantise float weights per output channel (one range per kernel: ``Conv`` axis 0,
        ``ConvTranspose`` axis 1, ``Gemm`` and ``MatMul`` the output features) instead of
        one range per layer (paper Eq. 6, the default). Integer codes and recurrent weights
        keep their own rule.

    Raises
    ------
    InputError
        onnxruntime missing (``pip install 'aras[accuracy]'``), or what ``load_onnx`` raises.
    """

    output_kind = "auto"

    def __init__(self, path: str | Path, input_shapes: dict[str, tuple[int, ...]] | None = None,
                 per_channel: bool = False):
        import onnx

        self._ort = _ort()
        self.path = Path(path)
        self.per_channel = bool(per_channel)
        names, found, G = _onnx_layers(self.path, input_shapes)
        self.layers: list[str] = names
        self._where = dict(zip(names, found, strict=True))
        self._G = G
        self._model = onnx.load(str(self.path))
        opset = {o.domain or "": o.version for o in self._model.opset_import}.get("", 0)
        if opset < 11:
            raise InputError(f"{self.path}: opset {opset}; the runner's quantisation nodes "
                             "need opset 11 or later")
        init = {t.name for t in self._model.graph.initializer}
        given = dict(input_shapes or {})
        self.inputs: dict[str, InputSpec] = {}
        self._batched: dict[str, bool] = {}
        for inp in self._model.graph.input:
            if inp.name in init:
                continue
            tt = inp.type.tensor_type
            fixed: tuple[int, ...] = G.shapes.get(inp.name) or ()
            free = [not (d.HasField("dim_value") and d.dim_value > 0) for d in tt.shape.dim]
            if inp.name in given or len(free) != len(fixed):
                free = [False] * len(fixed)
            # the first dimension is the batch when it is open or 1: samples then drop it
            batched = bool(fixed) and (free[0] or fixed[0] == 1)
            sample, flags = (fixed[1:], free[1:]) if batched else (fixed, free)
            self.inputs[inp.name] = InputSpec(
                tuple(None if f else s for s, f in zip(sample, flags, strict=True)),
                np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)))
            # an open batch runs many samples at once, a fixed one a sample at a time
            self._batched[inp.name] = bool(batched and free[0])
        self._expand = {k: bool(G.shapes.get(k)) and (G.shapes.get(k) or (0,))[0] == 1
                        for k in self.inputs}
        self._weights: dict[str, np.ndarray] = {}
        self._quantised: dict[tuple[str, int], np.ndarray] = {}
        self._ranges: dict[str, tuple[float, float]] | None = None
        self._G_codes: Any = None

    def __repr__(self) -> str:
        return (f"OnnxRunner({str(self.path)!r}, {len(self.layers)} layers"
                + (", per channel)" if self.per_channel else ")"))

    # -- weights -------------------------------------------------------------------------

    def _const(self, name: str, overrides: Mapping[str, np.ndarray] | None = None
               ) -> np.ndarray:
        """A constant tensor's value: its constant subgraph run by onnxruntime."""
        import onnx
        from onnx import helper, numpy_helper

        g = self._model.graph
        inits = {t.name: t for t in g.initializer}
        overrides = dict(overrides or {})
        if name in inits:
            return overrides.get(name, numpy_helper.to_array(inits[name]))
        producer = {o: n for n in g.node for o in n.output if o}
        keep: set[int] = set()
        used: set[str] = set()
        stack = [name]
        while stack:
            t = stack.pop()
            if t in inits:
                used.add(t)
                continue
            n = producer.get(t)
            if n is None or id(n) in keep:
                continue
            keep.add(id(n))
            stack.extend(x for x in n.input if x)
        nodes = [n for n in g.node if id(n) in keep]
        tensors = [numpy_helper.from_array(
            np.asarray(overrides[t]) if t in overrides else numpy_helper.to_array(inits[t]), t)
            for t in sorted(used)]
        graph = helper.make_graph(nodes, "weight", [],
                                  [helper.make_value_info(name, onnx.TypeProto())],
                                  initializer=tensors)
        model = helper.make_model(graph, opset_imports=list(self._model.opset_import))
        model.ir_version = self._model.ir_version
        # onnxruntime evaluates the chain as the full model's session would (the reference
        # evaluator lacks older versions of DequantizeLinear); inference types the output
        model = onnx.shape_inference.infer_shapes(model)
        return np.asarray(self._session(model).run(None, {})[0])

    def _layer(self, layer: str) -> _Layer:
        if layer not in self._where:
            raise InputError(f"layer: unknown layer {layer!r}")
        return self._where[layer]

    def float_weights(self, layer: str) -> np.ndarray:
        """The layer's weight tensor as the float model computes with it (de-quantised
        codes for an INT8 export), in the ONNX node's layout."""
        if layer not in self._weights:
            self._weights[layer] = np.asarray(self._const(self._layer(layer).weight),
                                              dtype=np.float64)
        return self._weights[layer]

    def _codes(self, layer: str) -> tuple[np.ndarray, np.ndarray] | None:
        """``(codes, step)`` of a layer whose weight is de-quantised integer codes: the codes
        in the node's layout and each weight's step (its de-quantisation scale)."""
        where = self._layer(layer)
        if self._G_codes is None:
            import onnx

            from aras.frontends.onnx_static import _Graph

            # the file's own graph: the static one has small constant chains folded to floats
            self._G_codes = _Graph(onnx.shape_inference.infer_shapes(self._model),
                                   str(self.path))
        traced = self._G_codes.values(where.weight)
        if traced is None or traced[0] != "int":
            return None
        codes = traced[1].astype(np.float64)
        if where.op_type not in ("Conv", "Gemm", "MatMul", "ConvTranspose") or \
                codes.size != self.float_weights(layer).size:
            raise InputError(f"layer {layer!r}: its {where.op_type} node computes on integer "
                             "codes; the runner fake-quantises float weights and codes "
                             "de-quantised by DequantizeLinear")
        sources = self._int_sources(where.weight, codes.size)
        if len(sources) != 1:
            raise InputError(f"layer {layer!r}: its codes do not come from one integer "
                             "initializer")
        src, arr = sources[0]
        # Flipping every code's lowest bit moves it by +1 (even) or -1 (odd); through the
        # affine de-quantisation the weight moves by its own step with that sign.
        moved = self._const(where.weight, {src: np.bitwise_xor(arr, np.ones_like(arr))})
        delta = np.where(codes.reshape(moved.shape) % 2 == 0, 1.0, -1.0)
        step = (np.asarray(moved, dtype=np.float64) - self.float_weights(layer)) / delta
        return codes.reshape(moved.shape), step

    def _int_sources(self, tensor: str, size: int) -> list[tuple[str, np.ndarray]]:
        from onnx import numpy_helper

        g = self._model.graph
        inits = {t.name: t for t in g.initializer}
        producer = {o: n for n in g.node for o in n.output if o}
        out: list[tuple[str, np.ndarray]] = []
        seen: set[str] = set()
        stack = [tensor]
        while stack:
            t = stack.pop()
            if t in seen:
                continue
            seen.add(t)
            if t in inits:
                if inits[t].data_type in (2, 3) and math.prod(inits[t].dims) == size:
                    out.append((t, numpy_helper.to_array(inits[t])))  # uint8 (2), int8 (3)
                continue
            n = producer.get(t)
            if n is not None:
                stack.extend(x for x in n.input if x)
        return out

    def quantized_weights(self, layer: str, bits: int) -> np.ndarray:
        """The layer's weight at ``bits`` bits (the rule of :mod:`aras.evaluation.accuracy`):
        float weights by Eq. 6 over the layer, integer codes requantised from their codes."""
        check_bits({layer: bits}, self.layers, "bits")
        key = (layer, bits)
        if key not in self._quantised:
            codes = self._codes(layer)
            w = self.float_weights(layer)
            if codes is None:
                axis = self._channel_axis(layer, w) if self.per_channel else None
                self._quantised[key] = fake_quantize_weights(w, bits, axis)
            else:
                c, step = codes
                self._quantised[key] = w + step * (requantize_codes(c, bits) - c)
        return self._quantised[key]

    def _channel_axis(self, layer: str, w: np.ndarray) -> int | None:
        """The axis of the layer's output channels in its ONNX weight (None: per layer)."""
        where = self._where[layer]
        node = next((n for n in self._model.graph.node if where.node in n.output), None)
        if node is None or w.ndim < 2:
            return None
        if where.op_type == "Conv":
            return 0
        if where.op_type == "ConvTranspose":
            return 1
        if where.op_type == "Gemm":
            trans = {a.name: a.i for a in node.attribute}
            if where.w_index == 1:
                return 0 if trans.get("transB", 0) else 1
            return 1 if trans.get("transA", 0) else 0
        if where.op_type == "MatMul":
            return w.ndim - 1 if where.w_index == 1 else w.ndim - 2
        return None

    def weight_error(self, layer: str, bits: int) -> float:
        """``||W - Q_b(W)|| / ||W||`` of the layer's weight at ``bits`` bits."""
        from aras.evaluation.accuracy.quant import weight_error

        return weight_error(self.float_weights(layer), self.quantized_weights(layer, bits))

    # -- running -------------------------------------------------------------------------

    def _session(self, model: Any) -> Any:
        so = self._ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        # past the basic level onnxruntime fuses DequantizeLinear + MatMul into integer
        # kernels that quantise the activations too: the float model would not be float
        so.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        try:
            return self._ort.InferenceSession(model.SerializeToString(), so,
                                              providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph kinds
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InputError(f"{self.path}: onnxruntime cannot run the model: {msg}") from None

    def _feed(self, sess: Any, inputs: Mapping[str, np.ndarray], outputs: list[str]
              ) -> list[np.ndarray]:
        n = next(iter(inputs.values())).shape[0]
        chunks = [(0, n)] if all(self._batched.values()) else [(i, i + 1) for i in range(n)]
        # a sample fed without a batch axis (a fixed first dimension other than 1) gives
        # outputs without one: stack those
        stack = len(chunks) > 1 and not all(self._expand.values())
        parts: list[list[np.ndarray]] = [[] for _ in outputs]
        for a, b in chunks:
            feed = {}
            for k, v in inputs.items():
                feed[k] = v[a:b] if self._batched[k] or self._expand[k] else v[a]
            try:
                res = sess.run(outputs, feed)
            except Exception as exc:  # onnxruntime's own error kinds: bad index values, ...
                msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise InputError(f"inputs: onnxruntime failed on {self.path.name}: {msg}"
                                 ) from None
            for j, r in enumerate(res):
                r = np.asarray(r)
                parts[j].append(r[None] if stack or not r.ndim else r)
        return [np.concatenate(p, axis=0) for p in parts]

    def calibrate(self, inputs: Mapping[str, np.ndarray]) -> None:
        """Each layer's activation range (min, max of its data input) from the float model
        on ``inputs``; :meth:`run` quantises activations over these ranges."""
        from onnx import helper

        inputs = check_inputs(self, inputs)
        model = self._copy()
        present = {o.name for o in model.graph.output}
        acts = sorted({w.act for w in self._where.values() if w.act is not None})
        extra = [t for t in acts if t not in self.inputs and t not in present]
        for t in extra:
            model.graph.output.append(helper.make_value_info(t, _any_type()))
        sess = self._session(model)
        names = [o.name for o in sess.get_outputs()]
        wanted = [t for t in acts if t not in self.inputs]
        values = dict(zip(wanted, self._feed(sess, inputs, wanted), strict=True)) if wanted \
            else {}
        del names
        values.update({t: inputs[t] for t in acts if t in self.inputs})
        self._ranges = {}
        for layer, w in self._where.items():
            if w.act is not None:
                v = np.asarray(values[w.act], dtype=np.float64)
                self._ranges[layer] = (float(v.min()), float(v.max()))

    def _copy(self) -> Any:
        import onnx

        m = onnx.ModelProto()
        m.CopyFrom(self._model)
        return m

    def build(self, weight_bits: Mapping[str, int] | None = None,
              activation_bits: Mapping[str, int] | None = None) -> Any:
        """The ONNX model at the assignment (a ``ModelProto``)."""
        from onnx import helper, numpy_helper

        wb = check_bits(weight_bits, self.layers, "weight_bits")
        ab = check_bits(activation_bits, self.layers, "activation_bits")
        if ab and self._ranges is None:
            raise InputError("activation_bits: the runner has no activation ranges; "
                             "calibrate it first (runner.calibrate(inputs))")
        model = self._copy()
        g = model.graph
        by_out = {n.output[0]: n for n in g.node if n.output}
        before: dict[int, list[Any]] = {}
        for k, layer in enumerate(self.layers):
            where = self._where[layer]
            node = by_out[where.node]
            if layer in wb:
                w = self.quantized_weights(layer, wb[layer])
                name = f"{where.weight}::aras_w{wb[layer]}::{k}"
                dtype = self.float_weights(layer).dtype
                ref = self._const(where.weight)
                g.initializer.append(numpy_helper.from_array(
                    w.astype(ref.dtype if ref.dtype.kind == "f" else dtype), name))
                node.input[where.w_index] = name
            if layer in ab:
                if where.act is None or where.a_index is None:
                    raise InputError(f"activation_bits: layer {layer!r} has no data input "
                                     "the runner can quantise (a recurrent cell's state)")
                assert self._ranges is not None
                lo, hi = self._ranges[layer]
                bits = ab[layer]
                scale, zp = qparams(lo, hi, bits)
                p = f"{where.act}::aras_a{bits}::{k}"
                consts = {"s": scale, "z": float(zp), "lo": 0.0, "hi": float((1 << bits) - 1)}
                for c, v in consts.items():
                    g.initializer.append(numpy_helper.from_array(
                        np.array(v, dtype=np.float32), f"{p}:{c}"))
                x = where.act
                before.setdefault(id(node), []).extend([
                    helper.make_node("Div", [x, f"{p}:s"], [f"{p}:div"]),
                    helper.make_node("Round", [f"{p}:div"], [f"{p}:round"]),
                    helper.make_node("Add", [f"{p}:round", f"{p}:z"], [f"{p}:q"]),
                    helper.make_node("Clip", [f"{p}:q", f"{p}:lo", f"{p}:hi"], [f"{p}:clip"]),
                    helper.make_node("Sub", [f"{p}:clip", f"{p}:z"], [f"{p}:c"]),
                    helper.make_node("Mul", [f"{p}:c", f"{p}:s"], [p]),
                ])
                node.input[where.a_index] = p
        if before:
            nodes = []
            for n in g.node:
                nodes.extend(before.get(id(n), []))
                nodes.append(n)
            del g.node[:]
            g.node.extend(nodes)
        return model

    def run(self, inputs: Mapping[str, np.ndarray], weight_bits: Mapping[str, int] | None = None,
            activation_bits: Mapping[str, int] | None = None) -> np.ndarray:
        """The first graph output on ``inputs`` (``(n, ...)``) with the named layers' weights
        and activations at their bits and every other layer float.

        Raises
        ------
        InputError
            Inputs that do not fit the model (naming ``inputs``), unknown layers or bits out of
            ``[1, 8]`` (naming ``weight_bits`` / ``activation_bits``), activation bits before
            :meth:`calibrate`.
        """
        inputs = check_inputs(self, inputs, "inputs")
        model = self.build(weight_bits, activation_bits)
        sess = self._session(model)
        first = sess.get_outputs()[0].name
        return self._feed(sess, inputs, [first])[0]

    def random_inputs(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Standard normal floats; integers below the row count of the table a ``Gather``
        indexes with them (token ids), else 0 or 1 (masks); a free dimension takes 8."""
        inits = {t.name: t for t in self._model.graph.initializer}
        tables: dict[str, int] = {}
        for node in self._model.graph.node:
            if node.op_type == "Gather" and len(node.input) > 1 and node.input[0] in inits:
                dims = list(inits[node.input[0]].dims)
                if dims:
                    tables[node.input[1]] = min(tables.get(node.input[1], dims[0]), dims[0])
        out = {}
        for k, spec in self.inputs.items():
            shape = (n, *(8 if d is None else d for d in spec.shape))
            if spec.dtype.kind == "f":
                out[k] = rng.standard_normal(shape).astype(spec.dtype)
            else:
                out[k] = rng.integers(0, tables.get(k, 2), shape).astype(spec.dtype)
        return out


def _any_type() -> Any:
    import onnx

    return onnx.TypeProto()
