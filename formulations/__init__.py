"""Pyomo MILP formulations of ARAS scheduling decisions, one module per model."""
