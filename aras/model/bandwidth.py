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
