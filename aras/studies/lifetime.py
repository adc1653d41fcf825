"""A device's life: APU rows wear out, are retired, and the schedule is re-solved on the rest.

Every cell of the chip survives a number of writes drawn once, seeded, from a lognormal
distribution whose median is the hardware's ``cell_endurance_cycles`` and whose coefficient
of variation is ``spread`` (docs/energy.md, "Wear" gives the model and its sources). Every
write of an APU row may change each of its cells, so a row fails when its weakest cell has
seen as many writes as it survives: its endurance is the minimum over its cells (drawn
exactly from the distribution of that minimum, no per-cell arrays).

The device serves ``rate`` inferences per second. In each epoch the schedule of the rows
left (``method`` on the hardware with the failed rows listed) sets every row's writes per
inference (with wear-leveling: the rotation of :mod:`aras.methods.wear` by one row per
inference, so every row carries the mean over a cycle); time advances to the next failure.
With retirement the failed row joins ``failed_rows`` and the network is re-solved; the life
ends when the network no longer maps onto the rows left, or its throughput falls below
``floor``. Without retirement the first failed cell ends the life (a worn cell gives wrong
results, and nothing detects it).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from aras.evaluation.evaluator import SECONDS_PER_YEAR, evaluate
from aras.methods.wear import cycle_row_writes, realtime_rate
from aras.model.errors import InputError
from aras.model.files import atomic_path
from aras.model.hardware import Hardware
from aras.model.limits import number
from aras.model.mapping import map_network
from aras.model.network import Network

__all__ = ["Scenario", "row_endurance", "simulate", "lifetime", "save_csv", "plot",
           "SCENARIOS", "DEFAULT_SPREAD", "CSV_FIELDS"]

#: Coefficient of variation of the cell endurance (docs/energy.md, "Wear").
DEFAULT_SPREAD = 0.25

#: The CSV's columns, one row per epoch of a scenario.
CSV_FIELDS = ("scenario", "wear_leveling", "retirement", "batch", "years", "inferences",
              "rows_left", "throughput_inf_s", "energy_per_inference_j", "max_row_writes",
              "event")


@dataclass(frozen=True)
class Scenario:
    """One way to run the device: wear-leveling and retirement on or off, a batch."""

    wear_leveling: bool
    retirement: bool
    batch: int = 1

    @property
    def name(self) -> str:
        """``fixed``/``rotated`` binding, ``retire``/``no retire``, and the batch if > 1."""
        s = (f"{'rotated' if self.wear_leveling else 'fixed'}, "
             f"{'retire' if self.retirement else 'no retire'}")
        return s + (f", batch {self.batch}" if self.batch > 1 else "")


#: The four combinations at batch 1.
SCENARIOS = tuple(Scenario(w, r) for w in (False, True) for r in (False, True))


def row_endurance(hw: Hardware, seed: int, spread: float = DEFAULT_SPREAD,
                  cells: int | None = None) -> np.ndarray:
    """Writes every physical row survives: the least of its ``cells`` cells' endurances.

    Cell endurances are lognormal with median ``hw.cell_endurance_cycles`` and coefficient
    of variation ``spread`` (``sigma = sqrt(ln(1 + spread^2))``); ``cells`` defaults to a
    row's cells (``crossbar_rows x crossbar_cols x apus_per_row``). The minimum of ``n``
    independent draws is drawn by inversion, ``F^-1(1 - (1 - u)^(1/n))``, seeded by
    ``seed`` alone.
    """
    n = cells if cells is not None else hw.crossbar_rows * hw.crossbar_cols * hw.apus_per_row
    sigma = math.sqrt(math.log1p(spread * spread))
    u = np.random.default_rng(seed).random(hw.physical_apu_rows)
    q = -np.expm1(np.log1p(-u) / n)  # 1 - (1 - u)^(1/n), exact for tiny values
    q = np.clip(q, 1e-300, 1 - 1e-16)
    z = np.array([NormalDist().inv_cdf(float(x)) for x in q])
    return hw.cell_endurance_cycles * np.exp(sigma * z)


def simulate(network: Network, hardware: Hardware, scenario: Scenario, *,
             endurance: np.ndarray, rate: float, floor: float,
             solve: Callable[[Any], Any]) -> list[dict[str, Any]]:
    """The life of one device under one scenario, an epoch per row (see the module).

    Parameters
    ----------
    endurance
        Writes each physical row survives (:func:`row_endurance`).
    rate, floor
        Inferences per second served, and the least throughput worth running.
    solve
        ``solve(problem) -> Schedule`` on the rows left.

    Returns
    -------
    list of dict
        One per epoch, with :data:`CSV_FIELDS`; the last one's ``event`` says why the life
        ended.
    """
    b = scenario.batch
    failed: list[tuple[int, int]] = list(hardware.failed_rows)
    per = hardware.apu_rows_per_pe
    worn = np.zeros(hardware.physical_apu_rows)
    t = 0.0
    out: list[dict[str, Any]] = []

    def record(**kw: Any) -> None:
        out.append({"scenario": scenario.name, "wear_leveling": scenario.wear_leveling,
                    "retirement": scenario.retirement, "batch": b,
                    "years": t / SECONDS_PER_YEAR, "inferences": t * rate, **kw})

    while True:
        hw = hardware.replace(failed_rows=tuple(failed))
        left = hw.total_apu_rows
        try:
            problem = map_network(network, hw, batch=b)
        except InputError as exc:
            record(rows_left=left, throughput_inf_s=0.0, energy_per_inference_j=math.nan,
                   max_row_writes=math.nan, event=f"no longer fits: {exc}")
            return out
        sched = solve(problem)
        rep = evaluate(problem, sched)
        if not rep.valid:  # a method's bug: never count a life on an invalid schedule
            raise RuntimeError(f"lifetime: invalid schedule with {len(failed)} failed rows: "
                               f"{rep.violations[0]}")
        assert rep.rows is not None
        alive = np.flatnonzero(rep.rows.usable)
        per_inf = rep.rows.writes.copy()  # per physical row and inference
        if scenario.wear_leveling:
            _, over = cycle_row_writes(per_inf[alive], 1)
            cycle = len(alive)
            per_inf[alive] = over / cycle
        thr = rep.throughput_inf_s
        if thr < floor:
            record(rows_left=left, throughput_inf_s=thr,
                   energy_per_inference_j=rep.energy_per_inference_j,
                   max_row_writes=float(per_inf[alive].max()),
                   event=f"throughput {thr:.1f} inf/s below the floor {floor:g}")
            return out
        speed = per_inf * rate  # writes per second on each row
        with np.errstate(divide="ignore", invalid="ignore"):
            until = np.where(speed[alive] > 0, (endurance[alive] - worn[alive])
                             / speed[alive], np.inf)
        k = int(np.argmin(until))
        dt = float(until[k])
        first = not out or out[-1]["rows_left"] != left
        if first:
            record(rows_left=left, throughput_inf_s=thr,
                   energy_per_inference_j=rep.energy_per_inference_j,
                   max_row_writes=float(per_inf[alive].max()), event="")
        if math.isinf(dt):
            out[-1]["event"] = "no row is written: no wear"
            return out
        dt = max(dt, 0.0)
        worn += speed * dt
        t += dt
        row = int(alive[k])
        if not scenario.retirement:
            record(rows_left=left, throughput_inf_s=thr,
                   energy_per_inference_j=rep.energy_per_inference_j,
                   max_row_writes=float(per_inf[alive].max()),
                   event=f"row (pe {row // per}, row {row % per}) fails, not retired: end")
            return out
        failed.append((row // per, row % per))
        if len(failed) >= hardware.physical_apu_rows:
            record(rows_left=0, throughput_inf_s=0.0, energy_per_inference_j=math.nan,
                   max_row_writes=math.nan, event="every row has failed")
            return out


def lifetime(network: Network, hardware: Hardware, *, method: str = "aras", seed: int = 0,
             spread: float = DEFAULT_SPREAD, rate: float | None = None,
             floor: float | None = None, batches: Iterable[int] = (1,),
             scenarios: Iterable[Scenario] = SCENARIOS,
             time_limit: float = 0.1) -> list[dict[str, Any]]:
    """Every scenario's life of one device (the same cells: one endurance draw per seed).

    Parameters
    ----------
    method
        A method of :func:`aras.methods.solve.solve` to re-solve with (a fast one: ``aras``,
        ``jit``).
    seed, spread
        The endurance draw (:func:`row_endurance`).
    rate
        Inferences per second (default the paper's real-time rate: 30 for networks with
        convolutions, 100 otherwise).
    floor
        Least throughput (inf/s) worth running (default ``rate``: the device must keep up).
    batches
        Batch sizes; every scenario runs at each.
    time_limit
        Seconds of each re-solve of a searching method (``jit``; the others ignore it): a
        life re-solves once per failed row, hundreds of times per scenario, so ``jit``'s
        whole search (about a second on small networks) would make it take many minutes.

    Raises
    ------
    InputError
        ``spread``, ``rate``, ``floor``: not a positive number (``floor`` may be 0).
    """
    from aras.methods.solve import METHODS

    spread = number(spread, "spread", lo=0.0)
    first = map_network(network, hardware)
    rate = number(rate, "rate", lo=0.0) if rate is not None else realtime_rate(first)
    if rate <= 0:
        raise InputError(f"rate: must be > 0, got {rate}")
    floor = number(floor, "floor", lo=0.0) if floor is not None else rate
    time_limit = number(time_limit, "time_limit", lo=0.0, lo_open=True)
    endurance = row_endurance(hardware, seed, spread)

    if method not in METHODS or method.startswith("milp"):
        raise InputError(f"method: one of {', '.join(m for m in METHODS if 'milp' not in m)}"
                         f" (a heuristic: the life re-solves once per failed row), got "
                         f"{method!r}")
    heuristic = METHODS[method]

    def solve(problem: Any) -> Any:
        # the heuristic alone: solve() would add bounds and a second evaluation per epoch
        return heuristic(problem, time_limit=time_limit)

    out: list[dict[str, Any]] = []
    for b in batches:
        for sc in scenarios:
            out += simulate(network, hardware, Scenario(sc.wear_leveling, sc.retirement, b),
                            endurance=endurance, rate=rate, floor=floor, solve=solve)
    return out


def save_csv(rows: list[dict[str, Any]], path: str | Path) -> None:
    """The epochs as CSV (:data:`CSV_FIELDS`)."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r[k] for k in CSV_FIELDS})


def plot(rows: list[dict[str, Any]], path: str | Path, title: str) -> None:
    """Throughput, energy per inference and rows left against years, a line per scenario
    (steps: each value holds until the next failure); the end of each life is marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 9.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(3, 1, sharex=True)
    names = list(dict.fromkeys(r["scenario"] for r in rows))
    keys = (("throughput_inf_s", "throughput (inf/s)"),
            ("energy_per_inference_j", "energy per inference (mJ)"),
            ("rows_left", "APU rows left"))
    for i, name in enumerate(names):
        mine = [r for r in rows if r["scenario"] == name]
        x = [r["years"] for r in mine]
        style = {"color": f"C{i}", "lw": 1.4, "ls": "-" if "retire," in name + "," and
                 "no retire" not in name else "--"}
        for ax, (key, _) in zip(axes, keys, strict=True):
            y = [r[key] * (1e3 if key.startswith("energy") else 1) for r in mine]
            keep = [(a, v) for a, v in zip(x, y, strict=True) if not math.isnan(v)]
            if not keep:
                continue
            xs, ys = zip(*keep, strict=True)
            ax.step(xs, ys, where="post", label=name, **style)
            ax.plot([x[-1]], [ys[-1]], marker="x", color=f"C{i}", ms=7)
    for ax, (_, label) in zip(axes, keys, strict=True):
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="best")
    axes[0].set_title(title, fontsize=10)
    axes[-1].set_xlabel("years (x: end of life)")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
