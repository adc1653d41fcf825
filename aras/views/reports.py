"""Report cards: one solve's or one evaluation's figures as a two-column table."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from aras.evaluation.evaluator import ENERGY_COMPONENTS
from aras.model.hardware import Hardware
from aras.views.terminal import print_table


def ms(cycles: float, hw: Hardware) -> str:
    """Cycles as milliseconds on ``hw``, three decimals."""
    return f"{hw.seconds(cycles) * 1e3:.3f}"


def print_report(console: Console, title: str, d: dict[str, Any], hw: Hardware) -> None:
    """The report card of one solve or evaluation (``Report.to_dict`` plus solve fields).

    A batch (``batch`` > 1) adds its per-inference figures: the makespan is the latency of
    the whole batch, the throughput ``batch / makespan``, and the energy is the batch's, then
    per inference."""
    rows: list[list[str]] = []
    batch = d.get("batch") or 1
    of_batch = f" for a batch of {batch}" if batch > 1 else ""

    def row(label: str, value: str) -> None:
        rows.append([label, value])

    mk = d.get("makespan_cycles")
    if mk is not None:
        row("makespan", f"{mk:,} cycles = {ms(mk, hw)} ms{of_batch}")
        thr = d.get("throughput_inf_s")
        # none for a network with nothing to compute (every op folded: makespan 0)
        row("throughput", f"{thr:.1f} inf/s" if isinstance(thr, (int, float)) else "-")
    if "lower_bound_cycles" in d:
        row("lower bound", f"{d['lower_bound_cycles']:,} cycles = "
                           f"{ms(d['lower_bound_cycles'], hw)} ms")
        row("write bound", f"{d['write_bound_cycles']:,} cycles = "
                           f"{ms(d['write_bound_cycles'], hw)} ms")
    if d.get("gap") is not None:
        row("gap to lower bound", f"{d['gap'] * 100:.1f}%")
    if d.get("row_writes_max") is not None and mk is not None:
        row("writes per APU row (min/mean/max)",
            f"{d['row_writes_min']:.4g} / {d['row_writes_mean']:.4g} / "
            f"{d['row_writes_max']:.4g} per inference")
    if d.get("energy_j") and d.get("row_level_steps_max") is not None:
        row("level steps per APU row (min/mean/max)",
            f"{d['row_level_steps_min']:,.0f} / {d['row_level_steps_mean']:,.0f} / "
            f"{d['row_level_steps_max']:,.0f}")
    if d.get("energy_j"):
        e = d["energy_j"]
        row("energy", f"{e['total'] * 1e3:.3f} mJ{of_batch}")
        for k in ENERGY_COMPONENTS:
            row(f"  {k}", f"{e[k] * 1e3:.3f} mJ ({e[k] / e['total'] * 100:.0f}%)")
        if batch > 1:
            row("energy per inference", f"{e['total'] / batch * 1e3:.3f} mJ")
        row("write pulses", f"{d['write_pulses']:,.0f}")
        row("APU-row writes", f"{d['row_writes']:,}")
        row("max writes of a cell", str(d["max_cell_writes"]))
        rt = d["lifespan_realtime_years"]
        row(f"lifespan at {d['realtime_inf_s']:.0f} inf/s",
            "unbounded" if rt is None else f"{rt:.1f} years")
        mx = d["lifespan_max_throughput_years"]
        row("lifespan at max throughput", "unbounded" if mx is None else f"{mx:.1f} years")
    if "runtime_s" in d:
        row("runtime", f"{d['runtime_s']:.3f} s")
    print_table(console, title, [("", "l"), ("", "r")], rows, header=False)



def print_periodic(console: Console, title: str, d: dict[str, Any], hw: Hardware) -> None:
    """The report card of a periodic (steady-state) schedule (``PeriodicReport.to_dict``)."""
    T = hw.write_latency_cycles
    m = d.get("inferences", 1)
    each = d["period_cycles"] / m
    rows = [["period", f"{d['period_cycles']:,} cycles = {ms(d['period_cycles'], hw)} ms"
                       + (f" for {m} inferences" if m > 1 else "")],
            ["period per inference", f"{ms(each, hw)} ms ({each / T:.2f} write latencies)"],
            ["latency of one inference", f"{d['latency_cycles']:,} cycles = "
                                         f"{ms(d['latency_cycles'], hw)} ms"],
            ["throughput", f"{d['throughput_inf_s']:.1f} inf/s"]]
    if d.get("isolated_makespan_cycles"):
        rows.append([f"isolated makespan ({d.get('isolated_method', 'same method')})",
                     f"{d['isolated_makespan_cycles']:,} cycles = "
                     f"{ms(d['isolated_makespan_cycles'], hw)} ms"])
    if d.get("lower_bound_cycles") is not None:
        b = d["bounds_cycles"]
        rows.append(["periodic lower bound" + (f" ({m} inferences)" if m > 1 else ""),
                     f"{d['lower_bound_cycles']:,} cycles = "
                     f"{ms(d['lower_bound_cycles'], hw)} ms"])
        rows.append(["  compute / area / rows / bandwidth / window",
                     f"{b['compute']:,} / {b['area']:,} / {b['rows']:,} / {b['bandwidth']:,} / "
                     f"{b.get('window', 0):,}"])
        rows.append(["  unrounded write rounds", f"{b['write_rounds'] / T:.2f} write latencies"])
    if d.get("gap") is not None:
        rows.append(["gap to periodic bound", f"{d['gap'] * 100:.1f}%"])
    rows.append(["resident", f"{d['resident_layers']} layers, {d['resident_rows']} APU rows"])
    if d.get("valid"):
        e = d["energy_j"]
        rows.append(["energy per inference", f"{e['total'] * 1e3:.3f} mJ"])
        for k in ENERGY_COMPONENTS:
            rows.append([f"  {k}", f"{e[k] * 1e3:.3f} mJ"])
        rows.append(["write pulses per inference", f"{d['write_pulses']:,.0f}"])
        rows.append(["APU-row writes per inference", f"{d['row_writes']:,.6g}"])
        rows.append([f"max writes of a row per {'period' if m > 1 else 'inference'}",
                     str(d["max_cell_writes"])])
        for key, label in (("lifespan_realtime_years", f"at {d['realtime_inf_s']:.0f} inf/s"),
                           ("lifespan_max_throughput_years", "at max throughput")):
            v = d[key]
            rows.append([f"lifespan {label}", "unbounded" if v is None else f"{v:.1f} years"])
    if "runtime_s" in d:
        rows.append(["runtime", f"{d['runtime_s']:.3f} s"])
    print_table(console, title, [("", "l"), ("", "r")], rows, header=False)
