"""The reference schedulers on the five networks and on hand-checkable instances."""

from __future__ import annotations

import pytest

from aras.bounds import bounds
from aras.evaluator import evaluate
from aras.hardware import aras_hardware, baseline_hardware
from aras.heuristics import baseline, naive
from aras.mapping import map_network
from aras.network import NetworkBuilder
from aras.zoo import BUILTIN, load_network
from tests.helpers import tiny_hardware

NETWORKS = list(BUILTIN)


@pytest.fixture(scope="module", params=NETWORKS)
def problem(request):
    return map_network(load_network(request.param), aras_hardware())


def test_naive_is_valid_and_sums_writes_and_computes(problem):
    s = naive(problem)
    rep = evaluate(problem, s)
    assert rep.valid, rep.violations[:3]
    # No overlap at all: every part pays one write latency (all its rows at once, bandwidth
    # does not bind with the paper's hardware) plus its compute.
    T = problem.hardware.write_latency_cycles
    expected = sum((T if st.weighted else 0) + problem.compute_cycles(st, 1)
                   for st in problem.steps)
    assert rep.makespan_cycles == expected


def test_baseline_is_valid_and_between_bound_and_naive(problem):
    s = baseline(problem)
    rep = evaluate(problem, s)
    assert rep.valid, rep.violations[:3]
    b = bounds(problem)
    assert b.lower <= rep.makespan_cycles < evaluate(problem, naive(problem)).makespan_cycles
    assert all(st.replication == 1 for st in s.steps if st.apu_rows)


def test_baseline_by_hand():
    """Three 1-row layers on 2 rows: c3 is written when c1 releases its row."""
    b = NetworkBuilder("three", {"x": (4, 4, 4)})
    y = b.conv("c1", "x", 4, 8, 1)
    y = b.conv("c2", y, 8, 8, 1)
    b.conv("c3", y, 8, 8, 1)
    hw = tiny_hardware()
    p = map_network(b.build(), hw)
    s = baseline(p)
    # c1 [1000, 2536), c2 [2536, 4072); c3 written at 2536 on c1's row, ready at 3536.
    assert [(st.start, st.end) for st in s.steps] == [(1000, 2536), (2536, 4072), (4072, 5608)]
    assert s.writes.start.tolist() == [0, 0, 2536]
    assert s.writes.row.tolist() == [0, 1, 0]
    assert evaluate(p, s).valid


def test_baseline_respects_bandwidth():
    # One APU write at a time: the two first writes are serialised.
    hw = tiny_hardware(apus_per_row=1, memory_bandwidth_bytes_s=4.096e9)
    b = NetworkBuilder("two", {"x": (4, 4, 4)})
    b.conv("c2", b.conv("c1", "x", 4, 8, 1), 8, 8, 1)
    p = map_network(b.build(), hw)
    s = baseline(p)
    assert s.writes.start.tolist() == [0, 1000]
    assert evaluate(p, s).valid


@pytest.mark.parametrize("name", ["resnet50", "bert-base"])
def test_homogeneous_banks_valid(name):
    p = map_network(load_network(name), baseline_hardware())
    assert evaluate(p, baseline(p)).valid
