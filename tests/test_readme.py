"""The README as a newcomer uses it, and the documentation's pages.

Every fenced ``bash`` block of README.md runs as written, in a temporary directory that sees
the checkout's ``instances/``, with ``aras`` and ``python`` meaning this checkout's. A block
that installs packages or takes long says so on the line before it and is skipped::

    <!-- readme-test: skip (installs) -->
    <!-- readme-test: skip (slow) -->

The README's Python example runs too. The pages' tables must agree with the result files
that ``benchmarks/`` wrote (``benchmarks/check_docs.py``, without its reruns).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import benchmark_script

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"(?:^(?P<marker><!-- readme-test: skip \((?P<why>[^)]+)\) -->)\n)?"
                   r"^```(?P<lang>\w*)\n(?P<body>.*?)^```$", re.S | re.M)
SKIP_REASONS = {"installs", "slow"}


def _blocks(lang: str) -> list[tuple[int, str, str | None]]:
    """(line, body, skip reason) of every fenced block of the language."""
    text = README.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m["body"], m["why"])
            for m in FENCE.finditer(text) if m["lang"] == lang]


BASH = _blocks("bash")
PYTHON = _blocks("python")


@pytest.fixture
def newcomer(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A working directory and environment in which ``aras`` and ``python`` are this
    checkout's, as after ``pip install -e .`` of it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "instances").symlink_to(ROOT / "instances")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    aras = bin_dir / "aras"
    aras.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c '
                    '"import sys; sys.argv[0] = \'aras\'; import cli; cli.main()" "$@"\n')
    aras.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "COLUMNS": "80"}
    return work, env


def test_the_readme_is_short_and_every_block_is_run_or_says_why_not():
    assert len(README.read_text().splitlines()) <= 250
    assert BASH and PYTHON
    for line, _, why in BASH:
        assert why is None or why in SKIP_REASONS, f"README.md:{line}: unknown reason {why!r}"
    assert sum(why is None for _, _, why in BASH) >= 2  # the quick ones do run


@pytest.mark.parametrize("line,body,why", BASH, ids=[f"line{b[0]}" for b in BASH])
def test_readme_shell_block_runs_as_written(newcomer, line, body, why):
    if why is not None:
        pytest.skip(f"README.md:{line}: marked '{why}'")
    work, env = newcomer
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=work, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"README.md:{line}:\n{body}\n{r.stdout[-2000:]}{r.stderr[-2000:]}"
    if "aras solve" in body:
        assert "makespan" in r.stdout and "method " in r.stderr


@pytest.mark.parametrize("line,body,why", PYTHON, ids=[f"line{b[0]}" for b in PYTHON])
def test_readme_python_example_runs(newcomer, line, body, why):
    work, env = newcomer
    r = subprocess.run([sys.executable, "-c", body], cwd=work, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, f"README.md:{line}:\n{r.stderr[-2000:]}"
    status, objective, bound, gap = r.stdout.split()
    assert status in ("feasible", "optimal") and int(bound) <= int(objective)
    assert gap == f"{int(objective) / int(bound) - 1:.1%}"
    assert (work / "resnet50.json").exists()


def test_the_pages_agree_with_the_result_files():
    check_docs = benchmark_script("check_docs")
    assert check_docs.check_pages() == []


def test_check_docs_finds_a_stale_copy_and_a_loose_table(tmp_path, monkeypatch):
    check_docs = benchmark_script("check_docs")
    (tmp_path / "benchmarks" / "results").mkdir(parents=True)
    (tmp_path / "docs").mkdir()
    (tmp_path / "benchmarks" / "results" / "t.md").write_text("| a |\n|---|\n| 1 |\n")
    (tmp_path / "README.md").write_text(
        "<!-- table: benchmarks/results/t.md -->\n| a |\n|---|\n| 2 |\n\n<!-- end table -->\n\n"
        "| loose |\n|---|\n\nfixed in issue 12, commit 3e45fc1\n")
    monkeypatch.setattr(check_docs, "ROOT", tmp_path)
    problems = check_docs.check_pages()
    assert len(problems) == 4, problems
    assert "differs" in problems[0] and "README.md:8: a table outside" in problems[1]
    assert "'issue 12'" in problems[2] and "'3e45fc1'" in problems[3]
    (tmp_path / "README.md").write_text(check_docs.fill((tmp_path / "README.md").read_text()))
    assert len(check_docs.check_pages()) == 3  # the copy is right now
    # A rerun compares figures and ignores the columns of timings.
    assert check_docs.compare("t", "| a | s |\n|---|---|\n| 1 | 0.5 |",
                              "| a | s |\n|---|---|\n| 1 | 0.7 |", ("s",)) == []
    assert check_docs.compare("t", "| a | s |\n|---|---|\n| 2 | 0.5 |",
                              "| a | s |\n|---|---|\n| 1 | 0.5 |", ("s",)) != []
