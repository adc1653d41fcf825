"""Schedules and the ``aras-schedule`` JSON file (MODEL.md section 5, docs/model.md).

A :class:`Schedule` lists compute steps in compute order and every APU-row
write. Writes are stored column-wise (NumPy arrays) because real schedules
hold millions of them and the evaluator checks them vectorised.
The k-th write of a part (in file order) holds tile ``k mod apu_rows`` of that
part, unless the optional ``tile`` key names the tile explicitly.

Files are written as ``aras-schedule/2``: the writes as columns (one JSON array
per field, the layer and part as runs), which reads at millions of writes per
second; ``aras-schedule/1`` files (one JSON object per write) are still read.
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, parse_json, read_text
from aras.model.limits import INT_LIMIT, MAX_BATCH, integer, shown
from aras.model.precision import LayerPrecision, from_document

try:  # a declared dependency; the standard library's json does the same work, slower
    import orjson
except ImportError:  # pragma: no cover
    orjson = None  # type: ignore[assignment]

#: The format written.
FORMAT = "aras-schedule/2"
#: The first format (writes as records), still read.
FORMAT_V1 = "aras-schedule/1"


@dataclass
class ScheduledStep:
    """One compute step of a schedule (a row of the file's ``steps``)."""

    layer: str
    part: int
    apu_rows: int
    replication: int
    windows: int
    start: int
    end: int
    banks_in: tuple[int, ...] = ()
    banks_out: tuple[int, ...] = ()
    center: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"layer": self.layer, "part": self.part, "apu_rows": self.apu_rows,
                "replication": self.replication, "windows": self.windows,
                "start": self.start, "end": self.end, "banks_in": list(self.banks_in),
                "banks_out": list(self.banks_out), "center": self.center}


class Writes:
    """All APU-row writes, column-wise. ``tile`` is -1 where the file gives none.

    The layer and part of each write (``layer``, ``part``) may be held as runs of
    consecutive writes of one part (:meth:`from_runs`: schedule files and the schedulers
    give them so) and are then only expanded to one entry per write when asked for; once
    expanded, the arrays are the writes' layers and parts (they may be edited in place).
    """

    def __init__(self, layer: np.ndarray | None = None, part: np.ndarray | None = None,
                 pe: np.ndarray | None = None, row: np.ndarray | None = None,
                 start: np.ndarray | None = None, tile: np.ndarray | None = None):
        def col(a: np.ndarray | None, dtype: Any) -> np.ndarray:
            return np.array([], dtype=dtype) if a is None else a

        self._layer: np.ndarray | None = col(layer, object)
        self._part: np.ndarray | None = col(part, np.int64)
        #: (layer names, parts, counts) of the runs, while layer and part are not expanded
        self._runs: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.pe = col(pe, np.int64)
        self.row = col(row, np.int64)
        self.start = col(start, np.int64)
        self.tile = col(tile, np.int64)

    @classmethod
    def from_runs(cls, names: np.ndarray, parts: np.ndarray, counts: np.ndarray,
                  pe: np.ndarray, row: np.ndarray, start: np.ndarray, tile: np.ndarray
                  ) -> Writes:
        """Writes whose layers and parts are ``counts`` repeats of ``names`` and ``parts``
        (object and int64 arrays, one entry per run)."""
        w = cls(pe=pe, row=row, start=start, tile=tile)
        keep = counts > 0
        names, parts, counts = names[keep], parts[keep], counts[keep]
        # adjacent runs of one part are one run (as the arrays would show it)
        head = np.ones(len(names), dtype=bool)
        head[1:] = (names[1:] != names[:-1]) | (parts[1:] != parts[:-1])
        if not head.all():
            at = np.flatnonzero(head)
            names, parts, counts = names[at], parts[at], np.add.reduceat(counts, at)
        w._layer = w._part = None
        w._runs = (names, parts, counts)
        return w

    def _expand(self) -> None:
        if self._runs is not None:
            names, parts, counts = self._runs
            self._layer, self._part = np.repeat(names, counts), np.repeat(parts, counts)
            self._runs = None

    @property
    def layer(self) -> np.ndarray:
        """The layer of every write (object array of str)."""
        self._expand()
        assert self._layer is not None
        return self._layer

    @layer.setter
    def layer(self, value: np.ndarray) -> None:
        self._expand()
        self._layer = value

    @property
    def part(self) -> np.ndarray:
        """The part of every write."""
        self._expand()
        assert self._part is not None
        return self._part

    @part.setter
    def part(self, value: np.ndarray) -> None:
        self._expand()
        self._part = value

    def run_table(self) -> tuple[np.ndarray, list[str], list[int], np.ndarray]:
        """The runs of consecutive writes of one part: first write of each, its layer and
        part, and the writes in it."""
        n = len(self)
        if self._runs is not None:
            names, parts, counts = self._runs
            heads = np.zeros(len(counts), dtype=np.int64)
            np.cumsum(counts[:-1], out=heads[1:])
            return heads, names.tolist(), parts.tolist(), counts
        layer, part = self.layer, self.part
        head = np.ones(n, dtype=bool)
        if n > 1:
            head[1:] = (layer[1:] != layer[:-1]) | (part[1:] != part[:-1])
        heads = np.flatnonzero(head)
        return heads, layer[heads].tolist(), part[heads].tolist(), np.diff(np.r_[heads, n])

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def from_lists(cls, layer: list[str], part: list[int], pe: list[int], row: list[int],
                   start: list[int], tile: list[int] | None = None) -> Writes:
        """Build from parallel lists."""
        n = len(layer)
        return cls(layer=np.array(layer, dtype=object), part=np.array(part, dtype=np.int64),
                   pe=np.array(pe, dtype=np.int64), row=np.array(row, dtype=np.int64),
                   start=np.array(start, dtype=np.int64),
                   tile=np.array(tile if tile is not None else [-1] * n, dtype=np.int64))

    def columns(self) -> dict[str, Any]:
        """The ``aras-schedule/2`` columns: ``runs`` of ``[layer, part, count]`` consecutive
        writes, then one column per field (``tile`` only when some write names its tile, null
        where it does not): an array with a value per write or, when that is at most half as
        long, ``{"values": [...], "repeats": [...]}`` (run-length encoded)."""
        d: dict[str, Any] = {"runs": self.runs()}
        for k, col in self._columns().items():
            d[k] = ({c: _tolist(a) for c, a in col.items()} if isinstance(col, dict)
                    else _tolist(col))
        return d

    def _columns(self) -> dict[str, Any]:
        """The columns of :meth:`columns` as NumPy arrays (``tile``: a list, with nulls)."""
        d = {k: _encode(getattr(self, k)) for k in ("pe", "row", "start")}
        if (self.tile >= 0).any():
            d["tile"] = _encode(self.tile, nulls=True)
        return d

    def runs(self) -> list[list[Any]]:
        """``[layer, part, count]`` for every run of consecutive writes of one part."""
        _, names, parts, counts = self.run_table()
        return [[str(a), int(b), c] for a, b, c in zip(names, parts, counts.tolist(),
                                                          strict=True)]

    def records(self) -> list[dict[str, Any]]:
        """JSON records (``tile`` only where it was given)."""
        out = []
        for i in range(len(self)):
            d: dict[str, Any] = {"layer": str(self.layer[i]), "part": int(self.part[i]),
                                 "pe": int(self.pe[i]), "row": int(self.row[i]),
                                 "start": int(self.start[i])}
            if self.tile[i] >= 0:
                d["tile"] = int(self.tile[i])
            out.append(d)
        return out


class WriteLog:
    """Append-only builder of :class:`Writes` used by the schedulers.

    The integers go to typed arrays (8 bytes each, not a list slot and an int object: a
    Llama-2-70B solve logs 4 million writes), and the layer and part of consecutive writes
    as runs; :meth:`freeze` hands the arrays' memory to NumPy without copying it.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[str, int]] = []  # (layer, part) of each run
        self.counts: list[int] = []  # writes in each run
        self.pe = array("q")
        self.row = array("q")
        self.start = array("q")

    def __len__(self) -> int:
        return len(self.start)

    def _run(self, layer: str, part: int, n: int) -> None:
        if self.runs and self.runs[-1][1] == part and self.runs[-1][0] == layer:
            self.counts[-1] += n
        else:
            self.runs.append((layer, part))
            self.counts.append(n)

    def add(self, layer: str, part: int, pe: int, row: int, start: int) -> None:
        """Record one write."""
        self._run(layer, part, 1)
        self.pe.append(pe)
        self.row.append(row)
        self.start.append(start)

    def extend(self, layer: str, part: int, pe: list[int], row: list[int],
               start: list[int]) -> None:
        """Record writes of one part (parallel lists)."""
        if not pe:
            return
        self._run(layer, part, len(pe))
        self.pe.extend(pe)
        self.row.extend(row)
        self.start.extend(start)

    def freeze(self) -> Writes:
        """The writes as arrays (the log is not to be extended afterwards: the integer
        arrays share its memory)."""
        n = len(self)
        names = np.empty(len(self.runs), dtype=object)
        names[:] = [r[0] for r in self.runs]
        def col(a: array) -> np.ndarray:
            return np.frombuffer(a, dtype=np.int64) if n else np.zeros(0, dtype=np.int64)

        return Writes.from_runs(
            names, np.array([r[1] for r in self.runs], dtype=np.int64),
            np.array(self.counts, dtype=np.int64), pe=col(self.pe), row=col(self.row),
            start=col(self.start), tile=np.full(n, -1, dtype=np.int64))


@dataclass
class Schedule:
    """A complete schedule: compute steps in order and every write.

    ``makespan`` is what the producing method claims; the evaluator recomputes
    it from the steps and reports a mismatch.
    """

    network: str
    method: str
    hardware: dict[str, Any]
    steps: list[ScheduledStep]
    writes: Writes
    makespan: int
    extra: dict[str, Any] = field(default_factory=dict)
    #: Run-time facts of the method (timings, traces): reported, never written to the file,
    #: so that the same decisions give the same file.
    runtime_info: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def batch(self) -> int | None:
        """Inferences the schedule computes together, as its file states (``batch``, written
        when more than 1); None when it states none (docs/model.md, "Batch")."""
        b = self.extra.get("batch")
        return None if b is None else int(b)

    @property
    def precision(self) -> dict[str, LayerPrecision] | None:
        """Per-layer precision the schedule states (``precision``: layer -> ``[weight_bits,
        activation_bits]``, written for the layers at other bits than the hardware's); None
        when it states none (docs/model.md "Precision")."""
        p = self.extra.get("precision")
        return None if p is None else from_document(p, "precision")

    def to_dict(self, version: int = 2) -> dict[str, Any]:
        """The ``aras-schedule/2`` document (``version=1``: ``aras-schedule/1``, writes as
        records)."""
        _check_version(version)
        d: dict[str, Any] = {"format": FORMAT if version == 2 else FORMAT_V1,
                             "network": self.network, "method": self.method,
                             "hardware": self.hardware,
                             "steps": [s.to_dict() for s in self.steps],
                             "writes": self.writes.columns() if version == 2
                             else self.writes.records(), "makespan": int(self.makespan)}
        for k, v in self.extra.items():
            d.setdefault(k, v)
        return d

    def save(self, path: str | Path, version: int = 2) -> None:
        """Write the schedule file: one step per line, then one line per write column
        (``version=1``: ``aras-schedule/1``, one write per line)."""
        _check_version(version)
        head: dict[str, Any] = {"format": FORMAT if version == 2 else FORMAT_V1,
                                "network": self.network, "method": self.method,
                                "hardware": self.hardware}
        for k, v in self.extra.items():
            if k not in ("steps", "writes", "makespan"):
                head.setdefault(k, v)
        steps = ",\n    ".join(_dumps(s.to_dict()) for s in self.steps)
        w = self.writes
        if version == 2:
            runs = ",\n      ".join(_dumps(r) for r in w.runs())
            lines = [f'"runs": [\n      {runs}\n    ]'] + [
                f'"{k}": {_dumps_column(col)}' for k, col in w._columns().items()]
            writes = "{\n    " + ",\n    ".join(lines) + "\n  }"
        else:
            writes = "[\n    " + ",\n    ".join(_dumps(x) for x in w.records()) + "\n  ]"
        text = (f'{_dumps(head)[:-1]},\n  "steps": [\n    {steps}\n  ],\n  "writes": {writes},'
                f'\n  "makespan": {int(self.makespan)}\n}}\n')
        atomic_write_text(path, text)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schedule", _no_bools: bool = False
                  ) -> Schedule:
        """Parse a schedule document (either format); malformed structure raises
        :class:`InputError`.

        ``_no_bools``: the caller knows that the document holds no JSON ``true``/``false``
        (:meth:`load` looks at the bytes), so the columns need no per-value type check.
        """
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object")
        if data.get("format") not in (FORMAT_V1, FORMAT):
            raise InputError(f"{source}: format must be '{FORMAT_V1}' or '{FORMAT}', got "
                             f"{data.get('format')!r}")
        columnar = data["format"] == FORMAT
        for key, typ in (("network", str), ("method", str), ("hardware", dict),
                         ("steps", list), ("writes", dict if columnar else list)):
            if not isinstance(data.get(key), typ):
                raise InputError(f"{source}: field '{key}' missing or not a {typ.__name__}")
        makespan = _int(data.get("makespan"), f"{source}: makespan")
        steps = []
        for i, s in enumerate(data["steps"]):
            where = f"{source}: steps[{i}]"
            if not isinstance(s, dict):
                raise InputError(f"{where}: must be an object")
            layer = s.get("layer")
            if not isinstance(layer, str):
                raise InputError(f"{where}.layer: must be a string")
            center = s.get("center")
            steps.append(ScheduledStep(
                layer=layer, part=_int(s.get("part"), f"{where}.part"),
                apu_rows=_int(s.get("apu_rows"), f"{where}.apu_rows"),
                replication=_int(s.get("replication"), f"{where}.replication"),
                windows=_int(s.get("windows"), f"{where}.windows"),
                start=_int(s.get("start"), f"{where}.start"),
                end=_int(s.get("end"), f"{where}.end"),
                banks_in=tuple(_int_list(s.get("banks_in", []), f"{where}.banks_in")),
                banks_out=tuple(_int_list(s.get("banks_out", []), f"{where}.banks_out")),
                center=None if center is None else _int(center, f"{where}.center")))
        if columnar:
            writes = _writes_v2(data["writes"], f"{source}: writes", not _no_bools)
        else:
            writes = _writes_v1(data["writes"], source)
        known = {"format", "network", "method", "hardware", "steps", "writes", "makespan"}
        extra = {k: v for k, v in data.items() if k not in known}
        if "batch" in extra:
            integer(extra["batch"], f"{source}: batch", lo=1, hi=MAX_BATCH)
        if "precision" in extra:
            from_document(extra["precision"], f"{source}: precision")
        return cls(network=data["network"], method=data["method"], hardware=data["hardware"],
                   steps=steps, writes=writes, makespan=makespan, extra=extra)

    @classmethod
    def load(cls, path: str | Path) -> Schedule:
        """Read a schedule file (``aras-schedule/2`` or ``/1``).

        Raises
        ------
        InputError
            Missing file, malformed JSON or a field of the wrong type.
        """
        p = Path(path)
        text = read_text(p, "schedule", "JSON")  # missing, a directory, not UTF-8: one line
        try:
            if orjson is None:
                raise ValueError("no orjson")
            data = orjson.loads(text)
        except ValueError:
            # orjson refuses NaN and Infinity and deep nesting: the shared parser then reads
            # it as every input file (the field checks name a NaN; one line for the rest)
            data = parse_json(text, str(p))
        return cls.from_dict(data, source=str(p),
                             _no_bools=text.find("true") < 0 and text.find("false") < 0)


def _writes_v1(records: list[Any], source: str) -> Writes:
    """The writes of an ``aras-schedule/1`` file: one object per write."""
    cols: dict[str, list[Any]] = {k: [] for k in ("layer", "part", "pe", "row", "start",
                                                   "tile")}
    for i, w in enumerate(records):
        where = f"{source}: writes[{i}]"
        if not isinstance(w, dict):
            raise InputError(f"{where}: must be an object")
        if not isinstance(w.get("layer"), str):
            raise InputError(f"{where}.layer: must be a string")
        cols["layer"].append(w["layer"])
        for k in ("part", "pe", "row", "start"):
            cols[k].append(_int(w.get(k), f"{where}.{k}"))
        t = w.get("tile")
        cols["tile"].append(-1 if t is None else _int(t, f"{where}.tile", lo=0))
    return Writes.from_lists(cols["layer"], cols["part"], cols["pe"], cols["row"],
                             cols["start"], cols["tile"])


def _writes_v2(data: dict[str, Any], where: str, check_bools: bool) -> Writes:
    """The writes of an ``aras-schedule/2`` file: runs of ``[layer, part, count]`` and one
    integer array per field, as strict as the records of version 1."""
    runs = data.get("runs")
    if not isinstance(runs, list):
        raise InputError(f"{where}.runs: missing or not a list")
    names: list[str] = []
    parts: list[int] = []
    counts: list[int] = []
    for i, r in enumerate(runs):
        at = f"{where}.runs[{i}]"
        if not (isinstance(r, list) and len(r) == 3):
            raise InputError(f"{at}: must be [layer, part, count]")
        if not isinstance(r[0], str):
            raise InputError(f"{at}: layer must be a string, got {r[0]!r}")
        parts.append(_int(r[1], f"{at}: part"))
        count = _int(r[2], f"{at}: count")
        if count < 0:
            raise InputError(f"{at}: count must be >= 0, got {count}")
        names.append(r[0])
        counts.append(count)
    n = sum(counts)
    cols = {}
    for k in ("pe", "row", "start", "tile"):
        v = data.get(k)
        if k == "tile" and v is None:
            cols[k] = np.full(n, -1, dtype=np.int64)
            continue
        cols[k] = _decode(v, f"{where}.{k}", check_bools, nulls=k == "tile")
        if len(cols[k]) != n:
            raise InputError(f"{where}.{k}: {len(cols[k])} values, the runs hold {n} writes")
    layers = np.empty(len(names), dtype=object)
    layers[:] = names
    return Writes.from_runs(layers, np.array(parts, dtype=np.int64),
                            np.array(counts, dtype=np.int64), pe=cols["pe"], row=cols["row"],
                            start=cols["start"], tile=cols["tile"])


def _encode(a: np.ndarray, nulls: bool = False) -> Any:
    """A write column for the file: the array, or its runs when they are at most half as long
    (``nulls``: -1 is written null, as a list)."""
    n = len(a)
    heads = np.flatnonzero(np.r_[True, a[1:] != a[:-1]]) if n else np.zeros(0, np.int64)
    col: Any = a
    if 2 * len(heads) <= n and n:
        col = {"values": a[heads], "repeats": np.diff(np.r_[heads, n])}
    if nulls:
        vals = col["values"] if isinstance(col, dict) else col
        listed = [x if x >= 0 else None for x in vals.tolist()]
        col = {"values": listed, "repeats": col["repeats"]} if isinstance(col, dict) else listed
    return col


def _decode(v: Any, where: str, check_bools: bool, nulls: bool = False) -> np.ndarray:
    """A write column from the file (an array of integers, or ``{"values", "repeats"}``);
    ``nulls``: null stands for -1."""
    if isinstance(v, dict):
        if set(v) != {"values", "repeats"}:
            raise InputError(f"{where}: a run-length column is {{\"values\": [...], "
                             f"\"repeats\": [...]}}, got the keys {sorted(v)}")
        if isinstance(v["values"], dict):
            raise InputError(f"{where}.values: must be a list of integers")
        values = _decode(v["values"], f"{where}.values", check_bools, nulls)
        repeats = _int_column(v["repeats"], f"{where}.repeats", check_bools)
        if len(values) != len(repeats):
            raise InputError(f"{where}: {len(values)} values but {len(repeats)} repeats")
        for j in np.flatnonzero(repeats < 0)[:1].tolist():
            raise InputError(f"{where}.repeats[{j}]: must be >= 0, got {int(repeats[j])}")
        return np.repeat(values, repeats)
    if nulls and isinstance(v, list) and None in v:  # null: the write's tile is implicit
        v = [-1 if x is None else x for x in v]
    return _int_column(v, where, check_bools)


def _int_column(v: Any, where: str, check_bools: bool = True) -> np.ndarray:
    """A JSON array of integers as int64, rejecting what :func:`_int` rejects.

    NumPy converts the whole list at once; only a list that does not come out as plain
    64-bit integers (or may hide a ``true``) is looked at value by value, to name the first
    bad one.
    """
    if not isinstance(v, list):
        raise InputError(f"{where}: must be a list of integers")
    try:
        if type(sum(v)) is int:  # no float among them (a string, null or list raises)
            arr = np.array(v, dtype=np.int64)  # an integer beyond 64 bits raises
            if not (check_bools and bool in set(map(type, v))) and (
                    not arr.size or (arr.min() >= -INT_LIMIT and arr.max() <= INT_LIMIT)):
                return arr
    except (TypeError, OverflowError):
        pass
    for j, x in enumerate(v):
        _int(x, f"{where}[{j}]")
        if not -2**63 <= x < 2**63:
            raise InputError(f"{where}[{j}]: {x} does not fit 64 bits")
    return np.array(v, dtype=np.int64)


def _check_version(version: int) -> None:
    if version not in (1, 2):
        raise InputError(f"schedule format version must be 1 or 2, got {version!r}")


def _int(v: Any, where: str, lo: int = -INT_LIMIT) -> int:
    """An integer of the file. Beyond +-2^53 it is malformed (no time, index or count of a
    schedule is that large, and the evaluator's int64 arithmetic must not overflow); negative
    values are R7 violations for the evaluator to list, except for tile indices (``lo=0``)."""
    if type(v) is int and lo <= v <= INT_LIMIT:
        return v
    span = "of magnitude at most 2^53" if lo < 0 else f"in {lo}..2^53"
    if isinstance(v, float) and not -INT_LIMIT <= v <= INT_LIMIT:
        # orjson reads integers beyond 64 bits as floats: say what is wrong with them
        raise InputError(f"{where}: must be an integer {span} ({INT_LIMIT:,}), got {v:.3g}")
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"{where}: must be an integer, got {v!r}")
    raise InputError(f"{where}: must be an integer {span} ({INT_LIMIT:,}), got {shown(v)}")


def _int_list(v: Any, where: str) -> list[int]:
    if not isinstance(v, list):
        raise InputError(f"{where}: must be a list of integers")
    if all(type(x) is int for x in v) and (not v or min(v) >= -INT_LIMIT
                                           and max(v) <= INT_LIMIT):
        return v
    return [_int(x, f"{where}[{i}]") for i, x in enumerate(v)]


def _dumps(obj: Any) -> str:
    """JSON text of a head, step, run or record (as :func:`json.dumps` spaces it)."""
    return json.dumps(obj)


def _tolist(a: Any) -> Any:
    return a.tolist() if isinstance(a, np.ndarray) else a


def _dumps_column(col: Any) -> str:
    """Compact JSON of a write column (orjson: NumPy integer arrays without Python ints)."""
    if isinstance(col, dict):
        col = {k: np.ascontiguousarray(a, dtype=np.int64) if isinstance(a, np.ndarray) else a
               for k, a in col.items()}
    elif isinstance(col, np.ndarray):
        col = np.ascontiguousarray(col, dtype=np.int64)
    if orjson is not None:
        return orjson.dumps(col, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    if isinstance(col, dict):
        col = {k: _tolist(a) for k, a in col.items()}
    return json.dumps(_tolist(col), separators=(",", ":"))
