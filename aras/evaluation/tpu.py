"""The TPU-like accelerator the paper compares ARAS with (section VI, Table I), via SCALE-Sim.

A weight-stationary systolic array of 64 x 64 INT8 MACs at 1 GHz with a 4.5 MB data buffer
and LPDDR4 at 19.2 GB/s. Its cycles come from SCALE-Sim v3 (the PyPI package ``scalesim``,
the optional extra ``aras[tpu]``), driven layer by layer through its Python API with a
generated config and topology: convolutions as convolutions, linears and the attention
matmuls as GEMMs (transposed convolutions and recurrent layers too, as the GEMMs of their
crossbar matrices). Energy is SCALE-Sim's SRAM and DRAM access counts times per-access
energies, plus the MACs and the buffers' leakage (defaults and sources: docs/energy.md,
"TPU-like accelerator"). Every per-layer result is cached on disk, keyed by the layer's shape,
the configuration and the SCALE-Sim version (:func:`cache_dir`).

How a network becomes SCALE-Sim work, and what aras adds around it:

* Each weight-bearing op (and weightless matmul) is split into blocks of one column fold
  (``array_cols`` filters or GEMM columns) plus a remainder; a weight-stationary array
  computes the column folds one after the other and independently, so the cycles and the
  SRAM counts of the blocks add up to those of the whole layer exactly, and identical blocks
  are simulated once. Groups and attention heads are independent products of one shape,
  simulated once and counted ``groups`` or ``heads`` times.
* A convolution's input is given to SCALE-Sim as ``(Ho - 1) * stride + kernel`` rows and
  columns (the padded input, cut to what the output uses); SCALE-Sim has no padding or
  dilation, so a dilated kernel is simulated as a dense one over the same output.
* SCALE-Sim runs in its bandwidth-estimating mode (``InterfaceBandwidth: CALC``): it gives
  the stall-free cycles of the array and the DRAM traffic. The 19.2 GB/s are applied by aras:
  a layer takes ``max(SCALE-Sim cycles, DRAM bytes / bytes per cycle)`` (double buffering
  overlaps the traffic with the compute). SCALE-Sim's own user-bandwidth mode is not used:
  in 3.0.0 it fails under NumPy 2.4, and with that worked around it fetched the weights of a
  BERT-Base FFN 4.3 times (docs/energy.md).
* SCALE-Sim writes every row fold's partial sums through the output buffer to DRAM. A TPU
  accumulates them on chip, so the partial sums are charged as output-buffer SRAM writes
  (SCALE-Sim's count) and DRAM only for the layer's outputs.
* The input of a layer split into blocks is fetched from DRAM once when it fits the input
  buffer, else once per block.
* Weightless ops other than matmul (pooling, element-wise, norms, activations, softmax,
  concat, gather) are not systolic work and SCALE-Sim cannot run them; like the ARAS model,
  which gives the SFU no time or energy, the TPU-like model gives them none.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.files import atomic_write_text
from aras.model.network import Network, Op, matmul_macs

#: Environment variable naming the directory of the per-layer SCALE-Sim cache.
CACHE_ENV = "ARAS_TPU_CACHE"
INSTALL_HINT = 'SCALE-Sim is not installed: pip install "aras[tpu]"'
#: Bumped when what a cache entry holds changes.
CACHE_FORMAT = 1


@dataclass(frozen=True)
class TpuConfig:
    """The TPU-like accelerator (paper Table I) and its energy parameters.

    Sizes in KB of 1024 bytes; energies in J; every default and its source is in
    docs/energy.md ("TPU-like accelerator").

    Parameters
    ----------
    array_rows, array_cols
        The systolic array: 64 x 64 MACs.
    ifmap_sram_kb, filter_sram_kb, ofmap_sram_kb
        The 4.5 MB (4,608 KB) data buffer split 3:3:1 as in SCALE-Sim's own TPU config
        (``configs/google.cfg``: 6,144 / 6,144 / 2,048 KB), rounded to 8 KB.
    frequency_hz
        Clock.
    word_bytes
        Data precision (8-bit).
    dram_bandwidth_bytes_s
        LPDDR4, single channel.
    mac_energy_j
        One INT8 multiply-accumulate.
    sram_read_j_per_byte, sram_write_j_per_byte
        Per buffer (``ifmap``, ``filter``, ``ofmap``), CACTI 7 at the buffer's size.
    sram_leakage_w_per_byte
        Leakage of the whole data buffer, never power-gated.
    dram_energy_j_per_byte
        LPDDR4 read or write.
    """

    array_rows: int = 64
    array_cols: int = 64
    ifmap_sram_kb: int = 1976
    filter_sram_kb: int = 1976
    ofmap_sram_kb: int = 656
    frequency_hz: float = 1e9
    word_bytes: int = 1
    dram_bandwidth_bytes_s: float = 19.2e9
    mac_energy_j: float = 0.16e-12
    sram_read_j_per_byte: dict[str, float] = field(default_factory=lambda: {
        "ifmap": 2.06e-12, "filter": 2.06e-12, "ofmap": 1.50e-12})
    sram_write_j_per_byte: dict[str, float] = field(default_factory=lambda: {
        "ifmap": 1.80e-12, "filter": 1.80e-12, "ofmap": 1.48e-12})
    sram_leakage_w_per_byte: float = 0.33e-3 / 1024
    dram_energy_j_per_byte: float = 64e-12

    def __post_init__(self) -> None:
        for name in ("array_rows", "array_cols", "ifmap_sram_kb", "filter_sram_kb",
                     "ofmap_sram_kb", "word_bytes"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise InputError(f"TPU config: {name} must be a positive integer, got {v!r}")
        for name in ("frequency_hz", "dram_bandwidth_bytes_s"):
            if not getattr(self, name) > 0:
                raise InputError(f"TPU config: {name} must be > 0")

    @property
    def buffer_bytes(self) -> int:
        """Total data buffer (the three SRAMs)."""
        return 1024 * (self.ifmap_sram_kb + self.filter_sram_kb + self.ofmap_sram_kb)

    @property
    def dram_bytes_per_cycle(self) -> float:
        """DRAM bandwidth in bytes per clock cycle."""
        return self.dram_bandwidth_bytes_s / self.frequency_hz

    def simulator_key(self) -> dict[str, Any]:
        """What SCALE-Sim's results depend on (the cache key's configuration part)."""
        return {"rows": self.array_rows, "cols": self.array_cols, "dataflow": "ws",
                "sram_kb": [self.ifmap_sram_kb, self.filter_sram_kb, self.ofmap_sram_kb],
                "word_bytes": self.word_bytes}


#: A SCALE-Sim layer: ("conv", H, W, kh, kw, C, N, stride) or ("gemm", M, K, N).
Shape = tuple[Any, ...]


@dataclass
class Work:
    """The systolic work of one op: blocks of a SCALE-Sim shape and how often each runs."""

    op: str
    kind: str
    m: int
    k: int
    n: int
    copies: int
    blocks: list[tuple[Shape, int]]
    input_bytes: int
    output_bytes: int


def _conv_shape(ho: int, wo: int, kh: int, kw: int, sh: int, sw: int, c: int, n: int) -> Shape:
    # SCALE-Sim's conv topology has one stride (used for both axes); the width is sized so
    # that this stride gives the op's output width.
    h = (ho - 1) * sh + kh
    w = (wo - 1) * sh + kw
    del sw
    return ("conv", h, w, kh, kw, c, n, sh)


def _blocks(shape_of: Callable[[int], Shape], n: int, cols: int, copies: int
            ) -> list[tuple[Shape, int]]:
    full, rest = divmod(n, cols)
    out = []
    if full:
        out.append((shape_of(cols), full * copies))
    if rest:
        out.append((shape_of(rest), copies))
    return out


def matmul_dims(op: Op, ins: list[tuple[int, ...]]) -> tuple[int, int, int, int]:
    """(heads, m, k, n) of a weightless matmul: ``heads`` products of (m x k) by (k x n)."""
    h = int(op.attrs["heads"])
    a = ins[0]
    m, k = (a[0], a[1] // h) if len(a) == 2 else (a[-2], a[-1])
    macs = matmul_macs(op, ins)
    n = macs // (h * m * k) if h * m * k and macs % (h * m * k) == 0 else 0
    if n <= 0:  # a declared shape whose A does not give m and k: one product of its MACs
        return 1, 1, macs, 1
    return h, m, k, n


def network_work(net: Network, cfg: TpuConfig) -> tuple[list[Work], dict[str, int]]:
    """The SCALE-Sim work of every op, and the weightless ops it has none for (by kind)."""
    works: list[Work] = []
    skipped: dict[str, int] = {}
    cols = cfg.array_cols
    wb = cfg.word_bytes
    for op in net.ops:
        ins = net.input_shapes(op)
        in_bytes = sum(math.prod(s) for s in ins) * wb
        out_bytes = net.elements(op.name) * wb
        a = op.attrs
        if op.kind == "conv2d":
            g = int(a["groups"])
            shape = net.shapes[op.name]
            ho, wo = shape[1], shape[2]
            kh, kw = a["kernel"]
            sh, sw = a["stride"]
            cg, ng = a["c_in"] // g, a["c_out"] // g

            def conv(nn: int, ho: int = ho, wo: int = wo, kh: int = kh, kw: int = kw,
                     sh: int = sh, sw: int = sw, cg: int = cg) -> Shape:
                return _conv_shape(ho, wo, kh, kw, sh, sw, cg, nn)

            works.append(Work(op.name, "conv", ho * wo, kh * kw * cg, ng, g,
                              _blocks(conv, ng, cols, g), in_bytes // g, out_bytes))
        elif op.kind in ("linear", "matmul", "conv_transpose2d", "recurrent"):
            if op.kind == "linear":
                h, k, n = 1, int(a["in_features"]), int(a["out_features"])
                m = math.prod(ins[0]) // k
                in_group = in_bytes
            elif op.kind in ("conv_transpose2d", "recurrent"):
                # the crossbar matrix as a GEMM per group: the transposed convolution's
                # scatter form (input pixels x c_in/g by c_in/g x c_out/g k_h k_w), the
                # recurrent matrix over every timestep (optimistic for the array, which
                # would wait for each timestep's result)
                h, k, n = op.matrix
                m = math.prod(ins[0]) // (a["c_in"] if op.kind == "conv_transpose2d"
                                          else h * n)
                in_group = m * k * wb
            else:
                h, m, k, n = matmul_dims(op, ins)
                in_group = m * k * wb

            def gemm(nn: int, m: int = m, k: int = k) -> Shape:
                return ("gemm", m, k, nn)

            works.append(Work(op.name, "gemm", m, k, n, h, _blocks(gemm, n, cols, h),
                              in_group, out_bytes))
        else:
            skipped[op.kind] = skipped.get(op.kind, 0) + 1
    return works, skipped


# ----- SCALE-Sim -----------------------------------------------------------------------

def scalesim_version() -> str:
    """The installed SCALE-Sim version.

    Raises
    ------
    InputError
        When SCALE-Sim is not installed (the message says how to install it).
    """
    from importlib import metadata

    try:
        import scalesim  # noqa: F401
        return metadata.version("scalesim")
    except (ImportError, metadata.PackageNotFoundError):
        raise InputError(INSTALL_HINT) from None


def available() -> bool:
    """True when SCALE-Sim can be imported."""
    try:
        scalesim_version()
    except InputError:
        return False
    return True


def cache_dir() -> Path:
    """Directory of the per-layer cache: ``$ARAS_TPU_CACHE``, else the user's cache dir.

    ``$XDG_CACHE_HOME/aras/tpu`` or ``~/.cache/aras/tpu``; never inside the repository.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aras" / "tpu"


def _config_text(cfg: TpuConfig) -> str:
    bw = max(1, int(cfg.dram_bytes_per_cycle // cfg.word_bytes))
    return f"""[general]
run_name = aras_tpu

[architecture_presets]
ArrayHeight: {cfg.array_rows}
ArrayWidth: {cfg.array_cols}
IfmapSramSzkB: {cfg.ifmap_sram_kb}
FilterSramSzkB: {cfg.filter_sram_kb}
OfmapSramSzkB: {cfg.ofmap_sram_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Dataflow: ws
Bandwidth: {bw}
ReadRequestBuffer: 128
WriteRequestBuffer: 128

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {bw}
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {bw}
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def _topology_text(shape: Shape) -> str:
    if shape[0] == "gemm":
        _, m, k, n = shape
        return f"Layer,M,N,K,\nl0,{m},{n},{k},\n"
    _, h, w, kh, kw, c, n, s = shape
    return ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,"
            f"Num Filter,Stride,\nl0,{h},{w},{kh},{kw},{c},{n},{s},\n")


def run_scalesim(shape: Shape, cfg: TpuConfig) -> dict[str, Any]:
    """Simulate one layer with SCALE-Sim (no cache) and return its counts.

    Returns
    -------
    dict
        ``cycles`` (SCALE-Sim's "Total Cycles" + 1: it reports the index of the last
        cycle, counted from 0), ``scalesim_total_cycles``, ``stall_cycles``, the SRAM
        counts ``ifmap_sram_reads``, ``filter_sram_reads``, ``ofmap_sram_writes``, the DRAM
        counts ``ifmap_dram_reads``, ``filter_dram_reads``, ``ofmap_dram_writes`` (words)
        and ``runtime_s``.

    Raises
    ------
    InputError
        When SCALE-Sim is not installed.
    """
    scalesim_version()
    import numpy as np
    from scalesim.layout_utils import layouts
    from scalesim.memory.write_buffer import write_buffer
    from scalesim.scale_config import scale_config
    from scalesim.single_layer_sim import single_layer_sim
    from scalesim.topology_utils import topologies

    class _FlatWriteBuffer(write_buffer):
        """SCALE-Sim 3.0.0 takes ``int(max(...))`` of these (n, 1) cycle arrays, which
        NumPy 2.4 rejects; the same cycles, flattened."""

        def service_writes(self, incoming_requests_arr_np: Any,
                           incoming_cycles_arr_np: Any) -> Any:
            return np.asarray(super().service_writes(incoming_requests_arr_np,
                                                     incoming_cycles_arr_np)).reshape(-1)

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aras-tpu-") as tmp:
        d = Path(tmp)
        (d / "tpu.cfg").write_text(_config_text(cfg))
        (d / "topology.csv").write_text(_topology_text(shape))
        (d / "layout.csv").write_text("Layer name,\n")
        with contextlib.redirect_stdout(io.StringIO()):
            conf = scale_config()
            conf.read_conf_file(str(d / "tpu.cfg"))
            topo = topologies()
            topo.load_arrays(topofile=str(d / "topology.csv"), mnk_inputs=shape[0] == "gemm")
            topo.topo_calc_hyperparams()
            lay = layouts()
            lay.load_arrays(layoutfile=str(d / "layout.csv"))
            sim = single_layer_sim()
            sim.set_params(layer_id=0, config_obj=conf, topology_obj=topo, layout_obj=lay,
                           verbose=False)
            sim.memory_system.ofmap_buf = _FlatWriteBuffer()
            sim.run()
            comp = sim.get_compute_report_items()
            det = sim.get_detail_report_items()
    total = int(comp[1])
    return {"cycles": total + 1, "scalesim_total_cycles": total, "stall_cycles": int(comp[2]),
            "ifmap_sram_reads": int(det[2]), "filter_sram_reads": int(det[5]),
            "ofmap_sram_writes": int(det[8]), "ifmap_dram_reads": int(det[11]),
            "filter_dram_reads": int(det[14]), "ofmap_dram_writes": int(det[17]),
            "runtime_s": time.perf_counter() - t0}


def _key(shape: Shape, cfg: TpuConfig, version: str) -> str:
    text = json.dumps({"format": CACHE_FORMAT, "scalesim": version, "shape": list(shape),
                       "config": cfg.simulator_key()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


#: SCALE-Sim results shipped with the package (``benchmarks/tpu_seed.py`` regenerates them):
#: the layers of the paper's networks at the default configuration, so that ``aras paper``
#: does not spend 9 minutes in SCALE-Sim on a fresh install. Keyed like the cache, so a
#: different SCALE-Sim version or configuration never reads them.
SEED_FILE = Path(__file__).with_name("tpu_seed.json")


@functools.cache
def _seed() -> dict[str, dict[str, Any]]:
    if os.environ.get(CACHE_ENV + "_NO_SEED"):
        return {}
    try:
        data = json.loads(SEED_FILE.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def simulate(shape: Shape, cfg: TpuConfig, cache: Path | None = None,
             version: str | None = None) -> tuple[dict[str, Any], bool]:
    """One layer's SCALE-Sim counts from the cache, else simulated and cached.

    Returns
    -------
    (counts, cached)
        The counts of :func:`run_scalesim` and whether they came from the cache.
    """
    version = version or scalesim_version()  # callers looping over shapes pass it once
    folder = cache if cache is not None else cache_dir()
    path = folder / f"{_key(shape, cfg, version)}.json"
    if path.is_file():
        try:
            entry = json.loads(path.read_text())
            if entry.get("shape") == list(shape):
                return entry["counts"], True
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is simulated again
    seed = _seed().get(path.stem)
    if seed is not None and seed.get("shape") == list(shape):
        return seed["counts"], True
    counts = run_scalesim(shape, cfg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"shape": list(shape), "scalesim": version,
                                            "config": cfg.simulator_key(), "counts": counts}))
    except OSError:
        pass  # a read-only cache only costs time
    return counts, False


# ----- the network -------------------------------------------------------------------

ENERGY_PARTS = ("mac", "sram", "dram", "static")


@dataclass
class TpuReport:
    """Latency and energy of one inference on the TPU-like accelerator.

    Attributes
    ----------
    layers
        One dict per op with systolic work (cycles, DRAM bytes, energies).
    energy
        ``mac``, ``sram``, ``dram``, ``static`` and ``total`` in J.
    skipped
        Weightless ops given no time or energy, by kind.
    """

    network: str
    config: TpuConfig
    cycles: int
    compute_cycles: int
    energy: dict[str, float]
    layers: list[dict[str, Any]]
    skipped: dict[str, int]
    simulated: int
    cached: int
    scalesim_s: float
    scalesim_version: str

    @property
    def latency_s(self) -> float:
        """Latency of one inference (layers one after the other)."""
        return self.cycles / self.config.frequency_hz

    @property
    def throughput_inf_s(self) -> float:
        """Inferences per second."""
        return 1.0 / self.latency_s if self.cycles else math.inf

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``aras tpu --json``)."""
        cfg = asdict(self.config)
        return {"network": self.network, "cycles": self.cycles,
                "compute_cycles": self.compute_cycles, "latency_s": self.latency_s,
                "throughput_inf_s": self.throughput_inf_s, "energy_j": self.energy,
                "skipped_ops": self.skipped, "shapes_simulated": self.simulated,
                "shapes_cached": self.cached, "scalesim_runtime_s": self.scalesim_s,
                "scalesim_version": self.scalesim_version, "config": cfg,
                "layers": self.layers}


def tpu_cost(net: Network, cfg: TpuConfig | None = None, *, cache: Path | None = None,
             progress: Callable[[str, int, int], None] | None = None) -> TpuReport:
    """Cycles and energy of ``net`` on the TPU-like accelerator.

    Parameters
    ----------
    net
        Any network aras accepts.
    cfg
        The accelerator (default: paper Table I).
    cache
        Cache directory (default :func:`cache_dir`).
    progress
        Called as ``progress(op, done, total)`` before each distinct shape is simulated.

    Raises
    ------
    InputError
        When SCALE-Sim is not installed.
    """
    cfg = cfg or TpuConfig()
    version = scalesim_version()
    works, skipped = network_work(net, cfg)
    shapes = list(dict.fromkeys(s for w in works for s, _ in w.blocks))
    owner = {s: w.op for w in reversed(works) for s, _ in w.blocks}
    results: dict[Shape, dict[str, Any]] = {}
    sim_s, fresh = 0.0, 0
    for i, s in enumerate(shapes):
        if progress:
            progress(owner[s], i, len(shapes))
        counts, hit = simulate(s, cfg, cache, version)
        results[s] = counts
        if not hit:
            fresh += 1
            sim_s += counts["runtime_s"]
    wb = cfg.word_bytes
    ifb = cfg.ifmap_sram_kb * 1024
    er, ew = cfg.sram_read_j_per_byte, cfg.sram_write_j_per_byte
    layers = []
    total_cycles = total_compute = 0
    energy = dict.fromkeys(ENERGY_PARTS, 0.0)
    for w in works:
        c = {k: sum(results[s][k] * n for s, n in w.blocks) for k in (
            "cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes",
            "filter_dram_reads", "ofmap_dram_writes")}
        nblocks = sum(n for _, n in w.blocks) // w.copies
        first = results[w.blocks[0][0]]["ifmap_dram_reads"]
        ifmap_dram = w.copies * first * (1 if w.input_bytes <= ifb else nblocks)
        ofmap_dram = w.output_bytes // wb
        dram_bytes = (ifmap_dram + c["filter_dram_reads"] + ofmap_dram) * wb
        dram_cycles = math.ceil(dram_bytes / cfg.dram_bytes_per_cycle)
        cycles = max(c["cycles"], dram_cycles)
        macs = w.copies * w.m * w.k * w.n
        sram_j = wb * (c["ifmap_sram_reads"] * er["ifmap"] + c["filter_sram_reads"] * er["filter"]
                       + c["ofmap_sram_writes"] * ew["ofmap"] + ifmap_dram * ew["ifmap"]
                       + c["filter_dram_reads"] * ew["filter"] + ofmap_dram * er["ofmap"])
        e = {"mac": macs * cfg.mac_energy_j, "sram": sram_j,
             "dram": dram_bytes * cfg.dram_energy_j_per_byte,
             "static": cfg.sram_leakage_w_per_byte * cfg.buffer_bytes * cycles
             / cfg.frequency_hz}
        for k, v in e.items():
            energy[k] += v
        total_cycles += cycles
        total_compute += c["cycles"]
        layers.append({"op": w.op, "kind": w.kind, "m": w.m, "k": w.k, "n": w.n,
                       "copies": w.copies, "macs": macs, "compute_cycles": c["cycles"],
                       "dram_cycles": dram_cycles, "cycles": cycles,
                       "bound": "dram" if dram_cycles > c["cycles"] else "compute",
                       "dram_bytes": dram_bytes,
                       "scalesim_ofmap_dram_writes": c["ofmap_dram_writes"],
                       "energy_j": e})
    energy["total"] = sum(energy[k] for k in ENERGY_PARTS)
    return TpuReport(net.name, cfg, total_cycles, total_compute, energy, layers, skipped,
                     fresh, len(shapes) - fresh, sim_s, version)
