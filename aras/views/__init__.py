"""Pictures and traces of one schedule: the Gantt chart, the Chrome trace, the bar plots.
"""
