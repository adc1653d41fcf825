"""How the process allocates: freed memory kept for reuse (a speed-up on big inputs).

NumPy takes every array from ``malloc``. glibc serves blocks over 32 MB (at most) with a fresh
``mmap`` and gives them back on ``free``, so each full-size temporary of a big evaluation
(4 million writes: 34 MB an ``int64`` column) is new memory that the kernel must fault in and
zero, page by page. On this project's virtual machine that system time was 0.6-1.7 s of a
70B schedule's 2.2-3.9 s ``aras evaluate`` (docs in the README's Performance section).
:func:`keep_freed_memory` makes glibc take such blocks from its heap and keep what is freed,
so later temporaries reuse memory that is already mapped. The peak memory barely changes
(70B evaluate: 521 -> 527 MB). Only the one-task commands (``aras solve``, ``aras evaluate``)
ask for it: a process that runs many tasks (a study) could see its heap fragment, memory that
is free but cannot be given back.
"""

from __future__ import annotations

import ctypes
import sys

#: glibc's ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Ask glibc's ``malloc`` to serve big blocks from its heap and keep freed memory.

    Process-wide, so only the command line calls it, in the commands that run one big task;
    a library does not. Returns
    whether it took effect (False off glibc, e.g. macOS or musl: nothing changes there).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # no mmap for big blocks (glibc still falls back to it when the heap cannot grow), and
    # freed memory at the top of the heap is kept up to 2 GB
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
