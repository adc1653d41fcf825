"""The paper's optimisations and the `aras paper` reproduction."""

from __future__ import annotations

import csv

import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends import load_network
from aras.frontends.zoo import BUILTIN
from aras.methods.configs import CONFIGS
from aras.methods.heuristics import aras
from aras.methods.reuse import CENTERS, apply_reuse, layer_pmfs, score_centers, shifted
from aras.model.hardware import aras_hardware
from aras.model.mapping import map_network
from aras.model.weights import normal_pmf
from aras.studies.paper import FIELDS, run_paper
from tests.helpers import run_cli


@pytest.fixture(scope="module")
def paper(tmp_path_factory):
    """One run of the paper reproduction (rows and output directory) for the whole module."""
    out = tmp_path_factory.mktemp("paper")
    return run_paper(out, include_minilm=False), out


@pytest.fixture(scope="module")
def rows(paper):
    return {(r["network"], r["config"]): r for r in paper[0]}


@pytest.mark.parametrize("name", list(BUILTIN))
def test_bank_selection_lowers_static_energy(rows, name):
    assert rows[name, "bank"]["energy_gbuffer_static_j"] < rows[name, "base"][
        "energy_gbuffer_static_j"]
    # same schedule timing: only the banks change
    assert rows[name, "bank"]["makespan_cycles"] == rows[name, "base"]["makespan_cycles"]


@pytest.mark.parametrize("name", list(BUILTIN))
def test_weight_reuse_lowers_write_pulses(rows, name):
    assert rows[name, "all"]["write_pulses"] < rows[name, "bank-repl"]["write_pulses"]
    assert rows[name, "all"]["makespan_cycles"] == rows[name, "bank-repl"]["makespan_cycles"]
    assert rows[name, "all"]["center"] in CENTERS


def test_shift_counts_clipping():
    pmf = normal_pmf(200, 30)
    moved, clipped = shifted(pmf, 240)
    assert abs(sum(moved) - 1) < 1e-12
    # Mass above 255 - 40 before the shift is clipped.
    assert clipped == pytest.approx(float(pmf[216:].sum()))


def test_first_layer_is_never_shifted():
    p = map_network(load_network("resnet50"), aras_hardware())
    s = aras(p)
    chosen = apply_reuse(p, s)
    first = p.network.weighted_ops[0].name
    assert all(st.center is None for st in s.steps if st.layer == first)
    assert all(st.center == chosen.center for st in s.steps if st.apu_rows and st.layer != first)
    assert evaluate(p, s).valid


def test_chosen_center_has_best_skip_ratio_among_low_clipping():
    p = map_network(load_network("bert-base"), aras_hardware())
    scores = score_centers(p, layer_pmfs(p))
    chosen = apply_reuse(p, aras(p))
    ok = [s for s in scores if s.clipped <= 0.005]
    assert chosen.skip_ratio == max(s.skip_ratio for s in ok)


def test_run_paper_writes_tables_and_plots(paper):
    tmp_path = paper[1]
    with (tmp_path / "results.csv").open() as f:
        got = list(csv.DictReader(f))
    assert len(got) == len(BUILTIN) * len(CONFIGS)
    assert list(got[0]) == FIELDS
    text = (tmp_path / "summary.md").read_text()
    for title in ("Throughput", "write bound", "Energy breakdown", "Write pulses",
                  "Extra weights", "Lifespan"):
        assert title in text
    for png in ("speedup", "write_bound", "energy", "pulses", "extra_weights", "lifespan"):
        assert (tmp_path / f"{png}.png").stat().st_size > 5000


def test_config_option_on_the_cli():
    import json

    r = run_cli("solve", "resnet50", "--config", "all", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["method"] == "aras" and d["valid"]
    assert any("weight reuse: center" in m for m in d["messages"])
    bad = run_cli("solve", "resnet50", "--config", "fast")
    assert bad.returncode == 2 and "unknown configuration 'fast'" in bad.stderr
