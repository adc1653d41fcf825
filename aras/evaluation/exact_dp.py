"""The exact DP (docs/bounds.md, "Exact DP"): the least makespan over every compute order and
every replication, by a dynamic programme over order prefixes whose states are the last
compute end and the rows still held, pruned by dominance only.

Why it is exact (docs/bounds.md, "relaxed instance", fact 1; ``tests/exhaustive.py`` relies on
the same facts): without the bandwidth limit (R6) a schedule is fixed by its compute order,
its replication and its compute starts; writing a part's rows exactly ``T`` before its compute
holds them least, and for a fixed order and replication the earliest starts that keep at most
``N`` rows held are optimal. Along an order the computes run one after another, so the parts
whose rows are still held at any instant are the latest ones, and what the rest of the order
can do depends only on the steps left (the prefix), the last compute end and, for every time,
how many rows the parts so far still hold then. A state that ends no later and holds no more
rows at any time than another at the same prefix is at least as good for every completion, so
dropping the other loses nothing. When no cap is hit, the least end over the full prefix is
the optimum of the problem without R6: a lower bound on every schedule, and the optimum itself
when the memory writes all rows at once (``write_slots >= N``).
"""

from __future__ import annotations

import time
import weakref
from bisect import bisect_right
from dataclasses import dataclass

from aras.model.mapping import Problem

#: States kept at one prefix, prefixes at one size, and state expansions (state x replication)
#: in all, at ``effort`` 1, beyond which the DP gives up (an expansion with its share of the
#: dominance tests costs about 7 us: BERT-Base needs 80,000, BERT-Large 100,000).
MAX_STATES = 400
MAX_PREFIXES = 2000
MAX_WORK = 400_000
#: Dependencies between parts beyond which it does not start (split layers multiply them).
MAX_LINKS = 2_000_000


@dataclass(frozen=True)
class ExactDP:
    """The DP's answer.

    Attributes
    ----------
    makespan
        The least makespan without R6, in cycles (None when the DP gave up).
    order
        Step keys ``(layer, part)`` of an order reaching it.
    reps
        Replication of every weight-bearing step reaching it, by step key.
    reason
        Why the DP gave up ("" when it finished).
    work
        State expansions done.
    """

    makespan: int | None
    order: tuple[tuple[str, int], ...] = ()
    reps: tuple[tuple[tuple[str, int], int], ...] = ()
    reason: str = ""
    work: int = 0


class _State:
    __slots__ = ("end", "ends", "held", "back", "step", "rep")

    def __init__(self, end: int, ends: tuple[int, ...], held: tuple[int, ...],
                 back: _State | None, step: int, rep: int):
        self.end = end          # the last compute end
        self.ends = ends        # compute ends of the parts still holding rows (increasing)
        self.held = held        # their rows
        self.back, self.step, self.rep = back, step, rep

    def rows_at(self, t: int) -> int:
        """Rows still held at time ``t`` (by the parts that end after it)."""
        return sum(self.held[bisect_right(self.ends, t):])


def _dominates(a: _State, b: _State) -> bool:
    """``a`` ends no later than ``b`` and holds no more rows at any time."""
    if a.end > b.end:
        return False
    # rows held are step functions falling at the ends: compare them just before each end
    return all(a.rows_at(t - 1) <= b.rows_at(t - 1) for t in a.ends)


#: The last answer, by problem (``solve`` computes the bounds, then ``jit`` asks again for the
#: same problem): (problem, effort, answer); answers cut by a deadline are not kept.
_last: tuple[weakref.ref[Problem], float, ExactDP] | None = None


def exact_dp(problem: Problem, effort: float = 1.0, deadline: float | None = None) -> ExactDP:
    """The least makespan over every compute order and replication, without R6.

    A lower bound on every schedule's makespan; the optimum when ``write_slots >= N`` (then a
    schedule reaching it is :func:`aras.methods.heuristics.jit.jit_schedule` of the returned
    order and replication). Gives up (``makespan`` None, with the reason) when a prefix has
    more than ``MAX_STATES x effort`` undominated states, a prefix size more than
    ``MAX_PREFIXES x effort`` prefixes, or the expansions pass ``MAX_WORK x effort``.

    Parameters
    ----------
    problem
        The mapped network.
    effort
        Scales the caps (a positive number).
    deadline
        A ``time.perf_counter()`` value after which the DP gives up (for callers with a time
        limit; without it the answer depends on the caps alone).

    The last answer is kept for the same problem object and ``effort`` (``solve`` asks for
    the bounds, then ``jit`` for the schedule), unless a deadline cut it.

    Returns
    -------
    ExactDP
        The makespan and an order and replication reaching it, or why it gave up.
    """
    global _last
    if _last is not None and _last[0]() is problem and _last[1] == effort:
        return _last[2]
    got = _exact_dp(problem, effort, deadline)
    if got.reason != _DEADLINE:
        _last = (weakref.ref(problem), effort, got)
    return got


_DEADLINE = "its deadline passed"


def _exact_dp(problem: Problem, effort: float, deadline: float | None) -> ExactDP:
    hw = problem.hardware
    T, N = hw.write_latency_cycles, problem.total_apu_rows
    steps = problem.steps
    n = len(steps)
    max_states = max(1, int(MAX_STATES * effort))
    max_prefixes = max(1, int(MAX_PREFIXES * effort))
    max_work = max(1, int(MAX_WORK * effort))
    by_layer: dict[str, list[int]] = {}
    for s in steps:
        by_layer.setdefault(s.layer, []).append(s.index)
    graph = problem.network.graph
    # Dependencies, kept by layer (lists by part would grow with the product of two split
    # layers' parts): a part follows every part of the layers its layer reads, and identical
    # parts of a layer, being interchangeable, come in index order.
    bits = {name: sum(1 << j for j in idx) for name, idx in by_layer.items()}
    readers: dict[str, list[str]] = {name: [] for name in by_layer}
    links = 0
    layer_pred: dict[str, int] = {}
    for name in by_layer:
        mask = 0
        for q in graph.predecessors(name):
            if q in by_layer:
                mask |= bits[q]
                readers[q].append(name)
                links += len(by_layer[q]) * len(by_layer[name])
        layer_pred[name] = mask
    if links > MAX_LINKS:
        return ExactDP(None, reason=f"more than {MAX_LINKS:,} dependencies between parts")
    pred = [layer_pred[s.layer] for s in steps]
    twin = [-1] * n  # the next identical part of the same layer
    for s in steps:
        same = [j for j in by_layer[s.layer]
                if steps[j].part < s.part and steps[j].apu_rows == s.apu_rows]
        if same:
            pred[s.index] |= 1 << same[-1]
            twin[same[-1]] = s.index

    def followers(i: int) -> list[int]:
        out = [j for name in readers[steps[i].layer] for j in by_layer[name]]
        return out + [twin[i]] if twin[i] >= 0 else out

    opts = {s.index: [(r, problem.compute_cycles(s, r)) for r in problem.replication_choices(s)]
            for s in steps if s.apu_rows}
    level: dict[int, list[_State]] = {0: [_State(0, (), (), None, -1, 0)]}
    # the steps that can come next after each ideal of the current size
    avail: dict[int, tuple[int, ...]] = {0: tuple(i for i in range(n) if not pred[i])}
    work = 0
    for _size in range(n):
        nxt: dict[int, dict[tuple[int, tuple[int, ...], tuple[int, ...]], _State]] = {}
        nxt_avail: dict[int, tuple[int, ...]] = {}
        for ideal, states in level.items():
            for i in avail[ideal]:
                s = steps[i]
                grown = ideal | 1 << i
                if grown not in nxt_avail:
                    nxt_avail[grown] = tuple(j for j in avail[ideal] if j != i) + tuple(
                        j for j in followers(i) if not pred[j] & ~grown)
                new = nxt.setdefault(grown, {})
                if not s.apu_rows:
                    for st in states:
                        e = st.end + s.fixed_cycles
                        k = bisect_right(st.ends, e - T)
                        key = (e, st.ends[k:], st.held[k:])
                        if key not in new:
                            new[key] = _State(e, st.ends[k:], st.held[k:], st, i, 0)
                    work += len(states)
                    continue
                a = s.apu_rows
                for st in states:
                    total = sum(st.held)
                    for r, c in opts[i]:
                        rows = r * a
                        if rows > N:
                            break
                        t = max(st.end, T)
                        # the latest part whose rows, with the later ones and these, overflow
                        over = total + rows - N
                        if over > 0:
                            acc = 0
                            for j in range(len(st.held)):
                                acc += st.held[j]
                                if acc >= over:
                                    t = max(t, st.ends[j] + T)
                                    break
                        e = t + c
                        k = bisect_right(st.ends, e - T)
                        ends, held = st.ends[k:] + (e,), st.held[k:] + (rows,)
                        key = (e, ends, held)
                        if key not in new:
                            new[key] = _State(e, ends, held, st, i, r)
                    work += len(opts[i])
                if work > max_work:
                    return ExactDP(None, reason=f"more than {max_work:,} state expansions",
                                   work=work)
                if deadline is not None and time.perf_counter() > deadline:
                    return ExactDP(None, reason=_DEADLINE, work=work)
        if _size >= 16 and work * n > 2 * max_work * (_size + 1):
            return ExactDP(None, reason=f"more than {max_work:,} state expansions "
                                        f"(projected from the first {_size + 1} steps)",
                           work=work)
        avail = nxt_avail
        if len(nxt) > max_prefixes:
            return ExactDP(None, reason=f"more than {max_prefixes:,} order prefixes of "
                                        f"{_size + 1} steps", work=work)
        level = {}
        for ideal, new in nxt.items():
            kept: list[_State] = []
            for st in sorted(new.values(), key=lambda x: (x.end, sum(x.held))):
                if any(_dominates(q, st) for q in kept):
                    continue
                kept.append(st)
                if len(kept) > max_states:
                    return ExactDP(None, reason=f"more than {max_states:,} states at one "
                                                f"order prefix of {_size + 1} steps", work=work)
            level[ideal] = kept
    (final,) = level.values()
    last = min(final, key=lambda x: x.end)
    makespan = last.end
    order: list[tuple[str, int]] = []
    reps: list[tuple[tuple[str, int], int]] = []
    at: _State | None = last
    while at is not None and at.step >= 0:
        step_key = steps[at.step].key
        order.append(step_key)
        if at.rep:
            reps.append((step_key, at.rep))
        at = at.back
    return ExactDP(makespan, tuple(reversed(order)), tuple(reversed(reps)), work=work)
