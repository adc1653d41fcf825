"""Mutation run: single bugs put into a copy of the code, one at a time, and the tests that
should notice run against each.

Every mutant is a small edit (mostly one line: an off-by-one in a rule's comparison, a skipped
check, a no-op, LSB for MSB, a dropped fsync or rename, a swapped order, a bound off by one).
For each, the repository is copied to a temporary directory (the files ``git ls-files`` lists,
plus untracked test files, or the tree of ``--rev``), the edit applied there, and pytest run on
the mutant's test files with ``-x``. The mutant is *killed* when pytest fails; the first failing
test is reported. Mutants whose text is not in the copied tree (code that changed since
``--rev``) are reported as ``n/a``.

Usage::

    python benchmarks/mutants.py                    # the worktree's code and tests
    python benchmarks/mutants.py --rev COMMIT       # another commit's code and tests
    python benchmarks/mutants.py --only R3-late R2-overlap --out table.md

Runs sequentially under ``nice`` with ``CI=1`` (derandomized hypothesis). It never touches
the working tree. ``benchmarks/mutants.md`` has the table of the last run: the one mutant
that survives, ``bind-transposed``, is equivalent (the expected level steps between two
independent distributions are symmetric). The timing test
``test_evaluator_handles_100k_writes_fast`` is deselected: a loaded machine fails it with no bug.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

EVAL = "aras/evaluation/evaluator.py"
#: Where the evaluator's code lives since it was split (rules, pulses): an ``EVAL`` edit
#: applies to whichever of these holds its text (older trees: evaluator.py alone).
EVAL_PARTS = ("aras/evaluation/rules.py", "aras/evaluation/pulses.py")
MAPPING = "aras/model/mapping.py"
HARDWARE = "aras/model/hardware.py"
WEIGHTS = "aras/model/weights.py"
BINDING = "aras/methods/binding.py"
BIND_F = "formulations/binding.py"
REUSE = "aras/methods/reuse.py"
RUN = "aras/studies/run.py"
BOUNDS = "aras/evaluation/bounds.py"
REPLAY = "aras/evaluation/replay.py"

T_EVAL = ["tests/test_rule_boundaries.py", "tests/test_evaluator_rules.py",
          "tests/test_schedule_file.py", "tests/test_heuristics.py"]
T_BIND = ["tests/test_binding.py"]
T_REUSE = ["tests/test_reuse.py", "tests/test_pulses.py", "tests/test_paper.py"]
T_STUDY = ["tests/test_study_writer.py", "tests/test_study.py"]
T_BOUNDS = ["tests/test_bounds_strong.py"]
T_PROGRAM = ["tests/test_program.py"]
#: Deselected everywhere: a wall-clock budget, which a loaded machine breaks with no bug.
DESELECT = ["tests/test_evaluator_rules.py::test_evaluator_handles_100k_writes_fast"]


@dataclass
class Mutant:
    """``edits``: alternatives, each a list of (file, old, new); the first that applies wins."""

    id: str
    what: str
    edits: list[list[tuple[str, str, str]]]
    tests: list[str]
    equivalent: str = ""  # why no test can tell it apart, when that is so
    notes: list[str] = field(default_factory=list)


def one(id_: str, what: str, file: str, old: str, new: str, tests: list[str],
        equivalent: str = "") -> Mutant:
    return Mutant(id_, what, [[(file, old, new)]], tests, equivalent)


MUTANTS: list[Mutant] = [
    # ----- evaluator: R1 -----
    one("R1-count", "R1 accepts extra writes (!= -> <)", EVAL,
        "if counts[i] != need:", "if counts[i] < need:", T_EVAL),
    one("R1-rep0", "R1 accepts replication 0 (< 1 -> < 0)", EVAL,
        "if s.replication < 1:", "if s.replication < 0:", T_EVAL),
    one("R1-rows", "R1 accepts fewer apu_rows than the mapping (!= -> >)", EVAL,
        "if s.apu_rows != ps.apu_rows:", "if s.apu_rows > ps.apu_rows:", T_EVAL),
    one("R1-tiles", "R1 skips the explicit-tile check", EVAL,
        'add(Violation("R1", f"{s.layer}/{s.part}: tiles must',
        '(Violation("R1", f"{s.layer}/{s.part}: tiles must', T_EVAL),
    # ----- R2 -----
    one("R2-overlap", "R2 lets two holds overlap by 1 cycle", EVAL,
        "(s_s[1:] < e_s[:-1])", "(s_s[1:] + 1 < e_s[:-1])", T_EVAL),
    one("R2-strict", "R2 rejects holds that only touch (< -> <=)", EVAL,
        "(s_s[1:] < e_s[:-1])", "(s_s[1:] <= e_s[:-1])", T_EVAL),
    Mutant("R2-write-only", "R2 holds a row until the write ends, not the compute", [
        [(EVAL, "e_s = idx.end[idx.wstep[i_s]]", "e_s = w.start[i_s] + hw.write_latency_cycles")],
        [(EVAL, "en = idx.end[idx.wstep[sel]]", "en = st + hw.write_latency_cycles")]], T_EVAL),
    # ----- R3 -----
    # (since the check per write looks only into runs found late per run, both comparisons
    # change together; older trees have the per-write one alone)
    Mutant("R3-late", "R3 lets a write end 1 cycle after its compute starts", [
        [(EVAL, "idx.run_heads) + T > idx.start[idx.run_step]",
          "idx.run_heads) + T - 1 > idx.start[idx.run_step]"),
         (EVAL, "late = sel[w.start[sel] + T > idx.start[idx.wstep[sel]]]",
          "late = sel[w.start[sel] + T - 1 > idx.start[idx.wstep[sel]]]")],
        [(EVAL, "late = sel[w.start[sel] + T > idx.start[idx.wstep[sel]]]",
          "late = sel[w.start[sel] + T - 1 > idx.start[idx.wstep[sel]]]")]], T_EVAL),
    Mutant("R3-strict", "R3 rejects a write ending exactly at the compute start (> -> >=)", [
        [(EVAL, "idx.run_heads) + T > idx.start[idx.run_step]",
          "idx.run_heads) + T >= idx.start[idx.run_step]"),
         (EVAL, "late = sel[w.start[sel] + T > idx.start[idx.wstep[sel]]]",
          "late = sel[w.start[sel] + T >= idx.start[idx.wstep[sel]]]")],
        [(EVAL, "late = sel[w.start[sel] + T > idx.start[idx.wstep[sel]]]",
          "late = sel[w.start[sel] + T >= idx.start[idx.wstep[sel]]]")]], T_EVAL),
    # ----- R4 -----
    one("R4-overlap", "R4 lets consecutive computes overlap by 1 cycle", EVAL,
        "if steps[i].start < steps[i - 1].end:", "if steps[i].start + 1 < steps[i - 1].end:",
        T_EVAL),
    one("R4-positions", "R4's DAG check ignores the listed order (times only)", EVAL,
        "if last[src] > first[op.name] or p_end > c_start:", "if p_end > c_start:", T_EVAL),
    one("R4-dag-times", "R4's DAG check on times off by one", EVAL,
        "if last[src] > first[op.name] or p_end > c_start:",
        "if last[src] > first[op.name] or p_end > c_start + 1:", T_EVAL),
    one("R4-missing", "R4 skips 'never computed'", EVAL,
        'add(Violation("R4", f"{key[0]}/{key[1]}: never computed"))',
        '(Violation("R4", f"{key[0]}/{key[1]}: never computed"))', T_EVAL),
    # ----- R5 -----
    one("R5-longer", "R5 accepts a longer compute (!= -> <)", EVAL,
        "if s.end - s.start != need:", "if s.end - s.start < need:", T_EVAL),
    one("R5-floor", "compute cycles floor(windows / r) instead of ceil", MAPPING,
        "return ceil_div(step.windows, replication) * self.hardware.compute_latency_cycles",
        "return step.windows // replication * self.hardware.compute_latency_cycles", T_EVAL),
    one("R5-matmul", "weightless matmul cycles floor(MACs / rate) instead of ceil", MAPPING,
        "cycles = ceil_div(macs, hw.digital_macs_per_cycle)",
        "cycles = macs // hw.digital_macs_per_cycle", T_EVAL),
    # ----- R6 -----
    one("R6-plus1", "R6 allows one row more than the bandwidth", EVAL,
        "over = level > limit", "over = level > limit + 1", T_EVAL),
    one("R6-order", "R6 counts starts before ends at equal times", EVAL,
        "order = np.lexsort((d, t))", "order = np.lexsort((-d, t))", T_EVAL),
    one("R6-ceil", "max_concurrent_apu_writes rounds up", HARDWARE,
        "return int(math.floor(self.memory_bandwidth_bytes_s",
        "return int(math.ceil(self.memory_bandwidth_bytes_s", T_EVAL),
    # ----- R7 -----
    Mutant("R7-pe", "R7 accepts pe == pes", [
        [(EVAL, "valid_row &= w.pe < hw.pes", "valid_row &= w.pe <= hw.pes")],
        [(EVAL, "(w.pe < hw.pes)", "(w.pe <= hw.pes)")]], T_EVAL),
    Mutant("R7-row", "R7 accepts row == apu_rows_per_pe", [
        [(EVAL, "valid_row &= w.row < per", "valid_row &= w.row <= per")],
        [(EVAL, "(w.row < per)", "(w.row <= per)")]], T_EVAL),
    Mutant("R7-pe-neg", "R7 accepts pe == -1", [
        [(EVAL, "valid_row = w.pe >= 0", "valid_row = w.pe >= -1")],
        [(EVAL, "(w.pe >= 0)", "(w.pe >= -1)")]], T_EVAL),
    one("R7-write-neg", "R7 accepts a write at -1", EVAL,
        "for j in np.flatnonzero(w.start < 0).tolist():",
        "for j in np.flatnonzero(w.start < -1).tolist():", T_EVAL),
    one("R7-step-neg", "R7 accepts a step at -1", EVAL,
        "if s.start < 0 or s.end < 0:", "if s.start < -1 or s.end < -1:", T_EVAL),
    # ----- R8 -----
    one("R8-in", "R8 input capacity one byte short accepted", EVAL,
        "if cap_in < ps.in_need:", "if cap_in + 1 < ps.in_need:", T_EVAL),
    one("R8-out", "R8 output capacity one byte short accepted", EVAL,
        "if cap_out < ps.out_need:", "if cap_out + 1 < ps.out_need:", T_EVAL),
    one("R8-passes", "R8 checks whole-step bytes, not one pass's", EVAL,
        "if cap_in < ps.in_need:", "if cap_in < ps.in_bytes:", T_EVAL),
    one("R8-disjoint", "R8 skips the disjointness check", EVAL,
        "both = sorted(set(s.banks_in) & set(s.banks_out))", "both: list[int] = []", T_EVAL),
    one("R8-dup", "R8 counts a bank listed twice twice", EVAL,
        "cap_in = sum(sizes[b] for b in set(s.banks_in))",
        "cap_in = sum(sizes[b] for b in s.banks_in)", T_EVAL),
    one("R8-index", "R8 accepts bank index == number of banks", EVAL,
        "if not 0 <= b < len(sizes)]", "if not 0 <= b <= len(sizes)]", T_EVAL),
    one("makespan", "the file's makespan may be larger than the last end", EVAL,
        "if sched.makespan != real:", "if sched.makespan < real:", T_EVAL),
    # ----- rebind -----
    one("rebind-noop", "rebind returns its input", BINDING,
        "    new = bind(problem, sched, dist_of_step, steps_pp)\n",
        "    return sched, before, before\n", T_BIND),
    one("rebind-equal", "rebind returns a new binding that is only as good", BINDING,
        "if not rep.valid or rep.write_pulses >= before:",
        "if not rep.valid or rep.write_pulses > before:", T_BIND),
    one("rebind-worse", "rebind returns a worse binding", BINDING,
        "if not rep.valid or rep.write_pulses >= before:", "if not rep.valid:", T_BIND),
    one("bind-no-exact", "binding ignores rows that hold the very tile", BIND_F,
        "if holds.get(k):", "if False:", T_BIND),
    one("bind-one-pass", "binding skips the steady-state second pass", BIND_F,
        "for _ in range(2):", "for _ in range(1):", T_BIND),
    one("bind-cold-start", "binding starts from empty rows, not the steady state", BIND_F,
        "content[rowid[last]] = last", "pass", T_BIND),
    one("bind-transposed", "binding costs new-over-old as old-over-new", BIND_F,
        "float(pair_steps[c, inv[gid][0]])", "float(pair_steps[inv[gid][0], c])", T_BIND,
        equivalent="E|X - Y| summed over cells is symmetric in the two independent "
                   "distributions, so pair_steps is a symmetric matrix"),
    # ----- weight reuse -----
    one("reuse-lsb", "centre scoring on the two LSB cells", REUSE,
        "msb = tuple(range(max(0, hw.cells_per_weight - 2), hw.cells_per_weight))",
        "msb = tuple(range(0, 2))", T_REUSE),
    one("reuse-one-msb", "centre scoring on the top cell only", REUSE,
        "msb = tuple(range(max(0, hw.cells_per_weight - 2), hw.cells_per_weight))",
        "msb = tuple(range(hw.cells_per_weight - 1, hw.cells_per_weight))", T_REUSE),
    one("reuse-sign", "scoring shifts away from the centre", REUSE,
        "delta = int(round(center - pmf_mean(pmf)))",
        "delta = int(round(pmf_mean(pmf) - center))", T_REUSE),
    one("reuse-first-scored", "scoring shifts the first layer too", REUSE,
        "shifted_pmfs, clipped = [pmfs[names[0]]], 0.0",
        "shifted_pmfs, clipped = [shifted(pmfs[names[0]], c)[0]], 0.0", T_REUSE),
    one("reuse-min", "the lowest skip ratio is chosen", REUSE,
        "return max(ok, key=lambda s: (s.skip_ratio, -s.clipped))",
        "return min(ok, key=lambda s: (s.skip_ratio, -s.clipped))", T_REUSE),
    one("reuse-clip-ignored", "a centre that clips too much may be chosen", REUSE,
        "ok = [s for s in scores if s.clipped <= max_clipped]", "ok = list(scores)", T_REUSE),
    one("reuse-first-shifted", "apply_reuse shifts the first layer", REUSE,
        "if st.apu_rows and st.layer != first:", "if st.apu_rows:", T_REUSE),
    one("pulses-no-centre", "exact pulses ignore the centre", EVAL,
        "m = np.clip(m + int(round(s.center - m.mean())), 0, top)",
        "m = np.clip(m, 0, top)", T_REUSE),
    one("pulses-no-clip", "exact pulses do not clip shifted codes", EVAL,
        "m = np.clip(m + int(round(s.center - m.mean())), 0, top)",
        "m = m + int(round(s.center - m.mean()))", T_REUSE),
    one("cells-msb-first", "cell 0 holds the MSBs", WEIGHTS,
        "shifts = np.arange(C, dtype=np.int64) * b",
        "shifts = np.arange(C, dtype=np.int64)[::-1] * b", T_REUSE),
    one("stat-centre-sign", "the statistical model shifts away from the centre", WEIGHTS,
        "pmf = shift_pmf(pmf, int(round(center - st.mean)))",
        "pmf = shift_pmf(pmf, int(round(st.mean - center)))", T_REUSE),
    # ----- study writer -----
    one("writer-no-fsync", "the record line is not fsynced", RUN,
        "        os.fsync(self._f.fileno())\n", "        pass\n", T_STUDY),
    one("writer-no-flush", "the record line is not flushed before the fsync", RUN,
        "        self._f.flush()\n", "        pass\n", T_STUDY),
    Mutant("writer-no-rename", "the schedule is written in place, no atomic rename",
           [[(RUN, 'with open(tmp, "w", encoding="utf-8") as f:',
              'with open(target, "w", encoding="utf-8") as f:'),
             (RUN, "            os.replace(tmp, target)\n", "")],
            [(RUN, "            tmp.write_text(json.dumps(sched))\n"
                   "            os.replace(tmp, target)\n",
              "            target.write_text(json.dumps(sched))\n")]], T_STUDY),
    Mutant("writer-record-first", "the record is appended before its schedule file exists",
           [[(RUN, '        sched = rec.pop("_schedule", None)\n',
              '        sched = rec.pop("_schedule", None)\n'
              '        self._f.write(json.dumps({**rec, "schedule": None if sched is None '
              'else f"{SCHEDULES}/{task.filename}"}, default=_jsonable) + "\\n")\n'
              '        self._f.flush()\n'),
             (RUN, '        self._f.write(json.dumps(rec, default=_jsonable) + "\\n")\n', "")]],
           T_STUDY),
    one("writer-no-sched-fsync", "the schedule file is not fsynced before its rename", RUN,
        "                os.fsync(f.fileno())\n", "                pass\n", T_STUDY),
    one("writer-no-dir-fsync", "the rename is not made durable", RUN,
        "            _fsync_dir(target.parent)\n", "            pass\n", T_STUDY),
    one("writer-no-repair", "a torn last line is not cut off", RUN,
        "        f.truncate(cut)\n", "        pass\n", T_STUDY),
    one("writer-keeps-schedule", "the record carries the whole schedule", RUN,
        'sched = rec.pop("_schedule", None)', 'sched = rec.get("_schedule")', T_STUDY),
    # ----- bounds -----
    one("bound-write+1", "write bound one cycle too high", BOUNDS,
        "    return rounds * hw.write_latency_cycles + last\n",
        "    return rounds * hw.write_latency_cycles + last + 1\n", T_BOUNDS),
    one("bound-write-slots", "write bound ignores the bandwidth limit (rows, not slots)",
        BOUNDS, "rounds = ceil_div(w, hw.write_slots)",
        "rounds = ceil_div(w, hw.total_apu_rows)", T_BOUNDS),
    one("bound-chain+1", "chain bound one cycle too high", BOUNDS,
        "    return max(total, hw.write_latency_cycles + tail)\n",
        "    return max(total, hw.write_latency_cycles + tail + 1)\n", T_BOUNDS),
    one("bound-area+1", "area bound one cycle too high", BOUNDS,
        "    return ceil_div(area, hw.total_apu_rows)\n",
        "    return ceil_div(area, hw.total_apu_rows) + 1\n", T_BOUNDS),
    one("bound-path+1", "path and window bounds one cycle too high", BOUNDS,
        "    return int(np.ceil(x - 1e-3 - 1e-10 * abs(x)))\n",
        "    return int(np.ceil(x - 1e-3 - 1e-10 * abs(x))) + 1\n", T_BOUNDS),
    # ----- program replay -----
    one("sync-compute", "the replay lets a compute start before a write it waits for ends",
        REPLAY, "            elif ends[j] > c.start:", "            elif False:", T_PROGRAM),
    one("sync-compute-strict", "the replay rejects a write ending exactly at the compute start",
        REPLAY, "            elif ends[j] > c.start:", "            elif ends[j] >= c.start:",
        T_PROGRAM),
    one("sync-release", "the replay lets a write start before its row is released", REPLAY,
        "if w.after is not None and w.start < steps[w.after].end:",
        "if w.after is not None and w.start < steps[w.after].end - 1:", T_PROGRAM),
]


def copy_tree(rev: str | None, dest: Path) -> None:
    """The worktree's tracked and untracked (not ignored) files, or the tree of ``rev``."""
    if rev:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)


def _locate(tree: Path, f: str, old: str) -> str:
    """The file of ``tree`` an edit of ``f`` applies to (see ``EVAL_PARTS``)."""
    if f != EVAL or ((tree / f).is_file() and old in (tree / f).read_text()):
        return f
    for part in EVAL_PARTS:
        if (tree / part).is_file() and old in (tree / part).read_text():
            return part
    return f


def apply(m: Mutant, tree: Path) -> bool:
    """Apply the first alternative whose every old text occurs exactly once."""
    for alt in m.edits:
        alt = [(_locate(tree, f, old), old, new) for f, old, new in alt]
        texts = {f: (tree / f).read_text() for f, _, _ in alt if (tree / f).is_file()}
        if len(texts) < len({f for f, _, _ in alt}):
            continue
        if all(texts[f].count(old) == 1 for f, old, _ in alt):
            for f, old, new in alt:
                texts[f] = texts[f].replace(old, new)
            for f, t in texts.items():
                (tree / f).write_text(t)
            return True
    return False


def run_tests(tree: Path, tests: list[str], timeout: float) -> tuple[str, str, float]:
    """(verdict, first failing test or reason, seconds)."""
    present = [t for t in tests if (tree / t).is_file()]
    if not present:
        return "n/a", "no test file", 0.0
    env = dict(os.environ, CI="1", PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")
    cmd = ["nice", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
           "-rf", *present, *[f"--deselect={d}" for d in DESELECT]]
    t0 = time.monotonic()
    try:
        r = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return "killed", f"timeout after {timeout:.0f} s", time.monotonic() - t0
    dt = time.monotonic() - t0
    if r.returncode == 0:
        return "SURVIVED", "", dt
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", r.stdout, re.M)
    if failed:
        return "killed", failed[0], dt
    tail = (r.stdout + r.stderr).strip().splitlines()[-1:] or ["?"]
    return "killed", f"pytest exit {r.returncode}: {tail[0][:80]}", dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rev", help="use this commit's code and tests instead of the worktree")
    ap.add_argument("--only", nargs="*", help="mutant ids")
    ap.add_argument("--out", help="also write the table (Markdown) here")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = ap.parse_args()
    todo = [m for m in MUTANTS if not args.only or m.id in args.only]
    if args.list:
        for m in todo:
            print(f"{m.id:24} {m.what}")
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="aras-mutants-") as base:
        clean = Path(base) / "clean"
        clean.mkdir()
        copy_tree(args.rev, clean)
        for m in todo:
            tree = Path(base) / "m"
            if tree.exists():
                shutil.rmtree(tree)
            shutil.copytree(clean, tree)
            if not apply(m, tree):
                verdict, by, dt = "n/a", "mutated text not in this tree", 0.0
            else:
                verdict, by, dt = run_tests(tree, m.tests, args.timeout)
            if verdict == "SURVIVED" and m.equivalent:
                verdict, by = "equivalent", m.equivalent
            rows.append((m.id, m.what, verdict, by, dt))
            print(f"{m.id:24} {verdict:10} {dt:6.1f}s  {by}", flush=True)
    lines = ["| mutant | bug | verdict | killed by | s |", "|---|---|---|---|---|"]
    lines += [f"| {i} | {w} | {v} | {b} | {dt:.0f} |" for i, w, v, b, dt in rows]
    table = "\n".join(lines)
    print()
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    survivors = [r[0] for r in rows if r[2] == "SURVIVED"]
    print(f"\n{len(rows)} mutants, {len(survivors)} survived: {', '.join(survivors) or '-'}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
