"""What produces a schedule: ``solve`` (the one entry point), the heuristics, the MILP
drivers, row binding, weight reuse and the paper's configurations.
"""
