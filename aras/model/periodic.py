"""Periodic (steady-state) schedules and the ``aras-schedule-periodic/1`` file (docs/model.md,
"Periodic schedules").

A :class:`PeriodicSchedule` is one inference's :class:`~aras.model.schedule.Schedule` (its
steps and writes in the inference's own time frame, cycle 0 its first write) with a
``period`` ``P``: inference ``k`` runs the same schedule shifted by ``k * P``. Layers listed
in ``resident`` are written once, before the stream (their writes are those of inference 0)
and never again; every other write repeats in every period.

The file is an ``aras-schedule/2`` document with another ``format`` and two more keys,
``period`` and ``resident`` (and ``inferences`` when a period holds several inferences: the
schedule is then one of the network repeated, :func:`repeat_network`). The other formats
are read unchanged by :meth:`Schedule.load <aras.model.schedule.Schedule.load>`, which
refuses this one, so a tool that knows only isolated schedules never mistakes a periodic one
for an isolated schedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, parse_json, read_text
from aras.model.limits import INT_LIMIT, integer
from aras.model.network import Network
from aras.model.schedule import FORMAT, Schedule

#: The periodic schedule format.
FORMAT_PERIODIC = "aras-schedule-periodic/1"
#: Most inferences in one period (the schedule holds that many copies of the network).
MAX_INFERENCES = 64


@dataclass
class PeriodicSchedule:
    """One inference's schedule repeated every ``period`` cycles.

    Attributes
    ----------
    schedule
        The steps and writes of one inference, times in its own frame (>= 0); its
        ``makespan`` is the latency of one inference (its last compute end).
    period
        Cycles between the starts of consecutive inferences (>= 1).
    resident
        Names of the layers whose rows are written once and never rewritten.
    inferences
        Inferences per period (default 1). With ``m > 1`` the schedule is one of the network
        repeated ``m`` times (:func:`repeat_network`: ops renamed ``r<i>:<op>``), and the
        file still names the network itself.
    """

    schedule: Schedule
    period: int
    resident: tuple[str, ...] = ()
    #: Inferences per period (their ops renamed ``r<i>:<op>``, :func:`repeat_network`).
    inferences: int = 1
    #: Facts of the method (candidates tried, timings): reported, not written to the file.
    runtime_info: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def latency(self) -> int:
        """Latency of one inference in cycles (its last compute end, as the file says)."""
        return int(self.schedule.makespan)

    def to_dict(self) -> dict[str, Any]:
        """The ``aras-schedule-periodic/1`` document."""
        d = self.schedule.to_dict(version=2)
        d["format"] = FORMAT_PERIODIC
        d["period"] = int(self.period)
        d["resident"] = list(self.resident)
        if self.inferences != 1:
            d["inferences"] = int(self.inferences)
        return d

    def save(self, path: str | Path) -> None:
        """Write the file atomically (one step per line)."""
        d = self.to_dict()
        steps = ",\n    ".join(json.dumps(s) for s in d.pop("steps"))
        writes = json.dumps(d.pop("writes"), separators=(",", ":"))
        makespan = d.pop("makespan")
        head = json.dumps(d)[:-1]
        atomic_write_text(path, f'{head},\n  "steps": [\n    {steps}\n  ],\n  "writes": '
                                f'{writes},\n  "makespan": {makespan}\n}}\n')

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schedule") -> PeriodicSchedule:
        """Parse a periodic schedule document.

        Raises
        ------
        InputError
            A wrong format, a malformed ``period`` (not an integer, below 1, beyond 2^53, NaN
            or infinite) or ``resident`` (not a list of distinct strings), or any malformed
            field of the underlying ``aras-schedule/2`` body.
        """
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object")
        if data.get("format") != FORMAT_PERIODIC:
            raise InputError(f"{source}: format must be '{FORMAT_PERIODIC}', got "
                             f"{data.get('format')!r}")
        if "period" not in data:
            raise InputError(f"{source}: field 'period' missing")
        p = data["period"]
        if isinstance(p, float):
            raise InputError(f"{source}: period: must be an integer number of cycles, got "
                             f"{p!r}")
        period = integer(p, f"{source}: period", lo=1, hi=INT_LIMIT)
        res = data.get("resident", [])
        if not isinstance(res, list):
            raise InputError(f"{source}: resident: must be a list of layer names, got {res!r}")
        for i, x in enumerate(res):
            if not isinstance(x, str):
                raise InputError(f"{source}: resident[{i}]: must be a layer name, got {x!r}")
            if x in res[:i]:
                raise InputError(f"{source}: resident[{i}]: layer '{x}' listed twice")
        m = data.get("inferences", 1)
        if isinstance(m, float):
            raise InputError(f"{source}: inferences: must be an integer, got {m!r}")
        m = integer(m, f"{source}: inferences", lo=1, hi=MAX_INFERENCES)
        if m > 1 and res:
            raise InputError(f"{source}: resident: resident layers are only defined with one "
                             f"inference per period (inferences is {m})")
        body = {k: v for k, v in data.items() if k not in ("period", "resident", "inferences")}
        body["format"] = FORMAT
        sched = Schedule.from_dict(body, source=source)
        return cls(sched, period, tuple(res), m)

    @classmethod
    def load(cls, path: str | Path) -> PeriodicSchedule:
        """Read an ``aras-schedule-periodic/1`` file (one-line errors, see :meth:`from_dict`)."""
        text = read_text(Path(path), "schedule", "JSON")
        return cls.from_dict(parse_json(text, str(path)), source=str(path))


def repeat_network(net: Network, m: int) -> Network:
    """The network ``m`` times over, ops and inputs renamed ``r<i>:<name>``, copies independent
    and listed in turn (so the default compute order runs them one after the other); real
    weight codes are shared by the copies."""
    if m == 1:
        return net
    ops = []
    inputs: dict[str, tuple[int, ...]] = {}
    for i in range(m):
        pre = f"r{i}:"
        for k, shape in net.inputs.items():
            inputs[pre + k] = shape
        for op in net.ops:
            ops.append(replace(op, name=pre + op.name, inputs=tuple(pre + x for x in op.inputs)))
    out = Network(f"{net.name} x{m}", inputs, ops)
    if net.codes:
        out.codes = {f"r{i}:{k}": v for i in range(m) for k, v in net.codes.items()}
    return out


def base_layer(name: str) -> str:
    """The network's own name of a layer of :func:`repeat_network` (``r3:fc`` -> ``fc``)."""
    head, sep, rest = name.partition(":")
    return rest if sep and head[:1] == "r" and head[1:].isdigit() else name


def is_periodic(data: Any) -> bool:
    """Whether a parsed schedule document is periodic (its ``format``)."""
    return isinstance(data, dict) and data.get("format") == FORMAT_PERIODIC


def check_resident(resident: tuple[str, ...], weighted: set[str], where: str = "resident"
                   ) -> None:
    """Every resident name is a weight-bearing layer of the network, listed once.

    Raises
    ------
    InputError
        Naming the first bad entry (``resident[i]``).
    """
    for i, name in enumerate(resident):
        if name not in weighted:
            raise InputError(f"{where}[{i}]: no weight-bearing layer '{name}' in the network")
        if name in resident[:i]:
            raise InputError(f"{where}[{i}]: layer '{name}' listed twice")


__all__ = ["FORMAT_PERIODIC", "MAX_INFERENCES", "PeriodicSchedule", "is_periodic",
           "check_resident", "repeat_network", "base_layer"]
