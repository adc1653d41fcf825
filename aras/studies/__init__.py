"""Many solves: study files, running them (local workers or Dask), their reports, and the
paper reproduction.
"""
