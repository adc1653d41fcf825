"""Exceptions shared by the whole package.

The CLI maps :class:`InputError` to exit code 2 with its one-line message, and
:class:`InvalidSchedule` to exit code 1 with every violation listed.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: a missing file, a malformed file or an invalid value.

    The message is a single line that names the offending field.
    """


class InvalidSchedule(Exception):
    """A schedule broke one or more rules of the model (R1-R8)."""

    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__(f"{len(violations)} violation(s): " + "; ".join(violations[:3]))
