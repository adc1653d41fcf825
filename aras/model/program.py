"""The instruction stream of a schedule: the ``aras-program/1`` file (docs/model.md).

The paper's offline flow ends in "a sequence of instructions for both updating weights,
including the deltas, and computing the operations of each layer" (section IV-A), which the
controller replays for every inference. :func:`lower` turns a schedule of a mapped problem
into that stream:

- the **write procedure**: per physical APU row, its write instructions in the order the row
  executes them (layer, part, tile, start cycle, the delta bytes fetched from DRAM and, with
  real weights, the signed level steps of every cell);
- the **compute procedure**: per compute step, in compute order, its configuration (Gbuffer
  banks, replication, the input and output tensors and their bytes, the reuse center);
- the **synchronisation points** between them: each compute step waits for the writes of its
  part (``waits_for``), and each write waits for the release of its row by the compute step
  that used the row's previous weights (``after``).

:meth:`Program.to_schedule` re-derives the schedule (the round trip schedule -> program ->
schedule is the identity), and ``aras.evaluation.replay`` checks a program against the
evaluator. Everything here needs only the schedule and the mapped problem.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, read_json
from aras.model.limits import INT_LIMIT, integer
from aras.model.mapping import Problem
from aras.model.schedule import Schedule, ScheduledStep, Writes
from aras.model.weights import cell_levels, centred_matrices, tile_values

#: The format written and read.
FORMAT = "aras-program/1"
#: How the schedule gave the tiles of its writes: none named (the k-th write of a part holds
#: tile k mod apu_rows), all named, or some (then each write says whether it named its own).
TILE_MODES = ("implicit", "explicit", "mixed")


@dataclass
class WriteInstr:
    """One APU-row write instruction of the write procedure.

    Attributes
    ----------
    id
        Position of the write in the schedule's write list (the schedule's order, which the
        round trip restores; the row's own order is the program's).
    layer, part
        The compute step whose weights the write brings.
    tile
        Tile of the part written (its index within the part, ``0 <= tile < apu_rows``).
    start
        Start cycle; the write lasts the hardware's ``write_latency_cycles``.
    delta_bytes
        Bytes of deltas fetched from DRAM (``apus_per_row x bytes_per_apu_write``, what the
        evaluator charges as DRAM energy).
    after
        Index of the compute step whose end releases the row for this write (the step of the
        row's previous write), or None for the row's first write of the inference.
    given
        Whether the schedule named the tile (only recorded in ``mixed`` tile mode).
    level_steps
        With real weights: the level steps of the write, ``sum |deltas|``.
    deltas
        With real weights: the signed level change of every cell the tile uses, ``new - old``,
        shape ``(rows_used, cols_used, cells_per_weight)``, row-major, as base64 of the zlib
        compressed little-endian integers of :attr:`Program.delta_dtype`; the pulses of a cell
        are ``|delta| x pulses_per_level_step``.
    """

    id: int
    layer: str
    part: int
    tile: int
    start: int
    delta_bytes: int
    after: int | None
    given: bool | None = None
    level_steps: int | None = None
    deltas: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        d: dict[str, Any] = {"id": self.id, "layer": self.layer, "part": self.part,
                             "tile": self.tile, "start": self.start,
                             "delta_bytes": self.delta_bytes, "after": self.after}
        if self.given is not None:
            d["given"] = self.given
        if self.level_steps is not None:
            d["level_steps"] = self.level_steps
            d["deltas"] = self.deltas
        return d


@dataclass
class RowProgram:
    """The write instructions of one physical APU row, in execution order (by start)."""

    pe: int
    row: int
    writes: list[WriteInstr]


@dataclass
class ComputeInstr:
    """One step of the compute procedure and its configuration.

    Attributes
    ----------
    step
        Position in the compute order (steps run one after the other).
    layer, part, kind
        The op, its part and kind.
    start, end
        Compute cycles ``[start, end)``.
    apu_rows, replication, windows
        APU rows of the part at replication 1, copies written, input vectors streamed.
    banks_in, banks_out, banks_powered
        Gbuffer banks holding the input, the output, and their union (powered from the
        step's start to the next step's start, docs/model.md).
    center
        Reuse center of the layer's weight codes, or None.
    inputs, output
        Tensors read (network inputs or producing ops) and written (the op's name).
    in_bytes, out_bytes, passes
        Activation bytes read and written, and activation passes (> 1: streamed via DRAM).
    waits_for
        Ids of the writes that must end before the compute starts (those of its part).
    """

    step: int
    layer: str
    part: int
    kind: str
    start: int
    end: int
    apu_rows: int
    replication: int
    windows: int
    banks_in: tuple[int, ...]
    banks_out: tuple[int, ...]
    banks_powered: tuple[int, ...]
    center: int | None
    inputs: tuple[str, ...]
    output: str
    in_bytes: int
    out_bytes: int
    passes: int
    waits_for: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"step": self.step, "layer": self.layer, "part": self.part, "kind": self.kind,
                "start": self.start, "end": self.end, "apu_rows": self.apu_rows,
                "replication": self.replication, "windows": self.windows,
                "banks_in": list(self.banks_in), "banks_out": list(self.banks_out),
                "banks_powered": list(self.banks_powered), "center": self.center,
                "inputs": list(self.inputs), "output": self.output, "in_bytes": self.in_bytes,
                "out_bytes": self.out_bytes, "passes": self.passes,
                "waits_for": list(self.waits_for)}


@dataclass
class Program:
    """The instruction stream of one schedule (``aras-program/1``).

    ``schedule_extra`` keeps the schedule's other top-level keys (``network_source``, the
    liveness ``bank_mode`` and ``tensors``, a method's notes) so that the round trip is the
    identity.
    """

    network: str
    method: str
    hardware: dict[str, Any]
    makespan: int
    write_latency_cycles: int
    tiles: str
    pulses: str
    delta_dtype: str | None
    compute: list[ComputeInstr]
    rows: list[RowProgram]
    schedule_extra: dict[str, Any] = field(default_factory=dict)
    #: The count of writes a file declares (None: the rows' count, :attr:`n_writes`).
    declared_writes: int | None = None
    #: Where the program was read from (for messages).
    source: str = field(default="program", compare=False)

    @property
    def n_writes(self) -> int:
        """Write instructions."""
        return sum(len(r.writes) for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The ``aras-program/1`` document."""
        return {**self._head(), "compute": [c.to_dict() for c in self.compute],
                "rows": [_row_dict(r) for r in self.rows]}

    def _head(self) -> dict[str, Any]:
        return {"format": FORMAT, "network": self.network, "method": self.method,
                "hardware": self.hardware, "makespan": self.makespan,
                "write_latency_cycles": self.write_latency_cycles, "tiles": self.tiles,
                "pulses": self.pulses, "delta_dtype": self.delta_dtype,
                "writes": self.n_writes if self.declared_writes is None
                else self.declared_writes, "schedule_extra": self.schedule_extra}

    def save(self, path: str | Path) -> None:
        """Write the program file atomically: one compute step per line, one write per line."""
        head = json.dumps(self._head())[:-1]
        compute = ",\n    ".join(json.dumps(c.to_dict()) for c in self.compute)
        rows = []
        for r in self.rows:
            ws = ",\n      ".join(json.dumps(w.to_dict()) for w in r.writes)
            rows.append(f'{{"pe": {r.pe}, "row": {r.row}, "writes": [\n      {ws}\n    ]}}')
        text = (f'{head},\n  "compute": [\n    {compute}\n  ],\n  "rows": [\n    '
                + ",\n    ".join(rows) + "\n  ]\n}\n")
        atomic_write_text(path, text)

    def to_schedule(self) -> Schedule:
        """The schedule the program was lowered from (writes in the schedule's order, by id).

        Raises
        ------
        InputError
            A write names a layer/part that no compute step computes, or two writes share an
            id.
        """
        steps = [ScheduledStep(c.layer, c.part, c.apu_rows, c.replication, c.windows, c.start,
                               c.end, c.banks_in, c.banks_out, c.center) for c in self.compute]
        known = {(c.layer, c.part) for c in self.compute}
        flat: list[tuple[int, int, int, WriteInstr]] = []
        for i, r in enumerate(self.rows):
            for j, w in enumerate(r.writes):
                if (w.layer, w.part) not in known:
                    raise InputError(f"{self.source}: rows[{i}].writes[{j}].layer: "
                                     f"{w.layer}/{w.part} is not "
                                     "a compute step of the program")
                flat.append((w.id, r.pe, r.row, w))
        flat.sort(key=lambda x: x[0])
        for a, b in zip(flat, flat[1:], strict=False):
            if a[0] == b[0]:
                raise InputError(f"{self.source}: rows: write id {a[0]} appears twice")
        explicit = self.tiles == "explicit"
        writes = Writes.from_lists(
            [w.layer for _, _, _, w in flat], [w.part for _, _, _, w in flat],
            [pe for _, pe, _, _ in flat], [row for _, _, row, _ in flat],
            [w.start for _, _, _, w in flat],
            [w.tile if explicit or (self.tiles == "mixed" and w.given) else -1
             for _, _, _, w in flat])
        return Schedule(self.network, self.method, self.hardware, steps, writes, self.makespan,
                        extra=dict(self.schedule_extra))

    @classmethod
    def load(cls, path: str | Path) -> Program:
        """Read a program file through the shared JSON reader.

        Raises
        ------
        InputError
            Missing or malformed file, a field missing or of the wrong type, a number out of
            range (one line naming the field).
        """
        return cls.from_dict(read_json(path, "program"), source=str(path))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "program") -> Program:
        """Parse an ``aras-program/1`` document; malformed structure raises InputError."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object")
        if data.get("format") != FORMAT:
            raise InputError(f"{source}: format must be '{FORMAT}', got {data.get('format')!r}")
        for key, typ in (("network", str), ("method", str), ("hardware", dict),
                         ("tiles", str), ("pulses", str), ("compute", list), ("rows", list),
                         ("schedule_extra", dict)):
            if not isinstance(data.get(key), typ):
                raise InputError(f"{source}: field '{key}' missing or not a {typ.__name__}")
        if data["tiles"] not in TILE_MODES:
            raise InputError(f"{source}: tiles: must be one of {', '.join(TILE_MODES)}, got "
                             f"{data['tiles']!r}")
        if data["pulses"] not in ("weights", "none"):
            raise InputError(f"{source}: pulses: must be 'weights' or 'none', got "
                             f"{data['pulses']!r}")
        dtype = data.get("delta_dtype")
        if data["pulses"] == "weights" and dtype not in _DTYPES:
            raise InputError(f"{source}: delta_dtype: must be one of {', '.join(_DTYPES)}, got "
                             f"{dtype!r}")
        nonneg = dict(lo=0)
        makespan = integer(data.get("makespan"), f"{source}: makespan", **nonneg)
        wl = integer(data.get("write_latency_cycles"), f"{source}: write_latency_cycles",
                     **nonneg)
        # the count of writes is informational: the replayer compares it with the rows'
        declared = integer(data.get("writes"), f"{source}: writes", **nonneg)
        n_steps = len(data["compute"])
        compute = [_compute(c, f"{source}: compute[{i}]", i)
                   for i, c in enumerate(data["compute"])]
        rows = [_row(r, f"{source}: rows[{i}]", n_steps, data["tiles"], data["pulses"])
                for i, r in enumerate(data["rows"])]
        return cls(network=data["network"], method=data["method"], hardware=data["hardware"],
                   makespan=makespan, write_latency_cycles=wl, tiles=data["tiles"],
                   pulses=data["pulses"], delta_dtype=dtype if data["pulses"] == "weights"
                   else None, compute=compute, rows=rows,
                   schedule_extra=data["schedule_extra"], declared_writes=declared,
                   source=source)


#: Integer types of the cell deltas, by name (little-endian).
_DTYPES = {"int8": "<i1", "int16": "<i2", "int32": "<i4"}


def delta_dtype(bits_per_cell: int) -> str:
    """The smallest signed type that holds a cell's level change, +-(2^bits - 1)."""
    return "int8" if bits_per_cell <= 7 else "int16" if bits_per_cell <= 15 else "int32"


def encode_deltas(delta: np.ndarray, dtype: str) -> str:
    """``delta`` as base64 of its zlib-compressed little-endian integers."""
    raw = np.ascontiguousarray(delta, dtype=_DTYPES[dtype]).tobytes()
    return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")


def decode_deltas(text: str, dtype: str, where: str = "deltas") -> np.ndarray:
    """The flat cell deltas of :func:`encode_deltas` (malformed text is an InputError)."""
    try:
        raw = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, zlib.error, UnicodeEncodeError, ValueError) as exc:
        raise InputError(f"{where}: not base64 of zlib data ({exc})") from None
    size = np.dtype(_DTYPES[dtype]).itemsize
    if len(raw) % size:
        raise InputError(f"{where}: {len(raw)} bytes is not a whole number of {dtype}")
    return np.frombuffer(raw, dtype=_DTYPES[dtype]).astype(np.int64)


# --------------------------------------------------------------------------- lowering

def lower(problem: Problem, sched: Schedule, *,
          weights: Mapping[str, np.ndarray] | None = None, zero_code: int | None = None
          ) -> Program:
    """The instruction stream of a schedule of ``problem``.

    The schedule should be valid (the evaluator's job; ``aras program`` checks it first):
    lowering only needs every write to name a computed part, and on an invalid schedule it
    describes what the schedule says.

    Parameters
    ----------
    problem
        The mapped network.
    sched
        The schedule.
    weights
        Real unsigned weight codes per layer (as for the evaluator); with them every write
        carries its cells' level changes, in the steady state (a row's first write overwrites
        its last one of the previous inference, as the evaluator counts pulses).
    zero_code
        Code of a zero weight off the diagonal of block-diagonal tiles (default
        ``2**(weight_bits-1)``).

    Returns
    -------
    Program
        Compute steps in the schedule's order, rows by (pe, row), each row's writes by start
        (ties in the schedule's order).

    Raises
    ------
    InputError
        A step or write names no part of the problem, the weights do not fit the layers, or
        layers run at other bits than the hardware's (the program's cell deltas are laid
        out per weight of the hardware's cells; docs/model.md "Precision").
    """
    hw = problem.hardware
    if problem.precision:
        raise InputError("precision: programs of layers at per-layer precision are not "
                         "supported (the cell deltas assume the hardware's cells per weight)")
    steps = sched.steps
    pos: dict[tuple[str, int], int] = {}
    for i, s in enumerate(steps):
        if (s.layer, s.part) not in problem.by_key:
            raise InputError(f"steps[{i}].layer: {s.layer}/{s.part} is not a part of "
                             f"network '{problem.network.name}'")
        pos.setdefault((s.layer, s.part), i)
    w = sched.writes
    n = len(w)
    wstep = np.empty(n, dtype=np.int64)
    for j, key in enumerate(zip(w.layer.tolist(), w.part.tolist(), strict=True)):
        k = pos.get(key, -1)
        if k < 0:
            raise InputError(f"writes[{j}]: {key[0]}/{key[1]} is not a computed part")
        wstep[j] = k
    # The tile of each write: explicit, or its rank among its part's writes modulo apu_rows.
    by_step = np.argsort(wstep, kind="stable")
    ws = wstep[by_step]
    group = np.flatnonzero(np.r_[True, ws[1:] != ws[:-1]]) if n else np.zeros(0, np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[by_step] = np.arange(n) - np.repeat(group, np.diff(np.r_[group, n]))
    rows_of = np.array([problem.by_key[(s.layer, s.part)].apu_rows for s in steps] or [1],
                       dtype=np.int64)
    tile = rank % np.maximum(rows_of, 1)[wstep] if n else rank
    given = w.tile >= 0
    tile[given] = w.tile[given]
    mode = "explicit" if n and given.all() else "mixed" if given.any() else "implicit"
    # Rows, and each row's writes by start (stable: ties keep the schedule's order).
    rowid = w.pe * hw.apu_rows_per_pe + w.row
    order = np.lexsort((np.arange(n), w.start, rowid))
    r_sorted = rowid[order]
    first = np.r_[True, r_sorted[1:] != r_sorted[:-1]] if n else np.zeros(0, bool)
    after = np.full(n, -1, dtype=np.int64)  # by schedule index
    prev = np.empty(n, dtype=np.int64)
    if n:
        prev[1:] = wstep[order[:-1]]
        prev[first] = -1
        after[order] = prev
    deltas: dict[int, np.ndarray] = {}
    dtype = None
    if weights is not None:
        dtype = delta_dtype(hw.bits_per_cell)
        deltas = _cell_deltas(problem, sched, wstep, tile, order, first, weights, zero_code)
    delta_bytes = hw.apus_per_row * hw.bytes_per_apu_write
    layer, part, start = w.layer.tolist(), w.part.tolist(), w.start.tolist()
    tiles, afters, pes, rws = tile.tolist(), after.tolist(), w.pe.tolist(), w.row.tolist()
    givens = given.tolist()
    rows: list[RowProgram] = []
    for j, head in zip(order.tolist(), first.tolist(), strict=True):
        if head:
            rows.append(RowProgram(pes[j], rws[j], []))
        instr = WriteInstr(j, layer[j], part[j], tiles[j], start[j], delta_bytes,
                           None if afters[j] < 0 else afters[j],
                           givens[j] if mode == "mixed" else None)
        if weights is not None:
            d = deltas[j]
            instr.level_steps = int(np.abs(d).sum())
            instr.deltas = encode_deltas(d, dtype or "int8")
        rows[-1].writes.append(instr)
    waits: list[list[int]] = [[] for _ in steps]
    for j, k in enumerate(wstep.tolist()):
        waits[k].append(j)
    compute = []
    for i, s in enumerate(steps):
        ps = problem.by_key[(s.layer, s.part)]
        op = problem.network.op(s.layer)
        compute.append(ComputeInstr(
            i, s.layer, s.part, ps.kind, s.start, s.end, s.apu_rows, s.replication, s.windows,
            tuple(s.banks_in), tuple(s.banks_out),
            tuple(sorted(set(s.banks_in) | set(s.banks_out))), s.center,
            tuple(dict.fromkeys(op.inputs)), op.name, ps.in_bytes, ps.out_bytes, ps.passes,
            tuple(waits[i])))
    return Program(sched.network, sched.method, sched.hardware, int(sched.makespan),
                   hw.write_latency_cycles, mode, "weights" if weights is not None else "none",
                   dtype, compute, rows, schedule_extra=dict(sched.extra))


def _cell_deltas(problem: Problem, sched: Schedule, wstep: np.ndarray, tile: np.ndarray,
                 order: np.ndarray, first: np.ndarray, weights: Mapping[str, np.ndarray],
                 zero_code: int | None) -> dict[int, np.ndarray]:
    """Signed level change of every used cell of every write (by schedule index).

    As the evaluator counts exact pulses: each row replays its writes in time order twice,
    once to reach the steady state the previous inference leaves, once to record.
    """
    hw = problem.hardware
    R, K, C = hw.crossbar_rows, hw.kernels_per_apu_row, hw.cells_per_weight
    fill = zero_code if zero_code is not None else 1 << (hw.weight_bits - 1)
    matrices = centred_matrices(
        problem.network,
        [(s.layer, s.center) for s in sched.steps if problem.by_key[(s.layer, s.part)].weighted],
        weights, hw.weight_bits)
    out: dict[int, np.ndarray] = {}
    heads = np.flatnonzero(first).tolist() + [len(order)]
    for a, b in zip(heads[:-1], heads[1:], strict=True):
        state = np.full((R, K, C), -1, dtype=np.int64)
        levels = []
        for j in order[a:b].tolist():
            s = sched.steps[int(wstep[j])]
            ps = problem.by_key[(s.layer, s.part)]
            if not (ps.weighted and 0 <= tile[j] < ps.apu_rows):  # an invalid schedule's
                out[j] = np.zeros(0, dtype=np.int64)  # write: no cells (the evaluator says)
                continue
            vals = tile_values(matrices[(s.layer, s.center)], ps.tile_offset + int(tile[j]),
                               R, K, fill)
            levels.append((j, cell_levels(vals, hw).astype(np.int64)))
        for counting in (False, True):
            for j, lv in levels:
                r, k = lv.shape[:2]
                if counting:
                    out[j] = (lv - state[:r, :k]).ravel()
                state[:r, :k] = lv
    return out


# --------------------------------------------------------------------------- parsing

def _str(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise InputError(f"{where}: must be a string, got {v!r}")
    return v


def _ints(v: Any, where: str, lo: int = 0) -> tuple[int, ...]:
    if not isinstance(v, list):
        raise InputError(f"{where}: must be a list of integers, got {type(v).__name__}")
    return tuple(integer(x, f"{where}[{i}]", lo=lo) for i, x in enumerate(v))


def _obj(v: Any, where: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise InputError(f"{where}: must be an object")
    for k in keys:
        if k not in v:
            raise InputError(f"{where}.{k}: missing")
    return v


_COMPUTE_KEYS = ("step", "layer", "part", "kind", "start", "end", "apu_rows", "replication",
                 "windows", "banks_in", "banks_out", "banks_powered", "center", "inputs",
                 "output", "in_bytes", "out_bytes", "passes", "waits_for")
_WRITE_KEYS = ("id", "layer", "part", "tile", "start", "delta_bytes", "after")


def _compute(c: Any, where: str, i: int) -> ComputeInstr:
    d = _obj(c, where, _COMPUTE_KEYS)

    def num(k: str, lo: int = 0) -> int:
        return integer(d[k], f"{where}.{k}", lo=lo)

    step = num("step")
    if step != i:
        raise InputError(f"{where}.step: {step}, the step's position is {i}")
    center = d["center"]
    inputs = d["inputs"]
    if not isinstance(inputs, list):
        raise InputError(f"{where}.inputs: must be a list of tensor names")
    return ComputeInstr(
        step, _str(d["layer"], f"{where}.layer"), num("part"), _str(d["kind"], f"{where}.kind"),
        num("start"), num("end"), num("apu_rows"), num("replication"), num("windows"),
        _ints(d["banks_in"], f"{where}.banks_in"), _ints(d["banks_out"], f"{where}.banks_out"),
        _ints(d["banks_powered"], f"{where}.banks_powered"),
        None if center is None else integer(center, f"{where}.center", lo=-INT_LIMIT),
        tuple(_str(t, f"{where}.inputs[{k}]") for k, t in enumerate(inputs)),
        _str(d["output"], f"{where}.output"), num("in_bytes"), num("out_bytes"),
        num("passes", 1), _ints(d["waits_for"], f"{where}.waits_for"))


def _row(r: Any, where: str, n_steps: int, tiles: str, pulses: str) -> RowProgram:
    d = _obj(r, where, ("pe", "row", "writes"))
    if not isinstance(d["writes"], list):
        raise InputError(f"{where}.writes: must be a list")
    out = RowProgram(integer(d["pe"], f"{where}.pe", lo=0),
                     integer(d["row"], f"{where}.row", lo=0), [])
    keys = _WRITE_KEYS + (("given",) if tiles == "mixed" else ()) + (
        ("level_steps", "deltas") if pulses == "weights" else ())
    for j, x in enumerate(d["writes"]):
        at = f"{where}.writes[{j}]"
        w = _obj(x, at, keys)
        after = w["after"]
        instr = WriteInstr(
            integer(w["id"], f"{at}.id", lo=0), _str(w["layer"], f"{at}.layer"),
            integer(w["part"], f"{at}.part", lo=0), integer(w["tile"], f"{at}.tile", lo=0),
            integer(w["start"], f"{at}.start", lo=0),
            integer(w["delta_bytes"], f"{at}.delta_bytes", lo=0),
            None if after is None else integer(after, f"{at}.after", lo=0, hi=n_steps - 1))
        if tiles == "mixed":
            if not isinstance(w["given"], bool):
                raise InputError(f"{at}.given: must be true or false, got {w['given']!r}")
            instr.given = w["given"]
        if pulses == "weights":
            instr.level_steps = integer(w["level_steps"], f"{at}.level_steps", lo=0)
            instr.deltas = _str(w["deltas"], f"{at}.deltas")
        out.writes.append(instr)
    return out


def _row_dict(r: RowProgram) -> dict[str, Any]:
    return {"pe": r.pe, "row": r.row, "writes": [w.to_dict() for w in r.writes]}


__all__ = ["FORMAT", "Program", "RowProgram", "ComputeInstr", "WriteInstr", "lower",
           "encode_deltas", "decode_deltas", "delta_dtype"]
