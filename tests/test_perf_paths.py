"""The shortcuts taken for big inputs give what the step-by-step code gives: batched write
slots, the list scheduler's replication without its writes, writes held as runs, and the
evaluator's per-run R3 filter."""

from __future__ import annotations

import random

import numpy as np
import pytest

from aras.evaluation.evaluator import evaluate
from aras.frontends.zoo import ZOO
from aras.methods.heuristics.engine import list_replication, list_schedule
from aras.methods.heuristics.replication import aras_policy, greedy_policy
from aras.model.bandwidth import Bandwidth
from aras.model.hardware import Hardware, aras_hardware
from aras.model.mapping import map_network
from aras.model.schedule import Schedule, Writes


class _Hw:
    def __init__(self, limit: int, length: int):
        self.max_concurrent_row_writes, self.write_latency_cycles = limit, length


class _Problem:
    def __init__(self, limit: int, length: int):
        self.hardware = _Hw(limit, length)


@pytest.mark.parametrize("seed", range(20))
def test_bandwidth_requests_equal_one_request_at_a_time(seed: int) -> None:
    rng = random.Random(seed)
    limit, length = rng.randint(1, 6), rng.randint(1, 50)
    one, many = Bandwidth(_Problem(limit, length)), Bandwidth(_Problem(limit, length))  # type: ignore[arg-type]
    t = 0
    for _ in range(30):
        t += rng.choice([0, 0, 1, rng.randint(0, 3 * length)])
        n = rng.randint(0, 9)
        assert many.requests(t, n) == [one.request(t) for _ in range(n)]
        assert sorted(many.ends) == sorted(one.ends)


@pytest.mark.parametrize("name", ["resnet50", "bert-base", "mobilenet-v2"])
@pytest.mark.parametrize("bandwidth", [19.2e9, 4e9])
def test_list_replication_is_the_list_schedule_s(name: str, bandwidth: float) -> None:
    p = map_network(ZOO[name].build(), Hardware(name="t", memory_bandwidth_bytes_s=bandwidth,
                                                gbuffer_banks=aras_hardware().gbuffer_banks))
    for policy in (aras_policy, greedy_policy):
        s = list_schedule(p, policy(p), "x")
        want = {p.by_key[(st.layer, st.part)].index: st.replication for st in s.steps
                if st.apu_rows}
        assert list_replication(p, policy(p), "x") == want


def test_writes_from_runs_merge_and_expand_like_arrays() -> None:
    names = np.array(["a", "a", "b", "b", "a", "c"], dtype=object)
    parts = np.array([0, 0, 0, 1, 0, 2])
    counts = np.array([2, 1, 0, 2, 1, 3])
    n = int(counts.sum())
    cols = {k: np.arange(n) for k in ("pe", "row", "start")}
    w = Writes.from_runs(names, parts, counts, tile=np.full(n, -1), **cols)
    heads, layers, ps, cs = w.run_table()
    # runs a/0 x2 and a/0 x1 are one, b/0 x0 is none
    assert (heads.tolist(), layers, ps, cs.tolist()) == ([0, 3, 5, 6], ["a", "b", "a", "c"],
                                                         [0, 1, 0, 2], [3, 2, 1, 3])
    assert w.layer.tolist() == ["a"] * 3 + ["b"] * 2 + ["a"] + ["c"] * 3
    assert w.part.tolist() == [0, 0, 0, 1, 1, 0, 2, 2, 2]
    w.part[0] = 7  # once expanded, the arrays are the truth
    assert w.run_table()[2] == [7, 0, 1, 0, 2]
    w2 = Writes.from_runs(names, parts, counts, tile=np.full(n, -1), **cols)
    w2.layer = np.array(["z"] * n, dtype=object)  # setting one keeps the other's values
    assert w2.part.tolist() == [0, 0, 0, 1, 1, 0, 2, 2, 2]
    assert w2.run_table()[1] == ["z"] * 4


def test_r3_finds_the_one_late_write_in_the_middle_of_a_run() -> None:
    from aras.methods.heuristics import baseline

    p = map_network(ZOO["resnet-18"].build(), aras_hardware())
    s = baseline(p)
    T = p.hardware.write_latency_cycles
    heads, layers, parts, counts = s.writes.run_table()
    k = int(np.argmax(counts))  # the longest run
    j = int(heads[k] + counts[k] // 2)
    start = next(st.start for st in s.steps if (st.layer, st.part) == (layers[k], parts[k]))
    for shift, rules in ((1, ["R3"]), (0, [])):
        t = Schedule.from_dict(s.to_dict())
        t.writes.start[j] = start - T + shift
        rep = evaluate(p, t)
        assert [v.rule for v in rep.violations] == rules
        if rules:
            assert f"ends at {start + 1}, after the compute starts at {start}" in str(
                rep.violations[0])
