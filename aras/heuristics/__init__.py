"""Heuristic schedulers (MODEL.md section 6): each returns a complete :class:`Schedule`."""

from aras.heuristics.reference import baseline, naive

__all__ = ["baseline", "naive"]
