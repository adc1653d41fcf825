"""Write slots under the R6 limit on concurrent APU-row writes.

A model concept that the list schedulers (:mod:`aras.methods.heuristics.engine`) and the
MILP's exact timing (:mod:`formulations.window`) both need.
"""

from __future__ import annotations

import heapq

from aras.model.mapping import Problem

__all__ = ["Bandwidth"]


class Bandwidth:
    """Start times of writes under the R6 limit on concurrent APU-row writes.

    Writes have equal length, so granting requests in time order first-come
    first-served is optimal for each request; requests must come in
    non-decreasing time.
    """

    def __init__(self, problem: Problem):
        hw = problem.hardware
        self.limit = hw.max_concurrent_row_writes
        self.length = hw.write_latency_cycles
        self.ends: list[int] = []

    def request(self, t: int) -> int:
        """Earliest start >= t with a free write slot; books the slot."""
        while self.ends and self.ends[0] <= t:
            heapq.heappop(self.ends)
        if len(self.ends) >= self.limit:
            t = max(t, heapq.heappop(self.ends))
        heapq.heappush(self.ends, t + self.length)
        return t

    def requests(self, t: int, n: int) -> list[int]:
        """The starts of ``n`` requests at ``t``: the same as ``n`` calls of :meth:`request`."""
        ends, length = self.ends, self.length
        while ends and ends[0] <= t:
            heapq.heappop(ends)
        k = min(n, self.limit - len(ends))  # free slots: these start at t
        for _ in range(k):
            heapq.heappush(ends, t + length)
        out = [t] * k
        for _ in range(n - k):  # then each waits for the earliest end (later than t)
            e = ends[0]
            start = max(t, e)
            heapq.heapreplace(ends, start + length)
            out.append(start)
        return out
