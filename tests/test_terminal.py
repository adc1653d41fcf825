"""Terminal output: tables at 80 and 60 columns and in pipes never cut a cell or a number;
live MILP progress; --version, methods, output defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

import cli
from aras.methods.solve import DESCRIPTIONS, METHODS
from aras.views.terminal import layout, print_markdown, print_table
from tests.helpers import ROOT
from tests.helpers import cli_inprocess as run_cli

WIDTHS = (80, 60)


def _terminal(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """Make the CLI's stdout console a terminal of ``width`` columns (no colours)."""
    monkeypatch.setattr(cli, "out", Console(force_terminal=True, width=width,
                                            color_system=None))


def _complete(text: str, value: str) -> bool:
    """``value`` appears whole: not as a piece of a longer number."""
    return re.search(rf"(?<![\w.,]){re.escape(value)}(?![\w,]|\.\d)", text) is not None


def _fits(text: str, width: int) -> None:
    assert "…" not in text
    for line in text.splitlines():
        assert len(line) <= width, line


def _lines_of_rows(text: str) -> dict[str, str]:
    """The lines of each step of `networks show`, joined (a step's line starts with its #)."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"\s*(\d+)\s+\S", line)
        if m:
            rows[m.group(1)] = rows.get(m.group(1), "") + " " + line
    return rows


def _step_cells(step: dict[str, object]) -> list[str]:
    out_b = f"{step['out_bytes']:,}"
    cells = [str(step["layer"]), "x".join(map(str, step["shape"])),  # type: ignore[call-overload]
             str(step["cycles_r1"]), f"{step['in_bytes']:,}", out_b]
    cells += [str(step[k]) for k in ("apu_rows", "windows", "max_replication") if step[k]]
    return cells


def test_networks_listing_fits_and_keeps_every_number(monkeypatch):
    rows = json.loads(run_cli("networks", "--json").stdout)
    _terminal(monkeypatch, 60)   # 80 columns fit without folding; 60 need two groups
    r = run_cli("networks")
    assert r.returncode == 0, r.stderr
    _fits(r.stdout, 60)
    for row in rows:
        line = " ".join(x for x in r.stdout.splitlines() if x.startswith(row["network"] + " "))
        for v in (f"{row['weights']:,}", f"{row['apu_rows']:,}", f"{row['fills']:.2f}x",
                  str(row["weighted_layers"]), str(row["steps"]), row["family"]):
            assert _complete(line, v), (row["network"], v, line)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("network", ["resnet50", "bert-base"])
def test_networks_show_fits_and_keeps_every_cell_of_every_step(monkeypatch, width, network):
    steps = json.loads(run_cli("networks", "show", network, "--json").stdout)["steps"]
    _terminal(monkeypatch, width)
    r = run_cli("networks", "show", network)
    assert r.returncode == 0, r.stderr
    _fits(r.stdout, width)
    by_step = _lines_of_rows(r.stdout)
    for s in steps:
        for v in _step_cells(s):
            assert _complete(by_step[str(s["step"])], v), (s["step"], v)


def test_piped_output_is_plain_and_complete(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    steps = json.loads(run_cli("networks", "show", "resnet50", "--json").stdout)["steps"]
    r = run_cli("networks", "show", "resnet50")   # stdout is a StringIO: not a terminal
    assert r.returncode == 0
    assert "…" not in r.stdout and not set("│┃━─┏") & set(r.stdout)
    assert "\x1b" not in r.stdout
    lines = r.stdout.splitlines()
    assert max(len(x) for x in lines) > 80          # as wide as it needs, one line a step
    by_step = _lines_of_rows(r.stdout)
    assert len(by_step) == len(steps)
    for s in steps:
        line = by_step[str(s["step"])]
        assert line.count("\n") == 0 and all(_complete(line, v) for v in _step_cells(s))
    sentence = next(x for x in lines if "weight-bearing layers" in x)
    assert sentence.endswith("statistical weight model")   # prose is not wrapped either


@pytest.mark.parametrize("width", WIDTHS)
def test_solve_evaluate_bound_reports_fit(monkeypatch, tmp_path, width):
    sched = tmp_path / "s.json"
    d = json.loads(run_cli("solve", "resnet50", "-m", "aras", "-o", str(sched), "--json").stdout)
    b = json.loads(run_cli("bound", "resnet50", "--json").stdout)
    _terminal(monkeypatch, width)
    numbers = [f"{d[k]:,}" for k in ("makespan_cycles", "lower_bound_cycles",
                                     "write_bound_cycles", "row_writes")]
    numbers += [f"{d['write_pulses']:,.0f}", str(d["max_cell_writes"]),
                f"{d['energy_j']['total'] * 1e3:.3f}", f"{d['throughput_inf_s']:.1f}"]
    for args in (["solve", "resnet50", "-m", "aras"], ["evaluate", str(sched)]):
        r = run_cli(*args)
        assert r.returncode == 0, r.stderr
        _fits(r.stdout, width)
        for v in numbers[:1] + numbers[3:] if args[0] == "evaluate" else numbers:
            assert _complete(r.stdout, v), (args[0], v)
    r = run_cli("bound", "resnet50")
    _fits(r.stdout, width)
    for k, v in b.items():
        if k.endswith("_cycles"):
            # a bound not computed (the MILP's, the exact DP's when it gives up) shows "-"
            shown = "-" if v == 0 and k in ("milp_cycles", "exact_cycles") else f"{v:,}"
            assert _complete(r.stdout, shown), k


def _md_tables(text: str) -> list[list[list[str]]]:
    tables, cur = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cur.append([c.strip().strip("*") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif cur:
            tables.append([r for r in cur if not set("".join(r)) <= set("-:")])
            cur = []
    return tables


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("summary", ["docs/paper/summary.md", "docs/studies/paper/summary.md",
                                     "docs/studies/sensitivity/summary.md"])
def test_markdown_reports_render_as_tables_that_fit(width, summary):
    """What `aras paper` and `aras study report` print: every cell whole, no line wrapped."""
    import io

    md = (ROOT / summary).read_text()
    buf = io.StringIO()
    print_markdown(Console(file=buf, force_terminal=True, width=width, color_system=None), md)
    text = buf.getvalue()
    _fits(text, width)
    assert "|" not in "".join(x for x in text.splitlines() if "---" in x)
    for table in _md_tables(md):
        for row in table[1:]:
            for cell in row:
                if len(cell.split()) > 4:   # a sentence (an error) wraps at its spaces
                    assert all(_complete(text, w) for w in cell.split()), (summary, cell)
                elif cell:
                    assert _complete(text, cell), (summary, row[0], cell)
    piped = io.StringIO()
    print_markdown(Console(file=piped, width=width), md)
    assert piped.getvalue() == md       # verbatim when not a terminal


def test_study_report_prints_fitted_tables(monkeypatch, tmp_path):
    recs = []
    for net, lb in (("resnet50", 3_254_992), ("densenet161-with-a-long-name", 5_595_518)):
        for i, m in enumerate(("naive", "baseline", "aras", "jit", "milp")):
            mk = lb * (10 - i) // 4
            recs.append({"task": f"{net}/base/{m}", "network": net, "hardware": "base",
                         "method": m, "status": "feasible", "seed": 0,
                         "time_limit": 60.0 if m == "milp" else None, "makespan_cycles": mk,
                         "latency_s": mk / 1e9, "lower_bound_cycles": lb, "gap": mk / lb - 1,
                         "runtime_s": 0.5 + i, "energy_j": {"total": 1e-3},
                         "size": {"weights": 25_502_912 + i, "apu_rows": 1576},
                         "resources": {"total_apu_rows": 576}})
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    _terminal(monkeypatch, 80)
    r = run_cli("study", "report", str(tmp_path))
    assert r.returncode == 0, r.stderr
    _fits(r.stdout, 80)
    for rec in recs:
        ms = f"{rec['makespan_cycles'] / 1e6:.3f}"
        assert _complete(r.stdout, ms), ms


def test_layout_groups_repeat_the_keys_and_fall_back_to_blocks():
    cols = [("#", "r"), ("name", "l")] + [(f"column {k}", "r") for k in range(6)]
    rows = [[str(i), f"layer{i}"] + [f"{10 ** 7 + i:,}"] * 6 for i in range(3)]
    groups = layout(cols, rows, 40, keys=2)
    assert groups is not None and len(groups) == 3
    assert all(ix[:2] == [0, 1] for ix, _ in groups)
    assert sorted({k for ix, _ in groups for k in ix}) == list(range(8))
    assert layout(cols, rows, 20, keys=2) is None
    import io

    buf = io.StringIO()
    print_table(Console(file=buf, force_terminal=True, width=20, color_system=None), "t",
                cols, rows, keys=2)
    text = buf.getvalue()
    assert "…" not in text and "column 5:" in text and _complete(text, "10,000,002")


def test_milp_progress_reports_every_window():
    from aras.methods.solve import solve
    from aras.model.hardware import load_hardware
    from aras.model.mapping import map_network
    from aras.model.network import Network

    p = map_network(Network.load(ROOT / "instances/networks/resnet18-cifar.json"),
                    load_hardware("aras"))
    got: list[dict[str, object]] = []
    res = solve(p, "milp", time_limit=4, window_time=1, progress=got.append)
    # a better order found between sweeps rebuilds the windows, so their count may change
    assert got and got[0]["window"] == 0 and all(0 <= g["window"] <= g["windows"] for g in got)
    assert all(g["bound_cycles"] == res.bound for g in got)
    windows = [g["window"] for g in got]
    assert windows[1:4] == [1, 2, 3]
    inc = [g["incumbent_cycles"] for g in got]
    assert inc == sorted(inc, reverse=True)       # the incumbent only improves
    assert res.objective is not None and inc[-1] >= res.objective
    assert len(got) == res.stats["milp"]["windows"] + 1
    assert solve(p, "baseline", progress=got.append).objective   # ignored elsewhere


def test_solve_shows_live_progress_on_a_terminal_unless_quiet(monkeypatch):
    monkeypatch.setattr(cli, "err", Console(force_terminal=True, width=100,
                                            color_system=None, stderr=True))
    net = str(ROOT / "instances/networks/resnet18-cifar.json")
    args = ["solve", net, "-m", "milp", "--time-limit", "3", "--window-time", "1"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    assert "window 1/" in r.stderr and "incumbent" in r.stderr and "bound" in r.stderr
    args[5] = "1"
    for flag in ("--quiet", "--json"):
        q = run_cli(*args, flag)
        assert q.returncode == 0 and "milp window" not in q.stderr and "\x1b" not in q.stderr


def test_version_methods_and_help_defaults():
    from aras import __version__

    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"aras {__version__}"
    r = run_cli("methods")
    assert r.returncode == 0
    lines = r.stdout.splitlines()[2:]
    assert [x.split()[0] for x in lines] == list(METHODS)
    assert set(DESCRIPTIONS) >= set(METHODS) and all(DESCRIPTIONS[m] for m in METHODS)
    h = run_cli("solve", "--help")
    assert re.search(r"--time-limit.*?default: 60", h.stdout, re.S)


def test_output_defaults_next_to_the_input(tmp_path, monkeypatch):
    """plot and trace write beside the schedule, paper and study under runs/."""
    sched = tmp_path / "s.json"
    assert run_cli("solve", "resnet-18", "-m", "aras", "-o", str(sched)).returncode == 0
    assert run_cli("trace", str(sched)).returncode == 0
    assert (tmp_path / "s.trace.json").exists()
    assert run_cli("plot", str(sched)).returncode == 0
    assert (tmp_path / "s.png").exists()
    import inspect

    assert inspect.signature(cli.paper).parameters["output"].default == Path("runs/paper")
    monkeypatch.chdir(tmp_path)
    body = ('name = "my set"\nnetworks = ["resnet-18"]\nmethods = ["baseline"]\n'
            '[hardware]\nbase = "aras"\n')
    (tmp_path / "set.toml").write_text(body)
    r = run_cli("study", "set.toml", "--workers", "1")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "runs" / "my-set" / "results.jsonl").exists()
