"""Hardware description of the ARAS accelerator (MODEL.md section 2).

A :class:`Hardware` holds every parameter of the paper's Table II with its
default, the quantities derived from them, and the energy, power and
endurance parameters of the cost model (sources in ``docs/energy.md``).
It loads from and saves to a flat TOML file.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from aras.model.errors import InputError
from aras.model.files import atomic_write_text, read_toml
from aras.model.limits import INT_LIMIT

KB = 1024
MB = 1024 * 1024

#: ARAS heterogeneous Gbuffer banks (paper section VI): 2x1KB, 2KB, 4KB, 64KB ... 2MB.
ARAS_BANKS: tuple[int, ...] = (
    1 * KB, 1 * KB, 2 * KB, 4 * KB, 64 * KB, 128 * KB, 256 * KB, 512 * KB, 1 * MB, 2 * MB,
)
#: Baseline homogeneous Gbuffer banks: 15 x 256 KB.
BASELINE_BANKS: tuple[int, ...] = (256 * KB,) * 15

_INT_FIELDS = {
    "pes", "apu_rows_per_pe", "apus_per_row", "crossbar_rows", "crossbar_cols",
    "bits_per_cell", "weight_bits", "activation_bits", "compute_latency_cycles",
    "write_latency_cycles", "adcs_per_apu", "adc_bits", "pe_buffer_bytes",
    "digital_macs_per_cycle",
}
#: Upper limits that keep every mapping and schedule a machine-sized object (docs/model.md):
#: beyond them the model's arrays would not fit in memory or time before any error shows.
#: Ranges of the real-valued fields beyond which a value is a typo, not a device: numbers
#: this far out only print as "inf" or 300-digit figures (docs/model.md, "Hardware").
FLOAT_RANGES: dict[str, tuple[float, float]] = {
    "frequency_hz": (1e3, 1e13),
    "memory_bandwidth_bytes_s": (1.0, 1e16),
    "pulses_per_level_step": (0.0, 1e6),
    "cell_endurance_cycles": (1.0, 1e18),
    # energies (J) and leakage (W per byte)
    "write_energy_per_pulse_j": (0.0, 1.0),
    "sram_leakage_w_per_byte": (0.0, 1.0),
    "sram_read_energy_j_per_byte": (0.0, 1.0),
    "sram_write_energy_j_per_byte": (0.0, 1.0),
    "dram_energy_j_per_byte": (0.0, 1.0),
    "crossbar_compute_energy_j": (0.0, 1.0),
    "digital_mac_energy_j": (0.0, 1.0),
}

LIMITS: dict[str, int] = {
    "pes": 1 << 16, "apu_rows_per_pe": 1 << 10, "apus_per_row": 1 << 10,
    "crossbar_rows": 1 << 14, "crossbar_cols": 1 << 14, "bits_per_cell": 16, "weight_bits": 32,
    "activation_bits": 32, "adc_bits": 32,
}
# Other integers (cycles, bytes, counts) stay below INT_LIMIT = 2^53 (aras.model.limits),
# where floats still count exactly.
#: Gbuffer banks at most (the paper's sets have 10 and 15; bank choice is per-bank work).
MAX_BANKS = 1 << 10
#: APU rows of the whole accelerator at most (1,820 times the paper's 576).
MAX_TOTAL_APU_ROWS = 1 << 20


@dataclass(frozen=True)
class Hardware:
    """Parameters of one accelerator configuration.

    All times are integer cycles at ``frequency_hz``; sizes are bytes; energies
    are joules and powers watts. Defaults are the paper's Table II (timing and
    geometry) and the sources listed in ``docs/energy.md`` (energy).

    Raises
    ------
    InputError
        On construction, when a value is out of range; the message names it.
    """

    name: str = "aras"
    frequency_hz: float = 1e9
    pes: int = 96
    apu_rows_per_pe: int = 6
    apus_per_row: int = 4
    crossbar_rows: int = 128
    crossbar_cols: int = 128
    bits_per_cell: int = 2
    weight_bits: int = 8
    activation_bits: int = 8
    compute_latency_cycles: int = 96
    write_latency_cycles: int = 768_000
    adcs_per_apu: int = 16
    adc_bits: int = 6
    pe_buffer_bytes: int = 1536
    memory_bandwidth_bytes_s: float = 19.2e9
    gbuffer_banks: tuple[int, ...] = ARAS_BANKS
    digital_macs_per_cycle: int = 4096
    # Energy, power and endurance (docs/energy.md gives the source of each).
    write_energy_per_pulse_j: float = 2.0e-12
    pulses_per_level_step: float = 10.0
    sram_leakage_w_per_byte: float = 0.33e-3 / KB
    sram_read_energy_j_per_byte: float = 0.97e-12
    sram_write_energy_j_per_byte: float = 0.95e-12
    dram_energy_j_per_byte: float = 64e-12
    crossbar_compute_energy_j: float = 0.5e-9
    digital_mac_energy_j: float = 0.16e-12
    cell_endurance_cycles: float = 1e10
    #: APU rows that no write may use, as ``(pe, row)`` pairs (worn out or faulty); the
    #: methods see ``total_apu_rows`` usable rows and bind them to the others.
    failed_rows: tuple[tuple[int, int], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in ("name", "extra", "failed_rows"):
                continue
            value = getattr(self, f.name)
            if f.name == "gbuffer_banks":
                banks = tuple(value)
                if not banks:
                    raise InputError("hardware.gbuffer_banks: at least one bank is needed")
                if len(banks) > MAX_BANKS:
                    raise InputError(f"hardware.gbuffer_banks: at most {MAX_BANKS:,} banks are "
                                     f"supported, got {len(banks):,}")
                for i, b in enumerate(banks):
                    if isinstance(b, bool) or not isinstance(b, int) or b <= 0:
                        raise InputError(
                            f"hardware.gbuffer_banks[{i}]: must be a positive integer "
                            f"number of bytes, got {b!r}"
                        )
                object.__setattr__(self, "gbuffer_banks", banks)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"hardware.{f.name}: must be a number, got {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"hardware.{f.name}: must be a finite number, got {value!r}")
            if f.name in _INT_FIELDS and value != int(value):
                raise InputError(f"hardware.{f.name}: must be an integer, got {value!r}")
            if f.name in _INT_FIELDS:
                object.__setattr__(self, f.name, int(value))
                limit = LIMITS.get(f.name, INT_LIMIT)
                if value > limit:
                    raise InputError(f"hardware.{f.name}: at most {limit:,} is supported, got "
                                     f"{int(value):,}")
            positive = f.name in _INT_FIELDS | {"frequency_hz", "memory_bandwidth_bytes_s"}
            if value <= 0 and positive:
                raise InputError(f"hardware.{f.name}: must be > 0, got {value!r}")
            if value < 0:
                raise InputError(f"hardware.{f.name}: must be >= 0, got {value!r}")
            lo, hi = FLOAT_RANGES.get(f.name, (0.0, math.inf))
            if not lo <= value <= hi:
                raise InputError(f"hardware.{f.name}: must be in [{lo:g}, {hi:g}], got "
                                 f"{value!r}")
        if self.pes * self.apu_rows_per_pe > MAX_TOTAL_APU_ROWS:
            raise InputError(f"hardware.pes: pes x apu_rows_per_pe = "
                             f"{self.pes * self.apu_rows_per_pe:,} APU rows, at most "
                             f"{MAX_TOTAL_APU_ROWS:,} are supported")
        for i, b in enumerate(self.gbuffer_banks):
            if b > INT_LIMIT:
                raise InputError(f"hardware.gbuffer_banks[{i}]: at most {INT_LIMIT:,} bytes, "
                                 f"got {b:,}")
        if self.weight_bits % self.bits_per_cell:
            raise InputError(
                f"hardware.weight_bits: {self.weight_bits} is not a multiple of "
                f"bits_per_cell {self.bits_per_cell}"
            )
        if self.crossbar_cols % self.cells_per_weight:
            raise InputError(
                f"hardware.crossbar_cols: {self.crossbar_cols} is not a multiple of "
                f"cells_per_weight {self.cells_per_weight}"
            )
        if self.max_concurrent_row_writes < 1:
            raise InputError(
                "hardware.memory_bandwidth_bytes_s: too low to write even one APU row "
                f"within write_latency_cycles (got {self.memory_bandwidth_bytes_s!r})"
            )
        object.__setattr__(self, "failed_rows", self._check_failed(self.failed_rows))

    def _check_failed(self, value: Any) -> tuple[tuple[int, int], ...]:
        """``failed_rows`` as sorted ``(pe, row)`` pairs, each in range and listed once."""
        if not isinstance(value, (list, tuple)):
            raise InputError("hardware.failed_rows: must be a list of [pe, row] pairs, got "
                             f"{value!r}")
        seen: set[tuple[int, int]] = set()
        for i, pair in enumerate(value):
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or any(isinstance(x, bool) or not isinstance(x, int) for x in pair)):
                raise InputError(f"hardware.failed_rows[{i}]: must be a pair of integers "
                                 f"[pe, row], got {pair!r}")
            pe, row = int(pair[0]), int(pair[1])
            if not (0 <= pe < self.pes and 0 <= row < self.apu_rows_per_pe):
                raise InputError(f"hardware.failed_rows[{i}]: [{pe}, {row}] is outside the "
                                 f"{self.pes} PEs x {self.apu_rows_per_pe} rows")
            if (pe, row) in seen:
                raise InputError(f"hardware.failed_rows[{i}]: [{pe}, {row}] is listed twice")
            seen.add((pe, row))
        if len(seen) >= self.pes * self.apu_rows_per_pe:
            raise InputError(f"hardware.failed_rows: all {len(seen):,} APU rows have failed")
        return tuple(sorted(seen))

    # ----- derived quantities (MODEL.md section 2) -----
    @property
    def cells_per_weight(self) -> int:
        """ReRAM cells that hold one weight (weight_bits / bits_per_cell)."""
        return self.weight_bits // self.bits_per_cell

    @property
    def weights_per_crossbar_row(self) -> int:
        """Weights (kernels) that one crossbar row holds."""
        return self.crossbar_cols // self.cells_per_weight

    @property
    def kernels_per_apu_row(self) -> int:
        """Output columns (kernels) one APU row holds: apus_per_row x weights per crossbar row."""
        return self.apus_per_row * self.weights_per_crossbar_row

    @property
    def total_apu_rows(self) -> int:
        """Usable APU rows: pes x apu_rows_per_pe less the failed ones (what every method,
        bound and mapping counts with)."""
        return self.pes * self.apu_rows_per_pe - len(self.failed_rows)

    @property
    def physical_apu_rows(self) -> int:
        """APU rows of the chip, failed or not (pes x apu_rows_per_pe); physical row ids are
        ``pe * apu_rows_per_pe + row`` in ``0 .. physical_apu_rows - 1``."""
        return self.pes * self.apu_rows_per_pe

    @cached_property
    def failed_row_ids(self) -> frozenset[int]:
        """Physical row ids of the failed rows."""
        return frozenset(pe * self.apu_rows_per_pe + row for pe, row in self.failed_rows)

    @cached_property
    def usable_row_ids(self) -> tuple[int, ...] | None:
        """Physical row id of every usable row by its logical index, ascending; None when no
        row has failed (logical and physical ids are then the same)."""
        if not self.failed_rows:
            return None
        bad = self.failed_row_ids
        return tuple(r for r in range(self.physical_apu_rows) if r not in bad)

    def physical_rows(self, logical: list[int]) -> list[int]:
        """Physical row ids of logical rows ``0 .. total_apu_rows - 1``: the usable rows in
        ascending order, failed ones skipped."""
        ids = self.usable_row_ids
        return logical if ids is None else [ids[r] for r in logical]

    @property
    def bytes_per_apu_write(self) -> int:
        """Bytes fetched from memory to write one APU (one crossbar)."""
        return self.crossbar_rows * self.crossbar_cols * self.bits_per_cell // 8

    @property
    def max_concurrent_apu_writes(self) -> int:
        """APUs that memory bandwidth lets write at once (MODEL.md section 2)."""
        write_s = self.write_latency_cycles / self.frequency_hz
        # A small epsilon guards against 3599.9999 from float rounding of exact products.
        n = self.memory_bandwidth_bytes_s * write_s / self.bytes_per_apu_write + 1e-9
        # Far beyond any accelerator's rows (a clock of 1e-300 Hz makes it infinite): capped.
        return int(math.floor(n)) if n < INT_LIMIT else INT_LIMIT

    @property
    def max_concurrent_row_writes(self) -> int:
        """APU rows that may be in the middle of a write at one instant (R6)."""
        return self.max_concurrent_apu_writes // self.apus_per_row

    @property
    def write_slots(self) -> int:
        """Rows that can be written at once: min(total rows, bandwidth limit)."""
        return min(self.total_apu_rows, self.max_concurrent_row_writes)

    @property
    def gbuffer_bytes(self) -> int:
        """Total Gbuffer capacity."""
        return sum(self.gbuffer_banks)

    def bank_leakage_w(self) -> list[float]:
        """Static power of each Gbuffer bank when powered (linear in size)."""
        return [b * self.sram_leakage_w_per_byte for b in self.gbuffer_banks]

    def seconds(self, cycles: float) -> float:
        """Convert cycles to seconds."""
        return cycles / self.frequency_hz

    # ----- serialisation -----
    def to_dict(self) -> dict[str, Any]:
        """Every parameter as a plain dict (the schedule file's ``hardware``)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if f.name == "failed_rows":
                if v:  # (absent when none: files of a sound chip are as before)
                    out[f.name] = [list(p) for p in v]
                continue
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "hardware") -> Hardware:
        """Build from a dict, rejecting unknown keys with a one-line error."""
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a table of parameters")
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{source}: unknown hardware parameter '{unknown[0]}'")
        kwargs = dict(data)
        if "gbuffer_banks" in kwargs:
            banks = kwargs["gbuffer_banks"]
            if not isinstance(banks, (list, tuple)):
                raise InputError(f"{source}: gbuffer_banks must be a list of byte sizes")
            kwargs["gbuffer_banks"] = tuple(banks)
        if "failed_rows" in kwargs and isinstance(kwargs["failed_rows"], list):
            kwargs["failed_rows"] = tuple(tuple(p) if isinstance(p, list) else p
                                          for p in kwargs["failed_rows"])
        if "name" in kwargs and not isinstance(kwargs["name"], str):
            raise InputError(f"{source}: name must be a string")
        if "name" in kwargs and not kwargs["name"].strip():
            raise InputError(f"{source}: name must not be empty")
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Hardware:
        """A copy with some parameters changed (validated)."""
        return dataclasses.replace(self, **changes)

    def to_toml(self) -> str:
        """The configuration as TOML text."""
        lines = []
        for key, v in self.to_dict().items():
            if isinstance(v, str):
                lines.append(f'{key} = "{v}"')
            elif isinstance(v, list):
                lines.append(f"{key} = [{', '.join(str(x) for x in v)}]")
            elif isinstance(v, float):
                lines.append(f"{key} = {v!r}")
            else:
                lines.append(f"{key} = {v}")
        return "\n".join(lines) + "\n"

    def save(self, path: str | Path) -> None:
        """Write the configuration as TOML."""
        atomic_write_text(path, self.to_toml())

    @classmethod
    def load(cls, path: str | Path) -> Hardware:
        """Read a TOML configuration; missing keys take the defaults.

        Raises
        ------
        InputError
            When the file is missing or malformed or a value is invalid.
        """
        p = Path(path)
        data = read_toml(p, "hardware")
        if not data:
            # an empty (or comment-only) file would silently be the default hardware
            raise InputError(f"{p}: no hardware keys (name one at least, e.g. name = \"mine\")")
        return cls.from_dict(data, source=str(p))


def aras_hardware() -> Hardware:
    """The paper's ARAS configuration (heterogeneous banks)."""
    return Hardware(name="aras", gbuffer_banks=ARAS_BANKS)


def baseline_hardware() -> Hardware:
    """The paper's baseline configuration (15 x 256 KB homogeneous banks)."""
    return Hardware(name="baseline", gbuffer_banks=BASELINE_BANKS)


BUILTIN_HARDWARE = {"aras": aras_hardware, "baseline": baseline_hardware}


def load_hardware(spec: str | Path | None) -> Hardware:
    """A built-in name (``aras``, ``baseline``), a TOML path, or None for ``aras``."""
    if spec is None:
        return aras_hardware()
    s = str(spec)
    if s in BUILTIN_HARDWARE:
        return BUILTIN_HARDWARE[s]()
    return Hardware.load(s)
