"""Test configuration: hypothesis explores new examples locally, fixed ones in CI.

CI (the CI environment variable set) derandomizes hypothesis so that a run's examples, and so
its duration, do not change from one submission to the next; local runs keep exploring.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
