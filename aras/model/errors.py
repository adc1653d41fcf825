"""Exceptions shared by the whole package, and how their messages name arguments.

The CLI maps :class:`InputError` to exit code 2 with its one-line message, and
:class:`InvalidSchedule` to exit code 1 with every violation listed.

A message names the argument it is about: the Python argument (``time_limit: ...``) when the
package is called from Python, the command-line flag (``--time-limit: ...``) when the CLI
called it. Messages build the name with :func:`arg_name`; the CLI runs every command inside
:func:`flag_names`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_FLAGS: ContextVar[bool] = ContextVar("aras_flag_names", default=False)


class InputError(ValueError):
    """Bad user input: a missing file, a malformed file or an invalid value.

    The message is a single line that names the offending field.
    """


class InvalidSchedule(Exception):
    """A schedule broke one or more rules of the model (R1-R8)."""

    def __init__(self, violations: list[str]):
        self.violations = violations
        super().__init__(f"{len(violations)} violation(s): " + "; ".join(violations[:3]))


def arg_name(name: str, flag: str | None = None) -> str:
    """How an error message names an argument: ``name`` from Python, its flag from the CLI.

    Parameters
    ----------
    name
        The Python argument, e.g. ``time_limit``.
    flag
        The command-line flag when it is not ``name`` with dashes (``--input-shape`` for
        ``input_shapes``).

    Examples
    --------
    >>> arg_name("time_limit")
    'time_limit'
    >>> with flag_names():
    ...     arg_name("time_limit")
    '--time-limit'
    """
    if _FLAGS.get():
        return flag or "--" + name.replace("_", "-")
    return name


def using_flags() -> bool:
    """Whether messages name command-line flags now (inside :func:`flag_names`)."""
    return _FLAGS.get()


@contextmanager
def flag_names(on: bool = True) -> Iterator[None]:
    """Within the block, :func:`arg_name` gives command-line flags (``on=False``: argument
    names again, e.g. for a study file's fields read during a CLI command)."""
    token = _FLAGS.set(on)
    try:
        yield
    finally:
        _FLAGS.reset(token)


def expect(value: object, cls: type | tuple[type, ...], name: str, hint: str = "") -> None:
    """Raise ``TypeError`` naming the argument when ``value`` is not a ``cls``: a wrong
    object would otherwise fail deep inside with an ``AttributeError`` about internals."""
    if not isinstance(value, cls):
        want = (cls.__name__ if isinstance(cls, type)
                else " or ".join(c.__name__ for c in cls))
        raise TypeError(f"{name}: expected {want}, got {type(value).__name__}"
                        + (f" ({hint})" if hint else ""))


__all__ = ["InputError", "InvalidSchedule", "arg_name", "expect", "flag_names", "using_flags"]
