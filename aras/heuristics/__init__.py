"""Heuristic schedulers (MODEL.md section 6): each returns a complete :class:`Schedule`."""

from aras.heuristics.jit import jit
from aras.heuristics.reference import baseline, naive
from aras.heuristics.replication import aras, greedy_replication

__all__ = ["aras", "baseline", "greedy_replication", "jit", "naive"]
