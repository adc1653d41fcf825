"""Reading an ONNX file into a graph with static shapes (the first half of the ONNX front-end).

:func:`_read` loads the file (external weight data stays on disk), :func:`_fix_inputs` fixes
the symbolic input dimensions, :func:`_static` runs ``onnx.shape_inference`` with data
propagation and folds the small constant subgraphs it cannot see through with
``onnx.reference``, and :class:`_Graph` answers shapes, producers and the real values of
constants. :mod:`aras.frontends.onnx_graph` maps the result onto network ops.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from aras.model.errors import InputError, arg_name, using_flags
from aras.model.limits import MAX_ELEMENTS

__all__ = ["DEFAULT_TOKENS", "parse_shape"]

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
        raise InputError(f"{_shapes_name()}: expected NAME=DxDx... with positive integers, got "
                         f"{text!r}")
    return name, shape



def _attr(node: Any, name: str, default: Any = None) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _read(path: Path) -> Any:
    import onnx

    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a network file")
    if not path.is_file():
        raise InputError(f"network file not found: {path}")
    try:
        # External weight files are not loaded here: shapes come from the tensor headers,
        # values (real codes) are read per tensor when needed, so a model larger than
        # protobuf's 2 GB stays within reach of shape inference.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf and onnx raise many kinds (DecodeError, ParseError,
        # ValueError, RecursionError, ...): all mean "not an ONNX file we can read"
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: malformed ONNX file ({msg})") from None
    if not len(model.graph.node):
        raise InputError(f"{path}: malformed ONNX file (the graph has no nodes)")
    known = onnx.defs.onnx_opset_version()
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx") and imp.version > known:
            # shape inference would read its ops by an older opset's rules, silently
            raise InputError(f"{path}: opset {imp.version} of the ONNX domain, newer than the "
                             f"{known} the installed onnx package knows")
    return model


#: Sequence length given to an open sequence dimension when no --tokens is given (as for
#: HuggingFace configs).
DEFAULT_TOKENS = 128


def _shapes_name() -> str:
    return arg_name("input_shapes", "--input-shape")


def _shape_hint(name: str, dims: list[str]) -> str:
    """How to give an input's shape: ``--input-shape x=1xN`` or ``input_shapes={'x': ...}``."""
    if using_flags():
        return f"--input-shape {name}={'x'.join(dims)}"
    return f"input_shapes={{'{name}': ({', '.join(dims)})}}"


def _tokens_hint() -> str:
    return "--tokens N" if using_flags() else "tokens=N"


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
        raise InputError(f"{_shapes_name()}: the model has no input '{unknown[0]}' (inputs: "
                         f"{', '.join(sorted(names))})")
    shapes: dict[str, tuple[int, ...]] = {}
    for inp in real:
        tt = inp.type.tensor_type
        if (not inp.type.HasField("tensor_type") or not tt.HasField("shape")) \
                and inp.name not in input_shapes:
            raise InputError(f"{src}: input '{inp.name}' has no shape: pass "
                             f"{_shape_hint(inp.name, ['D', 'D', '...'])}")
        dims = list(tt.shape.dim) if tt.HasField("shape") else []
        if inp.name in input_shapes:
            shape = input_shapes[inp.name]
            if dims and len(shape) != len(dims):
                raise InputError(f"{_shapes_name()} {inp.name}: rank {len(shape)}, the model's "
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
                                     f"({_tokens_hint()} to change)")
                else:
                    sym = d.dim_param or "?"
                    raise InputError(f"{src}: input '{inp.name}' has a symbolic dimension "
                                     f"{k} ('{sym}'): pass {_tokens_hint()} or "
                                     + _shape_hint(inp.name, ["1"] + ["N"] * (len(dims) - 1)))
            shape = tuple(shape_l)
        if math.prod(shape) > MAX_ELEMENTS:
            raise InputError(f"{src}: input '{inp.name}' of shape {'x'.join(map(str, shape))} "
                             f"has more than {MAX_ELEMENTS:,} (2^40) elements")
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
        #: what an import should say it left out (weights whose external data is missing)
        self.notes: list[str] = []
        for n in self.nodes:
            for o in n.output:
                if o:
                    if o in self.producer:
                        # ONNX graphs are in SSA form: a tensor with two producers is no graph
                        raise InputError(f"{src}: tensor '{o}' is the output of two nodes "
                                         f"('{self.producer[o].name}' and '{n.name}')")
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
                             f"fix the symbolic inputs with {_shapes_name()}")
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
            except Exception as exc:  # external data missing or unreadable: no real values
                self.notes.append(f"weights '{name}' not read ({type(exc).__name__}): its "
                                  "pulses come from the statistical weight model")
                return None
            return self._classify(a, name, self.src)
        n = self.producer.get(name)
        if n is None:
            return None
        if n.op_type == "Constant":
            t = _attr(n, "value")
            return None if t is None else self._classify(numpy_helper.to_array(t), name,
                                                          self.src)
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
    def _classify(a: np.ndarray, name: str, src: str) -> tuple[str, np.ndarray] | None:
        if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
            # weights become cell codes: a NaN or infinity has none (and would stop the
            # quantiser deep inside with a bare ValueError)
            bad = int(a.size - np.isfinite(a).sum())
            raise InputError(f"{src}: tensor '{name}': {bad:,} of its {a.size:,} values are "
                             f"NaN or infinite")
        if a.dtype == np.int8:
            return "int", (a.astype(np.int16) + 128).astype(np.uint8)
        if a.dtype == np.uint8:
            return "int", a
        if np.issubdtype(a.dtype, np.floating) and a.size > 1:
            return "float", a
        return None



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
    model = _custom_shapes(_infer(model, src), src)
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
                    res = list(ReferenceEvaluator(_one_node(n, opsets)).run(
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
        model = _custom_shapes(_infer(model, src), src)
    return model


def _custom_outputs(node: Any, shapes: dict[str, tuple[int, ...] | None]
                    ) -> list[tuple[str, tuple[int, ...]]]:
    """Output shapes of a custom-domain op the front-end maps, from its input shapes (none
    while they are open). DynamicQuantizeLSTM (com.microsoft) is ONNX's LSTM with its weights
    transposed: ``Y`` is ``(seq, directions, batch, hidden)``, ``Y_h`` and ``Y_c``
    ``(directions, batch, hidden)``; ``R`` is ``(directions, hidden, 4 x hidden)``."""
    if (node.domain, node.op_type) != ("com.microsoft", "DynamicQuantizeLSTM"):
        return []
    ins = list(node.input)
    x = shapes.get(ins[0]) if ins else None
    r = shapes.get(ins[2]) if len(ins) > 2 and ins[2] else None
    if x is None or r is None or len(x) != 3 or len(r) != 3:
        return []
    seq, batch = x[0], x[1]
    dirs, hidden = r[0], int(_attr(node, "hidden_size", r[1]))
    want = [(seq, dirs, batch, hidden), (dirs, batch, hidden), (dirs, batch, hidden)]
    return [(o, sh) for o, sh in zip(node.output, want, strict=False) if o]


def _custom_shapes(model: Any, src: str) -> Any:
    """The model with the output shapes of its custom-domain ops (:func:`_custom_outputs`)
    recorded as value_info, and shapes inferred again past them, until nothing changes.

    ONNX's inference does not know those ops, but it keeps a shape recorded for their
    outputs and propagates it to their consumers.
    """
    from onnx import TensorProto, helper

    if not any(n.domain == "com.microsoft" for n in model.graph.node):
        return model
    for _ in range(len(model.graph.node) + 1):
        G = _Graph(model, src)
        new = [(o, sh) for n in G.nodes for o, sh in _custom_outputs(n, G.shapes)
               if G.shapes.get(o) is None]
        if not new:
            break
        known = {v.name for v in model.graph.value_info}
        for o, sh in new:
            if o in known:  # an open shape recorded by an earlier round: replace it
                keep = [v for v in model.graph.value_info if v.name != o]
                del model.graph.value_info[:]
                model.graph.value_info.extend(keep)
            model.graph.value_info.append(
                helper.make_tensor_value_info(o, TensorProto.FLOAT, list(sh)))
        model = _infer(model, src)
    return model


def _one_node(node: Any, opsets: dict[str, int]) -> Any:
    """A model of one node under the file's opsets, for ``onnx.reference``: given a bare node,
    the reference runs the newest version of its op (an opset-12 ``Unsqueeze`` with an
    ``axes`` attribute then fails)."""
    import onnx
    from onnx import helper

    vi = [helper.make_value_info(t, onnx.TypeProto()) for t in dict.fromkeys(node.input) if t]
    vo = [helper.make_value_info(t, onnx.TypeProto()) for t in node.output if t]
    graph = helper.make_graph([node], "node", vi, vo)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v)
                                                   for d, v in opsets.items()])


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
