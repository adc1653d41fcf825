"""Gantt chart of a schedule: APU-row occupancy, compute steps and Gbuffer banks (PNG).

:func:`gantt` draws two axes sharing the time axis:

- top: one lane per physical APU row (``pe * apu_rows_per_pe + row``, row 0 at
  the top) and, above them, a band with the compute steps. Every write
  occupies its row from its start to the end of its part's compute
  (MODEL.md R2): a dark shade of its layer's colour while it writes
  (``write_latency_cycles``), a light shade while it holds the tile. Every
  weight-bearing layer has a colour of its own (:func:`layer_colours`: hues a
  golden angle apart, so layers next to each other differ most); the compute
  band uses the same colours. The key on the right shows each layer's three
  shades (writing, holding, computing) in compute order, with names (every
  k-th when there are more than fit), and names are written on the chart as
  well: on compute steps wide enough to carry them, and on compact blocks of
  a part's rows (up to 40, see :func:`_label_blocks`).
  The y axis is named after its ticks: APU rows (``pe N row R``) when up to
  24 rows are drawn, PEs (their first row) beyond.
- bottom: one lane per Gbuffer bank, coloured when the bank is powered as an
  input or an output bank, over the intervals the evaluator charges leakage
  for (:func:`aras.views.trace.bank_intervals`).

Every interval set is one :class:`~matplotlib.collections.PolyCollection`
(rectangles built with NumPy), so ResNet-50 (1.6 k writes) and BERT-Large
(18 k writes) render in well under a second. The collections carry gids
(:data:`GIDS`) so that tests and callers can find them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize, hsv_to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from aras.evaluation.wear import row_writes
from aras.model.errors import InputError
from aras.model.files import atomic_path
from aras.model.mapping import Problem
from aras.model.schedule import Schedule
from aras.views.trace import WriteIntervals, bank_intervals, size_text, write_intervals

#: gids of the collections :func:`gantt` draws.
GIDS = {"write": "apu-write", "hold": "apu-hold", "compute": "compute",
        "input": "bank-input", "output": "bank-output", "failed": "failed-rows"}
_WEAR_CMAP = colormaps["viridis"]

_GOLDEN = 0.6180339887498949


def layer_colours(n: int) -> np.ndarray:
    """``n`` distinct RGBA colours, one per weight-bearing layer in compute order.

    Hues step by the golden ratio of the circle (137.5 degrees), so consecutive layers are
    far apart in hue and no two layers share a colour; saturation and value cycle through
    three levels each to separate layers whose hues come close.
    """
    i = np.arange(n)
    hsv = np.stack([(i * _GOLDEN) % 1.0, np.array([0.85, 0.6, 0.95])[i % 3],
                    np.array([0.85, 0.7, 0.95])[(i // 3) % 3]], axis=1)
    out = np.ones((n, 4))
    out[:, :3] = hsv_to_rgb(hsv) if n else np.zeros((0, 3))
    return out


_WRITE_SHADE, _HOLD_SHADE = 0.35, 0.5  # toward black while writing, toward white holding
_WEIGHTLESS = (0.55, 0.55, 0.55, 1.0)
_BANK_COLORS = {"input": "#1f77b4", "output": "#ff7f0e"}
_FONT = 6  # points, for the labels inside the chart
_CHAR_IN = 0.6 * _FONT / 72  # rough width of one character, inches
_LINE_IN = 1.3 * _FONT / 72  # height of one line of text, inches


def _shade(rgba: np.ndarray, toward: float, amount: float) -> np.ndarray:
    """Blend colours toward white (1.0) or black (0.0), keeping alpha."""
    out = rgba.copy()
    out[..., :3] = out[..., :3] * (1 - amount) + toward * amount
    return out


def _rects(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray
           ) -> Sequence[np.ndarray]:
    """Rectangles as an (n, 4, 2) vertex array for a PolyCollection.

    PolyCollection takes the array as is (fast); its stubs only admit sequences, hence the
    cast.
    """
    v = np.empty((len(x0), 4, 2))
    v[:, 0, 0] = v[:, 1, 0] = x0
    v[:, 2, 0] = v[:, 3, 0] = x1
    v[:, 0, 1] = v[:, 3, 1] = y0
    v[:, 1, 1] = v[:, 2, 1] = y1
    return cast("Sequence[np.ndarray]", v)


def _time_unit(makespan_s: float) -> tuple[str, float]:
    """Axis unit and seconds-to-unit factor: ms from 1 ms up, else microseconds."""
    return ("ms", 1e3) if makespan_s >= 1e-3 else ("µs", 1e6)


def _label_blocks(ax: Axes, wi: WriteIntervals, shown: np.ndarray, scale: float, in_x: float,
                  in_y: float, label_of: Callable[[int], str], limit: int = 40) -> None:
    """Name parts on the chart where their writes form a block large enough for the text.

    A block is the writes of one part that start at the same cycle (the
    schedulers write a part's rows in runs), its box the bounding box of their
    occupancies. A block is labelled when its writes fill at least 70% of the
    box (so that the label sits on the part's own colour), the text fits the
    box horizontally or vertically, no label placed before overlaps it, and
    its part has no label yet. Largest blocks first, at most ``limit`` labels.
    """
    sel = np.flatnonzero(shown & (wi.step >= 0))
    if not len(sel):
        return
    sel = sel[np.lexsort((wi.rowid[sel], wi.start[sel], wi.step[sel]))]
    step, start = wi.step[sel], wi.start[sel]
    x0, x1 = start * scale, wi.hold_end[sel] * scale
    y = wi.rowid[sel].astype(np.float64)
    first = np.r_[0, np.flatnonzero((np.diff(step) != 0) | (np.diff(start) != 0)) + 1]
    bx0, bx1 = np.minimum.reduceat(x0, first), np.maximum.reduceat(x1, first)
    by0, by1 = np.minimum.reduceat(y, first), np.maximum.reduceat(y, first) + 1
    area = np.add.reduceat(x1 - x0, first)
    box = (bx1 - bx0) * (by1 - by0)
    cover = np.divide(area, box, out=np.zeros_like(area), where=box > 0)
    placed: list[tuple[float, float, float, float]] = []  # label boxes in inches
    done: set[int] = set()
    for g in np.argsort(-area).tolist():
        if len(placed) >= limit:
            break
        k = int(step[first[g]])
        if cover[g] < 0.7 or k in done:
            continue
        text = label_of(k)
        w_in, h_in = (bx1[g] - bx0[g]) * in_x, (by1[g] - by0[g]) * in_y
        need = (len(text) + 1) * _CHAR_IN
        if w_in >= need and h_in >= _LINE_IN:
            rot, tw, th = 0, need, _LINE_IN
        elif h_in >= need and w_in >= _LINE_IN:
            rot, tw, th = 90, _LINE_IN, need
        else:
            continue
        cx, cy = (bx0[g] + bx1[g]) / 2, (by0[g] + by1[g]) / 2
        r = (cx * in_x - tw / 2, cx * in_x + tw / 2, cy * in_y - th / 2, cy * in_y + th / 2)
        if any(r[0] < q[1] and q[0] < r[1] and r[2] < q[3] and q[2] < r[3] for q in placed):
            continue
        placed.append(r)
        done.add(k)
        ax.text(cx, cy, text, rotation=rot, ha="center", va="center", fontsize=_FONT,
                clip_on=True, bbox={"boxstyle": "square,pad=0.1", "fc": "white", "alpha": 0.6,
                                    "lw": 0})


def gantt(schedule: Schedule, problem: Problem, path: str | Path | None = None, *,
          max_rows: int | None = None, colour_by: str = "layer",
          figsize: tuple[float, float] = (14.0, 9.0),
          dpi: int = 150) -> Figure:
    """Draw a schedule as a Gantt chart and optionally save it as PNG.

    Parameters
    ----------
    schedule
        The schedule to draw (need not be valid: writes whose part is never
        computed are drawn without a holding phase).
    problem
        The mapped network: its hardware gives the clock, write latency,
        APU-row geometry and Gbuffer banks, and its step order the layer
        colours.
    path
        Where to save the PNG; nothing is saved when None.
    max_rows
        Show only the first ``max_rows`` physical APU rows (``pe *
        apu_rows_per_pe + row < max_rows``), for a readable chart of a large
        accelerator; writes on other rows are left out. None shows every row.
    colour_by
        ``layer`` (default): every write in its layer's colour. ``wear``: every write in the
        colour of its row's writes per inference (a colour bar replaces the layer key), so
        the rows that age first stand out; failed rows (``Hardware.failed_rows``) are
        hatched either way.
    figsize, dpi
        Figure size in inches and the resolution of the saved PNG.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` the APU rows and compute band, ``fig.axes[1]`` the
        Gbuffer banks, ``fig.axes[2]`` the layer key (an image of the layers'
        writing, holding and computing colours; absent without weight-bearing
        layers). The figure is not registered with pyplot (it renders with the
        Agg canvas), so it needs no closing.
    """
    hw = problem.hardware
    if colour_by not in ("layer", "wear"):
        raise InputError(f"colour_by: 'layer' or 'wear', got {colour_by!r}")
    total_rows = hw.physical_apu_rows
    n_rows = total_rows if max_rows is None else max(1, min(int(max_rows), total_rows))
    per = hw.apu_rows_per_pe
    wi = write_intervals(schedule, hw)
    steps = schedule.steps
    end_cycles = max([s.end for s in steps] + [int(wi.hold_end.max()) if len(wi.start) else 0]
                     + [1])
    unit, factor = _time_unit(hw.seconds(end_cycles))
    scale = factor / hw.frequency_hz  # cycles -> axis unit

    # Layer colours: weighted layers numbered in the problem's compute order.
    layer_ix: dict[str, int] = {}
    for st in problem.steps:
        if st.weighted and st.layer not in layer_ix:
            layer_ix[st.layer] = len(layer_ix)
    palette = layer_colours(len(layer_ix))

    def colours(layers: list[str]) -> np.ndarray:
        idx = np.array([layer_ix.get(name, -1) for name in layers], dtype=np.int64)
        c = palette[np.maximum(idx, 0)] if len(palette) else np.zeros((len(idx), 4))
        c[idx < 0] = _WEIGHTLESS
        return c.reshape(len(layers), 4)

    # A fixed layout (not constrained) so that the axes' size in inches is known before
    # drawing: labels are placed only where they fit, without a costly extra draw. The right
    # margin holds the layer key: its strip and the longest name it shows.
    key_font = 5.5
    key_names = list(layer_ix)
    name_in = max([len(x) for x in key_names] + [8]) * 0.6 * key_font / 72
    right = max(0.62, 1.0 - (0.5 + name_in + 0.3) / figsize[0])
    left, bottom, top, hspace = 0.09, 0.06, 0.95, 0.06
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    ax, axb = fig.subplots(2, 1, sharex=True, height_ratios=[4.0, 1.0],
                           gridspec_kw={"hspace": hspace})
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=top)
    axis_w = (right - left) * figsize[0]
    # hspace is a fraction of the mean axes height (of two): 4/5 of what is left after it.
    axis_h = (top - bottom) * figsize[1] / (1.0 + hspace / 2) * 4.0 / 5.0

    # ----- APU rows -----
    shown = wi.rowid < n_rows
    pad = 0.1 if n_rows <= 64 else 0.0  # gaps between lanes only where lanes are thick
    y0 = wi.rowid[shown] + pad
    y1 = wi.rowid[shown] + 1 - pad
    if colour_by == "wear":
        per_row = row_writes(problem, schedule) / problem.batch
        wear_norm = Normalize(0.0, max(float(per_row.max()), 1.0))
        base = _WEAR_CMAP(wear_norm(per_row[wi.rowid[shown]]))
    else:
        base = colours(schedule.writes.layer[shown].tolist())
    dead = [r for r in sorted(hw.failed_row_ids) if r < n_rows]
    if dead:
        ax.add_collection(PolyCollection(
            _rects(np.zeros(len(dead)), np.full(len(dead), end_cycles * scale),
                   np.array(dead, dtype=float), np.array(dead, dtype=float) + 1),
            facecolors="0.92", edgecolors="0.6", hatch="////", linewidths=0,
            gid=GIDS["failed"]))
    hold = PolyCollection(_rects(wi.write_end[shown] * scale, wi.hold_end[shown] * scale, y0, y1),
                          facecolors=_shade(base, 1.0, _HOLD_SHADE), edgecolors="none",
                          linewidths=0, gid=GIDS["hold"])
    write = PolyCollection(_rects(wi.start[shown] * scale, wi.write_end[shown] * scale, y0, y1),
                           facecolors=_shade(base, 0.0, _WRITE_SHADE), edgecolors="none",
                           linewidths=0, gid=GIDS["write"])
    ax.add_collection(hold)
    ax.add_collection(write)

    # ----- compute band above the rows -----
    band = max(1.0, 0.06 * n_rows)
    gap = max(0.5, 0.015 * n_rows)
    cy0, cy1 = -gap - band, -gap
    ylo = cy0 - 0.2 * gap
    s0 = np.array([s.start for s in steps], dtype=np.float64) * scale
    s1 = np.array([s.end for s in steps], dtype=np.float64) * scale
    sc = colours([s.layer if s.apu_rows > 0 else "" for s in steps])
    # Edges in the face colour keep steps shorter than a pixel visible (BERT's computes are
    # tiny next to its writes).
    comp = PolyCollection(_rects(s0, s1, np.full(len(steps), cy0), np.full(len(steps), cy1)),
                          facecolors=sc, edgecolors=sc, linewidths=0.4, gid=GIDS["compute"])
    ax.add_collection(comp)
    xmax = end_cycles * scale
    in_x = axis_w / xmax  # inches per x unit
    in_y = axis_h / (n_rows - ylo)  # inches per lane

    def label_of(k: int) -> str:
        s = steps[k]
        single = s.part == 0 and (s.layer, 1) not in problem.by_key
        return s.layer if single else f"{s.layer}/{s.part}"

    # Name the compute steps wide enough for their label.
    for k in np.argsort(s0 - s1).tolist()[:60]:
        text = label_of(k)
        if (s1[k] - s0[k]) * in_x < (len(text) + 1) * _CHAR_IN:
            break
        ax.text((s0[k] + s1[k]) / 2, (cy0 + cy1) / 2, text, ha="center", va="center",
                fontsize=_FONT, clip_on=True)
    _label_blocks(ax, wi, shown, scale, in_x, in_y, label_of)

    ax.set_xlim(0, xmax)
    ax.set_ylim(n_rows, ylo)  # inverted: compute on top, row 0 under it
    # y ticks: every row on small accelerators, else the first row of evenly spaced PEs; the
    # axis is named after what its ticks count.
    shown_txt = "" if n_rows == total_rows else f"first {n_rows} of {total_rows} rows"
    if n_rows <= 24:
        ticks = list(range(n_rows))
        labels = [f"pe {r // per} row {r % per}" for r in ticks]
        yt = [t + 0.5 for t in ticks]
        ylabel = "APU row" + (f" ({shown_txt})" if shown_txt else "")
    else:
        n_pes = -(-n_rows // per)
        every = max(1, -(-n_pes // 16))
        pes = list(range(0, n_pes, every))
        yt = [p * per for p in pes]
        labels = [str(p) for p in pes]
        for y in yt[1:]:
            ax.axhline(y, color="0.85", lw=0.4, zorder=0)
        ylabel = (f"PE ({per} APU rows each, one lane per row"
                  + (f"; {shown_txt}" if shown_txt else "") + ")")
    ax.set_yticks([(cy0 + cy1) / 2] + yt, ["compute"] + labels, fontsize=7)
    ax.set_ylabel(ylabel)
    if colour_by == "wear":
        pos = ax.get_position()
        cax = fig.add_axes((right + 0.012, pos.y0, 0.3 / figsize[0], pos.y1 - pos.y0),
                           gid="wear-key")
        fig.colorbar(ScalarMappable(norm=wear_norm, cmap=_WEAR_CMAP), cax=cax,
                     label="writes of the row per inference")
    else:
        _layer_key(fig, palette, key_names, right + 0.012, ax, key_font)
    makespan_txt = f"{hw.seconds(schedule.makespan) * factor:.3f} {unit}"
    ax.set_title(f"{schedule.network} / {schedule.method} on {hw.name}: makespan "
                 f"{makespan_txt} ({schedule.makespan} cycles), {len(schedule.writes)} writes",
                 fontsize=10)

    # ----- Gbuffer banks -----
    ivs = bank_intervals(schedule)
    for role in ("input", "output"):
        sel = [iv for iv in ivs if iv.role == role]
        bx0 = np.array([iv.start for iv in sel], dtype=np.float64) * scale
        bx1 = np.array([iv.end for iv in sel], dtype=np.float64) * scale
        by = np.array([iv.bank for iv in sel], dtype=np.float64)
        axb.add_collection(PolyCollection(_rects(bx0, bx1, by + 0.15, by + 0.85),
                                          facecolors=_BANK_COLORS[role], edgecolors="none",
                                          linewidths=0, gid=GIDS[role], label=f"{role} bank"))
    nb = len(hw.gbuffer_banks)
    axb.set_ylim(nb, 0)
    axb.set_yticks([b + 0.5 for b in range(nb)],
                   [f"{b}: {size_text(size)}" for b, size in enumerate(hw.gbuffer_banks)],
                   fontsize=7 if nb <= 16 else 5)
    axb.set_ylabel("Gbuffer bank")
    mode = schedule.extra.get("bank_mode", "per-step")
    if mode != "per-step":
        # Say so rather than silently draw something the evaluator does not charge.
        axb.set_title(f"the steps' banks; bank_mode {mode!r} also keeps tensors in banks over "
                      "their lifetimes, not drawn here", fontsize=8)
    axb.set_xlabel(f"time ({unit})")
    handles, _ = axb.get_legend_handles_labels()
    axb.legend(handles=handles + [Patch(color=_WEIGHTLESS, label="weightless op\n(compute band)")],
               fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    for a in (ax, axb):
        a.grid(axis="x", alpha=0.3)
    if path is not None:
        with atomic_path(path) as tmp:  # same suffix: Matplotlib takes the format from it
            fig.savefig(tmp, dpi=dpi)
    return fig


def _layer_key(fig: Figure, palette: np.ndarray, names: list[str], x0: float, ax: Axes,
               font: float) -> None:
    """The layer colours as drawn, in an axes of its own from ``x0`` (figure fraction) beside
    ``ax``: one row per weight-bearing layer in compute order, its writing, holding and
    computing shades side by side, named on the right (every k-th name when they do not all
    fit)."""
    if not names:
        return
    pos = ax.get_position()
    fig_w, fig_h = fig.get_size_inches()
    head_in = 0.75  # column names and title above the strip
    y1 = pos.y1 - head_in / fig_h
    kax = fig.add_axes((x0, pos.y0, 0.3 / fig_w, y1 - pos.y0), gid="layer-key")
    img = np.stack([_shade(palette, 0.0, _WRITE_SHADE), _shade(palette, 1.0, _HOLD_SHADE),
                    palette], axis=1)
    kax.imshow(img, aspect="auto", interpolation="nearest")
    fits = max(1, int((y1 - pos.y0) * fig_h / (1.2 * font / 72)))
    every = -(-len(names) // fits)
    shown = list(range(0, len(names), every))
    kax.yaxis.tick_right()
    kax.set_yticks(shown, [names[k] for k in shown], fontsize=font)
    kax.tick_params(axis="y", length=1.5, pad=1)
    kax.xaxis.tick_top()
    kax.set_xticks([0, 1, 2], ["writing", "holding", "computing"], rotation=90, fontsize=6)
    kax.tick_params(axis="x", length=0, pad=1)
    title = "layer" + (f" ({len(shown)} of {len(names)} named)" if every > 1 else "")
    kax.set_title(title, fontsize=7, loc="left", pad=33)
    for side in ("top", "right", "bottom", "left"):
        kax.spines[side].set_linewidth(0.4)


__all__ = ["gantt", "GIDS", "layer_colours"]
