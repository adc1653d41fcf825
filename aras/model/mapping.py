"""Mapping a network onto the accelerator (MODEL.md section 3).

:func:`map_network` turns a :class:`~aras.model.network.Network` and a
:class:`~aras.model.hardware.Hardware` into a :class:`Problem`: the compute steps in
order, the APU rows, parts, windows and compute cycles of every weight-bearing
layer, activation bytes and tensor lifetimes. Every method (heuristic or MILP)
and the evaluator work from a Problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from aras.model.banks import activation_passes
from aras.model.errors import InputError, arg_name, expect
from aras.model.hardware import Hardware
from aras.model.limits import INT_LIMIT, MAX_MAPPED_APU_ROWS, MAX_STEPS, check_batch, shown
from aras.model.network import Network, Op, matmul_macs
from aras.model.ops import SERIAL
from aras.model.precision import (
    LayerPrecision,
    check_precision,
    kernels_per_apu_row,
    window_cycles,
)


def ceil_div(a: int, b: int) -> int:
    """Integer ceil(a / b) for non-negative a and positive b."""
    return -(-a // b)


@dataclass(frozen=True)
class TileGrid:
    """APU-row tiles of one layer at replication 1.

    ``rows_used[t]`` and ``cols_used[t]`` give the crossbar rows and kernels
    (output columns) tile ``t`` occupies on its APU row; tiles are ordered
    column block by column block, input segments inside, so that splitting
    the list into parts keeps whole output columns together where it can.
    """

    rows_used: np.ndarray
    cols_used: np.ndarray

    def __len__(self) -> int:
        return len(self.rows_used)


def tile_grid(op: Op, hw: Hardware, weight_bits: int | None = None) -> TileGrid:
    """Tiles of a weight-bearing op per MODEL.md section 3 (block-diagonal packing included),
    at ``weight_bits`` (the hardware's by default; docs/model.md "Precision")."""
    groups, rows_g, cols_g = op.matrix
    R = hw.crossbar_rows
    K = hw.kernels_per_apu_row if weight_bits is None else kernels_per_apu_row(weight_bits, hw)
    if groups == 1 or rows_g > R:
        n_rep = 1 if groups == 1 else groups
        segs = np.minimum(R, rows_g - np.arange(ceil_div(rows_g, R), dtype=np.int64) * R)
        cols = np.minimum(K, cols_g - np.arange(ceil_div(cols_g, K), dtype=np.int64) * K)
        # column block by column block, input segments inside, once per group
        rows_used = np.tile(np.tile(segs, len(cols)), n_rep)
        cols_used = np.tile(np.repeat(cols, len(segs)), n_rep)
    else:
        gps = min(groups, R // rows_g)
        ng = np.minimum(gps, groups - np.arange(ceil_div(groups, gps), dtype=np.int64) * gps)
        # The column grid is the same in every segment (ceil(gps*cols_g/K) blocks); the last
        # segment may hold fewer groups, so some of its tiles are narrower.
        nc = ceil_div(gps * cols_g, K)
        rows_used = np.repeat(ng * rows_g, nc)
        offsets = np.tile(np.arange(nc, dtype=np.int64) * K, len(ng))
        cols_used = np.clip(np.repeat(ng * cols_g, nc) - offsets, 0, K)
    return TileGrid(rows_used=rows_used, cols_used=cols_used)


def windows_of(op: Op, network: Network) -> int:
    """Input vectors a weight-bearing op streams through its crossbars (docs/model.md).

    A convolution's output positions, a transposed convolution's input pixels (its scatter
    form), a linear's tokens, a recurrent op's timesteps times its dependent passes per
    timestep (:attr:`~aras.model.ops.Op.passes`).
    """
    shape = network.shapes[op.name]
    if op.kind == "conv2d":
        return shape[1] * shape[2]
    if op.kind == "conv_transpose2d":
        return network.elements(op.inputs[0]) // op.attrs["c_in"]
    if op.kind == "recurrent":
        return shape[0] * op.passes
    return shape[0]


def apu_rows_of(op: Op, hw: Hardware, weight_bits: int | None = None) -> int:
    """APU rows a weight-bearing op needs at replication 1 (all parts together), at
    ``weight_bits`` (the hardware's by default)."""
    groups, rows_g, cols_g = op.matrix
    R = hw.crossbar_rows
    K = hw.kernels_per_apu_row if weight_bits is None else kernels_per_apu_row(weight_bits, hw)
    if groups == 1:
        return ceil_div(rows_g, R) * ceil_div(cols_g, K)
    if rows_g <= R:
        gps = min(groups, R // rows_g)
        return ceil_div(groups, gps) * ceil_div(gps * cols_g, K)
    return groups * ceil_div(rows_g, R) * ceil_div(cols_g, K)


@dataclass(frozen=True)
class Step:
    """One compute step: a part of a weight-bearing layer, or a weightless op.

    Attributes
    ----------
    index
        Position in the problem's default compute order.
    layer, part
        Op name and part number (0 for single-part layers and weightless ops).
    kind
        The op kind.
    apu_rows
        APU rows of this part at replication 1 (0 for weightless ops).
    windows
        Input vectors streamed through the crossbars (0 for weightless ops).
    fixed_cycles
        Compute cycles of a weightless op (matmuls on the digital units).
    in_bytes, out_bytes
        Activation bytes the step reads and writes in the Gbuffer.
    tile_offset
        Index of this part's first tile in the layer's :class:`TileGrid`.
    passes
        Activation passes: 1, or more when input and output together exceed
        the Gbuffer, in which case 1/passes of each is resident at a time.
    macs
        Multiply-accumulates (crossbar or digital).
    weight_bits, activation_bits
        The layer's precision (docs/model.md "Precision"; 0 for weightless ops).
    window_cycles
        Compute cycles of one window through the crossbars at ``activation_bits`` (0 for
        weightless ops).
    """

    index: int
    layer: str
    part: int
    kind: str
    apu_rows: int
    windows: int
    fixed_cycles: int
    in_bytes: int
    out_bytes: int
    tile_offset: int = 0
    passes: int = 1
    macs: int = 0
    weight_bits: int = 0
    activation_bits: int = 0
    window_cycles: int = 0

    @property
    def in_need(self) -> int:
        """Input bytes the Gbuffer must hold at once (R8)."""
        return ceil_div(self.in_bytes, self.passes)

    @property
    def out_need(self) -> int:
        """Output bytes the Gbuffer must hold at once (R8)."""
        return ceil_div(self.out_bytes, self.passes)

    @property
    def spill_bytes(self) -> int:
        """Activation bytes that travel to and from main memory because of passes."""
        return (self.in_bytes + self.out_bytes) - (self.in_need + self.out_need)

    @property
    def weighted(self) -> bool:
        """True when the step computes on crossbars."""
        return self.apu_rows > 0

    @property
    def key(self) -> tuple[str, int]:
        """(layer, part): how schedules refer to the step."""
        return (self.layer, self.part)

    @property
    def serial(self) -> bool:
        """True for a recurrent step: its windows depend on each other, one timestep at a
        time, so replication cannot shorten its compute (docs/model.md)."""
        return self.kind in SERIAL


@dataclass
class Problem:
    """A network mapped onto one hardware configuration.

    Build with :func:`map_network`. ``steps`` is the default compute order
    (the network's topological order, parts of a layer consecutive). ``batch`` inputs run
    through every step together (docs/model.md, "Batch"): the steps' windows, digital cycles,
    MACs and activation bytes are those of the whole batch; APU rows, and so writes, are not.
    """

    network: Network
    hardware: Hardware
    steps: list[Step]
    grids: dict[str, TileGrid]
    lifetimes: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Most copies a layer's parts may run, by layer (a study's cap; see
    #: :class:`formulations.families.ReplicationCap`); other layers are capped by the
    #: hardware alone.
    replication_caps: dict[str, int] = field(default_factory=dict)
    #: Inferences computed together on one written set of weights (1: the paper's setting).
    batch: int = 1
    #: Layers whose precision differs from the hardware's weight and activation bits
    #: (docs/model.md "Precision"); empty: uniform hardware precision (INT8, the paper's).
    precision: dict[str, LayerPrecision] = field(default_factory=dict)
    #: Precisions each layer may take (set by a family that chooses them, e.g.
    #: :class:`formulations.precision.Precision`; empty: the layers keep ``precision``).
    precision_options: dict[str, list[LayerPrecision]] = field(default_factory=dict)
    _remapped: dict[Any, Problem] = field(default_factory=dict, compare=False, repr=False)

    @cached_property
    def by_key(self) -> dict[tuple[str, int], Step]:
        """Steps by (layer, part)."""
        return {s.key: s for s in self.steps}

    @property
    def weighted_steps(self) -> list[Step]:
        """Weight-bearing parts in compute order."""
        return [s for s in self.steps if s.weighted]

    @property
    def total_apu_rows(self) -> int:
        """APU rows of the accelerator."""
        return self.hardware.total_apu_rows

    def max_replication(self, step: Step) -> int:
        """Largest useful replication: the copies fit the accelerator and each gets a window;
        1 for a recurrent step, which further copies cannot speed up."""
        if not step.weighted:
            return 0
        if step.serial:
            return 1
        most = max(1, min(step.windows, self.total_apu_rows // step.apu_rows))
        if self.replication_caps:
            most = max(1, min(most, self.replication_caps.get(step.layer, most)))
        return most

    def with_replication_caps(self, caps: dict[str, int]) -> Problem:
        """This problem with at most ``caps[layer]`` copies of each named layer's parts
        (every heuristic, bound and model reads :meth:`max_replication`)."""
        return replace(self, replication_caps={**self.replication_caps, **caps}, _remapped={})

    def compute_cycles(self, step: Step, replication: int = 1) -> int:
        """Compute cycles of a step at a replication factor (R5).

        ``ceil(windows / replication) x window_cycles`` for a weight-bearing part;
        ``windows x window_cycles`` for a recurrent one at every replication (each
        timestep waits for the previous one, so copies cannot share them out).
        ``window_cycles`` is ``compute_latency_cycles`` at the hardware's activation bits,
        fewer at fewer bits (:func:`aras.model.precision.window_cycles`).
        """
        if not step.weighted:
            return step.fixed_cycles
        if step.serial:
            return step.windows * step.window_cycles
        return ceil_div(step.windows, replication) * step.window_cycles

    def replication_choices(self, step: Step) -> list[int]:
        """The least replication of each distinct compute time of a weight-bearing step,
        increasing (more copies for the same compute only hold more rows)."""
        best: dict[int, int] = {}
        for r in range(1, self.max_replication(step) + 1):
            best.setdefault(self.compute_cycles(step, r), r)
        return sorted(best.values())

    def min_compute_cycles(self, step: Step) -> int:
        """Shortest compute of a step over every feasible replication."""
        return self.compute_cycles(step, self.max_replication(step))

    def tiles(self, step: Step) -> TileGrid:
        """The tiles of one part (a slice of its layer's grid)."""
        g = self.grids[step.layer]
        sl = slice(step.tile_offset, step.tile_offset + step.apu_rows)
        return TileGrid(g.rows_used[sl], g.cols_used[sl])

    @property
    def weight_rows(self) -> int:
        """Sum of APU rows over all parts at replication 1."""
        return sum(s.apu_rows for s in self.steps)

    def reordered(self, keys: list[tuple[str, int]]) -> Problem:
        """The same problem with another compute order (steps re-indexed along it).

        Every method schedules in the order of ``steps``; a schedule of the reordered problem
        names its steps by (layer, part), so it is a schedule of this problem too.

        Raises
        ------
        ValueError
            When ``keys`` is not a permutation of the steps or breaks a dependency (a part
            of a layer before a part of a layer it reads; parts of one layer are independent).
        """
        if sorted(keys) != sorted(self.by_key):
            raise ValueError("reordered: not a permutation of the problem's steps")
        pos = {k: i for i, k in enumerate(keys)}
        first = {k[0]: pos[k] for k in reversed(keys)}
        last = {k[0]: pos[k] for k in keys}
        for op in self.network.ops:
            for src in op.inputs:
                if src in last and last[src] > first[op.name]:
                    raise ValueError(f"reordered: {op.name} before {src}, which it reads")
        steps = [replace(self.by_key[k], index=i) for i, k in enumerate(keys)]
        return replace(self, steps=steps, lifetimes=_lifetimes(self.network, steps), _remapped={},
                       replication_caps=dict(self.replication_caps))

    def unique_order(self) -> bool:
        """True when ``steps`` is the only compute order the DAG allows, up to swapping
        identical parts of a layer (consecutive steps depend on each other or are equal parts
        of one layer), so a result for this order holds for every order."""
        preds = self.network.graph.pred
        for a, b in zip(self.steps, self.steps[1:], strict=False):
            if a.layer in preds[b.layer] or (a.layer == b.layer and a.apu_rows == b.apu_rows):
                continue
            return False
        return True

    def with_smallest_parts(self) -> Problem:
        """Every part of a layer given the layer's smallest part size (a relaxation: any
        schedule of this problem's order and replication fits in fewer rows; parts of a layer
        are then interchangeable, docs/bounds.md "relaxed instance")."""
        small: dict[str, int] = {}
        for s in self.steps:
            small[s.layer] = min(small.get(s.layer, s.apu_rows), s.apu_rows)
        steps = [replace(s, apu_rows=small[s.layer]) for s in self.steps]
        return replace(self, steps=steps, lifetimes=dict(self.lifetimes), _remapped={},
                       replication_caps=dict(self.replication_caps))

    def layer_precision(self, layer: str) -> LayerPrecision:
        """A weight-bearing layer's weight and activation bits."""
        hw = self.hardware
        return self.precision.get(layer, LayerPrecision(hw.weight_bits, hw.activation_bits))

    def with_precision(self, precision: Mapping[str, Any]) -> Problem:
        """This problem with another per-layer precision (every layer not named at the
        hardware's bits), in the same compute order, batch and replication caps.

        The steps are the same (docs/model.md "Precision": a layer keeps its full-precision
        parts); their APU rows, tiles and window cycles are those of the new bits.

        Raises
        ------
        InputError
            Unknown layers or bits out of range (:func:`aras.model.precision.check_precision`).
        """
        key = tuple(sorted(precision.items()))
        if key in self._remapped:
            return self._remapped[key]
        p = map_network(self.network, self.hardware, self.batch, precision)
        order = [s.key for s in self.steps]
        if order != [s.key for s in p.steps]:
            p = p.reordered(order)
        p = replace(p, replication_caps=dict(self.replication_caps),
                    precision_options=dict(self.precision_options), _remapped={})
        if len(self._remapped) < 64:  # (drivers ask for the same few precisions again)
            self._remapped[key] = p
        return p

    def orders(self, limit: int) -> list[list[tuple[str, int]]] | None:
        """Every compute order the DAG allows, up to swapping identical parts of a layer, as
        step keys; None when there are more than ``limit``."""
        by_layer: dict[str, list[Step]] = {}
        for s in self.steps:
            by_layer.setdefault(s.layer, []).append(s)
        graph = self.network.graph
        preds: list[set[int]] = []
        for s in self.steps:
            need = {q.index for name in graph.predecessors(s.layer) for q in by_layer[name]}
            # identical parts of a layer are interchangeable: keep them in index order
            need |= {q.index for q in by_layer[s.layer]
                     if q.part < s.part and q.apu_rows == s.apu_rows}
            preds.append(need)
        out: list[list[tuple[str, int]]] = []
        done: list[int] = []
        placed: set[int] = set()

        def rec() -> bool:
            if len(done) == len(self.steps):
                out.append([self.steps[i].key for i in done])
                return len(out) <= limit
            for s in self.steps:
                i = s.index
                if i not in placed and preds[i] <= placed:
                    done.append(i)
                    placed.add(i)
                    ok = rec()
                    placed.discard(i)
                    done.pop()
                    if not ok:
                        return False
            return True

        return out if rec() else None

    def summary(self) -> dict[str, int | float | str]:
        """Headline figures of the mapping (``batch`` only when more than 1)."""
        hw = self.hardware
        batch = {"batch": self.batch} if self.batch > 1 else {}
        return {
            "network": self.network.name,
            "ops": len(self.network.ops),
            "weighted_layers": len(self.network.weighted_ops),
            "steps": len(self.steps),
            "weights": self.network.weight_count,
            "apu_rows": self.weight_rows,
            "fills": self.weight_rows / hw.total_apu_rows,
            **batch,
        }


def _act_bytes(elements: int, hw: Hardware) -> int:
    return ceil_div(elements * hw.activation_bits, 8)


def split_sizes(total: int, cap: int) -> list[int]:
    """Split ``total`` rows into the fewest parts of at most ``cap`` rows, balanced."""
    n = ceil_div(total, cap)
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def split_count(total: int, n: int) -> list[int]:
    """Split ``total`` rows into ``n`` balanced parts (sizes differ by at most one)."""
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def check_size(network: Network, hardware: Hardware, batch: int = 1) -> None:
    """Refuse, before any array is built, a mapping too large for the machine (docs/model.md).

    The APU rows at replication 1 (each is written at least once, so schedules and the
    evaluator hold an entry per row), the compute steps, and the cycles of the serial
    schedule (every part written, then computed, one after the other: no sensible schedule is
    longer; at ``batch`` inputs together) must stay within
    :data:`~aras.model.limits.MAX_MAPPED_APU_ROWS`,
    :data:`~aras.model.limits.MAX_STEPS` and 2^53.

    Raises
    ------
    InputError
        Naming the largest layer (rows) or the hardware parameters (cycles).
    """
    hw = hardware
    where = f"network '{network.name}' on hardware '{hw.name}'"
    rows = {op.name: apu_rows_of(op, hw) for op in network.weighted_ops}
    total = sum(rows.values())
    if total > MAX_MAPPED_APU_ROWS:
        big = max(rows, key=lambda n: rows[n])
        raise InputError(f"{where}: {shown(total)} APU rows (layer '{big}' alone "
                         f"{shown(rows[big])}), at most {MAX_MAPPED_APU_ROWS:,} (2^23) are "
                         "supported")
    for op in network.weighted_ops:
        if op.serial and rows[op.name] > hw.total_apu_rows:
            # every timestep needs the whole recurrent matrix and the next one its result:
            # parts computed one after the other cannot hold it
            raise InputError(f"{where}: recurrent layer '{op.name}' needs "
                             f"{shown(rows[op.name])} APU rows, more than the "
                             f"{hw.total_apu_rows:,} of the accelerator"
                             + (f" ({len(hw.failed_rows):,} failed)" if hw.failed_rows else "")
                             + "; a recurrent matrix "
                             "must fit at once (every timestep reads all of it)")
    parts = {n: ceil_div(r, hw.total_apu_rows) for n, r in rows.items()}
    steps = len(network.ops) - len(rows) + sum(parts.values())
    if steps > MAX_STEPS:
        raise InputError(f"{where}: {steps:,} compute steps (layers split into parts of at "
                         f"most {hw.total_apu_rows:,} APU rows), at most {MAX_STEPS:,} (2^16) "
                         "are supported")
    cycles = 0
    for op in network.ops:
        if op.weighted:
            windows = windows_of(op, network) * batch
            cycles += sum(ceil_div(size, hw.write_slots) for size in
                          split_sizes(rows[op.name], hw.total_apu_rows)
                          ) * hw.write_latency_cycles
            cycles += parts[op.name] * windows * hw.compute_latency_cycles
        elif op.kind == "matmul":
            cycles += ceil_div(matmul_macs(op, network.input_shapes(op)) * batch,
                               hw.digital_macs_per_cycle)
    if cycles > INT_LIMIT:
        raise InputError(f"{where}: a serial schedule takes {shown(cycles)} cycles, at most "
                         f"{INT_LIMIT:,} (2^53) are supported (see write_latency_cycles, "
                         "compute_latency_cycles, digital_macs_per_cycle)")


def map_network(network: Network, hardware: Hardware, batch: int = 1,
                precision: Mapping[str, Any] | None = None) -> Problem:
    """Map a network onto a hardware configuration.

    A layer needing more APU rows than the accelerator has is split into the
    fewest parts of at most ``total_apu_rows`` rows, balanced (sizes differ by
    at most one); every part computes all windows and reads the whole input,
    and its output accumulates in the layer's output banks.

    Parameters
    ----------
    network, hardware
        What to map, and onto what.
    batch
        Inferences computed together on one written set of weights (docs/model.md,
        "Batch"): ``batch`` times the windows of every weight-bearing step, the MACs and
        cycles of every weightless one and every activation's bytes; the same APU rows.
        1 to :data:`~aras.model.limits.MAX_BATCH`.
    precision
        Weight and activation bits per weight-bearing layer (docs/model.md "Precision"):
        :class:`~aras.model.precision.LayerPrecision` values, ``(weight_bits,
        activation_bits)`` pairs or bare weight bits; layers not named take the hardware's
        ``weight_bits`` and ``activation_bits``. A layer keeps the parts of its
        full-precision size; fewer weight bits give each part fewer APU rows, fewer
        activation bits fewer cycles per window.

    Raises
    ------
    InputError
        When a step's activations cannot fit disjoint Gbuffer banks, the mapping would be
        too large for the machine (:func:`check_size`), ``batch`` is no integer in range, or
        ``precision`` names an unknown layer or bits out of range.
    """
    expect(network, Network, "network", "load one with load_network(name_or_path)")
    expect(hardware, Hardware, "hardware", "load one with load_hardware(name_or_path)")
    hw = hardware
    batch = check_batch(batch)
    check_size(network, hw, batch)
    prec = check_precision(precision or {}, [o.name for o in network.weighted_ops], hw,
                           where=arg_name("precision"))
    full = LayerPrecision(hw.weight_bits, hw.activation_bits)
    steps: list[Step] = []
    grids: dict[str, TileGrid] = {}
    for op in network.ops:
        ins = list(dict.fromkeys(op.inputs))  # the same tensor read twice is stored once
        # a batch's tensor holds its inputs' tensors side by side: batch x the elements
        in_bytes = sum(_act_bytes(network.elements(t) * batch, hw) for t in ins)
        out_bytes = _act_bytes(network.elements(op.name) * batch, hw)
        passes = activation_passes(hw.gbuffer_banks, in_bytes, out_bytes, f"layer '{op.name}'")
        if op.weighted:
            lp = prec.get(op.name, full)
            bits = None if lp.weight_bits == hw.weight_bits else lp.weight_bits
            grid = tile_grid(op, hw, bits)
            rows = apu_rows_of(op, hw, bits)
            assert rows == len(grid), (op.name, rows, len(grid))
            grids[op.name] = grid
            windows = windows_of(op, network) * batch
            wc = window_cycles(lp.activation_bits, hw)
            # parts are those of the full-precision layer, so that a precision never changes
            # the steps (docs/model.md "Precision"); fewer rows than parts only on hardware
            # of fewer APU rows than cells per weight, where each part keeps one row
            n = len(split_sizes(apu_rows_of(op, hw), hw.total_apu_rows)) if lp != full else 0
            sizes = split_sizes(rows, hw.total_apu_rows) if not n else \
                split_count(rows, min(n, rows))
            offset = 0
            for p, size in enumerate(sizes):
                # a recurrent op's dependent passes split one product, so its MACs count
                # the vectors, not the passes
                macs = windows // op.passes * op.weights * size // rows
                steps.append(Step(len(steps), op.name, p, op.kind, size, windows, 0,
                                  in_bytes, out_bytes, offset, passes, macs,
                                  lp.weight_bits, lp.activation_bits, wc))
                offset += size
        else:
            cycles = macs = 0
            if op.kind == "matmul":
                # each input of the batch is its own sequence: its own attention products
                macs = matmul_macs(op, network.input_shapes(op)) * batch
                cycles = ceil_div(macs, hw.digital_macs_per_cycle)
            steps.append(Step(len(steps), op.name, 0, op.kind, 0, 0, cycles, in_bytes, out_bytes,
                              0, passes, macs))
    return Problem(network, hw, steps, grids, _lifetimes(network, steps), batch=batch,
                   precision=prec)


def _lifetimes(network: Network, steps: list[Step]) -> dict[str, tuple[int, int]]:
    """Positions (in this compute order) where each tensor is produced and last read."""
    first = {s.layer: s.index for s in reversed(steps)}
    last = {s.layer: s.index for s in steps}
    lifetimes: dict[str, tuple[int, int]] = {}
    readers: dict[str, list[str]] = {}  # network.consumers(t) of every tensor, in one pass
    for o in network.ops:
        for t in dict.fromkeys(o.inputs):
            readers.setdefault(t, []).append(o.name)
    for t in list(network.inputs) + [o.name for o in network.ops]:
        start = first.get(t, -1)
        consumers = [first[c] for c in readers.get(t, [])]
        lifetimes[t] = (start, max(consumers) if consumers else last.get(t, start))
    return lifetimes


__all__ = ["Problem", "Step", "TileGrid", "map_network", "check_size", "apu_rows_of", "tile_grid",
           "ceil_div", "split_sizes", "split_count", "windows_of"]
