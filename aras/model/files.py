"""Reading input files and writing output files, with one-line errors.

Every file the package reads (networks, schedules, HuggingFace configs, hardware and study
TOML) goes through :func:`read_text`, :func:`read_json` or :func:`read_toml`: a missing file,
a directory, unreadable or binary content, malformed or too deeply nested JSON/TOML are
:class:`~aras.model.errors.InputError` messages naming the file, never a traceback.

Every command that writes checks its output path first (:func:`check_output_file`,
:func:`check_output_dir`), before any long work, and writes atomically
(:func:`atomic_write_text`, :func:`atomic_path`): a temporary file in the target's directory
renamed over the target, so an interrupt leaves the old file or the new one, never half of
one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aras.model.errors import InputError

__all__ = ["read_text", "read_json", "read_toml", "check_output_file", "check_output_dir",
           "atomic_write_text", "atomic_path"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_bytes(path: str | Path, what: str) -> bytes:
    """The bytes of an input file (``what``: "network", "schedule", ... for the messages)."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a {what} file")
    if not p.is_file():
        raise InputError(f"{what} file not found: {p}")
    try:
        return p.read_bytes()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the {what} file: {exc.strerror or exc}") from None


def read_text(path: str | Path, what: str, kind: str = "text") -> str:
    """An input file as UTF-8 text; binary content is a one-line error (``kind``: JSON, ...)."""
    p = Path(path)
    data = read_bytes(p, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: malformed {kind}: not UTF-8 text (byte {exc.start})") from None


def parse_json(text: str, where: str) -> Any:
    """Parse JSON text; malformed or too deeply nested text is a one-line error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: malformed JSON: {exc}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise InputError(f"{where}: malformed JSON: {_first_line(exc)}") from None
    except RecursionError:
        raise InputError(f"{where}: malformed JSON: nested too deeply") from None


def read_json(path: str | Path, what: str) -> Any:
    """An input JSON file, parsed (NaN and Infinity are left to the fields' own checks)."""
    return parse_json(read_text(path, what, "JSON"), str(path))


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """An input TOML file, parsed."""
    p = Path(path)
    text = read_text(p, what, "TOML")
    try:
        return tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4,300 digits
        raise InputError(f"{p}: malformed TOML: {_first_line(exc)}") from None
    except RecursionError:
        raise InputError(f"{p}: malformed TOML: nested too deeply") from None


# --------------------------------------------------------------------------- outputs

def _existing_ancestor(p: Path) -> Path:
    """The nearest ancestor of ``p`` (or ``p``) that exists; a file there blocks ``p``."""
    q = p
    while not q.exists() and q != q.parent:
        q = q.parent
    return q


def check_output_file(path: str | Path, flag: str) -> Path:
    """Check that a file can be written at ``path``, before any work.

    Its directory must exist (it is not created: a typo should not silently make folders)
    and be writable, and ``path`` must not be a directory.
    """
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{flag}: {p} is a directory; give a file name")
    parent = p.parent
    if not parent.exists():
        blocker = _existing_ancestor(parent)
        if blocker.exists() and not blocker.is_dir():
            raise InputError(f"{flag}: {blocker} is a file, so {p} cannot be written")
        raise InputError(f"{flag}: directory {parent} does not exist")
    if not parent.is_dir():
        raise InputError(f"{flag}: {parent} is a file, so {p} cannot be written")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{flag}: directory {parent} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"{flag}: {p} is not writable")
    _probe(parent, flag, p)
    return p


def _probe(folder: Path, flag: str, target: Path) -> None:
    """Create and remove a file in ``folder``: permission bits do not tell every file system
    that refuses files (``/proc``, a read-only mount seen by root), and a refusal found only
    after the work would lose it."""
    probe = folder / f".aras-probe-{os.getpid()}.tmp"
    try:
        probe.touch(exist_ok=True)
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{flag}: {target} cannot be written ({exc.strerror or exc})"
                         ) from None


def check_output_dir(path: str | Path, flag: str) -> Path:
    """Check that ``path`` is a directory or can be created as one (parents included)."""
    p = Path(path)
    if p.exists():
        if not p.is_dir():
            raise InputError(f"{flag}: {p} is a file, not a directory")
        if not os.access(p, os.W_OK | os.X_OK):
            raise InputError(f"{flag}: directory {p} is not writable")
        _probe(p, flag, p)
        return p
    base = _existing_ancestor(p)
    if not base.is_dir():
        raise InputError(f"{flag}: {base} is a file, so the directory {p} cannot be created")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(f"{flag}: directory {base} is not writable, so {p} cannot be "
                         "created")
    _probe(base, flag, p)
    return p


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) that becomes ``path`` on success.

    Write the file at the yielded path; when the block ends without an exception it is
    renamed over ``path`` (atomic on one file system), otherwise removed.
    """
    p = Path(path)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp{p.suffix}")
    try:
        yield tmp
        os.replace(tmp, p)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over it)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
