"""Periodic (steady-state) schedules and the ``aras-schedule-periodic/1`` file (docs/model.md,
"Periodic schedules").

A :class:`PeriodicSchedule` is one inference's :class:`~aras.model.schedule.Schedule` (its
steps and writes in the inference's own time frame, cycle 0 its first write) with a
``period`` ``P``: inference ``k`` runs the same schedule shifted by ``k * P``. Layers listed
in ``resident`` are written once, before the stream (their writes are those of inference 0)
and never again; every other write repeats in every period.

The file is an ``aras-schedule/2`` document with another ``format`` and two more keys,
``period`` and ``resident``. The other formats are read unchanged by
:meth:`Schedule.load <aras.model.schedule.Schedule.load>`, which refuses this one, so a tool
that knows only isolated schedules never mistakes a periodic one for an isolated schedule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, parse_json, read_text
from aras.model.limits import INT_LIMIT, integer
from aras.model.schedule import FORMAT, Schedule

#: The periodic schedule format.
FORMAT_PERIODIC = "aras-schedule-periodic/1"


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
    """

    schedule: Schedule
    period: int
    resident: tuple[str, ...] = ()
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
        body = {k: v for k, v in data.items() if k not in ("period", "resident")}
        body["format"] = FORMAT
        sched = Schedule.from_dict(body, source=source)
        return cls(sched, period, tuple(res))

    @classmethod
    def load(cls, path: str | Path) -> PeriodicSchedule:
        """Read an ``aras-schedule-periodic/1`` file (one-line errors, see :meth:`from_dict`)."""
        text = read_text(Path(path), "schedule", "JSON")
        return cls.from_dict(parse_json(text, str(path)), source=str(path))


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


__all__ = ["FORMAT_PERIODIC", "PeriodicSchedule", "is_periodic", "check_resident"]
