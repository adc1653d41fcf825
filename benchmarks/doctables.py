"""Result files of the documentation's tables: how the scripts here write them.

Every table of measured figures in ``README.md`` and ``docs/`` is a copy of a result file
that a script in ``benchmarks/`` wrote. The file's first line says which command wrote it,
with which version of aras and on which day; a page includes the whole file between two
markers, which ``python benchmarks/check_docs.py --write`` fills in::

    <!-- table: benchmarks/results/reference.md -->
    *Written by `python benchmarks/reference_table.py` with aras 0.1.0 on 2026-01-31.*

    | network | ... |
    <!-- end table -->

``python benchmarks/check_docs.py`` fails when a page's copy differs from its file, and with
``--rerun`` when a script run now gives other figures than its file holds.
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if str(ROOT) not in sys.path:  # run as a script from anywhere: the checkout's aras first
    sys.path.insert(0, str(ROOT))

STAMP_PREFIX = "*Written by `"


def stamp(command: str, note: str = "") -> str:
    """The first line of a result file: command, version, day (and a note, e.g. the load)."""
    from aras import __version__

    day = datetime.date.today().isoformat()
    return (f"{STAMP_PREFIX}{command}` with aras {__version__} on {day}"
            f"{'; ' + note if note else ''}.*")


def load_note() -> str:
    """The machine's 1-minute load average, for tables with timings."""
    try:
        return f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at the start"
    except OSError:
        return f"{os.cpu_count()} cores"


def result_text(command: str, body: str, note: str = "") -> str:
    """A result file's text: the stamp line, a blank line, then the Markdown body."""
    return f"{stamp(command, note)}\n\n{body.strip()}\n"


def write_result(path: Path, command: str, body: str, note: str = "") -> Path:
    """Write a result file atomically (a temporary file renamed over it) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(result_text(command, body, note))
    tmp.replace(path)
    return path


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)
