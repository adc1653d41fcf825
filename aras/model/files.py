"""Reading input files, with one-line errors.

Every file the package reads (networks, schedules, HuggingFace configs, hardware and study
TOML) goes through :func:`read_text`, :func:`read_json` or :func:`read_toml`: a missing file,
a directory, unreadable or binary content, malformed or too deeply nested JSON/TOML are
:class:`~aras.model.errors.InputError` messages naming the file, never a traceback.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from aras.model.errors import InputError

__all__ = ["read_bytes", "read_text", "parse_json", "read_json", "read_toml"]


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
