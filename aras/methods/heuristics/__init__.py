"""Heuristic schedulers (MODEL.md section 6): each returns a complete :class:`Schedule`."""

from aras.methods.heuristics.jit import jit
from aras.methods.heuristics.reference import baseline, naive
from aras.methods.heuristics.replication import aras, greedy_replication

__all__ = ["aras", "baseline", "greedy_replication", "jit", "naive"]
