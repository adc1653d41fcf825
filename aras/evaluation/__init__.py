"""What judges a schedule: the evaluator (R1-R8 and the costs), the certified bounds, the
liveness checks and costs.
"""
