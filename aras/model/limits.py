"""Sizes the package handles, and the checks of numbers read from any input.

Beyond these limits the model's objects stop being machine-sized (integers overflow int64 or
lose float exactness, arrays do not fit in memory, loops do not end), so inputs beyond them
are rejected up front with a one-line :class:`~aras.model.errors.InputError` that names the
field (docs/model.md, "Input limits"). Each limit leaves a wide margin over the largest
built-in network, Llama-3-8B (7.5 G weights, 458,048 APU rows, 482 ops).
"""

from __future__ import annotations

import math
from typing import Any

from aras.model.errors import InputError, arg_name

#: Integers that count cycles, bytes or MACs stay below 2^53, where floats still count exactly.
INT_LIMIT = 1 << 53
#: Any size attribute of an op (channels, features, kernel, stride, padding, ...) or a shape.
MAX_DIM = 1 << 40
#: Elements of one tensor (2^40 = 1.1e12; the largest built-in one, Llama-3-8B's logits: 1.6e7).
MAX_ELEMENTS = 1 << 40
#: Crossbar weights of one layer (2^34 = 1.7e10; Llama-3-8B's largest layer has 5.3e8).
MAX_LAYER_WEIGHTS = 1 << 34
#: Crossbar weights of one network (2^37 = 1.4e11; a 70B-parameter model has 6.9e10).
MAX_NETWORK_WEIGHTS = 1 << 37
#: Ops of one network (the most among the built-ins: Llama-2-7B and Llama-3-8B, 482).
MAX_OPS = 1 << 17
#: Sequence lengths (--tokens, --context; any network input dimension they set).
MAX_TOKENS = 1 << 20
#: APU rows of a mapped network at replication 1 (every one is written at least once: the
#: schedules and the evaluator hold an entry per write; Llama-3-8B has 458,048).
MAX_MAPPED_APU_ROWS = 1 << 23
#: Compute steps (parts) of a mapped network (Llama-3-8B on the paper's hardware: 1,177). The
#: bounds keep a predecessor mask per step, memory quadratic in the steps: 32,768 steps take
#: 27 s and 0.26 GB for a baseline solve, 262,144 more than 4 GB.
MAX_STEPS = 1 << 16
#: Inferences in one batch (``batch``, ``--batch``; docs/model.md "Batch"). Serving runs at 8 to
#: 256; at 4,096 every built-in network is long compute-bound (its windows take many times its
#: writes), so larger batches only scale the figures linearly, while window counts and
#: activation bytes grow towards the 2^53 of cycle arithmetic.
MAX_BATCH = 1 << 12


def integer(value: Any, where: str, *, lo: int | None = None, hi: int | None = INT_LIMIT
            ) -> int:
    """``value`` as an exact integer in ``[lo, hi]`` (bools, floats and NaN are refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}: must be an integer, got {value!r}")
    if lo is not None and value < lo:
        raise InputError(f"{where}: must be >= {lo:,}, got {shown(value)}")
    if hi is not None and value > hi:
        raise InputError(f"{where}: at most {hi:,} is supported, got {shown(value)}")
    return value


def check_batch(batch: Any) -> int:
    """``batch`` as an integer in ``[1, MAX_BATCH]`` (errors name ``batch``, or ``--batch``
    under the CLI)."""
    return integer(batch, arg_name("batch"), lo=1, hi=MAX_BATCH)


def number(value: Any, where: str, *, lo: float | None = None, lo_open: bool = False,
           hi: float | None = None, hi_open: bool = False) -> float:
    """``value`` as a finite number in the given range (NaN and infinities are refused)."""
    want = "a finite number"
    if lo is not None:
        want += f" {'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        want += f"{' and' if lo is not None else ''} {'<' if hi_open else '<='} {hi:g}"
    ok = (not isinstance(value, bool) and isinstance(value, (int, float))
          and not (isinstance(value, float) and not math.isfinite(value))
          and not (isinstance(value, int) and abs(value) >= 1 << 1024)  # beyond any float
          and (lo is None or (value > lo if lo_open else value >= lo))
          and (hi is None or (value < hi if hi_open else value <= hi)))
    if not ok:
        got = shown(value) if isinstance(value, int) and not isinstance(value, bool) else repr(
            value)
        raise InputError(f"{where}: must be {want}, got {got}")
    return float(value)


def shown(v: int) -> str:
    """A possibly enormous integer, shown readably (10^30 as 1.00e30, not 31 digits)."""
    if abs(v) < 10**18:
        return f"{v:,}"
    try:
        d = str(abs(v))
    except ValueError:  # beyond Python's 4,300 digits for str()
        return f"{'-' if v < 0 else ''}2^{abs(v).bit_length() - 1} or more"
    return f"{'-' if v < 0 else ''}{d[0]}.{d[1:3]}e{len(d) - 1}"


__all__ = ["INT_LIMIT", "MAX_DIM", "MAX_ELEMENTS", "MAX_LAYER_WEIGHTS", "MAX_NETWORK_WEIGHTS",
           "MAX_OPS", "MAX_TOKENS", "MAX_MAPPED_APU_ROWS", "MAX_STEPS", "MAX_BATCH", "integer",
           "check_batch", "number", "shown"]
