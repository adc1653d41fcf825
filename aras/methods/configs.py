"""The paper's four configurations (section VI) as solve settings."""

from __future__ import annotations

from dataclasses import dataclass

from aras.model.errors import InputError, arg_name
from aras.model.hardware import Hardware, aras_hardware, baseline_hardware


@dataclass(frozen=True)
class Config:
    """One configuration: which banks, which scheduler, which bank choice, reuse or not."""

    name: str
    label: str
    homogeneous_banks: bool
    method: str
    banks: str
    reuse: bool

    def hardware(self, base: Hardware | None = None) -> Hardware:
        """The configuration's hardware: ``base`` (default the paper's) with its bank set."""
        hw = base if base is not None else aras_hardware()
        banks = baseline_hardware().gbuffer_banks if self.homogeneous_banks else (
            aras_hardware().gbuffer_banks)
        if base is not None and not self.homogeneous_banks:
            return hw
        return hw.replace(name=self.name, gbuffer_banks=banks)


CONFIGS: dict[str, Config] = {
    "base": Config("base", "Base", True, "baseline", "greedy", False),
    "bank": Config("bank", "+Bank", False, "baseline", "ilp", False),
    "bank-repl": Config("bank-repl", "+Bank+Repl", False, "aras", "ilp", False),
    "all": Config("all", "+All", False, "aras", "ilp", True),
}


def get_config(name: str) -> Config:
    """A configuration by name, or a one-line error."""
    if name not in CONFIGS:
        raise InputError(f"{arg_name('config')}: unknown configuration '{name}' (known: "
                         f"{', '.join(CONFIGS)})")
    return CONFIGS[name]
