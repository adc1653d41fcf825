"""Schedules and the ``aras-schedule/1`` JSON file (MODEL.md section 5).

A :class:`Schedule` lists compute steps in compute order and every APU-row
write. Writes are stored column-wise (NumPy arrays) because real schedules
hold tens of thousands of them and the evaluator checks them vectorised.
The k-th write of a part (in file order) holds tile ``k mod apu_rows`` of that
part, unless the optional ``tile`` key names the tile explicitly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, read_json
from aras.model.limits import INT_LIMIT, shown

FORMAT = "aras-schedule/1"


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


@dataclass
class Writes:
    """All APU-row writes, column-wise. ``tile`` is -1 where the file gives none."""

    layer: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    part: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    pe: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    row: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    start: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))
    tile: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))

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
    """Append-only builder of :class:`Writes` used by the schedulers."""

    def __init__(self) -> None:
        self.layer: list[str] = []
        self.part: list[int] = []
        self.pe: list[int] = []
        self.row: list[int] = []
        self.start: list[int] = []

    def add(self, layer: str, part: int, pe: int, row: int, start: int) -> None:
        """Record one write."""
        self.layer.append(layer)
        self.part.append(part)
        self.pe.append(pe)
        self.row.append(row)
        self.start.append(start)

    def freeze(self) -> Writes:
        """The writes as arrays."""
        return Writes.from_lists(self.layer, self.part, self.pe, self.row, self.start)


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

    def to_dict(self) -> dict[str, Any]:
        """The ``aras-schedule/1`` document."""
        d: dict[str, Any] = {"format": FORMAT, "network": self.network, "method": self.method,
                             "hardware": self.hardware,
                             "steps": [s.to_dict() for s in self.steps],
                             "writes": self.writes.records(), "makespan": int(self.makespan)}
        for k, v in self.extra.items():
            d.setdefault(k, v)
        return d

    def save(self, path: str | Path) -> None:
        """Write the schedule file (one step or write per line)."""
        d = self.to_dict()
        steps = ",\n    ".join(json.dumps(s) for s in d.pop("steps"))
        writes = ",\n    ".join(json.dumps(w) for w in d.pop("writes"))
        makespan = d.pop("makespan")
        head = json.dumps(d)[:-1]
        text = (f'{head},\n  "steps": [\n    {steps}\n  ],\n  "writes": [\n    {writes}\n  ],'
                f'\n  "makespan": {makespan}\n}}\n')
        atomic_write_text(path, text)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schedule") -> Schedule:
        """Parse a schedule document; malformed structure raises :class:`InputError`."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object")
        if data.get("format") != FORMAT:
            raise InputError(f"{source}: format must be '{FORMAT}', got {data.get('format')!r}")
        for key, typ in (("network", str), ("method", str), ("hardware", dict),
                         ("steps", list), ("writes", list)):
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
        cols: dict[str, list[Any]] = {k: [] for k in ("layer", "part", "pe", "row", "start",
                                                       "tile")}
        for i, w in enumerate(data["writes"]):
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
        writes = Writes.from_lists(cols["layer"], cols["part"], cols["pe"], cols["row"],
                                   cols["start"], cols["tile"])
        known = {"format", "network", "method", "hardware", "steps", "writes", "makespan"}
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(network=data["network"], method=data["method"], hardware=data["hardware"],
                   steps=steps, writes=writes, makespan=makespan, extra=extra)

    @classmethod
    def load(cls, path: str | Path) -> Schedule:
        """Read a schedule file.

        Raises
        ------
        InputError
            Missing file, malformed JSON or a field of the wrong type.
        """
        return cls.from_dict(read_json(path, "schedule"), source=str(path))


def _int(v: Any, where: str, lo: int = -INT_LIMIT) -> int:
    """An integer of the file. Beyond +-2^53 it is malformed (no time, index or count of a
    schedule is that large, and the evaluator's int64 arithmetic must not overflow); negative
    values are R7 violations for the evaluator to list, except for tile indices (``lo=0``)."""
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(f"{where}: must be an integer, got {v!r}")
    if not lo <= v <= INT_LIMIT:
        span = "of magnitude at most 2^53" if lo < 0 else f"in {lo}..2^53"
        raise InputError(f"{where}: must be an integer {span} ({INT_LIMIT:,}), got {shown(v)}")
    return v


def _int_list(v: Any, where: str) -> list[int]:
    if not isinstance(v, list):
        raise InputError(f"{where}: must be a list of integers")
    return [_int(x, f"{where}[{i}]") for i, x in enumerate(v)]
