"""Every way a network gets in: built-ins, ``aras-network/1`` JSON, ONNX, HuggingFace configs.

:func:`load_network` takes a built-in name or a file and the options that shape it
(``tokens``, ``input_shapes``, ``phase``, ``context``); it returns a
:class:`~aras.model.network.Network` whose ``source`` says how to load it again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aras.model.errors import InputError, arg_name, using_flags
from aras.model.files import read_json
from aras.model.limits import MAX_DIM, MAX_ELEMENTS, MAX_TOKENS
from aras.model.network import Network

__all__ = ["check_options", "known_names", "load_network", "network_from_source"]


def known_names() -> list[str]:
    """Every built-in network name (the zoo and ``minilm-l6``)."""
    from aras.frontends.zoo import ZOO

    return [*ZOO, "minilm-l6"]


def _check_options(what: str, allowed: tuple[str, ...], options: dict[str, Any]) -> None:
    given = sorted(k for k, v in options.items() if v is not None and k not in allowed)
    if given:
        raise InputError(f"{_name(given[0])}: does not apply to {what}"
                         + (f" (it takes: {', '.join(_name(a) for a in allowed)})"
                            if allowed else ""))


def _name(key: str) -> str:
    """An option in messages: the argument, or the flag under the CLI (``--input-shape``)."""
    return arg_name(key, "--input-shape" if key == "input_shapes" else None)


def check_options(tokens: Any = None, input_shapes: Any = None, phase: Any = None,
                  context: Any = None, *, names: dict[str, str] | None = None) -> None:
    """Check the shaping options' types and sizes, whatever the network (one-line errors).

    ``names`` says how to call each option in messages (default: the argument, or its
    command-line flag under the CLI).
    """
    def name(key: str) -> str:
        return (names or {}).get(key) or _name(key)

    for key, v in (("tokens", tokens), ("context", context)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise InputError(f"{name(key)}: must be a positive integer, got {v!r}")
        if v > MAX_TOKENS:
            raise InputError(f"{name(key)}: at most {MAX_TOKENS:,} (2^20) tokens are "
                             f"supported, got {v:,}")
    if phase is not None and phase not in ("prefill", "decode"):
        raise InputError(f"{name('phase')}: must be 'prefill' or 'decode', got {phase!r}")
    if input_shapes is not None:
        if not isinstance(input_shapes, dict):
            raise InputError(f"{name('input_shapes')}: must map input names to shapes")
        for k, shape in input_shapes.items():
            if (not isinstance(k, str) or not isinstance(shape, (list, tuple)) or not shape
                    or any(isinstance(d, bool) or not isinstance(d, int) or d <= 0
                           for d in shape)):
                raise InputError(f"{name('input_shapes')}: input {k!r}: a shape is a list of "
                                 f"positive integers, got {shape!r}")
            elements = 1
            for d in shape:
                elements *= min(d, MAX_DIM + 1)
            if elements > MAX_ELEMENTS:
                raise InputError(f"{name('input_shapes')}: input '{k}': "
                                 f"{'x'.join(map(str, shape))} is more than {MAX_ELEMENTS:,} "
                                 "(2^40) elements")


def load_network(spec: str | Path | dict[str, Any], *, tokens: int | None = None,
                 input_shapes: dict[str, tuple[int, ...]] | None = None,
                 phase: str | None = None, context: int | None = None) -> Network:
    """A built-in network by name, else a file: ONNX, HuggingFace config or network JSON.

    Parameters
    ----------
    spec
        A name of :data:`aras.frontends.zoo.ZOO` (or ``minilm-l6``), or a path: ``*.onnx``,
        a HuggingFace ``config.json`` (any JSON object with ``model_type``), or an
        ``aras-network/1`` file; or such a JSON object itself, as a dict (a schedule of it
        then records no source to rebuild it from: ``aras evaluate`` needs ``--network``).
    tokens
        Sequence length: prefill tokens of transformers, the symbolic dimensions of ONNX inputs.
    input_shapes
        ONNX only: static input shapes by input name.
    phase, context
        Decoders (HuggingFace configs, the zoo's LLMs): ``prefill`` or ``decode`` and the
        cached tokens of decode.

    Raises
    ------
    InputError
        Unknown name, missing or malformed file, an option that does not apply.
    """
    from aras.frontends.zoo import ZOO

    check_options(tokens, input_shapes, phase, context)
    options = {"tokens": tokens, "input_shapes": input_shapes, "phase": phase,
               "context": context}
    if isinstance(spec, dict):
        return _from_document(spec, options)
    if not isinstance(spec, (str, Path)):
        raise TypeError(f"spec: expected a name, a path or a dict, got {type(spec).__name__}")
    s = str(spec)
    if s in ZOO:
        entry = ZOO[s]
        _check_options(f"'{s}'", entry.options, options)
        net = entry.build(**{k: v for k, v in options.items() if v is not None})
        net.source = {"name": s, **{k: v for k, v in options.items() if v is not None}}
        return net
    if s == "minilm-l6":
        from aras.frontends.pretrained import minilm_l6

        _check_options("'minilm-l6'", ("tokens",), options)
        net = minilm_l6(tokens or 128)
        net.source = {"name": s, **({"tokens": tokens} if tokens else {})}
        return net
    p = Path(s)
    if p.is_dir():
        raise InputError(f"{p}: is a directory, not a network file")
    if not p.is_file():
        if p.suffix in (".onnx", ".json") or "/" in s:
            raise InputError(f"network file not found: {p}")
        raise InputError(f"unknown network '{s}': not a file and not a built-in "
                         f"(built-ins: {', '.join(known_names())})")
    if p.suffix.lower() == ".onnx" or (p.suffix.lower() != ".json" and _is_onnx(p)):
        from aras.frontends.onnx_graph import load_onnx

        _check_options("an ONNX file", ("tokens", "input_shapes"), options)
        return load_onnx(p, input_shapes=input_shapes, tokens=tokens)
    data = read_json(p, "network")
    from aras.frontends.hf import from_config, hf_name, is_hf_config

    if is_hf_config(data):
        _check_options("a HuggingFace config", ("tokens", "phase", "context"), options)
        net = from_config(data, name=hf_name(p), where=str(p), tokens=tokens, phase=phase,
                          context=context)
    else:
        _check_options("an aras-network/1 file", (), options)
        net = Network.from_dict(data, source=str(p))
    net.source = {"path": str(p.resolve()),
                  **{k: v for k, v in options.items() if v is not None}}
    return net


def _from_document(data: dict[str, Any], options: dict[str, Any]) -> Network:
    """A network from a HuggingFace config or an ``aras-network/1`` document given as a dict
    (research code that builds configs need not write a file first)."""
    from aras.frontends.hf import from_config, is_hf_config

    if is_hf_config(data):
        _check_options("a HuggingFace config", ("tokens", "phase", "context"), options)
        name = data.get("_name_or_path") or data.get("model_type") or "config"
        return from_config(data, name=str(name).rstrip("/").split("/")[-1] or "config",
                           where="spec", tokens=options["tokens"], phase=options["phase"],
                           context=options["context"])
    _check_options("an aras-network/1 document", (), options)
    return Network.from_dict(data, source="spec")


def _is_onnx(p: Path) -> bool:
    """A file that is not JSON text (ONNX files are protobuf; a JSON file starts with '{')."""
    try:
        with p.open("rb") as f:
            head = f.read(64).lstrip()
    except OSError as exc:
        raise InputError(f"{p}: cannot read the network file: {exc.strerror or exc}") from None
    return bool(head) and not head.startswith((b"{", b"["))


def network_from_source(source: Any, where: str = "network_source") -> Network | None:
    """Load a network again from the ``network_source`` a schedule file carries (or None).

    Its options are checked like command-line options, named ``network_source.tokens`` etc.
    """
    if not isinstance(source, dict):
        return None
    spec = source.get("name") or source.get("path")
    if not isinstance(spec, str):
        return None
    shapes = source.get("input_shapes")
    opts: dict[str, Any] = {k: source.get(k) for k in ("tokens", "phase", "context")}
    if shapes is not None:
        opts["input_shapes"] = shapes
    check_options(**opts, names={k: f"{where}.{k}" for k in
                                 ("tokens", "input_shapes", "phase", "context")})
    if isinstance(shapes, dict):
        opts["input_shapes"] = {k: tuple(v) for k, v in shapes.items()}
    if "path" in source and not source.get("name") and not Path(spec).is_file():
        raise InputError(f"the schedule's network file {spec} is not here"
                         + (": pass --network FILE" if using_flags() else ""))
    return load_network(spec, **opts)
