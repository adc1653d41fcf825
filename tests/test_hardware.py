from __future__ import annotations

import pytest

from aras.model.errors import InputError
from aras.model.hardware import (
    ARAS_BANKS,
    Hardware,
    aras_hardware,
    baseline_hardware,
    load_hardware,
)
from tests.helpers import ROOT


def test_paper_defaults_and_derived_quantities():
    hw = aras_hardware()
    assert hw.total_apu_rows == 96 * 6 == 576
    assert hw.cells_per_weight == 4
    assert hw.weights_per_crossbar_row == 32
    assert hw.kernels_per_apu_row == 128
    assert hw.bytes_per_apu_write == 4096
    # floor(19.2e9 B/s * 768e-6 s / 4096 B) = floor(3600.0)
    assert hw.max_concurrent_apu_writes == 3600
    assert hw.max_concurrent_row_writes == 900
    assert hw.write_slots == 576
    assert hw.gbuffer_banks == ARAS_BANKS
    # 2x1K + 2K + 4K + 64K + 128K + 256K + 512K + 1M + 2M
    assert hw.gbuffer_bytes == 2048 + 2048 + 4096 + (64 + 128 + 256 + 512) * 1024 + 3 * 2**20
    assert baseline_hardware().gbuffer_banks == (256 * 1024,) * 15


def test_bandwidth_binds_on_small_memories():
    hw = aras_hardware().replace(memory_bandwidth_bytes_s=1.2e9)
    # 1.2e9 * 768e-6 / 4096 = 225 APUs = 56 rows of 4
    assert hw.max_concurrent_apu_writes == 225
    assert hw.write_slots == 56


@pytest.mark.parametrize("name,builder", [("aras", aras_hardware),
                                          ("baseline", baseline_hardware)])
def test_shipped_toml_files_equal_the_builtins(name, builder):
    assert Hardware.load(ROOT / "instances" / "hardware" / f"{name}.toml") == builder()
    assert load_hardware(name) == builder()


def test_toml_round_trip(tmp_path):
    hw = aras_hardware().replace(pes=48, write_latency_cycles=384_000, gbuffer_banks=(1, 2, 3))
    path = tmp_path / "hw.toml"
    hw.save(path)
    assert Hardware.load(path) == hw


@pytest.mark.parametrize("field,value,fragment", [
    ("pes", 0, "hardware.pes: must be > 0"),
    ("pes", -3, "hardware.pes: must be > 0"),
    ("frequency_hz", 1e-300, "hardware.frequency_hz: must be in [1000, 1e+13]"),
    ("pulses_per_level_step", 1e300, "hardware.pulses_per_level_step: must be in"),
    ("sram_leakage_w_per_byte", 1e300, "hardware.sram_leakage_w_per_byte: must be in [0, 1]"),
    ("cell_endurance_cycles", 0, "hardware.cell_endurance_cycles: must be in [1, 1e+18]"),
    ("write_latency_cycles", 1.5, "hardware.write_latency_cycles: must be an integer"),
    ("frequency_hz", 0, "hardware.frequency_hz: must be > 0"),
    ("gbuffer_banks", (1024, -1), "hardware.gbuffer_banks[1]"),
    ("gbuffer_banks", (), "hardware.gbuffer_banks: at least one bank"),
    ("weight_bits", 7, "hardware.weight_bits: 7 is not a multiple"),
    ("write_energy_per_pulse_j", -1e-12, "hardware.write_energy_per_pulse_j: must be >= 0"),
    ("memory_bandwidth_bytes_s", 1.0, "hardware.memory_bandwidth_bytes_s: too low"),
    ("write_latency_cycles", float("inf"), "write_latency_cycles: must be a finite number"),
    ("pes", float("nan"), "hardware.pes: must be a finite number"),
    ("sram_leakage_w_per_byte", float("nan"), "sram_leakage_w_per_byte: must be a finite"),
    ("pes", 10**20, "hardware.pes: at most 65,536 is supported"),
    ("write_latency_cycles", 2**60, "at most 9,007,199,254,740,992"),
    ("gbuffer_banks", (1024, 2**60), "hardware.gbuffer_banks[1]: at most"),
])
def test_invalid_values_name_the_field(field, value, fragment):
    with pytest.raises(InputError, match=None) as e:
        Hardware(**{field: value})
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_total_apu_rows_are_capped():
    assert Hardware(pes=65_536, apu_rows_per_pe=16).total_apu_rows == 1 << 20
    with pytest.raises(InputError, match="2,097,152 APU rows, at most 1,048,576"):
        Hardware(pes=65_536, apu_rows_per_pe=32)


def test_bad_files(tmp_path):
    with pytest.raises(InputError, match="hardware file not found"):
        Hardware.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("pes = = 3\n")
    with pytest.raises(InputError, match="malformed TOML"):
        Hardware.load(bad)
    bad.write_text("pez = 3\n")
    with pytest.raises(InputError, match="unknown hardware parameter 'pez'"):
        Hardware.load(bad)
    bad.write_text("pes = 'many'\n")
    with pytest.raises(InputError, match="hardware.pes: must be a number"):
        Hardware.load(bad)


@pytest.mark.parametrize("text, fragment", [
    ("", "no hardware keys"),
    ("# only a comment\n", "no hardware keys"),
    ('name = ""\n', "name must not be empty"),
])
def test_empty_hardware_files_are_refused(tmp_path, text, fragment):
    # an empty file would otherwise silently be the default hardware under another name
    f = tmp_path / "hw.toml"
    f.write_text(text)
    with pytest.raises(InputError) as e:
        Hardware.load(f)
    assert fragment in str(e.value) and "\n" not in str(e.value)
